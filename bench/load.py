#!/usr/bin/env python3
"""Registry workloads for bench/bench.sh, the same for berth and the
reference registry: plain HTTP/1.1 with keep-alive, one asyncio loop.

  load.py upload BASE REPO FILE             monolithic (POST, PUT) -> MB/s
  load.py chunked BASE REPO FILE CHUNK      POST, PATCHes, PUT     -> MB/s
  load.py smallblobs BASE REPO N CONC SIZE  N blobs, CONC at once
                                            -> blobs/s p99-ms
  load.py tags BASE REPO N                  a manifest under N tags
  load.py tagslist BASE REPO RUNS           GET tags/list  -> median ms
  load.py repos BASE PREFIX N CONC          N repositories (one blob each)
  load.py catalog BASE N RUNS               walk /v2/_catalog?n=100 by its
                                            Link headers -> median ms
  load.py manifest BASE REPO                push a config blob and print a
                                            manifest that refers to it

Every request must succeed; a wrong status stops the run with a message.
"""
import asyncio
import hashlib
import json
import os
import statistics
import sys
import time
import urllib.parse

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.r = self.w = None

    async def open(self):
        self.r, self.w = await asyncio.open_connection(self.host, self.port)

    async def request(self, method, path, body=b"", headers=None, file=None,
                      length=None):
        if self.w is None:
            await self.open()
        h = {"Host": "%s:%d" % (self.host, self.port)}
        h.update(headers or {})
        if file is not None:
            h["Content-Length"] = str(length)
        elif method in ("POST", "PUT", "PATCH") or body:
            h["Content-Length"] = str(len(body))
        head = "%s %s HTTP/1.1\r\n%s\r\n" % (
            method, path, "".join("%s: %s\r\n" % kv for kv in h.items()))
        self.w.write(head.encode())
        if file is not None:
            await asyncio.get_running_loop().sendfile(
                self.w.transport, file, 0, length)
        elif body:
            self.w.write(body)
        await self.w.drain()
        return await self.response(method == "HEAD")

    async def response(self, head_only):
        line = await self.r.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        status = int(line.split()[1])
        hdrs = {}
        while True:
            line = await self.r.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode().partition(":")
            hdrs[k.strip().lower()] = v.strip()
        body = b""
        if head_only or status in (204, 304):
            pass
        elif "content-length" in hdrs:
            body = await self.r.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.r.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.r.readline()
                    break
                body += await self.r.readexactly(size)
                await self.r.readline()
        if hdrs.get("connection", "").lower() == "close":
            self.w.close()
            self.w = None
        return status, hdrs, body

    def close(self):
        if self.w:
            self.w.close()


def expect(what, status, want):
    if status not in want:
        sys.exit("load.py: %s: status %d, wanted %s" % (what, status, want))


def path_of(location):
    u = urllib.parse.urlsplit(location)
    return u.path + ("?" + u.query if u.query else "")


def with_digest(location, digest):
    p = path_of(location)
    return p + ("&" if "?" in p else "?") + "digest=" + digest


async def push_blob(c, repo, data, digest=None):
    digest = digest or "sha256:" + hashlib.sha256(data).hexdigest()
    st, h, _ = await c.request("POST", "/v2/%s/blobs/uploads/" % repo)
    expect("POST upload", st, (202,))
    st, _, _ = await c.request("PUT", with_digest(h["location"], digest), data,
                               {"Content-Type": "application/octet-stream"})
    expect("PUT upload", st, (201,))
    return digest


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


async def upload(base, repo, path):
    digest = file_digest(path)
    size = os.path.getsize(path)
    c = Conn(base)
    t = time.monotonic()
    st, h, _ = await c.request("POST", "/v2/%s/blobs/uploads/" % repo)
    expect("POST upload", st, (202,))
    with open(path, "rb") as f:
        st, _, _ = await c.request("PUT", with_digest(h["location"], digest),
                                   file=f, length=size)
    expect("PUT upload", st, (201,))
    print("%.1f" % (size / (time.monotonic() - t) / 1e6))
    c.close()


