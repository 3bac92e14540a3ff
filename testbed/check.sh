#!/usr/bin/env bash
# End-to-end checks of a running test bed (testbed/testbed.sh check). Each check prints one line;
# the first failure prints what the cluster said and exits non-zero. Cleans up its namespace.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib.sh
source "$HERE/../scripts/lib.sh"
TESTBED_DIR=${TESTBED_DIR:-$REPO_ROOT/.testbed}
[ -f "$TESTBED_DIR/env" ] || die "the test bed is not up ($TESTBED_DIR/env missing); run testbed/testbed.sh up"
# shellcheck disable=SC1091
source "$TESTBED_DIR/env"
MIN_NODES=${TESTBED_NODES:-3}

NS=testbed-check-$$
PASSED=0
k() { "$KUBECTL" --request-timeout=20s "$@"; }

SCRATCH=$(mktemp -d)
cleanup() { k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; rm -rf "$SCRATCH"; }
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$*"; }
fail() { # MESSAGE [APP]: prints the pods of APP (if given) for diagnosis, then exits 1.
  printf 'FAIL %s\n' "$1" >&2
  if [ -n "${2:-}" ]; then
    k get pods -n "$NS" -l "app=$2" -o json 2>/dev/null |
      jq '[.items[] | {name: .metadata.name, phase: .status.phase, conditions: .status.conditions, containerStatuses: .status.containerStatuses}]' >&2 || true
  fi
  exit 1
}

# pods_match APP JQ_FILTER : true when JQ_FILTER (applied to the list of APP's pods) yields true.
pods_match() { k get pods -n "$NS" -l "app=$1" -o json | jq -e ".items | $2" >/dev/null; }

# wait_pods DESCRIPTION TIMEOUT APP JQ_FILTER
wait_pods() {
  local what=$1 timeout=$2 app=$3 filter=$4 deadline=$((SECONDS + $2))
  until pods_match "$app" "$filter" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what: not seen within ${timeout}s" "$app"
    sleep 0.5
  done
}

deployment() { # NAME REPLICAS BEHAVIOUR(empty for none)
  local label=""
  [ -n "$3" ] && label="testbed/behavior: $3"
  cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, namespace: $NS}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata:
      labels:
        app: $1
        $label
    spec:
      containers:
      - name: app
        image: registry.testbed.invalid/check/$1:v1
EOF
}

# 0. the API server answers (a test may be restarting it right now)
deadline=$((SECONDS + ${TESTBED_TIMEOUT:-60}))
until k get --raw /readyz >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the API server ($TESTBED_APISERVER) is not ready; see testbed/testbed.sh status"
  sleep 0.5
done

# 1. nodes and API
ready=$(k get nodes -o json | jq '[.items[] | select(any(.status.conditions[]?; .type=="Ready" and .status=="True"))] | length')
[ "$ready" -ge "$MIN_NODES" ] || fail "expected at least $MIN_NODES Ready nodes, found $ready"
pass "$ready nodes Ready"
version=$(k version -o json | jq -r .serverVersion.gitVersion)
[ "$version" = "$TESTBED_K8S_VERSION" ] || fail "the API server reports $version, expected $TESTBED_K8S_VERSION"
pass "API server reports $version"

# 2. the deployer identity exists and has no rights until a test grants them
who=$("$KUBECTL" --kubeconfig "$KUBECONFIG_DEPLOYER" auth whoami -o json | jq -r .status.userInfo.username)
[ "$who" = deployer ] || fail "the deployer kubeconfig authenticates as '$who', expected 'deployer'"
if "$KUBECTL" --kubeconfig "$KUBECONFIG_DEPLOYER" get pods -n default >/dev/null 2>&1; then
  fail "the deployer identity can list pods without any RoleBinding; it must have no rights by default"
fi
pass "deployer identity authenticates and is forbidden by default"

# 3. workloads
k create namespace "$NS" >/dev/null
{
  deployment web 3 ""
  for b in ready slow-ready never-ready crashloop image-pull-error; do echo "---"; deployment "$b" 1 "$b"; done
  cat <<EOF
---
apiVersion: batch/v1
kind: Job
metadata: {name: job, namespace: $NS}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {app: job}}
    spec:
      restartPolicy: Never
      containers: [{name: job, image: registry.testbed.invalid/check/job:v1}]
