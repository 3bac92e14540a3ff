# shellcheck shell=bash
# `images.sh check` (sourced by images.sh): proves the image side of the test bed end to end, through the
# same paths the image-build action takes: docker login + buildx --metadata-file, and
# buildah login + buildah build --manifest + buildah manifest push --digestfile.
# Every build is linux/amd64 + linux/arm64 FROM the base image with a RUN step; the check then reads
# the pushed index back from the registry API and reads the file the arm64 RUN step wrote.

CHECK_FAILURES=0

pass() { printf 'ok    %s\n' "$*" >&2; }
fail() { printf 'FAIL  %s\n' "$*" >&2; CHECK_FAILURES=$((CHECK_FAILURES + 1)); }

# expect_platforms REPO REF: the index at REPO:REF lists linux/amd64 and linux/arm64.
expect_platforms() {
  local platforms
  platforms=$(reg_index_platforms "$1" "$2" 2>/dev/null | grep -v '^unknown/' | sort -u | tr '\n' ' ')
  if [ "$platforms" = "linux/amd64 linux/arm64 " ]; then
    pass "$REGISTRY/$1:$2 is an index with linux/amd64 and linux/arm64"
  else
    fail "$REGISTRY/$1:$2 platforms are '${platforms}', expected linux/amd64 linux/arm64"
  fi
}

# run_step_output REPO REF ARCH FILE: prints FILE from the top layer of the ARCH image of the index.
run_step_output() {
  local repo=$1 ref=$2 arch=$3 file=$4 manifest layer
  manifest=$(reg_manifest_get "$repo" "$ref" | jq -r --arg a "$arch" \
    '.manifests[] | select(.platform.os == "linux" and .platform.architecture == $a) | .digest' | head -n 1)
  [ -n "$manifest" ] || return 1
  layer=$(reg_manifest_get "$repo" "$manifest" | jq -r '.layers[-1].digest')
  reg_curl --fail -L "http://$REGISTRY/v2/$repo/blobs/$layer" | tar -xzO --wildcards "$file" "./$file" 2>/dev/null
}

# expect_run_output REPO REF: the RUN step ran for real on each arch (uname -m under QEMU for arm64).
expect_run_output() {
  local arch want got
  for arch in amd64 arm64; do
    case $arch in amd64) want=x86_64 ;; arm64) want=aarch64 ;; esac
    got=$(run_step_output "$1" "$2" "$arch" arch.txt || true)
    if [ "$got" = "$want" ]; then
      pass "$1:$2 linux/$arch RUN step saw uname -m = $got"
    else
      fail "$1:$2 linux/$arch RUN step wrote '${got}', expected $want"
    fi
  done
}

# expect_digest WHAT DIGEST REPO REF: a builder-reported digest is what the registry serves.
expect_digest() {
  local have
  have=$(reg_manifest_digest "$3" "$4")
  if [[ $2 == sha256:* ]] && [ "$2" = "$have" ]; then
    pass "$1 digest $2 matches the registry"
  else
    fail "$1 reported digest '$2' but the registry serves '$have' for $3:$4"
  fi
}

check_auth() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$REGISTRY/v2/")
  [ "$code" = 401 ] && pass "registry refuses anonymous access (HTTP 401)" || fail "anonymous GET /v2/ returned HTTP $code, expected 401"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -u "$REGISTRY_USERNAME:wrong-password" "http://$REGISTRY/v2/")
  [ "$code" = 401 ] && pass "registry refuses a wrong password (HTTP 401)" || fail "GET /v2/ with a wrong password returned HTTP $code, expected 401"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "http://$REGISTRY/v2/testbed/anonymous/blobs/uploads/")
  [ "$code" = 401 ] && pass "registry refuses an anonymous push (HTTP 401)" || fail "anonymous blob upload returned HTTP $code, expected 401"
  code=$(reg_http_code /v2/)
  [ "$code" = 200 ] && pass "registry accepts the test bed credentials (HTTP 200)" || fail "GET /v2/ with credentials returned HTTP $code, expected 200"
}

write_check_context() {
  local dir=$1
  mkdir -p "$dir"
  cat >"$dir/Dockerfile" <<'EOF'
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG CHECK_ID
RUN uname -m > /arch.txt && echo "$CHECK_ID" > /check-id.txt && sh -c 'test "$(cat /arch.txt)" != ""'
EOF
  cat >"$dir/Dockerfile.scratch" <<'EOF'
FROM scratch
COPY hello.txt /hello.txt
EOF
  echo "hello from the otlp-deploy-actions test bed" >"$dir/hello.txt"
}