async def chunked(base, repo, path, chunk):
    digest = file_digest(path)
    size = os.path.getsize(path)
    c = Conn(base)
    t = time.monotonic()
    st, h, _ = await c.request("POST", "/v2/%s/blobs/uploads/" % repo)
    expect("POST upload", st, (202,))
    loc = h["location"]
    with open(path, "rb") as f:
        off = 0
        while off < size:
            data = f.read(chunk)
            st, h, _ = await c.request(
                "PATCH", path_of(loc), data,
                {"Content-Type": "application/octet-stream",
                 "Content-Range": "%d-%d" % (off, off + len(data) - 1)})
            expect("PATCH", st, (202,))
            loc = h["location"]
            off += len(data)
    st, _, _ = await c.request("PUT", with_digest(loc, digest))
    expect("PUT upload", st, (201,))
    print("%.1f" % (size / (time.monotonic() - t) / 1e6))
    c.close()


async def smallblobs(base, repo, n, conc, size):
    blobs = [os.urandom(size) for _ in range(n)]
    lat = []
    todo = list(range(n))

    async def worker():
        c = Conn(base)
        while todo:
            i = todo.pop()
            t = time.monotonic()
            await push_blob(c, repo, blobs[i])
            lat.append(time.monotonic() - t)
        c.close()

    t = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(conc)))
    wall = time.monotonic() - t
    lat.sort()
    print("%.1f %.2f" % (n / wall, lat[min(len(lat) - 1, int(len(lat) * 0.99))]
                          * 1e3))


async def manifest(base, repo):
    c = Conn(base)
    cfg = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    d = await push_blob(c, repo, cfg)
    c.close()
    print(json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                      "config": {"mediaType":
                                 "application/vnd.oci.image.config.v1+json",
                                 "digest": d, "size": len(cfg)},
                      "layers": []}, separators=(",", ":")))


async def tags(base, repo, n):
    c = Conn(base)
    cfg = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    d = await push_blob(c, repo, cfg)
    m = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType":
                               "application/vnd.oci.image.config.v1+json",
                               "digest": d, "size": len(cfg)},
                    "layers": []}).encode()
    for i in range(n):
        st, _, _ = await c.request("PUT", "/v2/%s/manifests/t%05d" % (repo, i),
                                   m, {"Content-Type": OCI_MANIFEST})
        expect("PUT manifest", st, (201,))
    c.close()


async def tagslist(base, repo, runs):
    c = Conn(base)
    times = []
    for _ in range(runs):
        t = time.monotonic()
        st, _, body = await c.request("GET", "/v2/%s/tags/list" % repo)
        times.append(time.monotonic() - t)
        expect("GET tags/list", st, (200,))
    print("%.2f %d" % (statistics.median(times) * 1e3,
                       len(json.loads(body)["tags"])))
    c.close()


async def repos(base, prefix, n, conc):
    todo = list(range(n))

    async def worker():
        c = Conn(base)
        while todo:
            i = todo.pop()
            await push_blob(c, "%s%05d" % (prefix, i), b"repo %d" % i)
        c.close()

    await asyncio.gather(*(worker() for _ in range(conc)))


async def catalog(base, n, runs):
    c = Conn(base)
    times = []
    for _ in range(runs):
        t = time.monotonic()
        path, count = "/v2/_catalog?n=100", 0
        while path:
            st, h, body = await c.request("GET", path)
            expect("GET catalog", st, (200,))
            count += len(json.loads(body)["repositories"])
            link = h.get("link", "")
            path = path_of(link[1:link.index(">")]) if link else None
        times.append(time.monotonic() - t)
        if count < n:
            sys.exit("load.py: the catalog listed %d of %d" % (count, n))
    print("%.1f %d" % (statistics.median(times) * 1e3, count))
    c.close()


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd, args = a[0], a[1:]
    ints = lambda xs: [int(x) if x.isdigit() else x for x in xs]
    fn = {"upload": upload, "chunked": chunked, "smallblobs": smallblobs,
          "tags": tags, "tagslist": tagslist, "repos": repos,
          "catalog": catalog, "manifest": manifest}.get(cmd)
    if not fn:
        sys.exit(__doc__)
    asyncio.run(fn(*ints(args)))


if __name__ == "__main__":
    main()
