#!/usr/bin/env bash
# run-integration.sh [FILE.bats...] - the integration suites (bats, real servers).
# DBM_BIN names the binary under test. Prints "integration: N passed, N failed".
set -u
cd "$(dirname "$0")/integration"
files=("$@")
[ ${#files[@]} -eq 0 ] && files=(*.bats)
passed=0; failed=0; skipped=0; status=0
counts=${DBM_COUNTS_FILE:-}
for f in "${files[@]}"; do
  out=$(bats --tap "$f" 2>&1); rc=$?
  p=$(printf '%s\n' "$out" | grep -cE '^ok [0-9]+ ' )
  s=$(printf '%s\n' "$out" | grep -cE '^ok [0-9]+ .*# skip')
  n=$(printf '%s\n' "$out" | grep -cE '^not ok [0-9]+ ')
  printf '%-28s %3d passed, %d failed%s\n' "$f" $((p - s)) "$n" "$([ "$s" -gt 0 ] && echo ", $s skipped")"
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out" | grep -vE '^ok ' | head -80
    [ "$n" -eq 0 ] && n=1
    status=1
  fi
  passed=$((passed + p - s)); failed=$((failed + n)); skipped=$((skipped + s))
done
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ -n "$counts" ] && echo "$passed $failed $skipped" >> "$counts"
exit $status
