"""The installed package: its version and its metadata (what PyPI and ``pip
show`` display); test_docs.py runs the README's Python example."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import rosterdb

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "python" / "README.md"


def cargo_version() -> str:
    """The version python/Cargo.toml builds: its own, or the workspace's."""
    crate = (ROOT / "python" / "Cargo.toml").read_text(encoding="utf-8")
    own = re.search(r'^version\s*=\s*"([^"]+)"', crate, re.M)
    if own:
        return own.group(1)
    assert re.search(r"^version\.workspace\s*=\s*true", crate, re.M), "no version in python/Cargo.toml"
    workspace = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    section = workspace.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    found = re.search(r'^version\s*=\s*"([^"]+)"', section, re.M)
    assert found, "no version in [workspace.package]"
    return found.group(1)


def test_version_is_the_cargo_version() -> None:
    assert isinstance(rosterdb.__version__, str)
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", rosterdb.__version__)
    assert rosterdb.__version__ == cargo_version()


def test_version_is_the_installed_distributions() -> None:
    assert rosterdb.__version__ == importlib.metadata.version("rosterdb")


def test_version_is_not_star_exported() -> None:
    assert "__version__" not in rosterdb.__all__


def test_metadata_describes_the_package() -> None:
    meta = importlib.metadata.metadata("rosterdb")
    assert meta["Name"] == "rosterdb"
    assert meta["Summary"] == "An embedded identity store: users, roles and app-clients in one file."
    assert meta["Description-Content-Type"].startswith("text/markdown")
    description = meta.get_payload() or meta["Description"]  # type: ignore[attr-defined]
    assert description, "no long description"
    assert "maturin build --release -m python/Cargo.toml" in description
    assert "pip install target/wheels/rosterdb-" in description
    assert "manylinux" in description
    assert meta["License"] == "MIT OR Apache-2.0"
    keywords = meta["Keywords"].split(",")
    assert "identity" in keywords and "authentication" in keywords
    assert meta["Requires-Python"] == ">=3.10"
    assert "Typing :: Typed" in meta.get_all("Classifier")


def test_the_long_description_is_the_readme() -> None:
    meta = importlib.metadata.metadata("rosterdb")
    description = meta.get_payload() or meta["Description"]  # type: ignore[attr-defined]
    assert description.strip() == README.read_text(encoding="utf-8").strip()
