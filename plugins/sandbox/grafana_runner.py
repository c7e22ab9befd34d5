"""Run the Grafana double for the sandbox, seeded with demo dashboards.

The token is read from a file (never passed on the command line, where any
user could read it in the process list).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aetherops_plugins.sandbox.grafana_runner")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token-file", required=True)
    args = parser.parse_args(argv)
    from aetherops.testing.grafana_double import GrafanaDouble

    token = Path(args.token_file).read_text(encoding="utf-8").strip()
    double = GrafanaDouble(host=args.host, port=args.port, token=token)
    double.seed_demo()
    double.start()
    print(f"grafana double on {double.url}", file=sys.stderr, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        double.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
