#!/usr/bin/env bash
# Runs the reusable deploy workflow for real, on this host, with nektos/act, against the local test bed:
# test-coverage -> image-build (BuildKit, push to the test-bed registry) -> rollout (apply, pin the
# digest, wait, smoke test) exactly as GitHub would run .github/workflows/deploy.yml for a caller.
#
# How it works offline:
#   - the caller is a throw-away Git repository made from __tests__/fixtures/workflows/service/ whose
#     workflow calls `otlp-deploy-actions/otlp-deploy-actions/.github/workflows/deploy.yml@v1`;
#   - `--local-repository otlp-deploy-actions/otlp-deploy-actions@v1=<snapshot>` makes act take that
#     workflow and every action it names from a snapshot of this checkout (action.yml files, dist/,
#     .github/workflows/: what a release tag holds, committed in a Git repository of its own);
#   - deploy.yml fetches its actions at its own commit (job.workflow_sha) from GITHUB_SERVER_URL,
#     which points at a loopback Git server (__tests__/harness/git-http-server.mjs) serving that
#     snapshot repository; act is built with tools/act/patches/ for the job.workflow_* context;
#   - the first deploy pins deploy.yml by the snapshot's SHA while `v1` names a decoy whose bundles
#     throw: it must run the pinned commit's bundles (their checksums are compared) in every job;
#   - `actions/checkout` of the caller's own repository is never fetched: act copies the work tree instead;
#   - jobs run on the host (`-P ubuntu-latest=-self-hosted`): no runner image is pulled;
#   - act's notice check is disabled and its cache/artifact servers bind to 127.0.0.1.
#
# Then (the default "full" scenario): deploy.yml dispatched by hand in this repository; a pull request
# whose coverage delta against the deployed base must be negative (pr-caller.yml); a release by the
# one-step root action (one-step-caller.yml); a version tag whose
# semver tags must all name the released digest (release-caller.yml); a release whose
# pods crash-loop (the workflow fails, the rollout rolls back) and its fix (a deploy right after a
# rollback); workflows-examples/redeploy.yml pinning another digest, rolling back, refusing a tag; and a
# deploy after those pins. After each run the cluster must run exactly the image the workflow reported.
#
# Usage: scripts/act-run.sh [--probe | --build] [--deploy-only] [--keep] [--ref GIT_REF] [-- act args]
#   --probe        only prove act runs a local action (`uses: ./actions/rollout`) on the host, offline,
#                  with __tests__/fixtures/workflows/probe.yml; needs no test bed (seconds)
#   --build        only build act (cached) and print its path
#   --deploy-only  stop after the first deploy
#   --keep         keep the work folder (caller repository, snapshot, act logs) and print its path
#   --ref REF      take the actions and workflow from commit REF (git archive) instead of the work tree
# Needs the test bed: `make testbed-up` and testbed/images/images.sh up ($TESTBED_DIR/env, default
# .testbed/env, with KUBECONFIG, KUBECTL, REGISTRY, REGISTRY_USERNAME/PASSWORD, TESTBED_BASE_IMAGE...).
# Exit status: act's, or 1 when the deployed state does not match what the workflow reported.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ACT_VERSION=0.2.89
FIRST_PARTY=otlp-deploy-actions/otlp-deploy-actions
RELEASE_REF=v1
NAMESPACE=${ACT_RUN_NAMESPACE:-act-e2e}
FIXTURE=__tests__/fixtures/workflows/service

keep=0
probe=0
scenario=full
build_only=0
ref=''
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --probe) probe=1 ;;
    --deploy-only) scenario=deploy ;;
    --build) build_only=1 ;;
    --ref) ref=${2:?--ref needs a commit}; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

