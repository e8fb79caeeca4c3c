"""Docs are tests: the READMEs' Python blocks and the quickstart example run."""

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


#: The READMEs whose Python blocks run: the repository's and the package's
#: (python/README.md, the long description of the wheel).
READMES = ("README.md", "python/README.md")


@pytest.mark.parametrize(
    ("readme", "index"),
    [(r, i) for r in READMES for i in range(len(python_blocks(ROOT / r)))],
)
def test_readme_python_block_runs(
    readme: str, index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = python_blocks(ROOT / readme)[index]
    name = f"{readme} python block {index}"
    exec(compile(code, name, "exec"), {"__name__": "__readme__"})


@pytest.mark.parametrize("readme", READMES)
def test_the_readme_has_a_python_example(readme: str) -> None:
    assert python_blocks(ROOT / readme)


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
