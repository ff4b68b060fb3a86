#!/usr/bin/env python3
"""A registry that wants a Bearer token, as docker's registries do, in front
of a real one; the pull-through cache's upstream in t6005.

  tokenproxy.py PORTFILE DIR TTL USER:PASSWORD BACKEND CAFILE BACKEND-LOGIN

On 127.0.0.1 at a free port, which it writes to PORTFILE once it listens:

  GET /token?service=test&scope=repository:NAME:pull
      the token service: with a Basic login it must be USER:PASSWORD (401
      otherwise), without one the client is anonymous (as Docker Hub
      lets anyone pull public images); the service must be "test" and the
      scope one repository's pull (400 otherwise). It answers a new token
      for that scope, good for TTL seconds ({"token", "expires_in"}), or
      for the number of seconds in DIR/ttl while that file exists.
      Each request appends "<user or -> <service> <scope> <status>" to
      DIR/tokens.log.
  POST /revoke
      forgets every token, as a registry may before they expire
  GET, HEAD /v2/NAME/...
      without a token for repository:NAME:pull that has not expired, 401
      with the challenge (WWW-Authenticate: Bearer realm=".../token",
      service="test",scope="repository:NAME:pull"); with one, the same
      request to BACKEND (https://host:port, a registry that CAFILE
      verifies and that wants BACKEND-LOGIN as Basic), whose answer it
      passes on. Each request appends "<method> <path> <status>
      <auth>" to DIR/requests.log, auth "bearer", "basic" or "none" for
      what the client sent.
"""
import base64
import http.client
import http.server
import json
import os
import secrets
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

PORTFILE, DIR, TTL, LOGIN, BACKEND, CAFILE, BACKEND_LOGIN = sys.argv[1:8]
TTL = int(TTL)
BACKEND_HOST = urllib.parse.urlsplit(BACKEND).netloc
TLS = ssl.create_default_context(cafile=CAFILE)
LOCK = threading.Lock()
TOKENS = {}  # token: (scope, expiry)
PASS = ("Content-Type", "Content-Length", "Docker-Content-Digest", "ETag",
        "Docker-Distribution-Api-Version")


def log(name, line):
    with LOCK, open(os.path.join(DIR, name), "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self):
        if self.path == "/revoke":
            with LOCK:
                TOKENS.clear()
            return self.answer(204)
        return self.answer(404)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/token":
            return self.token(urllib.parse.parse_qs(url.query))
        parts = url.path.split("/")
        # /v2/NAME.../{manifests,blobs}/REF
        if len(parts) < 5 or parts[1] != "v2" or \
                parts[-2] not in ("manifests", "blobs"):
            return self.answer(404)
        scope = "repository:%s:pull" % "/".join(parts[2:-2])
        auth = self.headers.get("Authorization", "none").split(" ")[0]
        status = self.forward(scope)
        log("requests.log", "%s %s %d %s"
            % (self.command, url.path, status, auth.lower()))

    def token(self, q):
        user, status = "-", 200
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            login = base64.b64decode(auth[6:]).decode("utf-8", "replace")
            user = login.split(":")[0]
            if login != LOGIN:
                status = 401
        service = q.get("service", [""])[0]
        scope = q.get("scope", [""])[0]
        if status == 200 and (service != "test" or
                              not scope.startswith("repository:") or
                              not scope.endswith(":pull")):
            status = 400
        log("tokens.log", "%s %s %s %d" % (user, service, scope, status))
        if status != 200:
            return self.answer(status, b'{"details":"no"}',
                               [("Content-Type", "application/json")])
        ttl = TTL
        if os.path.exists(os.path.join(DIR, "ttl")):
            with open(os.path.join(DIR, "ttl")) as f:
                ttl = int(f.read())
        tok = secrets.token_hex(16)
        with LOCK:
            TOKENS[tok] = (scope, time.time() + ttl)
        body = json.dumps({"token": tok, "expires_in": ttl}).encode()
        return self.answer(200, body, [("Content-Type", "application/json")])

    def forward(self, scope):
        auth = self.headers.get("Authorization", "")
        with LOCK:
            scope_until = TOKENS.get(auth[7:]) \
                if auth.startswith("Bearer ") else None
        if not scope_until or scope_until[0] != scope or \
                scope_until[1] < time.time():
            realm = "http://127.0.0.1:%d/token" % self.server.server_address[1]
            self.answer(401, b'{"errors":[{"code":"UNAUTHORIZED",'
                        b'"message":"a token, please"}]}',
                        [("Content-Type", "application/json"),
                         ("WWW-Authenticate",
                          'Bearer realm="%s",service="test",scope="%s"'
                          % (realm, scope))])
            return 401
        conn = http.client.HTTPSConnection(BACKEND_HOST, context=TLS,
                                           timeout=30)
        headers = {"Authorization": "Basic " + base64.b64encode(
            BACKEND_LOGIN.encode()).decode()}
        if self.headers.get("Accept"):
            headers["Accept"] = self.headers["Accept"]
        conn.request(self.command, self.path, headers=headers)
        resp = conn.getresponse()
        self.send_response(resp.status)
        for k in PASS:
            if resp.getheader(k) is not None:
                self.send_header(k, resp.getheader(k))
        self.end_headers()
        if self.command != "HEAD":
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                self.wfile.write(chunk)
        conn.close()
        return resp.status


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