# act is built with the patches in tools/act/patches/ (each says what it adds and why), keyed by
# version and patch content: job-workflow-context.patch gives act GitHub's job.workflow_* context,
# which deploy.yml reads to run this repository's actions at its own commit.
act_key="$ACT_VERSION-$(cat tools/act/patches/*.patch | sha256sum | cut -c1-12)"
if [ ! -x "$(tool_path act "$act_key")" ]; then
  act_module=$(patched_go_module "$REPO_ROOT/tools/act" github.com/nektos/act "v$ACT_VERSION" tools/act/patches/*.patch)
fi
act=$(go_tool act "$act_key" "${act_module:-/nonexistent}" github.com/nektos/act)
# On the host act runs each bundle with the `node` on PATH: Node 24, the runtime the actions declare,
# from the npm registry's `node` package (a devDependency), as make does.
export PATH="$REPO_ROOT/node_modules/.bin:$PATH"
# Flags of every run: jobs on the host, nothing fetched, no notice check, no file of the user's read,
# act's cache and artifact servers on loopback.
act_common=(
  --platform ubuntu-latest=-self-hosted
  --action-offline-mode
  --env-file /dev/null --input-file /dev/null
  --cache-server-addr 127.0.0.1 --artifact-server-addr 127.0.0.1
)
export ACT_DISABLE_VERSION_CHECK=1
if [ "$build_only" = 1 ]; then printf '%s\n' "$act"; exit 0; fi
[[ "$(node --version 2>/dev/null)" =~ ^v(2[4-9]|[3-9][0-9])\. ]] \
  || die "node on PATH is $(node --version 2>/dev/null || echo missing), not Node 24: run 'make deps' (npm ci) first"

if [ "$probe" = 1 ]; then
  log "act $ACT_VERSION probe: local ./actions/rollout on the host"
  out=$(mktemp)
  set +e
  "$act" workflow_dispatch "${act_common[@]}" --workflows __tests__/fixtures/workflows/probe.yml \
    --secret-file /dev/null --var-file /dev/null --cache-server-path "$out.cache" \
    --action-cache-path "$out.actions" "${extra[@]}" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  set -e
  ok=0
  grep -q 'timeout: "5 minutes" is not a duration' "$out" && grep -q 'probe: ./actions/rollout ran under act' "$out" && ok=1
  rm -rf "$out" "$out.cache" "$out.actions"
  if [ "$rc" -ne 0 ] || [ "$ok" != 1 ]; then die "act probe failed (exit $rc); see the log above"; fi
  log "act probe passed: ./actions/rollout ran on the host and reported its input error"
  exit 0
fi

testbed_env="${TESTBED_ENV:-${TESTBED_DIR:-$REPO_ROOT/.testbed}/env}"
[ -f "$testbed_env" ] || die "no $testbed_env: start the test bed first (make testbed-up)"
# shellcheck source=/dev/null
source "$testbed_env"
for v in KUBECONFIG KUBECTL REGISTRY REGISTRY_USERNAME REGISTRY_PASSWORD TESTBED_BASE_IMAGE; do
  [ -n "${!v:-}" ] || die "\$$v is not set by .testbed/env: is the image side up (testbed/images/images.sh up)?"
done
# The keyless rollback-to run signs its OIDC tokens with the test bed's GitHub-issuer key.
if [ "$scenario" = full ]; then
  for v in TESTBED_AUTH_CLI TESTBED_GHA_AUDIENCE; do
    [ -n "${!v:-}" ] || die "\$$v is not set by .testbed/env: the test bed's auth side is needed for the OIDC run"
  done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/act-run.XXXXXX")
smoke_pid=''
git_pid=''
api_pid=''
cleanup() {
  if [ -n "$smoke_pid" ]; then kill "$smoke_pid" 2>/dev/null || true; fi
  if [ -n "$git_pid" ]; then kill "$git_pid" 2>/dev/null || true; fi
  if [ -n "$api_pid" ]; then kill "$api_pid" 2>/dev/null || true; fi
  if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# 1. The release snapshot act substitutes for otlp-deploy-actions/otlp-deploy-actions@v1: a Git
#    repository, served at $GITHUB_SERVER_URL/otlp-deploy-actions/otlp-deploy-actions.
snapshot="$work/git/$FIRST_PARTY"
mkdir -p "$snapshot/.github"
if [ -n "$ref" ]; then
  git archive --format=tar "$ref" action.yml actions dist .github/workflows | tar -x -C "$snapshot"
else
  # `npm run build` rewrites dist/ in place: give a build that is running a moment to finish.
  for _ in $(seq 24); do
    [ -f dist/image-build/index.js ] && [ -f dist/rollout/index.js ] && [ -f dist/test-coverage/index.js ] && break
    log "waiting for dist/ (a build is rewriting it?)"
    sleep 5
  done
  cp -r action.yml actions dist "$snapshot/"
  cp -r .github/workflows "$snapshot/.github/"
fi
for a in image-build rollout test-coverage; do
  [ -f "$snapshot/dist/$a/index.js" ] || die "dist/$a/index.js is missing${ref:+ at $ref}: run make build"
done
git -C "$snapshot" init -q -b main
git -C "$snapshot" add -A
git -C "$snapshot" -c user.name=act-run -c user.email=act-run@localhost commit -q -m "otlp-deploy-actions snapshot"
snapshot_sha=$(git -C "$snapshot" rev-parse HEAD)
# The decoy `v1` of the pinned run: the same files, but every bundle throws.
decoy="$work/decoy-v1"
mkdir -p "$decoy" && (cd "$snapshot" && git archive HEAD) | tar -x -C "$decoy"
for f in "$decoy"/dist/*/index.js; do
  echo 'throw new Error("the decoy v1 bundle ran instead of the pinned commit")' > "$f"
done

# 2. The caller: a fresh Git repository (act reads the commit, branch and remote from it).
service="$work/service"
mkdir -p "$service/.github/workflows"
cp -r "$FIXTURE"/. "$service/"
mv "$service"/*-caller.yml "$service/.github/workflows/"
# The same caller with deploy.yml pinned by the snapshot's commit, as a careful user writes it.
sed -e "s|/deploy.yml@$RELEASE_REF\$|/deploy.yml@$snapshot_sha # v1.0.0|" -e 's/^name: deploy-caller$/name: pinned-caller/' \
  "$service/.github/workflows/deploy-caller.yml" > "$service/.github/workflows/pinned-caller.yml"
grep -q "deploy.yml@$snapshot_sha" "$service/.github/workflows/pinned-caller.yml" || die "could not pin deploy.yml in pinned-caller.yml"
cp workflows-examples/redeploy.yml "$service/.github/workflows/redeploy.yml"
git -C "$service" init -q -b main
git -C "$service" remote add origin https://github.com/acme/greeter.git
git -C "$service" add -A
git -C "$service" -c user.name=act-run -c user.email=act-run@localhost commit -q -m "greeter fixture"
sha=$(git -C "$service" rev-parse HEAD)

# 3. A smoke endpoint on loopback standing in for the service's health URL (KWOK pods serve nothing).
node -e '
  const server = require("http").createServer((req, res) => {
    res.writeHead(req.url === "/health" ? 200 : 404, { "content-type": "application/json" })
    res.end(JSON.stringify(req.url === "/health" ? { status: "ok" } : { status: "not found" }))
  })
  server.listen(0, "127.0.0.1", () => require("fs").writeFileSync(process.argv[1], String(server.address().port)))
' "$work/smoke.port" &
smoke_pid=$!
for _ in $(seq 50); do [ -s "$work/smoke.port" ] && break; sleep 0.1; done
[ -s "$work/smoke.port" ] || die "the smoke endpoint did not start"
smoke_url="http://127.0.0.1:$(cat "$work/smoke.port")/health"

# 3'. The Git server deploy.yml fetches its own commit from (github.com's part).
node __tests__/harness/git-http-server.mjs "$work/git" "$work/git.port" &
git_pid=$!
for _ in $(seq 50); do [ -s "$work/git.port" ] && break; sleep 0.1; done
[ -s "$work/git.port" ] || die "the loopback Git server did not start"
server_url="http://127.0.0.1:$(cat "$work/git.port")"

# 3''. GitHub's REST API (deployment records) and the runner's OIDC token endpoint, on loopback. The
#      token endpoint signs for acme/greeter in the `local` environment with the test bed's issuer key.
github_token=ghs_actRunLoopbackToken0123456789abcdef
id_request_token="act-run-id-token-request-0123456789"
node __tests__/harness/github-api.mjs --port-file "$work/api.port" --token "$github_token" \
  --request-token "$id_request_token" --mint-cli "${TESTBED_AUTH_CLI:-}" \
  --repository acme/greeter --environment local 2> "$work/github-api.log" &
api_pid=$!
for _ in $(seq 50); do [ -s "$work/api.port" ] && break; sleep 0.1; done
[ -s "$work/api.port" ] || die "the loopback GitHub API did not start"
api_url="http://127.0.0.1:$(cat "$work/api.port")"

# 4. The namespace and the deployer's Role exist before the deploy (a cluster admin's job). The
# workflow's KUBECONFIG secret is the test bed's `deployer` identity, which may touch nothing else,
# unless ACT_RUN_IDENTITY=admin.
"$KUBECTL" create namespace "$NAMESPACE" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
# Every run starts the same way: the first deploy creates the workload (a previous run's is removed).
"$KUBECTL" -n "$NAMESPACE" delete deployment greeter --ignore-not-found --wait=true >/dev/null
deploy_kubeconfig=$KUBECONFIG
if [ "${ACT_RUN_IDENTITY:-deployer}" = deployer ]; then
  [ -n "${KUBECONFIG_DEPLOYER:-}" ] || die "\$KUBECONFIG_DEPLOYER is not set by $testbed_env (or set ACT_RUN_IDENTITY=admin)"
  "$KUBECTL" -n "$NAMESPACE" apply -f __tests__/fixtures/workflows/deployer-rbac.yaml >/dev/null
  deploy_kubeconfig=$KUBECONFIG_DEPLOYER
fi
# The identity the test bed's JWT authenticator gives acme/greeter's `local` environment jobs
# (gha:<repository>:<environment>) gets the same Role, for the keyless rollback-caller.yml; its
# KUBECONFIG secret names the cluster only.
"$KUBECTL" -n "$NAMESPACE" apply -f __tests__/fixtures/workflows/deployer-rbac.yaml >/dev/null
"$KUBECTL" -n "$NAMESPACE" create rolebinding otlp-deployer-gha --role=otlp-deployer --user='gha:acme/greeter:local' \
  --dry-run=client -o yaml | "$KUBECTL" -n "$NAMESPACE" apply -f - >/dev/null
"$KUBECTL" config view --raw --minify -o json | jq --arg ns "$NAMESPACE" '{
  apiVersion: "v1", kind: "Config", clusters: .clusters,
  users: [{name: "github-actions", user: {}}],
  contexts: [{name: "ci", context: {cluster: .clusters[0].name, user: "github-actions", namespace: $ns}}],
  "current-context": "ci"}' > "$work/cluster-only.kubeconfig"

# 5. Secrets (YAML, so the kubeconfig keeps its newlines), variables and the push event.
jq -n --rawfile kubeconfig "$deploy_kubeconfig" --rawfile cluster "$work/cluster-only.kubeconfig" \
  --arg user "$REGISTRY_USERNAME" --arg password "$REGISTRY_PASSWORD" --arg token "$github_token" \
  '{KUBECONFIG: $kubeconfig, KUBECONFIG_CLUSTER_ONLY: $cluster, REGISTRY_USERNAME: $user,
    REGISTRY_PASSWORD: $password, GITHUB_TOKEN: $token}' > "$work/secrets.yml"
chmod 600 "$work/secrets.yml"
mkdir -p "$work/coverage-store"
jq -n --arg registry "$REGISTRY" --arg ns "$NAMESPACE" --arg smoke "$smoke_url" --arg base "$TESTBED_BASE_IMAGE" \
  --arg store "$work/coverage-store" --arg aud "${TESTBED_GHA_AUDIENCE:-}" \
  '{REGISTRY: $registry, NAMESPACE: $ns, SMOKE_URL: $smoke, BASE_IMAGE: $base, COVERAGE_STORE: $store,
    OIDC_AUDIENCE: $aud}' > "$work/vars.yml"
jq -n --arg sha "$sha" '{
  ref: "refs/heads/main", before: "0000000000000000000000000000000000000000", after: $sha,
  head_commit: {id: $sha, message: "greeter fixture"},
  repository: {name: "greeter", full_name: "acme/greeter", default_branch: "main", owner: {login: "acme", name: "acme"}},
  sender: {login: "act-run"}
}' > "$work/event.json"

# 6. Run. Every file option is given explicitly so no ~/.actrc, .env or .secrets of the caller leaks in.
# run_act NAME EVENT WORKFLOW EVENT_FILE [fail]: runs one workflow of the caller repository (log in
# $work/NAME.log); it must succeed, or fail when the fifth argument says so.
run_act() {
  local name=$1 event=$2 workflow=$3 event_file=$4 expect=${5:-succeed} t0 rc
  log "act $ACT_VERSION: $name ($workflow, $event event; actions from the snapshot of ${ref:-the work tree})"
  t0=$(date +%s)
  set +e
  (
    cd "${act_dir:-$service}"
    "$act" "$event" "${act_common[@]}" \
      --workflows ".github/workflows/$workflow" \
      --eventpath "$event_file" \
      --local-repository "$FIRST_PARTY@$RELEASE_REF=${release_dir:-$snapshot}" \
      --local-repository "$FIRST_PARTY@$snapshot_sha=$snapshot" \
      --env GITHUB_SERVER_URL="$server_url" \
      --env GITHUB_API_URL="$api_url" \
      --env ACTIONS_ID_TOKEN_REQUEST_URL="$api_url/_runner/idtoken?api-version=2.0" \
      --env ACTIONS_ID_TOKEN_REQUEST_TOKEN="$id_request_token" \
      --action-cache-path "$work/action-cache" \
      --cache-server-path "$work/cache-server" \
      --secret-file "$work/secrets.yml" \
      --var-file "$work/vars.yml" \
      --actor act-run \
      "${extra[@]}"
  ) 2>&1 | tee "$work/$name.log"
  rc=${PIPESTATUS[0]}
  set -e
  log "$name: act exited $rc after $(( $(date +%s) - t0 ))s"
  if [ "$expect" = fail ]; then
    [ "$rc" -ne 0 ] || die "$name succeeded under act but had to fail; rerun with --keep to keep $work/$name.log"
  else
    [ "$rc" -eq 0 ] || die "$name failed under act (exit $rc); rerun with --keep to keep $work/$name.log"
  fi
}

# push_event FILE: a push payload for the caller repository's current commit (before = its parent).
push_event() {
  local after before
  after=$(git -C "$service" rev-parse HEAD)
  before=$(git -C "$service" rev-parse -q --verify HEAD^ || echo 0000000000000000000000000000000000000000)
  jq -n --arg after "$after" --arg before "$before" --arg msg "$(git -C "$service" log -1 --format=%s)" '{
    ref: "refs/heads/main", before: $before, after: $after,
    head_commit: {id: $after, message: $msg},
    repository: {name: "greeter", full_name: "acme/greeter", default_branch: "main", owner: {login: "acme", name: "acme"}},
    sender: {login: "act-run"}
  }' > "$1"
}

# set_behavior VALUE: commit the fixture's Deployment with pod-template label testbed/behavior=VALUE.
set_behavior() {
  sed -i "s|testbed/behavior: .*|testbed/behavior: $1|" "$service/k8s/deployment.yaml"
  git -C "$service" -c user.name=act-run -c user.email=act-run@localhost commit -q -am "greeter: pods $1"
}

# tag_digest HOST/PATH:TAG: the digest the test bed's registry serves for that tag.
tag_digest() {
  local host=${1%%/*} rest=${1#*/}
  curl -fsS -u "$REGISTRY_USERNAME:$REGISTRY_PASSWORD" -o /dev/null -D - \
    -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$host/v2/${rest%:*}/manifests/${rest##*:}" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# reported_image LOG: the image-ref the last job of deploy-caller.yml or one-step-caller.yml printed.
reported_image() {
  sed -n 's/.*| act-run: result=\([^ ]*\) image-ref=\([^ ]*\).*/\2/p' "$1" | tail -n1
}

# expect_running IMAGE WHAT: the cluster must run exactly IMAGE in deployment/greeter.
expect_running() {
  local running
  running=$("$KUBECTL" -n "$NAMESPACE" get deployment greeter \
    -o jsonpath='{.spec.template.spec.containers[?(@.name=="greeter")].image}')
  [ "$running" = "$1" ] || die "deployment/greeter runs '$running' but $2 '$1'"
  log "deployment/greeter in $NAMESPACE runs $running ($2)"
}

# dispatch_event FILE IMAGE_REF: a workflow_dispatch payload for redeploy.yml.
dispatch_event() {
  jq -n --arg image "$2" --arg ns "$NAMESPACE" '{
    ref: "refs/heads/main",
    inputs: {"image-ref": $image, environment: "local", workload: "deployment/greeter", container: "greeter", namespace: $ns},
    repository: {name: "greeter", full_name: "acme/greeter", default_branch: "main", owner: {login: "acme"}},
    sender: {login: "act-run"}
  }' > "$1"
}

