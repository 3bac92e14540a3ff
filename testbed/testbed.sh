#!/usr/bin/env bash
# The local test bed, cluster side: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# KWOK (fake nodes and kubelets) and authd (token webhook and OIDC issuers the API server trusts,
# auth/authd.mjs) as plain processes on 127.0.0.1, state in <repo>/.testbed/.
#
#   testbed/testbed.sh up                 build (cached) and start everything; idempotent
#   testbed/testbed.sh down               stop what `up` started (by pid) and remove .testbed/
#   testbed/testbed.sh status             what runs, where; exit 1 when something is down
#   testbed/testbed.sh check              end-to-end checks (nodes, a Deployment, every pod behaviour)
#   testbed/testbed.sh restart-apiserver  stop and start kube-apiserver (same etcd, same certs)
#
# Environment: TESTBED_DIR (state, default <repo>/.testbed), TESTBED_NODES (fake nodes, default 3),
# TESTBED_PORT_ETCD / _ETCD_PEER / _APISERVER / _CONTROLLER_MANAGER / _SCHEDULER / _KWOK / _AUTH (ports),
# TESTBED_TIMEOUT (seconds any single wait may take, default 60), TESTBED_SKIP_IMAGES=1 (cluster only),
# TESTBED_REAL_NODE=0 (no real worker node; see node/node.sh).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib.sh
source "$HERE/../scripts/lib.sh"

TESTBED_DIR=${TESTBED_DIR:-$REPO_ROOT/.testbed}
TESTBED_NODES=${TESTBED_NODES:-3}
TESTBED_TIMEOUT=${TESTBED_TIMEOUT:-60}
IMAGES_SH=$HERE/images/images.sh
# TESTBED_SKIP_IMAGES=1: the cluster side only (images/images.sh is then neither started nor stopped).
[ "${TESTBED_SKIP_IMAGES:-0}" = 1 ] && IMAGES_SH=/nonexistent/images.sh
# TESTBED_REAL_NODE=0: no real worker node (kubelet, containerd, kube-proxy); it also needs the image side.
NODE_SH=$HERE/node/node.sh
TESTBED_REAL_NODE=${TESTBED_REAL_NODE:-1}
[[ $TESTBED_REAL_NODE =~ ^[01]$ ]] || die "TESTBED_REAL_NODE must be 0 or 1 (got '$TESTBED_REAL_NODE')"
PKI=$TESTBED_DIR/pki
AUTH=$TESTBED_DIR/auth
RUN=$TESTBED_DIR/run
LOGS=$TESTBED_DIR/logs

# Ports below the Linux ephemeral range (32768+), away from the usual 2379/6443/10257/10259.
# The ports of a running test bed are those recorded in $TESTBED_DIR/ports, not the environment.
requested_ports() {
  PORT_ETCD=${TESTBED_PORT_ETCD:-22379}
  PORT_ETCD_PEER=${TESTBED_PORT_ETCD_PEER:-22380}
  PORT_APISERVER=${TESTBED_PORT_APISERVER:-22443}
  PORT_CONTROLLER_MANAGER=${TESTBED_PORT_CONTROLLER_MANAGER:-22257}
  PORT_SCHEDULER=${TESTBED_PORT_SCHEDULER:-22259}
  PORT_KWOK=${TESTBED_PORT_KWOK:-22247}
  PORT_AUTH=${TESTBED_PORT_AUTH:-22556}
}
ports_file_content() {
  printf 'PORT_ETCD=%s\nPORT_ETCD_PEER=%s\nPORT_APISERVER=%s\nPORT_CONTROLLER_MANAGER=%s\nPORT_SCHEDULER=%s\nPORT_KWOK=%s\nPORT_AUTH=%s\n' \
    "$PORT_ETCD" "$PORT_ETCD_PEER" "$PORT_APISERVER" "$PORT_CONTROLLER_MANAGER" "$PORT_SCHEDULER" "$PORT_KWOK" "$PORT_AUTH"
}
requested_ports
if [ -f "$TESTBED_DIR/ports" ]; then source "$TESTBED_DIR/ports"; fi

# authd before kube-apiserver: the API server's JWT authenticators fetch their issuers' keys at start.
COMPONENTS=(etcd authd kube-apiserver kube-controller-manager kube-scheduler kwok)

