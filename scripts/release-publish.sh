#!/usr/bin/env bash
# Publishes the GitHub Release of a tag; .github/workflows/release.yml runs it in a checkout of the
# tag's commit with every tag fetched:
#   1. the notes are CHANGELOG.md's `## [X.Y.Z]` section (scripts/changelog.mjs notes);
#   2. the assets are built by scripts/release-assets.sh and checked against SHA256SUMS, and against
#      EXPECTED_SHA256 when it is set (the tarball's digest as the workflow's check job built it);
#   3. the release is created as a draft, its assets attached, then published: with immutable
#      releases enabled in the repository's settings, publishing locks the tag and the assets;
#   4. the major tag (v1) is moved to the release's commit, unless a newer v1.x.y tag exists (a fix
#      released for an older minor moves nothing), and the release is marked latest only when it is
#      the newest of all.
# Needs gh, GH_TOKEN (contents: write) and GITHUB_REPOSITORY (owner/repo).
# Usage: scripts/release-publish.sh vX.Y.Z
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

tag=${1:-}
[[ "$tag" =~ ^v([0-9]+)\.[0-9]+\.[0-9]+$ ]] || die "usage: $0 vMAJOR.MINOR.PATCH (got '$tag')"
major="v${BASH_REMATCH[1]}"
: "${GITHUB_REPOSITORY:?GITHUB_REPOSITORY (owner/repo) is not set}"
: "${GH_TOKEN:?GH_TOKEN is not set}"
commit=$(git rev-parse -q --verify "refs/tags/$tag^{commit}") || die "there is no tag $tag here"
[ "$(git rev-parse HEAD)" = "$commit" ] || die "HEAD is not $tag's commit $commit"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node scripts/changelog.mjs notes "$tag" >"$work/notes.md"
bash scripts/release-assets.sh "$tag" "$work/assets" "$commit" >/dev/null
bash scripts/release-assets.sh --verify "$work/assets" >/dev/null
tarball="$work/assets/otlp-deploy-actions-$tag.tar.gz"
digest=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ -n "${EXPECTED_SHA256:-}" ] && [ "$digest" != "$EXPECTED_SHA256" ]; then
  die "the tarball's SHA-256 is $digest here but $EXPECTED_SHA256 in the check job: the build is not reproducible"
fi

# The newest release tag of all and of this major (plain vX.Y.Z tags only).
newest() { git tag --list "$1" | grep -E '^v[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n1; }
latest=false
[ "$(newest 'v*')" = "$tag" ] && latest=true

api="repos/$GITHUB_REPOSITORY"
if draft=$(gh release view "$tag" --repo "$GITHUB_REPOSITORY" --json isDraft --jq .isDraft 2>/dev/null); then
  [ "$draft" = true ] || die "release $tag is already published; a published release is never changed"
  log "deleting the draft of $tag left by an earlier run (the tag stays)"
  gh release delete "$tag" --repo "$GITHUB_REPOSITORY" --yes
fi
log "creating the draft release $tag with its assets"
gh release create "$tag" --repo "$GITHUB_REPOSITORY" --verify-tag --draft --title "$tag" \
  --notes-file "$work/notes.md" "$tarball" "$work/assets/SHA256SUMS"
log "publishing $tag (latest: $latest)"
gh release edit "$tag" --repo "$GITHUB_REPOSITORY" --draft=false --latest="$latest"

if [ "$(newest "$major.*")" != "$tag" ]; then
  log "$major stays where it is: $(newest "$major.*") is newer than $tag"
elif gh api "$api/git/ref/tags/$major" >/dev/null 2>&1; then
  log "moving $major to $commit"
  gh api --method PATCH "$api/git/refs/tags/$major" -f sha="$commit" -F force=true >/dev/null
else
  log "creating $major at $commit"
  gh api --method POST "$api/git/refs" -f ref="refs/tags/$major" -f sha="$commit" >/dev/null
fi
log "released $tag: ${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/releases/tag/$tag"