start=$(date +%s)

# 6a. The deploy: test -> build -> rollout through the reusable workflow, pinned by commit while
#     `v1` names the decoy: every job must fetch and run the pinned commit's bundles.
release_dir=$decoy run_act deploy push pinned-caller.yml "$work/event.json"
deployed=$(reported_image "$work/deploy.log")
[ -n "$deployed" ] || die "the verify job of pinned-caller.yml printed no image-ref"
expect_running "$deployed" "the deploy workflow reported"
! grep -q 'decoy v1 bundle' "$work/deploy.log" || die "the pinned deploy ran a bundle of the decoy v1"
fetched=$(grep -c "otlp-deploy-actions $FIRST_PARTY@$snapshot_sha in .git/otlp-deploy-actions" "$work/deploy.log" || true)
[ "$fetched" -ge 3 ] || die "expected the test, build and deploy jobs to fetch $snapshot_sha, saw $fetched (see $work/deploy.log)"
for a in test-coverage image-build rollout; do
  sum=$(sha256sum "$snapshot/dist/$a/index.js" | cut -d' ' -f1)
  grep -q "$sum  dist/$a/index.js" "$work/deploy.log" || die "dist/$a/index.js of the pinned commit ($sum) is not what ran"
done
log "pinned: deploy.yml@$snapshot_sha ran that commit's bundles in all $fetched jobs (dist/rollout/index.js sha256 $(sha256sum "$snapshot/dist/rollout/index.js" | cut -c1-12)); v1 was a decoy"

