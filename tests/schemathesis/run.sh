#!/usr/bin/env bash
# The REST API against its own OpenAPI document, with schemathesis: no 5xx,
# every status, content type and body as documented. Starts the release
# binary on a temporary data folder (loopback only), signs the owner in and
# passes the session to schemathesis. Bounded: --max-examples per operation.
#
#   bash tests/schemathesis/run.sh            # after `cargo build --release`
#   EXAMPLES=200 bash tests/schemathesis/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked --quiet
bin=target/release/livedesk
examples=${EXAMPLES:-25}
venv=${SCHEMATHESIS_VENV:-target/schemathesis-venv}
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'schemathesis>=4.32,<5'
fi
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
cat > "$dir/livedesk.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
[storage]
data_dir = "$dir/data"
[log]
level = "warn"
TOML
echo "owner password 1" | "$bin" owner create --config "$dir/livedesk.toml" --email owner@example.com --name Owner >/dev/null
"$bin" serve --config "$dir/livedesk.toml" > "$dir/out.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
login=$(curl -fsS -c "$dir/cookies" -H 'Content-Type: application/json' \
    -d '{"email":"owner@example.com","password":"owner password 1"}' "$base/api/auth/login")
csrf=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["csrf_token"])' "$login")
session=$(awk '$6=="livedesk_session"{print $7}' "$dir/cookies")
test -n "$session" -a -n "$csrf"

# Signing out, changing the owner's password or handing ownership over
# would end the run's own session; they have their own tests.
run() {
    "$venv/bin/schemathesis" run "$base/api/openapi.json" \
        --checks all \
        --exclude-path-regex '^/api/(auth/(logout|password)|staff/[^/]+/(password|transfer-ownership))$' \
        -H "Cookie: livedesk_session=$session" \
        -H "X-CSRF-Token: $csrf" \
        -H "Origin: $base" \
        --max-examples "$examples" \
        --phases examples,coverage,fuzzing \
        --suppress-health-check all \
        --no-color \
        -w 2 2>&1 | tee "$dir/st.log"
    return "${PIPESTATUS[0]}"
}
status=0
run || status=1
# CPython 3.11's parser sometimes fails inside hypothesis while it
# describes a strategy ("AST constructor recursion depth mismatch"): an
# error of the tester, not an answer of the desk. Only when that is the
# sole problem (no failure found) is the run repeated, once.
if [ $status = 1 ] && grep -q "AST constructor recursion depth mismatch" "$dir/st.log" \
    && ! grep -q "^Failures:" "$dir/st.log"; then
    echo "schemathesis hit CPython's AST recursion bug (a tester error, no failure found); running it once more"
    status=0
    run || status=1
fi
kill -0 $pid || { echo "livedesk died during the run:"; cat "$dir/out.log"; exit 1; }
exit $status
