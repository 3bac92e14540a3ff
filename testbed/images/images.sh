#!/usr/bin/env bash
# Image side of the local test bed: an authenticated OCI registry on loopback, BuildKit (buildkitd +
# buildx remote builder), Docker Engine, buildah, QEMU user emulation and a two-arch busybox base image.
#
#   testbed/images/images.sh up      start everything (idempotent), write .testbed/env.images
#   testbed/images/images.sh status  show what runs
#   testbed/images/images.sh check   prove auth, and a linux/amd64+arm64 build and push with buildx and buildah
#   testbed/images/images.sh down    stop what `up` started (by pid) and remove its state
#
# Tunables (environment): TESTBED_REGISTRY_PORT (default 25500), TESTBED_DIR (state, default <repo>/.testbed),
# TESTBED_TIMEOUT (default 90, the limit in seconds on every readiness wait), TESTBED_SKIP_DOCKERD=1.
set -euo pipefail

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$IMAGES_DIR/../../scripts/lib.sh"
# shellcheck source=lib/registry-api.sh
source "$IMAGES_DIR/lib/registry-api.sh"
# shellcheck source=lib/base-image.sh
source "$IMAGES_DIR/lib/base-image.sh"

readonly BUILDKIT_VERSION=v0.34.2 BUILDX_VERSION=v0.38.2
readonly STATE_DIR="${TESTBED_DIR:-$REPO_ROOT/.testbed}"
readonly IMG_DIR="$STATE_DIR/images" REG_DIR="$STATE_DIR/registry" ENV_FILE="$STATE_DIR/env.images"
# The port of a running registry is the one recorded at `up`; TESTBED_REGISTRY_PORT changes it on the next `up`.
REGISTRY_PORT="${TESTBED_REGISTRY_PORT:-}"
[ -n "$REGISTRY_PORT" ] || REGISTRY_PORT=$(cat "$REG_DIR/port" 2>/dev/null || echo 25500)
[[ $REGISTRY_PORT =~ ^[0-9]{4,5}$ ]] && [ "$REGISTRY_PORT" -ge 1024 ] && [ "$REGISTRY_PORT" -le 65535 ] \
  || die "TESTBED_REGISTRY_PORT: '$REGISTRY_PORT' is not a port number between 1024 and 65535"
readonly REGISTRY_PORT
readonly WAIT_SECONDS="${TESTBED_TIMEOUT:-90}"
REGISTRY="127.0.0.1:$REGISTRY_PORT" REGISTRY_USERNAME=testbed
readonly REGISTRY_NETRC="$REG_DIR/netrc"
readonly BUILDKIT_SOCK="$IMG_DIR/buildkitd.sock" DOCKER_SOCK="$IMG_DIR/docker.sock"
BUILDX_BUILDER=otlp-testbed BASE_REPO=testbed/busybox BASE_TAG=1
TESTBED_BASE_IMAGE="$REGISTRY/$BASE_REPO:$BASE_TAG"
# command:Debian package. A package is installed only when its command is missing, so a host that already
# has Docker Engine or buildah (e.g. a CI runner with docker-ce) keeps its own.
readonly NEEDED_COMMANDS=(docker-registry:docker-registry htpasswd:apache2-utils dockerd:docker.io runc:runc
  buildah:buildah qemu-aarch64-static:qemu-user-static update-binfmts:binfmt-support jq:jq curl:curl ss:iproute2 flock:util-linux)

export DOCKER_CONFIG="$IMG_DIR/docker-config" DOCKER_HOST="unix://$DOCKER_SOCK" BUILDX_BUILDER
export BUILDKIT_HOST="unix://$BUILDKIT_SOCK"
# buildah 1.28 `login` ignores CONTAINERS_REGISTRIES_CONF, so the insecure-registry entry goes in a drop-in.
readonly REGISTRIES_DROPIN="/etc/containers/registries.conf.d/50-otlp-testbed-$REGISTRY_PORT.conf"
export CONTAINERS_STORAGE_CONF="$IMG_DIR/containers/storage.conf"
export CONTAINERS_CONF="$IMG_DIR/containers/containers.conf"
export REGISTRY_AUTH_FILE="$IMG_DIR/containers/auth.json"

# Daemons (pid_alive, wait_until, start_daemon, stop_daemon, ...): shared with the real node.
# shellcheck source=../lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/daemon.sh"

port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1; }

# ---------------------------------------------------------------------------------------------
# Prerequisites

need_root() { [ "$(id -u)" = 0 ] || die "the image test bed runs daemons as root (dockerd, buildkitd, rootful buildah); rerun as root"; }

