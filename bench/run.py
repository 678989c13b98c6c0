"""Run every benchmark and print their targets as one table (`make bench`).

Each benchmark runs in a Python of its own (it builds its own throwaway database and
settings) and records its targets in bench/results.json; this prints the targets of the
benchmarks it ran, read back from that file, so the table is what was measured in this run.

    python bench/run.py                 # all of them
    python bench/run.py chargeback      # some of them
    python bench/run.py --strict        # exit 1 when a target is missed, too

A benchmark that fails to run (an exception, a missing tool) makes the run fail; a target
missed is printed as MISSED with its measured figures and, without --strict, does not.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import RESULTS, ROOT, format_result

# In the order they run: the quick ones first, so a broken setup shows early.
BENCHES = ["chargeback", "api_lists", "csv_export", "reports", "pages"]
# What a benchmark's exit code means: 0 every target met, 1 one or more missed.
MISSED = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benches", nargs="*", metavar="bench", help=", ".join(BENCHES))
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.benches) - set(BENCHES))
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)} (there are {', '.join(BENCHES)})")
    chosen = args.benches or [b for b in BENCHES if (ROOT / "bench" / f"{b}.py").exists()]

    failed: list[str] = []
    for bench in chosen:
        print(f"\n== bench/{bench}.py", flush=True)
        began = time.monotonic()
        code = subprocess.run([sys.executable, str(ROOT / "bench" / f"{bench}.py")]).returncode
        print(f"== bench/{bench}.py took {time.monotonic() - began:.0f} s", flush=True)
        if code not in (0, MISSED):
            failed.append(bench)

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    ran = [r for r in results if r.get("bench") in chosen and r.get("bench") not in failed]
    print(f"\n{'target':<60} {'baseline':>10} {'ours':>10} {'unit':<6} {'ratio':>8} {'target':>10}")
    for bench in chosen:
        rows = [r for r in ran if r["bench"] == bench]
        if rows:
            print(f"{bench}:")
        for row in rows:
            print(format_result(row))
            if row.get("note"):
                print(f"      {row['note']}")
    missed = [r for r in ran if not r["met"]]
    print(f"\n{len(ran) - len(missed)} of {len(ran)} targets met.")
    if failed:
        print(f"Failed to run: {', '.join(failed)} (see their output above).")
        return 2
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
