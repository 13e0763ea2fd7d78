#!/usr/bin/env bash
# run-fuzz-replay.sh BIN... - feed each fuzz harness's saved corpus (fuzz/corpus/NAME/) to its
# replay build (build/asan/fuzz/NAME: ASan and UBSan, no libFuzzer); one test per harness.
# Prints "fuzz replay: N passed, N failed, N skipped"; a failure names the input.
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0; skipped=0
counts=${DBM_COUNTS_FILE:-}
for bin in "$@"; do
  name=${bin##*/}
  corpus=fuzz/corpus/$name
  if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
    printf '%-34s skipped (no fuzz/corpus/%s)\n' "$name" "$name"
    skipped=$((skipped + 1))
    continue
  fi
  out=$("$bin" "$corpus" 2>&1 >/dev/null); rc=$?
  n=$(printf '%s\n' "$out" | grep -c '^replay: ')
  if [ "$rc" -eq 0 ]; then
    printf '%-34s %3d inputs replayed\n' "$name" "$n"
    passed=$((passed + 1))
  else
    printf '%-34s FAILED on %s\n' "$name" "$(printf '%s\n' "$out" | grep '^replay: ' | tail -1 | cut -c9-)"
    printf '%s\n' "$out" | grep -v '^replay: ' | grep -vE '^ *$' | head -25
    failed=$((failed + 1))
  fi
done
echo "fuzz replay: $passed passed, $failed failed, $skipped skipped"
[ -n "$counts" ] && echo "$passed $failed $skipped" >> "$counts"
[ "$failed" -eq 0 ]
