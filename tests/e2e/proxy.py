#!/usr/bin/env python3
"""A forward proxy on loopback, as https_proxy and http_proxy name, for t6005.

  proxy.py PORTFILE LOG

On 127.0.0.1 at a free port, which it writes to PORTFILE once it listens:
CONNECT host:port opens a tunnel (for https), and a request with an
absolute URL (http://host:port/path) is passed on, with "Connection:
close" so that the next one comes on a new connection; nothing is cached.
Each appends "CONNECT host:port" or "METHOD URL" to LOG, so that the test
sees what went through it.
"""
import os
import select
import socket
import socketserver
import sys
import threading
import urllib.parse

LOCK = threading.Lock()


def log(line):
    with LOCK, open(sys.argv[2], "a") as f:
        f.write(line + "\n")


def pipe(a, b):
    """Copy both ways between sockets a and b until one side ends."""
    socks = [a, b]
    while True:
        ready, _, _ = select.select(socks, [], [], 60)
        if not ready:
            return
        for s in ready:
            data = s.recv(1 << 16)
            if not data:
                return
            (b if s is a else a).sendall(data)


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            data = self.request.recv(1 << 16)
            if not data:
                return
            head += data
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
        if method == "CONNECT":
            log("CONNECT " + target)
            host, port = target.rsplit(":", 1)
            up = socket.create_connection((host, int(port)), timeout=30)
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                up.sendall(rest)
        else:
            log(method + " " + target)
            url = urllib.parse.urlsplit(target)
            up = socket.create_connection((url.hostname, url.port or 80),
                                          timeout=30)
            path = url.path + ("?" + url.query if url.query else "")
            fwd = ["%s %s %s" % (method, path, version)]
            # one request a connection, so that each is seen here
            fwd += [h for h in lines[1:]
                    if not h.lower().startswith(("proxy-", "connection:"))]
            fwd.append("Connection: close")
            up.sendall(("\r\n".join(fwd) + "\r\n\r\n").encode("latin-1") +
                       rest)
        try:
            pipe(self.request, up)
        finally:
            up.close()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
