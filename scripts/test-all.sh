#!/usr/bin/env bash
# Runs every check and test suite of rosterdb. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== formatting"
cargo fmt --all -- --check
echo "== lints"
cargo clippy --workspace --all-targets -- -D warnings
echo "== Rust tests"
cargo test --workspace
