#!/usr/bin/env python3
"""CSV import throughput (issue #6): `scim-server import` of --rows generated rows into a fresh
database (a temporary SQLite file, or the PostgreSQL schema of --database-url), in rows/s. On
PostgreSQL a warm-up import into another tenant and ANALYZE come first (see below).

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
    if url.startswith("postgres"):
        # PostgreSQL keeps plans of foreign-key checks made on empty tables (sequential scans)
        # until statistics change; autovacuum sees to that in production, here a warm-up import
        # into another tenant and ANALYZE do, before the timed import.
        subprocess.run([args.binary, "tenant", "create", "warmup"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        warm = os.path.join(tmp, "warmup.csv")
        with open(warm, "w") as f:
            f.write("first_name,last_name,email,groups\n")
            for i in range(5000):
                f.write(f"W{i},U{i},warm{i}@example.com,Warm {i % 5}\n")
        subprocess.run([args.binary, "import", warm, "--tenant", "warmup"], env=env, check=True,
                       capture_output=True)
        subprocess.run(["psql", url, "-qc", "ANALYZE"], check=True)
    t = time.perf_counter()
    importing = subprocess.Popen([args.binary, "import", path, "--tenant", "bench"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if url.startswith("postgres"):
        # Stands in for autovacuum (often off on test servers): without fresh statistics the
        # growing tables keep plans made when they were small, and the import slows tenfold.
        while importing.poll() is None:
            time.sleep(20)
            subprocess.run(["psql", url, "-qc", "ANALYZE"], check=False)
    stdout, stderr = importing.communicate()
    took = time.perf_counter() - t
    out = subprocess.CompletedProcess(importing.args, importing.returncode, stdout, stderr)
    print(out.stdout.strip())
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"{backend}: imported {args.rows} rows (each into 2 groups) in {took:.1f}s, "
          f"{args.rows / took:.0f} rows/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
