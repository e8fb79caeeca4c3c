"""rosterdb's Python API side by side with the standard library's sqlite3.

The sqlite3 side is written as a Python developer would write "SQLite plus
a users table": WAL, ``synchronous=FULL``, the same fields and indexes as
``benches/src/sqlite.rs`` (caseless columns folded with
``unicodedata.normalize("NFKC", s).casefold()``), a ``user_roles`` table,
attributes as JSON text, each read returning a dict of the whole user.

Run from the repository root, after ``bash scripts/python-env.sh`` (or a
release wheel, see docs/BENCHMARKS.md) and
``cargo build --release -p rosterdb-benches --bin compare``::

    .venv/bin/python benches/python/compare.py --users 20000 --out docs/BENCHMARKS.md

Both stores import the same population (written by ``compare
--export-population``), each repetition into new stores; every workload
runs interleaved (rosterdb, sqlite3, rosterdb, ...), 5 repetitions per
store, each read or write workload a batch of about 100 ms; the medians
and ranges are written to the Python section of the
report (between the ``python-compare`` markers, which ``compare`` keeps).
The Python call overhead on ``get`` is the Python median minus the Rust
median (``compare --time-get FILE N 5 id_whole``: ``get`` by id, then the
document's attributes read, which a Rust document decodes only when first
read and the Python dict holds built) on the same store file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any, Callable

import rosterdb

BEGIN = "<!-- python-compare: begin -->"
END = "<!-- python-compare: end -->"
COMPARE = Path("target/release/compare")
PAGE = 100
FILTER_ROLE = 3
COUNT_ROLE = 4
LIKE = "%er%"

SCHEMA = Path("benches/src/sqlite.rs").read_text(encoding="utf-8")
SCHEMA = SCHEMA.split('pub const SCHEMA: &str = "', 1)[1].split('";', 1)[0]

COLUMNS = """u.id, u.tenant, u.username, u.email, u.first_name, u.last_name,
  u.nickname, u.telephone_number, u.mobile_number, u.enabled, u.attributes,
  u.password_hash IS NOT NULL, u.created_at, u.updated_at, u.version,
  (SELECT group_concat(role_id) FROM user_roles r WHERE r.user_id = u.id),
  (SELECT json_group_array(json_object('type', e.type, 'value', e.value))
     FROM external_ids e WHERE e.user_id = u.id)"""


def fold(s: str) -> str:
    """What a Python developer uses for caseless keys."""
    return unicodedata.normalize("NFKC", s).casefold()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class SqliteUsers:
    """Users in SQLite, through the standard library's sqlite3."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")
        self.con.executescript(SCHEMA)
        for r in range(1, 11):
            self.con.execute(
                "INSERT OR IGNORE INTO roles(id, name, name_fold) VALUES (?, ?, ?)",
                (r, f"role{r}", f"role{r}"),
            )

    @staticmethod
    def _user(row: tuple[Any, ...]) -> dict[str, Any]:
        user = {
            "id": row[0],
            "username": row[2],
            "email": row[3],
            "firstName": row[4],
            "lastName": row[5],
            "enabled": bool(row[9]),
            "roles": sorted(int(r) for r in row[15].split(",")) if row[15] else [],
            "externalIds": json.loads(row[16]),
            "attributes": json.loads(row[10]),
            "hasPassword": bool(row[11]),
            "createdAt": row[12],
            "updatedAt": row[13],
            "version": row[14],
        }
        if row[1]:
            user["tenant"] = row[1]
        for key, i in (("nickname", 6), ("telephoneNumber", 7), ("mobileNumber", 8)):
            if row[i] is not None:
                user[key] = row[i]
        return user

    def import_docs(self, docs: list[dict[str, Any]]) -> None:
        cur = self.con.cursor()
        cur.execute("BEGIN IMMEDIATE")
        for d in docs:
            now = now_ms()
            nickname = d.get("nickname")
            cur.execute(
                """INSERT INTO users(tenant, username, username_fold, email, email_fold,
                     first_name, first_fold, last_name, last_fold, nickname, nickname_fold,
                     telephone_number, mobile_number, enabled, attributes, password_hash,
                     created_at, updated_at, version)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)""",
                (
                    "",
                    d["username"],
                    fold(d["username"]),
                    d["email"],
                    fold(d["email"]),
                    d["firstName"],
                    fold(d["firstName"]),
                    d["lastName"],
                    fold(d["lastName"]),
                    nickname,
                    fold(nickname) if nickname is not None else None,
                    d.get("telephoneNumber"),
                    d.get("mobileNumber"),
                    d["enabled"],
                    json.dumps(d["attributes"]),
                    d.get("passwordHash"),
                    now,
                    now,
                ),
            )
            uid = cur.lastrowid
            cur.executemany(
                "INSERT INTO user_roles(user_id, role_id) VALUES (?, ?)",
                [(uid, r) for r in d["roles"]],
            )
            cur.executemany(
                "INSERT INTO external_ids(tenant, type, value, user_id) VALUES (?, ?, ?, ?)",
                [("", e["type"], e["value"], uid) for e in d["externalIds"]],
            )
        cur.execute("COMMIT")

    def analyze(self) -> None:
        """Gathers the planner's statistics (``ANALYZE``), as a developer does
        once the table holds its data (benches/src/sqlite.rs, ``analyze``)."""
        self.con.execute("ANALYZE")

    def get(self, uid: int) -> dict[str, Any]:
        row = self.con.execute(f"SELECT {COLUMNS} FROM users u WHERE u.id = ?", (uid,)).fetchone()
        if row is None:
            raise KeyError(uid)
        return self._user(row)

    def get_by_email(self, email: str) -> dict[str, Any]:
        row = self.con.execute(
            f"SELECT {COLUMNS} FROM users u WHERE u.tenant = '' AND u.email_fold = ?",
            (fold(email),),
        ).fetchone()
        if row is None:
            raise KeyError(email)
        return self._user(row)

    def filtered_page(self) -> list[dict[str, Any]]:
        rows = self.con.execute(
            f"""SELECT {COLUMNS} FROM users u WHERE u.enabled = 1
                  AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role_id = ?)
                  AND u.last_fold LIKE ?
                ORDER BY u.last_fold, u.last_name, u.id LIMIT {PAGE}""",
            (FILTER_ROLE, fold(LIKE)),
        ).fetchall()
        return [self._user(r) for r in rows]

    def count(self) -> int:
        (n,) = self.con.execute(
            """SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id
               WHERE r.role_id = ? AND u.enabled = 1""",
            (COUNT_ROLE,),
        ).fetchone()
        return int(n)

    def patch(self, uid: int, value: str) -> None:
        cur = self.con.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            (attrs,) = cur.execute("SELECT attributes FROM users WHERE id = ?", (uid,)).fetchone()
            attributes = json.loads(attrs)
            attributes["title"] = value
            cur.execute(
                "UPDATE users SET attributes = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                (json.dumps(attributes), now_ms(), uid),
            )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise


class RosterUsers:
    """Users in rosterdb, through its Python API."""

    def __init__(self, path: Path) -> None:
        self.store = rosterdb.Store(path, argon2_memory_kib=8, argon2_iterations=1)
        if self.store.roles.count() == 0:
            with self.store.transaction() as tx:
                for r in range(1, 11):
                    tx.roles.create({"name": f"role{r}"})

    def import_docs(self, docs: list[dict[str, Any]]) -> None:
        # One bulk create: what `executemany` is to the sqlite3 side.
        self.store.users.create_many(docs)

    def get(self, uid: int) -> dict[str, Any]:
        return self.store.users.get(uid)

    def get_by_email(self, email: str) -> dict[str, Any]:
        return self.store.users.get_by_email(email)

    def filtered_page(self) -> list[dict[str, Any]]:
        return self.store.users.list(
            where=f"enabled = true and roles eq {FILTER_ROLE} and lastName like '{LIKE}'",
            sort="lastName",
            page_size=PAGE,
        ).items

    def count(self) -> int:
        return self.store.users.count(where=f"enabled = true and roles eq {COUNT_ROLE}")

    def patch(self, uid: int, value: str) -> None:
        self.store.users.patch(uid, [{"op": "add", "path": "/attributes/title", "value": value}])


def per_op_ns(fn: Callable[[int], Any], iterations: int, start_k: int) -> float:
    t0 = time.perf_counter_ns()
    for k in range(start_k, start_k + iterations):
        fn(k)
    return (time.perf_counter_ns() - t0) / max(iterations, 1)


