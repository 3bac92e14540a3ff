#!/usr/bin/env python3
"""Writes a one-layer OCI image archive (an OCI image layout in a tar) holding one static binary as
its entrypoint, for `ctr images import`. The test bed's real node needs a sandbox (pause) image and
cannot pull one: this packs the locally built one.

Usage: oci-image.py BINARY IMAGE_NAME ARCH OUT.tar
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def blob(files, data, media_type):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    files["blobs/sha256/" + digest.split(":", 1)[1]] = data
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    binary, name, arch, out = sys.argv[1:]
    entry = "/" + os.path.basename(binary)

    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tar.gettarinfo(binary, arcname=entry.lstrip("/"))
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        info.mode = 0o755
        with open(binary, "rb") as f:
            tar.addfile(info, f)
    raw = layer.getvalue()
    compressed = gzip.compress(raw, mtime=0)

    files = {}
    layer_desc = blob(files, compressed, "application/vnd.oci.image.layer.v1.tar+gzip")
    config = {
        "architecture": arch,
        "os": "linux",
        "config": {"Entrypoint": [entry], "User": "65535:65535", "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
        "history": [{"created_by": "testbed/node/oci-image.py " + entry, "created": "1970-01-01T00:00:00Z"}],
        "created": "1970-01-01T00:00:00Z",
    }
    config_desc = blob(files, json.dumps(config, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer_desc],
    }
    manifest_desc = blob(files, json.dumps(manifest, sort_keys=True).encode(), "application/vnd.oci.image.manifest.v1+json")
    manifest_desc["annotations"] = {
        "io.containerd.image.name": name,
        "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1],
    }
    manifest_desc["platform"] = {"architecture": arch, "os": "linux"}
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [manifest_desc]}, sort_keys=True).encode()
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'

    with tarfile.open(out, "w") as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    print(manifest_desc["digest"])


if __name__ == "__main__":
    main()