if [ "$scenario" = full ]; then
  # 6a'. deploy.yml run by hand (workflow_dispatch) in this repository, on the fixture service's
  #      folders: the same three jobs through the dispatch trigger and its typed inputs.
  fixture_dir=__tests__/fixtures/workflows/service
  jq -n --arg registry "$REGISTRY" --arg ns "$NAMESPACE" --arg smoke "$smoke_url" --arg base "$TESTBED_BASE_IMAGE" \
    --arg dir "$fixture_dir" --arg store "$work/coverage-store" '{
    ref: "refs/heads/main",
    inputs: {
      image: "act-e2e/greeter", registry: $registry, environment: "local", namespace: $ns,
      manifests: ($dir + "/k8s"), container: "greeter", "smoke-url": $smoke, "smoke-expect": "json:status=ok",
      platforms: "linux/amd64", context: $dir, "build-args": ("BASE_IMAGE=" + $base),
      "test-preset": "custom", "test-working-directory": $dir,
      "test-command": "mkdir -p coverage && node --test --experimental-test-coverage --test-reporter=lcov --test-reporter-destination=coverage/lcov.info --test-reporter=junit --test-reporter-destination=coverage/junit.xml test/greeting.test.js",
      "coverage-files": "coverage/lcov.info", "junit-files": "coverage/junit.xml",
      "base-coverage": $store, "rollout-timeout": "3m"
    },
    repository: {name: "otlp-deploy-actions", full_name: "otlp-deploy-actions/otlp-deploy-actions", default_branch: "main", owner: {login: "otlp-deploy-actions"}},
    sender: {login: "act-run"}
  }' > "$work/dispatch.json"
  act_dir="$REPO_ROOT" run_act dispatch workflow_dispatch deploy.yml "$work/dispatch.json"
  dispatched=$(sed -n 's/.*::set-output:: image-ref=\([^ ]*@sha256:[0-9a-f]*\).*/\1/p' "$work/dispatch.log" | tail -n1)
  [ -n "$dispatched" ] || die "the dispatched deploy.yml printed no image-ref"
  expect_running "$dispatched" "the dispatched deploy.yml built"
  deployed=$dispatched

  # 6b. A pull request that adds untested code: pr-caller.yml must find the report the deploy stored
  #     for its base commit (in the coverage store folder) and report a negative delta.
  base_sha=$(git -C "$service" rev-parse HEAD)
  git -C "$service" checkout -q -b feature
  cat >> "$service/src/greeting.js" <<'JS'

