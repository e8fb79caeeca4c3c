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
python3 tests/vectors/gen_patches.py --check
echo "== Rust tests"
cargo test --workspace
echo "== fuzz targets over their committed corpora (nightly, cargo-fuzz)"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- -runs=0
done
echo "== Kotlin and Swift bindings"
bash bindings/scripts/test-kotlin.sh
echo "== Python package and tests"
bash scripts/python-env.sh
.venv/bin/pytest -q python/tests
echo "== SCIM 2.0 compliance: scim2-tester against rosterdb FILE serve"
bash scripts/scim-compliance.sh
echo "== JSON Patch conformance suite (RFC 6902) counts"
cargo test -q -p rosterdb-conformance --test json_patch_suite -- --nocapture 2>&1 | grep "json-patch suite"
