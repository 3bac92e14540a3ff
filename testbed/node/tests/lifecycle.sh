#!/usr/bin/env bash
# Lifecycle tests of the real node (testbed/node/node.sh) on the running test bed: `up` again changes
# nothing; a second test bed is refused the machine's node before any side effect; `down` leaves no
# process, link, iptables chain, mount or state behind; `up` takes over what a vanished test bed left.
# Starts the test bed first (idempotent). Skipped, saying so, when TESTBED_REAL_NODE=0.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../../scripts/lib.sh
source "$HERE/../../../scripts/lib.sh"
NODE_SH=$HERE/../node.sh
TESTBED_DIR=${TESTBED_DIR:-$REPO_ROOT/.testbed}
if [ "${TESTBED_REAL_NODE:-1}" = 0 ]; then
  echo "node lifecycle: skipped (TESTBED_REAL_NODE=0: no real node on this machine)"
  exit 0
fi
bash "$REPO_ROOT/testbed/testbed.sh" up >/dev/null 2>&1 || die "testbed/testbed.sh up failed; run it to see why"
# shellcheck disable=SC1091
source "$TESTBED_DIR/env"

PASSED=0
pass() { PASSED=$((PASSED + 1)); printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*" >&2; exit 1; }
pids() { cat "$TESTBED_DIR"/node/{containerd,kubelet,kube-proxy}.pid 2>/dev/null | tr '\n' ' '; }
node_ready() { "$KUBECTL" wait --for=condition=Ready "node/$TESTBED_REAL_NODE" --timeout=60s >/dev/null 2>&1; }
leftovers() {
  pgrep -f "containerd --config $TESTBED_DIR/node/|kube-proxy-.*/kube-proxy|kubelet-.*/kubelet|containerd-shim-runc-v2 .*otlp-testbed-node" || true
  ip -br link | awk '$1 ~ /^otlptb-/ {print "link " $1}'
  iptables -w 5 -t nat -S 2>/dev/null | awk '/^-N KUBE-SVC|^-N KUBE-SERVICES|otlp-testbed/ {print "iptables " $0}'
  awk '$2 ~ /otlp-testbed-node/ {print "mount " $2}' /proc/self/mounts
  ls -d /run/otlp-testbed-node /var/lib/otlp-testbed-node 2>/dev/null || true
}

# 1. up again: nothing restarts
before=$(pids)
bash "$NODE_SH" up >/dev/null 2>&1 || fail "node.sh up on a running node failed"
[ "$(pids)" = "$before" ] || fail "node.sh up restarted a running daemon: pids $before -> $(pids)"
pass "up on a running node restarts nothing (pids $before)"

# 2. another test bed is refused the machine's node, before any side effect
other=$(mktemp -d /tmp/testbed-node-other.XXXXXX)
trap 'rm -rf "$other"' EXIT
mkdir -p "$other/pki"
cp "$TESTBED_DIR/ports" "$TESTBED_DIR/kubeconfig" "$TESTBED_DIR/env" "$other/"
cp "$TESTBED_DIR/pki/ca.crt" "$TESTBED_DIR/pki/ca.key" "$other/pki/"
if out=$(TESTBED_DIR=$other bash "$NODE_SH" up 2>&1); then fail "a second test bed was given the running node: $out"; fi
grep -q "belongs to the test bed in $TESTBED_DIR" <<<"$out" || fail "the refusal does not name the owner: $out"
[ "$(pids)" = "$before" ] || fail "the refused up touched the running node: pids $before -> $(pids)"
[ ! -e "$other/node/containerd.toml" ] || fail "the refused up wrote a containerd configuration"
node_ready || fail "the node is not Ready after the refused up"
pass "a second test bed is refused, naming the owner; the running node is untouched"

# 3. down leaves nothing behind; up brings the node back
bash "$NODE_SH" down >/dev/null 2>&1 || fail "node.sh down failed"
left=$(leftovers)
[ -z "$left" ] || fail "node.sh down left: $left"
"$KUBECTL" get node "$TESTBED_REAL_NODE" >/dev/null 2>&1 && fail "node.sh down left the Node object"
pass "down removes processes, links, iptables chains, mounts, state and the Node object"
# 4. a node left behind by a test bed whose processes are gone (a session that ended without `down`)
# is taken over: its owner file and a stale link are cleaned up, and the node comes up Ready.
mkdir -p /run/otlp-testbed-node
echo /nonexistent/.testbed > /run/otlp-testbed-node/owner
ip link add otlptb-cni0 type bridge
out=$(bash "$NODE_SH" up 2>&1) || fail "node.sh up over a vanished owner's leftovers failed: $(tail -5 <<<"$out")"
grep -q "the real node of /nonexistent/.testbed is no longer running; taking the machine's node over" <<<"$out" \
  || fail "up did not say it took over the vanished owner's node: $(tail -5 <<<"$out")"
[ "$(cat /run/otlp-testbed-node/owner)" = "$TESTBED_DIR" ] || fail "the owner file does not name $TESTBED_DIR"
node_ready || fail "the node is not Ready after the take-over"
pass "up after down, over a vanished test bed's leftovers: taken over, the node is Ready again"

echo "node lifecycle: $PASSED passed, 0 failed"
