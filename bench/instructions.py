#!/usr/bin/env python3
"""Instructions per request, counted by valgrind's callgrind: the same count for the same build,
data and requests, however busy the machine is, so a change can be judged where req/s only
move with the noise. The server runs under callgrind with one HTTP worker; the requests go one
at a time over one keep-alive connection; counting starts after as many requests again have
warmed caches and prepared statements. Counted are the instructions of the server's tasks
(HTTP and the blocking pool), not those of SQLite's checkpoint thread or of connections the
pool opens.

    python3 bench/instructions.py --database-url URL [--scenario get|eq|page|co] [--requests N]

The database must hold users already (`bench/load.py --database-url URL` fills one). Prints
the count per request and leaves the profile for `callgrind_annotate --inclusive=yes FILE`.
Needs valgrind (`apt-get install valgrind`).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from common import DEFAULT_BINARY, TOKEN, Client, free_port  # noqa: E402

PATHS = {
    "get": lambda u: "/Users/" + u["id"],
    "eq": lambda u: "/Users?filter=" + urllib.parse.quote(f'userName eq "{u["userName"]}"', safe=""),
    # user0001234@example.com: the 100 users from user0001200 on, a page of 10.
    "page": lambda u: "/Users?count=10&filter="
    + urllib.parse.quote(f'userName sw "{u["userName"].split("@")[0][:-2]}"', safe=""),
    # bench/load.py's users have a work address <number>@corp...
    "co": lambda u: "/Users?count=10&filter="
    + urllib.parse.quote(f'emails.value co "{u["userName"][4:11]}@corp"', safe=""),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--scenario", choices=sorted(PATHS), default="get")
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    out = os.path.join(tempfile.mkdtemp(prefix="scim-instructions-"), "callgrind.out")
    port = free_port()
    env = dict(os.environ, SCIM_BOOTSTRAP_TOKEN=TOKEN, RUST_LOG="warn")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--instr-atstart=no",
         "--collect-atstart=no", "--toggle-collect=tokio::runtime::task::raw::poll*",
         args.binary, "serve", "--listen", f"127.0.0.1:{port}",
         "--database-url", args.database_url, "--workers", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c = wait_for(port)
        n = args.requests
        users = c.call("GET", f"/Users?startIndex=1000&count={2 * n}&attributes=userName")["Resources"]
        if len(users) < 2 * n:
            raise SystemExit(f"the database holds fewer than {2 * n + 1000} users")
        paths = [PATHS[args.scenario](u) for u in users]
        for p in paths[:n]:
            c.call("GET", p)
        control(proc, "-i", "on")
        for p in paths[n:]:
            c.call("GET", p)
        control(proc, "-i", "off")
        control(proc, "-d")
    finally:
        proc.terminate()
        proc.wait()
    # One file per dump: the one asked for, and the (empty) one at exit.
    total = 0
    for name in os.listdir(os.path.dirname(out)):
        with open(os.path.join(os.path.dirname(out), name)) as f:
            for line in f:
                if line.startswith("totals:"):
                    total += int(line.split()[1])
    print(f"{args.scenario}: {total // args.requests:,} instructions a request "
          f"({args.requests} requests; profile in {os.path.dirname(out)})")


def wait_for(port):
    """The server under valgrind starts slowly: wait for /healthz."""
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            c = Client(port)
            c.conn.request("GET", "/healthz")
            if c.conn.getresponse().status == 200:
                return Client(port)
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("server did not start")


def control(proc, *command):
    """callgrind_control; the instrumentation switch takes effect as threads next run."""
    subprocess.run(["callgrind_control", *command, str(proc.pid)], check=True,
                   capture_output=True)
    time.sleep(1)


if __name__ == "__main__":
    main()
