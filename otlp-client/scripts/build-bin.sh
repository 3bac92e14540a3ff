#!/usr/bin/env bash
# Builds static (musl) release binaries of otlp-client into otlp-client/dist-bin/<arch>/otlp-client,
# the layout the Dockerfile's `prebuilt` target copies from.
# Usage: otlp-client/scripts/build-bin.sh [amd64] [arm64]     (default: the host's architecture)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(cd "$here/.." && pwd)"
# shellcheck source=../../scripts/lib.sh
source "$here/../../scripts/lib.sh"

host_arch() {
  case "$(uname -m)" in
    x86_64) echo amd64 ;;
    aarch64|arm64) echo arm64 ;;
    *) die "unsupported host architecture $(uname -m)" ;;
  esac
}

arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=("$(host_arch)")
command -v cargo >/dev/null || die "cargo is not installed"

for arch in "${arches[@]}"; do
  case "$arch" in
    amd64) triple=x86_64-unknown-linux-musl ;;
    arm64) triple=aarch64-unknown-linux-musl ;;
    *) die "unknown architecture '$arch' (use amd64 or arm64)" ;;
  esac
  if ! rustup target list --installed 2>/dev/null | grep -qx "$triple"; then
    log "adding the Rust standard library for $triple"
    rustup target add "$triple" \
      || die "cannot install the Rust std for $triple (rustup target add failed); build $arch elsewhere or use the test bed's busybox path"
  fi
  linker_env=()
  if [ "$arch" = arm64 ] && [ "$(host_arch)" != arm64 ]; then
    apt_install gcc-aarch64-linux-gnu
    linker_env=(CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc)
  fi
  log "building otlp-client for linux/$arch ($triple)"
  start=$(date +%s)
  (cd "$crate" && env "${linker_env[@]}" cargo build --release --locked --target "$triple" --bin otlp-client)
  mkdir -p "$crate/dist-bin/$arch"
  cp "$crate/target/$triple/release/otlp-client" "$crate/dist-bin/$arch/otlp-client"
  log "dist-bin/$arch/otlp-client: $(du -h "$crate/dist-bin/$arch/otlp-client" | cut -f1), built in $(( $(date +%s) - start ))s"
done
