#!/usr/bin/env python3
"""Requests curl cannot make: a body cut off by a client that goes away.

  rawhttp.py abort BASE METHOD PATH LENGTH SEND [HEADER...]

sends the request head to BASE (http://host:port or https://host:port)
with "Content-Length: LENGTH" and the HEADERs, then SEND bytes of random
body, then closes the connection without reading the answer (a client
that dies mid-chunk). With LENGTH "chunked" the body is sent with
Transfer-Encoding: chunked instead. $RAWHTTP_STALL seconds (default 0.3)
pass between the last byte and the close. For https the CA is
$RAWHTTP_CAFILE; $RAWHTTP_AUTH ("user:password") adds basic auth.
"""
import base64
import os
import socket
import ssl
import sys
import time
import urllib.parse


def connect(base):
    u = urllib.parse.urlsplit(base)
    s = socket.create_connection((u.hostname, u.port))
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=os.environ.get("RAWHTTP_CAFILE"))
        s = ctx.wrap_socket(s, server_hostname=u.hostname)
    return s, "%s:%d" % (u.hostname, u.port)


def abort(base, method, path, length, send, headers):
    s, host = connect(base)
    chunked = length == "chunked"
    head = "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (
        method, path, host, "Transfer-Encoding: chunked" if chunked
        else "Content-Length: %d" % int(length))
    auth = os.environ.get("RAWHTTP_AUTH")
    if auth:
        head += "Authorization: Basic %s\r\n" % base64.b64encode(
            auth.encode()).decode()
    for h in headers:
        head += h + "\r\n"
    s.sendall((head + "\r\n").encode())
    left = int(send)
    while left > 0:
        n = min(left, 65536)
        data = os.urandom(n)
        if chunked:
            data = b"%x\r\n%s\r\n" % (n, data)
        s.sendall(data)
        left -= n
    # let the server pass what it has to the backend
    time.sleep(float(os.environ.get("RAWHTTP_STALL", "0.3")))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    s.close()  # RST: the client is gone


def main():
    if len(sys.argv) < 7 or sys.argv[1] != "abort":
        sys.exit(__doc__)
    abort(*sys.argv[2:7], headers=sys.argv[7:])


if __name__ == "__main__":
    main()
