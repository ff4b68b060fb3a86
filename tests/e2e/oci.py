#!/usr/bin/env python3
"""Write manifests for the end-to-end tests.

  oci.py manifest [--docker] --config FILE[=MEDIATYPE] [--layer FILE]...
                  [--subject FILE] [--artifact-type T] [--annotation K=V]...
  oci.py index [--docker] [--manifest FILE[=PLATFORM]]... [--subject FILE]
               [--artifact-type T] [--annotation K=V]...
  oci.py digest FILE

Descriptors are made from files (their sha256 and size); a manifest file
given to --manifest or --subject is described with the mediaType its JSON
declares. The JSON goes to stdout, compact and with keys in a fixed order.
"""
import argparse
import hashlib
import json
import os
import sys

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def digest(path):
    with open(path, "rb") as f:
        return "sha256:" + hashlib.sha256(f.read()).hexdigest()


def desc(path, media_type):
    return {"mediaType": media_type, "digest": digest(path),
            "size": os.path.getsize(path)}


def manifest_desc(path):
    with open(path, "rb") as f:
        mt = json.load(f).get("mediaType", OCI_MANIFEST)
    return desc(path, mt)


def split(arg, default):
    path, _, extra = arg.partition("=")
    return path, extra or default


def common(doc, a):
    if a.artifact_type:
        doc["artifactType"] = a.artifact_type
    if a.subject:
        doc["subject"] = manifest_desc(a.subject)
    if a.annotation:
        doc["annotations"] = dict(kv.split("=", 1) for kv in a.annotation)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("manifest")
    m.add_argument("--config", required=True)
    m.add_argument("--layer", action="append", default=[])
    ix = sub.add_parser("index")
    ix.add_argument("--manifest", action="append", default=[])
    for s in (m, ix):
        s.add_argument("--docker", action="store_true")
        s.add_argument("--subject")
        s.add_argument("--artifact-type")
        s.add_argument("--annotation", action="append")
    d = sub.add_parser("digest")
    d.add_argument("file")
    a = p.parse_args()

    if a.cmd == "digest":
        print(digest(a.file))
        return
    if a.cmd == "manifest":
        path, cmt = split(a.config, DOCKER_CONFIG if a.docker else OCI_CONFIG)
        doc = {"schemaVersion": 2,
               "mediaType": DOCKER_MANIFEST if a.docker else OCI_MANIFEST,
               "config": desc(path, cmt),
               "layers": [desc(split(l, "")[0],
                               split(l, DOCKER_LAYER if a.docker
                                     else OCI_LAYER)[1]) for l in a.layer]}
    else:
        doc = {"schemaVersion": 2,
               "mediaType": DOCKER_LIST if a.docker else OCI_INDEX,
               "manifests": []}
        for arg in a.manifest:
            path, plat = split(arg, "")
            e = manifest_desc(path)
            if plat:
                os_, _, arch = plat.partition("/")
                e["platform"] = {"architecture": arch, "os": os_}
            doc["manifests"].append(e)
    common(doc, a)
    sys.stdout.write(json.dumps(doc, separators=(",", ":")))


if __name__ == "__main__":
    main()
