#!/usr/bin/env python3
"""Write OCI image layouts for the client tests; no container engine needed.

  mkimage.py busybox LAYOUT TAG      one layer: /bin/busybox (static) and
                                     links to it, runnable with /bin/sh
  mkimage.py random LAYOUT TAG N MB  N layers of MB MiB of random data each
  mkimage.py multiarch LAYOUT TAG    an index of a linux/amd64 and a
                                     linux/arm64 image (small random layers)

LAYOUT is created if needed and may hold several tags. Prints the digest
of the manifest (or index) that TAG names.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "ls", "cat", "echo", "true", "uname"]


def put_blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", d)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return "sha256:" + d


def tar_layer(files):
    """files: list of (name, bytes or None for a dir, link target or None)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, link in files:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if link:
                info.type = tarfile.SYMTYPE
                info.linkname = link
                t.addfile(info)
            elif data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                t.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o755
                t.addfile(info, io.BytesIO(data))
    tar = raw.getvalue()
    gz = gzip.compress(tar, compresslevel=1, mtime=0)
    return tar, gz


def image(layout, arch, layers):
    """layers: list of (tar, gz). Returns the manifest descriptor."""
    diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t, _ in layers]
    config = {"architecture": arch, "os": "linux",
              "config": {"Cmd": ["/bin/sh"],
                         "Env": ["PATH=/bin"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created_by": "berth tests/e2e/mkimage.py"}
                          for _ in layers]}
    cdata = json.dumps(config, separators=(",", ":")).encode()
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG,
                           "digest": put_blob(layout, cdata),
                           "size": len(cdata)},
                "layers": [{"mediaType": OCI_LAYER,
                            "digest": put_blob(layout, gz), "size": len(gz)}
                           for _, gz in layers]}
    mdata = json.dumps(manifest, separators=(",", ":")).encode()
    return {"mediaType": OCI_MANIFEST, "digest": put_blob(layout, mdata),
            "size": len(mdata),
            "platform": {"architecture": arch, "os": "linux"}}


def busybox_layer():
    with open(BUSYBOX, "rb") as f:
        bb = f.read()
    files = [("bin", None, None), ("bin/busybox", bb, None)]
    files += [("bin/" + a, None, "busybox") for a in APPLETS]
    return tar_layer(files)


def random_layer(mb, i):
    return tar_layer([("data", None, None),
                      ("data/random-%d" % i, os.urandom(mb << 20), None)])


def save(layout, tag, desc):
    path = os.path.join(layout, "index.json")
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    if os.path.exists(path):
        with open(path) as f:
            index = json.load(f)
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get(
                              "org.opencontainers.image.ref.name") != tag]
    desc = dict(desc)
    desc.pop("platform", None)
    desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    index["manifests"].append(desc)
    with open(path, "w") as f:
        json.dump(index, f)
    print(desc["digest"])


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    kind, layout, tag = sys.argv[1:4]
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    if kind == "busybox":
        desc = image(layout, "amd64", [busybox_layer()])
    elif kind == "random":
        n, mb = int(sys.argv[4]), int(sys.argv[5])
        desc = image(layout, "amd64", [random_layer(mb, i) for i in range(n)])
    elif kind == "multiarch":
        amd = image(layout, "amd64", [busybox_layer()])
        arm = image(layout, "arm64", [random_layer(1, 0)])
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
                 "manifests": [amd, arm]}
        idata = json.dumps(index, separators=(",", ":")).encode()
        desc = {"mediaType": OCI_INDEX, "digest": put_blob(layout, idata),
                "size": len(idata)}
    else:
        sys.exit(__doc__)
    save(layout, tag, desc)


if __name__ == "__main__":
    main()
