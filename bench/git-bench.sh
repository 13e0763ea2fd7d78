#!/usr/bin/env bash
# git-bench.sh DB_MIGRATE_BIN - time `db-migrate plan` against `git diff --name-status -M`.
#
# Builds (with git fast-import, in a temp dir) a repository of 10,000 commits and
# 5,000 migration files, with the deployed commit 1,000 commits behind head, then
# times the offline plan (git classification of the migrations directory between
# the deployed commit and head) and git's own rename-detecting diff of that
# directory. Prints both medians and their ratio. Exits 1 when plan takes more
# than LIMIT_MS (150) or more than RATIO_MAX (1.5) times git's time.
set -euo pipefail

bin=${1:?usage: git-bench.sh PATH_TO_DB_MIGRATE}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
commits=${COMMITS:-10000}
back=${BACK:-1000}
runs=${RUNS:-21}
limit_ms=${LIMIT_MS:-150}
ratio_max=${RATIO_MAX:-1.5}

work=$(mktemp -d /tmp/dbm-git-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
repo=$work/repo
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

# Every even commit adds a migration (5,000 in all); odd commits change application code.
git init -q -b main "$repo"
awk -v n="$commits" 'BEGIN {
  for (i = 1; i <= n; i++) {
    print "commit refs/heads/main"
    print "mark :" i
    printf "committer Bench <bench@example.com> %d +0000\n", 1700000000 + i * 60
    msg = "commit " i
    print "data " length(msg); print msg
    if (i > 1) print "from :" (i - 1)
    if (i % 2 == 0) {
      v = sprintf("2020%010d", i)
      body = sprintf("-- migration %d\nCREATE TABLE t%d (\n    id bigint PRIMARY KEY,\n    payload jsonb NOT NULL DEFAULT %s\n);\nCREATE INDEX t%d_payload ON t%d USING gin (payload);\n", i, i, "'\''{}'\''", i, i)
      printf "M 100644 inline db/migrations/%s_create_t%d.sql\n", v, i
      print "data " length(body); printf "%s\n", body
    } else {
      body = sprintf("package app\n\nconst Build = %d\n", i)
      print "M 100644 inline app/build.go"
      print "data " length(body); printf "%s\n", body
    }
    print ""
  }
}' | git -C "$repo" fast-import --quiet
git -C "$repo" checkout -q -f main
head=$(git -C "$repo" rev-parse HEAD)
deployed=$(git -C "$repo" rev-parse "HEAD~$back")
files=$(git -C "$repo" ls-files db/migrations | wc -l)
changed=$(git -C "$repo" diff --name-status -M "$deployed" "$head" -- db/migrations | wc -l)
echo "git-bench: $commits commits, $files migration files, deployed $back commits back ($changed changed)"

# Sanity: plan must see the repository and succeed before it is timed.
(cd "$repo" && "$bin" plan --offline --migrations-dir db/migrations --deployed-ref "$deployed" \
  >/dev/null 2>"$work/plan.err") || { echo "git-bench: plan failed:"; cat "$work/plan.err"; exit 1; }

median_ms() { # command... -> median wall time in ms over $runs runs
  local t=() s e
  for ((k = 0; k < runs; k++)); do
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s%N)
    t+=($(((e - s) / 1000)))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk -v n="${#t[@]}" 'NR == int((n + 1) / 2) { printf "%.1f", $1 / 1000 }'
}

cd "$repo"
git_ms=$(median_ms git diff --name-status -M "$deployed" "$head" -- db/migrations)
plan_ms=$(median_ms "$bin" plan --offline --migrations-dir db/migrations --deployed-ref "$deployed")
nogit_ms=$(median_ms "$bin" plan --offline --migrations-dir db/migrations)
ratio=$(awk -v a="$plan_ms" -v b="$git_ms" 'BEGIN { printf "%.2f", a / b }')
echo "git-bench: git diff --name-status -M: ${git_ms} ms; db-migrate plan: ${plan_ms} ms; ratio ${ratio} (median of $runs)"
echo "git-bench: plan without a deployed commit, which parses and checks all 5,000 files: ${nogit_ms} ms"

if awk -v p="$plan_ms" -v r="$ratio" -v l="$limit_ms" -v m="$ratio_max" 'BEGIN { exit !(p <= l && r <= m) }'; then
  echo "git-bench: ok (limits ${limit_ms} ms, ${ratio_max}x git)"
else
  echo "git-bench: over the limits (${limit_ms} ms, ${ratio_max}x git)"
  exit 1
fi
exit 0
