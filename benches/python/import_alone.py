"""The Python bulk import alone: ``compare.py``'s import workload
(``users.create_many`` of the whole population, one transaction), without
the sqlite3 side and the other workloads, for before/after comparisons of
the binding.

Run from the repository root with a release wheel installed in .venv
(``maturin build --release``) and ``cargo build --release -p
rosterdb-benches --bin compare``::

    .venv/bin/python benches/python/import_alone.py --users 20000 --reps 7

The population is written once by ``compare --export-population`` (kept
in ``--population`` between runs). Each repetition imports it into a new
store holding the ten roles it names; the time per user of each, then
their median, is printed in µs. To compare two wheels, run each in a
fresh process in turn (old, new, old, new, ...): a process's first
touches of memory vary with the machine's state from minute to minute.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rosterdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import COMPARE  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--population", type=Path, default=None, help="default: target/population-N.jsonl")
    ap.add_argument("--dir", type=Path, default=Path("target"), help="where the stores are made")
    args = ap.parse_args()
    population = args.population or Path("target") / f"population-{args.users}.jsonl"
    if not population.exists():
        population.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(COMPARE), "--export-population", str(args.users), str(population)], check=True)
    docs = [json.loads(line) for line in population.read_text(encoding="utf-8").splitlines()]
    per_user: list[float] = []
    args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for rep in range(args.reps):
            store = rosterdb.Store(Path(tmp) / f"import-{rep}.rdb", argon2_memory_kib=8, argon2_iterations=1)
            with store.transaction() as tx:
                for r in range(1, 11):
                    tx.roles.create({"name": f"role{r}"})
            t0 = time.perf_counter_ns()
            ids = store.users.create_many(docs)
            per_user.append((time.perf_counter_ns() - t0) / len(docs) / 1000)
            assert len(ids) == len(docs)
            store.close()
    print("import µs/user:", " ".join(f"{t:.2f}" for t in per_user), f"median {statistics.median(per_user):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
