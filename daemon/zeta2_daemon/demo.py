"""`zeta2-daemon demo`: replay a bundled editing session against a real daemon and show its suggestions."""

from __future__ import annotations

import argparse


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--session", help="session JSON to replay (default: the bundled one)")
    parser.add_argument("--no-color", action="store_true", help="plain diffs without ANSI colours")


def run_demo(args: argparse.Namespace) -> int:
    raise NotImplementedError
