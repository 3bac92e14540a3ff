#!/usr/bin/env bash
# Validates the otlp-client deploy assets (otlp-client/k8s, otlp-client/helm, otlp-client/monitoring):
#
#   1. generated copies of the rules and dashboard are fresh (monitoring/sync-copies.mjs --check)
#   2. promtool: rules parse, rule unit tests pass, every dashboard query parses
#   3. kustomize renders the base and both overlays (kubectl's built-in kustomize)
#   4. helm lint --strict and helm template (several value sets); the defaults render what the base
#      holds; the chart refuses bad values
#   5. every rendered config.toml passes `otlp-client check-config` with no warning
#   6. the relay, started on loopback, exposes on /metrics every metric the rules and dashboard use
#   7. the test bed's API server accepts every rendered object (server-side dry-run, no warning)
#   8. the base, applied for real in a scratch namespace, becomes Available with the pod shape we want
#
# Needs the test bed (testbed/testbed.sh up): it fails, naming the fix, when the test bed is down.
# Builds helm and promtool (Go wrapper modules in otlp-client/tools/) once, and the relay with
# `cargo build` (debug profile: the artifacts `cargo test` already built); warm runs take under a minute.
# Environment: TESTBED_DIR (default <repo>/.testbed), CHECK_DEPLOY_KEEP=1 keeps the scratch namespace.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$HERE/lib.sh"

OC=$REPO_ROOT/otlp-client
CHART=$OC/helm/otlp-client
MON=$OC/monitoring
ASSETS=(node "$OC/k8s/testing/assets.mjs")
HELM_VERSION=v3.22.0
PROMTOOL_VERSION=v0.316.0
TESTBED_DIR=${TESTBED_DIR:-$REPO_ROOT/.testbed}
NAMESPACE=otlp-system # what the base and the overlays deploy into
SCRATCH_NS=otlp-check-$$

