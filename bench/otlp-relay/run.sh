#!/usr/bin/env bash
# Throughput, CPU per span, memory and added latency of the otlp-client relay against a minimal
# OpenTelemetry Collector (otlp receiver -> batch 512 / 200 ms -> otlp exporter, no compression),
# in one run, on the same loads into the same sink.
#
# The system under test (DUT) is pinned to one core, the load generator and the sink to the other
# (taskset). Three loads, each run direct (generator -> sink, the baseline), through the relay, and
# through the Collector:
#   saturating    examples/bench_load, unthrottled: pre-encoded requests, many in flight; meant
#                 to use the DUT's whole core. Gives spans/s per core and peak RSS under full load.
#   fixed_rate    examples/bench_load at BENCH_LATENCY_RATE spans/s, below both DUTs' capacity:
#                 p99 added latency (sink arrival minus span end time, minus the direct run's).
#   telemetrygen  the issue's original load (several telemetrygen processes); it cannot saturate a
#                 DUT core here, so it compares CPU per span.
# A DUT counts as saturated when it used >= 90% of its core; otherwise the load capped it.
# Writes bench/results/otlp-relay.json and prints the ratios.
#
# Env: BENCH_DURATION (per case, default 15s), BENCH_CORES ("0 1": load core, DUT core),
#   BENCH_CONNECTIONS (4), BENCH_IN_FLIGHT (8), BENCH_SPANS_PER_REQUEST (1000),
#   BENCH_LATENCY_RATE (spans/s, default 50000), BENCH_TELEMETRYGEN (1; 0 skips that load),
#   BENCH_GENERATORS (telemetrygen processes, 4), BENCH_WORKERS (per process, 2),
#   BENCH_TELEMETRYGEN_BATCH (1000), BENCH_LOAD_NICE (niceness of the generators, 10).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../../scripts/lib.sh
source "$root/scripts/lib.sh"

duration="${BENCH_DURATION:-15s}"
connections="${BENCH_CONNECTIONS:-4}"
in_flight="${BENCH_IN_FLIGHT:-8}"
per_request="${BENCH_SPANS_PER_REQUEST:-1000}"
latency_rate="${BENCH_LATENCY_RATE:-50000}"
with_telemetrygen="${BENCH_TELEMETRYGEN:-1}"
generators="${BENCH_GENERATORS:-4}"
workers="${BENCH_WORKERS:-2}"
tg_batch="${BENCH_TELEMETRYGEN_BATCH:-1000}"
read -r load_core dut_core <<<"${BENCH_CORES:-0 1}"
# The generator yields its core to the sink, so the sink answers the DUT promptly (both DUTs alike).
load_nice="${BENCH_LOAD_NICE:-10}"
[ "$(nproc)" -ge 2 ] || die "the benchmark needs 2 cores (one for the system under test, one for the load)"
command -v taskset >/dev/null || apt_install util-linux
command -v python3 >/dev/null || apt_install python3

peers="otelcol"
[ "$with_telemetrygen" = 1 ] && peers="otelcol telemetrygen"
# shellcheck disable=SC2086
eval "$("$root/otlp-client/scripts/peers.sh" $peers)"
log "building the relay, the benchmark sink and the load generator (release)"
(cd "$root/otlp-client" && cargo build --release --locked --bin otlp-client --example bench_sink --example bench_load)
relay_bin="$root/otlp-client/target/release/otlp-client"
sink_bin="$root/otlp-client/target/release/examples/bench_sink"
load_bin="$root/otlp-client/target/release/examples/bench_load"

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
# utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat).
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz}' "/proc/$1/stat"; }

# generate LOAD NAME TARGET_PORT: runs the load against the target until it is done.
generate() {
  local load=$1 name=$2 port=$3 g
  case $load in
    saturating | fixed_rate)
      local rate=0
      [ "$load" = fixed_rate ] && rate=$latency_rate
      taskset -c "$load_core" nice -n "$load_nice" "$load_bin" --endpoint "127.0.0.1:$port" --duration "$duration" --rate "$rate" \
        --connections "$connections" --in-flight "$in_flight" --spans-per-request "$per_request" \
        --stats "$work/$load-$name-load.json" >"$work/$load-$name-load.log" 2>&1 ||
        die "[$load/$name] bench_load failed: $(tail -3 "$work/$load-$name-load.log")" ;;
    telemetrygen)
      # Several processes: one telemetrygen exports one batch at a time, which caps its rate.
      local gen_pids=()
      for g in $(seq 1 "$generators"); do
        taskset -c "$load_core" nice -n "$load_nice" "$TELEMETRYGEN_BIN" traces --otlp-endpoint "127.0.0.1:$port" --otlp-insecure \
          --workers "$workers" --rate 0 --duration "$duration" --child-spans 0 --batch-size "$tg_batch" \
          >"$work/$load-$name-telemetrygen-$g.log" 2>&1 &
        gen_pids+=($!)
      done
      for g in "${!gen_pids[@]}"; do
        wait "${gen_pids[$g]}" || die "[$load/$name] telemetrygen $((g + 1)) failed: $(tail -3 "$work/$load-$name-telemetrygen-$((g + 1)).log")"
      done ;;
  esac
}

