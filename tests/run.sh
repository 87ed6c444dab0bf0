#!/usr/bin/env bash
# Runs every test program in the build folder given ($1, default build/tests)
# from the repository root, shows their output, adds up their closing
# "N passed, N failed[, N skipped]" lines and ends with the total.  A program
# that crashes or prints no closing line counts as one failure.
set -u
dir=${1:-build/tests}
passed=0 failed=0 skipped=0
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    out=$("$t" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out"
        echo "FAIL $name: exited $rc without a closing line"
        failed=$((failed + 1))
        continue
    fi
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); fi
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then printf '%s\n' "$out"; fi
    printf '%-28s %s\n' "$name" "$line"
done
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
