"""Shared pieces of the benchmark scripts: a keep-alive SCIM client and a server started on a
free loopback port with a fresh database. Standard library only."""

import concurrent.futures
import http.client
import json
import os
import socket
import subprocess
import time

TOKEN = "scim_bench_token"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
DEFAULT_BINARY = os.path.join(os.path.dirname(__file__), "..", "target", "release", "scim-server")


class Client:
    """One keep-alive connection with the bootstrap token."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(self, method, path, body=None, expect=(200, 201, 204)):
        headers = {"Authorization": f"Bearer {TOKEN}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/scim+json"
        try:
            self.conn.request(method, "/scim/v2" + path, body=data, headers=headers)
            resp = self.conn.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):
            # The server closed an idle keep-alive connection: connect again, once.
            self.conn.close()
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


def start_server(binary, url, port, log, **env):
    """Starts `binary serve` and waits for /healthz (no fixed sleeps)."""
    env = dict(os.environ, SCIM_BOOTSTRAP_TOKEN=TOKEN, RUST_LOG="warn",
               **{k: str(v) for k, v in env.items()})
    proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}",
                             "--database-url", url], env=env, stdout=log, stderr=log)
    deadline = time.time() + 120
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


def rss_mb(pid, field="VmRSS"):
    """The process's resident set size now (`VmRSS`) or at its peak (`VmHWM`), in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
    return 0


def peak_rss_mb(pid):
    """The process's peak resident set size since it started, in MB."""
    return rss_mb(pid, "VmHWM")


def pct(samples, p):
    """The p-th percentile of `samples` (seconds) in milliseconds."""
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] * 1000


# A tenant extension (issue #5) every benchmark user carries: `badge`, a unique integer, and
# `costCenter`, a string; each is a typed, indexed column.
ACME = "urn:example:bench:2.0:User"
ACME_ATTRIBUTES = [
    {"name": "badge", "type": "integer", "uniqueness": "server"},
    {"name": "costCenter", "type": "string"},
]


def declare_extension(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("PUT", f"/admin/v1/extensions/User/{ACME}",
              body=json.dumps({"attributes": ACME_ATTRIBUTES}),
              headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    resp = c.getresponse()
    resp.read()
    if resp.status not in (200, 201):
        raise RuntimeError(f"declaring the extension: {resp.status}")


def user(i):
    """The i-th benchmark user: a name, two emails, an externalId, an EnterpriseUser department
    and both extension values."""
    return {
        "schemas": [USER, ENTERPRISE, ACME],
        "userName": f"user{i:07d}@example.com",
        "externalId": f"ext-{i}",
        "name": {"givenName": f"Given{i}", "familyName": f"Family{i % 5000}"},
        "emails": [{"value": f"user{i:07d}@corp.example", "type": "work", "primary": True},
                   {"value": f"u{i}@home.example", "type": "home"}],
        ENTERPRISE: {"department": f"dept-{i % 100}"},
        ACME: {"badge": i, "costCenter": f"CC-{i % 1000:04d}"},
    }


def fill(port, start, count, threads, batch=1000):
    """Creates users `start..start+count` through /Bulk requests of `batch` POSTs. The clients
    fill interleaved slices, so an interrupted fill leaves gaps: start such a database over."""
    def work(offset):
        c = Client(port)
        for first in range(start + offset * batch, start + count, threads * batch):
            ops = [{"method": "POST", "path": "/Users", "bulkId": f"u{i}", "data": user(i)}
                   for i in range(first, min(first + batch, start + count))]
            out = c.call("POST", "/Bulk", {"schemas": [BULK], "Operations": ops})
            failed = [o for o in out["Operations"] if o["status"] != "201"]
            if failed:
                raise RuntimeError(f"bulk fill: {failed[:2]}")
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))


def fill_to(port, url, n, threads=2):
    """Fills the server to `n` users unless it holds them already; returns how many it made."""
    c = Client(port)
    have = c.call("GET", "/Users?count=0")["totalResults"]
    if have >= n:
        return 0
    had = have
    if url.startswith("postgres") and have < 20_000:
        # PostgreSQL keeps the plans of foreign-key checks made while the tables were empty
        # (sequential scans) until statistics change; autovacuum analyzes a growing table in
        # production, here (autovacuum may be off) the script does it once after a first slice.
        fill(port, have, 20_000 - have, threads)
        analyze(url)
        have = 20_000
    fill(port, have, n - have, threads)
    return n - had


def analyze(url):
    """On PostgreSQL, what autovacuum does in production (it may be off on a test machine):
    fresh statistics, and a visibility map, without which an index-only scan reads the table
    too. libpq reads the schema from the URL's `options`."""
    if url.startswith("postgres"):
        subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)