export function farewell(name) {
  if (!name) return 'bye'
  return 'bye ' + name
}
JS
  git -C "$service" -c user.name=act-run -c user.email=act-run@localhost commit -q -am "greeter: farewell (untested)"
  jq -n --arg base "$base_sha" --arg head "$(git -C "$service" rev-parse HEAD)" '{
    action: "synchronize", number: 7,
    pull_request: {number: 7, title: "farewell", head: {ref: "feature", sha: $head}, base: {ref: "main", sha: $base}},
    repository: {name: "greeter", full_name: "acme/greeter", default_branch: "main", owner: {login: "acme", name: "acme"}},
    sender: {login: "act-run"}
  }' > "$work/pull-request.json"
  run_act pull-request pull_request pr-caller.yml "$work/pull-request.json"
  pr_line=$(grep '| act-run-pr:' "$work/pull-request.log" | tail -n1)
  delta=$(sed -n 's/.*delta=\([^ ]*\).*/\1/p' <<< "$pr_line")
  [[ "$delta" =~ ^-[0-9.]+$ ]] || die "the pull request's coverage delta is '$delta', expected a negative number ($pr_line)"
  log "pull request: ${pr_line#*act-run-pr: }"
  git -C "$service" checkout -q main
fi
if [ "$scenario" = full ]; then
  # 6b'. The one-step root action (build + rollout + smoke in one step) releases a new commit of main.
  git -C "$service" -c user.name=act-run -c user.email=act-run@localhost commit -q --allow-empty -m "greeter: one-step release"
  push_event "$work/one-step.json"
  run_act one-step push one-step-caller.yml "$work/one-step.json"
  deployed=$(reported_image "$work/one-step.log")
  [ -n "$deployed" ] || die "one-step-caller.yml printed no image-ref"
  expect_running "$deployed" "the one-step action reported"
