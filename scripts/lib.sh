#!/usr/bin/env bash
# Shared shell helpers for the project's scripts (sourced, never executed).
# Cache layout: $OTLP_DEPLOY_CACHE/bin/<tool>-<version>/<binary>, keyed by version so that
# changing a pinned version rebuilds and an unchanged one is reused.

OTLP_DEPLOY_CACHE="${OTLP_DEPLOY_CACHE:-$HOME/.cache/otlp-deploy-actions}"
export OTLP_DEPLOY_CACHE
REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export REPO_ROOT

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# apt_install PKG... : installs the Debian packages that are missing (runs apt-get update once per day).
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local stamp=/var/lib/apt/periodic/otlp-deploy-update-stamp
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq -o DPkg::Lock::Timeout=300 || die "apt-get update failed"
    mkdir -p "$(dirname "$stamp")" && touch "$stamp"
  fi
  # Lock::Timeout: wait for another apt/dpkg run (a concurrent script) instead of failing at once.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# tool_path NAME VERSION: where go_tool and pip_tool keep the binary.
tool_path() { printf '%s\n' "$OTLP_DEPLOY_CACHE/bin/$1-$2/$1"; }

# pip_tool NAME VERSION: the native binary NAME that PyPI's wheel NAME==VERSION ships (zizmor),
# installed once into the cache; prints its path. Nothing of the wheel but that binary is kept.
pip_tool() {
  local name=$1 version=$2 out tmp
  out=$(tool_path "$name" "$version")
  if [ ! -x "$out" ]; then
    log "installing $name $version from PyPI (cached in $(dirname "$out"))"
    tmp=$(mktemp -d)
    python3 -m pip install -q --disable-pip-version-check --no-deps --target "$tmp" "$name==$version" >&2 \
      || { rm -rf "$tmp"; die "pip install $name==$version failed"; }
    [ -x "$tmp/bin/$name" ] || { rm -rf "$tmp"; die "the $name $version wheel has no bin/$name"; }
    mkdir -p "$(dirname "$out")"
    install -m 755 "$tmp/bin/$name" "$out.tmp.$$" && mv "$out.tmp.$$" "$out"
    rm -rf "$tmp"
  fi
  printf '%s\n' "$out"
}

# patched_go_module WRAPPER_DIR MODULE VERSION PATCH...: a copy of the wrapper Go module WRAPPER_DIR
# whose MODULE@VERSION is replaced by its source with PATCHes applied (patch -p1), for a tool that
# needs a fix upstream does not have yet; prints the copy's folder (under $OTLP_DEPLOY_CACHE/src).
patched_go_module() {
  local wrapper=$1 module=$2 version=$3 src dir tmp p; shift 3
  dir="$OTLP_DEPLOY_CACHE/src/$(basename "$wrapper")-$version-$(cat "$@" | sha256sum | cut -c1-12)"
  # Made in a folder of its own and moved into place, so two builds never see a half-made copy.
  if [ ! -f "$dir/go.mod" ]; then
    src=$(cd "$wrapper" && go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') \
      || die "go mod download $module@$version failed"
    [ -d "$src" ] || die "go mod download $module@$version gave no source folder"
    mkdir -p "$(dirname "$dir")" || die "cannot create $(dirname "$dir")"
    tmp=$(mktemp -d "$dir.tmp.XXXXXX") || die "cannot create a folder next to $dir"
    cp "$wrapper"/go.mod "$wrapper"/go.sum "$wrapper"/*.go "$tmp/" || die "cannot copy $wrapper"
    { cp -r "$src" "$tmp/module" && chmod -R u+w "$tmp/module"; } || die "cannot copy $src"
    for p in "$@"; do
      patch -d "$tmp/module" -p1 --quiet --forward < "$p" >&2 || die "patch $p does not apply to $module@$version"
    done
    (cd "$tmp" && go mod edit -replace "$module=./module") || die "go mod edit failed in $tmp"
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp" # another build moved its copy first: same content
  fi
  printf '%s\n' "$dir"
}

# go_tool NAME VERSION MODULE_DIR PACKAGE [go build args...]
# Builds PACKAGE inside the wrapper Go module MODULE_DIR (a folder with go.mod/go.sum pinning the tool)
# into $OTLP_DEPLOY_CACHE/bin/NAME-VERSION/NAME unless it is already there; prints the binary's path.
go_tool() {
  local name=$1 version=$2 moddir=$3 pkg=$4 lock; shift 4
  local out
  out=$(tool_path "$name" "$version")
  if [ ! -x "$out" ]; then
    mkdir -p "$(dirname "$out")"
    # Two scripts (or two checkouts) may want the same tool at once: the second waits for the
    # first's build instead of compiling it again, and each writes its own temporary file.
    exec {lock}>"$(dirname "$out")/.build.lock"
    flock "$lock"
    if [ ! -x "$out" ]; then
      log "building $name $version from Go modules (cached in $(dirname "$out"))"
      local tmp="$out.tmp.$$"
      (cd "$moddir" && CGO_ENABLED=${CGO_ENABLED:-0} go build -trimpath -o "$tmp" "$@" "$pkg") \
        || { rm -f "$tmp"; flock -u "$lock"; die "building $name $version failed (see the go output above)"; }
      mv "$tmp" "$out"
    fi
    flock -u "$lock"
    exec {lock}>&-
  fi
  printf '%s\n' "$out"
}