def calibrate(fn: Callable[[int], Any]) -> int:
    one = per_op_ns(fn, 1, 0)
    probe = max(1, min(10_000, int(10e6 / max(one, 1))))
    each = per_op_ns(fn, probe, 1)
    return max(1, min(1_000_000, int(100e6 / max(each, 1))))


def fmt(ns: float) -> str:
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"


def cell(samples: list[float]) -> str:
    return f"{fmt(statistics.median(samples))} ({fmt(min(samples))}–{fmt(max(samples))})"


#: The decision giving, for each line issue 13 left short, the profile
#: that shows why and what was tried (a link relative to docs/).
SHORT_LINES = "[decision 0034](decisions/0034-benchmark-lines-left-short.md)"

#: The rows whose line decision 0034 accounts for when it falls short
#: while rosterdb is still at least as fast as sqlite3 (as `compare`'s
#: report.rs): the import.
EXPLAINED = "import "


def verdict(name: str, got: float, line: float) -> str:
    """The table's "met" cell: "yes" or "no". A ratio below its line names
    decision 0034 when that decision accounts for the line (the import's 2×)
    and rosterdb is still at least as fast as sqlite3, as `compare`'s
    report.rs does; any other shortfall is a plain "no". A patch slower than
    sqlite3 that meets its line names decision 0028, which judges it at
    SQLite's speed."""
    if got < line:
        if got >= 1 and name.startswith(EXPLAINED):
            return f"no; why, and what was tried: {SHORT_LINES}"
        return "no"
    if name.startswith("single durable patch") and got < 1:
        return "yes; at SQLite's speed, [decision 0028](decisions/0028-durable-patch-at-sqlites-speed.md)"
    return "yes"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("docs/BENCHMARKS.md"))
    ap.add_argument("--dir", type=Path, default=Path("target"), help="where the stores are made")
    args = ap.parse_args()
    n = args.users
    args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        population = Path(tmp) / "population.jsonl"
        subprocess.run([str(COMPARE), "--export-population", str(n), str(population)], check=True)
        docs = [json.loads(line) for line in population.read_text(encoding="utf-8").splitlines()]
        # The import, interleaved as every other workload: each repetition
        # imports the population into a new store of each kind (rosterdb,
        # sqlite3, rosterdb, ...), so neither store alone pays for the
        # process's first touches of memory; the last pair is kept for the
        # read and write workloads.
        rows: list[tuple[str, list[float], list[float], str, float]] = []
        r_import: list[float] = []
        s_import: list[float] = []
        for rep in range(args.reps):
            rpath, spath = Path(tmp) / f"users-{rep}.rdb", Path(tmp) / f"users-{rep}.sqlite"
            r, s = RosterUsers(rpath), SqliteUsers(spath)
            # Each store goes first in every other repetition.
            pairs = [(r, r_import), (s, s_import)]
            for store, times in pairs if rep % 2 == 0 else pairs[::-1]:
                t0 = time.perf_counter_ns()
                store.import_docs(docs)
                times.append((time.perf_counter_ns() - t0) / n)
            if rep < args.reps - 1:
                r.store.close()
                s.con.close()
        # Untimed, on the store the other workloads run on.
        s.analyze()
        rows.append(
            (f"import {n} users, one transaction, per user (each repetition into new stores)", r_import, s_import, "≥ 2×", 2.0)
        )
        # As many e-mails as a batch of gets by id reaches (drive.rs EMAILS), so
        # that neither get finds its pages hot in the CPU's caches.
        emails = [docs[(k * 7919) % n]["email"] for k in range(min(n, 1 << 16))]

        def uid(k: int) -> int:
            return (k * 7919) % n + 1

        workloads: list[tuple[str, Callable[[int], Any], Callable[[int], Any], str, float]] = [
            ("get by id", lambda k: r.get(uid(k)), lambda k: s.get(uid(k)), "≥ 3×", 3.0),
            ("get by email", lambda k: r.get_by_email(emails[k % len(emails)]), lambda k: s.get_by_email(emails[k % len(emails)]), "≥ 3×", 3.0),
            (f"page of 100: enabled, roles eq {FILTER_ROLE}, lastName like '{LIKE}', sorted", lambda k: r.filtered_page(), lambda k: s.filtered_page(), "≥ 3×", 3.0),
            (f"count enabled and roles eq {COUNT_ROLE}", lambda k: r.count(), lambda k: s.count(), "≥ 2×", 2.0),
            ("single durable patch of one attribute", lambda k: r.patch(uid(k), f"v{k}"), lambda k: s.patch(uid(k), f"v{k}"), "≥ 0.6×", 0.6),
        ]
        assert [u["id"] for u in r.filtered_page()] == [u["id"] for u in s.filtered_page()], "same page"
        assert r.count() == s.count(), "same count"
        assert r.get_by_email(emails[3])["id"] == s.get_by_email(emails[3])["id"]
        get_py: list[float] = []
        k = 1000
        for name, rf, sf, target, ratio in workloads:
            rb, sb = calibrate(rf), calibrate(sf)
            rt, st = [], []
            for rep in range(args.reps):
                # Each store goes first in every other repetition.
                sides = [(rf, rb, rt), (sf, sb, st)]
                for fn, batch, times in sides if rep % 2 == 0 else sides[::-1]:
                    times.append(per_op_ns(fn, batch, k))
                    k += batch
            rows.append((name, rt, st, target, ratio))
            if name == "get by id":
                get_py = rt
            print(f"{name:<40} rosterdb {fmt(statistics.median(rt)):>10}  sqlite3 {fmt(statistics.median(st)):>10}", file=sys.stderr)
        r.store.close()
        s.con.close()
        out = subprocess.run([str(COMPARE), "--time-get", str(rpath), str(n), "5", "id_whole"], check=True, capture_output=True, text=True)
        rust_get = [float(x) for x in out.stdout.split()]
    py_get = statistics.median(get_py)
    overhead = py_get - rust_get[0]
    lines = [
        BEGIN,
        "## From Python",
        "",
        f"`benches/python/compare.py` at {n} users: rosterdb's Python API against the standard",
        "library's `sqlite3` written as a Python developer would (same schema as above, WAL,",
        "`synchronous=FULL`, `ANALYZE` after the import, caseless columns folded with",
        "`unicodedata.normalize(\"NFKC\", s).casefold()`,",
        "each read returning a dict of the whole user). Interleaved, each store first in every",
        "other repetition, median (min–max) of",
        f"{args.reps} repetitions (the import: each into new stores; the rest: batches of about 100 ms).",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version},",
        f"rosterdb wheel built by `maturin build {os.environ.get('ROSTERDB_WHEEL_FLAGS', '--release')}`.",
        "Ratio = sqlite3 time / rosterdb time.",
        "",
        "| workload | rosterdb (Python) | sqlite3 | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for name, rt, st, target, ratio in rows:
        got = statistics.median(st) / statistics.median(rt)
        rc = cell(rt) if len(rt) > 1 else fmt(rt[0])
        sc = cell(st) if len(st) > 1 else fmt(st[0])
        lines.append(f"| {name} | {rc} | {sc} | {got:.2f} | {target} | {verdict(name, got, ratio)} |")
    lines += [
        "",
        f"Python call overhead on `get` by id: Python median {fmt(py_get)} − Rust median "
        f"{fmt(rust_get[0])} (range {fmt(rust_get[1])}–{fmt(rust_get[2])}, `compare --time-get … id_whole` on the same file: "
        f"the get and its attributes read, as the Python dict holds them) "
        f"= **{fmt(overhead)}** (target ≤ 2 µs: {'met' if overhead <= 2000 else 'not met'}).",
        END,
    ]
    section = "\n".join(lines) + "\n"
    text = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + "\n" + tail
    else:
        text = text + "\n" + section
    args.out.write_text(text, encoding="utf-8")
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
