#!/usr/bin/env bash
# Lifecycle tests of testbed/testbed.sh, on a private test bed (own state folder and ports, cluster side
# only) so that a test bed already running for other tests is left alone:
#   a port clash is refused before anything starts and names the port and its owner;
#   up starts everything and a second up is a fast no-op; processes outlive the shell that started them;
#   a component that died is restarted by up, and so is one running with other arguments than up gives it;
#   restart-apiserver gives a new, working API server;
#   down stops every process it started and removes the state.
# Needs the binaries built (testbed/tools/build.sh); prints "N passed, N failed".
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESTBED=$HERE/testbed.sh
export TESTBED_DIR
TESTBED_DIR=$(mktemp -d /tmp/testbed-lifecycle.XXXXXX)
export TESTBED_SKIP_IMAGES=1 TESTBED_TIMEOUT=${TESTBED_TIMEOUT:-90}
BASE=${TESTBED_LIFECYCLE_PORT_BASE:-24000}
export TESTBED_PORT_ETCD=$((BASE + 379)) TESTBED_PORT_ETCD_PEER=$((BASE + 380)) \
  TESTBED_PORT_APISERVER=$((BASE + 443)) TESTBED_PORT_CONTROLLER_MANAGER=$((BASE + 257)) \
  TESTBED_PORT_SCHEDULER=$((BASE + 259)) TESTBED_PORT_KWOK=$((BASE + 247)) TESTBED_PORT_AUTH=$((BASE + 556))

passed=0 failed=0 blocker_pid=""
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
ko() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

cleanup() {
  [ -n "$blocker_pid" ] && kill "$blocker_pid" 2>/dev/null
  "$TESTBED" down >/dev/null 2>&1
  rm -rf "$TESTBED_DIR"
}
trap cleanup EXIT

pids_of_state() { cat "$TESTBED_DIR"/run/*.pid 2>/dev/null | awk '{print $1}'; }

# 1. a port held by someone else: clear message, nothing started
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(120)' "$TESTBED_PORT_SCHEDULER" &
blocker_pid=$!
for _ in $(seq 50); do ss -Htln "sport = :$TESTBED_PORT_SCHEDULER" | grep -q . && break; sleep 0.1; done
out=$("$TESTBED" up 2>&1); rc=$?
if [ "$rc" -ne 0 ] && grep -q "port $TESTBED_PORT_SCHEDULER (for kube-scheduler) is already in use by pid $blocker_pid" <<< "$out"; then
  ok "a taken port is refused with the port, the component and the owner's pid"
else
  ko "port clash: rc=$rc, output: $out"
fi
if [ -z "$(pids_of_state)" ]; then ok "nothing was started before the clash was found"; else ko "processes started despite the clash: $(pids_of_state)"; fi
kill "$blocker_pid" 2>/dev/null; wait "$blocker_pid" 2>/dev/null; blocker_pid=""

# 2. up, from a separate shell that exits; then a warm up
if bash -c "'$TESTBED' up" >/dev/null 2>&1; then ok "up succeeds"; else ko "up failed"; fi
alive=0 total=0
for pid in $(pids_of_state); do total=$((total + 1)); kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
if [ "$total" -eq 6 ] && [ "$alive" -eq 6 ]; then ok "all 6 processes outlive the shell that started them"; else ko "$alive of $total processes alive (expected 6)"; fi
start=$SECONDS
"$TESTBED" up >/dev/null 2>&1 && [ $((SECONDS - start)) -le 10 ] \
  && ok "a second up is a no-op that returns in $((SECONDS - start))s" || ko "second up failed or took $((SECONDS - start))s"
# shellcheck disable=SC1091
source "$TESTBED_DIR/env"
for v in KUBECONFIG KUBECONFIG_DEPLOYER KUBECTL TESTBED_K8S_VERSION TESTBED_AUTH_URL TESTBED_EXEC_PLUGIN TESTBED_OIDC_ISSUER; do
  [ -n "${!v:-}" ] && ok ".testbed/env exports $v" || ko ".testbed/env lacks $v"
done

# 3. a dead component is restarted by up
read -r cm_pid _ < "$TESTBED_DIR/run/kube-controller-manager.pid"
kill -KILL "$cm_pid"; sleep 0.5
"$TESTBED" up >/dev/null 2>&1
read -r new_pid _ < "$TESTBED_DIR/run/kube-controller-manager.pid"
if [ "$new_pid" != "$cm_pid" ] && kill -0 "$new_pid" 2>/dev/null; then ok "up restarts a component that died"; else ko "controller-manager not restarted"; fi
"$TESTBED" status >/dev/null 2>&1 && ok "status exits 0 when everything runs" || ko "status reports a problem after recovery"

# 3b. a component running with other arguments (as after a change to testbed.sh) is restarted by up
read -r sched_pid sched_bin < "$TESTBED_DIR/run/kube-scheduler.pid"
mapfile -d '' -t sched_args < "/proc/$sched_pid/cmdline"
kill "$sched_pid"; for _ in $(seq 100); do kill -0 "$sched_pid" 2>/dev/null || break; sleep 0.1; done
setsid "${sched_args[@]}" --v=1 >> "$TESTBED_DIR/logs/kube-scheduler.log" 2>&1 < /dev/null &
old_sched=$!
echo "$old_sched $sched_bin" > "$TESTBED_DIR/run/kube-scheduler.pid"
for _ in $(seq 50); do [ "$(readlink "/proc/$old_sched/exe")" = "$sched_bin" ] && break; sleep 0.1; done
"$TESTBED" up >/dev/null 2>&1
read -r new_sched _ < "$TESTBED_DIR/run/kube-scheduler.pid"
if [ "$new_sched" != "$old_sched" ] && ! kill -0 "$old_sched" 2>/dev/null && ! tr '\0' '\n' < "/proc/$new_sched/cmdline" | grep -qx -- --v=1; then
  ok "up restarts a component whose arguments differ from those it would start it with"
else
  ko "kube-scheduler started with an extra --v=1 (pid $old_sched) was not replaced by up (pid now $new_sched)"
  kill "$old_sched" 2>/dev/null
fi

# 4. restart-apiserver
read -r api_pid _ < "$TESTBED_DIR/run/kube-apiserver.pid"
"$TESTBED" restart-apiserver >/dev/null 2>&1
read -r api_new _ < "$TESTBED_DIR/run/kube-apiserver.pid"
if [ "$api_new" != "$api_pid" ] && ! kill -0 "$api_pid" 2>/dev/null && "$KUBECTL" get nodes >/dev/null 2>&1; then
  ok "restart-apiserver replaces the API server process and the API answers again"
else
  ko "restart-apiserver: old pid $api_pid, new pid $api_new"
fi

# 5. status notices a stopped component
read -r kwok_pid _ < "$TESTBED_DIR/run/kwok.pid"
kill "$kwok_pid"; for _ in $(seq 50); do kill -0 "$kwok_pid" 2>/dev/null || break; sleep 0.1; done
if "$TESTBED" status >/dev/null 2>&1; then ko "status exits 0 while kwok is stopped"; else ok "status exits non-zero when a component is stopped"; fi

# 6. down
all=$(pids_of_state)
"$TESTBED" down >/dev/null 2>&1
left=""
for pid in $all; do kill -0 "$pid" 2>/dev/null && left+=" $pid"; done
[ -z "$left" ] && ok "down stops every process it started" || ko "processes left after down:$left"
[ ! -e "$TESTBED_DIR" ] && ok "down removes the state folder" || ko "$TESTBED_DIR still exists after down"

echo "lifecycle: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
