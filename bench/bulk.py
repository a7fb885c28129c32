#!/usr/bin/env python3
"""/Bulk throughput (issue #6): users created per second by 1,000 single POSTs against one
/Bulk request of 1,000 POST operations, on a fresh database.

    python3 bench/bulk.py [--database-url URL] [--operations 1000] [--rounds 3]
"""

import argparse
import os
import sys
import tempfile
import time

from common import BULK, DEFAULT_BINARY, USER, Client, free_port, start_server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--database-url")
    ap.add_argument("--operations", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="scim-bench-")
    url = args.database_url or f"sqlite://{tmp}/bench.db"
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    port = free_port()
    n = args.operations
    with open(os.path.join(tmp, "server.log"), "w") as log:
        proc = start_server(args.binary, url, port, log, SCIM_MAX_BODY_BYTES=64 << 20)
        try:
            c = Client(port)
            singles, bulks = [], []
            for r in range(args.rounds):
                t = time.perf_counter()
                for i in range(n):
                    c.call("POST", "/Users", {"schemas": [USER], "userName": f"single-{r}-{i}"})
                singles.append(n / (time.perf_counter() - t))
                ops = [{"method": "POST", "path": "/Users", "bulkId": f"b{i}",
                        "data": {"schemas": [USER], "userName": f"bulk-{r}-{i}"}} for i in range(n)]
                t = time.perf_counter()
                out = c.call("POST", "/Bulk", {"schemas": [BULK], "Operations": ops})
                bulks.append(n / (time.perf_counter() - t))
                assert all(o["status"] == "201" for o in out["Operations"]), out["Operations"][:3]
            single, bulk = max(singles), max(bulks)
            print(f"{backend}: {n} single POSTs {single:.0f} users/s; one /Bulk of {n} "
                  f"{bulk:.0f} users/s ({bulk / single:.1f}x); best of {args.rounds}")
        finally:
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
