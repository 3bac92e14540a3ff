#!/usr/bin/env bash
# Captures real Deployment/ReplicaSet/Pod/StatefulSet/DaemonSet objects from a running test bed, at the
# moments the rollout logic has to judge, as JSON fixtures in __tests__/fixtures/kube/.
# Usage: testbed/testbed.sh up && testbed/capture-fixtures.sh [OUTPUT_DIR]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib.sh
source "$HERE/../scripts/lib.sh"
TESTBED_DIR=${TESTBED_DIR:-$REPO_ROOT/.testbed}
[ -f "$TESTBED_DIR/env" ] || die "the test bed is not up ($TESTBED_DIR/env missing); run testbed/testbed.sh up"
# shellcheck disable=SC1091
source "$TESTBED_DIR/env"
OUT=${1:-$REPO_ROOT/__tests__/fixtures/kube}
NS=fixtures-$$  # unique, so two runs (or other tests) never share it
mkdir -p "$OUT"

k() { "$KUBECTL" --request-timeout=20s -n "$NS" "$@"; }

# save FILE KIND/NAME-or-selector... : one object (or list) as pretty JSON, without the noise of
# managedFields; the content is otherwise exactly what the API server returned.
save() {
  local file=$1; shift
  k get "$@" -o json | jq 'del(.metadata.managedFields) | if .items then .items |= map(del(.metadata.managedFields)) else . end' > "$OUT/$file"
  log "captured $file"
}

# wait_for DESCRIPTION TIMEOUT KIND/NAME-or-args JQ_FILTER : polls `kubectl get ... -o json` until the filter is true.
wait_for() {
  local what=$1 timeout=$2 target=$3 filter=$4 deadline=$(( SECONDS + $2 ))
  # shellcheck disable=SC2086
  until k get $target -o json 2>/dev/null | jq -e "$filter" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${timeout}s waiting for $what"
    sleep 0.3
  done
}

# save_pod FILE DESCRIPTION TIMEOUT SELECTOR JQ_FILTER : waits for a pod matching both and saves it
# from the same response, so a pod that moves on (ErrImagePull -> ImagePullBackOff) is caught as seen.
save_pod() {
  local file=$1 what=$2 timeout=$3 selector=$4 filter=$5 deadline=$(( SECONDS + $3 )) pod
  while :; do
    pod=$(k get pods -l "$selector" -o json 2>/dev/null | jq -c "[.items[] | select($filter)][0] // empty | del(.metadata.managedFields)") || pod=""
    [ -z "$pod" ] || break
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${timeout}s waiting for $what"
    sleep 0.3
  done
  printf '%s\n' "$pod" | jq . > "$OUT/$file"
  log "captured $file"
}

workload() { # KIND NAME REPLICAS BEHAVIOUR [EXTRA_SPEC_YAML]
  local kind=$1 name=$2 replicas=$3 behaviour=$4 extra=${5:-} rep="replicas: $3"
  [ "$kind" = DaemonSet ] && rep=""
  local svc=""
  [ "$kind" = StatefulSet ] && svc="serviceName: $name"
  cat <<EOF
---
apiVersion: apps/v1
kind: $kind
metadata:
  name: $name
  namespace: $NS
  labels: {app: $name}
spec:
  $rep
  $svc
  $extra
  selector: {matchLabels: {app: $name}}
  template:
    metadata:
      labels: {app: $name, testbed/behavior: $behaviour}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: $name
        image: registry.testbed.invalid/otlp-deploy/$name:v1
        ports: [{containerPort: 8080, name: http}]
        resources: {requests: {cpu: 10m, memory: 16Mi}}
EOF
}

