"""Shared pieces of the benchmark scripts: a keep-alive SCIM client and a server started on a
free loopback port with a fresh database. Standard library only."""

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


def pct(samples, p):
    """The p-th percentile of `samples` (seconds) in milliseconds."""
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] * 1000