EOF
} | k apply -f - >/dev/null

k rollout status -n "$NS" deployment/web --timeout=60s >/dev/null || fail "deployment web (3 replicas) did not become available in 60s" web
[ "$(k get deployment web -n "$NS" -o jsonpath='{.status.availableReplicas}')" = 3 ] || fail "deployment web has not 3 available replicas" web
pass "a 3-replica Deployment becomes available"

running_ready='.[0].status as $s | $s.phase == "Running"
  and any($s.conditions[]; .type == "Ready" and .status == "True")
  and ($s.containerStatuses[0] | .ready and .started and .state.running.startedAt != null
       and (.imageID | test("@sha256:[0-9a-f]{64}$")) and (.containerID | startswith("containerd://")))'
wait_pods "ready: Running and Ready with kubelet-shaped container status" 30 ready "length == 1 and ($running_ready)"
pass "behaviour ready: Running, Ready, container running with image and container ids"

wait_pods "slow-ready: Running but not yet Ready" 30 slow-ready \
  'length == 1 and .[0].status.phase == "Running" and (.[0].status.containerStatuses[0] | .started and (.ready | not))'
wait_pods "slow-ready: Ready after the delay" 30 slow-ready "length == 1 and ($running_ready)"
delay=$(k get pods -n "$NS" -l app=slow-ready -o json | jq '.items[0].status as $s
  | (($s.conditions[] | select(.type == "Ready") | .lastTransitionTime | sub("\\.[0-9]+"; "") | fromdate)
     - ($s.containerStatuses[0].state.running.startedAt | sub("\\.[0-9]+"; "") | fromdate))')
[ "$delay" -ge 4 ] && [ "$delay" -le 10 ] || fail "slow-ready became Ready ${delay}s after starting, expected about 5s" slow-ready
pass "behaviour slow-ready: Ready ${delay}s after its container started"

wait_pods "never-ready: Running, started, not Ready" 30 never-ready \
  'length == 1 and .[0].status.phase == "Running" and (.[0].status.containerStatuses[0] | .started and (.ready | not) and .state.running != null)
   and any(.[0].status.conditions[]; .type == "Ready" and .status == "False")'
sleep 6
pods_match never-ready 'any(.[0].status.conditions[]; .type == "Ready" and .status == "False")' \
  || fail "never-ready became Ready" never-ready
pass "behaviour never-ready: Running, started, still not Ready after 6s"

crash='.[0].status.containerStatuses[0] | .state.waiting.reason == "CrashLoopBackOff"
  and .lastState.terminated.exitCode == 1 and (.ready | not)'
wait_pods "crashloop: CrashLoopBackOff with lastState exit code 1" 30 crashloop "length == 1 and ($crash)"
first=$(k get pods -n "$NS" -l app=crashloop -o json | jq '.items[0].status.containerStatuses[0].restartCount')
wait_pods "crashloop: restartCount rising above $first" 20 crashloop "length == 1 and ($crash) and .[0].status.containerStatuses[0].restartCount > $first"
pass "behaviour crashloop: CrashLoopBackOff, lastState exit code 1, restartCount rising"

wait_pods "image-pull-error: ErrImagePull" 30 image-pull-error \
  'length == 1 and (.[0].status.containerStatuses[0].state.waiting.reason | IN("ErrImagePull", "ImagePullBackOff"))'
wait_pods "image-pull-error: ImagePullBackOff" 20 image-pull-error \
  'length == 1 and .[0].status.phase == "Pending" and .[0].status.containerStatuses[0].state.waiting.reason == "ImagePullBackOff"'
pass "behaviour image-pull-error: ErrImagePull, then ImagePullBackOff"

k wait -n "$NS" --for=condition=Complete job/job --timeout=30s >/dev/null || fail "job did not complete in 30s" job
pass "a Job's pod completes (Succeeded) and the Job is Complete"

# 4. rolling update: old pods must be deleted so the old ReplicaSet scales down
k set image -n "$NS" deployment/web app=registry.testbed.invalid/check/web:v2 >/dev/null
k rollout status -n "$NS" deployment/web --timeout=60s >/dev/null || fail "rolling update of web did not finish in 60s" web
deadline=$((SECONDS + 30))
until [ "$(k get pods -n "$NS" -l app=web -o json | jq '[.items[] | select(.spec.containers[0].image | endswith(":v1"))] | length')" = 0 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "old pods of web were not deleted within 30s after the rollout" web
  sleep 0.5
done
pass "a rolling update completes and the old pods are deleted"

# 5. the image side, when present
if [ -f "$HERE/images/images.sh" ] && [ "${TESTBED_SKIP_IMAGES:-0}" != 1 ]; then
  bash "$HERE/images/images.sh" check || fail "testbed/images/images.sh check failed"
  pass "image side (testbed/images/images.sh check)"
fi

# 6. the real node, when present: real processes, a real crash, Services reached from this machine
if [ -n "${TESTBED_REAL_NODE:-}" ]; then
  sel_key=${TESTBED_REAL_NODE_SELECTOR%%=*} sel_value=${TESTBED_REAL_NODE_SELECTOR#*=}
  k get node "$TESTBED_REAL_NODE" -o json | jq -e --arg l "$sel_key" --arg v "$sel_value" '
      any(.status.conditions[]; .type == "Ready" and .status == "True")
      and .metadata.labels[$l] == $v
      and any(.spec.taints[]?; .key == "testbed/real-node" and .effect == "NoSchedule")' >/dev/null \
    || fail "the real node $TESTBED_REAL_NODE is not Ready, labelled $TESTBED_REAL_NODE_SELECTOR and tainted testbed/real-node"
  pass "real node $TESTBED_REAL_NODE: Ready, labelled and tainted"
  k get pods -n "$NS" -o json | jq -e --arg n "$TESTBED_REAL_NODE" 'all(.items[]; .spec.nodeName != $n)' >/dev/null \
    || fail "a pod that does not tolerate the real node's taint was scheduled on it"
  pass "pods that do not ask for the real node stay off it"

  k create secret docker-registry registry -n "$NS" --docker-server="$REGISTRY" \
    --docker-username="$REGISTRY_USERNAME" --docker-password="$REGISTRY_PASSWORD" >/dev/null
  nonce="real-node-check-$$-$RANDOM"
  node_port=$((30000 + RANDOM % 2700))
  real_pod() { # NAME COMMAND [READINESS]
    cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: $NS, labels: {app: $1}}
spec:
  nodeSelector: {$sel_key: $sel_value}
  tolerations: [{key: testbed/real-node, operator: Exists, effect: NoSchedule}]
  imagePullSecrets: [{name: registry}]
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: $TESTBED_BASE_IMAGE
    command: [/bin/sh, -c, '$2']
    ${3:-}
---
EOF
  }
  {
    real_pod real-web "mkdir -p /tmp/www && echo $nonce > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www" \
      'readinessProbe: {httpGet: {path: /index.html, port: 8080}, periodSeconds: 1}'
    real_pod real-crash 'echo crashing >&2; exit 1'
    cat <<EOF
apiVersion: v1
kind: Service
metadata: {name: real-web, namespace: $NS}
spec:
  type: NodePort
  selector: {app: real-web}
  ports: [{port: 80, targetPort: 8080, nodePort: $node_port}]
EOF
  } | k apply -f - >/dev/null || fail "could not create the real node's check pods"
  wait_pods "real-web Ready on the real node" 90 real-web \
    "length == 1 and .[0].spec.nodeName == \"$TESTBED_REAL_NODE\" and any(.[0].status.conditions[]?; .type == \"Ready\" and .status == \"True\")"
  pass "a pod pulls from the registry with its pull secret, runs and passes its readiness probe on the real node"
  cluster_ip=$(k get service real-web -n "$NS" -o jsonpath='{.spec.clusterIP}')
  got="" deadline=$((SECONDS + 30))
  until [ "$got" = "$nonce" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "NodePort $TESTBED_NODEPORT_HOST:$node_port answered '$got', not '$nonce', within 30s" real-web
    got=$(curl -fsS --max-time 2 "http://$TESTBED_NODEPORT_HOST:$node_port/index.html" 2>/dev/null || true)
    [ "$got" = "$nonce" ] || sleep 0.3
  done
  got=$(curl -fsS --max-time 5 "http://$cluster_ip/index.html" 2>/dev/null || true)
  [ "$got" = "$nonce" ] || fail "ClusterIP $cluster_ip answered '$got', not '$nonce'" real-web
  pass "kube-proxy: the pod answers through its NodePort ($TESTBED_NODEPORT_HOST:$node_port) and its ClusterIP ($cluster_ip)"
  k logs -n "$NS" real-web --tail=5 >/dev/null 2>&1 || fail "kubectl logs of a pod on the real node failed (API server to kubelet)"
  pass "the API server reaches the kubelet (kubectl logs)"
  wait_pods "real-crash: CrashLoopBackOff after exit code 1" 90 real-crash \
    'length == 1 and .[0].status.containerStatuses[0].state.waiting.reason == "CrashLoopBackOff" and .[0].status.containerStatuses[0].lastState.terminated.exitCode == 1'
  pass "a container that exits 1 really crash-loops (CrashLoopBackOff, lastState exit code 1)"
fi

# 7. authentication stand-ins (testbed/auth/authd.mjs): exec plugin, token webhook, OIDC, gha
# whoami_bearer TOKEN : the user name the API server sees for TOKEN, or "HTTP <code>" when it refuses it.
whoami_bearer() {
  local out
  # The status code counts even when curl then fails: the API server may close a refused
  # request's connection before the body is read (curl exit 18, a partial transfer).
  out=$(curl -sS --max-time 10 --cacert "$TESTBED_CA_FILE" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' \
    -w '\n%{http_code}' "$TESTBED_APISERVER/apis/authentication.k8s.io/v1/selfsubjectreviews" 2>/dev/null) || true
  case ${out##*$'\n'} in '' | 000) echo "no answer"; return ;; esac
  if [ "${out##*$'\n'}" = 201 ]; then jq -r .status.userInfo.username <<< "${out%$'\n'*}"; else echo "HTTP ${out##*$'\n'}"; fi
}
exec_token() { "$TESTBED_EXEC_PLUGIN" "$@" | jq -r .status.token; } # ARGS: a token from the exec plugin
cat > "$SCRATCH/kubeconfig-exec" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster: {server: "$TESTBED_APISERVER", certificate-authority: "$TESTBED_CA_FILE"}
users:
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: "$TESTBED_EXEC_PLUGIN"
      env: [{name: TB_EXEC_LOG, value: "$SCRATCH/exec.log"}]
      interactiveMode: Never
contexts:
- name: exec
  context: {cluster: testbed, user: exec}
current-context: exec
EOF
who=$("$KUBECTL" --kubeconfig "$SCRATCH/kubeconfig-exec" auth whoami -o json | jq -r .status.userInfo.username) || who="(kubectl failed)"
[ "$who" = exec-deployer ] || fail "a kubeconfig with the exec plugin authenticates as '$who', expected 'exec-deployer'"
[ "$(wc -l < "$SCRATCH/exec.log")" = 1 ] || fail "kubectl ran the exec plugin $(wc -l < "$SCRATCH/exec.log") times for one request, expected once"
pass "an exec-plugin kubeconfig authenticates through the token webhook as exec-deployer (plugin ran once)"
if err=$(TB_EXEC_FAIL=1 "$KUBECTL" --kubeconfig "$SCRATCH/kubeconfig-exec" auth whoami 2>&1); then
  fail "kubectl succeeded although the exec plugin failed (TB_EXEC_FAIL=1)"
fi
grep -q 'told to fail' <<< "$err" || fail "kubectl did not show the failing exec plugin's message; it said: $err"
pass "a failing exec plugin (TB_EXEC_FAIL=1) fails kubectl, which shows the plugin's message"

# The API server keeps a successful token authentication for 10 s (a fixed cache, no flag), so a token used
# before it expired is refused from 10 s after that use: used now, it is tested again after the checks below.
expiring=$(TB_TOKEN_TTL=2 exec_token --user=check-expiry) || fail "the exec plugin did not print a token"
expiring_used=$SECONDS
unused=$(TB_TOKEN_TTL=1 exec_token --user=check-unused) || fail "the exec plugin did not print a token"
# Its exp (minted with TB_TOKEN_TTL=1) is at most this second plus one.
unused_expires=$(( $(date +%s) + 1 ))
who=$(whoami_bearer "$expiring")
[ "$who" = check-expiry ] || fail "a fresh exec-plugin token authenticates as '$who', expected 'check-expiry'"

oidc=$(node "$TESTBED_AUTH_CLI" mint-oidc check-oidc) || fail "authd.mjs mint-oidc failed"
who=$(whoami_bearer "$(jq -r .id_token <<< "$oidc")")
[ "$who" = oidc:check-oidc ] || fail "a minted OIDC id_token authenticates as '$who', expected 'oidc:check-oidc'"
pass "an OIDC id_token from $TESTBED_OIDC_ISSUER authenticates as oidc:check-oidc"
secret=$(cat "$TESTBED_OIDC_CLIENT_SECRET_FILE")
refresh() { # REFRESH_TOKEN CURL_ARGS... : the token endpoint's JSON answer
  curl -sS --max-time 10 --cacert "$TESTBED_CA_FILE" -d grant_type=refresh_token --data-urlencode "refresh_token=$1" \
    "${@:2}" "$TESTBED_OIDC_ISSUER/token"
}
basic=$(refresh "$(jq -r .refresh_token <<< "$oidc")" -u "$TESTBED_OIDC_CLIENT_ID:$secret")
post=$(refresh "$(jq -r .refresh_token <<< "$basic")" -d "client_id=$TESTBED_OIDC_CLIENT_ID" -d "client_secret=$secret")
for answer in "$basic" "$post"; do
  who=$(whoami_bearer "$(jq -r '.id_token // empty' <<< "$answer")")
  [ "$who" = oidc:check-oidc ] || fail "a refreshed id_token authenticates as '$who', expected 'oidc:check-oidc' (token endpoint said: $answer)"
done
[ "$(refresh "$(jq -r .refresh_token <<< "$post")" -u "$TESTBED_OIDC_CLIENT_ID:wrong" | jq -r .error)" = invalid_client ] \
  || fail "the token endpoint accepted a wrong client secret"
pass "refresh_token grants (client secret by basic auth and in the body) give working id_tokens; a wrong secret is refused"

gha=$(node "$TESTBED_AUTH_CLI" mint-gha --repository=otlp/check --environment=testbed --aud="$TESTBED_GHA_AUDIENCE") \
  || fail "authd.mjs mint-gha failed"
who=$(whoami_bearer "$gha")
[ "$who" = gha:otlp/check:testbed ] || fail "a gha token authenticates as '$who', expected 'gha:otlp/check:testbed'"
who=$(whoami_bearer "$(node "$TESTBED_AUTH_CLI" mint-gha --repository=otlp/check --environment=testbed --aud=someone-else)")
[ "$who" = "HTTP 401" ] || fail "a gha token for another audience got '$who', expected HTTP 401"
pass "a gha token ($TESTBED_GHA_ISSUER) authenticates as gha:otlp/check:testbed; another audience is refused"

# Asked only once its exp has passed: on an idle machine the checks above take less than its 1 s.
while [ "$(date +%s)" -le "$unused_expires" ]; do sleep 0.2; done
who=$(whoami_bearer "$unused")
[ "$who" = "HTTP 401" ] || fail "an expired exec-plugin token never used before got '$who', expected HTTP 401"
until [ "$(whoami_bearer "$expiring")" = "HTTP 401" ]; do
  [ $((SECONDS - expiring_used)) -le 13 ] || fail "an exec-plugin token is still accepted 13 s after its first use (it expired 2 s after it)"
  sleep 0.5
done
pass "expired exec-plugin tokens are refused (401): at once when unused, $((SECONDS - expiring_used)) s after first use when used"

echo "testbed: $PASSED passed, 0 failed"
