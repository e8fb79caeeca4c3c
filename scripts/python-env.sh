#!/usr/bin/env bash
# Builds the rosterdb wheel and installs it into the virtualenv .venv (made
# on first use), with its build and demo tools from PyPI: maturin, and
# pyotp (an independent RFC 6238 implementation: the demo's stand-in for an
# authenticator app, and what the TOTP tests check codes with); and, unless
# --without-test-tools, pytest, mypy and hypothesis (the property-based
# state machine and isolation tests).
#
#   bash scripts/python-env.sh [--release] [--without-test-tools]
#
#   --release             build with cargo's release profile: a wheel of about
#                         3 MB instead of 22 MB, and faster; the default debug
#                         build, which test-all.sh uses, compiles faster
#   --without-test-tools  install only what building and the demo need
#
# Prints one line for the build; maturin's output goes to
# target/maturin-build.log, whose tail is printed only if the build fails.
# Called by test-all.sh (debug, with the test tools) and demo.sh (release,
# without them).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
test_tools=("pytest>=8" "mypy>=1.10" "hypothesis>=6.100,<7")
for arg in "$@"; do
  case "$arg" in
    --release) profile=release ;;
    --without-test-tools) test_tools=() ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "python-env.sh: unknown option $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  "maturin>=1.16,<2" "pyotp>=2.9,<3" ${test_tools[@]+"${test_tools[@]}"}

rm -rf target/wheels
mkdir -p target
log=target/maturin-build.log
build=(.venv/bin/maturin build -m python/Cargo.toml --out target/wheels)
if [ "$profile" = release ]; then
  build+=(--release)
fi
echo "building the rosterdb wheel ($profile)…"
if ! "${build[@]}" >"$log" 2>&1; then
  echo "python-env.sh: the wheel build failed; the end of $log:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  --force-reinstall --no-deps target/wheels/rosterdb-*.whl
