"""The command line: serve the double until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    """``python -m aetherops.testing.grafana_double``: serve until Ctrl-C or SIGTERM."""
    from . import MAX_BODY_BYTES, MAX_DASHBOARD_BYTES, GrafanaDouble

    parser = argparse.ArgumentParser(prog="python -m aetherops.testing.grafana_double", description="Serve the Grafana API double.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000, help="0 picks a free port (default 3000)")
    parser.add_argument("--token", help="require 'Authorization: Bearer TOKEN'")
    parser.add_argument("--token-file", help="like --token, read from this file (keeps it out of the process list)")
    parser.add_argument("--basic-auth", metavar="USER:PASSWORD", help="accept these Basic credentials")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--grafana-version", default="11.2.0")
    parser.add_argument("--hide-version", action="store_true", help="omit version/commit from /api/health")
    parser.add_argument("--seed-demo", action="store_true", help="start with demo folders, dashboards and data sources")
    parser.add_argument("--max-body-bytes", type=int, default=MAX_BODY_BYTES, help="request bodies past this get 413 (default 32 MiB)")
    parser.add_argument("--max-folder-depth", type=int, default=4, help="nested folder limit (Grafana's default 4)")
    parser.add_argument("--min-refresh-interval", default="5s", help="[dashboards] min_refresh_interval (default 5s)")
    parser.add_argument("--max-dashboard-bytes", type=int, default=MAX_DASHBOARD_BYTES, help="Grafana 12: larger dashboards get 413")
    parser.add_argument("--v2-uids", default="", metavar="UID,UID", help="Grafana 12: store these dashboards as v2")
    args = parser.parse_args(argv)
    basic = None
    if args.basic_auth:
        user, sep, password = args.basic_auth.partition(":")
        if not sep:
            parser.error("--basic-auth must be USER:PASSWORD")
        basic = (user, password)
    token = args.token
    if args.token_file:
        try:
            with open(args.token_file, encoding="utf-8") as fh:
                token = fh.read().strip()
        except OSError as exc:
            parser.error(f"cannot read --token-file: {exc}")
    double = GrafanaDouble(
        host=args.host, port=args.port, token=token, basic_auth=basic, latency_ms=args.latency_ms,
        grafana_version=args.grafana_version, hide_version=args.hide_version, max_body_bytes=args.max_body_bytes,
        max_folder_depth=args.max_folder_depth, min_refresh_interval=args.min_refresh_interval,
        max_dashboard_bytes=args.max_dashboard_bytes,
    )
    v2_uids = [u for u in args.v2_uids.split(",") if u]
    if v2_uids:
        try:
            double.store_as_v2(*v2_uids)
        except ValueError as exc:
            parser.error(str(exc))
    if args.seed_demo:
        double.seed_demo()
    try:
        double.start()
    except OSError as exc:
        print(f"grafana-double: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"grafana-double {args.grafana_version} listening on {double.url}", file=sys.stderr, flush=True)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    for name in ("SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        double.stop()
    return 0

