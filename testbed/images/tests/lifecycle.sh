#!/usr/bin/env bash
# Lifecycle tests for testbed/images/images.sh, on a throw-away state dir and port so a running test bed
# is left alone: bad input, a taken port, idempotent `up`, recovery from killed daemons, and a `down`
# that leaves no process and no state behind.
#   testbed/images/tests/lifecycle.sh        (root; uses the shared tool cache, builds it if cold)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGES_SH="$HERE/../images.sh"
WORK=$(mktemp -d /tmp/otlp-images-lifecycle.XXXXXX)
export TESTBED_DIR="$WORK/state" TESTBED_REGISTRY_PORT="${LIFECYCLE_PORT:-25990}"
FAILURES=0

pass() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; FAILURES=$((FAILURES + 1)); }

# Pids of processes whose command line mentions the throw-away state dir.
state_processes() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    [ "$pid" = $$ ] && continue
    { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q "$TESTBED_DIR" && echo "$pid"
  done
  return 0
}

# Pids of build containers whose root filesystem is made of layers below the state dir.
container_processes() {
  local f pid
  for f in /proc/[0-9]*/mountinfo; do
    pid=${f#/proc/}; pid=${pid%/mountinfo}
    [ "$pid" != 1 ] || continue
    { awk -v d="=$TESTBED_DIR/" '$5 == "/" && index($0, d) { found = 1 } END { exit !found }' "$f"; } 2>/dev/null && echo "$pid"
  done
  return 0
}

cleanup() {
  [ -z "${BLOCKER_PID:-}" ] || kill "$BLOCKER_PID" 2>/dev/null || true
  bash "$IMAGES_SH" down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# 1. Input validation names the offending variable.
if out=$(TESTBED_REGISTRY_PORT=http bash "$IMAGES_SH" up 2>&1); then
  fail "up accepted TESTBED_REGISTRY_PORT=http"
elif grep -q "TESTBED_REGISTRY_PORT: 'http' is not a port number" <<<"$out"; then
  pass "an invalid TESTBED_REGISTRY_PORT is refused with a message naming it"
else
  fail "unexpected message for an invalid port: $out"
fi

# 2. A taken port: clear message, nothing left running.
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(600)' \
  "$TESTBED_REGISTRY_PORT" &
BLOCKER_PID=$!
sleep 0.5
if out=$(timeout 300 bash "$IMAGES_SH" up 2>&1); then
  fail "up succeeded although port $TESTBED_REGISTRY_PORT was taken"
elif grep -q "port $TESTBED_REGISTRY_PORT is already in use" <<<"$out"; then
  pass "a taken registry port is reported with the port and how to choose another"
else
  fail "unexpected message for a taken port: $out"
fi
[ -z "$(state_processes)" ] && pass "the failed up left no process running" || fail "the failed up left processes: $(state_processes)"
kill "$BLOCKER_PID"; wait "$BLOCKER_PID" 2>/dev/null || true; BLOCKER_PID=

# 3. up, then up again: idempotent, fast, same daemons.
bash "$IMAGES_SH" up >"$WORK/up1.log" 2>&1 || { cat "$WORK/up1.log"; fail "up failed"; exit 1; }
pids_before=$(cat "$TESTBED_DIR"/registry/registry.pid "$TESTBED_DIR"/images/*.pid | sort | tr '\n' ' ')
started=$SECONDS
bash "$IMAGES_SH" up >"$WORK/up2.log" 2>&1 || { cat "$WORK/up2.log"; fail "second up failed"; }
took=$((SECONDS - started))
pids_after=$(cat "$TESTBED_DIR"/registry/registry.pid "$TESTBED_DIR"/images/*.pid | sort | tr '\n' ' ')
[ "$pids_before" = "$pids_after" ] && pass "a second up keeps the same daemons ($pids_after)" || fail "a second up replaced daemons: $pids_before -> $pids_after"
[ "$took" -le 15 ] && pass "a warm up takes ${took}s" || fail "a warm up took ${took}s (> 15s)"
bash "$IMAGES_SH" status >/dev/null && pass "status exits 0 when everything runs" || fail "status failed on a running test bed"

# 4. Killed daemons (a half-dead test bed): status says so, up repairs it.
kill -KILL "$(cat "$TESTBED_DIR/registry/registry.pid")" "$(cat "$TESTBED_DIR/images/buildkitd.pid")"
sleep 1
if bash "$IMAGES_SH" status >"$WORK/status.log" 2>&1; then
  fail "status exited 0 with the registry and buildkitd killed"
else
  grep -q '^registry   stopped' "$WORK/status.log" && grep -q '^buildkitd  stopped' "$WORK/status.log" \
    && pass "status reports the killed daemons as stopped (exit 1)" || fail "status output: $(cat "$WORK/status.log")"
fi
bash "$IMAGES_SH" up >"$WORK/up3.log" 2>&1 && bash "$IMAGES_SH" status >/dev/null \
  && pass "up restarts killed daemons" || { cat "$WORK/up3.log"; fail "up did not repair the killed daemons"; }
# shellcheck disable=SC1091
(source "$TESTBED_DIR/env.images" && timeout 60 docker buildx inspect --bootstrap >/dev/null) \
  && pass "the buildx builder works again after buildkitd was restarted" || fail "buildx builder broken after restart"

# 5. buildkitd killed in the middle of a build: its RUN containers outlive it; down must end them.
mkdir -p "$WORK/slow"
# shellcheck disable=SC2016 # a Dockerfile variable, expanded by the builder
printf 'ARG BASE_IMAGE=unset\nFROM ${BASE_IMAGE}\nRUN sleep 300\n' >"$WORK/slow/Dockerfile"
(
  # shellcheck disable=SC1091
  source "$TESTBED_DIR/env.images"
  printf '%s' "$REGISTRY_PASSWORD" | docker login -u "$REGISTRY_USERNAME" --password-stdin "$REGISTRY" >/dev/null 2>&1
  timeout 400 docker buildx build --platform linux/amd64,linux/arm64 --build-arg "BASE_IMAGE=$TESTBED_BASE_IMAGE" \
    "$WORK/slow" >"$WORK/slow.log" 2>&1 &
)
for _ in $(seq 1 120); do [ -n "$(container_processes)" ] && break; sleep 0.5; done
if [ -z "$(container_processes)" ]; then
  fail "no build container appeared within 60s (see $WORK/slow.log: $(tail -n 3 "$WORK/slow.log"))"
else
  kill -KILL "$(cat "$TESTBED_DIR/images/buildkitd.pid")"
  sleep 1
  [ -n "$(container_processes)" ] && pass "RUN containers outlive a SIGKILLed buildkitd (the case down must handle)" \
    || fail "the RUN containers died with buildkitd; the scenario did not happen"
fi

# 6. down: no process and no state left.
bash "$IMAGES_SH" down >"$WORK/down.log" 2>&1 || { cat "$WORK/down.log"; fail "down failed"; }
sleep 1
[ -z "$(state_processes)" ] && pass "down leaves no process behind" || fail "processes left after down: $(state_processes)"
[ -z "$(container_processes)" ] && pass "down ends build containers left by a killed buildkitd" || fail "build containers left after down: $(container_processes)"
! grep -qF "$TESTBED_DIR/" /proc/self/mounts && pass "down leaves no mount below the state dir" || fail "mounts left: $(grep -F "$TESTBED_DIR/" /proc/self/mounts | cut -d' ' -f2)"
[ ! -e "$TESTBED_DIR/images" ] && [ ! -e "$TESTBED_DIR/registry" ] && [ ! -e "$TESTBED_DIR/env.images" ] \
  && [ ! -e "/etc/containers/registries.conf.d/50-otlp-testbed-$TESTBED_REGISTRY_PORT.conf" ] \
  && pass "down removes its state" || fail "state left after down: $(ls -A "$TESTBED_DIR")"
bash "$IMAGES_SH" down >/dev/null 2>&1 && pass "down on a stopped test bed is a no-op" || fail "a second down failed"

if [ "$FAILURES" -gt 0 ]; then
  echo "$FAILURES lifecycle test(s) failed (logs in $WORK are removed on exit; rerun to inspect)" >&2
  exit 1
fi
echo "all image test bed lifecycle tests passed"