fi
if [ "$scenario" = full ]; then
  # 6b''. A version tag (release-caller.yml, the image half of workflows-examples/release.yml) pushes
  #       the semver tags 1.4.2, 1.4, 1 and latest.
  git -C "$service" tag v1.4.2
  jq -n --arg sha "$(git -C "$service" rev-parse HEAD)" '{
    ref: "refs/tags/v1.4.2", before: "0000000000000000000000000000000000000000", after: $sha,
    head_commit: {id: $sha, message: "greeter 1.4.2"},
    repository: {name: "greeter", full_name: "acme/greeter", default_branch: "main", owner: {login: "acme", name: "acme"}},
    sender: {login: "act-run"}
  }' > "$work/release.json"
  run_act release push release-caller.yml "$work/release.json"
  release_line=$(grep '| act-run-release:' "$work/release.log" | tail -n1)
  log "release: ${release_line#*act-run-release: }"
  released=$(sed -n 's/.*::set-output:: digest=\(sha256:[0-9a-f]*\).*/\1/p' "$work/release.log" | tail -n1)
  [ -n "$released" ] || die "release-caller.yml printed no digest"
  for t in 1.4.2 1.4 1 latest; do
    [ "$(tag_digest "$REGISTRY/act-e2e/greeter:$t")" = "$released" ] \
      || die "act-e2e/greeter:$t in the registry is not the released digest $released"
  done
  log "act-e2e/greeter:1.4.2, :1.4, :1 and :latest are all $released in the registry"
