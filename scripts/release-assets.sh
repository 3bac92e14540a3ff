#!/usr/bin/env bash
# The assets of a release, taken from the committed tree so that they hold exactly what
# `uses: otlp-deploy-actions/otlp-deploy-actions@vX.Y.Z` runs:
#   scripts/release-assets.sh vX.Y.Z OUTDIR [COMMIT]   OUTDIR/otlp-deploy-actions-vX.Y.Z.tar.gz (dist/,
#                                                      action.yml, actions/*/action.yml, LICENSE under
#                                                      otlp-deploy-actions-vX.Y.Z/) and OUTDIR/SHA256SUMS;
#                                                      COMMIT defaults to HEAD
#   scripts/release-assets.sh --verify OUTDIR          checks the tarball and every file in it against
#                                                      OUTDIR/SHA256SUMS
# SHA256SUMS lists the tarball, then each file inside it by its path there: `sha256sum --check` after
# extracting the tarball checks both, and the digests deploy.yml prints for the bundles it runs can be
# looked up in it. The tarball is reproducible: git archive writes the names in order with the commit's
# time and git's modes, and gzip -n leaves out its own name and time, so a commit always gives the
# same bytes.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# OUTDIR is relative to where this is run from; git runs in the repository.
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "${1:-}" = --verify ]; then
  [ $# -eq 2 ] || die "usage: $0 --verify OUTDIR"
  dir=$(absolute "$2")
  [ -f "$dir/SHA256SUMS" ] || die "$dir/SHA256SUMS does not exist"
  tarball=$(head -n1 "$dir/SHA256SUMS" | sed -n 's/^[0-9a-f]\{64\}  \([^/]*\.tar\.gz\)$/\1/p')
  [[ -n "$tarball" && -f "$dir/$tarball" ]] || die "$dir/SHA256SUMS does not begin with a tarball that is in $dir"
  cp "$dir/SHA256SUMS" "$dir/$tarball" "$work/"
  tar -xzf "$work/$tarball" -C "$work" || die "$dir/$tarball is not a gzip tarball"
  (cd "$work" && sha256sum --check --strict --quiet SHA256SUMS) || die "the assets in $dir do not match SHA256SUMS"
  exit 0
fi

[[ $# -ge 2 && $# -le 3 ]] || die "usage: $0 vX.Y.Z OUTDIR [COMMIT] | --verify OUTDIR"
tag=$1 out=$(absolute "$2") commit=${3:-HEAD}
cd "$REPO_ROOT"
[[ "$tag" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "'$tag' is not a release tag (vMAJOR.MINOR.PATCH)"
git rev-parse -q --verify "$commit^{commit}" >/dev/null || die "$commit is not a commit"
git cat-file -e "$commit:dist" 2>/dev/null || die "$commit has no dist/: nothing to release"

name="otlp-deploy-actions-$tag"
mkdir -p "$out"
git -c tar.umask=0022 archive --format=tar --prefix="$name/" "$commit" -- dist action.yml 'actions/*/action.yml' LICENSE \
  | gzip -9 -n >"$out/$name.tar.gz"
tar -xzf "$out/$name.tar.gz" -C "$work"
{
  (cd "$out" && sha256sum "$name.tar.gz")
  (cd "$work" && find "$name" -type f | LC_ALL=C sort | xargs -d '\n' sha256sum)
} >"$out/SHA256SUMS"
head -n1 "$out/SHA256SUMS"
