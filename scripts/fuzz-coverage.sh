#!/usr/bin/env bash
# fuzz-coverage.sh NAME... - the source lines each harness's saved corpus reaches.
#
# Runs build/cov/NAME (the harness with clang's source-based coverage and the replay main) on
# fuzz/corpus/NAME/, then prints, per harness, the line coverage of the src/ files it reaches
# most (FUZZ_COV_FILES of them, default 4), from llvm-cov. Full reports: build/cov/NAME.txt.
set -u
cd "$(dirname "$0")/.."
out=build/cov
top=${FUZZ_COV_FILES:-4}
profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata)
llvmcov=$(command -v llvm-cov-14 || command -v llvm-cov)
mkdir -p "$out/prof"
for name in "$@"; do
  rm -f "$out/prof/$name"-*.profraw
  LLVM_PROFILE_FILE="$out/prof/$name-%p.profraw" "$out/$name" fuzz/corpus/"$name" \
    >/dev/null 2>&1 || echo "fuzz-coverage: $name failed on its corpus (make fuzz-replay says why)"
  "$profdata" merge -sparse -o "$out/$name.profdata" "$out/prof/$name"-*.profraw
  "$llvmcov" report "$out/$name" -instr-profile="$out/$name.profdata" \
    "$PWD/src" >"$out/$name.txt"
  # Filename (relative to src/) Regions Missed Cover Functions Missed Executed Lines Missed ...
  awk -v name="$name" -v top="$top" '
    $1 ~ /\.[ch]$/ && NF >= 10 {
      file = "src/" $1
      lines = $8; missed = $9; covered = lines - missed
      if (covered > 0) printf "%d %s %d %d\n", covered, file, covered, lines
    }' "$out/$name.txt" | sort -rn | head -"$top" |
    awk -v name="$name" '{ printf "%-20s %-32s %5.1f%% of %4d lines\n", name, $2, 100 * $3 / $4, $4; name = "" }'
done
