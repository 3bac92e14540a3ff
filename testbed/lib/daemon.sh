#!/usr/bin/env bash
# Daemon helpers shared by the image side (images/images.sh) and the real node (node/node.sh); sourced.
# The caller sets WAIT_SECONDS and holds its state lock on file descriptor 8 (daemons must not inherit it).
# Daemons: started detached (own session, survive the calling shell), tracked by a pid file,
# recognised by their executable so a recycled pid is never mistaken for ours.

# pid_alive PIDFILE [EXE]: the recorded pid runs the executable recorded next to it (PIDFILE.exe),
# and, when EXE is given, that executable is EXE (a version bump changes the cached binary's path).
pid_alive() {
  local pid recorded running
  [ -s "$1" ] && [ -s "$1.exe" ] || return 1
  pid=$(cat "$1") recorded=$(cat "$1.exe")
  running=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [ "${running% (deleted)}" = "$recorded" ] || return 1
  [ $# -lt 2 ] || [ "$recorded" = "$(readlink -f "$2")" ]
}

# wait_until DESCRIPTION LOGFILE PIDFILE EXE CMD...: polls CMD until it succeeds, at most WAIT_SECONDS;
# on timeout or early exit of the daemon, shows its log, stops it and fails.
wait_until() {
  local what=$1 logfile=$2 pidfile=$3 exe=$4; shift 4
  local deadline=$((SECONDS + WAIT_SECONDS))
  until timeout 10 "$@" >/dev/null 2>&1; do
    if ! pid_alive "$pidfile"; then
      tail -n 25 "$logfile" >&2 || true
      rm -f "$pidfile" "$pidfile.exe"
      die "$what exited during start-up (log above, full log: $logfile)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 25 "$logfile" >&2 || true
      stop_daemon "$what" "$pidfile"
      die "$what was not ready after ${WAIT_SECONDS}s (log above, full log: $logfile); stopped it. Raise TESTBED_TIMEOUT or fix the cause, then rerun: $0 up"
    fi
    sleep 0.3
  done
}

# start_daemon NAME PIDFILE LOGFILE EXE ARGS...: stops the process recorded in PIDFILE first, if any.
start_daemon() {
  local name=$1 pidfile=$2 logfile=$3 exe=$4; shift 4
  stop_daemon "$name" "$pidfile"
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  log "starting $name (log: $logfile)"
  # A clean environment: the registry reads REGISTRY_* variables as configuration overrides, and
  # the caller may have sourced env.images (REGISTRY_AUTH_FILE, REGISTRY_PASSWORD, ...).
  # 8>&-: the daemon must not inherit (and so hold forever) the state lock.
  setsid env -i PATH="$PATH" HOME="$HOME" "$exe" "$@" </dev/null >>"$logfile" 2>&1 8>&- &
  local pid=$! target _
  target=$(readlink -f "$exe")
  echo "$pid" >"$pidfile"
  echo "$target" >"$pidfile.exe"
  # Until setsid and env have exec'd, the pid shows their executable; wait (briefly) for the daemon's own.
  for _ in $(seq 1 50); do
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$target" ] && return 0
    process_gone "$pid" && return 0
    sleep 0.1
  done
}

# process_gone PID: exited (a zombie counts: an init that does not reap must not make us wait).
process_gone() { [ ! -d "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# stop_daemon NAME PIDFILE: SIGTERM, then SIGKILL after 20s; only ever the pid we recorded.
stop_daemon() {
  local name=$1 pidfile=$2 pid
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile" "$pidfile.exe"
    return 0
  fi
  pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    process_gone "$pid" && break
    sleep 0.2
  done
  if ! process_gone "$pid"; then
    log "$name (pid $pid) ignored SIGTERM for 20s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile" "$pidfile.exe"
}


# Kills what a daemon killed with SIGKILL left running: build containers (runc under buildkitd, dockerd
# or buildah), recognised by a root filesystem (the mount on "/" in their own mount namespace) that is
# an overlay made of layers below DIR. Mount propagation shows our mounts in other namespaces too, so
# only the root mount counts; pid 1 is never a candidate.
kill_container_leftovers() {
  local dir=$1 self_ns ns f pid victims=()
  self_ns=$(readlink /proc/self/ns/mnt)
  for f in /proc/[0-9]*/mountinfo; do
    pid=${f#/proc/}; pid=${pid%/mountinfo}
    [ "$pid" != 1 ] && [ "$pid" != $$ ] || continue
    ns=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null) && [ -n "$ns" ] && [ "$ns" != "$self_ns" ] || continue
    { awk -v d="=$dir/" '$5 == "/" && index($0, d) { found = 1 } END { exit !found }' "$f"; } 2>/dev/null \
      && victims+=("$pid")
  done
  [ ${#victims[@]} -eq 0 ] && return 0
  log "killing ${#victims[@]} leftover build container process(es): ${victims[*]}"
  kill -KILL "${victims[@]}" 2>/dev/null || true
  sleep 0.5
}

unmount_below() {
  local dir=$1 m
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done
}

