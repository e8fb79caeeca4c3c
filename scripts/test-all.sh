#!/usr/bin/env bash
# Runs every check and test suite of rosterdb. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== formatting"
cargo fmt --all -- --check
echo "== lints"
cargo clippy --workspace --all-targets -- -D warnings
echo "== test vectors are up to date with their generators"
python3 tests/vectors/gen_validation.py --check
echo "== Rust tests"
cargo test --workspace
echo "== Kotlin and Swift bindings"
bash bindings/scripts/test-kotlin.sh
echo "== Python package and tests"
bash scripts/python-env.sh
.venv/bin/pytest -q python/tests
