#!/usr/bin/env bash
# Tags a release: `scripts/release.sh v1.2.3` creates the annotated tag v1.2.3 and moves the major
# tag (v1) that users reference in `uses: owner/otlp-deploy-actions@v1`. Push with
# `git push origin v1.2.3 && git push --force origin v1`.
set -euo pipefail
version=${1:-}
[[ "$version" =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || { echo "usage: $0 vMAJOR.MINOR.PATCH (got '${version}')" >&2; exit 2; }
major="v${BASH_REMATCH[1]}"
cd "$(dirname "$0")/.."
[ -z "$(git status --porcelain)" ] || { echo "the work tree has uncommitted changes; commit or stash them first" >&2; exit 1; }
git rev-parse -q --verify "refs/tags/$version" >/dev/null && { echo "tag $version already exists" >&2; exit 1; }
# The bundles users run are the committed ones: refuse to tag if they are stale.
npm run build >/dev/null
git diff --quiet -- dist || { echo "dist/ is stale: run 'make build' and commit before releasing" >&2; git checkout -- dist; exit 1; }
grep -q "^## \[${version#v}\]" CHANGELOG.md || { echo "CHANGELOG.md has no '## [${version#v}]' section" >&2; exit 1; }
git tag -a "$version" -m "otlp-deploy-actions $version"
git tag -f -a "$major" -m "otlp-deploy-actions $major (currently $version)" "$version^{commit}"
echo "tagged $version and moved $major to it; push with: git push origin $version && git push --force origin $major"
