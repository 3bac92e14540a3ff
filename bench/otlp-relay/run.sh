#!/usr/bin/env bash
# Throughput, memory and added latency of the otlp-client relay against a minimal OpenTelemetry
# Collector, under the same telemetrygen load to the same sink, one after the other in this run.
# The system under test is pinned to core 1, telemetrygen and the sink to core 0 (taskset).
# A direct run (telemetrygen -> sink) gives the baseline that "added latency" is measured against.
# Writes bench/results/otlp-relay.json.
# Env: BENCH_DURATION (default 15s), BENCH_WORKERS (per process, default 2), BENCH_TELEMETRYGEN_BATCH (spans per
# telemetrygen export, default 1000), BENCH_RATE (spans/s per worker, default 0 = unthrottled),
# BENCH_GENERATORS (telemetrygen processes, default 4), BENCH_CORES ("0 1").
# Upstream compression is off on both (the relay does not compress; the Collector would gzip by default).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../../scripts/lib.sh
source "$root/scripts/lib.sh"

duration="${BENCH_DURATION:-15s}"
workers="${BENCH_WORKERS:-2}"
batch="${BENCH_TELEMETRYGEN_BATCH:-1000}"
rate="${BENCH_RATE:-0}"
generators="${BENCH_GENERATORS:-4}"
read -r load_core dut_core <<<"${BENCH_CORES:-0 1}"
[ "$(nproc)" -ge 2 ] || die "the benchmark needs 2 cores (one for the system under test, one for the load)"
command -v taskset >/dev/null || apt_install util-linux
command -v python3 >/dev/null || apt_install python3

eval "$("$root/otlp-client/scripts/peers.sh" otelcol telemetrygen)"
log "building the relay and the benchmark sink (release)"
(cd "$root/otlp-client" && cargo build --release --locked --bin otlp-client --example bench_sink)
relay_bin="$root/otlp-client/target/release/otlp-client"
sink_bin="$root/otlp-client/target/release/examples/bench_sink"

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  local port=$1 i
  for i in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  die "nothing listens on 127.0.0.1:$port"
}
stat_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" 2>/dev/null || echo 0; }

# run_case NAME DUT_GRPC_PORT|"" -- starts the sink, the DUT (already started by the caller, pid in
# dut_pid) and telemetrygen; prints "spans seconds p99_ms rss_mib".
run_case() {
  local name=$1 target_port=$2 sink_port=$3 stats=$4
  local start end last_change count prev=-1 stable_since now
  log "[$name] telemetrygen: $generators processes x $workers workers, rate $rate per worker (0 = unthrottled), for $duration"
  start=$(date +%s.%N)
  # Several generator processes: one telemetrygen exports one batch at a time, which caps its rate.
  local gen_pids=() g
  for g in $(seq 1 "$generators"); do
    taskset -c "$load_core" "$TELEMETRYGEN_BIN" traces --otlp-endpoint "127.0.0.1:$target_port" --otlp-insecure \
      --workers "$workers" --rate "$rate" --duration "$duration" --child-spans 0 --batch-size "$batch" \
      >"$work/$name-telemetrygen-$g.log" 2>&1 &
    gen_pids+=($!)
  done
  for g in "${!gen_pids[@]}"; do
    wait "${gen_pids[$g]}" || die "[$name] telemetrygen $((g + 1)) failed: $(tail -3 "$work/$name-telemetrygen-$((g + 1)).log")"
  done
  # Wait until the sink has seen nothing new for 3 s (everything queued has drained).
  last_change=$(date +%s.%N); stable_since=$last_change
  while :; do
    count=$(stat_field "$stats" spans)
    now=$(date +%s.%N)
    if [ "$count" != "$prev" ]; then prev=$count; last_change=$now; stable_since=$now; fi
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1])-float(sys.argv[2])>=3 else 1)" "$now" "$stable_since" && break
    sleep 0.5
  done
  end=$last_change
  local rss=0 cpu=0
  if [ -n "${dut_pid:-}" ]; then
    rss=$(awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$dut_pid/status")
    # utime + stime of the system under test, in seconds (fields 14 and 15 of /proc/PID/stat).
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz}' "/proc/$dut_pid/stat")
  fi
  echo "$count $(python3 -c "print(float('$end')-float('$start'))") $(stat_field "$stats" p99_ms) $rss $cpu"
}

start_sink() {
  local port=$1 stats=$2
  taskset -c "$load_core" "$sink_bin" "127.0.0.1:$port" "$stats" >"$work/sink.log" 2>&1 &
  sink_pid=$!; pids+=("$sink_pid"); wait_port "$port"
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

results=()
for case in direct ours otelcol; do
  sink_port=$(free_port); stats="$work/$case-stats.json"; rm -f "$stats"
  start_sink "$sink_port" "$stats"
  dut_pid=""
  case $case in
    direct) target=$sink_port ;;
    ours)
      target=$(free_port)
      cat >"$work/relay.toml" <<TOML
