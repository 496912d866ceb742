#!/bin/sh
# tests/check.sh -- the whole suite: the plain build, then the ASan+UBSan build.
# First what the suite needs (tests/deps.txt): as root, `make deps` installs
# what is missing; otherwise the missing packages and what they skip are listed.
# Prints each run's lines, then the sum as the last line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
total_p=0
total_f=0
status=0
if ! sh tests/deps.sh auto; then
  echo "not ok - make deps installs what tests/deps.txt lists"
  total_f=$((total_f + 1))
  status=1
fi
for san in "" "address,undefined"; do
  log=$(mktemp)
  if [ -z "$san" ]; then
    echo "# ---- suite on the plain build"
    make --no-print-directory test > "$log" 2>&1
  else
    echo "# ---- suite on the ASan+UBSan build (forked children included)"
    make --no-print-directory test SANITIZER="$san" > "$log" 2>&1
  fi
  rc=$?
  grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$log"
  last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  if [ -z "$last" ]; then
    echo "not ok - the suite did not run to its end${san:+ (SANITIZER=$san)}"
    total_f=$((total_f + 1))
  else
    total_p=$((total_p + $(echo "$last" | cut -d' ' -f1)))
    total_f=$((total_f + $(echo "$last" | cut -d' ' -f3)))
    if [ $rc -ne 0 ] && [ "$(echo "$last" | cut -d' ' -f3)" -eq 0 ]; then
      echo "not ok - make test${san:+ SANITIZER=$san} exited with status $rc after 0 failures"
      total_f=$((total_f + 1))
    fi
  fi
  [ $rc -eq 0 ] || status=1
  rm -f "$log"
done
echo "$total_p passed, $total_f failed"
[ "$status" -eq 0 ] && [ "$total_f" -eq 0 ]