fi
if [ "$scenario" = full ]; then
  # 6c. A bad release (its pods crash-loop): the workflow must fail, the rollout must roll back, and the
  #     cluster must run the previous release again.
  set_behavior crashloop
  push_event "$work/bad-release.json"
  run_act bad-release push deploy-caller.yml "$work/bad-release.json" fail
  grep -q 'set-output:: result=rolled-back' "$work/bad-release.log" \
    || die "the bad release did not end with result=rolled-back (see $work/bad-release.log with --keep)"
  expect_running "$deployed" "the automatic rollback of the bad release had to restore"

  # 6d. The fix: the next deploy after a rollback must go through.
  set_behavior ready
  push_event "$work/fixed-release.json"
  run_act fixed-release push deploy-caller.yml "$work/fixed-release.json"
  deployed=$(reported_image "$work/fixed-release.log")
  [ -n "$deployed" ] || die "the verify job of the fixed release printed no image-ref"
  expect_running "$deployed" "the fixed release reported"
fi
if [ "$scenario" = full ]; then
  # 6e. workflows-examples/redeploy.yml pins another image by digest (the test bed's base image),
  # 6f. then rolls back by redeploying the digest the deploy built.
  base_digest=$(tag_digest "$TESTBED_BASE_IMAGE")
  [ -n "$base_digest" ] || die "could not resolve the digest of $TESTBED_BASE_IMAGE"
  other="${TESTBED_BASE_IMAGE%:*}@$base_digest"
  dispatch_event "$work/redeploy.json" "$other"
  run_act redeploy workflow_dispatch redeploy.yml "$work/redeploy.json"
  expect_running "$other" "redeploy.yml was asked for"
  dispatch_event "$work/rollback.json" "$deployed"
  run_act rollback workflow_dispatch redeploy.yml "$work/rollback.json"
  expect_running "$deployed" "the rollback (redeploy.yml) was asked for"
  # 6f'. redeploy.yml refuses an image given by tag, before touching the cluster.
  dispatch_event "$work/redeploy-tag.json" "$TESTBED_BASE_IMAGE"
  run_act redeploy-tag workflow_dispatch redeploy.yml "$work/redeploy-tag.json" fail
  grep -q 'is not pinned by digest' "$work/redeploy-tag.log" || die "redeploy.yml failed for another reason than the tag"
  expect_running "$deployed" "nothing may change when redeploy.yml refuses a tag; expected"