ensure_packages() {
  local pair packages=()
  for pair in "${NEEDED_COMMANDS[@]}"; do
    command -v "${pair%%:*}" >/dev/null || packages+=("${pair#*:}")
  done
  [ ${#packages[@]} -eq 0 ] || apt_install "${packages[@]}"
  for pair in "${NEEDED_COMMANDS[@]}" docker:docker.io; do
    command -v "${pair%%:*}" >/dev/null || die "command '${pair%%:*}' is still missing after installing Debian package ${pair#*:}; check: dpkg -l ${pair#*:}"
  done
}

# The Go-built tools live in the shared cache and are rebuilt only when their pinned version changes.
ensure_go_tools() {
  BUILDKITD_BIN=$(go_tool buildkitd "$BUILDKIT_VERSION" "$IMAGES_DIR/tools/buildkit" github.com/moby/buildkit/cmd/buildkitd \
    -ldflags "-X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION")
  BUILDCTL_BIN=$(go_tool buildctl "$BUILDKIT_VERSION" "$IMAGES_DIR/tools/buildkit" github.com/moby/buildkit/cmd/buildctl \
    -ldflags "-X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION")
  BUILDX_BIN=$(go_tool docker-buildx "$BUILDX_VERSION" "$IMAGES_DIR/tools/buildx" github.com/docker/buildx/cmd/buildx \
    -ldflags "-X github.com/docker/buildx/version.Version=$BUILDX_VERSION")
}

# QEMU user emulation for linux/arm64 RUN steps. The F (fix binary) flag makes the kernel open the
# interpreter at registration time, so it works inside containers whose rootfs has no qemu.
ensure_binfmt() {
  local mnt=/proc/sys/fs/binfmt_misc
  if [ ! -e "$mnt/register" ]; then
    mount -t binfmt_misc binfmt_misc "$mnt" \
      || die "cannot mount binfmt_misc on $mnt (needed for linux/arm64 emulation); is the kernel built with CONFIG_BINFMT_MISC?"
  fi
  if [ ! -e "$mnt/qemu-aarch64" ]; then
    log "registering QEMU aarch64 emulation in binfmt_misc"
    update-binfmts --enable qemu-aarch64 >&2 || die "update-binfmts --enable qemu-aarch64 failed (package qemu-user-static)"
  fi
  grep -q '^enabled' "$mnt/qemu-aarch64" || die "binfmt_misc entry qemu-aarch64 is disabled; run: update-binfmts --enable qemu-aarch64"
  grep -q '^flags:.*F' "$mnt/qemu-aarch64" \
    || die "binfmt_misc entry qemu-aarch64 lacks the F flag, so containers cannot find qemu; remove it (echo -1 > $mnt/qemu-aarch64) and rerun $0 up"
}

# ---------------------------------------------------------------------------------------------
# Registry

ensure_registry() {
  local pidfile="$REG_DIR/registry.pid" exe
  exe=$(command -v docker-registry)
  mkdir -p "$REG_DIR/data"
  chmod 700 "$REG_DIR"
  if [ ! -s "$REG_DIR/password" ]; then
    log "generating the registry password (kept in $REG_DIR/password)"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$REG_DIR/password")
    rm -f "$REG_DIR/htpasswd"
  fi
  if [ ! -s "$REG_DIR/htpasswd" ]; then
    # -i reads the password from stdin, so it never shows in the process list.
    htpasswd -iBc "$REG_DIR/htpasswd" "$REGISTRY_USERNAME" <"$REG_DIR/password" 2>/dev/null \
      || die "htpasswd could not write $REG_DIR/htpasswd"
  fi
  (umask 077 && printf 'machine 127.0.0.1 login %s password %s\n' "$REGISTRY_USERNAME" "$(cat "$REG_DIR/password")" >"$REGISTRY_NETRC")
  local config="$REG_DIR/config.yml"
  cat >"$config.new" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: otlp-testbed-registry
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: otlp-testbed
    path: $REG_DIR/htpasswd
EOF
  if pid_alive "$pidfile" "$exe"; then
    if cmp -s "$config" "$config.new"; then
      rm -f "$config.new"
      return 0
    fi
    log "registry configuration changed (port or paths); restarting it"
  fi
  mv "$config.new" "$config"
  local old_port; old_port=$(cat "$REG_DIR/port" 2>/dev/null || true)
  [ -z "$old_port" ] || [ "$old_port" = "$REGISTRY_PORT" ] || rm -f "${REGISTRIES_DROPIN%-*}-$old_port.conf"
  echo "$REGISTRY_PORT" >"$REG_DIR/port"
  local owner
  owner=$(port_owner "$REGISTRY_PORT")
  [ -z "$owner" ] || die "port $REGISTRY_PORT is already in use ($owner); free it or choose another with TESTBED_REGISTRY_PORT=<port> $0 up"
  start_daemon registry "$pidfile" "$REG_DIR/registry.log" "$exe" serve "$config"
  wait_until registry "$REG_DIR/registry.log" "$pidfile" "$exe" \
    bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://$REGISTRY/v2/)\" = 401 ]"
}

# ---------------------------------------------------------------------------------------------
# BuildKit daemon and the buildx remote builder

ensure_buildkitd() {
  local pidfile="$IMG_DIR/buildkitd.pid" config="$IMG_DIR/buildkitd.toml"
  [ ${#BUILDKIT_SOCK} -lt 100 ] || die "socket path $BUILDKIT_SOCK is too long for a unix socket; set TESTBED_DIR to a shorter path"
  mkdir -p "$IMG_DIR/buildkit"
  cat >"$config.new" <<EOF
root = "$IMG_DIR/buildkit"

[grpc]
  address = ["unix://$BUILDKIT_SOCK"]

[worker.oci]
  enabled = true
  # Host network for RUN steps: no CNI setup needed, nothing leaves loopback unless the build asks.
  networkMode = "host"
  gc = true

[worker.containerd]
  enabled = false

[registry."$REGISTRY"]
  http = true
  insecure = true
EOF
  if pid_alive "$pidfile" "$BUILDKITD_BIN"; then
    if cmp -s "$config" "$config.new"; then rm -f "$config.new"; return 0; fi
    log "buildkitd configuration changed; restarting it"
  fi
  mv "$config.new" "$config"
  rm -f "$BUILDKIT_SOCK"
  start_daemon buildkitd "$pidfile" "$IMG_DIR/buildkitd.log" "$BUILDKITD_BIN" --config "$config"
  wait_until buildkitd "$IMG_DIR/buildkitd.log" "$pidfile" "$BUILDKITD_BIN" "$BUILDCTL_BIN" --addr "$BUILDKIT_HOST" debug workers
}

ensure_buildx() {
  mkdir -p "$DOCKER_CONFIG/cli-plugins"
  [ -s "$DOCKER_CONFIG/config.json" ] || echo '{}' >"$DOCKER_CONFIG/config.json"
  ln -sfn "$BUILDX_BIN" "$DOCKER_CONFIG/cli-plugins/docker-buildx"
  if ! timeout 30 docker buildx inspect "$BUILDX_BUILDER" >/dev/null 2>&1; then
    log "creating buildx builder $BUILDX_BUILDER (remote driver, $BUILDKIT_HOST)"
    timeout 60 docker buildx create --name "$BUILDX_BUILDER" --driver remote "$BUILDKIT_HOST" >/dev/null \
      || die "docker buildx create --driver remote $BUILDKIT_HOST failed"
  fi
  timeout "$WAIT_SECONDS" docker buildx inspect --bootstrap "$BUILDX_BUILDER" >/dev/null \
    || die "buildx builder $BUILDX_BUILDER cannot reach buildkitd at $BUILDKIT_HOST (see $IMG_DIR/buildkitd.log)"
}

# ---------------------------------------------------------------------------------------------
# Docker Engine: `docker run` of pushed images, and `docker login` for older CLIs such as Debian's 20.10 (which log in
# through the daemon). Containers get no bridge network: use --network none or host.

ensure_dockerd() {
  local pidfile="$IMG_DIR/dockerd.pid" exe root="$IMG_DIR/docker"
  [ "${TESTBED_SKIP_DOCKERD:-0}" = 1 ] && return 0
  exe=$(command -v dockerd)
  [ ${#root} -lt 80 ] || die "state path $root is too long for dockerd's sockets; set TESTBED_DIR to a shorter path"
  mkdir -p "$root/data" "$root/run"
  # Our own daemon.json so a host /etc/docker/daemon.json cannot leak in; no bridge or iptables
  # changes, so the host network is left alone (builds go through BuildKit, not this daemon).
  # Own containerd namespaces: if the host runs a system containerd, dockerd attaches to it and must
  # not share the "moby" namespace with the host's Docker.
  local args=(--config-file "$root/daemon.json" --data-root "$root/data" --exec-root "$root/run"
    --pidfile "$root/run/dockerd.pid" -H "$DOCKER_HOST"
    --containerd-namespace otlp-testbed --containerd-plugins-namespace otlp-testbed-plugins)
  jq -n --arg reg "$REGISTRY" '{ "insecure-registries": [$reg], "bridge": "none", "iptables": false, "ip-masq": false }' \
    >"$root/daemon.json.new"
  # What the running daemon was started with: restart when the configuration or the flags change.
  { cat "$root/daemon.json.new"; printf '%s\n' "$exe" "${args[@]}"; } >"$root/spec.new"
  if pid_alive "$pidfile" "$exe"; then
    if cmp -s "$root/spec" "$root/spec.new"; then rm -f "$root/daemon.json.new" "$root/spec.new"; return 0; fi
    log "dockerd configuration changed; restarting it"
  fi
  mv "$root/daemon.json.new" "$root/daemon.json"
  mv "$root/spec.new" "$root/spec"
  rm -f "$DOCKER_SOCK"
  start_daemon dockerd "$pidfile" "$IMG_DIR/dockerd.log" "$exe" "${args[@]}"
  wait_until dockerd "$IMG_DIR/dockerd.log" "$pidfile" "$exe" docker version
}

# ---------------------------------------------------------------------------------------------
# buildah: rootful, private storage and configuration (exported through env.images)

ensure_buildah_config() {
  local dir="$IMG_DIR/containers"
  mkdir -p "$dir/storage" "$dir/run"
  mkdir -p "$(dirname "$REGISTRIES_DROPIN")"
  cat >"$REGISTRIES_DROPIN" <<EOF
# written by otlp-deploy-actions testbed/images/images.sh up; removed by down
[[registry]]
location = "$REGISTRY"
insecure = true
EOF
  cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$dir/storage"
runroot = "$dir/run"
EOF
  cat >"$CONTAINERS_CONF" <<EOF
[containers]
netns = "host"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  [ -s "$REGISTRY_AUTH_FILE" ] || echo '{}' >"$REGISTRY_AUTH_FILE"
}

# ---------------------------------------------------------------------------------------------
# Base image

ensure_base_image() {
  local debs="$OTLP_DEPLOY_CACHE/debs" out key want have
  busybox_debs "$debs"
  # The assembled image is reproducible, so it is cached by the packages it is made of.
  key=$(ls "$debs"/busybox-static_*.deb | sha256sum | cut -c1-16)
  out="$OTLP_DEPLOY_CACHE/base-image/$key"
  if [ ! -s "$out/index.digest" ]; then
    log "assembling $TESTBED_BASE_IMAGE (linux/amd64, linux/arm64) from busybox-static"
    build_base_image "$debs" "$out.tmp"
    rm -rf "$out" && mv "$out.tmp" "$out"
  fi
  want=$(cat "$out/index.digest")
  have=$(reg_manifest_digest "$BASE_REPO" "$BASE_TAG")
  [ "$want" = "$have" ] && return 0
  log "pushing $TESTBED_BASE_IMAGE ($want)"
  push_base_image "$out" "$BASE_REPO" "$BASE_TAG"
  have=$(reg_manifest_digest "$BASE_REPO" "$BASE_TAG")
  [ "$want" = "$have" ] || die "after pushing, $TESTBED_BASE_IMAGE has digest '$have', expected $want"
}

write_env() {
  {
    echo "# written by testbed/images/images.sh up; source it"
    printf 'export %s=%q\n' \
      REGISTRY "$REGISTRY" \
      REGISTRY_USERNAME "$REGISTRY_USERNAME" \
      REGISTRY_PASSWORD "$(cat "$REG_DIR/password")" \
      BUILDKIT_HOST "$BUILDKIT_HOST" \
      BUILDX_BUILDER "$BUILDX_BUILDER" \
      TESTBED_BASE_IMAGE "$TESTBED_BASE_IMAGE" \
      DOCKER_CONFIG "$DOCKER_CONFIG" \
      CONTAINERS_STORAGE_CONF "$CONTAINERS_STORAGE_CONF" \
      CONTAINERS_CONF "$CONTAINERS_CONF" \
      REGISTRY_AUTH_FILE "$REGISTRY_AUTH_FILE"
    [ "${TESTBED_SKIP_DOCKERD:-0}" = 1 ] || printf 'export %s=%q\n' DOCKER_HOST "$DOCKER_HOST"
  } >"$ENV_FILE.new"
  chmod 600 "$ENV_FILE.new"
  mv "$ENV_FILE.new" "$ENV_FILE"
}

cmd_up() {
  local started=$SECONDS
  need_root
  mkdir -p "$STATE_DIR" "$IMG_DIR"
  [ -e "$STATE_DIR/.gitignore" ] || printf '*\n' >"$STATE_DIR/.gitignore"
  ensure_packages
  ensure_go_tools
  ensure_binfmt
  ensure_registry
  ensure_buildkitd
  ensure_dockerd
  ensure_buildx
  ensure_buildah_config
  ensure_base_image
  write_env
  log "image test bed up in $((SECONDS - started))s: registry $REGISTRY, builder $BUILDX_BUILDER, base $TESTBED_BASE_IMAGE; env in $ENV_FILE"
}

# ---------------------------------------------------------------------------------------------

# Unmounts whatever the daemons left mounted below DIR (after a SIGKILL), deepest first.
cmd_down() {
  need_root
  stop_daemon dockerd "$IMG_DIR/dockerd.pid"
  stop_daemon buildkitd "$IMG_DIR/buildkitd.pid"
  stop_daemon registry "$REG_DIR/registry.pid"
  if [ -d "$IMG_DIR" ]; then
    if command -v buildah >/dev/null && [ -s "$CONTAINERS_STORAGE_CONF" ]; then
      buildah rm --all >/dev/null 2>&1 || true
    fi
    kill_container_leftovers "$IMG_DIR"
    unmount_below "$IMG_DIR"
  fi
  [ ! -s "$REG_DIR/port" ] || rm -f "${REGISTRIES_DROPIN%-*}-$(cat "$REG_DIR/port").conf"
  # Only the drop-in of the port this state recorded (above): a test bed that never started here must
  # not remove the default port's drop-in, which another running test bed may own.
  rm -rf "$IMG_DIR" "$REG_DIR" "$ENV_FILE"
  log "image test bed down; state removed ($IMG_DIR, $REG_DIR, $ENV_FILE, $REGISTRIES_DROPIN)"
}

cmd_status() {
  local rc=0 line
  status_line() { # NAME PIDFILE DETAIL
    if pid_alive "$2"; then
      printf '%-10s running (pid %s) %s\n' "$1" "$(cat "$2")" "$3"
    else
      printf '%-10s stopped\n' "$1"; rc=1
    fi
  }
  status_line registry "$REG_DIR/registry.pid" "http://$REGISTRY"
  status_line buildkitd "$IMG_DIR/buildkitd.pid" "$BUILDKIT_HOST"
  local builder
  builder=$(timeout 20 docker buildx inspect "$BUILDX_BUILDER" 2>/dev/null | awk '$1 == "Status:" { print $2; exit }') || true
  if [ "$builder" = running ]; then
    printf '%-10s %s (remote driver) running\n' buildx "$BUILDX_BUILDER"
  else
    printf '%-10s %s %s\n' buildx "$BUILDX_BUILDER" "${builder:-missing}"; rc=1
  fi
  if [ "${TESTBED_SKIP_DOCKERD:-0}" != 1 ]; then
    status_line dockerd "$IMG_DIR/dockerd.pid" "$DOCKER_HOST"
  fi
  if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    printf '%-10s qemu-aarch64 registered\n' binfmt
  else
    printf '%-10s qemu-aarch64 not registered\n' binfmt; rc=1
  fi
  if [ -s "$REGISTRY_NETRC" ] && line=$(reg_index_platforms "$BASE_REPO" "$BASE_TAG" 2>/dev/null) && [ -n "$line" ]; then
    printf '%-10s %s (%s)\n' base "$TESTBED_BASE_IMAGE" "$(paste -sd" " <<<"$line")"
  else
    printf '%-10s %s missing\n' base "$TESTBED_BASE_IMAGE"; rc=1
  fi
  [ -s "$ENV_FILE" ] && printf '%-10s %s\n' env "$ENV_FILE" || { printf '%-10s missing (%s)\n' env "$ENV_FILE"; rc=1; }
  return $rc
}

# One up/down at a time per state folder (the cluster side and tests may call us concurrently).
lock_state() {
  mkdir -p "$STATE_DIR"
  exec 8>>"$STATE_DIR/.images.lock"
  flock -w $((WAIT_SECONDS * 5)) 8 \
    || die "another images.sh up/down has held $STATE_DIR/.images.lock for $((WAIT_SECONDS * 5))s; is one stuck?"
}

main() {
  case "${1:-}" in
    up) need_root; lock_state; cmd_up ;;
    down) need_root; lock_state; cmd_down ;;
    status) cmd_status ;;
    check) source "$IMAGES_DIR/lib/check.sh"; cmd_check ;;
    tools) ensure_go_tools; printf '%s\n' "$BUILDKITD_BIN" "$BUILDCTL_BIN" "$BUILDX_BIN" ;;
    *) echo "usage: $0 up|down|status|check|tools" >&2; exit 2 ;;
  esac
}

# One line, so that bash has read all of it before running (safe against edits of a running script).
main "$@"; exit $?
