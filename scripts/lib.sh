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

# go_tool NAME VERSION MODULE_DIR PACKAGE [go build args...]
# Builds PACKAGE inside the wrapper Go module MODULE_DIR (a folder with go.mod/go.sum pinning the tool)
# into $OTLP_DEPLOY_CACHE/bin/NAME-VERSION/NAME unless it is already there; prints the binary's path.
go_tool() {
  local name=$1 version=$2 moddir=$3 pkg=$4 lock; shift 4
  local out="$OTLP_DEPLOY_CACHE/bin/$name-$version/$name"
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
