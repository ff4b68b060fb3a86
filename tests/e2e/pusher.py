#!/usr/bin/env python3
"""Push images as a registry client does, fast, for the GC tests.

  pusher.py garbage BASE REPO N SIZE
      push N images to REPO (a small config of its own and a layer of
      SIZE random bytes each, tagged g<i>), then delete each by digest:
      garbage for the GC. Prints the digests of the layers.
  pusher.py race BASE REPO SECONDS WORKERS
      WORKERS clients push to REPO for SECONDS, as docker does: upload a
      fresh layer; HEAD the blobs of REPO:base (a config and a layer the
      test pushed) and the layer of the client's last image, and upload
      that again only when the HEAD says 404; PUT a manifest of the four
      by tag; HEAD each of its blobs; delete it by digest. Every answer
      must be the one the spec gives; a run with a GC beside it must not
      see one wrong answer. Prints "pushes N failures M"; each failure on
      stderr.
  pusher.py images BASE REPO N SIZE PREFIX
      push N images to REPO that stay (a small config and a layer of SIZE
      random bytes each, tagged PREFIX<i>); prints "TAG DIGEST" of each
      once its manifest PUT is acknowledged, flushed at once.
  pusher.py pulls BASE REPO FILE
      pull each image of FILE ("TAG DIGEST" lines) from REPO: its
      manifest must have DIGEST, and each blob it references must hash to
      its digest. Prints "pulled N bad M"; each bad one on stderr.

Through BASE (http:// or https://), with RAWHTTP_CAFILE and RAWHTTP_AUTH
(user:password) as tests/e2e/lib-front.sh sets them for rawhttp.py.
"""
import base64
import hashlib
import http.client
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


class Client:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.tls = u.scheme == "https"
        self.headers = {}
        auth = os.environ.get("RAWHTTP_AUTH")
        if auth:
            self.headers["Authorization"] = "Basic " + base64.b64encode(
                auth.encode()).decode()
        self.conn = None

    def connect(self):
        if self.tls:
            ctx = ssl.create_default_context(
                cafile=os.environ.get("RAWHTTP_CAFILE"))
            return http.client.HTTPSConnection(self.host, self.port,
                                               context=ctx, timeout=60)
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def req(self, method, path, body=None, headers=None):
        """(status, headers, body) of one request, on a kept connection."""
        h = dict(self.headers)
        h.update(headers or {})
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = self.connect()
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, r, data
            except (http.client.HTTPException, OSError):
                # the server closed a kept connection: once more, anew
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(c, repo, data):
    """Monolithic upload (end-4b); the status."""
    st, _, _ = c.req("POST", "/v2/%s/blobs/uploads/?digest=%s" %
                     (repo, digest(data)), data,
                     {"Content-Type": "application/octet-stream"})
    return st


def manifest(config, layers):
    def desc(media, data):
        return {"mediaType": media, "digest": digest(data),
                "size": len(data)}
    return json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": desc(CONFIG, config),
        "layers": [desc(LAYER, data) for data in layers],
    }, separators=(",", ":")).encode()


def put_manifest(c, repo, ref, body):
    st, _, _ = c.req("PUT", "/v2/%s/manifests/%s" % (repo, ref), body,
                     {"Content-Type": MANIFEST})
    return st


def garbage(base, repo, n, size):
    c = Client(base)
    for i in range(n):
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "g": i}).encode()
        layer = os.urandom(size)
        for data in (config, layer):
            if push_blob(c, repo, data) != 201:
                sys.exit("garbage: blob upload failed")
        m = manifest(config, [layer])
        if put_manifest(c, repo, "g%d" % i, m) != 201:
            sys.exit("garbage: manifest PUT failed")
        st, _, _ = c.req("DELETE", "/v2/%s/manifests/%s" % (repo, digest(m)))
        if st != 202:
            sys.exit("garbage: DELETE answered %d" % st)
        print(digest(layer))


def images(base, repo, n, size, prefix):
    c = Client(base)
    for i in range(n):
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "i": "%s%d" % (prefix, i)}).encode()
        layer = os.urandom(size)
        for data in (config, layer):
            if push_blob(c, repo, data) != 201:
                sys.exit("images: blob upload failed")
        m = manifest(config, [layer])
        if put_manifest(c, repo, "%s%d" % (prefix, i), m) != 201:
            sys.exit("images: manifest PUT failed")
        print("%s%d %s" % (prefix, i, digest(m)), flush=True)


