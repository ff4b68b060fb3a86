#!/usr/bin/env python3
"""Write a reference registry's storage tree for bench/import.sh.

  regtree.py DIR REPOS MANIFESTS TAGS POOL POOL_KB UNIQUE_KB

DIR/docker/registry/v2 gets REPOS repositories (nested names, team<k>/
app<i>), each with MANIFESTS OCI image manifests: a config, a layer of
the POOL shared layers (POOL_KB KiB each) and a layer of its own
(UNIQUE_KB KiB); TAGS of them tagged, the others untagged revisions.
The layout is the one distribution's filesystem driver writes: blobs/
sha256/<h2>/<hex>/data, and per repository _layers/ (config and layers),
_manifests/revisions/ and _manifests/tags/<tag>/{current,index}. Prints
what it wrote.
"""
import hashlib
import json
import os
import sys

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def main():
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    top = os.path.join(sys.argv[1], "docker", "registry", "v2")
    repos, manifests, tags, pool, pool_kb, unique_kb = (
        int(x) for x in sys.argv[2:])
    written = set()

    def blob(data):
        d = hashlib.sha256(data).hexdigest()
        if d not in written:
            path = os.path.join(top, "blobs", "sha256", d[:2], d)
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, "data"), "wb") as f:
                f.write(data)
            written.add(d)
        return d

    def link(path, d):
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "link"), "w") as f:
            f.write("sha256:" + d)

    shared = [os.urandom(pool_kb << 10) for _ in range(pool)]
    nbytes = 0
    for i in range(repos):
        name = "team%d/app%d" % (i % 10, i)
        rdir = os.path.join(top, "repositories", name)
        for j in range(manifests):
            cfg = json.dumps({"architecture": "amd64", "os": "linux",
                              "config": {"Env": ["R=%d" % i, "M=%d" % j]},
                              "rootfs": {"type": "layers",
                                         "diff_ids": []}}).encode()
            layers = [shared[(i + j) % pool], os.urandom(unique_kb << 10)]
            descs = []
            for data in layers:
                d = blob(data)
                link(os.path.join(rdir, "_layers", "sha256", d), d)
                descs.append({"mediaType": OCI_LAYER, "size": len(data),
                              "digest": "sha256:" + d})
            c = blob(cfg)
            link(os.path.join(rdir, "_layers", "sha256", c), c)
            m = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                            "config": {"mediaType": OCI_CONFIG,
                                       "size": len(cfg),
                                       "digest": "sha256:" + c},
                            "layers": descs}).encode()
            md = blob(m)
            link(os.path.join(rdir, "_manifests", "revisions", "sha256", md),
                 md)
            if j < tags:
                tdir = os.path.join(rdir, "_manifests", "tags", "v%d" % j)
                link(os.path.join(tdir, "current"), md)
                link(os.path.join(tdir, "index", "sha256", md), md)
            nbytes += len(layers[1]) + len(cfg) + len(m)
    nbytes += pool * (pool_kb << 10)
    print("%d repositories, %d manifests, %d tags, %d blobs, %d bytes"
          % (repos, repos * manifests, repos * min(tags, manifests),
             len(written), nbytes))


if __name__ == "__main__":
    main()
