#!/usr/bin/env python3
"""A registry that misbehaves, as the pull-through cache's upstream in t6004.

  upstream.py PORTFILE DIR

Serves /v2/ and GET/HEAD /v2/<kind>/<name>/blobs/<digest> for the blob
files in DIR (named by their sha256 hex), on 127.0.0.1 at a free port,
which it writes to PORTFILE once it listens. <kind> says how it answers:

  good   the blob
  wrong  other bytes of the same length
  short  a Content-Length of the blob's, half of it, then the end
  slow   half of the blob, then nothing for a minute
  long   the blob and more bytes, without a Content-Length
  trickle      half of the blob, then the rest in ten pieces 0.7 s
               apart (a slow fetch, never stalled)
  wrongtrickle other bytes, as trickle sends them

and GET/HEAD /v2/<kind>/<name>/manifests/<ref> for the OCI image manifest
in DIR/manifests/<ref> (any kind), unless DIR/mode holds a status (500,
401, 404) to answer instead.

Each GET of a blob appends "<kind> <digest>" to DIR/gets.log, and each
HEAD to DIR/heads.log, so that the test counts how often the upstream was
asked, and how.
"""
import hashlib
import http.server
import os
import socketserver
import sys
import threading
import time

DIR = sys.argv[2]
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=b"", length=None):
        self.send_response(code)
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        self.send_header("Content-Length",
                         str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = self.path.split("/")
        if self.path in ("/v2/", "/v2"):
            return self.answer(200, b"{}")
        if len(parts) == 6 and parts[4] == "manifests":
            return self.manifest(parts[5])
        # /v2/<kind>/<name>/blobs/<digest>
        if len(parts) != 6 or parts[4] != "blobs":
            return self.answer(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
        kind, digest = parts[2], parts[5]
        path = os.path.join(DIR, digest.split(":")[-1])
        if not os.path.exists(path):
            return self.answer(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        size = os.path.getsize(path)
        log = "gets.log" if self.command == "GET" else "heads.log"
        with LOCK, open(os.path.join(DIR, log), "a") as f:
            f.write("%s %s\n" % (kind, digest))
        self.send_response(200)
        self.send_header("Docker-Content-Digest", digest)
        self.send_header("Content-Type", "application/octet-stream")
        if kind == "long":
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            self.send_body(kind, path, size)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def manifest(self, ref):
        try:
            with open(os.path.join(DIR, "mode")) as f:
                mode = int(f.read())
        except (OSError, ValueError):
            mode = 200
        path = os.path.join(DIR, "manifests", os.path.basename(ref))
        if mode == 200 and not os.path.exists(path):
            mode = 404
        if mode != 200:
            return self.answer(mode, b'{"errors":[{"code":"UNKNOWN"}]}')
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type",
                         "application/vnd.oci.image.manifest.v1+json")
        self.send_header("Docker-Content-Digest",
                         "sha256:" + hashlib.sha256(body).hexdigest())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_body(self, kind, path, size):
        if kind == "wrong":
            self.wfile.write(b"x" * size)
            return
        if kind in ("trickle", "wrongtrickle"):
            with open(path, "rb") as f:
                data = f.read() if kind == "trickle" else b"x" * size
            half = size // 2
            self.wfile.write(data[:half])
            self.wfile.flush()
            for i in range(10):
                time.sleep(0.7)
                self.wfile.write(data[half + (size - half) * i // 10:
                                      half + (size - half) * (i + 1) // 10])
                self.wfile.flush()
            return
        with open(path, "rb") as f:
            if kind in ("short", "slow"):
                self.wfile.write(f.read(size // 2))
                self.wfile.flush()
                if kind == "slow":
                    time.sleep(60)
                self.close_connection = True
                self.connection.shutdown(2)
                return
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                self.wfile.write(chunk)
        if kind == "long":
            self.wfile.write(b"and more")
            self.close_connection = True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
