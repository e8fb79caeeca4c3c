"""The extension's allocator leaves transparent huge pages to the system.

The extension allocates with mimalloc (decision 0020), built with its
``no_thp`` feature (decision 0030): it never advises the kernel to back its
memory with transparent huge pages (``madvise(MADV_HUGEPAGE)``, shown as
the ``hg`` flag of a mapping in ``/proc/self/smaps``), so importing
rosterdb does not change the policy of the Python process around it.
Without the feature, mimalloc advises its first arena as it reserves it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import rosterdb
from conftest import user

SMAPS = Path("/proc/self/smaps")


def advised_huge() -> list[str]:
    """The header line of each mapping whose ``VmFlags`` include ``hg``."""
    advised: list[str] = []
    mapping = ""
    for line in SMAPS.read_text(encoding="utf-8").splitlines():
        first, *rest = line.split()
        if first == "VmFlags:":
            if "hg" in rest:
                advised.append(mapping)
        elif "-" in first and not first.endswith(":"):
            # A mapping's header: "start-end perms offset dev inode path".
            mapping = line
    return advised


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not SMAPS.exists(),
    reason="/proc/self/smaps is Linux's",
)
def test_no_mapping_is_advised_huge_after_a_bulk_import(
    mem: rosterdb.Store,
) -> None:
    before = advised_huge()
    ids = mem.users.create_many([user(f"u{i}") for i in range(2000)])
    assert len(ids) == 2000
    assert mem.users.count() == 2000
    assert advised_huge() == before == []
