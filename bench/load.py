#!/usr/bin/env python3
"""Load benchmark (issue #7): the scenarios IdPs and admins drive, under load from `wrk`, at a
million users, each reported as req/s, p50, p99, errors and as a fraction of the ceiling.

The release server starts on a free loopback port, is filled through /Bulk with --users users
(see `common.user`) and two groups, one of 100,000 members and one of 10, unless the database
holds them already, and each scenario runs for --duration seconds. The ceiling is
`target/release/examples/ceiling`, a minimal actix-web handler returning a fixed 1 KB JSON
body, measured with the same wrk settings in the same run, right before the scenarios and
again after them (the server idle meanwhile): the practical throughput of one HTTP round trip
on this machine. Fractions are of the mean of the two. The server's peak RSS over the whole run
is read from /proc.

    cargo build --release --bins --example ceiling
    python3 bench/load.py [--database-url URL] [--users 1000000] [--duration 10]

Needs `wrk` (Debian: `apt-get install wrk`). A SQLite file or PostgreSQL schema given with
--database-url is kept, so a second run measures without filling again. The users a creating
scenario made are deleted right after it (through /Bulk, in the server's peak RSS): they
numbered 65,000 to 90,000 a run, and a SQLite file that had grown to 2.4 million users that way
answered `co` at a tenth of its rate. The members the PATCH scenarios add stay (a few thousand a
run). Other work on the machine moves the absolute figures; the ratios to the ceiling are what
to compare across runs.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

from common import (ACME, BULK, DEFAULT_BINARY, GROUP, PATCH_OP, TOKEN, Client, analyze,
                    declare_extension, fill_to, free_port, peak_rss_mb, start_server, user)

BIG, SMALL = 100_000, 10
CEILING_BINARY = os.path.join(os.path.dirname(__file__), "..", "target", "release", "examples",
                              "ceiling")

# Runs in every wrk thread. `setup` numbers the threads so that generated names never collide
# across threads or runs; `done` prints one JSON line that `run_wrk` reads.
LUA_PRELUDE = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
counter = 0
wrk.headers["Authorization"] = "Bearer TOKEN"
wrk.headers["Content-Type"] = "application/scim+json"
function init(args)
  math.randomseed(tid * 7919 + os.time())
end
function enc(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
function users(fmt, ...)
  return "/scim/v2/Users?" .. string.format(fmt, ...)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"status_errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status, e.status))
end
"""


def lua_list(name, values):
    return f"local {name} = {{" + ",".join(json.dumps(v) for v in values) + "}\n"


def filter_param(template):
    """A `filter=` query parameter whose `{}` holes become Lua format directives: the filter is
    percent-encoded in Python, and Lua fills in the random parts."""
    parts = template.split("{}")
    return "filter=" + "%s".join(urllib.parse.quote(p, safe="").replace("%", "%%") for p in parts)


