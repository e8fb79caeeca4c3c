"""How busy the other threads are while the calling thread is in each
phase of a bulk create, from a ``perf script`` of a frame-pointer build.

    perf record -F 1999 -g -o build.data target/release/compare --build rosterdb /tmp/b.rdb 1000000
    perf script -i build.data | python3 benches/profiles/overlap.py compare 20 1999

Arguments: the calling thread's name (the binary's, ``compare``), the
window length in ms (default 10) and the sampling rate in Hz (default
1999). Time is cut into windows; each window is given the calling
thread's phase with the most samples in it (the innermost of: redb's
commit, the pending flush, the unique-key lookups and writes,
``write_many``, the rest of ``create_users``, anything else), and for
each phase the report gives its windows, the calling thread's samples
in them and how busy that kept it, and the other threads' samples, by
thread name. Round 25 of ``docs/BENCHMARKS.md`` used it to find where a
bulk create's second core waits.
"""

from __future__ import annotations

import collections
import re
import sys

PHASES = [
    ("commit", "TransactionalMemory::commit"),
    ("flush", "Pending::flush"),
    ("owners", "stored_owners"),
    ("uniqw", "write_unique_sorted"),
    ("write_many", "write_many"),
    ("create", "create_users"),
]

HEADER = re.compile(r"(\S+)\s+\d+(?:/\d+)?\s+(?:\[\d+\]\s+)?([\d.]+):")


def main() -> None:
    main_thread = sys.argv[1]
    window_ms = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    rate_hz = float(sys.argv[3]) if len(sys.argv) > 3 else 1999.0
    windows: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    thread: str | None = None
    at = 0.0
    frames: list[str] = []

    def end_sample() -> None:
        if thread is None:
            return
        window = int(at * 1000 / window_ms)
        if thread == main_thread:
            phase = next((name for name, pat in PHASES if any(pat in f for f in frames)), "other")
            windows[window]["m:" + phase] += 1
        else:
            windows[window]["2:" + thread] += 1

    for line in sys.stdin:
        if not line.strip():
            end_sample()
            thread, frames = None, []
        elif not line.startswith((" ", "\t")):
            found = HEADER.match(line)
            thread, at = (found.group(1), float(found.group(2))) if found else (None, 0.0)
            frames = []
        else:
            frames.append(line.strip().split(None, 1)[-1])
    end_sample()

    by_phase: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for counts in windows.values():
        mains = {k: v for k, v in counts.items() if k.startswith("m:")}
        phase = max(mains, key=lambda k: mains[k]) if mains else "m:none"
        by_phase[phase]["windows"] += 1
        for key, n in counts.items():
            by_phase[phase]["main" if key.startswith("m:") else key] += n
    per_window = window_ms * rate_hz / 1000
    for phase, c in sorted(by_phase.items(), key=lambda item: -item[1]["windows"]):
        others = {k[2:]: v for k, v in c.items() if k.startswith("2:")}
        room = c["windows"] * per_window
        print(
            f"{phase:14s} windows {c['windows']:5d} main {c['main']:6d} ({c['main'] / room:.0%} busy)"
            f" others {sum(others.values()):6d} ({sum(others.values()) / room:.0%}) "
            + " ".join(f"{k}={v}" for k, v in sorted(others.items(), key=lambda kv: -kv[1]))
        )


if __name__ == "__main__":
    main()
