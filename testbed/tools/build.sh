#!/usr/bin/env bash
# Builds (once per version, cached outside the repo) every binary the test bed runs, and prints
# "NAME=PATH" lines for them. Heavy on a cold cache (Kubernetes: tens of minutes on 2 cores).
# Usage: testbed/tools/build.sh [kubernetes|etcd|kwok|node]...   (default: all but node)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$here/../../scripts/lib.sh"
command -v go >/dev/null || die "go is not on PATH; the test bed builds etcd, Kubernetes and KWOK from Go modules"

# The version a wrapper module pins, read from its go.mod so there is one source of truth.
pinned() { # pinned MODULE_DIR MODULE_PATH
  awk -v m="$2" '$1==m && $2 ~ /^v/ {print $2; exit} $1=="require" && $2==m {print $3; exit}' "$1/go.mod"
}

# emit NAME go_tool-ARGS... : builds (cached) and prints NAME=PATH; a failed build ends this script
# (inside "$(...)" of an echo, go_tool's die would only end the subshell).
emit() {
  local name=$1 path
  path=$(go_tool "$@") || exit 1
  echo "$name=$path"
}

# kubernetes_ldflags: the version stamp of the Kubernetes binaries (sets $v too).
kubernetes_ldflags() {
  local dir=$here/kubernetes
  v=$(pinned "$dir" k8s.io/kubernetes)
  [ -n "$v" ] || die "no k8s.io/kubernetes requirement in $dir/go.mod"
  [[ $v =~ ^v([0-9]+)\.([0-9]+)\. ]] || die "unexpected Kubernetes version '$v' in $dir/go.mod"
  local major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} x="" p
  # What /version and kubectl version report; the commit is unknown outside a kubernetes checkout.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    x+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  ldflags="-s -w$x"
}

build_kubernetes() {
  local v ldflags cmd
  kubernetes_ldflags
  for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    emit "$cmd" "$v" "$here/kubernetes" "k8s.io/kubernetes/cmd/$cmd" -ldflags "$ldflags"
  done
}

# The real worker node's binaries (testbed/node/node.sh), from the same Kubernetes version.
build_node() {
  local v ldflags cmd
  kubernetes_ldflags
  for cmd in kubelet kube-proxy; do
    emit "$cmd" "$v" "$here/kubernetes" "k8s.io/kubernetes/cmd/$cmd" -ldflags "$ldflags"
  done
}

build_etcd() {
  local dir=$here/etcd v
  v=$(pinned "$dir" go.etcd.io/etcd/server/v3)
  [ -n "$v" ] || die "no go.etcd.io/etcd/server/v3 requirement in $dir/go.mod"
  emit etcd "$v" "$dir" go.etcd.io/etcd/server/v3 -ldflags "-s -w"
}

build_kwok() {
  local dir=$here/kwok v
  v=$(pinned "$dir" sigs.k8s.io/kwok)
  [ -n "$v" ] || die "no sigs.k8s.io/kwok requirement in $dir/go.mod"
  emit kwok "$v" "$dir" sigs.k8s.io/kwok/cmd/kwok -ldflags "-s -w"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(etcd kwok kubernetes)
for t in "${targets[@]}"; do
  case $t in
    kubernetes|etcd|kwok|node) "build_$t" ;;
    *) die "unknown build target '$t' (expected kubernetes, etcd, kwok or node)" ;;
  esac
done
