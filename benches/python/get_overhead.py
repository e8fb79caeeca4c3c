"""The Python call overhead on ``get`` alone: ``compare.py``'s get workloads
(by id, by email), without the sqlite3 side and the other workloads.

Run from the repository root with a release wheel installed in .venv
(``maturin build --release``) and ``cargo build --release -p
rosterdb-benches --bin compare``::

    .venv/bin/python benches/python/get_overhead.py --users 20000 --store target/get20k.rdb

The store is imported once (``--store`` kept between runs, the population
written by ``compare --export-population``). Each workload runs ``--reps``
batches of about 100 ms; the medians (min–max) are printed, then the Rust
``get`` median (``compare --time-get FILE N 5 id_whole`` on the same file:
the get and its attributes read, which a Rust document decodes only when
first read and the Python dict holds built) and the overhead:
the Python median minus the Rust median, in µs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import rosterdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import COMPARE, calibrate, cell, fmt, per_op_ns  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--store", type=Path, default=Path("target/get-overhead.rdb"))
    args = ap.parse_args()
    n = args.users
    fresh = not args.store.exists()
    store = rosterdb.Store(args.store, argon2_memory_kib=8, argon2_iterations=1)
    if fresh:
        with tempfile.TemporaryDirectory(dir=args.store.parent) as tmp:
            population = Path(tmp) / "population.jsonl"
            subprocess.run([str(COMPARE), "--export-population", str(n), str(population)], check=True)
            docs = [json.loads(line) for line in population.read_text(encoding="utf-8").splitlines()]
        with store.transaction() as tx:
            for r in range(1, 11):
                tx.roles.create({"name": f"role{r}"})
            for d in docs:
                tx.users.create(d)
    # As many e-mails as the Rust workload looks up (drive.rs EMAILS).
    emails = [store.users.get((k * 7919) % n + 1)["email"] for k in range(min(n, 1 << 16))]

    def by_id(k: int) -> object:
        return store.users.get((k * 7919) % n + 1)

    def by_email(k: int) -> object:
        return store.users.get_by_email(emails[k % len(emails)])

    got: dict[str, list[float]] = {}
    k = 1000
    for name, fn in (("get by id", by_id), ("get by email", by_email)):
        batch = calibrate(fn)
        got[name] = []
        for _ in range(args.reps):
            got[name].append(per_op_ns(fn, batch, k))
            k += batch
        print(f"{name:<14} {cell(got[name])}")
    store.close()
    out = subprocess.run([str(COMPARE), "--time-get", str(args.store), str(n), "5", "id_whole"], check=True, capture_output=True, text=True)
    rust = [float(x) for x in out.stdout.split()]
    py = statistics.median(got["get by id"])
    print(f"rust get       {fmt(rust[0])} ({fmt(rust[1])}–{fmt(rust[2])})")
    print(f"overhead       {(py - rust[0]) / 1e3:.2f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
