#!/usr/bin/env python3
"""Requests curl cannot make: a body cut off by a client that goes away.

  rawhttp.py abort HOST PORT METHOD PATH LENGTH SEND [HEADER...]

sends the request head with "Content-Length: LENGTH" and the HEADERs, then
SEND bytes of random body, then closes the connection without reading
the answer (a client that dies mid-chunk).
"""
import os
import socket
import sys
import time


def abort(host, port, method, path, length, send, headers):
    s = socket.create_connection((host, int(port)))
    head = "%s %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Length: %d\r\n" % (
        method, path, host, port, int(length))
    for h in headers:
        head += h + "\r\n"
    s.sendall((head + "\r\n").encode())
    left = int(send)
    while left > 0:
        n = min(left, 65536)
        s.sendall(os.urandom(n))
        left -= n
    time.sleep(0.3)  # let the server pass what it has to the backend
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    s.close()  # RST: the client is gone


def main():
    if len(sys.argv) < 8 or sys.argv[1] != "abort":
        sys.exit(__doc__)
    abort(*sys.argv[2:8], headers=sys.argv[8:])


if __name__ == "__main__":
    main()
