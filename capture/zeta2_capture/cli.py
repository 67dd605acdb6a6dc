"""`zeta2-capture`: the user's control over capture.

    zeta2-capture status                       enabled?, store path and size, counts by kind
    zeta2-capture enable | disable             persisted in <data dir>/config.json
    zeta2-capture explain FILE [--root DIR]    why FILE is or is not eligible
    zeta2-capture export [--usage] [--since T] [--kind K] -o FILE|-
    zeta2-capture ship [--to DIR|URL] [--batch-size N]
    zeta2-capture purge (--before T | --all) [--usage]
    zeta2-capture stats                        counts and rates over time

Each command is `main_<name>(args)` with its arguments added in `make_parser`. User errors are
`CliError`s with exact messages; `main` prints them as `zeta2-capture CMD: error: MESSAGE` and
exits 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeta2_capture import __version__


class CliError(Exception):
    pass


def _store_if_exists():
    from zeta2_capture.config import data_dir
    from zeta2_capture.store import CAPTURES_FILE, CaptureStore

    path = data_dir() / CAPTURES_FILE
    return CaptureStore(path) if path.exists() else None


def _time(text: str | None) -> float | None:
    if text is None:
        return None
    from zeta2_capture.export import TimeFormatError, parse_time

    try:
        return parse_time(text)
    except TimeFormatError as exc:
        raise CliError(str(exc)) from None


def main_status(args: argparse.Namespace) -> int:
    from zeta2_capture.config import config_path, data_dir, load_config
    from zeta2_capture.store import CAPTURES_FILE

    config = load_config()
    print(f"capture: {'on' if config.capture else 'off'}")
    print(f"usage log: {'on' if config.usage_log else 'off'}")
    print(f"data dir: {data_dir()}")
    print(f"config: {config_path()}")
    store = _store_if_exists()
    if store is None:
        print(f"store: {data_dir() / CAPTURES_FILE} (not created yet)")
    else:
        with store:
            print(f"store: {store.path} ({store.size_bytes()} bytes, limit {store.max_bytes})")
            counts = store.counts()
            print("captures: " + (", ".join(f"{k} {n}" for k, n in counts.items()) if counts else "none"))
    print(f"ships to: {config.ship_to or 'nowhere (nothing leaves this machine)'}")
    return 0


def main_enable(args: argparse.Namespace) -> int:
    from zeta2_capture.config import config_path, set_config

    if args.usage_log:
        set_config(usage_log=True)
        print(f"usage log enabled (saved in {config_path()})")
        return 0
    set_config(capture=True)
    print(f"capture enabled (saved in {config_path()}); an editor's session setting still wins for its session")
    return 0


def main_disable(args: argparse.Namespace) -> int:
    from zeta2_capture.config import config_path, set_config

    if args.usage_log:
        set_config(usage_log=False)
        print(f"usage log disabled (saved in {config_path()}); nothing about suggestions is recorded")
        return 0
    set_config(capture=False)
    print(f"capture disabled (saved in {config_path()})")
    return 0


def main_explain(args: argparse.Namespace) -> int:
    from zeta2_capture.policy import CapturePolicy, find_workspace_root

    path = Path(args.file)
    if not path.exists():
        raise CliError(f"{args.file}: no such file")
    root = Path(args.root) if args.root else find_workspace_root(path)
    policy = CapturePolicy(root)
    decision = policy.eligible(path.resolve())
    print(f"{args.file}: {decision.explain()}")
    print(f"capture is {'on' if policy.enabled else 'off'}" + ("" if policy.enabled else " (nothing is captured until `zeta2-capture enable`)"))
    return 0


def main_export(args: argparse.Namespace) -> int:
    from zeta2_capture.export import export_captures, export_usage

    since = _time(args.since)
    if args.usage:
        from zeta2_capture.usage import UsageLog

        if args.kind:
            raise CliError("--kind applies to captures, not to --usage")
        usage = UsageLog()
        n = export_usage(usage, args.output, since=since)
        usage.close()
    else:
        store = _store_if_exists()
        if store is None:
            n = 0
            if args.output != "-":
                Path(args.output).write_text("", encoding="utf-8")
        else:
            with store:
                n = export_captures(store, args.output, since=since, kind=args.kind)
    print(f"exported {n} {'usage records' if args.usage else 'captures'}", file=sys.stderr)
    return 0


def main_ship(args: argparse.Namespace) -> int:
    from zeta2_capture.config import config_path, load_config, set_config
    from zeta2_capture.ship import ShipError, ship

    destination = args.to or load_config().ship_to
    if not destination:
        raise CliError(f"no destination: run `zeta2-capture ship --to DIR|URL` (saved as ship_to in {config_path()})")
    if args.to:
        set_config(ship_to=args.to)
    store = _store_if_exists()
    if store is None:
        print("nothing to ship (no captures yet)")
        return 0
    with store:
        try:
            result = ship(store, destination, batch_size=args.batch_size)
        except ShipError as exc:
            raise CliError(str(exc)) from None
    print(f"shipped {result.records} captures in {result.batches} batches to {destination}")
    return 0


def main_purge(args: argparse.Namespace) -> int:
    before = _time(args.before)
    if args.usage:
        from zeta2_capture.usage import UsageLog

        usage = UsageLog()
        n = usage.purge(before=before)
        usage.close()
        print(f"purged {n} usage records")
        return 0
    store = _store_if_exists()
    if store is None:
        print("purged 0 captures")
        return 0
    with store:
        n = store.purge(before=before)
    print(f"purged {n} captures")
    return 0


def main_stats(args: argparse.Namespace) -> int:
    from zeta2_capture.usage import UsageLog

    store = _store_if_exists()
    if store is None:
        print("captures: none")
    else:
        with store:
            print("captures per day:")
            for day, kind, n in store.daily_counts():
                print(f"  {day}  {kind:9} {n}")
            kept = store.mean_kept_rate()
            print(f"mean settled kept rate: {kept:.3f}" if kept is not None else "mean settled kept rate: n/a")
    usage = UsageLog()
    counts = usage.counts()
    usage.close()
    if counts:
        print("usage events: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
        shown = counts.get("shown", 0)
        if shown:
            print(f"acceptance rate: {counts.get('accepted', 0) / shown:.3f} of {shown} shown")
    else:
        print("usage events: none")
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zeta2-capture", description="Opt-in capture of editing moments for zeta2.")
    parser.add_argument("--version", action="version", version=f"zeta2-capture {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str, func) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=summary, description=summary)
        p.set_defaults(_main=func)
        return p

    command("status", "show whether capture is on, where the store is and what it holds", main_status)
    for name, func, verb in (("enable", main_enable, "on"), ("disable", main_disable, "off")):
        p = command(name, f"turn capture {verb} (persisted for every process)", func)
        p.add_argument("--usage-log", action="store_true", help=f"turn the metadata-only usage log {verb} instead")
    p = command("explain", "say why a file is or is not eligible for capture", main_explain)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--root", help="workspace root (default: nearest folder with .git, else with a license file)")
    p = command("export", "write captures (or the usage log) as JSONL", main_export)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="output file, '-' for stdout")
    p.add_argument("--usage", action="store_true", help="export the usage log instead of captures")
    p.add_argument("--since", metavar="T", help="only records from T on: ISO date/time or an age (7d, 12h)")
    p.add_argument("--kind", choices=("settled", "shown", "accepted", "rejected", "manual"), help="only this kind")
    p = command("ship", "send captures not yet shipped to the configured destination", main_ship)
    p.add_argument("--to", metavar="DEST", help="a directory or http(s) URL (saved as the destination)")
    p.add_argument("--batch-size", type=int, default=200, metavar="N")
    p = command("purge", "delete captures, then vacuum the store", main_purge)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--before", metavar="T", help="delete records older than T (ISO date/time or age)")
    which.add_argument("--all", action="store_true", help="delete every record")
    p.add_argument("--usage", action="store_true", help="purge the usage log instead of captures")
    command("stats", "counts and rates over time", main_stats)
    return parser


def run(argv: list[str] | None = None) -> int:
    """Runs a command; user errors propagate as exceptions (for tests and embedding)."""
    args = make_parser().parse_args(argv)
    return int(args._main(args) or 0)


def main(argv: list[str] | None = None) -> int:
    from zeta2_capture.config import ConfigError
    from zeta2_capture.store import StoreError

    args = make_parser().parse_args(argv)
    try:
        return int(args._main(args) or 0)
    except (CliError, ConfigError, StoreError) as exc:
        print(f"zeta2-capture {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"zeta2-capture {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
