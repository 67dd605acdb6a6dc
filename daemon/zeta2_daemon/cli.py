"""`zeta2-daemon`: the language server over stdio (default) or TCP, and `zeta2-daemon demo`.

    zeta2-daemon [--model PACK_DIR] [--ab PACK_DIR=SHARE ...] [--tcp HOST:PORT] [--log-file FILE] [-v]
    zeta2-daemon demo [--model PACK_DIR] [--session FILE] [--no-color]

In stdio mode stdout carries LSP messages only: logs go to stderr or --log-file.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import __version__


class CliError(Exception):
    """A user error with the exact message printed after `zeta2-daemon: error: `."""


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zeta2-daemon",
        description="zeta2's language server: next-edit suggestions from a local ONNX model pack.",
    )
    parser.add_argument("--version", action="version", version=f"zeta2-daemon {__version__}")
    parser.add_argument(
        "--model",
        metavar="PACK_DIR",
        help="model pack to serve (default: the pack `zeta2-trainer bootstrap` builds)",
    )
    parser.add_argument(
        "--ab",
        metavar="PACK_DIR=SHARE",
        action="append",
        default=[],
        help="A/B test: serve this pack to SHARE of the files (repeatable; shares are normalised)",
    )
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    parser.add_argument("--log-file", metavar="FILE", type=Path, help="write logs here instead of stderr")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    # Tests only: a clock they advance over LSP (zeta2/test/advanceClock) instead of sleeping.
    parser.add_argument("--test-clock", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-index", action="store_true", help="do not index the workspace for related context")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from .demo import add_demo_arguments

    demo = sub.add_parser("demo", help="replay a bundled editing session against the daemon and print its suggestions")
    add_demo_arguments(demo)
    return parser


def parse_tcp(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CliError(f"--tcp {value!r}: expected HOST:PORT, e.g. 127.0.0.1:7777")
    return host, int(port)


def setup_logging(verbose: int, log_file: Path | None) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler: logging.Handler
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)  # never stdout: it carries the LSP stream
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pygls logs every message at INFO; keep it for -vv.
    logging.getLogger("pygls").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


def run_server(args: argparse.Namespace) -> int:
    from .ab import ABError, parse_ab_option
    from .models import bootstrap_hint

    setup_logging(args.verbose, args.log_file)
    log = logging.getLogger("zeta2_daemon")
    try:
        variants = tuple(parse_ab_option(v) for v in args.ab)
    except ABError as exc:
        raise CliError(str(exc)) from None
    for pack in [args.model] if args.model else [v.pack for v in variants]:
        if not (Path(pack).expanduser() / "manifest.json").exists():
            raise CliError(f"--model {pack}: {bootstrap_hint(pack)}")
    if args.model and variants:
        raise CliError("use either --model or --ab, not both (with --ab, list every pack with its share)")
    tcp = parse_tcp(args.tcp) if args.tcp else None
    if not args.model and not variants:
        from .models import resolve_default_pack

        default = resolve_default_pack()
        if not (default / "manifest.json").exists():
            # Still serve: the editor attaches, and zeta2/status tells the user what to do.
            log.warning("%s", bootstrap_hint(default))
            print(f"zeta2-daemon: warning: {bootstrap_hint(default)}", file=sys.stderr)

    if os.environ.get("ZETA2_TRACEMALLOC"):  # memory diagnosis: `zeta2/ping {"memory": true}` lists the top sites
        import tracemalloc

        tracemalloc.start(1)
    from .server import create_server

    server = create_server(default_pack=args.model, ab_variants=variants, test_clock=args.test_clock, index=not args.no_index)
    profile = os.environ.get("ZETA2_PROFILE")  # development: cProfile of the event-loop thread, written at exit
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        if tcp:
            server.start_tcp(*tcp)
        else:
            server.start_io()
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from .demo import DemoError, run_demo

            try:
                return run_demo(args)
            except DemoError as exc:
                raise CliError(f"demo: {exc}") from None
        return run_server(args)
    except CliError as exc:
        print(f"zeta2-daemon: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
