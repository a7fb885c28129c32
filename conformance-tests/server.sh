# Shared by run.sh and schemathesis.sh (sourced, not run): argument parsing, the Python
# virtualenv, and a freshly started scim-server that is stopped on exit.
#
# The sourcing script sets NAME (for messages), VENV, REQUIREMENTS, USAGE_LINES (the range of
# its header comment that is its usage) and SERVER_RUST_LOG, then calls parse_args "$@",
# ensure_venv and start_server. Afterwards it has ROOT_URL, TOKEN, WORKDIR, SERVER_LOG,
# SERVER_PID, EXTRA_ARGS (what followed `--`) and print_server_log_tail.

SERVER_BIN="${SCIM_SERVER_BIN:-$SCRIPT_DIR/../target/release/scim-server}"
STARTUP_TIMEOUT="${CONFORMANCE_STARTUP_TIMEOUT:-30}"
PYTHON="${PYTHON:-python3}"
LOG_TAIL_LINES=60

usage() {
    sed -n "${USAGE_LINES}p" "$0" | sed 's/^# \{0,1\}//'
}

die() {
    echo "$NAME: error: $*" >&2
    exit 2
}

parse_args() {
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
    command -v curl >/dev/null 2>&1 || die "curl not found"
}

sha256_of() {
    "$PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
}

# Creates the virtualenv, and installs the requirements whenever their file changed.
ensure_venv() {
    if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        echo "$NAME: creating virtualenv $VENV"
        "$PYTHON" -m venv --clear "$VENV" ||
            die "'$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    local stamp="$VENV/.requirements.sha256" want
    want="$(sha256_of "$REQUIREMENTS")"
    if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
        echo "$NAME: installing $REQUIREMENTS"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" ||
            die "pip install -r $REQUIREMENTS failed"
        echo "$want" >"$stamp"
    fi
}

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
        echo "$NAME: kept $WORKDIR" >&2
    else
        rm -rf "$WORKDIR"
    fi
}

print_server_log_tail() {
    echo "---- scim-server log (last $LOG_TAIL_LINES lines) ----" >&2
    tail -n "$LOG_TAIL_LINES" "$SERVER_LOG" >&2 2>/dev/null || true
    echo "---- end of scim-server log ----" >&2
}

healthy() {
    curl -fsS -o /dev/null --max-time 2 "$ROOT_URL/healthz" 2>/dev/null
}

# Starts the server on a free port with a random bootstrap token, on the database given by
# --database-url or a fresh temporary SQLite file, and waits for /healthz.
start_server() {
    WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/scim-$NAME.XXXXXX")"
    SERVER_LOG="$WORKDIR/server.log"
    SERVER_PID=""
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local db_url
    if [[ -n "$DATABASE_URL_ARG" ]]; then
        db_url="$DATABASE_URL_ARG"
    else
        : >"$WORKDIR/scim.db" # an empty file is a valid empty SQLite database
        db_url="sqlite://$WORKDIR/scim.db"
    fi
    local port
    port="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    TOKEN="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))')"
    ROOT_URL="http://127.0.0.1:$port"

    # Never print a database password.
    echo "$NAME: starting $SERVER_BIN on 127.0.0.1:$port with $(printf '%s' "$db_url" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#')"
    # DATABASE_URL is removed from the server's environment so that only the URL given on the
    # command line is used.
    env -u DATABASE_URL SCIM_BOOTSTRAP_TOKEN="$TOKEN" RUST_LOG="${RUST_LOG:-$SERVER_RUST_LOG}" NO_COLOR=1 \
        "$SERVER_BIN" serve --listen "127.0.0.1:$port" --database-url "$db_url" \
        >"$SERVER_LOG" 2>&1 </dev/null &
    SERVER_PID=$!

    local deadline=$((SECONDS + STARTUP_TIMEOUT)) code
    until healthy; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            code=0
            wait "$SERVER_PID" 2>/dev/null || code=$?
            SERVER_PID=""
            echo "$NAME: error: scim-server exited (code $code) before answering /healthz" >&2
            print_server_log_tail
            exit 2
        fi
        if ((SECONDS >= deadline)); then
            echo "$NAME: error: scim-server did not answer 200 on $ROOT_URL/healthz within ${STARTUP_TIMEOUT}s" >&2
            print_server_log_tail
            exit 2
        fi
        sleep 0.2
    done
    echo "$NAME: scim-server is up (pid $SERVER_PID) at $ROOT_URL"
}
