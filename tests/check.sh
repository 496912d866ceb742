#!/bin/sh
# tests/check.sh -- the whole suite: the plain build, then the ASan+UBSan build.
# Prints each run's lines, then the sum as the last line "N passed, N failed".
set -u
total_p=0
total_f=0
status=0
for san in "" "address,undefined"; do
  log=$(mktemp)
  if [ -z "$san" ]; then
    echo "# ---- suite on the plain build"
    make --no-print-directory test > "$log" 2>&1 || status=1
  else
    echo "# ---- suite on the ASan+UBSan build (forked children included)"
    make --no-print-directory test SANITIZER="$san" > "$log" 2>&1 || status=1
  fi
  grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$log"
  last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  if [ -z "$last" ]; then
    echo "not ok - the suite did not run to its end${san:+ (SANITIZER=$san)}"
    total_f=$((total_f + 1))
  else
    total_p=$((total_p + $(echo "$last" | cut -d' ' -f1)))
    total_f=$((total_f + $(echo "$last" | cut -d' ' -f3)))
  fi
  rm -f "$log"
done
echo "$total_p passed, $total_f failed"
[ "$status" -eq 0 ] && [ "$total_f" -eq 0 ]
