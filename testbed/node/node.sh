#!/usr/bin/env bash
# The test bed's real worker node, beside the KWOK ones: a kubelet built from the test bed's Kubernetes
# version, Debian's containerd and runc, a sandbox (pause) image built here, a CNI bridge with
# host-local IPAM (Debian's containernetworking-plugins) and kube-proxy in iptables mode, so that
# ClusterIP and NodePort Services answer from this machine. Pods here run real processes.
#
#   testbed/node/node.sh up       start it (the cluster and image sides must be up); idempotent
#   testbed/node/node.sh down     delete its pods, stop it, remove its iptables rules, links and state
#   testbed/node/node.sh status   what runs; exit 1 when something is down
#
# testbed.sh up/down/status call this (TESTBED_REAL_NODE=0 leaves the node out). The node is named
# testbed-real-node, labelled testbed/node=real and tainted testbed/real-node=true:NoSchedule: only
# workloads that select and tolerate it land on it. Its address is 10.250.0.1 on a link of its own, where
# NodePorts answer; ClusterIPs (10.96.0.0/16) answer from this machine through kube-proxy's rules.
# One real node per machine (it owns a bridge, iptables chains and kubelet ports): a second test bed
# refuses to start one while another's runs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$HERE/../../scripts/lib.sh"
TESTBED_DIR=${TESTBED_DIR:-$REPO_ROOT/.testbed}
WAIT_SECONDS=${TESTBED_TIMEOUT:-90}
# shellcheck source=../lib/daemon.sh
source "$HERE/../lib/daemon.sh"
# shellcheck source=../lib/pki.sh
source "$HERE/../lib/pki.sh"

readonly NODE_NAME=testbed-real-node
readonly NODE_DIR=$TESTBED_DIR/node   # configuration, certificates, logs, pid files
# Data and sockets live outside the repository: short paths (unix sockets are limited to 107 bytes),
# and one real node per machine anyway.
readonly NODE_ROOT=/var/lib/otlp-testbed-node
readonly NODE_RUN=/run/otlp-testbed-node
readonly OWNER_FILE=$NODE_RUN/owner   # the TESTBED_DIR whose node this is
readonly CONTAINERD_SOCK=$NODE_RUN/containerd.sock
readonly NODE_LINK=otlptb-node0 NODE_IP=10.250.0.1
readonly CNI_BRIDGE=otlptb-cni0 POD_SUBNET=10.244.0.0/24 CLUSTER_CIDR=10.244.0.0/16
readonly PAUSE_IMAGE=testbed.local/pause:3.10
readonly PORT_KUBELET=22250 PORT_KUBELET_HEALTHZ=22248 PORT_PROXY_HEALTHZ=22256 PORT_PROXY_METRICS=22249
readonly LABEL_KEY=testbed/node LABEL_VALUE=real TAINT_KEY=testbed/real-node
PKI=$NODE_DIR/pki

# write_config FILE < CONTENT: writes FILE; succeeds when the content changed (its daemon must restart).
write_config() {
  cat > "$1.new"
  if cmp -s "$1.new" "$1"; then rm -f "$1.new"; return 1; fi
  mv "$1.new" "$1"
}

need_root() { [ "$(id -u)" = 0 ] || die "the real node runs a kubelet and containerd as root; rerun as root"; }

cluster_env() {
  [ -f "$TESTBED_DIR/ports" ] && [ -f "$TESTBED_DIR/pki/ca.key" ] && [ -f "$TESTBED_DIR/kubeconfig" ] \
    || die "the cluster side is not up ($TESTBED_DIR has no ports, CA or kubeconfig): run testbed/testbed.sh up"
  # shellcheck disable=SC1091
  source "$TESTBED_DIR/ports"
  KUBECTL_BIN=$(awk -F= '/^export KUBECTL=/{print $2}' "$TESTBED_DIR/env" 2>/dev/null | tr -d "'\"")
  REGISTRY=""
  if [ -f "$TESTBED_DIR/env.images" ]; then
    REGISTRY=$(awk -F= '/^export REGISTRY=/{print $2}' "$TESTBED_DIR/env.images" | tr -d "'\"")
  fi
}
kubectl_admin() { "$KUBECTL_BIN" --kubeconfig "$TESTBED_DIR/kubeconfig" --request-timeout=20s "$@"; }
ctr_node() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# --- what this machine needs ----------------------------------------------------------------------