# --- small helpers --------------------------------------------------------------------------------

# wait_until DESCRIPTION TIMEOUT_SECONDS COMMAND... : polls COMMAND every 0.5 s; false on timeout.
wait_until() {
  local what=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.5
  done
}

port_of() {
  case $1 in
    etcd) echo "$PORT_ETCD" ;;
    kube-apiserver) echo "$PORT_APISERVER" ;;
    kube-controller-manager) echo "$PORT_CONTROLLER_MANAGER" ;;
    kube-scheduler) echo "$PORT_SCHEDULER" ;;
    kwok) echo "$PORT_KWOK" ;;
    authd) echo "$PORT_AUTH" ;;
  esac
}

# The process listening on TCP port $1 on any local address, as "pid N (executable)"; fails if none.
port_owner() {
  local line
  line=$(ss -Htlnp "sport = :$1" 2>/dev/null | head -n1) || true
  [ -n "$line" ] || return 1
  local pid exe
  pid=$(printf '%s\n' "$line" | sed -n 's/.*users:((".*",pid=\([0-9]*\).*/\1/p')
  if [ -n "$pid" ]; then
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || cat "/proc/$pid/comm" 2>/dev/null || echo "?")
    printf 'pid %s (%s)\n' "$pid" "$exe"
  else
    echo "an unknown process"
  fi
}

port_released() { ! ss -Htln "sport = :$1" | grep -q .; }

ensure_port_free() { # COMPONENT PORT
  local owner
  if owner=$(port_owner "$2"); then
    die "port $2 (for $1) is already in use by $owner. Stop that process, or choose another port with TESTBED_PORT_* (see testbed/testbed.sh), then run 'testbed/testbed.sh down' and 'up' again."
  fi
}

# pid of a component started by us and still alive (its executable is the one we started), or fail.
running_pid() {
  local f=$RUN/$1.pid pid bin exe
  [ -f "$f" ] || return 1
  read -r pid bin < "$f" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [ "${exe% (deleted)}" = "$bin" ] || return 1
  echo "$pid"
}

# start_daemon NAME BINARY ARGS... : starts a process in its own session (it outlives this shell),
# with its output in $LOGS/NAME.log and "PID BINARY" in $RUN/NAME.pid.
start_daemon() {
  local name=$1 bin=$2; shift 2
  local pidf=$RUN/$name.pid
  rm -f "$pidf"
  printf '\n===== %s starting %s\n' "$(date -u +%FT%TZ)" "$name" >> "$LOGS/$name.log"
  # setsid: a new session, so neither the end of this shell nor its terminal's SIGHUP stops it.
  # 9>&-: the daemon must not inherit (and so hold forever) the state lock.
  setsid bash -c 'printf "%s %s\n" "$$" "$1" > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
    "$pidf" "$bin" "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null 9>&- &
  local deadline=$((SECONDS + 10))
  until [ -s "$pidf" ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "$name did not start (no pid file after 10s); see $LOGS/$name.log"
    sleep 0.1
  done
}

# stop_components NAME... : TERM to the processes recorded in $RUN/NAME.pid (all at once), KILL to
# those still running after the grace period. Never touches a process this script did not start.
stop_components() {
  local name pid grace=10 pids=() names=()
  for name in "$@"; do
    if pid=$(running_pid "$name"); then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    fi
    rm -f "$RUN/$name.pid"
  done
  # kube-apiserver stops listening at once but can linger for a minute draining watches; it keeps no state.
  [ "$*" = kube-apiserver ] && grace=3
  local deadline=$((SECONDS + grace)) i alive
  while :; do
    alive=0
    for i in "${!pids[@]}"; do kill -0 "${pids[i]}" 2>/dev/null && alive=1; done
    [ "$alive" = 1 ] || break
    if [ "$SECONDS" -ge "$deadline" ]; then
      for i in "${!pids[@]}"; do
        if kill -0 "${pids[i]}" 2>/dev/null; then
          log "${names[i]} (pid ${pids[i]}) still running ${grace}s after SIGTERM; sending SIGKILL"
          kill -KILL "${pids[i]}" 2>/dev/null || true
        fi
      done
      sleep 0.2
      break
    fi
    sleep 0.1
  done
}

fail_with_log() { # NAME MESSAGE
  local logf=$LOGS/$1.log
  if [ -f "$logf" ]; then
    printf '%s\n' "--- last lines of $logf:" >&2
    tail -n 25 "$logf" >&2
  fi
  die "$2 (full log: $logf). Fix the cause, then 'testbed/testbed.sh up' again (or 'down' to start over)."
}

# --- binaries -------------------------------------------------------------------------------------

resolve_binaries() {
  local out
  out=$("$HERE/tools/build.sh") || die "building the test bed binaries failed (see the go output above); after a fix, 'testbed/testbed.sh up' resumes where it stopped"
  while IFS='=' read -r name path; do
    case $name in
      etcd) BIN_ETCD=$path ;;
      kwok) BIN_KWOK=$path ;;
      kube-apiserver) BIN_APISERVER=$path ;;
      kube-controller-manager) BIN_CONTROLLER_MANAGER=$path ;;
      kube-scheduler) BIN_SCHEDULER=$path ;;
      kubectl) BIN_KUBECTL=$path ;;
    esac
  done <<< "$out"
  # The real executable (not a symlink or shim): running_pid recognises authd by it.
  BIN_NODE=$(node -p process.execPath 2>/dev/null) || die "node is not on PATH; authd (testbed/auth/authd.mjs) needs Node.js 20 or later"
  K8S_VERSION=$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$HERE/tools/kubernetes/go.mod")
}

