#!/usr/bin/env bash
# formats-bench.sh BIN - reading migration formats: `plan --offline` over real and
# generated trees, against `ls -R` of the same tree as the reference (a directory walk
# with no file read):
#   - crates.io's 285 diesel migrations (shared/corpora/rust-lang-crates.io);
#   - the sqlx, Drizzle, Supabase and Atlas sets of shared/corpora (atuin, Dokploy with its
#     journal, leaflet placed at supabase/migrations, chainloop with its atlas.sum checked);
#   - chef-server's Sqitch project (13 changes of sqitch.plan, shared/corpora/chef-chef-server);
#   - Tastybytes' 317 graphile-migrate files (hash chain checked; its placeholders given in
#     db-migrate.yml as the corpus's SOURCE.txt says);
#   - 5,000 generated goose files (a CREATE TABLE and an index each, with Up/Down).
# Each tree is a git repository with everything committed, and plan runs with
# --deployed-ref HEAD: it reads, orders and checksums every file and diffs git, and
# nothing changed since the deployed commit, so no file needs SQL checks. That is the
# format-reading figure the target (BENCH_TARGET_MS, default 50 ms for 5,000 files)
# is for. A second line per tree times the same plan with no base commit, where every
# file is pending and is parsed and checked with libpg_query: no target, for scale.
# Each is timed BENCH_REPS times (default 7) after one warm-up; medians are printed.
# Run it with the release build (make db-migrate).
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPORA=${DBM_CORPORA:-$ROOT/../shared/corpora}
REPS=${BENCH_REPS:-7}
TARGET_MS=${BENCH_TARGET_MS:-50}
N=${BENCH_GOOSE_FILES:-5000}

TMP=$(mktemp -d /tmp/dbm-fbench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cp -r "$CORPORA/rust-lang-crates.io" "$TMP/diesel"
cp -r "$CORPORA/atuinsh-atuin" "$TMP/sqlx"
cp -r "$CORPORA/Dokploy-dokploy" "$TMP/drizzle"
mkdir -p "$TMP/supabase/supabase"
cp -r "$CORPORA/hyperlink-academy-leaflet" "$TMP/supabase/supabase/migrations"
cp -r "$CORPORA/chainloop-dev-chainloop" "$TMP/atlas"
rm -f "$TMP"/{sqlx,drizzle,atlas,supabase/supabase/migrations}/expected-schema.sql
cp -r "$CORPORA/chef-chef-server" "$TMP/sqitch"
cp -r "$CORPORA/villeheikkila-Tastybytes" "$TMP/graphile"
{ echo "placeholders:"
  sed -n 's/^placeholder:[[:space:]]*\(:[A-Z0-9_]*\)=\(.*\)$/  "\1": "\2"/p' "$TMP/graphile/SOURCE.txt"
} > "$TMP/graphile/db-migrate.yml"
mkdir "$TMP/goose"
python3 - "$TMP/goose" "$N" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    with open(f"{d}/{i:05d}_item_{i}.sql", "w") as f:
        f.write(f"-- +goose Up\nCREATE TABLE item_{i} (\n    id bigint PRIMARY KEY,\n"
                f"    owner_id bigint NOT NULL,\n    name text NOT NULL\n);\n"
                f"CREATE INDEX item_{i}_owner_idx ON item_{i} (owner_id);\n\n"
                f"-- +goose Down\nDROP TABLE item_{i};\n")
PY
for d in diesel sqlx drizzle supabase atlas sqitch graphile goose; do
  git -C "$TMP/$d" init -q && git -C "$TMP/$d" add -A &&
    git -C "$TMP/$d" -c user.name=bench -c user.email=bench@localhost commit -qm migrations
done

# median_ms CMD...: run once to warm the cache, then REPS times; print the median in ms.
median_ms() {
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@" >&2 || true; exit 1; }
  for _ in $(seq "$REPS"); do
    local a b
    a=$(date +%s%N); "$@" >/dev/null 2>&1; b=$(date +%s%N)
    echo $(( (b - a) / 1000 ))
  done | sort -n | awk '{v[NR]=$1} END {printf "%.1f", v[int((NR+1)/2)] / 1000}'
}

unset DATABASE_URL PGHOST PGPORT PGDATABASE PGUSER DB_HOST GITHUB_ACTIONS
status=0
printf '%-60s %10s %10s %8s\n' "tree" "plan (ms)" "ls -R (ms)" "ratio"
# tree:migrations dir (in the tree):label
for t in "diesel:.:crates.io diesel (285 dirs)" "sqlx:.:atuin sqlx (20 files)" \
  "drizzle:.:Dokploy drizzle (186 in the journal)" \
  "supabase:supabase/migrations:leaflet supabase (97 files)" \
  "atlas:.:chainloop atlas (140 files, atlas.sum)" \
  "sqitch:.:chef-server sqitch (13 changes)" \
  "graphile:.:Tastybytes graphile-migrate (317 files)" "goose:.:goose ($N generated files)"; do
  dir=${t%%:*}; rest=${t#*:}; mdir=${rest%%:*}; label=${rest#*:}
  fmt=auto; [ "$dir" = sqlx ] && fmt=sqlx   # plain files: auto reads them as native
  plan=$(cd "$TMP/$dir" && median_ms "$BIN" plan --offline --format "$fmt" --migrations-dir "$mdir" --deployed-ref HEAD)
  full=$(cd "$TMP/$dir" && median_ms "$BIN" plan --offline --format "$fmt" --migrations-dir "$mdir")
  ls=$(median_ms ls -R "$TMP/$dir")
  ratio() { awk -v a="$1" -v b="$ls" 'BEGIN{printf "%.1fx", a / (b > 0 ? b : 0.001)}'; }
  printf '%-60s %10s %10s %8s\n' "$label: read" "$plan" "$ls" "$(ratio "$plan")"
  printf '%-60s %10s %10s %8s\n' "$label: read + parse + rules" "$full" "$ls" "$(ratio "$full")"
  if [ "$dir" = goose ] && awk -v a="$plan" -v t="$TARGET_MS" 'BEGIN{exit !(a > t)}'; then
    echo "target missed: reading $N files took $plan ms (target $TARGET_MS ms)"
    status=1
  fi
done
[ $status -eq 0 ] && echo "formats-bench: target met (reading $N files under $TARGET_MS ms)"
exit $status
