#!/usr/bin/env bash
# Run the scim2-tester conformance suite against a freshly started scim-server.
#
#   conformance-tests/run.sh [--database-url URL] [-- RUN_TESTER_ARGS...]
#
# Without --database-url the server gets a fresh temporary SQLite file. For
# PostgreSQL pass the URL of a fresh (empty) database or schema: this script
# does not create databases.
#
# Environment:
#   SCIM_SERVER_BIN              server binary (default: ../target/release/scim-server
#                                relative to this script; build it first)
#   CONFORMANCE_STARTUP_TIMEOUT  seconds to wait for /healthz (default 30)
#   CONFORMANCE_KEEP_TMP=1       keep the temporary directory (server log, SQLite file)
#   PYTHON                       interpreter used to create the venv (default python3)
#
# Exit code: the one of run_tester.py (0 ok, 1 unexpected conformance
# failures, 2 could not run), or 2 when the server does not start.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAME=run.sh
VENV="$SCRIPT_DIR/.venv"
REQUIREMENTS="$SCRIPT_DIR/requirements.txt"
USAGE_LINES=2,18
SERVER_RUST_LOG=info
# shellcheck source=server.sh
source "$SCRIPT_DIR/server.sh"

parse_args "$@"
ensure_venv
start_server
BASE_URL="$ROOT_URL/scim/v2"
TESTER_OUT="$WORKDIR/tester.out"

# --- Conformance checks ------------------------------------------------------

set +e
PYTHONUNBUFFERED=1 "$VENV/bin/python" "$SCRIPT_DIR/run_tester.py" \
    --url "$BASE_URL" --token "$TOKEN" ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"} 2>&1 |
    tee "$TESTER_OUT"
rc=${PIPESTATUS[0]}
set -e

if [[ $rc -ne 0 ]]; then
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "run.sh: scim-server is no longer running: it exited during the checks" >&2
    fi
    print_server_log_tail
    # Repeat the summary so that it stays the closing line of the output.
    summary="$(grep -E '^conformance: [0-9]+ passed, [0-9]+ failed' "$TESTER_OUT" | tail -n 1 || true)"
    if [[ -n "$summary" ]]; then
        echo "$summary"
    fi
fi
exit "$rc"