def scenarios(n, run, ids, big, small, big_adds, small_adds):
    """(name, Lua body of `request()`, users each request creates, extra Lua) in run order:
    reads first, so that they see the filled database, then writes."""
    half = n // 2
    user_json = json.dumps(user(0))
    # Each creating scenario names its users `load-<run>-<scenario>-<thread>-<k>` and gives them
    # badges `<run><scenario><thread><k>`, so neither collides with another run's or scenario's.
    def creator(scenario):
        return (
            'local u = ' + json.dumps(user_json) + '\n'
            'function make(k)\n'
            f'  local name = string.format("load-{run}-{scenario}-%d-%d", tid, k)\n'
            f'  local badge = string.format("{run}{scenario}%02d%07d", tid, k)\n'
            '  return (string.gsub(string.gsub(string.gsub(u, "user0000000@example.com", name .. "@example.com"),'
            ' "ext%-0", "ext-" .. name), \'"badge": 0\', \'"badge": \' .. badge))\n'
            'end\n')
    bulk_ops = 1000
    return [
        ("GET /Users/{id}", 'return wrk.format("GET", "/scim/v2/Users/" .. ids[math.random(#ids)])', 0, ""),
        ("userName eq", 'return wrk.format("GET", users("' + filter_param('userName eq "user{}@example.com"')
         + f'", string.format("%07d", math.random(0, {n - 1}))))', 0, ""),
        ("userName sw, count=10 (100 matches)", 'return wrk.format("GET", users("' + filter_param('userName sw "user{}"')
         + f'&count=10", string.format("%05d", math.random(0, {max(n // 100 - 1, 0)}))))', 0, ""),
        ("emails.value co, count=10", 'return wrk.format("GET", users("' + filter_param('emails.value co "{}@corp"')
         + f'&count=10", string.format("%07d", math.random(0, {n - 1}))))', 0, ""),
        (f"page at startIndex={half:,}, count=10",
         f'return wrk.format("GET", users("startIndex=%d&count=10", {half} + math.random(0, 999)))', 0, ""),
        ("filtered page sorted by userName, count=10 (1,000 matches)", 'return wrk.format("GET", users("' + filter_param('userName sw "user{}"')
         + f'&sortBy=userName&sortOrder=descending&count=10", string.format("%04d", math.random(0, {max(n // 1000 - 1, 0)}))))', 0, ""),
        ("extension badge eq (integer column)", 'return wrk.format("GET", users("' + filter_param(ACME + ':badge eq {}')
         + f'", math.random(0, {n - 1})))', 0, ""),
        ("extension costCenter eq, count=10 (string column, 1 in 1,000)", 'return wrk.format("GET", users("' + filter_param(ACME + ':costCenter eq "cc-{}"')
         + '&count=10", string.format("%04d", math.random(0, 999))))', 0, ""),
        (f"GET /Groups/{{{BIG:,} members}}?excludedAttributes=members",
         f'return wrk.format("GET", "/scim/v2/Groups/{big}?excludedAttributes=members")', 0, ""),
        # The two PATCH scenarios run before the creating ones, under the same conditions: right
        # after a /Bulk scenario the database is still checkpointing or vacuuming its thousands
        # of new rows, which lands on whatever runs next (the first PATCH's p99 was 79 ms there,
        # 13 ms here).
        (f"PATCH add one member, group of {BIG:,}", patch_lua(big), 0, lua_list("adds", big_adds)),
        (f"PATCH add one member, group of {SMALL}", patch_lua(small), 0, lua_list("adds", small_adds)),
        ("POST /Users", 'counter = counter + 1\nreturn wrk.format("POST", "/scim/v2/Users", nil, make(counter))',
         1, creator(1)),
        (f"POST /Bulk, {bulk_ops} creates", 'local ops = {}\n'
         f'for j = 1, {bulk_ops} do counter = counter + 1; ops[j] = \'{{"method":"POST","path":"/Users","bulkId":"b\' .. counter .. \'","data":\' .. make(counter) .. "}}" end\n'
         f'return wrk.format("POST", "/scim/v2/Bulk", nil, \'{{"schemas":["{BULK}"],"Operations":[\' .. table.concat(ops, ",") .. "]}}")',
         bulk_ops, creator(2)),
    ]


def patch_lua(group):
    """Each request adds the next user of `adds` (each thread its own stride), so every PATCH
    changes the group."""
    body = ('{"schemas":["' + PATCH_OP + '"],"Operations":[{"op":"add","path":"members",'
            '"value":[{"value":"\' .. adds[k] .. \'"}]}]}')
    return ('counter = counter + 1\n'
            'local k = ((tid - 1) * 997 + counter) % #adds + 1\n'
            f'return wrk.format("PATCH", "/scim/v2/Groups/{group}", nil, \'{body}\')')


def run_wrk(url, lua, args):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
        script = f.name
    try:
        out = subprocess.run(
            ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
             "--timeout", "30s", "-s", script, url],
            capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def ensure_group(c, name, members):
    found = c.call("GET", "/Groups?" + urllib.parse.urlencode(
        {"filter": f'displayName eq "{name}"', "excludedAttributes": "members"}))["Resources"]
    if found:
        return found[0]["id"]
    out = c.call("POST", "/Bulk", {"schemas": [BULK], "Operations": [{
        "method": "POST", "path": "/Groups", "bulkId": "g",
        "data": {"schemas": [GROUP], "displayName": name,
                 "members": [{"value": m} for m in members]}}]})
    return out["Operations"][0]["location"].rsplit("/", 1)[1]


def measure_ceiling(args, when):
    """The ceiling handler's throughput under the scenarios' wrk settings, measured while the
    SCIM server sits idle."""
    port = free_port()
    ceiling = subprocess.Popen([args.ceiling, f"127.0.0.1:{port}"])
    try:
        time.sleep(0.5)
        top = run_wrk(f"http://127.0.0.1:{port}", LUA_PRELUDE.replace("TOKEN", TOKEN)
                      + 'function request() return wrk.format("GET", "/ceiling") end\n', args)
    finally:
        ceiling.terminate()
        ceiling.wait()
    print(f"ceiling (1 KB fixed body) {when}: {top['rps']:,.0f} req/s, "
          f"p50 {top['p50_us'] / 1000:.2f} ms, p99 {top['p99_us'] / 1000:.2f} ms", flush=True)
    return top


def delete_users(c, prefix):
    """Deletes every user whose userName starts with `prefix`, 1,000 a /Bulk."""
    ids, cursor = [], ""
    while True:
        page = c.call("GET", "/Users?" + urllib.parse.urlencode(
            {"filter": f'userName sw "{prefix}"', "attributes": "id", "count": 1000,
             "cursor": cursor}))
        ids += [r["id"] for r in page["Resources"]]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    for at in range(0, len(ids), 1000):
        out = c.call("POST", "/Bulk", {"schemas": [BULK], "Operations": [
            {"method": "DELETE", "path": f"/Users/{i}"} for i in ids[at:at + 1000]]})
        failed = [o for o in out["Operations"] if o["status"] != "204"]
        if failed:
            raise RuntimeError(f"deleting {prefix}*: {failed[0]}")


