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
VENV="$SCRIPT_DIR/.venv"
REQUIREMENTS="$SCRIPT_DIR/requirements.txt"
SERVER_BIN="${SCIM_SERVER_BIN:-$SCRIPT_DIR/../target/release/scim-server}"
STARTUP_TIMEOUT="${CONFORMANCE_STARTUP_TIMEOUT:-30}"
PYTHON="${PYTHON:-python3}"
LOG_TAIL_LINES=60

usage() {
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
    echo "run.sh: error: $*" >&2
    exit 2
}

DATABASE_URL_ARG=""
TESTER_ARGS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --database-url)
            [[ $# -ge 2 && -n "$2" ]] || die "--database-url needs a value"
            DATABASE_URL_ARG="$2"
            shift 2
            ;;
        --database-url=*)
            DATABASE_URL_ARG="${1#*=}"
            [[ -n "$DATABASE_URL_ARG" ]] || die "--database-url needs a value"
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        --)
            shift
            TESTER_ARGS=("$@")
            break
            ;;
        *)
            usage >&2
            die "unknown argument: $1"
            ;;
    esac
done

[[ -x "$SERVER_BIN" ]] || die "server binary not found or not executable: $SERVER_BIN
  build it first (cargo build --release) or point SCIM_SERVER_BIN at it"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (python3 with the venv module is required)"

# --- Python virtualenv -------------------------------------------------------

sha256_of() {
    "$PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
}

ensure_venv() {
    if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        echo "run.sh: creating virtualenv $VENV"
        "$PYTHON" -m venv --clear "$VENV" ||
            die "'$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    local stamp="$VENV/.requirements.sha256" want
    want="$(sha256_of "$REQUIREMENTS")"
    if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
        echo "run.sh: installing $REQUIREMENTS"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" ||
            die "pip install -r $REQUIREMENTS failed"
        echo "$want" >"$stamp"
    fi
}

ensure_venv

# --- Server ------------------------------------------------------------------

WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/scim-conformance.XXXXXX")"
SERVER_LOG="$WORKDIR/server.log"
TESTER_OUT="$WORKDIR/tester.out"
SERVER_PID=""

cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ "${CONFORMANCE_KEEP_TMP:-0}" == 1 ]]; then
        echo "run.sh: kept $WORKDIR" >&2
    else
        rm -rf "$WORKDIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

print_server_log_tail() {
    echo "---- scim-server log (last $LOG_TAIL_LINES lines) ----" >&2
    tail -n "$LOG_TAIL_LINES" "$SERVER_LOG" >&2 2>/dev/null || true
    echo "---- end of scim-server log ----" >&2
}

if [[ -n "$DATABASE_URL_ARG" ]]; then
    DB_URL="$DATABASE_URL_ARG"
else
    DB_FILE="$WORKDIR/scim.db"
    : >"$DB_FILE" # an empty file is a valid empty SQLite database
    DB_URL="sqlite://$DB_FILE"
fi

PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
TOKEN="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))')"
ROOT_URL="http://127.0.0.1:$PORT"
BASE_URL="$ROOT_URL/scim/v2"

# Never print a database password.
echo "run.sh: starting $SERVER_BIN on 127.0.0.1:$PORT with $(printf '%s' "$DB_URL" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#')"
# DATABASE_URL is removed from the server's environment so that only the URL
# given on the command line is used.
env -u DATABASE_URL SCIM_BOOTSTRAP_TOKEN="$TOKEN" RUST_LOG="${RUST_LOG:-info}" \
    "$SERVER_BIN" serve --listen "127.0.0.1:$PORT" --database-url "$DB_URL" \
    >"$SERVER_LOG" 2>&1 </dev/null &
SERVER_PID=$!

healthy() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 2 "$ROOT_URL/healthz" 2>/dev/null
    else
        "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
            "$ROOT_URL/healthz" >/dev/null 2>&1
    fi
}

deadline=$((SECONDS + STARTUP_TIMEOUT))
until healthy; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        code=0
        wait "$SERVER_PID" 2>/dev/null || code=$?
        SERVER_PID=""
        echo "run.sh: error: scim-server exited (code $code) before answering /healthz" >&2
        print_server_log_tail
        exit 2
    fi
    if ((SECONDS >= deadline)); then
        echo "run.sh: error: scim-server did not answer 200 on $ROOT_URL/healthz within ${STARTUP_TIMEOUT}s" >&2
        print_server_log_tail
        exit 2
    fi
    sleep 0.2
done
echo "run.sh: scim-server is up (pid $SERVER_PID), SCIM base URL $BASE_URL"

# --- Conformance checks ------------------------------------------------------

set +e
PYTHONUNBUFFERED=1 "$VENV/bin/python" "$SCRIPT_DIR/run_tester.py" \
    --url "$BASE_URL" --token "$TOKEN" ${TESTER_ARGS[@]+"${TESTER_ARGS[@]}"} 2>&1 |
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
