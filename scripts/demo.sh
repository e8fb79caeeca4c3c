#!/usr/bin/env bash
# The README's demo: builds the Python package into .venv and runs the quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/python-env.sh
.venv/bin/python examples/quickstart.py "$@"
