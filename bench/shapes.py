#!/usr/bin/env python3
"""Server memory under filters of ever new shapes: a token holder may send a filter of a new
shape (attributes, operators, nesting) with every request, and each shape a database
connection keeps prepared costs memory. Starts the server on a fresh database (SQLite unless
--database-url says otherwise), sends --shapes distinct filters of --terms comparisons each
over --connections keep-alive connections, --passes times (so that every database connection
runs the shapes it may keep), and prints the server's RSS every 1,000 requests, then the rate
and the peak.

    python3 bench/shapes.py [--database-url URL] [--shapes 3000] [--terms 2] [--passes 4]
"""

import argparse
import concurrent.futures
import itertools
import os
import random
import tempfile
import threading
import time
import urllib.parse

from common import DEFAULT_BINARY, ENTERPRISE, Client, free_port, rss_mb, start_server

ATTRIBUTES = ["userName", "displayName", "title", "nickName", "profileUrl", "userType",
              "locale", "timezone", "preferredLanguage", "externalId", "name.givenName",
              "name.familyName", "name.formatted", "emails.value", "phoneNumbers.value",
              "addresses.locality", f"{ENTERPRISE}:department", f"{ENTERPRISE}:employeeNumber"]
OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt"]


def shapes(count, terms):
    """`count` distinct filters of `terms` comparisons each, the same on every run."""
    comparisons = [f'{a} {o} "x"' for a, o in itertools.product(ATTRIBUTES, OPERATORS)]
    rng, seen = random.Random(7), set()
    while len(seen) < count:
        f = " or ".join(rng.sample(comparisons, terms))
        if f not in seen:
            seen.add(f)
            yield f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--database-url")
    ap.add_argument("--shapes", type=int, default=3000)
    ap.add_argument("--terms", type=int, default=2)
    ap.add_argument("--passes", type=int, default=4)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="scim-bench-")
    url = args.database_url or f"sqlite://{tmp}/shapes.db"
    port = free_port()
    with open(os.path.join(tmp, "server.log"), "w") as log:
        proc = start_server(args.binary, url, port, log)
        try:
            Client(port).call("POST", "/Users", {"schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x"})
            local = threading.local()

            def get(f):
                # One keep-alive connection per sending thread.
                if not hasattr(local, "client"):
                    local.client = Client(port)
                local.client.call("GET", "/Users?count=1&filter=" + urllib.parse.quote(f))

            filters = list(shapes(args.shapes, args.terms)) * args.passes
            print(f"start: {rss_mb(proc.pid)} MB", flush=True)
            peak, started = 0, time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(args.connections) as pool:
                for at in range(0, len(filters), 1000):
                    batch = filters[at:at + 1000]
                    list(pool.map(get, batch))
                    rss = rss_mb(proc.pid)
                    peak = max(peak, rss)
                    print(f"{at + len(batch):>7} requests: {rss} MB", flush=True)
            took = time.perf_counter() - started
            print(f"{len(filters) / took:.0f} requests/s, peak RSS {peak} MB")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