kubectl_admin() { "$BIN_KUBECTL" --kubeconfig "$TESTBED_DIR/kubeconfig" "$@"; }

# --- certificates and kubeconfigs -----------------------------------------------------------------
# issue_cert and write_kubeconfig, shared with the real node (node/node.sh).
# shellcheck source=lib/pki.sh
source "$HERE/lib/pki.sh"

ensure_pki() {
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  if [ ! -f "$PKI/ca.crt" ]; then
    log "generating the test bed CA and certificates in $PKI"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -sha256 \
      -keyout "$PKI/ca.key" -out "$PKI/ca.crt.tmp" -subj "/CN=otlp-deploy-testbed-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null \
      || die "openssl could not create the test bed CA"
    mv "$PKI/ca.crt.tmp" "$PKI/ca.crt"
  fi
  local client="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  issue_cert kube-apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1"
  # The aggregation layer's front proxy; configured so that delegated authentication (controller-manager,
  # scheduler) finds a complete extension-apiserver-authentication ConfigMap.
  issue_cert front-proxy-client "/CN=front-proxy-client" "$client"
  issue_cert admin "/O=system:masters/CN=testbed-admin" "$client"
  issue_cert deployer "/CN=deployer" "$client"
  issue_cert kube-controller-manager "/CN=system:kube-controller-manager" "$client"
  issue_cert kube-scheduler "/CN=system:kube-scheduler" "$client"
  # KWOK plays every kubelet (node status, leases, pod status, deletions); it gets admin rights.
  issue_cert kwok "/O=system:masters/CN=kwok-controller" "$client"
  # The API server's identity towards the real node's kubelet (logs, exec, port-forward).
  issue_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
  issue_cert authd "/CN=testbed-authd" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null || die "openssl could not create the service-account key"
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null || die "openssl could not derive sa.pub"
  fi
  chmod 600 "$PKI"/*.key
}

ensure_kubeconfigs() {
  write_kubeconfig "$TESTBED_DIR/kubeconfig" testbed-admin admin
  write_kubeconfig "$TESTBED_DIR/kubeconfig-deployer" deployer deployer
  write_kubeconfig "$TESTBED_DIR/kubeconfig-controller-manager" kube-controller-manager kube-controller-manager
  write_kubeconfig "$TESTBED_DIR/kubeconfig-scheduler" kube-scheduler kube-scheduler
  write_kubeconfig "$TESTBED_DIR/kubeconfig-kwok" kwok kwok
}

# --- authentication stand-ins (auth/authd.mjs) ----------------------------------------------------

# The OIDC client id (also in auth/authd.mjs) and the audience the gha issuer's tokens must carry.
OIDC_CLIENT_ID=testbed-cli
GHA_AUDIENCE=otlp-deploy-testbed

# write_if_changed FILE : stdin into FILE (owner-only) unless FILE already holds exactly that; the API
# server reloads its authentication config whenever the file changes.
write_if_changed() {
  (umask 077 && cat > "$1.tmp")
  if cmp -s "$1.tmp" "$1"; then rm -f "$1.tmp"; else mv "$1.tmp" "$1"; fi
}

# Keys and secrets (owner-only, made once) and the API server's two authentication files.
ensure_auth() {
  mkdir -p "$AUTH"
  chmod 700 "$AUTH"
  ( umask 077
    [ -s "$AUTH/webhook.key" ] || openssl rand -hex 32 > "$AUTH/webhook.key"
    [ -s "$AUTH/oidc-client-secret" ] || openssl rand -hex 24 > "$AUTH/oidc-client-secret"
    for k in oidc-signing gha-signing; do
      [ -s "$AUTH/$k.key" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$AUTH/$k.key" 2>/dev/null
    done
  ) || die "openssl could not create the authentication keys in $AUTH"
  write_if_changed "$AUTH/webhook-kubeconfig" <<EOF
# kube-apiserver --authentication-token-webhook-config-file: authd's TokenReview endpoint.
apiVersion: v1
kind: Config
clusters:
- name: authd
  cluster:
    server: https://127.0.0.1:$PORT_AUTH/tokenreview
    certificate-authority: $PKI/ca.crt
users:
- name: kube-apiserver
  user: {}
contexts:
- name: webhook
  context: {cluster: authd, user: kube-apiserver}
current-context: webhook
EOF
  local ca
  ca=$(sed 's/^/      /' "$PKI/ca.crt")
  write_if_changed "$AUTH/authentication-config.yaml" <<EOF
# kube-apiserver --authentication-config: the two issuers authd serves.
apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: https://127.0.0.1:$PORT_AUTH/oidc
    audiences: [$OIDC_CLIENT_ID]
    certificateAuthority: |
$ca
  claimMappings:
    username: {claim: sub, prefix: "oidc:"}
- issuer:
    url: https://127.0.0.1:$PORT_AUTH/gha
    audiences: [$GHA_AUDIENCE]
    certificateAuthority: |
$ca
  claimMappings:
    username:
      expression: "'gha:' + claims.repository + ':' + claims.environment"
EOF
}

# --- health probes --------------------------------------------------------------------------------

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$PORT_ETCD/health" | grep -q '"health":"true"'; }
apiserver_ready() {
  curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$PORT_APISERVER/readyz" | grep -qx ok
}
healthz_ok() { curl -fsSk --max-time 2 "https://127.0.0.1:$1/healthz" | grep -qx ok; }
kwok_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$PORT_KWOK/healthz" | grep -qx ok; }
authd_healthy() { curl -fsS --max-time 2 --cacert "$PKI/ca.crt" "https://127.0.0.1:$PORT_AUTH/healthz" | grep -qx ok; }

healthy() {
  case $1 in
    etcd) etcd_healthy ;;
    kube-apiserver) apiserver_ready ;;
    kube-controller-manager) healthz_ok "$PORT_CONTROLLER_MANAGER" ;;
    kube-scheduler) healthz_ok "$PORT_SCHEDULER" ;;
    kwok) kwok_healthy ;;
    authd) authd_healthy ;;
  esac
}

# --- components -----------------------------------------------------------------------------------

component_args() {
  case $1 in
    etcd) printf '%s\n' "$BIN_ETCD" \
      --name=testbed --data-dir="$TESTBED_DIR/etcd" \
      --listen-client-urls="http://127.0.0.1:$PORT_ETCD" --advertise-client-urls="http://127.0.0.1:$PORT_ETCD" \
      --listen-peer-urls="http://127.0.0.1:$PORT_ETCD_PEER" --initial-advertise-peer-urls="http://127.0.0.1:$PORT_ETCD_PEER" \
      --initial-cluster="testbed=http://127.0.0.1:$PORT_ETCD_PEER" \
      --unsafe-no-fsync --quota-backend-bytes=2147483648 --log-level=warn ;;
    kube-apiserver) printf '%s\n' "$BIN_APISERVER" \
      --etcd-servers="http://127.0.0.1:$PORT_ETCD" \
      --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$PORT_APISERVER" \
      --tls-cert-file="$PKI/kube-apiserver.crt" --tls-private-key-file="$PKI/kube-apiserver.key" \
      --client-ca-file="$PKI/ca.crt" \
      --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=front-proxy-client \
      --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
      --requestheader-extra-headers-prefix=X-Remote-Extra- \
      --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
      --authorization-mode=Node,RBAC \
      --service-account-issuer=https://kubernetes.default.svc.cluster.local \
      --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
      --service-cluster-ip-range=10.96.0.0/16 \
      --endpoint-reconciler-type=none \
      --kubelet-preferred-address-types=InternalIP \
      --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
      --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
      --allow-privileged=true --profiling=false \
      --enable-admission-plugins=NodeRestriction \
      --authentication-config="$AUTH/authentication-config.yaml" \
      --authentication-token-webhook-config-file="$AUTH/webhook-kubeconfig" \
      --authentication-token-webhook-version=v1 --authentication-token-webhook-cache-ttl=1s ;;
    kube-controller-manager) printf '%s\n' "$BIN_CONTROLLER_MANAGER" \
      --kubeconfig="$TESTBED_DIR/kubeconfig-controller-manager" \
      --authentication-kubeconfig="$TESTBED_DIR/kubeconfig-controller-manager" \
      --authorization-kubeconfig="$TESTBED_DIR/kubeconfig-controller-manager" \
      --bind-address=127.0.0.1 --secure-port="$PORT_CONTROLLER_MANAGER" \
      --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
      --use-service-account-credentials=true \
      --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
      --service-cluster-ip-range=10.96.0.0/16 \
      --leader-elect=false --profiling=false ;;
    kube-scheduler) printf '%s\n' "$BIN_SCHEDULER" \
      --kubeconfig="$TESTBED_DIR/kubeconfig-scheduler" \
      --authentication-kubeconfig="$TESTBED_DIR/kubeconfig-scheduler" \
      --authorization-kubeconfig="$TESTBED_DIR/kubeconfig-scheduler" \
      --bind-address=127.0.0.1 --secure-port="$PORT_SCHEDULER" \
      --leader-elect=false --profiling=false ;;
    kwok) printf '%s\n' "$BIN_KWOK" \
      --config="$HERE/kwok/stages.yaml" \
      --kubeconfig="$TESTBED_DIR/kubeconfig-kwok" \
      --server-address="127.0.0.1:$PORT_KWOK" ;;
    authd) printf '%s\n' "$BIN_NODE" "$HERE/auth/authd.mjs" serve \
      --port="$PORT_AUTH" --dir="$AUTH" --cert="$PKI/authd.crt" --key="$PKI/authd.key" ;;
  esac
}

# ensure_component NAME : start NAME unless it already runs with the arguments it would get now (else
# restart it); wait until it is healthy.
ensure_component() {
  local name=$1 port pid args=()
  port=$(port_of "$name")
  mapfile -t args < <(component_args "$name")
  if pid=$(running_pid "$name"); then
    if [ "$(tr '\0' '\n' < "/proc/$pid/cmdline")" = "$(printf '%s\n' "${args[@]}")" ]; then
      wait_until "$name to be healthy" "$TESTBED_TIMEOUT" healthy "$name" \
        || fail_with_log "$name" "$name (pid $pid) runs but is not healthy on port $port"
      return 0
    fi
    # E.g. a test bed started before a flag was added: it must not keep running the old configuration.
    log "$name (pid $pid) runs with other arguments than this testbed.sh gives it; restarting it"
    stop_components "$name"
    wait_until "port $port to be released" 15 port_released "$port" \
      || die "port $port is still in use after stopping $name; see testbed/testbed.sh status"
  fi
  [ -f "$RUN/$name.pid" ] && log "$name from an earlier run is gone; starting it again"
  ensure_port_free "$name" "$port"
  [ "$name" = etcd ] && ensure_port_free etcd-peer "$PORT_ETCD_PEER"
  # A new KWOK has a new identity and would wait ~40 s for the node leases its predecessor held.
  [ "$name" = kwok ] && release_node_leases
  log "starting $name on 127.0.0.1:$port"
  start_daemon "$name" "${args[@]}"
  local deadline=$((SECONDS + TESTBED_TIMEOUT))
  until healthy "$name" >/dev/null 2>&1; do
    # Only liveness here: for an instant after start the pid is still the bash that execs the binary.
    kill -0 "$(cut -d' ' -f1 "$RUN/$name.pid")" 2>/dev/null || fail_with_log "$name" "$name exited during start-up"
    [ "$SECONDS" -lt "$deadline" ] || fail_with_log "$name" "$name was not healthy on port $port after ${TESTBED_TIMEOUT}s"
    sleep 0.3
  done
}

# --- cluster content ------------------------------------------------------------------------------

# Node and pod addresses are loopback addresses on purpose: whatever dials them (the API server for
# logs/exec/port-forward/proxy, a test) stays on this machine and is refused, never routed elsewhere.
node_manifest() { # NAME INDEX
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $1
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $1
    kubernetes.io/os: linux
    node-role.kubernetes.io/worker: ""
    type: kwok
status:
  addresses:
  - {type: InternalIP, address: 127.0.100.$((10 + $2))}
  - {type: Hostname, address: $1}
  allocatable: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi}
  capacity: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: $K8S_VERSION
    kubeProxyVersion: $K8S_VERSION
    containerRuntimeVersion: containerd://2.1.4
    kernelVersion: 6.1.0-kwok
    osImage: Debian GNU/Linux 12 (bookworm)
EOF
}

release_node_leases() {
  local i names=()
  for i in $(seq 0 $((TESTBED_NODES - 1))); do names+=("kwok-node-$i"); done
  kubectl_admin delete lease -n kube-node-lease --ignore-not-found "${names[@]}" >/dev/null 2>&1 || true
}

ready_node_count() {
  kubectl_admin get nodes -l type=kwok -o json 2>/dev/null | jq '[.items[] | select(any(.status.conditions[]?; .type=="Ready" and .status=="True"))] | length'
}
nodes_ready() { [ "$(ready_node_count)" -ge "$TESTBED_NODES" ]; }

ensure_nodes() {
  local i name
  for i in $(seq 0 $((TESTBED_NODES - 1))); do
    name=kwok-node-$i
    kubectl_admin get node "$name" >/dev/null 2>&1 && continue
    node_manifest "$name" "$i" | kubectl_admin create -f - >/dev/null || die "could not create node $name"
  done
  wait_until "$TESTBED_NODES Ready nodes" "$TESTBED_TIMEOUT" nodes_ready \
    || fail_with_log kwok "only $(ready_node_count) of $TESTBED_NODES fake nodes became Ready"
  # Pods need the default service account, which the controller-manager creates shortly after start.
  wait_until "the default service account" "$TESTBED_TIMEOUT" kubectl_admin get serviceaccount default -n default \
    || fail_with_log kube-controller-manager "the default service account was not created"
}

write_env() {
  local f=$TESTBED_DIR/env
  # It carries the registry password (from env.images): readable by its owner only, like env.images.
  (umask 077; : > "$f.tmp")
  {
    echo "# Generated by testbed/testbed.sh up; source it: . .testbed/env"
    printf 'export KUBECONFIG=%q\n' "$TESTBED_DIR/kubeconfig"
    printf 'export KUBECONFIG_DEPLOYER=%q\n' "$TESTBED_DIR/kubeconfig-deployer"
    printf 'export KUBECTL=%q\n' "$BIN_KUBECTL"
    printf 'export TESTBED_K8S_VERSION=%q\n' "$K8S_VERSION"
    printf 'export TESTBED_DIR=%q\n' "$TESTBED_DIR"
    printf 'export TESTBED_APISERVER=%q\n' "https://127.0.0.1:$PORT_APISERVER"
    printf 'export TESTBED_CA_FILE=%q\n' "$PKI/ca.crt"
    echo "# authd (testbed/auth/): token webhook, OIDC issuer and GitHub Actions OIDC stand-in; secrets stay in files"
    printf 'export TESTBED_AUTH_URL=%q\n' "https://127.0.0.1:$PORT_AUTH"
    printf 'export TESTBED_AUTH_DIR=%q\n' "$AUTH"
    printf 'export TESTBED_AUTH_KEY=%q\n' "$AUTH/webhook.key"
    printf 'export TESTBED_AUTH_CLI=%q\n' "$HERE/auth/authd.mjs"
    printf 'export TESTBED_EXEC_PLUGIN=%q\n' "$HERE/auth/exec-plugin.mjs"
    printf 'export TESTBED_OIDC_ISSUER=%q\n' "https://127.0.0.1:$PORT_AUTH/oidc"
    printf 'export TESTBED_OIDC_CLIENT_ID=%q\n' "$OIDC_CLIENT_ID"
    printf 'export TESTBED_OIDC_CLIENT_SECRET_FILE=%q\n' "$AUTH/oidc-client-secret"
    printf 'export TESTBED_GHA_ISSUER=%q\n' "https://127.0.0.1:$PORT_AUTH/gha"
    printf 'export TESTBED_GHA_AUDIENCE=%q\n' "$GHA_AUDIENCE"
    if [ -f "$TESTBED_DIR/env.images" ]; then
      echo "# from testbed/images/images.sh up (.testbed/env.images)"
      cat "$TESTBED_DIR/env.images"
    fi
    if [ -f "$TESTBED_DIR/env.node" ]; then
      echo "# from testbed/node/node.sh up (.testbed/env.node)"
      cat "$TESTBED_DIR/env.node"
    fi
  } > "$f.tmp"
  mv "$f.tmp" "$f"
}

# --- commands -------------------------------------------------------------------------------------

# One up/down/restart at a time per state folder (tests may call up concurrently).
lock_state() {
  mkdir -p "$TESTBED_DIR"
  exec 9>> "$TESTBED_DIR/.lock"
  local wait_s=$((TESTBED_TIMEOUT * 10))
  flock -w "$wait_s" 9 || die "another testbed.sh up/down/restart-apiserver has held $TESTBED_DIR/.lock for ${wait_s}s; is one stuck? (see $LOGS)"
}

cmd_up() {
  local started=$SECONDS
  apt_install curl jq openssl iproute2 procps util-linux
  lock_state
  mkdir -p "$RUN" "$LOGS"
  printf '*\n' > "$TESTBED_DIR/.gitignore"
  # While nothing runs, the ports asked for now (TESTBED_PORT_*) replace those of an earlier attempt.
  local c any_running=0
  for c in "${COMPONENTS[@]}"; do running_pid "$c" >/dev/null && any_running=1; done
  if [ "$any_running" = 0 ]; then
    requested_ports
    if [ "$(ports_file_content)" != "$(cat "$TESTBED_DIR/ports" 2>/dev/null)" ]; then
      rm -f "$TESTBED_DIR"/kubeconfig*   # they name the API server's port
      ports_file_content > "$TESTBED_DIR/ports"
    fi
  else
    # A test bed started before authd existed: authd gets the port asked for now.
    grep -q '^PORT_AUTH=' "$TESTBED_DIR/ports" || printf 'PORT_AUTH=%s\n' "$PORT_AUTH" >> "$TESTBED_DIR/ports"
    if [ -n "${TESTBED_PORT_APISERVER:-}${TESTBED_PORT_ETCD:-}${TESTBED_PORT_ETCD_PEER:-}${TESTBED_PORT_CONTROLLER_MANAGER:-}${TESTBED_PORT_SCHEDULER:-}${TESTBED_PORT_KWOK:-}${TESTBED_PORT_AUTH:-}" ]; then
      ( requested_ports; [ "$(ports_file_content)" = "$(cat "$TESTBED_DIR/ports")" ] ) ||
        log "note: the test bed already runs on the ports in $TESTBED_DIR/ports; TESTBED_PORT_* apply after 'down'"
    fi
  fi
  resolve_binaries
  ensure_pki
  ensure_auth
  ensure_kubeconfigs
  # Every port is checked before anything starts, so a clash never leaves a half-started test bed.
  for c in "${COMPONENTS[@]}"; do
    running_pid "$c" >/dev/null && continue
    ensure_port_free "$c" "$(port_of "$c")"
    [ "$c" = etcd ] && ensure_port_free etcd-peer "$PORT_ETCD_PEER"
  done
  for c in "${COMPONENTS[@]}"; do ensure_component "$c"; done
  ensure_nodes
  write_env
  if [ -x "$IMAGES_SH" ] || [ -f "$IMAGES_SH" ]; then
    log "starting the image side: testbed/images/images.sh up"
    bash "$IMAGES_SH" up 9>&- || die "testbed/images/images.sh up failed; the cluster side is up (testbed/testbed.sh status)"
    write_env
    if [ "$TESTBED_REAL_NODE" = 1 ]; then
      log "starting the real worker node: testbed/node/node.sh up (TESTBED_REAL_NODE=0 leaves it out)"
      bash "$NODE_SH" up 9>&- || die "testbed/node/node.sh up failed; the rest of the test bed is up. Machines that cannot run a kubelet: TESTBED_REAL_NODE=0"
      write_env
    fi
  fi
  log "test bed up in $((SECONDS - started))s: Kubernetes $K8S_VERSION at https://127.0.0.1:$PORT_APISERVER, $TESTBED_NODES fake nodes"
  log "use it with: . $TESTBED_DIR/env && \"\$KUBECTL\" get nodes"
}

cmd_down() {
  [ -d "$TESTBED_DIR" ] && lock_state
  # The real node first: its kubelet deletes its pods' sandboxes while the API server still answers.
  if [ -d "$TESTBED_DIR/node" ]; then
    bash "$NODE_SH" down 9>&- || log "warning: testbed/node/node.sh down failed; continuing"
  fi
  if [ -f "$IMAGES_SH" ]; then
    bash "$IMAGES_SH" down 9>&- || log "warning: testbed/images/images.sh down failed; continuing with the cluster side"
  fi
  # Clients of the API server first (together), then the API server, then etcd.
  stop_components kwok kube-scheduler kube-controller-manager
  stop_components kube-apiserver
  stop_components authd etcd
  rm -rf "$TESTBED_DIR"
  log "test bed down; $TESTBED_DIR removed"
}

cmd_status() {
  local c pid bad=0 port
  if [ ! -d "$TESTBED_DIR" ]; then
    echo "test bed: not set up ($TESTBED_DIR does not exist); run testbed/testbed.sh up"
    bad=1
  else
    for c in "${COMPONENTS[@]}"; do
      port=$(port_of "$c")
      if pid=$(running_pid "$c"); then
        if healthy "$c" >/dev/null 2>&1; then
          printf '%-24s running  pid %-8s 127.0.0.1:%s  healthy\n' "$c" "$pid" "$port"
        else
          printf '%-24s running  pid %-8s 127.0.0.1:%s  NOT HEALTHY (log: %s)\n' "$c" "$pid" "$port" "$LOGS/$c.log"
          bad=1
        fi
      else
        printf '%-24s stopped                  127.0.0.1:%s\n' "$c" "$port"
        bad=1
      fi
    done
    if [ -f "$TESTBED_DIR/env" ] && apiserver_ready >/dev/null 2>&1; then
      # shellcheck disable=SC1091
      source "$TESTBED_DIR/env"
      printf 'kubernetes %s, %s Ready fake nodes; env: %s\n' "$TESTBED_K8S_VERSION" \
        "$("$KUBECTL" get nodes -l type=kwok -o json | jq '[.items[] | select(any(.status.conditions[]?; .type=="Ready" and .status=="True"))] | length')" \
        "$TESTBED_DIR/env"
    fi
  fi
  if [ -f "$IMAGES_SH" ]; then
    bash "$IMAGES_SH" status || bad=1
  fi
  if [ -d "$TESTBED_DIR/node" ]; then
    bash "$NODE_SH" status || bad=1
  fi
  return "$bad"
}

cmd_restart_apiserver() {
  [ -f "$TESTBED_DIR/env" ] || die "the test bed is not up ($TESTBED_DIR/env missing); run testbed/testbed.sh up"
  lock_state
  resolve_binaries
  # The API server's flags name authd's files, and it fetches the issuers' keys at start.
  ensure_pki
  ensure_auth
  ensure_component authd
  stop_components kube-apiserver
  wait_until "port $PORT_APISERVER to be released" 15 port_released "$PORT_APISERVER"
  ensure_component kube-apiserver
  log "kube-apiserver restarted (pid $(running_pid kube-apiserver))"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  check) exec bash "$HERE/check.sh" ;;
  restart-apiserver) cmd_restart_apiserver ;;
  *) die "usage: testbed/testbed.sh up|down|status|check|restart-apiserver (got '${1:-}')" ;;
esac
