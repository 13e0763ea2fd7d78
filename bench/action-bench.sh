#!/usr/bin/env bash
# action-bench.sh - what a job pays for the action built from the Dockerfile.
#
# With the base image present (scripts/base-image.sh; on a runner it is pulled), times
# `buildah bud` with no layer cache, as a fresh runner builds it, until a `plan` run in the
# new image has finished on a small git checkout, and prints the image's size
# (uncompressed, as `podman images` reports it).
#
#   bench/action-bench.sh            one measurement
# Output lines: "action-bench: <key> <value>" for build_s, plan_s, total_s, image_mb.
set -euo pipefail
cd "$(dirname "$0")/.."

image=localhost/db-migrate:bench
scripts/base-image.sh

work=$(mktemp -d)
ctr=""
cleanup() {
  [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# The checkout: migrations-example/ when the tree has it, else three small files.
mkdir -p "$work/ws/migrations"
if [ -d migrations-example ]; then
  cp -r migrations-example/. "$work/ws/migrations/"
else
  printf 'CREATE TABLE t%s (id int);\n' 1 >"$work/ws/migrations/1_one.sql"
  printf 'CREATE TABLE t%s (id int);\n' 2 >"$work/ws/migrations/2_two.sql"
  printf 'ALTER TABLE t1 ADD COLUMN v text;\n' >"$work/ws/migrations/3_three.sql"
fi
git -C "$work/ws" init -q -b main
git -C "$work/ws" -c user.email=b@example.com -c user.name=bench add -A
git -C "$work/ws" -c user.email=b@example.com -c user.name=bench commit -q -m bench

# An earlier bench image would only become an untagged leftover.
buildah rmi "$image" >/dev/null 2>&1 || true

now() { date +%s.%N; }
t0=$(now)
buildah bud --isolation chroot --pull=never --no-cache --layers=false --quiet -t "$image" . \
  >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
t1=$(now)
ctr=$(buildah from --pull=never "$image")
buildah run --isolation chroot --workingdir /github/workspace -v "$work/ws:/github/workspace" \
  --env GITHUB_WORKSPACE=/github/workspace --env INPUT_COMMAND=plan \
  "$ctr" -- /usr/local/bin/db-migrate >"$work/plan.log" 2>&1 || {
  rc=$?
  # plan exits 1 when it finds a blocking problem; anything else is a failed run.
  [ "$rc" -eq 1 ] || { cat "$work/plan.log" >&2; exit 1; }
}
t2=$(now)
bytes=$(podman image inspect --format '{{.Size}}' "$image")

awk -v a="$t0" -v b="$t1" -v c="$t2" -v s="$bytes" 'BEGIN {
  printf "action-bench: build_s %.1f\n", b - a
  printf "action-bench: plan_s %.2f\n", c - b
  printf "action-bench: total_s %.1f\n", c - a
  printf "action-bench: image_mb %.1f\n", s / 1e6
}'