ensure_packages() {
  local need=() pair
  for pair in containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins \
    iptables:iptables conntrack:conntrack gcc:gcc python3:python3 ip:iproute2 flock:util-linux; do
    if [[ ${pair%%:*} == /* ]]; then [ -e "${pair%%:*}" ] || need+=("${pair#*:}")
    else command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}"); fi
  done
  [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
  [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/aarch64-linux-gnu/libc.a ] || apt_install libc6-dev
}

# The kernel features a kubelet and kube-proxy need, checked before anything starts.
check_machine() {
  local c
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    CGROUP_VERSION=2
  else
    CGROUP_VERSION=1
    for c in cpu cpuacct cpuset memory pids; do
      [ -d "/sys/fs/cgroup/$c" ] || die "cgroup v1 controller '$c' is not mounted at /sys/fs/cgroup/$c; the kubelet needs it (TESTBED_REAL_NODE=0 to run without the real node)"
    done
  fi
  # CAP_SYS_RESOURCE (bit 24 of the effective set): without it no process may lower its OOM score.
  RESTRICT_OOM=true
  if (( (0x$(awk '/^CapEff/ {print $2}' /proc/self/status) >> 24) & 1 )); then RESTRICT_OOM=false; fi
  iptables -w 5 -t nat -S >/dev/null 2>&1 || die "iptables cannot read the nat table here; kube-proxy needs it (TESTBED_REAL_NODE=0 to run without the real node)"
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || die "the kernel has no bridge netfilter (br_netfilter); Services would not reach pods (TESTBED_REAL_NODE=0 to run without the real node)"
}

resolve_binaries() {
  local out name path
  out=$("$HERE/../tools/build.sh" node) || die "building kubelet and kube-proxy failed (see the go output above)"
  while IFS='=' read -r name path; do
    case $name in
      kubelet) BIN_KUBELET=$path ;;
      kube-proxy) BIN_KUBE_PROXY=$path ;;
    esac
  done <<< "$out"
  [ -x "${BIN_KUBELET:-}" ] && [ -x "${BIN_KUBE_PROXY:-}" ] || die "kubelet or kube-proxy missing after the build: $out"
}

# --- one node per machine ---------------------------------------------------------------------------

# Claims the machine's real node for this TESTBED_DIR, unless another test bed's node still runs.
claim_machine() {
  mkdir -p "$NODE_RUN"
  local owner
  owner=$(cat "$OWNER_FILE" 2>/dev/null || true)
  if [ -n "$owner" ] && [ "$owner" != "$TESTBED_DIR" ]; then
    if pid_alive "$owner/node/kubelet.pid" || pid_alive "$owner/node/containerd.pid"; then
      die "this machine's real node belongs to the test bed in $owner (its kubelet runs). Stop it there (TESTBED_DIR=$owner testbed/testbed.sh down) or start this test bed with TESTBED_REAL_NODE=0"
    fi
    log "the real node of $owner is no longer running; taking the machine's node over"
    cleanup_machine
    mkdir -p "$NODE_RUN"
  fi
  echo "$TESTBED_DIR" > "$OWNER_FILE"
}

# --- pieces -----------------------------------------------------------------------------------------

ensure_network() {
  sysctl -qw net.ipv4.ip_forward=1
  sysctl -qw net.bridge.bridge-nf-call-iptables=1
  # The node's address lives on a link of its own: an empty bridge (kernels without the dummy driver
  # have bridges), so it is local to this machine and never routed anywhere.
  if ! ip link show "$NODE_LINK" >/dev/null 2>&1; then
    ip link add "$NODE_LINK" type bridge || die "could not create the link $NODE_LINK for the node address"
  fi
  ip addr replace "$NODE_IP/32" dev "$NODE_LINK" || die "could not give $NODE_LINK the address $NODE_IP"
  ip link set "$NODE_LINK" up
  mkdir -p "$NODE_DIR/cni" "$NODE_ROOT/cni"
  # Written whole (containerd watches the folder and would read a half-written file).
  cat > "$NODE_DIR/cni/.conflist.tmp" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "otlp-testbed",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_ROOT/cni",
        "ranges": [[{ "subnet": "$POD_SUBNET" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  if cmp -s "$NODE_DIR/cni/.conflist.tmp" "$NODE_DIR/cni/10-otlp-testbed.conflist"; then
    rm -f "$NODE_DIR/cni/.conflist.tmp"
  else
    mv "$NODE_DIR/cni/.conflist.tmp" "$NODE_DIR/cni/10-otlp-testbed.conflist"
  fi
}

ensure_certs() {
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  cp "$TESTBED_DIR/pki/ca.crt" "$TESTBED_DIR/pki/ca.key" "$PKI/"
  local client="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  issue_cert kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
  issue_cert kubelet-serving "/O=system:nodes/CN=system:node:$NODE_NAME" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$NODE_NAME,IP:$NODE_IP"
  issue_cert kube-proxy "/CN=system:kube-proxy" "$client"
  rm -f "$PKI/ca.key"
  write_kubeconfig "$NODE_DIR/kubeconfig-kubelet" "system:node:$NODE_NAME" kubelet-client
  write_kubeconfig "$NODE_DIR/kubeconfig-kube-proxy" system:kube-proxy kube-proxy
}

ensure_containerd() {
  mkdir -p "$NODE_ROOT/containerd" "$NODE_RUN/containerd"
  local mirror=""
  if [ -n "$REGISTRY" ]; then
    # The test-bed registry speaks plain HTTP on loopback; credentials come from imagePullSecrets.
    mirror="
  [plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"$REGISTRY\"]
    endpoint = [\"http://$REGISTRY\"]"
  fi
  local changed=0
  write_config "$NODE_DIR/containerd.toml" <<EOF && changed=1
version = 2
root = "$NODE_ROOT/containerd"
state = "$NODE_RUN/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  # Sandboxes ask for oom_score_adj -998; lowering it needs CAP_SYS_RESOURCE, which a machine such as
  # this one (a VM's container) may not grant: runc init then dies ("can't get final child's PID").
  restrict_oom_score_adj = $RESTRICT_OOM
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]$mirror
EOF
  if [ "$changed" = 0 ] && pid_alive "$NODE_DIR/containerd.pid" "$(command -v containerd)"; then return 0; fi
  start_daemon containerd "$NODE_DIR/containerd.pid" "$NODE_DIR/logs/containerd.log" "$(command -v containerd)" \
    --config "$NODE_DIR/containerd.toml"
  wait_until containerd "$NODE_DIR/logs/containerd.log" "$NODE_DIR/containerd.pid" containerd \
    ctr --address "$CONTAINERD_SOCK" version
}

# The sandbox image: a static pause binary built here, imported into containerd's CRI namespace.
ensure_pause_image() {
  if ctr_node images ls -q 2>/dev/null | grep -qx "$PAUSE_IMAGE"; then return 0; fi
  local arch
  arch=$(dpkg --print-architecture)
  gcc -static -O2 -Wall -Wextra -o "$NODE_DIR/pause" "$HERE/pause.c" || die "compiling the pause binary failed"
  python3 "$HERE/oci-image.py" "$NODE_DIR/pause" "$PAUSE_IMAGE" "$arch" "$NODE_DIR/pause.tar" >/dev/null \
    || die "packing the pause image failed"
  ctr_node images import --snapshotter overlayfs "$NODE_DIR/pause.tar" >/dev/null \
    || die "containerd could not import the pause image ($NODE_DIR/pause.tar)"
  log "sandbox image $PAUSE_IMAGE imported"
}

ensure_kubelet() {
  mkdir -p "$NODE_ROOT/kubelet"
  local cgroup_v1_opts=""
  [ "$CGROUP_VERSION" = 1 ] && cgroup_v1_opts="failCgroupV1: false"
  local changed=0
  write_config "$NODE_DIR/kubelet.yaml" <<EOF && changed=1
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $PORT_KUBELET
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $PORT_KUBELET_HEALTHZ
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $PKI/ca.crt}
# Only the API server (and the test bed's admin) hold certificates from this CA.
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
$cgroup_v1_opts
failSwapOn: false
registerWithTaints:
- {key: $TAINT_KEY, value: "true", effect: NoSchedule}
maxPods: 30
serializeImagePulls: false
# Generous: the machine's disk is shared with builds; eviction must not fire on a busy test bed.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
fileCheckFrequency: 0s
staticPodPath: ""
# No name server for pods: nothing in the test bed resolves names, and a query must not leave the machine.
resolvConf: ""
EOF
  if [ "$changed" = 0 ] && pid_alive "$NODE_DIR/kubelet.pid" "$BIN_KUBELET"; then return 0; fi
  start_daemon kubelet "$NODE_DIR/kubelet.pid" "$NODE_DIR/logs/kubelet.log" "$BIN_KUBELET" \
    --config="$NODE_DIR/kubelet.yaml" --kubeconfig="$NODE_DIR/kubeconfig-kubelet" \
    --root-dir="$NODE_ROOT/kubelet" --cert-dir="$PKI" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
    --node-labels="$LABEL_KEY=$LABEL_VALUE,type=real" --v=1
  # (wait_until runs a command, not a shell function)
  wait_until kubelet "$NODE_DIR/logs/kubelet.log" "$NODE_DIR/kubelet.pid" kubelet \
    "$KUBECTL_BIN" --kubeconfig "$TESTBED_DIR/kubeconfig" wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s
}

ensure_kube_proxy() {
  local changed=0
  write_config "$NODE_DIR/kube-proxy.yaml" <<EOF && changed=1
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $NODE_DIR/kubeconfig-kube-proxy}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $CLUSTER_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:$PORT_PROXY_HEALTHZ
metricsBindAddress: 127.0.0.1:$PORT_PROXY_METRICS
# NodePorts answer on the node's own address only (not on every address of this machine).
nodePortAddresses: ["$NODE_IP/32"]
iptables: {localhostNodePorts: false, masqueradeAll: false, syncPeriod: 5s, minSyncPeriod: 0s}
# Leave the machine's conntrack limits and timeouts as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  if [ "$changed" = 0 ] && pid_alive "$NODE_DIR/kube-proxy.pid" "$BIN_KUBE_PROXY"; then return 0; fi
  start_daemon kube-proxy "$NODE_DIR/kube-proxy.pid" "$NODE_DIR/logs/kube-proxy.log" "$BIN_KUBE_PROXY" \
    --config="$NODE_DIR/kube-proxy.yaml" --v=1
  wait_until kube-proxy "$NODE_DIR/logs/kube-proxy.log" "$NODE_DIR/kube-proxy.pid" kube-proxy \
    curl -fsS --max-time 2 "http://127.0.0.1:$PORT_PROXY_HEALTHZ/healthz"
}

write_env() {
  {
    echo "# written by testbed/node/node.sh up; source it"
    printf 'export %s=%q\n' \
      TESTBED_REAL_NODE "$NODE_NAME" \
      TESTBED_REAL_NODE_IP "$NODE_IP" \
      TESTBED_REAL_NODE_SELECTOR "$LABEL_KEY=$LABEL_VALUE" \
      TESTBED_REAL_NODE_TAINT "$TAINT_KEY=true:NoSchedule"
    echo "# A NodePort Service answers at http://\$TESTBED_NODEPORT_HOST:<nodePort>; ClusterIPs answer from this machine too."
    printf 'export %s=%q\n' TESTBED_NODEPORT_HOST "$NODE_IP"
  } > "$TESTBED_DIR/env.node.new"
  mv "$TESTBED_DIR/env.node.new" "$TESTBED_DIR/env.node"
}

# --- commands ---------------------------------------------------------------------------------------

lock_node() {
  mkdir -p "$NODE_DIR/logs"
  exec 8>>"$NODE_DIR/.lock"
  flock -w $((WAIT_SECONDS * 4)) 8 || die "another node.sh up/down holds $NODE_DIR/.lock"
}

cmd_up() {
  local started=$SECONDS
  need_root
  ensure_packages
  check_machine
  cluster_env
  [ -x "$KUBECTL_BIN" ] || die "kubectl from $TESTBED_DIR/env ('$KUBECTL_BIN') is missing: run testbed/testbed.sh up"
  lock_node
  claim_machine
  resolve_binaries
  ensure_network
  ensure_certs
  ensure_containerd
  ensure_pause_image
  ensure_kubelet
  ensure_kube_proxy
  write_env
  log "real node $NODE_NAME Ready in $((SECONDS - started))s at $NODE_IP (cgroup v$CGROUP_VERSION): select it with nodeSelector $LABEL_KEY=$LABEL_VALUE and tolerate $TAINT_KEY"
}

# Processes left by containerd's shims (containers of our pods), recognised by the shim's -address.
kill_shims() {
  local pid victims=()
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null || true); do
    victims+=("$pid")
  done
  [ ${#victims[@]} -eq 0 ] && return 0
  log "stopping ${#victims[@]} containerd shim(s) and their containers"
  local p
  for p in "${victims[@]}"; do pkill -KILL -P "$p" 2>/dev/null || true; done
  kill -KILL "${victims[@]}" 2>/dev/null || true
  sleep 0.5
}

# What the node leaves on the machine when its daemons are gone: iptables rules, links, mounts, data.
cleanup_machine() {
  local proxy
  proxy=$(ls "$OTLP_DEPLOY_CACHE"/bin/kube-proxy-*/kube-proxy 2>/dev/null | head -n1 || true)
  [ -z "$proxy" ] || "$proxy" --cleanup >/dev/null 2>&1 || true
  kill_shims
  kill_container_leftovers "$NODE_ROOT"
  unmount_below "$NODE_ROOT"
  unmount_below "$NODE_RUN"
  # The bridge plugin's masquerade rules (CNI-* chains, commented with the network name) of pods
  # that were not torn down through the kubelet.
  local rule chain
  iptables -w 5 -t nat -S POSTROUTING 2>/dev/null | grep -F 'otlp-testbed' | grep -E -- '-j CNI-' | while read -r rule; do
    chain=${rule##*-j }
    eval "iptables -w 5 -t nat ${rule/#-A /-D }" 2>/dev/null || true
    iptables -w 5 -t nat -F "$chain" 2>/dev/null || true
    iptables -w 5 -t nat -X "$chain" 2>/dev/null || true
  done || true
  ip link del "$CNI_BRIDGE" 2>/dev/null || true
  ip link del "$NODE_LINK" 2>/dev/null || true
  rm -rf "$NODE_ROOT" "$NODE_RUN"
}

# Deletes the node's pods through the API and waits (briefly) for the kubelet to tear their sandboxes
# down, which releases their addresses and the bridge plugin's rules the proper way.
drain_pods() {
  pid_alive "$NODE_DIR/kubelet.pid" || return 0
  [ -x "${KUBECTL_BIN:-}" ] && kubectl_admin get --raw /readyz >/dev/null 2>&1 || return 0
  kubectl_admin delete pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" \
    --grace-period=1 --wait=false >/dev/null 2>&1 || true
  local deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ]; do
    [ -z "$(ls "$NODE_RUN/containerd/io.containerd.runtime.v2.task/k8s.io" 2>/dev/null)" ] && break
    sleep 0.5
  done
  kubectl_admin delete node "$NODE_NAME" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}

cmd_down() {
  need_root
  [ -d "$NODE_DIR" ] || { log "real node: nothing to stop ($NODE_DIR does not exist)"; return 0; }
  lock_node
  cluster_env 2>/dev/null || true
  drain_pods
  stop_daemon kube-proxy "$NODE_DIR/kube-proxy.pid"
  stop_daemon kubelet "$NODE_DIR/kubelet.pid"
  stop_daemon containerd "$NODE_DIR/containerd.pid"
  local owner
  owner=$(cat "$OWNER_FILE" 2>/dev/null || true)
  rm -rf "$NODE_DIR" "$TESTBED_DIR/env.node"
  if [ "$owner" = "$TESTBED_DIR" ]; then
    cleanup_machine
    log "real node down; its pods, iptables rules, links and state are removed"
  else
    # Another test bed took the machine's node over (this one's processes had gone): leave it to that one.
    log "real node: this test bed's node state removed; the machine's node belongs to ${owner:-no test bed}"
  fi
}

cmd_status() {
  local rc=0 name
  for name in containerd kubelet kube-proxy; do
    if pid_alive "$NODE_DIR/$name.pid"; then
      printf '%-24s running  pid %s\n' "node/$name" "$(cat "$NODE_DIR/$name.pid")"
    else
      printf '%-24s stopped\n' "node/$name"
      rc=1
    fi
  done
  return "$rc"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) die "usage: testbed/node/node.sh up|down|status (got '${1:-}')" ;;
esac
