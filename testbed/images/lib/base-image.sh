# shellcheck shell=bash
# Builds the test bed's multi-arch base image (busybox from Debian's amd64 and arm64 packages)
# as plain OCI blobs, byte-for-byte reproducible, and pushes it with the registry API
# (sourced by images.sh). No builder is involved, so the base image exists even when a builder is broken.

readonly BASE_ARCHES="amd64 arm64"

# busybox_debs DIR: downloads busybox-static for every arch into DIR (cached) using a private
# multi-arch apt state, so the host's dpkg architectures and apt lists are left untouched.
busybox_debs() {
  local dir=$1 aptdir="$OTLP_DEPLOY_CACHE/apt-multiarch" arch missing=()
  mkdir -p "$dir"
  for arch in $BASE_ARCHES; do
    ls "$dir"/busybox-static_*_"$arch".deb >/dev/null 2>&1 || missing+=("busybox-static:$arch")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "downloading ${missing[*]} from Debian (private apt lists in $aptdir)"
  mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
  local opts=(-qq -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
    -o Dir::State::status=/dev/null -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
    -o APT::Sandbox::User=root)
  # Another test bed (another checkout) may use the same private lists: apt would fail on its lock.
  flock -w 600 "$aptdir/.otlp-lock" timeout 300 apt-get "${opts[@]}" update >&2 \
    || die "apt-get update for the amd64+arm64 busybox download failed; is the Debian mirror reachable? (retry: $0 up)"
  (cd "$dir" && flock -w 600 "$aptdir/.otlp-lock" timeout 300 apt-get "${opts[@]}" download "${missing[@]}" >&2) \
    || die "apt-get download ${missing[*]} failed (retry: $0 up)"
}

# debian_to_oci_arch ARCH: prints the OCI platform fields as JSON.
oci_platform_json() {
  case $1 in
    amd64) printf '{"architecture":"amd64","os":"linux"}' ;;
    arm64) printf '{"architecture":"arm64","os":"linux","variant":"v8"}' ;;
    *) die "no OCI platform mapping for Debian architecture $1" ;;
  esac
}

# blob_put DIR FILE: moves FILE into DIR/blobs/sha256/<digest> and prints the digest.
blob_put() {
  local dir=$1 file=$2 hex
  hex=$(sha256sum "$file" | cut -d' ' -f1)
  mkdir -p "$dir/blobs/sha256"
  mv "$file" "$dir/blobs/sha256/$hex"
  printf 'sha256:%s\n' "$hex"
}

# build_base_image DEBDIR OUTDIR: writes OUTDIR/blobs/sha256/* and OUTDIR/index.json
# (the index is also a blob; OUTDIR/index.digest names it).
build_base_image() {
  local debdir=$1 out=$2 work arch deb root applets manifests=() layer_digest diff_id config_digest manifest_digest
  work=$(mktemp -d)
  rm -rf "$out" && mkdir -p "$out"
  # The applet list comes from the native (amd64) binary; both arches are the same Debian build.
  dpkg-deb -x "$(ls "$debdir"/busybox-static_*_amd64.deb | tail -n 1)" "$work/native"
  applets=$("$work/native/bin/busybox" --list-full) || die "cannot list busybox applets"
  for arch in $BASE_ARCHES; do
    deb=$(ls "$debdir"/busybox-static_*_"$arch".deb | tail -n 1)
    root="$work/rootfs-$arch"
    mkdir -p "$root"
    dpkg-deb -x "$deb" "$work/deb-$arch"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/tmp,proc,sys,dev}
    chmod 1777 "$root/tmp" "$root/var/tmp"
    chmod 700 "$root/root"
    install -m 0755 "$work/deb-$arch/bin/busybox" "$root/bin/busybox"
    local path
    while read -r path; do
      [ -n "$path" ] && [ "$path" != bin/busybox ] && [ ! -e "$root/$path" ] && ln -s /bin/busybox "$root/$path"
    done <<<"$applets"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    # Reproducible layer: fixed order, owner and times, no gzip timestamp.
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=gnu -C "$root" -cf "$work/layer.tar" .
    diff_id="sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
    gzip -n -9 <"$work/layer.tar" >"$work/layer.tar.gz"
    local layer_size; layer_size=$(stat -c %s "$work/layer.tar.gz")
    layer_digest=$(blob_put "$out" "$work/layer.tar.gz")
    local version; version=$(dpkg-deb -f "$deb" Version)
    jq -cn --argjson platform "$(oci_platform_json "$arch")" --arg diff "$diff_id" --arg v "$version" '
      $platform + {
        created: "1970-01-01T00:00:00Z",
        config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"],
                  Labels: { "org.opencontainers.image.description": ("busybox-static " + $v + " from Debian, otlp-deploy-actions test bed") } },
        rootfs: { type: "layers", diff_ids: [$diff] },
        history: [ { created: "1970-01-01T00:00:00Z", created_by: ("busybox-static " + $v + " (Debian package)") } ]
      }' >"$work/config.json"
    local config_size; config_size=$(stat -c %s "$work/config.json")
    config_digest=$(blob_put "$out" "$work/config.json")
    jq -cn --arg cd "$config_digest" --argjson cs "$config_size" --arg ld "$layer_digest" --argjson ls "$layer_size" '{
        schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs },
        layers: [ { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls } ]
      }' >"$work/manifest.json"
    local manifest_size; manifest_size=$(stat -c %s "$work/manifest.json")
    manifest_digest=$(blob_put "$out" "$work/manifest.json")
    manifests+=("$(jq -cn --arg d "$manifest_digest" --argjson s "$manifest_size" --argjson p "$(oci_platform_json "$arch")" \
      '{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s, platform: $p }')")
  done
  printf '%s\n' "${manifests[@]}" | jq -cs '{ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: . }' \
    >"$work/index.json"
  cp "$work/index.json" "$out/index.json"
  blob_put "$out" "$work/index.json" >"$out/index.digest"
  rm -rf "$work"
}

# push_base_image OUTDIR REPO TAG: pushes blobs, per-arch manifests (by digest) and the index (by tag).
push_base_image() {
  local out=$1 repo=$2 tag=$3 m digest
  while read -r m; do
    digest=$(jq -r .digest <<<"$m")
    local manifest="$out/blobs/sha256/${digest#sha256:}"
    reg_blob_push "$repo" "$out/blobs/sha256/$(jq -r .config.digest "$manifest" | cut -d: -f2)"
    local layer
    for layer in $(jq -r '.layers[].digest' "$manifest"); do
      reg_blob_push "$repo" "$out/blobs/sha256/${layer#sha256:}"
    done
    reg_manifest_push "$repo" "$digest" "$OCI_MANIFEST_TYPE" "$manifest"
  done < <(jq -c '.manifests[]' "$out/index.json")
  reg_manifest_push "$repo" "$tag" "$OCI_INDEX_TYPE" "$out/index.json"
}
