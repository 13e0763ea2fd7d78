#!/usr/bin/env bash
# fuzz.sh NAME... - run the libFuzzer harnesses build/fuzz/NAME in parallel for FUZZ_SECONDS
# each (default 600), at low priority, then report and keep what they found.
#
# Each harness starts from its saved corpus fuzz/corpus/NAME/ (read only) and grows a working
# corpus in build/fuzz/corpus/NAME/, with fuzz/NAME.dict when there is one. It runs in fork mode
# and keeps going after a crash, leak, timeout or out-of-memory; each one found (at most
# FUZZ_MAX_SAVED per harness) is minimized and copied to fuzz/corpus/NAME/ as
# regress-<sha1>, so that make check replays it until the product is fixed. Logs are in
# build/fuzz/logs/NAME.log; the last line per harness gives its executions, edges covered
# (cov), features (ft) and working corpus size, and is also in build/fuzz/summary.txt.
# FUZZ_MERGE=1 then adds the inputs that reach new features to the saved corpus
# (FUZZ_SECONDS=0 FUZZ_MERGE=1: only that, from the last run's working corpus).
set -u
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-600}
max_saved=${FUZZ_MAX_SAVED:-5}
out=build/fuzz

run_one() {
  local name=$1 bin=$out/$1 work=$out/corpus/$1 crashes=$out/crashes/$1 dict=()
  rm -rf "$crashes"   # what an earlier run found is in fuzz/corpus/NAME already
  mkdir -p "$work" "$crashes" fuzz/corpus/"$name"
  [ -f fuzz/"$name".dict ] && dict=(-dict=fuzz/"$name".dict)
  nice -n 10 "$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
    -close_fd_mask=1 -print_final_stats=1 -artifact_prefix="$crashes"/ "${dict[@]}" \
    "$work" fuzz/corpus/"$name" >"$out/logs/$name.log" 2>&1
}

# A found input, minimized (crashes and leaks; others as found), saved once by content.
save_finding() {
  local name=$1 found=$2 min=$out/crashes/$1/min.tmp sum
  cp "$found" "$min"
  case "${found##*/}" in
    crash-* | leak-*)
      timeout 90 nice -n 10 "$out/$name" -minimize_crash=1 -max_total_time=60 -runs=10000 \
        -exact_artifact_path="$min" "$found" >/dev/null 2>&1 || true ;;
  esac
  [ -s "$min" ] || cp "$found" "$min"
  sum=$(sha1sum "$min" | cut -c1-16)
  mv "$min" fuzz/corpus/"$name"/regress-"$sum"
  echo "  saved fuzz/corpus/$name/regress-$sum (${found##*/})"
}

mkdir -p "$out/logs"
for name in "$@"; do
  [ -x "$out/$name" ] || { echo "fuzz.sh: $out/$name is not built" >&2; exit 2; }
done
status=0
if [ "$seconds" -gt 0 ]; then
  echo "fuzzing $# harnesses for ${seconds}s each, in parallel: $*"
  pids=()
  for name in "$@"; do
    run_one "$name" &
    pids+=($!)
  done
  wait "${pids[@]}"
  : >"$out/summary.txt"
fi
for name in $([ "$seconds" -gt 0 ] && echo "$@"); do
  last=$(grep -E '^#[0-9]+: cov: ' "$out/logs/$name.log" | tail -1)
  execs=$(printf '%s' "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
  cov=$(printf '%s' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(printf '%s' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corp=$(printf '%s' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
  found=$(find "$out/crashes/$name" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  n=$(printf '%s' "$found" | grep -c . || true)
  printf '%-20s %12s execs  cov %6s  ft %6s  corpus %5s  findings %s\n' "$name" "${execs:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$n" | tee -a "$out/summary.txt"
  if [ "$n" -gt 0 ]; then
    status=1
    printf '%s\n' "$found" | head -"$max_saved" | while read -r f; do save_finding "$name" "$f"; done
  fi
done
# FUZZ_MERGE=1: add to fuzz/corpus/NAME/ the working corpus's inputs that reach features the
# saved ones do not (libFuzzer -merge=1), so that make check replays what the run explored.
if [ "${FUZZ_MERGE:-0}" = 1 ]; then
  for name in "$@"; do
    before=$(ls fuzz/corpus/"$name" | wc -l)
    nice -n 10 "$out/$name" -merge=1 -timeout=20 -rss_limit_mb=2048 -close_fd_mask=1 \
      fuzz/corpus/"$name" "$out/corpus/$name" >"$out/logs/$name.merge.log" 2>&1
    echo "merged $name: $before -> $(ls fuzz/corpus/"$name" | wc -l) saved inputs"
  done
fi
[ $status -eq 0 ] && echo "fuzz: nothing found" || echo "fuzz: findings saved; see build/fuzz/logs"
exit $status
