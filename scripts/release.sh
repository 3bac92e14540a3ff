#!/usr/bin/env bash
# Cuts a release; the one command a maintainer runs, and it never pushes:
#   scripts/release.sh [--dry-run] 1.2.3        (or v1.2.3)
# 1. checks that the work tree is clean and on main, that the tag is new, that CHANGELOG.md has
#    entries under `## [Unreleased]`, and that a fresh build changes nothing (the committed dist/,
#    action.yml and README usage are what the sources give);
# 2. moves those entries into `## [1.2.3] - <today, UTC>` under a fresh empty `## [Unreleased]` and
#    updates the compare links at the end of the changelog (scripts/changelog.mjs);
# 3. commits "release v1.2.3" and creates the annotated tag v1.2.3 on that commit;
# 4. prints the push command. The pushed tag starts .github/workflows/release.yml, which checks it all
#    again, publishes the GitHub Release (notes, bundle tarball, SHA256SUMS) and moves v1.
# --dry-run runs the checks and shows the changelog change, the commit and the tag, and changes nothing.
# Environment, for the tests' throwaway repositories (__tests__/release/release-script.test.ts):
#   RELEASE_BUILD_COMMAND  what rebuilds the generated files (default: npm run build)
#   RELEASE_DATE           the release's date, YYYY-MM-DD (default: today in UTC)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
export PATH="$REPO_ROOT/node_modules/.bin:$PATH"

dry_run=0
version=
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) [ -z "$version" ] || die "one version only (got '$version' and '$arg')"; version=$arg ;;
  esac
done
[[ "$version" =~ ^v?([0-9]+\.[0-9]+\.[0-9]+)$ ]] || die "usage: $0 [--dry-run] MAJOR.MINOR.PATCH (got '$version')"
tag="v${BASH_REMATCH[1]}"
date=${RELEASE_DATE:-$(date -u +%F)}

[ -z "$(git status --porcelain)" ] || die "the work tree has uncommitted or untracked files; commit or stash them first"
branch=$(git symbolic-ref -q --short HEAD) || die "HEAD is detached; release from main"
[ "$branch" = main ] || die "on branch $branch; releases are cut from main"
! git rev-parse -q --verify "refs/tags/$tag" >/dev/null || die "tag $tag already exists"
released=$(node scripts/changelog.mjs release "$tag" "$date" --stdout) || die "CHANGELOG.md cannot be released as $tag (above)"

log "checking that the committed bundles are fresh: ${RELEASE_BUILD_COMMAND:-npm run build}"
bash -c "${RELEASE_BUILD_COMMAND:-npm run build}" >/dev/null || die "the build failed"
# The tree was clean before the build: whatever it shows now, the build wrote.
if [ -n "$(git status --porcelain)" ]; then
  git status --short >&2
  git reset -q --hard HEAD
  git clean -fdq
  die "a fresh build changes the files above: run 'make build', commit them, then release"
fi

if [ "$dry_run" = 1 ]; then
  log "dry run: CHANGELOG.md would become"
  diff -u CHANGELOG.md - <<<"$released" || true
  log "dry run: would commit 'release $tag' and create the annotated tag $tag; nothing was changed"
  exit 0
fi
printf '%s\n' "$released" >CHANGELOG.md
git add CHANGELOG.md
git commit -q -m "release $tag"
git tag -a "$tag" -m "otlp-deploy-actions $tag"
log "committed 'release $tag' ($(git rev-parse --short HEAD)) and tagged it $tag"
echo "push both to publish the release: git push --atomic origin main $tag"