# run_case LOAD NAME: sink, DUT (none for direct), load; prints
# "spans seconds p99_ms rss_mib dut_cpu_seconds".
run_case() {
  local load=$1 name=$2 sink_port target dut_pid="" stats="$work/$load-$name-sink.json"
  sink_port=$(free_port)
  taskset -c "$load_core" "$sink_bin" "127.0.0.1:$sink_port" "$stats" >"$work/$load-$name-sink.log" 2>&1 &
  local sink_pid=$!; pids+=("$sink_pid"); wait_port "$sink_port"
  case $name in
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
      RUST_LOG=warn taskset -c "$dut_core" "$relay_bin" --config "$work/relay.toml" >"$work/$load-relay.log" 2>&1 &
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
      taskset -c "$dut_core" "$OTELCOL_BIN" --config "$work/otelcol.yaml" >"$work/$load-otelcol.log" 2>&1 &
      dut_pid=$!; pids+=("$dut_pid"); wait_port "$target" ;;
  esac
  local cpu0=0 start end count prev=-1 now stable_since
  [ -n "$dut_pid" ] && cpu0=$(cpu_seconds "$dut_pid")
  start=$(date +%s.%N)
  generate "$load" "$name" "$target"
  # Wait until the sink has seen nothing new for 3 s (everything queued has drained).
  stable_since=$(date +%s.%N); end=$stable_since
  while :; do
    count=$(stat_field "$stats" spans)
    now=$(date +%s.%N)
    if [ "$count" != "$prev" ]; then prev=$count; end=$now; stable_since=$now; fi
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1])-float(sys.argv[2])>=3 else 1)" "$now" "$stable_since" && break
    sleep 0.5
  done
  local rss=0 cpu=0
  if [ -n "$dut_pid" ]; then
    rss=$(awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$dut_pid/status")
    cpu=$(python3 -c "print(round($(cpu_seconds "$dut_pid") - $cpu0, 3))")
    kill "$dut_pid" 2>/dev/null || true; wait "$dut_pid" 2>/dev/null || true
  fi
  kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true
  echo "$count $(python3 -c "print(float('$end')-float('$start'))") $(stat_field "$stats" p99_ms) $rss $cpu"
}

loads="saturating fixed_rate"
[ "$with_telemetrygen" = 1 ] && loads="$loads telemetrygen"
results=()
for load in $loads; do
  for name in direct ours otelcol; do
    log "[$load/$name] for $duration"
    run_case "$load" "$name" >"$work/case.txt"
    read -r spans secs p99 rss cpu <"$work/case.txt"
    log "[$load/$name] $spans spans in ${secs}s, p99 arrival delay ${p99} ms, DUT peak RSS ${rss} MiB, DUT CPU ${cpu}s"
    results+=("$load $name $spans $secs $p99 $rss $cpu")
  done
done

mkdir -p "$root/bench/results"
python3 - "$root/bench/results/otlp-relay.json" "$duration" "$connections" "$in_flight" "$per_request" "$latency_rate" \
  "$generators" "$workers" "$tg_batch" "${results[@]}" <<'PY'
import json, sys, platform, datetime, os
out, duration, connections, in_flight, per_request, latency_rate, generators, workers, tg_batch, *rows = sys.argv[1:]
loads = {}
for row in rows:
    load, name, spans, secs, p99, rss, cpu = row.split()
    spans, secs, cpu = int(spans), float(secs), float(cpu)
    c = dict(spans=spans, seconds=round(secs, 3), spans_per_sec=round(spans / secs) if secs else 0,
             p99_arrival_ms=float(p99))
    if name != "direct":
        util = cpu / secs if secs else 0
        c.update(rss_mib=float(rss), cpu_seconds=cpu,
                 cpu_us_per_span=round(cpu * 1e6 / spans, 3) if spans else None,
                 spans_per_cpu_second=round(spans / cpu) if cpu else None,
                 core_utilisation=round(util, 3), saturated=util >= 0.9)
    loads.setdefault(load, {})[name] = c
for load, cases in loads.items():
    d = cases["direct"]
    for name in ("ours", "otelcol"):
        cases[name]["p99_added_latency_ms"] = round(cases[name]["p99_arrival_ms"] - d["p99_arrival_ms"], 1)

