#!/usr/bin/env bash
# squawk-compare.sh [CORPORA_DIR] - run db-migrate's rules and Squawk over the up
# migrations of the corpora and print, per pair of matching rules, how many
# files each tool flags and where they differ.
#
# Squawk: $SQUAWK, else squawk on PATH, else `npm install squawk-cli` into a
# temporary directory. Squawk runs with --assume-in-transaction, as db-migrate
# runs a migration in a transaction by default. Both tools see the same text: the up section of each
# migration, one file per migration. Exits 1 if a file does not split.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
corpora=${1:-${DBM_CORPORA:-}}
if [ -z "$corpora" ]; then
  corpora=$root/../shared/corpora
  [ -d "$corpora" ] || corpora=$root/../../shared/corpora # from a worktree under wt/
fi
[ -d "$corpora" ] || { echo "squawk-compare: no corpora at $corpora" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

squawk=${SQUAWK:-$(command -v squawk || true)}
if [ -z "$squawk" ]; then
  npm install --prefix "$tmp/npm" --silent squawk-cli >/dev/null 2>&1
  squawk=$tmp/npm/node_modules/.bin/squawk
fi
echo "squawk: $("$squawk" --version)"

# The libpg_query db-migrate is built with (scripts/libpg-query.sh), never the system's.
pgq=$("$root/scripts/libpg-query.sh")
cc -std=c11 -D_GNU_SOURCE -I"$root/src" -I"$pgq/include" -O1 -o "$tmp/rules-dump" \
  "$root/tests/integration/rules-dump.c" "$root"/src/sql/*.c \
  "$root/src/common/util.c" "$root/src/common/error.c" \
  "$pgq/lib/libpg_query.a" $(pkg-config --cflags --libs jansson libcrypto)

# One file per migration holding its up section, named SET/NAME.sql.
extract() { # set file name [start-marker end-marker]
  local out="$tmp/sets/$1/$(printf '%s' "$3" | tr '/ ' '__').sql"
  mkdir -p "$tmp/sets/$1"
  if [ $# -gt 3 ]; then
    awk -v s="$4" -v e="$5" 'index($0, s) == 1 { on = 1; next } index($0, e) == 1 { on = 0 } on' \
      "$2" > "$out"
  else
    cp "$2" "$out"
  fi
}
for f in "$corpora"/rust-lang-crates.io/*/up.sql; do
  d=${f%/up.sql}; extract crates.io "$f" "${d##*/}"; done
for f in "$corpora"/goharbor-harbor/*.up.sql; do extract harbor "$f" "${f##*/}"; done
for f in "$corpora"/umami-software-umami/*/migration.sql; do
  d=${f%/migration.sql}; extract umami "$f" "${d##*/}"; done
for f in "$corpora"/MarquezProject-marquez/[VR]*.sql; do extract marquez "$f" "${f##*/}"; done
for f in "$corpora"/measure-sh-measure/*.sql; do
  [ "${f##*/}" = expected-schema.sql ] && continue
  extract measure "$f" "${f##*/}" '-- migrate:up' '-- migrate:down'; done
for f in "$corpora"/openfga-openfga/*.sql; do
  [ "${f##*/}" = expected-schema.sql ] && continue
  extract openfga "$f" "${f##*/}" '-- +goose Up' '-- +goose Down'; done

find "$tmp/sets" -name '*.sql' -print0 | sort -z | xargs -0 "$tmp/rules-dump" > "$tmp/ours.tsv"
for set in "$tmp"/sets/*; do
  "$squawk" --reporter json --pg-version 15.0 --assume-in-transaction "$set"/*.sql > "$tmp/squawk-${set##*/}.json" || true
done

python3 - "$tmp" <<'PY'
import collections, glob, json, os, sys
tmp = sys.argv[1]
pairs = [  # (db-migrate rule, Squawk rules)
    ("index-without-concurrently", ["require-concurrent-index-creation"]),
    ("not-null-column-without-default", ["adding-required-field"]),
    ("volatile-default", ["adding-field-with-default"]),
    ("set-not-null", ["adding-not-nullable-field"]),
    ("constraint-without-not-valid", ["constraint-missing-not-valid", "adding-foreign-key-constraint"]),
    ("unique-without-using-index", ["disallowed-unique-constraint", "adding-serial-primary-key-field"]),
    ("alter-column-type", ["changing-column-type"]),
    ("drop-column", ["ban-drop-column"]),
    ("drop-table", ["ban-drop-table"]),
    ("rename-column", ["renaming-column"]),
    ("rename-table", ["renaming-table"]),
    ("missing-lock-timeout", ["require-lock-timeout", "require-timeout-settings"]),
]
rel = lambda p: os.path.relpath(p, os.path.join(tmp, "sets"))
ours = collections.defaultdict(collections.Counter)   # rule -> file -> hits
for line in open(os.path.join(tmp, "ours.tsv")):
    f, rule, _, _ = line.rstrip("\n").split("\t", 3)
    ours[rule][rel(f)] += 1
theirs = collections.defaultdict(collections.Counter)
for j in glob.glob(os.path.join(tmp, "squawk-*.json")):
    for h in json.load(open(j)) or []:
        theirs[h["rule_name"]][rel(h["file"])] += 1
files = len(glob.glob(os.path.join(tmp, "sets", "*", "*.sql")))
print(f"files: {files}")
print("| db-migrate rule | Squawk rule(s) | files: both | only db-migrate | only Squawk | hits: db-migrate / Squawk |")
print("| --- | --- | --- | --- | --- | --- |")
details = []
for ours_rule, their_rules in pairs:
    a = ours[ours_rule]
    b = collections.Counter()
    for r in their_rules:
        b.update(theirs[r])
    both = sorted(set(a) & set(b)); oa = sorted(set(a) - set(b)); ob = sorted(set(b) - set(a))
    print(f"| {ours_rule} | {', '.join(their_rules)} | {len(both)} | {len(oa)} | {len(ob)} | {sum(a.values())} / {sum(b.values())} |")
    if oa: details.append(f"{ours_rule}: only db-migrate: " + " ".join(oa[:8]) + (" ..." if len(oa) > 8 else ""))
    if ob: details.append(f"{ours_rule}: only Squawk: " + " ".join(ob[:8]) + (" ..." if len(ob) > 8 else ""))
mapped = {r for _, rs in pairs for r in rs}
print()
print("db-migrate rules without a Squawk pair: " + ", ".join(
    f"{r} {sum(ours[r].values())}" for r in sorted(ours) if r not in {p for p, _ in pairs}))
print("Squawk rules without a pair: " + ", ".join(
    f"{r} {sum(theirs[r].values())}" for r in sorted(theirs) if r not in mapped))
print()
print("\n".join(details))
PY
