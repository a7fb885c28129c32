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
VENV="$SCRIPT_DIR/.venv-schemathesis"
REQUIREMENTS="$SCRIPT_DIR/requirements-schemathesis.txt"
SERVER_BIN="${SCIM_SERVER_BIN:-$SCRIPT_DIR/../target/release/scim-server}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
SEED="${SCHEMATHESIS_SEED:-1}"
WORKERS="${SCHEMATHESIS_WORKERS:-1}"
STARTUP_TIMEOUT="${CONFORMANCE_STARTUP_TIMEOUT:-30}"
PYTHON="${PYTHON:-python3}"
LOG_TAIL_LINES=60

usage() {
    sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
    echo "schemathesis.sh: error: $*" >&2
    exit 2
}

DATABASE_URL_ARG=""
EXTRA_ARGS=()
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
            EXTRA_ARGS=("$@")
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
        echo "schemathesis.sh: creating virtualenv $VENV"
        "$PYTHON" -m venv --clear "$VENV" ||
            die "'$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    local stamp="$VENV/.requirements.sha256" want
    want="$(sha256_of "$REQUIREMENTS")"
    if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
        echo "schemathesis.sh: installing $REQUIREMENTS"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" ||
            die "pip install -r $REQUIREMENTS failed"
        echo "$want" >"$stamp"
    fi
}

ensure_venv

# --- Server ------------------------------------------------------------------

WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/scim-schemathesis.XXXXXX")"
SERVER_LOG="$WORKDIR/server.log"
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
        echo "schemathesis.sh: kept $WORKDIR" >&2
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

# Never print a database password.
echo "schemathesis.sh: starting $SERVER_BIN on 127.0.0.1:$PORT with $(printf '%s' "$DB_URL" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#')"
# At `warn` the log holds what matters here: every 5xx is logged as an error with its cause.
env -u DATABASE_URL SCIM_BOOTSTRAP_TOKEN="$TOKEN" RUST_LOG="${RUST_LOG:-warn}" NO_COLOR=1 \
    "$SERVER_BIN" serve --listen "127.0.0.1:$PORT" --database-url "$DB_URL" \
    >"$SERVER_LOG" 2>&1 </dev/null &
SERVER_PID=$!

healthy() {
    curl -fsS -o /dev/null --max-time 2 "$ROOT_URL/healthz" 2>/dev/null
}

command -v curl >/dev/null 2>&1 || die "curl not found"
deadline=$((SECONDS + STARTUP_TIMEOUT))
until healthy; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        code=0
        wait "$SERVER_PID" 2>/dev/null || code=$?
        SERVER_PID=""
        echo "schemathesis.sh: error: scim-server exited (code $code) before answering /healthz" >&2
        print_server_log_tail
        exit 2
    fi
    if ((SECONDS >= deadline)); then
        echo "schemathesis.sh: error: scim-server did not answer 200 on $ROOT_URL/healthz within ${STARTUP_TIMEOUT}s" >&2
        print_server_log_tail
        exit 2
    fi
    sleep 0.2
done
echo "schemathesis.sh: scim-server is up (pid $SERVER_PID)"

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
