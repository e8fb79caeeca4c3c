"""Docs are tests: the README's Python blocks and the quickstart example run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(markdown: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("index", range(len(python_blocks(ROOT / "README.md"))))
def test_readme_python_block_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = python_blocks(ROOT / "README.md")[index]
    exec(compile(code, f"README.md python block {index}", "exec"), {"__name__": "__readme__"})


def test_the_readme_has_a_python_quick_start() -> None:
    assert python_blocks(ROOT / "README.md")


def test_quickstart_example_runs(tmp_path: Path) -> None:
    target = tmp_path / "quickstart.redb"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"), str(target)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "duplicate refused on 'username'" in out
    assert "role still held by 2 users" in out
    assert out.count('"op": "create"') == 7
    assert "stale update refused" in out and "acme sees 1 user" in out
    assert target.exists()
