#!/usr/bin/env python3
"""Requests curl cannot make: a body cut off by a client that goes away,
and a body sent slowly.

  rawhttp.py abort BASE METHOD PATH LENGTH SEND [HEADER...]

sends the request head to BASE (http://host:port or https://host:port)
with "Content-Length: LENGTH" and the HEADERs, then SEND bytes of random
body, then closes the connection without reading the answer (a client
that dies mid-chunk). With LENGTH "chunked" the body is sent with
Transfer-Encoding: chunked instead. $RAWHTTP_STALL seconds (default 0.3)
pass between the last byte and the close. For https the CA is
$RAWHTTP_CAFILE; $RAWHTTP_AUTH ("user:password") adds basic auth.

  rawhttp.py slow BASE METHOD PATH LENGTH SECONDS [HEADER...]

sends the request head with "Content-Length: LENGTH" and then one byte of
body a second, for SECONDS at most, as a slow (or hostile) client does;
it stops when the answer comes, and prints "STATUS TIME": the answer's
status (0: none came, or the connection closed without one) and the
seconds it took. It never sends the last byte of the body; after
$RAWHTTP_TRICKLE seconds (default: SECONDS) it sends nothing more, a
body that stalls.
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


def head_of(method, path, host, length, headers):
    """The request head, with Content-Length: length, or with
    Transfer-Encoding: chunked when length is "chunked"."""
    head = "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (
        method, path, host, "Transfer-Encoding: chunked"
        if length == "chunked" else "Content-Length: %d" % int(length))
    auth = os.environ.get("RAWHTTP_AUTH")
    if auth:
        head += "Authorization: Basic %s\r\n" % base64.b64encode(
            auth.encode()).decode()
    for h in headers:
        head += h + "\r\n"
    return (head + "\r\n").encode()


def abort(base, method, path, length, send, headers):
    s, host = connect(base)
    chunked = length == "chunked"
    s.sendall(head_of(method, path, host, length, headers))
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


def slow(base, method, path, length, seconds, headers):
    s, host = connect(base)
    t0 = time.monotonic()
    s.sendall(head_of(method, path, host, length, headers))
    status, got, sent = 0, b"", 0
    while time.monotonic() - t0 < float(seconds):
        s.settimeout(1.0)
        try:
            data = s.recv(4096)
            if not data:
                break
            got += data
            if b"\r\n" in got:
                status = int(got.split(b" ", 2)[1])
                break
        except socket.timeout:
            pass
        except OSError:
            break
        trickle = float(os.environ.get("RAWHTTP_TRICKLE", seconds))
        if sent < int(length) - 1 and time.monotonic() - t0 < trickle:
            try:
                s.sendall(b"x")
                sent += 1
            except OSError:
                break
    print("%d %.1f" % (status, time.monotonic() - t0))
    s.close()


def main():
    if len(sys.argv) >= 7 and sys.argv[1] == "abort":
        abort(*sys.argv[2:7], headers=sys.argv[7:])
    elif len(sys.argv) >= 7 and sys.argv[1] == "slow":
        slow(*sys.argv[2:7], headers=sys.argv[7:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
