#!/usr/bin/env python3
"""CSV import throughput (issue #6): `scim-server import` of --rows generated rows into a fresh
database (a temporary SQLite file, or the PostgreSQL schema of --database-url), in rows/s.

    python3 bench/import.py [--database-url URL] [--rows 100000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from common import DEFAULT_BINARY


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--database-url")
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="scim-bench-")
    url = args.database_url or f"sqlite://{tmp}/bench.db"
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    path = os.path.join(tmp, "people.csv")
    with open(path, "w") as f:
        f.write("first_name,last_name,email,external_id,title,department,phone,active,groups\n")
        for i in range(args.rows):
            group = f"Team {i % 50}"
            f.write(f"Given{i},Family{i},person{i:07d}@example.com,hr-{i},Engineer,Dept {i % 20},"
                    f"555-{i:07d},true,{group};Everyone\n")
    env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn")
    subprocess.run([args.binary, "tenant", "create", "bench"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    t = time.perf_counter()
    out = subprocess.run([args.binary, "import", path, "--tenant", "bench"], env=env,
                         capture_output=True, text=True)
    took = time.perf_counter() - t
    print(out.stdout.strip())
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"{backend}: imported {args.rows} rows (each into 2 groups) in {took:.1f}s, "
          f"{args.rows / took:.0f} rows/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