fi
if [ "$scenario" = full ]; then
  # 6g. A regular deploy after the workload was pinned by redeploy.yml must go through.
  git -C "$service" -c user.name=act-run -c user.email=act-run@localhost commit -q --allow-empty -m "greeter: deploy again"
  push_event "$work/after-redeploy.json"
  run_act after-redeploy push deploy-caller.yml "$work/after-redeploy.json"
  deployed=$(reported_image "$work/after-redeploy.log")
  expect_running "$deployed" "the deploy after the redeploys reported"
fi
if [ "$scenario" = full ]; then
  # 6h. The workload drifts (someone pins another image by hand); rollback-caller.yml, keyless
  #     (OIDC) and without a build, must put back the images of the last successful deployment record.
  "$KUBECTL" -n "$NAMESPACE" set image deployment/greeter "greeter=$other" >/dev/null
  "$KUBECTL" -n "$NAMESPACE" rollout status deployment/greeter --timeout=120s >/dev/null
  jq -n '{ref: "refs/heads/main", inputs: {},
    repository: {name: "greeter", full_name: "acme/greeter", default_branch: "main", owner: {login: "acme"}},
    sender: {login: "act-run"}}' > "$work/rollback-to.json"
  run_act rollback-to workflow_dispatch rollback-caller.yml "$work/rollback-to.json"
  grep -q '| act-run-rollback: result=success' "$work/rollback-to.log" || die "rollback-caller.yml did not report success"
  expect_running "$deployed" "rollback-to: last-success (over OIDC) had to restore"
  grep -q "GET /_runner/idtoken?" "$work/github-api.log" || die "the rollback never asked the runner's endpoint for an OIDC token"
fi

# 7. GitHub saw every deploy: the deployment records the rollouts kept in the loopback API.
curl -fsS "$api_url/_state" > "$work/deployments.json"
jq -e --arg smoke "$smoke_url" '[.[] | select(.owner == "acme" and .repo == "greeter")] | .[0] as $d
  | $d.environment == "local" and ($d.payload.images.greeter | test("@sha256:"))
  and ([$d.statuses[0:2][].state] == ["in_progress", "success"])
  and $d.statuses[1].environment_url == $smoke and ($d.statuses[1].log_url | test("/actions/runs/"))
  and ([$d.statuses[2:][].state] | all(. == "inactive"))' \
  "$work/deployments.json" >/dev/null \
  || die "the pinned deploy's record is not in_progress then success with its URLs: $(jq -c '.[0]' "$work/deployments.json")"
records=$(jq '[.[] | select(.owner == "acme")] | length' "$work/deployments.json")
if [ "$scenario" = full ]; then
  jq -e '[.[] | select(.owner == "acme") | .statuses[-1] | select(.state == "failure" and (.description | startswith("Rolled back")))] | length == 1' \
    "$work/deployments.json" >/dev/null || die "expected exactly one record of a rolled-back release (failure, \"Rolled back ...\")"
  jq -e --arg image "$deployed" '[.[] | select(.owner == "acme")][-1] | (.description | startswith("Rollback to the last success"))
    and .payload.images.greeter == $image and .statuses[-1].state == "success"' "$work/deployments.json" >/dev/null \
    || die "the last record is not the successful rollback to $deployed: $(jq -c '.[-1]' "$work/deployments.json")"
fi
summary="the pinned deploy's is in_progress then success with its environment and log URLs"
[ "$scenario" = full ] && summary="$summary; the bad release's says \"Rolled back\"; the last is the rollback to the last success"
log "deployment records: $records for acme/greeter; $summary"
log "act-run passed in $(( $(date +%s) - start ))s (scenario: $scenario)"