def user_ids(c, first, count):
    """`count` user ids in creation order from the `first`-th (0-based)."""
    ids = []
    while len(ids) < count:
        page = c.call("GET", f"/Users?startIndex={first + len(ids) + 1}&count=1000&attributes=id")
        ids += [r["id"] for r in page["Resources"]]
    return ids[:count]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--ceiling", default=CEILING_BINARY)
    ap.add_argument("--database-url")
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", help="run only scenarios whose name contains this")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk: apt-get install wrk (Debian), or brew install wrk")
    for binary in (args.binary, args.ceiling):
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: cargo build --release --bins --example ceiling")
    n = args.users
    if n < BIG + 2 * 20_000:
        sys.exit(f"--users must be at least {BIG + 40_000:,}")
    tmp = tempfile.mkdtemp(prefix="scim-load-")
    url = args.database_url or f"sqlite://{tmp}/bench.db"
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    cores = os.cpu_count()

    port = free_port()
    with open(os.path.join(tmp, "server.log"), "w") as log:
        proc = start_server(args.binary, url, port, log, SCIM_MAX_BODY_BYTES=64 << 20)
        try:
            declare_extension(port)
            t0 = time.time()
            made = fill_to(port, url, n)
            if made:
                took = time.time() - t0
                print(f"{backend}: created {made:,} users by /Bulk in {took:.0f}s ({made / took:,.0f}/s)",
                      flush=True)
            c = Client(port)
            big = ensure_group(c, f"load-{BIG}", user_ids(c, 0, BIG))
            small = ensure_group(c, f"load-{SMALL}", user_ids(c, BIG, SMALL))
            analyze(url)
            print(f"peak RSS after the fill and setup: {peak_rss_mb(proc.pid)} MB", flush=True)
            ids = user_ids(c, n // 3, 1000)
            # Users no group holds yet, from a window chosen afresh each run: a member added by
            # an earlier run would make the PATCH a no-op.
            window = random.Random().randrange(n // 2, n - 40_000)
            adds = user_ids(c, window, 40_000)
            run = int(time.time()) % 1_000_000
            before = measure_ceiling(args, "before the scenarios")
            rows = []
            for name, body, creates, extra in scenarios(n, run, ids, big, small, adds[:20_000], adds[20_000:]):
                if args.only and args.only not in name:
                    continue
                lua = (LUA_PRELUDE.replace("TOKEN", TOKEN) + lua_list("ids", ids) + extra
                       + "function request()\n" + body + "\nend\n")
                r = run_wrk(f"http://127.0.0.1:{port}", lua, args)
                r["name"], r["creates"] = name, creates
                r["rss"] = peak_rss_mb(proc.pid)
                if creates:
                    # What was created, counted by the server: a bulk answers 200 even when
                    # operations inside it fail.
                    tag = 1 if creates == 1 else 2
                    made = c.call("GET", "/Users?" + urllib.parse.urlencode(
                        {"filter": f'userName sw "load-{run}-{tag}-"', "count": 0}))["totalResults"]
                    r["users_per_s"] = made / (r["duration_us"] / 1e6)
                    delete_users(c, f"load-{run}-{tag}-")
                rows.append(r)
                print(f"  {name}: {r['rps']:,.0f} req/s ({r['rps'] / before['rps']:.0%} of the "
                      f"ceiling before), "
                      f"p50 {r['p50_us'] / 1000:.2f} ms, p99 {r['p99_us'] / 1000:.2f} ms, "
                      f"errors {r['errors']}", flush=True)
            after = measure_ceiling(args, "after the scenarios")
        finally:
            rss = peak_rss_mb(proc.pid)
            proc.terminate()
            proc.wait(timeout=60)
    # The machine's speed moves within a run (the ceiling has measured twice as much on one
    # machine minutes apart), so fractions are of the mean of the two measurements.
    top = {"rps": (before["rps"] + after["rps"]) / 2}

    print(f"\n{backend}, {n:,} users, {cores} cores, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s per scenario; ceiling {top['rps']:,.0f} req/s, the mean of "
          f"{before['rps']:,.0f} before the scenarios and {after['rps']:,.0f} after them\n")
    print("| scenario | req/s | of ceiling | p50 (ms) | p99 (ms) | errors | peak RSS so far (MB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['name']} | {r['rps']:,.0f} | {r['rps'] / top['rps']:.1%} | "
              f"{r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | {r['errors']} | {r['rss']} |")
    per_user = {r["name"]: r["users_per_s"] for r in rows if r["creates"]}
    if len(per_user) == 2:
        post, bulk = per_user.values()
        print(f"\nusers/s: POST {post:,.0f}, /Bulk {bulk:,.0f} ({bulk / post:.1f}x)")
    print(f"server peak RSS (VmHWM, fill included): {rss} MB")


if __name__ == "__main__":
    sys.exit(main())
