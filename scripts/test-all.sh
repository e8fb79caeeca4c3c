#!/usr/bin/env bash
# Runs every check and test suite of rosterdb. Used by the README and by .ci/run.
#
# Each suite runs in a subshell under `set -euo pipefail`: its first failing
# command (a failed build included) ends that suite as failed. The other
# suites still run; the run ends with a summary, one line per suite with the
# counts its tool printed and a total, and exits 1 when any suite failed.
# Cargo builds run with --quiet; cargo-fuzz's build and libFuzzer's output go
# to logs only, whose tail is printed when they fail. Every suite's output
# is kept in target/test-all/SUITE.log.
#
#   bash scripts/test-all.sh

LOGS=target/test-all

# A number from TEXT: the integer right before WORD ("12 passed" → 12), or 0.
count_of() {
  local text=$1 word=$2 found
  found=$(grep -oE "[0-9]+ $word" <<<"$text" | tail -n 1 | cut -d' ' -f1)
  echo "${found:-0}"
}

# The counts of `cargo test` output on stdin: every "test result:" line (one
# per test binary and doctest run) summed, as "PASSED FAILED IGNORED RUNS".
parse_cargo_tests() {
  awk '/^test result: / {
         for (i = 1; i < NF; i++) {
           word = $(i + 1)
           sub(/;$/, "", word)
           if (word == "passed") p += $i
           if (word == "failed") f += $i
           if (word == "ignored") g += $i
         }
         runs++
       }
       END { printf "%d %d %d %d\n", p, f, g, runs }'
}

# pytest's final line on stdin ("2065 passed, 2 skipped in 90.1s",
# "1 failed, 2064 passed, 2 skipped, 1 error in …") as "PASSED FAILED SKIPPED",
# errors counted as failures; nothing when there is no such line.
parse_pytest() {
  local last
  last=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|errors?|deselected|xfailed|xpassed|warnings?)\b.* in [0-9.]+s' | tail -n 1)
  [ -n "$last" ] || return 0
  echo "$(count_of "$last" passed) $(($(count_of "$last" failed) + $(count_of "$last" errors?))) $(count_of "$last" skipped)"
}

# The Kotlin runner's last "N passed, N failed" line on stdin, as "PASSED FAILED".
parse_kotlin() {
  sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p' | tail -n 1
}

# scim-compliance.sh's "scim2-tester: N checks: …; E errors" on stdin, as
# "PASSED FAILED SKIPPED": ERROR and CRITICAL checks fail, SKIPPED ones are
# skipped, the others (SUCCESS, COMPLIANT, ACCEPTABLE, DEVIATION) pass, as
# the script judges them.
parse_scim() {
  local last total errors skipped
  last=$(grep -E '^scim2-tester: [0-9]+ checks: ' | tail -n 1)
  [ -n "$last" ] || return 0
  total=$(sed -E 's/^scim2-tester: ([0-9]+) checks.*/\1/' <<<"$last")
  errors=$(count_of "$last" errors)
  skipped=$(count_of "$last" SKIPPED)
  echo "$((total - errors - skipped)) $errors $skipped"
}

# The JSON Patch suite's "json-patch suite: N ran, M skipped as unmappable,
# K disabled" on stdin, as "RAN UNMAPPABLE DISABLED".
parse_json_patch() {
  sed -n 's/^json-patch suite: \([0-9]*\) ran, \([0-9]*\) skipped as unmappable, \([0-9]*\) disabled$/\1 \2 \3/p' |
    tail -n 1
}

# libFuzzer's output of one `-runs=0` replay on stdin: the number of corpus
# files it read ("INFO: seed corpus: files: 765 …" or, for a corpus it
# loads whole, "Loaded 1 files from … / #765 INITED"), nothing when absent.
parse_fuzz_inputs() {
  awk '/INFO: seed corpus: files: / { for (i = 1; i <= NF; i++) if ($i == "files:") n = $(i + 1) }
       /INFO: .*[0-9]+ files found in/ && n == "" { for (i = 1; i <= NF; i++) if ($i == "files") m = $(i - 1) }
       END { if (n != "") print n; else if (m != "") print m }'
}

