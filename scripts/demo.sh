#!/usr/bin/env bash
# The README's demo: builds the rosterdb wheel (release) into .venv, then runs
# examples/quickstart.py, a first session in a new store file.
#
#   bash scripts/demo.sh [--overwrite] [PATH]
#
# PATH is the store file to create; its write-ahead log PATH-wal and its
# export (PATH with the suffix .jsonl) go beside it. Without PATH the store
# is target/demo/quickstart.redb in the repository, replacing the previous
# run's. An existing PATH (or its log or export) is refused with exit code 2
# unless --overwrite is given. The demo prints the store file's path first
# and last.
#
# Needs a Rust toolchain and Python 3.10+ with venv; installs maturin and
# pyotp from PyPI into .venv (see scripts/python-env.sh). maturin's output
# goes to target/maturin-build.log.
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  case "$arg" in
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
  esac
done
bash scripts/python-env.sh --release --without-test-tools
.venv/bin/python examples/quickstart.py "$@"