def pulls(base, repo, path):
    c = Client(base)
    good = bad = 0
    for line in open(path):
        tag, want = line.split()
        st, _, body = c.req("GET", "/v2/%s/manifests/%s" % (repo, tag),
                            headers={"Accept": MANIFEST})
        ok = st == 200 and digest(body) == want
        if ok:
            m = json.loads(body)
            for d in [m["config"]] + m["layers"]:
                st, _, data = c.req("GET", "/v2/%s/blobs/%s" %
                                    (repo, d["digest"]))
                ok = ok and st == 200 and digest(data) == d["digest"]
        if ok:
            good += 1
        else:
            bad += 1
            print("%s %s: not as pushed" % (tag, want), file=sys.stderr)
    print("pulled %d bad %d" % (good, bad))


class Race:
    def __init__(self, base, repo, seconds):
        self.base, self.repo = base, repo
        self.until = time.monotonic() + seconds
        self.lock = threading.Lock()
        self.pushes = 0
        self.failures = 0
        c = Client(base)
        st, _, body = c.req("GET", "/v2/%s/manifests/base" % repo,
                            headers={"Accept": MANIFEST})
        if st != 200:
            sys.exit("race: %s:base is not there (%d)" % (repo, st))
        m = json.loads(body)
        self.shared = [m["config"]["digest"], m["layers"][0]["digest"]]
        self.config_size = m["config"]["size"]
        self.layer_size = m["layers"][0]["size"]

    def fail(self, w, what):
        with self.lock:
            self.failures += 1
        print("worker %d: %s" % (w, what), file=sys.stderr)

    def worker(self, w):
        c = Client(self.base)
        repo = self.repo
        last = None
        i = 0
        while time.monotonic() < self.until:
            i += 1
            fresh = os.urandom(40000)
            st = push_blob(c, repo, fresh)
            if st != 201:
                self.fail(w, "upload of a fresh layer: %d" % st)
                continue
            for d in self.shared:
                st, _, _ = c.req("HEAD", "/v2/%s/blobs/%s" % (repo, d))
                if st != 200:
                    self.fail(w, "HEAD of %s, which base uses: %d" % (d, st))
            layers = [fresh]
            if last is not None:
                st, _, _ = c.req("HEAD", "/v2/%s/blobs/%s" %
                                 (repo, digest(last)))
                if st == 404:
                    st = push_blob(c, repo, last)
                    if st != 201:
                        self.fail(w, "upload again of a layer: %d" % st)
                        continue
                elif st != 200:
                    self.fail(w, "HEAD of the last layer: %d" % st)
                    continue
                layers.append(last)
            # the config and layer of base, by descriptor: sizes known
            body = json.dumps({
                "schemaVersion": 2, "mediaType": MANIFEST,
                "config": {"mediaType": CONFIG, "digest": self.shared[0],
                           "size": self.config_size},
                "layers": [{"mediaType": LAYER, "digest": self.shared[1],
                            "size": self.layer_size}] +
                [{"mediaType": LAYER, "digest": digest(x), "size": len(x)}
                 for x in layers],
            }, separators=(",", ":")).encode()
            st = put_manifest(c, repo, "w%d-%d" % (w, i), body)
            if st != 201:
                self.fail(w, "manifest PUT: %d" % st)
                continue
            for d in self.shared + [digest(x) for x in layers]:
                st, _, _ = c.req("HEAD", "/v2/%s/blobs/%s" % (repo, d))
                if st != 200:
                    self.fail(w, "HEAD of %s, which an image uses: %d" %
                              (d, st))
            st, _, _ = c.req("DELETE", "/v2/%s/manifests/%s" %
                             (repo, digest(body)))
            if st != 202:
                self.fail(w, "DELETE of the manifest: %d" % st)
            with self.lock:
                self.pushes += 1
            last = fresh

    def run(self, workers):
        ts = [threading.Thread(target=self.worker, args=(w,))
              for w in range(workers)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print("pushes %d failures %d" % (self.pushes, self.failures))


def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "garbage":
        garbage(a[1], a[2], int(a[3]), int(a[4]))
    elif len(a) == 5 and a[0] == "race":
        Race(a[1], a[2], float(a[3])).run(int(a[4]))
    elif len(a) == 6 and a[0] == "images":
        images(a[1], a[2], int(a[3]), int(a[4]), a[5])
    elif len(a) == 4 and a[0] == "pulls":
        pulls(a[1], a[2], a[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
