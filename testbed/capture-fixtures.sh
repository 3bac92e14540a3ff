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
NS=fixtures
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

pod_of() { # SELECTOR JQ_FILTER : the name of the first pod matching both
  k get pods -l "$1" -o json | jq -r "[.items[] | select($2)][0].metadata.name"
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

"$KUBECTL" delete namespace "$NS" --ignore-not-found --wait=true --timeout=60s >/dev/null
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
} | k apply -f - >/dev/null

for d in web api worker stuck paused; do
  k rollout status "deployment/$d" --timeout=90s >/dev/null || die "deployment $d did not complete"
done
k rollout status statefulset/db --timeout=90s >/dev/null || die "statefulset db did not complete"
k rollout status daemonset/agent --timeout=90s >/dev/null || die "daemonset agent did not complete"

save deployment-complete.json deployment/web
save replicasets-complete.json replicasets -l app=web
save pod-ready.json pod "$(pod_of app=web 'true')"
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

# progressing: the new ReplicaSet has a pod that runs but is not Ready yet.
wait_for "web to be mid-rollout" 30 deployment/web '.status.updatedReplicas >= 1 and .status.observedGeneration == .metadata.generation'
wait_for "a slow-ready web pod running, not yet ready" 30 "pods -l app=web,testbed/behavior=slow-ready" \
  'any(.items[]; .status.phase == "Running" and (.status.containerStatuses[0].ready | not))'
save deployment-progressing.json deployment/web
save replicasets-progressing.json replicasets -l app=web
save pod-running-not-ready.json pod "$(pod_of app=web,testbed/behavior=slow-ready '.status.phase == "Running" and (.status.containerStatuses[0].ready | not)')"

wait_for "db to be mid-rollout" 30 statefulset/db '.status.updatedReplicas >= 1 and .status.currentRevision != .status.updateRevision'
save statefulset-rolling.json statefulset/db
wait_for "agent to be mid-rollout" 30 daemonset/agent '.status.updatedNumberScheduled >= 1 and .status.updatedNumberScheduled < .status.desiredNumberScheduled'
save daemonset-rolling.json daemonset/agent

# image pull error: ErrImagePull first, ImagePullBackOff a few seconds later.
wait_for "an ErrImagePull pod" 30 "pods -l app=worker,testbed/behavior=image-pull-error" \
  'any(.items[]; .status.containerStatuses[0].state.waiting.reason == "ErrImagePull")'
save pod-err-image-pull.json pod "$(pod_of app=worker,testbed/behavior=image-pull-error '.status.containerStatuses[0].state.waiting.reason == "ErrImagePull"')"
wait_for "an ImagePullBackOff pod" 30 "pods -l app=worker,testbed/behavior=image-pull-error" \
  'any(.items[]; .status.containerStatuses[0].state.waiting.reason == "ImagePullBackOff")'
save pod-image-pull-backoff.json pod "$(pod_of app=worker,testbed/behavior=image-pull-error '.status.containerStatuses[0].state.waiting.reason == "ImagePullBackOff"')"
save deployment-image-pull-error.json deployment/worker
save replicasets-image-pull-error.json replicasets -l app=worker

# crashloop: wait for a second restart so restartCount and lastState are those of a real loop.
wait_for "a crashlooping api pod restarted twice" 40 "pods -l app=api,testbed/behavior=crashloop" \
  'any(.items[]; .status.containerStatuses[0].state.waiting.reason == "CrashLoopBackOff" and .status.containerStatuses[0].restartCount >= 2)'
save pod-crashloop.json pod "$(pod_of app=api,testbed/behavior=crashloop '.status.containerStatuses[0].restartCount >= 2')"
save deployment-crashloop.json deployment/api
save replicasets-crashloop.json replicasets -l app=api

# never ready: progressDeadlineSeconds 10 runs out (Progressing=False, ProgressDeadlineExceeded).
wait_for "a never-ready pod running" 30 "pods -l app=stuck,testbed/behavior=never-ready" \
  'any(.items[]; .status.phase == "Running")'
save pod-never-ready.json pod "$(pod_of app=stuck,testbed/behavior=never-ready '.status.phase == "Running"')"
wait_for "stuck to exceed its progress deadline" 60 deployment/stuck \
  'any(.status.conditions[]; .type == "Progressing" and .reason == "ProgressDeadlineExceeded")'
save deployment-progress-deadline-exceeded.json deployment/stuck

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

"$KUBECTL" delete namespace "$NS" --wait=false >/dev/null
log "fixtures written to $OUT"
