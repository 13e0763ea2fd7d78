#!/usr/bin/env bash
# run-unit.sh BIN... - run cmocka test binaries, print "unit: N passed, N failed, N skipped".
#
# For a binary that fails, its assertions come first (cmocka's ERROR, LINE and FAILED
# lines and what the test printed), then the start of any sanitizer report: a leak
# dump at exit must not push the failed assertion off the screen.
set -u
passed=0; failed=0; skipped=0; status=0
counts=${DBM_COUNTS_FILE:-}
for bin in "$@"; do
  out=$("$bin" 2>&1); rc=$?
  p=$(printf '%s\n' "$out" | grep -cE '^\[       OK \]')
  s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | head -1)
  s=${s:-0}
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | head -1)
  f=${f:-0}
  printf '%-34s %3d passed, %d failed%s\n' "${bin##*/}" "$p" "$f" "$([ "$s" -gt 0 ] && echo ", $s skipped")"
  if [ "$rc" -ne 0 ]; then
    # the tests' own lines, up to where a sanitizer report begins
    printf '%s\n' "$out" | awk '(/^=+$/ && length($0) > 20) || /^==[0-9]+==/ {exit} {print}' |
      grep -vE '^\[ (RUN|      OK) ' | head -60
    printf '%s\n' "$out" | sed -n '/^==[0-9]*==/,$p' | grep -vE '^ *$' | head -25
    [ "$f" -eq 0 ] && f=1
    status=1
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ -n "$counts" ] && echo "$passed $failed $skipped" >> "$counts"
exit $status
