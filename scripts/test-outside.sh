#!/usr/bin/env bash
# Uses rosterdb as a newcomer does, outside the repository, following
# README.md "Use it in your own project" and bindings/README.md "Plain JVM
# (Kotlin without Android)", each step in a new temporary directory:
#
#   python  a new virtualenv, the wheel installed into it, a script there
#           that imports rosterdb (checked to come from that virtualenv),
#           makes a store, a role and a user, logs in and checks the answers;
#           then the README's Python quick start, unchanged, run there too.
#   rust    `cargo new`, the `cargo add` commands the README gives, the
#           README's Rust quick start copied unchanged into src/main.rs,
#           `cargo run`.
#   kotlin  the Main.kt of bindings/README.md, unchanged, beside the
#           generated Kotlin, compiled and run with the README's kotlinc and
#           java command lines, twice (the second run finds its records).
#
# It reuses what test-all.sh builds before it (see each step for why):
# the wheel of scripts/python-env.sh in target/wheels, and the generated
# Kotlin, debug librosterdb_ffi.so, kotlinc and JNA of
# bindings/scripts/test-kotlin.sh. Every step runs even when one failed; the
# script ends with "outside: N passed, M failed" and exits 1 when a step
# failed. The temporary directory is removed however the script ends.
#
#   bash scripts/test-outside.sh [python|rust|kotlin …]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
JNA_JAR=/usr/share/java/jna.jar
KOTLIN_HOME=$ROOT/bindings/kotlin/.tools/node_modules/kotlin-compiler

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# block FILE HEADING FENCE: the first ```FENCE block after the line HEADING,
# as it stands in FILE; fails when there is none.
block() {
  awk -v heading="$2" -v fence="$3" '
    $0 == heading { after = 1; next }
    after && !inside && $0 ~ "^[[:space:]]*```" fence "[[:space:]]*$" {
      inside = 1; indent = index($0, "`") - 1; next
    }
    inside && $0 ~ "^[[:space:]]*```[[:space:]]*$" { found = 1; exit }
    inside { print substr($0, indent + 1) }
    END { exit !found }' "$1"
}

step_python() {
  # The wheel test-all.sh has just built (scripts/python-env.sh: maturin
  # build, debug) rather than the README's `maturin build --release`: the
  # same files and tag (cp310-abi3-manylinux_2_34), and the release build
  # took 3 minutes more on 2 cores (December 2026), with CI at about 20 of
  # its 30. What this step checks is what a newcomer does with the wheel.
  local wheels=("$ROOT"/target/wheels/rosterdb-*.whl)
  [ -f "${wheels[0]}" ] || { echo "no wheel in target/wheels: run bash scripts/python-env.sh first" >&2; return 1; }
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet --disable-pip-version-check "${wheels[@]}"
  mkdir "$work/python"
  cat >"$work/python/app.py" <<'EOF'
import os
import sys

import rosterdb

venv = os.path.realpath(sys.argv[1])
where = os.path.realpath(rosterdb.__file__)
print("rosterdb from", where)
assert where.startswith(venv + os.sep), f"rosterdb was imported from {where}, not from {venv}"

with rosterdb.Store(os.path.join(os.getcwd(), "app.redb")) as store:
    admins = store.roles.create({"name": "admins", "permissions": ["users:write"]})
    ada = store.users.create({
        "username": "ada", "email": "ada@example.com", "firstName": "Ada",
        "lastName": "Lovelace", "roles": [admins["id"]], "password": "analytical-engine-1843",
    })
    assert ada["hasPassword"] and ada["roles"] == [admins["id"]], ada
    session = store.login("ADA@example.com", "analytical-engine-1843")
    principal = store.authenticate(session["token"])
    assert principal["kind"] == "user" and principal["id"] == ada["id"], principal
    assert principal["permissions"] == ["users:write"], principal
    try:
        store.login("ada", "not her password")
    except rosterdb.AuthenticationError:
        pass
    else:
        raise AssertionError("a wrong password was accepted")
    print("ada logged in with", principal["permissions"])
assert os.path.exists("app.redb")
EOF
  (cd "$work/python" && env -u PYTHONPATH "$work/venv/bin/python" app.py "$work/venv")
  # The README's Python quick start, as it stands, from the same directory.
  block README.md "## Python quick start" python >"$work/python/quickstart.py"
  (cd "$work/python" && env -u PYTHONPATH "$work/venv/bin/python" quickstart.py >/dev/null)
  echo "the Python quick start ran from $work/python"
}

step_rust() {
  local app=$work/rust/myapp
  mkdir -p "$work/rust"
  # The README's commands: cargo new, cargo add (path dependency on core/).
  (cd "$work/rust" && cargo new --quiet myapp)
  # Two shortcuts a newcomer would not take, which change nothing the step
  # checks: the workspace's Cargo.lock (the versions the workspace tests,
  # already downloaded, rather than a fresh resolution that a new release
  # of a dependency could change) and the workspace's target directory
  # (crates built with the same features and profile are not built again).
  # With both, the step took 68 s on a warm workspace target, building
  # what the workspace's profile and features do not share.
  cp Cargo.lock "$app/Cargo.lock"
  (
    cd "$app"
    cargo add --quiet rosterdb --path "$ROOT/core"
    cargo add --quiet serde_json
  )
  block README.md "## Rust quick start" rust >"$app/src/main.rs"
  (cd "$app" && CARGO_TARGET_DIR=$TARGET cargo run --quiet)
}

step_kotlin() {
  # Step 1 of the README (cargo build, uniffi-bindgen generate) and step 2
  # (JNA, kotlinc) are what test-kotlin.sh has just done, with the debug
  # library rather than a release build (minutes more, as for the wheel):
  # the generated Kotlin is the same for any build of the library.
  local generated=$ROOT/bindings/generated/kotlin/rosterdb/rosterdb.kt
  [ -f "$generated" ] && [ -x "$KOTLIN_HOME/bin/kotlinc" ] && [ -f "$TARGET/debug/librosterdb_ffi.so" ] ||
    { echo "no generated Kotlin, kotlinc or library: run bash bindings/scripts/test-kotlin.sh first" >&2; return 1; }
  local app=$work/kotlin/myapp
  mkdir -p "$app"
  cp "$generated" "$ROOT"/bindings/kotlin/src/rosterdb/*.kt "$app/"
  block bindings/README.md "## Plain JVM (Kotlin without Android)" kt >"$app/Main.kt"
  (
    cd "$app"
    PATH=$KOTLIN_HOME/bin:$PATH
    kotlinc -nowarn -jvm-target 17 -include-runtime -cp "$JNA_JAR" -d app.jar ./*.kt
    local run
    for run in first second; do
      java -Djna.library.path="$TARGET/debug" -cp "app.jar:$JNA_JAR" MainKt >"$run.txt"
      cat "$run.txt"
      grep -qx 'grace logged in until .*, may \[tickets:write\]' "$run.txt"
      grep -qx 'a wrong password: authentication failed' "$run.txt"
    done
    [ -s roster.redb ]
  )
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(python rust kotlin)
passed=0 failed=0
for name in "${steps[@]}"; do
  echo "== outside: $name (in $work)"
  started=$SECONDS
  # As in test-all.sh: not `if ( … )`, which would turn `set -e` off inside.
  set +e
  (
    set -euo pipefail
    "step_$name"
  )
  status=$?
  set -e
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "-- outside: $name ok ($((SECONDS - started)) s)"
  else
    failed=$((failed + 1))
    echo "-- outside: $name FAILED (exit $status, $((SECONDS - started)) s)"
  fi
done
echo "outside: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
