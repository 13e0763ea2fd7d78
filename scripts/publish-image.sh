#!/usr/bin/env bash
# publish-image.sh - build the image that dist/action.yml names, and push it.
#
#   scripts/publish-image.sh            build, then push :vX.Y.Z and :vX (make release)
#   scripts/publish-image.sh --no-push  build and tag only
#   scripts/publish-image.sh --dry-run  print the image names only
#
# The image name is read from dist/action.yml, so what is pushed is what the released
# action runs; 'make dist-check' must pass first. Pushing needs a prior
# 'buildah login ghcr.io' (a token with write:packages). BUILDAH_PULL (default "missing")
# is passed to --pull: where no registry serves the base image, run
# scripts/base-image.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

push=1 build=1
case "${1:-}" in
  --no-push) push=0 ;;
  --dry-run) push=0 build=0 ;;
  "") ;;
  *) echo "publish-image.sh: unknown argument '$1' (--no-push, --dry-run)" >&2; exit 2 ;;
esac

scripts/gen-dist.sh --check
image=$(sed -n 's|^  image: docker://||p' dist/action.yml)
[ -n "$image" ] || { echo "publish-image.sh: no image in dist/action.yml" >&2; exit 2; }
version=$(cat VERSION)
owner=${image#ghcr.io/}; owner=${owner%%/*}
# The same names as the git tags of the release: vX.Y.Z and vX (gen-dist.sh --tags).
names=()
for t in $(scripts/gen-dist.sh --tags); do names+=("${image%:*}:$t"); done
[ "${names[0]}" = "$image" ] || { echo "publish-image.sh: dist/action.yml names $image, not ${names[0]}" >&2; exit 2; }

if [ "$build" -eq 1 ]; then
  buildah bud --isolation "${BUILDAH_ISOLATION:-chroot}" --pull="${BUILDAH_PULL:-missing}" --layers \
    --label "org.opencontainers.image.source=https://github.com/$owner/db-migrate" \
    --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    "${names[@]/#/--tag=}" .
fi

if [ "$push" -eq 1 ]; then
  for n in "${names[@]}"; do buildah push "$n"; done
fi
printf '%s\n' "${names[@]}"