def ratio(a, b):
    return round(a / b, 3) if a and b else None

s = loads["saturating"]
o, c = s["ours"], s["otelcol"]
lat = loads["fixed_rate"]
res = {
    "ours_spans_per_sec": o["spans_per_sec"],
    "otelcol_spans_per_sec": c["spans_per_sec"],
    "ours_spans_per_cpu_second": o["spans_per_cpu_second"],
    "otelcol_spans_per_cpu_second": c["spans_per_cpu_second"],
    "ours_cpu_us_per_span": o["cpu_us_per_span"],
    "otelcol_cpu_us_per_span": c["cpu_us_per_span"],
    "ours_core_utilisation": o["core_utilisation"],
    "otelcol_core_utilisation": c["core_utilisation"],
    "ours_saturated": o["saturated"],
    "otelcol_saturated": c["saturated"],
    "ours_rss_mib": o["rss_mib"],
    "otelcol_rss_mib": c["rss_mib"],
    "ours_p99_added_latency_ms": lat["ours"]["p99_added_latency_ms"],
    "otelcol_p99_added_latency_ms": lat["otelcol"]["p99_added_latency_ms"],
    "ours_p99_added_latency_ms_saturated": o["p99_added_latency_ms"],
    "otelcol_p99_added_latency_ms_saturated": c["p99_added_latency_ms"],
    "baseline_direct_spans_per_sec": s["direct"]["spans_per_sec"],
    "ratios_ours_to_otelcol": {
        "spans_per_sec": ratio(o["spans_per_sec"], c["spans_per_sec"]),
        "spans_per_cpu_second": ratio(o["spans_per_cpu_second"], c["spans_per_cpu_second"]),
        "peak_rss": ratio(o["rss_mib"], c["rss_mib"]),
        "telemetrygen_cpu_per_span": ratio(loads["telemetrygen"]["ours"]["cpu_us_per_span"],
                                           loads["telemetrygen"]["otelcol"]["cpu_us_per_span"]) if "telemetrygen" in loads else None,
    },
    "method": {
        "pinning": "system under test (DUT) alone on one core; load generator and sink together on the other (taskset), the generator at lower priority (nice) so the sink answers promptly; one load, one DUT at a time",
        "dut": "relay: batch_size 512, timeout 200ms, gRPC upstream; Collector v0.165.0: otlp receiver -> batch (512 / 200ms) -> otlp exporter, compression none; both send to the same sink",
        "saturating_load": f"examples/bench_load unthrottled for {duration}: OTLP/gRPC, {connections} HTTP/2 connections, {in_flight} requests in flight, {per_request} spans per request (resource with service.name, 7 attributes of mixed types, status; fresh trace ids and start/end = send time per request)",
        "fixed_rate_load": f"examples/bench_load at {latency_rate} spans/s, otherwise as above",
        "telemetrygen_load": f"telemetrygen traces, {generators} processes x {workers} workers, unthrottled, {duration}, batches of {tg_batch}, no child spans",
        "sink": "examples/bench_sink: OTLP/gRPC, checks and counts spans with the relay's wire walker, records arrival minus span end time (100 us buckets)",
        "spans_per_sec": "spans arriving at the sink / time from load start to the last arrival",
        "spans_per_cpu_second": "spans arriving at the sink / user+system CPU seconds the DUT used during the case (= spans/s per fully used core); cpu_us_per_span is its inverse",
        "core_utilisation": "DUT CPU seconds / case seconds; saturated when >= 0.9, otherwise the load capped the DUT and spans/s says more about the load than the DUT",
        "rss": "peak resident set (VmHWM) of the DUT over its case",
        "latency": "p99 of sink arrival time minus span end time; added = DUT case minus the direct case of the same load; the headline figure is the fixed-rate load (the saturating one measures queueing)",
        "ratios": "ours / otelcol within this run",
    },
    "loads": loads,
    "host": {"cpus": os.cpu_count(), "machine": platform.machine()},
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
}
json.dump(res, open(out, "w"), indent=2)
print(json.dumps(res, indent=2))
r = res["ratios_ours_to_otelcol"]
print(f"\nours / otelcol: spans/s {r['spans_per_sec']}x, spans per CPU-second {r['spans_per_cpu_second']}x, "
      f"peak RSS {r['peak_rss']}x; saturated: ours {o['saturated']} ({o['core_utilisation']:.0%}), "
      f"otelcol {c['saturated']} ({c['core_utilisation']:.0%}); p99 added latency at {latency_rate}/s: "
      f"ours {res['ours_p99_added_latency_ms']} ms, otelcol {res['otelcol_p99_added_latency_ms']} ms")
PY
