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
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOKEN = "scim_bench_token"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method, path, body=None, expect=(200, 201, 204)):
        headers = {"Authorization": f"Bearer {TOKEN}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/scim+json"
        self.conn.request(method, "/scim/v2" + path, body=data, headers=headers)
        resp = self.conn.getresponse()
        text = resp.read()
        if resp.status not in expect:
            raise RuntimeError(f"{method} {path}: {resp.status} {text[:300]!r}")
        return json.loads(text) if text else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, url, port, log):
    env = dict(os.environ, SCIM_BOOTSTRAP_TOKEN=TOKEN, SCIM_MAX_BODY_BYTES=str(64 << 20),
               RUST_LOG="warn")
    proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}",
                             "--database-url", url], env=env, stdout=log, stderr=log)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def create_users(port, count, threads=4):
    def work(chunk):
        c = Client(port)
        return [c.call("POST", "/Users", {"schemas": [USER], "userName": f"bench-{i}@example.com"})["id"]
                for i in chunk]
    chunks = [range(i, count, threads) for i in range(threads)]
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        ids = [i for part in pool.map(work, chunks) for i in part]
    return ids


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "scim-server"))
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
        proc = start_server(args.binary, url, port, log)
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