[server]
grpc_addr = "127.0.0.1:$target"
http_addr = "127.0.0.1:$(free_port)"
health_addr = "127.0.0.1:$(free_port)"
[otlp]
endpoint = "http://127.0.0.1:$sink_port"
protocol = "grpc"
batch_size = 512
timeout = "200ms"
[otlp.metrics]
enabled = false
[otlp.logs]
enabled = false
TOML
      RUST_LOG=warn taskset -c "$dut_core" "$relay_bin" --config "$work/relay.toml" >"$work/relay.log" 2>&1 &
      dut_pid=$!; pids+=("$dut_pid"); wait_port "$target" ;;
    otelcol)
      target=$(free_port)
      cat >"$work/otelcol.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$target
processors:
  batch:
    send_batch_size: 512
    timeout: 200ms
exporters:
  otlp:
    endpoint: 127.0.0.1:$sink_port
    tls:
      insecure: true
    compression: none
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
YAML
      taskset -c "$dut_core" "$OTELCOL_BIN" --config "$work/otelcol.yaml" >"$work/otelcol.log" 2>&1 &
      dut_pid=$!; pids+=("$dut_pid"); wait_port "$target" ;;
  esac
  read -r spans secs p99 rss cpu < <(run_case "$case" "$target" "$sink_port" "$stats")
  log "[$case] $spans spans in ${secs}s, p99 arrival ${p99} ms, peak RSS ${rss} MiB, CPU ${cpu}s"
  results+=("$case $spans $secs $p99 $rss $cpu")
  [ -n "$dut_pid" ] && stop "$dut_pid"
  stop "$sink_pid"
done

mkdir -p "$root/bench/results"
python3 - "$root/bench/results/otlp-relay.json" "$duration" "$workers" "$batch" "$rate" "$generators" "${results[@]}" <<'PY'
import json, sys, platform, datetime
out, duration, workers, batch, rate, generators, *rows = sys.argv[1:]
r = {}
for row in rows:
    name, spans, secs, p99, rss, cpu = row.split()
    r[name] = dict(spans=int(spans), seconds=float(secs), spans_per_sec=int(spans) / float(secs), p99_ms=float(p99),
                   rss_mib=float(rss), cpu_seconds=float(cpu),
                   cpu_us_per_span=round(float(cpu) * 1e6 / int(spans), 2) if int(spans) else None)
d, o, c = r["direct"], r["ours"], r["otelcol"]
res = {
    "ours_spans_per_sec": round(o["spans_per_sec"]),
    "otelcol_spans_per_sec": round(c["spans_per_sec"]),
    "ours_rss_mib": o["rss_mib"],
    "otelcol_rss_mib": c["rss_mib"],
    "ours_p99_added_latency_ms": round(o["p99_ms"] - d["p99_ms"], 1),
    "otelcol_p99_added_latency_ms": round(c["p99_ms"] - d["p99_ms"], 1),
    "throughput_ratio_ours_to_otelcol": round(o["spans_per_sec"] / c["spans_per_sec"], 3) if c["spans_per_sec"] else None,
    "rss_ratio_ours_to_otelcol": round(o["rss_mib"] / c["rss_mib"], 3) if c["rss_mib"] else None,
    "ours_cpu_us_per_span": o["cpu_us_per_span"],
    "otelcol_cpu_us_per_span": c["cpu_us_per_span"],
    "baseline_direct_spans_per_sec": round(d["spans_per_sec"]),
    "ours_core_utilisation": round(o["cpu_seconds"] / o["seconds"], 3),
    "otelcol_core_utilisation": round(c["cpu_seconds"] / c["seconds"], 3),
    # Neither system under test used most of its core: the load generator set the pace, so compare
    # CPU per span and memory rather than spans/s.
    "capped_by_load_generator": all(x["cpu_seconds"] / x["seconds"] < 0.8 for x in (o, c)),
    "baseline_direct_p99_ms": d["p99_ms"],
    "method": {
        "load": f"telemetrygen traces, {generators} processes x {workers} workers, rate {rate}/s per worker (0 = unthrottled), {duration}, no child spans, batches of {batch}",
        "pinning": "system under test on one core, telemetrygen and sink on the other (taskset)",
        "batching": "both batch 512 spans or 200 ms",
        "throughput": "spans arriving at the sink / time from load start to the last arrival",
        "latency": "sink arrival time minus span end time, p99 (100 us buckets); added = case minus direct",
        "rss": "peak resident set (VmHWM) of the system under test",
    },
    "raw": r,
    "host": {"cpus": __import__("os").cpu_count(), "machine": platform.machine()},
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
}
json.dump(res, open(out, "w"), indent=2)
print(json.dumps(res, indent=2))
PY
