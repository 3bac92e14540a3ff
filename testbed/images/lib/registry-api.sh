# shellcheck shell=bash
# Minimal OCI distribution API client on curl (sourced by images.sh).
# Credentials come from a netrc file so that the password never appears on a command line.
# Expects: REGISTRY (host:port), REGISTRY_NETRC (path).

readonly OCI_INDEX_TYPE=application/vnd.oci.image.index.v1+json
readonly OCI_MANIFEST_TYPE=application/vnd.oci.image.manifest.v1+json
readonly MANIFEST_ACCEPT="$OCI_INDEX_TYPE, $OCI_MANIFEST_TYPE, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"

reg_curl() {
  curl --silent --show-error --max-time 60 --netrc-file "$REGISTRY_NETRC" "$@"
}

# reg_http_code PATH [curl args...]: prints the HTTP status of GET http://$REGISTRY$PATH (with credentials).
reg_http_code() {
  local path=$1; shift
  reg_curl -o /dev/null -w '%{http_code}' "$@" "http://$REGISTRY$path" || true
}

# reg_blob_push REPO FILE: uploads FILE as a blob (monolithic upload) unless the registry has it.
reg_blob_push() {
  local repo=$1 file=$2 digest location
  digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
  if [ "$(reg_curl -o /dev/null -w '%{http_code}' --head "http://$REGISTRY/v2/$repo/blobs/$digest")" = 200 ]; then
    return 0
  fi
  location=$(reg_curl -o /dev/null -D - -X POST "http://$REGISTRY/v2/$repo/blobs/uploads/" \
    | awk 'tolower($1) == "location:" { print $2 }' | tr -d '\r')
  [ -n "$location" ] || die "registry $REGISTRY refused to start a blob upload to $repo (no Location header)"
  case $location in /*) location="http://$REGISTRY$location" ;; esac
  case $location in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
  reg_curl --fail -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$file" "$location" || die "uploading blob $digest ($file) to $REGISTRY/$repo failed"
}

# reg_manifest_push REPO REFERENCE MEDIA_TYPE FILE
reg_manifest_push() {
  local repo=$1 ref=$2 type=$3 file=$4 code
  code=$(reg_curl -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $type" \
    --data-binary "@$file" "http://$REGISTRY/v2/$repo/manifests/$ref") || true
  [ "$code" = 201 ] || die "pushing manifest $REGISTRY/$repo:$ref failed with HTTP $code"
}

# reg_manifest_digest REPO REFERENCE: prints the Docker-Content-Digest of a manifest, empty if absent.
reg_manifest_digest() {
  reg_curl -o /dev/null -D - --head -H "Accept: $MANIFEST_ACCEPT" "http://$REGISTRY/v2/$1/manifests/$2" \
    | awk 'tolower($1) == "docker-content-digest:" { print $2 }' | tr -d '\r'
}

# reg_manifest_get REPO REFERENCE: prints the manifest (index or image) body.
reg_manifest_get() {
  reg_curl --fail -H "Accept: $MANIFEST_ACCEPT" "http://$REGISTRY/v2/$1/manifests/$2"
}

# reg_index_platforms REPO REFERENCE: prints one os/arch line per manifest of an index, sorted.
reg_index_platforms() {
  reg_manifest_get "$1" "$2" | jq -r '.manifests[]?.platform | select(. != null) | "\(.os)/\(.architecture)"' | sort
}
