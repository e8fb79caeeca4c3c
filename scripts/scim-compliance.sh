#!/usr/bin/env bash
# SCIM 2.0 compliance of the served store: builds the `rosterdb` CLI, makes
# a store in a temporary directory with an admin (a role granting `*`, a user
# holding it, a password), serves it with `rosterdb FILE serve` on a free
# loopback port, logs in at POST /v1/authentication for a bearer token and
# runs scim2-tester (`scim2 … test`, from scim2-cli) against /scim/v2.
# Prints the tester's failing checks and a summary line; exits 1 unless the
# tester ran and reported no ERROR or CRITICAL check. The server is stopped
# (SIGTERM) and the directory removed however the script ends.
# The tester versions are pinned: the counts are those of these versions.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  "scim2-cli==0.6.0" "scim2-tester==0.5.2"

cargo build --quiet -p rosterdb-cli
target_dir=$(cargo metadata --format-version 1 --no-deps |
  .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
server_pid=""
stop() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT
# A copy: a build of another checkout into a shared target directory can
# replace the binary while this one runs.
cp "$target_dir/debug/rosterdb" "$work/rosterdb"
rosterdb="$work/rosterdb"

store="$work/scim.redb"
export SCIM_ADMIN_PASSWORD="compliance-run-$$-$RANDOM"
"$rosterdb" --quiet "$store" roles create '{"name":"admins","permissions":["*"]}' >/dev/null
"$rosterdb" --quiet "$store" users create \
  '{"username":"admin","email":"admin@example.com","firstName":"Ada","lastName":"Admin","roles":[1]}' >/dev/null
printf '%s\n' "$SCIM_ADMIN_PASSWORD" | "$rosterdb" --quiet "$store" passwd admin --password-stdin >/dev/null

"$rosterdb" --quiet "$store" serve --addr 127.0.0.1:0 2>"$work/server.log" &
server_pid=$!
url=""
for _ in $(seq 1 200); do
  url=$(sed -n 's|^rosterdb: serving \(http://[0-9.:]*\)$|\1|p' "$work/server.log")
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    echo "scim-compliance: the server did not start" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "scim-compliance: the server did not tell its address" >&2
  exit 1
fi

token=$(.venv/bin/python - "$url/v1/authentication" <<'EOF'
import json, os, sys, urllib.request
body = json.dumps({"username": "admin", "password": os.environ["SCIM_ADMIN_PASSWORD"]}).encode()
request = urllib.request.Request(sys.argv[1], data=body, headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request) as response:
    print(json.load(response)["token"])
EOF
)

# scim2 exits 1 for any check that is not SUCCESS; the verdict is the counts'.
set +e
.venv/bin/scim2 --url "$url/scim/v2" -h "Authorization: Bearer $token" test >"$work/report.txt" 2>&1
set -e
.venv/bin/python - "$work/report.txt" <<'EOF'
import collections, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
statuses = ("SUCCESS", "COMPLIANT", "ACCEPTABLE", "DEVIATION", "ERROR", "CRITICAL", "SKIPPED")
counts = collections.Counter()
for i, line in enumerate(lines):
    word = line.split(" ", 1)[0]
    if word in statuses:
        counts[word] += 1
        if word != "SUCCESS":
            reason = lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1].startswith("  ") else ""
            print(f"  {line}: {reason}")
total = sum(counts.values())
errors = counts["ERROR"] + counts["CRITICAL"]
summary = ", ".join(f"{counts[s]} {s}" for s in statuses if counts[s])
print(f"scim2-tester: {total} checks: {summary or 'none'}; {errors} errors")
if not any(l.startswith("Performing a SCIM compliance check") for l in lines) or counts["SUCCESS"] == 0:
    print("scim-compliance: scim2 did not run its checks:", file=sys.stderr)
    print("\n".join(lines[-20:]), file=sys.stderr)
    sys.exit(1)
sys.exit(1 if errors else 0)
EOF
