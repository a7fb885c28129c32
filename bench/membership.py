#!/usr/bin/env python3
"""Membership benchmark (issue #4): PATCH add-one-member latency on groups of growing size,
and GET /Groups/{id}?excludedAttributes=members on the largest.

Starts the release server on a free loopback port with a fresh database (SQLite temp file by
default, or --database-url for a fresh PostgreSQL schema), fills it through the SCIM API, then
measures sequential requests over one keep-alive connection. Standard library only.

    python3 bench/membership.py [--database-url URL] [--sizes 10,10000,100000] [--samples 300]
"""

import argparse
import concurrent.futures
import os
import sys
import tempfile
import time

from common import DEFAULT_BINARY, GROUP, PATCH_OP, USER, Client, free_port, pct, start_server



def create_users(port, count, threads=4):
    def work(chunk):
        c = Client(port)
        return [c.call("POST", "/Users", {"schemas": [USER], "userName": f"bench-{i}@example.com"})["id"]
                for i in chunk]
    chunks = [range(i, count, threads) for i in range(threads)]
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        ids = [i for part in pool.map(work, chunks) for i in part]
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--database-url")
    ap.add_argument("--sizes", default="10,10000,100000")
    ap.add_argument("--samples", type=int, default=300)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = tempfile.mkdtemp(prefix="scim-bench-")
    url = args.database_url or f"sqlite://{tmp}/bench.db"
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    port = free_port()
    with open(os.path.join(tmp, "server.log"), "w") as log:
        proc = start_server(args.binary, url, port, log, SCIM_MAX_BODY_BYTES=64 << 20)
        try:
            t0 = time.time()
            ids = create_users(port, max(sizes) + args.samples * len(sizes))
            fill = time.time() - t0
            print(f"{backend}: created {len(ids)} users in {fill:.1f}s ({len(ids) / fill:.0f}/s)", flush=True)
            c = Client(port)
            spare = iter(ids[max(sizes):])
            rows = []
            for size in sizes:
                t0 = time.time()
                g = c.call("POST", "/Groups?excludedAttributes=members", {
                    "schemas": [GROUP], "displayName": f"group-{size}",
                    "members": [{"value": i} for i in ids[:size]]})
                made = time.time() - t0
                path = f"/Groups/{g['id']}?excludedAttributes=members"
                lat = []
                for _ in range(args.samples):
                    body = {"schemas": [PATCH_OP], "Operations": [
                        {"op": "add", "path": "members", "value": [{"value": next(spare)}]}]}
                    t = time.perf_counter()
                    c.call("PATCH", path, body)
                    lat.append(time.perf_counter() - t)
                get = []
                for _ in range(args.samples):
                    t = time.perf_counter()
                    c.call("GET", path)
                    get.append(time.perf_counter() - t)
                rows.append((size, made, lat, get))
            print(f"\n{backend}, {os.cpu_count()} cores, {args.samples} sequential requests each")
            print("| members | create group (s) | PATCH add one member p50 / p99 (ms) | GET ?excludedAttributes=members p50 / p99 (ms) |")
            print("| ---: | ---: | ---: | ---: |")
            for size, made, lat, get in rows:
                print(f"| {size:,} | {made:.2f} | {pct(lat, 50):.2f} / {pct(lat, 99):.2f} | {pct(get, 50):.2f} / {pct(get, 99):.2f} |")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
