#!/usr/bin/env bash
# run-unit.sh BIN... - run cmocka test binaries, print "unit: N passed, N failed".
set -u
passed=0; failed=0; status=0
counts=${DBM_COUNTS_FILE:-}
for bin in "$@"; do
  out=$("$bin" 2>&1); rc=$?
  p=$(printf '%s\n' "$out" | grep -cE '^\[       OK \]')
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | head -1)
  f=${f:-0}
  printf '%-34s %3d passed, %d failed\n' "${bin##*/}" "$p" "$f"
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out" | grep -vE '^\[ (RUN|      OK) ' | tail -40
    [ "$f" -eq 0 ] && f=1
    status=1
  fi
  passed=$((passed + p)); failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[ -n "$counts" ] && echo "$passed $failed" >> "$counts"
exit $status