# outside: test-outside.sh's "outside: N passed, M failed", as "PASSED FAILED".
parse_outside() {
  sed -n 's/^outside: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' | tail -n 1
}

# quietly LOG COMMAND…: runs COMMAND with its output in LOG only; on failure
# prints LOG's last 40 lines and returns COMMAND's status.
quietly() {
  local log=$1 status=0
  shift
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    echo "-- $* failed (exit $status); the end of $log:" >&2
    tail -n 40 "$log" >&2
  fi
  return "$status"
}

suite_checks() {
  echo "== formatting"
  cargo fmt --all -- --check
  echo "== lints"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
  echo "== documentation (rustdoc, warnings denied: broken or private links)"
  RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
  echo "== test vectors are up to date with their generators"
  python3 tests/vectors/gen_validation.py --check
  python3 tests/vectors/gen_patches.py --check
}

suite_rust() {
  echo "== Rust tests"
  cargo test --workspace --quiet --no-run
  cargo test --workspace --quiet --no-fail-fast
}

# Prints "fuzz: TARGET INPUTS ok|FAILED" for each target, after the replay.
suite_fuzz() {
  echo "== fuzz targets over their committed corpora (nightly, cargo-fuzz)"
  if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    quietly "$LOGS/cargo-fuzz-install.log" cargo install cargo-fuzz --locked
  fi
  quietly "$LOGS/fuzz-build.log" cargo +nightly fuzz build
  local target inputs failed=0
  for target in $(cargo +nightly fuzz list); do
    if quietly "$LOGS/fuzz-$target.log" cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- -runs=0; then
      inputs=$(parse_fuzz_inputs <"$LOGS/fuzz-$target.log")
      echo "fuzz: $target ${inputs:-?} ok"
    else
      echo "fuzz: $target ? FAILED"
      failed=1
    fi
  done
  return "$failed"
}

suite_kotlin() {
  echo "== Kotlin and Swift bindings"
  bash bindings/scripts/test-kotlin.sh
}

suite_python() {
  echo "== Python package and tests"
  bash scripts/python-env.sh
  .venv/bin/pytest -q python/tests
}

suite_scim() {
  echo "== SCIM 2.0 compliance: scim2-tester against rosterdb FILE serve"
  bash scripts/scim-compliance.sh
}

suite_json_patch() {
  echo "== JSON Patch conformance suite (RFC 6902) counts"
  cargo test -q -p rosterdb-conformance --test json_patch_suite -- --nocapture 2>&1 | grep "json-patch suite"
}

suite_outside() {
  echo "== outside the repository: Python, Rust and Kotlin as a newcomer uses them"
  bash scripts/test-outside.sh
}