check_buildx() {
  local ctx=$1 tag=$2 meta="$1/buildx-metadata.json" digest
  printf '%s' "$REGISTRY_PASSWORD" | timeout 60 docker login --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY" >/dev/null \
    && pass "docker login --password-stdin $REGISTRY" || { fail "docker login to $REGISTRY failed"; return; }
  if timeout 900 docker buildx build --builder "$BUILDX_BUILDER" --platform linux/amd64,linux/arm64 \
      --build-arg "BASE_IMAGE=$TESTBED_BASE_IMAGE" --build-arg "CHECK_ID=$tag" \
      --metadata-file "$meta" --push -t "$REGISTRY/testbed/check-buildx:$tag" "$ctx" >"$ctx/buildx.log" 2>&1; then
    pass "docker buildx build --platform linux/amd64,linux/arm64 --push (FROM $TESTBED_BASE_IMAGE, RUN)"
  else
    tail -n 30 "$ctx/buildx.log" >&2; fail "docker buildx build failed (log above)"; return
  fi
  digest=$(jq -r '."containerimage.digest" // empty' "$meta")
  expect_digest "buildx --metadata-file" "$digest" testbed/check-buildx "$tag"
  expect_platforms testbed/check-buildx "$tag"
  expect_run_output testbed/check-buildx "$tag"
  if timeout 300 docker buildx build --builder "$BUILDX_BUILDER" --platform linux/amd64,linux/arm64 \
      -f "$ctx/Dockerfile.scratch" --push -t "$REGISTRY/testbed/check-scratch:$tag" "$ctx" >"$ctx/scratch.log" 2>&1; then
    pass "docker buildx build FROM scratch --push"
    expect_platforms testbed/check-scratch "$tag"
  else
    tail -n 30 "$ctx/scratch.log" >&2; fail "docker buildx build FROM scratch failed (log above)"
  fi
}

# The Docker Engine pulls the base image from the authenticated registry and runs both platforms.
check_docker_engine() {
  local arch want got
  if timeout 120 docker pull -q "$TESTBED_BASE_IMAGE" >/dev/null 2>&1; then
    pass "docker pull $TESTBED_BASE_IMAGE through dockerd ($DOCKER_HOST)"
  else
    fail "docker pull $TESTBED_BASE_IMAGE failed (see $IMG_DIR/dockerd.log)"; return
  fi
  for arch in amd64 arm64; do
    case $arch in amd64) want=x86_64 ;; arm64) want=aarch64 ;; esac
    got=$(timeout 120 docker run --rm --network none --platform "linux/$arch" "$TESTBED_BASE_IMAGE" uname -m 2>/dev/null || true)
    [ "$got" = "$want" ] && pass "docker run --platform linux/$arch saw uname -m = $got" \
      || fail "docker run --platform linux/$arch printed '$got', expected $want"
  done
}

check_buildah() {
  local ctx=$1 tag=$2 digest
  local list="localhost/otlp-testbed-check:$tag"
  printf '%s' "$REGISTRY_PASSWORD" | timeout 60 buildah login --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY" >/dev/null \
    && pass "buildah login --password-stdin $REGISTRY" || { fail "buildah login to $REGISTRY failed"; return; }
  if timeout 900 buildah build --platform linux/amd64,linux/arm64 --manifest "$list" \
      --build-arg "BASE_IMAGE=$TESTBED_BASE_IMAGE" --build-arg "CHECK_ID=$tag" -f "$ctx/Dockerfile" "$ctx" >"$ctx/buildah.log" 2>&1; then
    pass "buildah build --platform linux/amd64,linux/arm64 --manifest (FROM $TESTBED_BASE_IMAGE, RUN)"
  else
    tail -n 30 "$ctx/buildah.log" >&2; fail "buildah build failed (log above)"; buildah manifest rm "$list" >/dev/null 2>&1 || true; return
  fi
  if timeout 300 buildah manifest push --all --digestfile "$ctx/buildah.digest" "$list" \
      "docker://$REGISTRY/testbed/check-buildah:$tag" >>"$ctx/buildah.log" 2>&1; then
    pass "buildah manifest push --all --digestfile"
  else
    tail -n 30 "$ctx/buildah.log" >&2; fail "buildah manifest push failed (log above)"
  fi
  digest=$(cat "$ctx/buildah.digest" 2>/dev/null || true)
  expect_digest "buildah --digestfile" "$digest" testbed/check-buildah "$tag"
  expect_platforms testbed/check-buildah "$tag"
  expect_run_output testbed/check-buildah "$tag"
  # Leave no images behind in the local store: only the registry copy matters.
  buildah manifest rm "$list" >/dev/null 2>&1 || true
  buildah rmi --prune >/dev/null 2>&1 || true
}

cmd_check() {
  [ -s "$ENV_FILE" ] || die "$ENV_FILE is missing; run: $0 up"
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  local started=$SECONDS tag ctx t
  tag="check-$(date +%s)"
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/otlp-testbed-check.XXXXXX")
  write_check_context "$ctx"
  check_auth
  expect_platforms "$BASE_REPO" "$BASE_TAG"
  t=$SECONDS; check_buildx "$ctx" "$tag"; log "buildx checks took $((SECONDS - t))s"
  t=$SECONDS; check_buildah "$ctx" "$tag"; log "buildah checks took $((SECONDS - t))s"
  if [ -n "${DOCKER_HOST:-}" ]; then
    t=$SECONDS; check_docker_engine; log "docker engine checks took $((SECONDS - t))s"
  fi
  if [ "$CHECK_FAILURES" -gt 0 ]; then
    die "image test bed check: $CHECK_FAILURES failure(s) in $((SECONDS - started))s; logs kept in $ctx"
  fi
  rm -rf "$ctx"
  log "image test bed check passed in $((SECONDS - started))s"
}
