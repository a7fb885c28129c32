#!/usr/bin/env python3
"""A walk through every user (issue #7): RFC 9865 cursor paging against startIndex paging, at
the page size maxResults allows (1,000), on a database already filled (by bench/load.py).
Prints the total time of each walk and the time of its first and last ten pages: keyset
pages cost the same all the way, offset pages grow with their depth.

    python3 bench/walk.py --database-url URL [--count 1000]
"""

import argparse
import os
import sys
import tempfile
import time
import urllib.parse

from common import DEFAULT_BINARY, Client, free_port, start_server


def walk(c, count, cursor_paging):
    """Returns (users seen, seconds per page)."""
    seen, times = 0, []
    cursor, start = "", 1
    while True:
        if cursor_paging:
            path = "/Users?" + urllib.parse.urlencode({"cursor": cursor, "count": count})
        else:
            path = f"/Users?startIndex={start}&count={count}"
        t = time.perf_counter()
        page = c.call("GET", path)
        times.append(time.perf_counter() - t)
        n = len(page["Resources"])
        seen += n
        if cursor_paging:
            cursor = page.get("nextCursor")
            if cursor is None:
                return seen, times
        else:
            start += n
            if n < count:
                return seen, times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    url = args.database_url
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    tmp = tempfile.mkdtemp(prefix="scim-bench-")
    port = free_port()
    with open(os.path.join(tmp, "server.log"), "w") as log:
        proc = start_server(args.binary, url, port, log)
        try:
            c = Client(port)
            rows = []
            for name, by_cursor in [("cursor (RFC 9865)", True), ("startIndex", False)]:
                t = time.perf_counter()
                seen, times = walk(c, args.count, by_cursor)
                took = time.perf_counter() - t
                first = sum(times[:10]) / 10 * 1000
                last = sum(times[-10:]) / 10 * 1000
                rows.append((name, seen, len(times), took, first, last))
                print(f"  {name}: {seen} users, {len(times)} pages, {took:.1f} s; "
                      f"first pages {first:.1f} ms, last pages {last:.1f} ms", flush=True)
            print(f"\n{backend}, count={args.count}, {os.cpu_count()} cores")
            print("| paging | users | pages | total (s) | first 10 pages (ms/page) | last 10 pages (ms/page) |")
            print("| --- | ---: | ---: | ---: | ---: | ---: |")
            for name, seen, pages, took, first, last in rows:
                print(f"| {name} | {seen:,} | {pages:,} | {took:.1f} | {first:.1f} | {last:.1f} |")
        finally:
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
