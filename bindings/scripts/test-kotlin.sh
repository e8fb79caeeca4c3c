#!/usr/bin/env bash
# Builds the rosterdb-ffi cdylib, generates the Kotlin and Swift bindings
# (library mode, into bindings/generated/), compiles the generated Kotlin and
# the Kotlin shipped beside it (bindings/kotlin/src/) with the Kotlin test
# suite and runs it on the JVM through JNA, against the host cdylib (in
# $CARGO_TARGET_DIR/debug when that is set, else target/debug). Installs
# what it needs: Debian's libjna-java and the npm package kotlin-compiler
# (into bindings/kotlin/.tools/). The suite ends by printing
# "N passed, N failed"; the script fails when any test fails.
#
#   bash bindings/scripts/test-kotlin.sh [name filter]
set -euo pipefail
cd "$(dirname "$0")/../.."

KOTLIN_VERSION=2.4.20
TOOLS=bindings/kotlin/.tools
GENERATED=bindings/generated
BUILD=bindings/kotlin/build
JNA_JAR=/usr/share/java/jna.jar
DEBUG_DIR=${CARGO_TARGET_DIR:-target}/debug
LIBRARY=$DEBUG_DIR/librosterdb_ffi.so
started=$SECONDS

step() { echo "== bindings: $* ($((SECONDS - started)) s)"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

step "tools"
command -v java >/dev/null || { echo "java (a JDK or JRE, 17 or newer) is needed" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is needed to install kotlin-compiler" >&2; exit 1; }
if [ ! -f "$JNA_JAR" ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjna-java >/dev/null
fi
KOTLIN_HOME=$TOOLS/node_modules/kotlin-compiler
if [ "$(cat "$KOTLIN_HOME/build.txt" 2>/dev/null)" != "$KOTLIN_VERSION" ]; then
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-save --no-audit --no-fund --loglevel=error \
        "kotlin-compiler@$KOTLIN_VERSION"
fi
KOTLIN_LIB=$KOTLIN_HOME/lib

step "cargo build (the cdylib and uniffi-bindgen)"
cargo build --workspace --quiet

step "generate Kotlin and Swift"
rm -rf "$GENERATED/kotlin" "$GENERATED/swift"
for language in kotlin swift; do
    "$DEBUG_DIR/uniffi-bindgen" generate "$LIBRARY" --language "$language" \
        --out-dir "$GENERATED/$language" --no-format --metadata-no-deps
done
for file in kotlin/rosterdb/rosterdb.kt swift/RosterDB.swift swift/RosterDBFFI.h swift/RosterDBFFI.modulemap; do
    [ -s "$GENERATED/$file" ] || { echo "missing generated file $GENERATED/$file" >&2; exit 1; }
done
grep -q "class RosterStore" "$GENERATED/swift/RosterDB.swift" &&
    grep -q "enum RosterError" "$GENERATED/swift/RosterDB.swift" ||
    { echo "the Swift bindings lack RosterStore or RosterError" >&2; exit 1; }

step "compile the Kotlin bindings, tests and README blocks (kotlinc $KOTLIN_VERSION)"
rm -rf "$BUILD"
mkdir -p "$BUILD/docs"
# The ```kotlin blocks of a README, as one file of package rosterdb.docs.NAME.
readme_kotlin() {
    local blocks
    blocks=$(awk '/^```kotlin[[:space:]]*$/ { on = 1; next } /^```/ { on = 0 } on' "$1")
    if [ -n "$blocks" ]; then
        mkdir -p "$BUILD/docs/$2"
        printf 'package rosterdb.docs.%s\n\n%s\n' "$2" "$blocks" >"$BUILD/docs/$2/QuickStart.kt"
    fi
}
readme_kotlin bindings/README.md bindings
readme_kotlin README.md root
mapfile -t readme_files < <(find "$BUILD/docs" -name '*.kt')
"$KOTLIN_HOME/bin/kotlinc" -nowarn -jvm-target 17 -cp "$JNA_JAR:$KOTLIN_LIB/kotlin-test.jar" \
    -d "$BUILD/tests.jar" "$GENERATED/kotlin/rosterdb/rosterdb.kt" bindings/kotlin/src/rosterdb/*.kt \
    bindings/kotlin/tests/*.kt \
    "${readme_files[@]}"

step "run the Kotlin tests on the JVM"
ROSTERDB_VECTORS=tests/vectors java -Djna.library.path="$DEBUG_DIR" \
    -cp "$BUILD/tests.jar:$KOTLIN_LIB/kotlin-stdlib.jar:$KOTLIN_LIB/kotlin-test.jar:$JNA_JAR" \
    rosterdb.tests.TestRunnerKt "$@"
