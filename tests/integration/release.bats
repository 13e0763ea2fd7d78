#!/usr/bin/env bats
# A release publishes each version as vX.Y.Z and as vX, the tag the docs tell users to
# write (OWNER/db-migrate/dist@vX): git tags through scripts/gen-dist.sh --tag, image
# names through scripts/publish-image.sh. Checked in a copy of the repository's release
# files in a temporary git repository, with a bare repository as its remote.

load helpers

setup() {
  new_workdir
  ROOT=$BATS_TEST_DIRNAME/../..
  REPO=$WORK/repo
  mkdir -p "$REPO/scripts"
  cp "$ROOT/scripts/gen-dist.sh" "$ROOT/scripts/publish-image.sh" "$REPO/scripts/"
  cp -r "$ROOT/action.yml" "$ROOT/VERSION" "$ROOT/dist" "$REPO/"
  git init -q --bare "$WORK/remote.git"
  cd "$REPO"
  git init -q
  git config user.email release@example.com
  git config user.name release
  git remote add origin "$WORK/remote.git"
  echo 1.4.2 >VERSION
  DBM_IMAGE_OWNER=acme scripts/gen-dist.sh
  git add -A
  git commit -qm release
}

# tag_at REPO TAG: the commit TAG names in REPO
tag_at() { git -C "$1" rev-parse "refs/tags/$2^{commit}"; }

@test "a release tags vX.Y.Z and vX, and pushes both" {
  [ "$(scripts/gen-dist.sh --tags)" = "v1.4.2 v1" ]
  run scripts/gen-dist.sh --tag origin
  [ "$status" -eq 0 ]
  head=$(git rev-parse HEAD)
  [ "$(tag_at . v1.4.2)" = "$head" ]
  [ "$(tag_at . v1)" = "$head" ]
  [ "$(tag_at "$WORK/remote.git" v1.4.2)" = "$head" ]
  [ "$(tag_at "$WORK/remote.git" v1)" = "$head" ]
  # The docs' reference is the one the release form's README gives, and it exists now.
  grep -qx -- '- uses: acme/db-migrate/dist@v1' dist/README.md
  git -C "$WORK" clone -q --branch v1 remote.git clone
  grep -q 'image: docker://ghcr.io/acme/db-migrate:v1.4.2' "$WORK/clone/dist/action.yml"
  # The image is published under the same two names.
  run scripts/publish-image.sh --dry-run
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf '%s\n' ghcr.io/acme/db-migrate:v1.4.2 ghcr.io/acme/db-migrate:v1)" ]
}

@test "the next release moves vX and keeps the earlier vX.Y.Z where it was" {
  scripts/gen-dist.sh --tag origin
  first=$(git rev-parse HEAD)
  echo 1.5.0 >VERSION
  scripts/gen-dist.sh
  git commit -qam "release 1.5.0"
  scripts/gen-dist.sh --tag origin
  second=$(git rev-parse HEAD)
  [ "$(tag_at "$WORK/remote.git" v1.4.2)" = "$first" ]
  [ "$(tag_at "$WORK/remote.git" v1.5.0)" = "$second" ]
  [ "$(tag_at "$WORK/remote.git" v1)" = "$second" ]
  # Tagging the same commit again changes nothing and succeeds.
  scripts/gen-dist.sh --tag origin
  [ "$(tag_at "$WORK/remote.git" v1.5.0)" = "$second" ]
}

@test "a release refuses a moved version, a stale dist/ and uncommitted changes" {
  scripts/gen-dist.sh --tag
  git commit -q --allow-empty -m "later"
  run scripts/gen-dist.sh --tag
  [ "$status" -eq 2 ]
  [[ "$output" == *"tag v1.4.2 already names another commit"* ]]
  [[ "$output" == *"hint: raise VERSION"* ]]
  echo 1.6.0 >VERSION
  git commit -qam "forgot make dist"
  run scripts/gen-dist.sh --tag
  [ "$status" -ne 0 ]
  [[ "$output" == *"dist/action.yml is stale (run 'make dist')"* ]]
  ! git rev-parse -q --verify refs/tags/v1.6.0
  scripts/gen-dist.sh
  run scripts/gen-dist.sh --tag
  [ "$status" -eq 2 ]
  [[ "$output" == *"uncommitted changes"* ]]
  echo 2 >VERSION
  run scripts/gen-dist.sh --tags
  [ "$status" -eq 2 ]
  [[ "$output" == *"VERSION '2' is not X.Y.Z"* ]]
}