# helm and promtool, built from their Go modules (cached); `check-deploy.sh --tools` only builds them.
build_tools() {
  HELM=$(go_tool helm "$HELM_VERSION" "$OC/tools/helm" helm.sh/helm/v3/cmd/helm \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION")
  PROMTOOL=$(go_tool promtool "$PROMTOOL_VERSION" "$OC/tools/promtool" github.com/prometheus/prometheus/cmd/promtool \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMTOOL_VERSION#v0.}")
}
if [ "${1:-}" = --tools ]; then
  build_tools
  printf '%s\n' "$HELM" "$PROMTOOL"
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-deploy.XXXXXX")
RELAY_PID=""
STARTED=$SECONDS
STEPS=0

cleanup() {
  local rc=$?
  [ -z "$RELAY_PID" ] || kill "$RELAY_PID" 2>/dev/null || true
  if [ -n "${KUBECTL:-}" ] && [ "${CHECK_DEPLOY_KEEP:-0}" != 1 ]; then
    "$KUBECTL" delete namespace "$SCRATCH_NS" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  if [ $rc -ne 0 ]; then
    log "check-deploy FAILED (work files kept in $WORK)"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

step() { STEPS=$((STEPS + 1)); STEP_STARTED=$SECONDS; log "[$STEPS] $*"; }
ok() { printf 'ok   %s (%ss)\n' "$*" $((SECONDS - STEP_STARTED)); }
fail() { printf 'FAIL %s\n' "$*" >&2; exit 1; }

# --- preconditions: the test bed and the tools -------------------------------------------------------

[ -f "$TESTBED_DIR/env" ] ||
  fail "the test bed is not up ($TESTBED_DIR/env is missing). Start it with: testbed/testbed.sh up"
# shellcheck disable=SC1091
source "$TESTBED_DIR/env"
[ -x "${KUBECTL:-}" ] || fail "KUBECTL from $TESTBED_DIR/env ('${KUBECTL:-}') is not an executable; run testbed/testbed.sh up"
k() { "$KUBECTL" --request-timeout=30s "$@"; }
k get --raw /readyz >/dev/null 2>&1 ||
  fail "the test bed's API server does not answer (${TESTBED_APISERVER:-?}/readyz). Check: testbed/testbed.sh status; restart with testbed/testbed.sh up"
apt_install jq curl
command -v node >/dev/null || fail "node is not on PATH"
[ -d "$REPO_ROOT/node_modules/yaml" ] || fail "node_modules is missing the yaml package; run npm ci"
command -v cargo >/dev/null || fail "cargo is not on PATH (needed to build otlp-client for the /metrics check)"

STEP_STARTED=$SECONDS
log "tools: helm $HELM_VERSION, promtool $PROMTOOL_VERSION, otlp-client (cargo debug build, shared with cargo test)"
build_tools
(cd "$OC" && cargo build --locked --quiet --bin otlp-client) >"$WORK/cargo.log" 2>&1 ||
  { tail -n 30 "$WORK/cargo.log" >&2; fail "cargo build of otlp-client failed (log above)"; }
RELAY=$OC/target/debug/otlp-client
[ -x "$RELAY" ] || fail "cargo built no $RELAY"
ok "tools ready"

# --- 1. generated copies -----------------------------------------------------------------------------

step "generated copies of the rules and the dashboard"
node "$MON/sync-copies.mjs" --check || fail "generated copies are stale (see above)"
ok "k8s/base/prometheusrule.yaml and helm/otlp-client/files/ match otlp-client/monitoring/"

# --- 2. promtool ------------------------------------------------------------------------------------------

step "promtool: rules, rule unit tests, dashboard queries"
"$PROMTOOL" check rules "$MON/prometheus-rules.yaml" >"$WORK/promtool.log" 2>&1 ||
  { cat "$WORK/promtool.log" >&2; fail "promtool check rules $MON/prometheus-rules.yaml"; }
(cd "$MON" && "$PROMTOOL" test rules prometheus-rules.test.yaml) >"$WORK/promtool-test.log" 2>&1 ||
  { cat "$WORK/promtool-test.log" >&2; fail "promtool test rules: an alert does not behave as its unit test expects"; }
"${ASSETS[@]}" dashboard-rules "$MON/grafana-dashboard.json" >"$WORK/dashboard-queries.yaml"
"$PROMTOOL" check rules "$WORK/dashboard-queries.yaml" >"$WORK/promtool-dash.log" 2>&1 ||
  { cat "$WORK/promtool-dash.log" >&2; fail "a Grafana dashboard query does not parse as PromQL (queries in $WORK/dashboard-queries.yaml)"; }
ok "$(grep -c 'alert:' "$MON/prometheus-rules.yaml") alerts valid and unit-tested; $(grep -c 'record:' "$WORK/dashboard-queries.yaml") dashboard queries parse"

# --- 3. kustomize -----------------------------------------------------------------------------------------

step "kustomize: base and overlays"
for dir in base overlays/staging overlays/production; do
  name=${dir##*/}
  k kustomize "$OC/k8s/$dir" >"$WORK/kustomize-$name.yaml" 2>"$WORK/kustomize-$name.err" ||
    { cat "$WORK/kustomize-$name.err" >&2; fail "kubectl kustomize otlp-client/k8s/$dir"; }
done
for kind in Namespace ConfigMap ServiceAccount Service Deployment HorizontalPodAutoscaler PodDisruptionBudget NetworkPolicy ServiceMonitor PrometheusRule; do
  grep -q "^kind: $kind$" "$WORK/kustomize-base.yaml" || fail "the kustomize base renders no $kind"
done
grep -q '^kind: Role' "$WORK/kustomize-base.yaml" && fail "the base renders a Role or RoleBinding; the relay needs no API access"
ok "base, staging and production render"

# --- 4. helm ----------------------------------------------------------------------------------------------

step "helm lint and template"
# helm template assumes Kubernetes v1.20 unless told; the chart needs 1.30+ (Chart.yaml kubeVersion).
KUBE_VERSION=${TESTBED_K8S_VERSION:-v1.34.4}
"$HELM" lint --strict "$CHART" >"$WORK/helm-lint.log" 2>&1 || { cat "$WORK/helm-lint.log" >&2; fail "helm lint --strict $CHART"; }
# name|release|extra arguments: every set is rendered, then dry-run on the server in step 7.
HELM_SETS=(
  "defaults|otlp-client|"
  "minimal|otlp-client|--set autoscaling.enabled=false --set monitoring.enabled=false --set networkPolicy.enabled=false --set podDisruptionBudget.enabled=false"
  "custom-metric|edge|--set autoscaling.requestsPerSecond.enabled=true --set image.digest=sha256:$(printf '%064d' 0) --set namespace.create=true"
)
for entry in "${HELM_SETS[@]}"; do
  IFS='|' read -r name release extra <<<"$entry"
  # shellcheck disable=SC2086
  "$HELM" template "$release" "$CHART" --namespace "$NAMESPACE" --kube-version "$KUBE_VERSION" $extra >"$WORK/helm-$name.yaml" 2>"$WORK/helm-$name.err" ||
    { cat "$WORK/helm-$name.err" >&2; fail "helm template ($name values) failed"; }
done
"${ASSETS[@]}" compare "$WORK/kustomize-base.yaml" "$WORK/helm-defaults.yaml" ||
  fail "the chart's default rendering and the kustomize base disagree (above); change both or neither"
grep -q 'name: otlp_requests_per_second' "$WORK/helm-custom-metric.yaml" || fail "autoscaling.requestsPerSecond.enabled did not add the custom metric to the HPA"
grep -q '^kind: HorizontalPodAutoscaler' "$WORK/helm-minimal.yaml" && fail "autoscaling.enabled=false still renders an HPA"
# The chart must refuse what the deploy plan got wrong, saying why.
refuse() { # WHAT EXPECTED_MESSAGE HELM_ARGS...
  local what=$1 expect=$2; shift 2
  if "$HELM" template otlp-client "$CHART" --namespace "$NAMESPACE" --kube-version "$KUBE_VERSION" "$@" >/dev/null 2>"$WORK/refuse.err"; then
    fail "helm template accepted $what"
  fi
  grep -q -- "$expect" "$WORK/refuse.err" || { cat "$WORK/refuse.err" >&2; fail "helm template refused $what without saying '$expect'"; }
}
refuse "the Jaeger Thrift endpoint" "Jaeger legacy port" --set config.endpoint=http://jaeger-collector:14268
refuse "the image tag latest" "image.tag" --set image.tag=latest
refuse "the plan's prometheus subchart values" "prometheus" --set prometheus.enabled=true
refuse "retries that give up before the breaker opens" "circuit_breaker_threshold" --set config.resilience.max_retries=1
refuse "an https endpoint" "config.endpoint" --set config.endpoint=https://collector:4317
ok "lint clean; ${#HELM_SETS[@]} value sets render, the defaults as the base; 5 bad value sets refused"

# --- 5. config.toml ------------------------------------------------------------------------------------

step "otlp-client check-config on every rendered config.toml"
checked=0
for rendered in "$WORK"/kustomize-*.yaml "$WORK"/helm-*.yaml; do
  while IFS= read -r toml; do
    if ! "$RELAY" check-config --config "$toml" >"$WORK/check-config.out" 2>&1; then
      cat "$WORK/check-config.out" >&2; fail "otlp-client refuses the config.toml rendered in $(basename "$rendered")"
    fi
    if grep -q '^warning' "$WORK/check-config.out"; then
      cat "$WORK/check-config.out" >&2; fail "otlp-client warns about the config.toml rendered in $(basename "$rendered")"
    fi
    grep -q '^endpoint = "http://[^"]*:4317"' "$toml" || fail "the config.toml in $(basename "$rendered") does not export OTLP to port 4317"
    checked=$((checked + 1))
  done < <("${ASSETS[@]}" config-tomls "$rendered" "$WORK/config/$(basename "$rendered" .yaml)")
done
ok "$checked config.toml files accepted without warnings"

# --- 6. /metrics ---------------------------------------------------------------------------------------

step "metric names used by the rules and the dashboard exist on the relay's /metrics"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
P_HEALTH=$(free_port) P_GRPC=$(free_port) P_HTTP=$(free_port) P_UPSTREAM=$(free_port)
cat >"$WORK/relay.toml" <<EOF
[server]
health_addr = "127.0.0.1:$P_HEALTH"
grpc_addr = "127.0.0.1:$P_GRPC"
http_addr = "127.0.0.1:$P_HTTP"
[otlp]
endpoint = "http://127.0.0.1:$P_UPSTREAM" # nothing listens there
EOF
RUST_LOG=warn "$RELAY" run --config "$WORK/relay.toml" >"$WORK/relay.log" 2>&1 &
RELAY_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$P_HEALTH/metrics" -o "$WORK/metrics.txt" 2>/dev/null && break
  kill -0 "$RELAY_PID" 2>/dev/null || { cat "$WORK/relay.log" >&2; fail "otlp-client exited at start (log above)"; }
  sleep 0.1
done
[ -s "$WORK/metrics.txt" ] || { cat "$WORK/relay.log" >&2; fail "otlp-client did not serve /metrics on 127.0.0.1:$P_HEALTH within 10s"; }
curl -fsS "http://127.0.0.1:$P_HEALTH/health" >/dev/null || fail "otlp-client /health does not answer 200"
kill "$RELAY_PID" 2>/dev/null || true
wait "$RELAY_PID" 2>/dev/null || true
RELAY_PID=""
"${ASSETS[@]}" scrape-names <"$WORK/metrics.txt" >"$WORK/exposed.txt"
"${ASSETS[@]}" metric-names "$MON/prometheus-rules.yaml" "$MON/grafana-dashboard.json" >"$WORK/used.txt"
unexposed=$(LC_ALL=C comm -23 "$WORK/used.txt" "$WORK/exposed.txt") # both sorted by code point
[ -z "$unexposed" ] || fail "metrics used by the rules or the dashboard but not exposed by otlp-client: ${unexposed//$'\n'/ }"
for label in signal transport reason; do
  grep -q "$label=\"" "$WORK/metrics.txt" || fail "/metrics has no series with the label '$label' the rules and dashboard group by"
done
"$PROMTOOL" check metrics <"$WORK/metrics.txt" >"$WORK/check-metrics.log" 2>&1 ||
  { cat "$WORK/check-metrics.log" >&2; fail "promtool check metrics finds problems in otlp-client's /metrics"; }
ok "$(wc -l <"$WORK/used.txt") metric names used, all among the $(wc -l <"$WORK/exposed.txt") exposed; exposition lint clean"

# --- 7. server-side dry-run -----------------------------------------------------------------------

step "server-side dry-run of every rendered object against the test bed (${TESTBED_K8S_VERSION:-?})"
# Test fixtures standing in for the Prometheus Operator's CRDs (open schema).
k apply --server-side --field-manager=check-deploy -f "$OC/k8s/testing/crds/" >/dev/null
k wait --for=condition=Established --timeout=60s \
  crd/servicemonitors.monitoring.coreos.com crd/prometheusrules.monitoring.coreos.com >/dev/null ||
  fail "the ServiceMonitor/PrometheusRule test CRDs did not become Established"
# Namespaced objects can only be dry-run in a namespace that exists.
"${ASSETS[@]}" kind Namespace "$WORK/kustomize-base.yaml" >"$WORK/namespace.yaml"
grep -q "name: $NAMESPACE" "$WORK/namespace.yaml" || fail "could not find the $NAMESPACE Namespace in the rendered base"
k apply --server-side --field-manager=check-deploy -f "$WORK/namespace.yaml" >/dev/null
for rendered in "$WORK"/kustomize-*.yaml "$WORK"/helm-*.yaml; do
  name=$(basename "$rendered" .yaml)
  if ! k apply --server-side --dry-run=server --field-manager=check-deploy -f "$rendered" \
    >"$WORK/$name.dry-run" 2>"$WORK/$name.dry-run.err"; then
    cat "$WORK/$name.dry-run.err" >&2; fail "the API server refuses objects rendered by $name"
  fi
  # Pod Security Admission only warns for workloads (it enforces on pods): a warning is a failure here.
  if grep -qi 'warning' "$WORK/$name.dry-run.err"; then
    cat "$WORK/$name.dry-run.err" >&2; fail "the API server warns about objects rendered by $name"
  fi
done
ok "$(cat "$WORK"/*.dry-run | wc -l) objects accepted without warnings"

# --- 8. apply the base for real -----------------------------------------------------------------------

step "apply the base in scratch namespace $SCRATCH_NS and wait for the Deployment"
mkdir -p "$WORK/scratch"
cat >"$WORK/scratch/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $SCRATCH_NS
resources:
  - $(realpath --relative-to="$WORK/scratch" "$OC/k8s/base") # kustomize refuses absolute paths
EOF
k kustomize "$WORK/scratch" >"$WORK/scratch.yaml" || fail "kubectl kustomize of the scratch overlay failed"
k apply --server-side --field-manager=check-deploy -f "$WORK/scratch.yaml" >"$WORK/scratch.apply" 2>&1 ||
  { cat "$WORK/scratch.apply" >&2; fail "server-side apply of the base into $SCRATCH_NS failed"; }
if ! k -n "$SCRATCH_NS" rollout status deployment/otlp-client --timeout=120s >"$WORK/rollout.log" 2>&1; then
  cat "$WORK/rollout.log" >&2
  k -n "$SCRATCH_NS" get pods -o wide >&2 || true
  k -n "$SCRATCH_NS" get events --sort-by=.lastTimestamp >&2 || true
  fail "deployment/otlp-client did not become Available in $SCRATCH_NS within 120s"
fi
# The manifest leaves the count to the HPA, which brings the Deployment up to minReplicas (3).
ready=0
for _ in $(seq 1 360); do
  k -n "$SCRATCH_NS" get pods -l app.kubernetes.io/name=otlp-client -o json >"$WORK/pods.json"
  ready=$(jq '[.items[] | select(.metadata.deletionTimestamp == null) | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length' "$WORK/pods.json")
  [ "$ready" -eq 3 ] && break
  sleep 0.5
done
if [ "$ready" -ne 3 ]; then
  k -n "$SCRATCH_NS" describe hpa otlp-client >&2 || true
  fail "expected the HPA to bring otlp-client to 3 ready pods in $SCRATCH_NS within 180s, found $ready"
fi
# The token is not mounted: no projected kube-api-access volume was injected.
jq -e '[.items[].spec.volumes[]?.name | select(startswith("kube-api-access"))] | length == 0' "$WORK/pods.json" >/dev/null ||
  fail "a service-account token volume is mounted into the relay's pods"
nodes=$(jq '[.items[].spec.nodeName] | unique | length' "$WORK/pods.json")
[ "$nodes" -ge 2 ] || fail "the anti-affinity did not spread the 3 replicas (all on one node)"
# The disruption controller agrees with the PodDisruptionBudget: one eviction allowed out of 3.
allowed=""
for _ in $(seq 1 40); do
  allowed=$(k -n "$SCRATCH_NS" get pdb otlp-client -o jsonpath='{.status.disruptionsAllowed}' 2>/dev/null || true)
  [ "$allowed" = 1 ] && break
  sleep 0.5
done
[ "$allowed" = 1 ] || fail "PodDisruptionBudget otlp-client allows '$allowed' disruptions, expected 1"
ok "3/3 replicas ready on $nodes nodes, no API token mounted, PDB allows 1 disruption"

log "check-deploy: all $STEPS steps passed in $((SECONDS - STARTED))s"