# The summary line of SUITE (given its exit status and log) on stdout as
# "STATUS PASSED FAILED TEXT…": STATUS ok or FAILED; a suite whose tool
# printed no counts is FAILED unless it counts nothing (checks).
describe() {
  local suite=$1 status=$2 log=$3 counts passed failed skipped extra
  case "$suite" in
    checks)
      [ "$status" -eq 0 ] && echo "ok 0 0 ok" || echo "FAILED 0 0 FAILED"
      return
      ;;
    rust)
      read -r passed failed skipped extra < <(parse_cargo_tests <"$log")
      [ "$extra" -gt 0 ] || { echo "FAILED $passed $failed FAILED (no test results)"; return; }
      counts="$passed passed, $failed failed, $skipped ignored"
      ;;
    fuzz)
      local targets inputs bad
      targets=$(grep -c '^fuzz: ' "$log" || true)
      inputs=$(awk '/^fuzz: / && $3 ~ /^[0-9]+$/ { n += $3 } END { print n + 0 }' "$log")
      bad=$(grep -c '^fuzz: .* FAILED$' "$log" || true)
      passed=$((targets - bad))
      failed=$bad
      [ "$targets" -gt 0 ] || { echo "FAILED 0 0 FAILED (no target ran)"; return; }
      counts="$targets targets, $inputs inputs, $bad failed"
      ;;
    kotlin)
      read -r passed failed < <(parse_kotlin <"$log"; echo)
      [ -n "${passed:-}" ] || { echo "FAILED 0 0 FAILED (no test results)"; return; }
      counts="$passed passed, $failed failed"
      ;;
    python | scim)
      if [ "$suite" = python ]; then
        read -r passed failed skipped < <(parse_pytest <"$log"; echo)
      else
        read -r passed failed skipped < <(parse_scim <"$log"; echo)
      fi
      [ -n "${passed:-}" ] || { echo "FAILED 0 0 FAILED (no test results)"; return; }
      counts="$passed passed, $failed failed, $skipped skipped"
      ;;
    json_patch)
      local ran unmappable disabled
      read -r ran unmappable disabled < <(parse_json_patch <"$log"; echo)
      [ -n "${ran:-}" ] || { echo "FAILED 0 0 FAILED (no counts)"; return; }
      passed=0 failed=0
      [ "$status" -eq 0 ] && passed=$ran || failed=$ran
      counts="$ran records ran, $unmappable unmappable, $disabled disabled"
      ;;
    outside)
      read -r passed failed < <(parse_outside <"$log"; echo)
      [ -n "${passed:-}" ] || { echo "FAILED 0 0 FAILED (no results)"; return; }
      counts="$passed passed, $failed failed"
      ;;
  esac
  if [ "$status" -eq 0 ] && [ "$failed" -eq 0 ]; then
    echo "ok $passed $failed $counts"
  else
    echo "FAILED $passed $failed $counts — FAILED"
  fi
}

# SECONDS as "12m05s".
minutes() {
  printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

# "target/ 6.1G, 40G free": what the run left in target/ and the room
# left on its disk, for the summary (a full disk once failed a CI run).
disk_use() {
  local used free
  used=$(du -sh target 2>/dev/null | cut -f1)
  free=$(df -h --output=avail . 2>/dev/null | tail -n 1 | tr -d ' ')
  echo "target/ ${used:-?}, ${free:-?} free"
}

main() {
  # A CI run builds once on a clean clone: incremental state (4.4 GB on
  # stop 28's run) would only fill its disk.
  if [ "${CI:-}" = true ]; then
    export CARGO_INCREMENTAL=0
  fi
  rm -rf "$LOGS"
  mkdir -p "$LOGS"
  local suites=(checks rust fuzz kotlin python scim json_patch outside)
  local -A titles=(
    [checks]="formatting, lints, docs" [rust]="Rust tests" [fuzz]="fuzz corpora"
    [kotlin]="Kotlin" [python]="Python" [scim]="SCIM compliance"
    [json_patch]="JSON Patch suite" [outside]="outside the repo"
  )
  local lines=() suite status verdict passed failed text total_passed=0 total_failed=0 failures=0
  local started=$SECONDS suite_started
  for suite in "${suites[@]}"; do
    suite_started=$SECONDS
    # Not `if ( … )` nor `( … ) || …`: bash ignores `set -e` inside a
    # subshell whose status is tested, so a failing command would not end
    # the suite. The status is read from PIPESTATUS with -e off instead.
    set +e
    (
      set -euo pipefail
      "suite_$suite"
    ) 2>&1 | tee "$LOGS/$suite.log"
    status=${PIPESTATUS[0]}
    set -e
    read -r verdict passed failed text < <(describe "$suite" "$status" "$LOGS/$suite.log")
    [ "$verdict" = ok ] || failures=$((failures + 1))
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    lines+=("$(printf '%-26s%s (%s)' "${titles[$suite]}" "$text" "$(minutes $((SECONDS - suite_started)))")")
  done
  echo
  echo "== summary ($(minutes $((SECONDS - started))); logs in $LOGS/)"
  printf '%s\n' "${lines[@]}"
  printf '%-26s%s\n' "total" "$total_passed passed, $total_failed failed"
  printf '%-26s%s\n' "disk" "$(disk_use)"
  if [ "$failures" -gt 0 ]; then
    echo "$failures of ${#suites[@]} suites FAILED"
    exit 1
  fi
}

# Sourcing the script (to try the parsers on saved output) runs nothing.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  main
fi
