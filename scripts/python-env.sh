#!/usr/bin/env bash
# Builds the rosterdb wheel and installs it into the virtualenv .venv (made
# on first use, with maturin, pytest and mypy from PyPI, pyotp: an
# independent RFC 6238 implementation the TOTP tests check codes with, and
# hypothesis: the property-based state machine and isolation tests).
# Prints nothing but progress; sourced by test-all.sh and demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  "maturin>=1.16,<2" "pytest>=8" "mypy>=1.10" "pyotp>=2.9,<3" "hypothesis>=6.100,<7"
rm -rf target/wheels
.venv/bin/maturin build --quiet -m python/Cargo.toml --out target/wheels
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  --force-reinstall --no-deps target/wheels/rosterdb-*.whl