# update KIND/NAME BEHAVIOUR TAG : a new template: another image and behaviour.
update() {
  local target=$1 behaviour=$2 tag=$3 name=${1#*/}
  k patch "$target" --type=json -p "[
    {\"op\":\"replace\",\"path\":\"/spec/template/metadata/labels/testbed~1behavior\",\"value\":\"$behaviour\"},
    {\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/image\",\"value\":\"registry.testbed.invalid/otlp-deploy/$name:$tag\"}]" >/dev/null
}

trap '"$KUBECTL" delete namespace "$NS" --wait=false >/dev/null 2>&1 || true' EXIT
"$KUBECTL" create namespace "$NS" >/dev/null

log "creating the workloads"
{
  workload Deployment web 3 ready
  workload Deployment api 3 ready
  workload Deployment worker 2 ready
  workload Deployment stuck 2 ready "progressDeadlineSeconds: 10"
  workload Deployment paused 2 ready
  workload StatefulSet db 3 ready
  workload DaemonSet agent 0 ready
  workload Deployment fresh 2 crashloop
} | k apply -f - >/dev/null

for d in web api worker stuck paused; do
  k rollout status "deployment/$d" --timeout=90s >/dev/null || die "deployment $d did not complete"
done
k rollout status statefulset/db --timeout=90s >/dev/null || die "statefulset db did not complete"
k rollout status daemonset/agent --timeout=90s >/dev/null || die "daemonset agent did not complete"

save deployment-complete.json deployment/web
save replicasets-complete.json replicasets -l app=web
save_pod pod-ready.json "a ready web pod" 10 app=web 'true'
save statefulset-complete.json statefulset/db
save daemonset-complete.json daemonset/agent

log "rolling updates: slow-ready (progressing), crashloop, image pull error, never ready, paused"
update deployment/web slow-ready v2
update deployment/api crashloop v2
update deployment/worker image-pull-error v2
update deployment/stuck never-ready v2
k rollout pause deployment/paused >/dev/null
update deployment/paused ready v2
update statefulset/db slow-ready v2
update daemonset/agent slow-ready v2

# image pull error: ErrImagePull first, ImagePullBackOff a few seconds later.
save_pod pod-err-image-pull.json "an ErrImagePull pod" 30 app=worker,testbed/behavior=image-pull-error \
  '.status.containerStatuses[0].state.waiting.reason == "ErrImagePull"'
save_pod pod-image-pull-backoff.json "an ImagePullBackOff pod" 30 app=worker,testbed/behavior=image-pull-error \
  '.status.containerStatuses[0].state.waiting.reason == "ImagePullBackOff"'
save deployment-image-pull-error.json deployment/worker
save replicasets-image-pull-error.json replicasets -l app=worker

# progressing: the new ReplicaSet has a pod that runs but is not Ready yet.
wait_for "web to be mid-rollout" 30 deployment/web '.status.updatedReplicas >= 1 and .status.observedGeneration == .metadata.generation'
save_pod pod-running-not-ready.json "a slow-ready web pod running, not yet ready" 30 app=web,testbed/behavior=slow-ready \
  '.status.phase == "Running" and (.status.containerStatuses[0].ready | not)'
save deployment-progressing.json deployment/web
save replicasets-progressing.json replicasets -l app=web

wait_for "db to be mid-rollout" 30 statefulset/db '.status.updatedReplicas >= 1 and .status.currentRevision != .status.updateRevision'
save statefulset-rolling.json statefulset/db
wait_for "agent to be mid-rollout" 30 daemonset/agent '.status.updatedNumberScheduled >= 1 and .status.updatedNumberScheduled < .status.desiredNumberScheduled'
save daemonset-rolling.json daemonset/agent


# crashloop: wait for a second restart so restartCount and lastState are those of a real loop.
save_pod pod-crashloop.json "a crashlooping api pod restarted twice" 40 app=api,testbed/behavior=crashloop \
  '.status.containerStatuses[0].state.waiting.reason == "CrashLoopBackOff" and .status.containerStatuses[0].restartCount >= 2'
save deployment-crashloop.json deployment/api
save replicasets-crashloop.json replicasets -l app=api

# never ready: progressDeadlineSeconds 10 runs out (Progressing=False, ProgressDeadlineExceeded).
save_pod pod-never-ready.json "a never-ready pod running" 30 app=stuck,testbed/behavior=never-ready \
  '.status.phase == "Running" and .status.containerStatuses[0].started'
wait_for "stuck to exceed its progress deadline" 60 deployment/stuck \
  'any(.status.conditions[]; .type == "Progressing" and .reason == "ProgressDeadlineExceeded")'
save deployment-progress-deadline-exceeded.json deployment/stuck

# a first rollout that never becomes available: no old ReplicaSet to fall back on.
wait_for "fresh to report Available=False" 30 deployment/fresh \
  'any(.status.conditions[]?; .type == "Available" and .status == "False")'
save_pod pod-crashloop-first-rollout.json "a crashlooping fresh pod" 30 app=fresh \
  '.status.containerStatuses[0].state.waiting.reason == "CrashLoopBackOff"'
save deployment-unavailable.json deployment/fresh

# paused: the template changed but no new ReplicaSet is rolled out.
wait_for "paused to observe its new generation" 30 deployment/paused '.status.observedGeneration == .metadata.generation'
save deployment-paused.json deployment/paused
save replicasets-paused.json replicasets -l app=paused

# complete after an update: old ReplicaSet scaled to 0, its pods deleted.
k rollout status deployment/web --timeout=90s >/dev/null || die "web did not finish its rollout"
wait_for "old web pods to be deleted" 30 "pods -l app=web" 'all(.items[]; .metadata.labels["testbed/behavior"] == "slow-ready")'
save deployment-updated-complete.json deployment/web
save replicasets-updated-complete.json replicasets -l app=web
k rollout status statefulset/db --timeout=120s >/dev/null || die "db did not finish its rollout"
save statefulset-updated-complete.json statefulset/db
k rollout status daemonset/agent --timeout=120s >/dev/null || die "agent did not finish its rollout"
save daemonset-updated-complete.json daemonset/agent

log "fixtures written to $OUT"
