"""`make bench`: run every benchmark (or those named on the command line), one after another."""

from __future__ import annotations

import importlib
import sys

# bench.settle runs bench.confirmations at its end.
BENCHMARKS = (
    "bench.ledger",
    "bench.ingest",
    "bench.settle",
    "bench.payouts",
    "bench.refunds",
    "bench.recon",
    "bench.notifications",
)


def main(names: list[str]) -> None:
    for module in names or BENCHMARKS:
        print(f"\n=== {module} ===", flush=True)
        importlib.import_module(module).main()


if __name__ == "__main__":
    main(sys.argv[1:])
