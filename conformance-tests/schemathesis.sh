#!/usr/bin/env bash
# Fuzz the whole HTTP surface with schemathesis, driven by the server's own /openapi.json,
# against a freshly started scim-server, and fail on any server error (5xx).
#
#   conformance-tests/schemathesis.sh [--database-url URL] [-- SCHEMATHESIS_RUN_ARGS...]
#
# Without --database-url the server gets a fresh temporary SQLite file. For
# PostgreSQL pass the URL of a fresh (empty) database or schema.
#
# Environment:
#   SCIM_SERVER_BIN              server binary (default: ../target/release/scim-server
#                                relative to this script; build it first)
#   SCHEMATHESIS_MAX_EXAMPLES    test cases per operation and phase (default 50)
#   SCHEMATHESIS_SEED            random seed (default 1: a CI run is reproducible)
#   SCHEMATHESIS_WORKERS         concurrent workers (default 1: with more, Python 3.11's ast
#                                module races in hypothesis and the run reports a spurious error)
#   CONFORMANCE_STARTUP_TIMEOUT  seconds to wait for /healthz (default 30)
#   CONFORMANCE_KEEP_TMP=1       keep the temporary directory (server log, reports)
#   PYTHON                       interpreter used to create the venv (default python3)
#
# Exit code: 0 when no server error was found, 1 when one was (or schemathesis
# failed otherwise), 2 when the server or schemathesis could not be started.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAME=schemathesis.sh
VENV="$SCRIPT_DIR/.venv-schemathesis"
REQUIREMENTS="$SCRIPT_DIR/requirements-schemathesis.txt"
USAGE_LINES=2,22
# At `warn` the log holds what matters here: every 5xx is logged as an error with its cause.
SERVER_RUST_LOG=warn
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
SEED="${SCHEMATHESIS_SEED:-1}"
WORKERS="${SCHEMATHESIS_WORKERS:-1}"
# shellcheck source=server.sh
source "$SCRIPT_DIR/server.sh"

parse_args "$@"
ensure_venv
start_server

# --- Fuzzing -----------------------------------------------------------------

# The token comes from the environment (`${SCIM_TOKEN}`), so that it is on no command line.
# /Me answers 501 by design (RFC 7644 §3.11 is not offered); everywhere else every 5xx is a bug.
cat >"$WORKDIR/schemathesis.toml" <<'EOF'
headers = { Authorization = "Bearer ${SCIM_TOKEN}" }

[[operations]]
include-path = "/scim/v2/Me"
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "501"]
EOF

started=$SECONDS
set +e
# Run from the temporary directory: schemathesis keeps a cache in `.schemathesis/` there.
(cd "$WORKDIR" && SCIM_TOKEN="$TOKEN" PYTHONUNBUFFERED=1 "$VENV/bin/schemathesis" \
    --config-file "$WORKDIR/schemathesis.toml" \
    run "$ROOT_URL/openapi.json" \
    --checks not_a_server_error \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --workers "$WORKERS" \
    --request-timeout 10 \
    --generation-database none \
    --no-color \
    --report junit --report-dir "$WORKDIR/report" \
    ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"})
rc=$?
set -e
echo "schemathesis.sh: schemathesis finished in $((SECONDS - started))s with exit code $rc"

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "schemathesis.sh: error: scim-server is no longer running: it exited during the run" >&2
    print_server_log_tail
    exit 1
fi
if grep -q "panicked" "$SERVER_LOG"; then
    echo "schemathesis.sh: error: scim-server panicked during the run" >&2
    grep -n -A3 "panicked" "$SERVER_LOG" | head -n 40 >&2
    rc=1
fi
if [[ $rc -ne 0 ]]; then
    print_server_log_tail
fi
exit "$rc"
