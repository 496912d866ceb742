#!/bin/sh
# tests/run.sh -- runs every test program of the suite and counts its lines.
# Each program prints "ok - ..." or "not ok - ..." per assertion; a program that
# exits non-zero counts as one more failure.  The last line is
# "N passed, N failed"; the exit status is 1 if anything failed.
# Environment: B (build dir with httpd, hello, unit, unit-small), SANITIZER, WARN.
set -u
B=${B:-build/default}
WARN=${WARN:--std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion}
export HTTPD="${HTTPD:-$B/httpd}" HELLO="${HELLO:-$B/hello}"
out=$(mktemp -d /tmp/httpd-tests.XXXXXX)
chmod 1777 "$out"
if [ -n "${SANITIZER:-}" ]; then
  # Every process, forked children and servers run as nobody included, writes
  # its reports here; any file found at the end is a failure.
  mkdir -p "$out/san" && chmod 1777 "$out/san"
  export ASAN_OPTIONS="log_path=$out/san/asan:detect_leaks=1:abort_on_error=0:exitcode=99"
  export UBSAN_OPTIONS="log_path=$out/san/ubsan:print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="exitcode=99"
fi
pass=0
fail=0

# report NAME FILE: counts the ok/not ok lines a program printed into FILE
report() {
  p=$(grep -c '^ok ' "$2")
  f=$(grep -c '^not ok ' "$2")
  grep '^not ok ' "$2" | sed "s/^/[$1] /"
  echo "# $1: $p passed, $f failed"
  pass=$((pass + p))
  fail=$((fail + f))
}

# run NAME CMD...: runs a test program (a shell function, or a program with a
# time bound)
run() {
  name=$1
  shift
  if [ "$(command -v "$1")" = "$1" ]; then
    "$@" > "$out/$name.log" 2>&1
  else
    timeout -k 10 600 "$@" > "$out/$name.log" 2>&1
  fi
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "not ok - $name exited with status $rc" >> "$out/$name.log"
    tail -20 "$out/$name.log" | sed "s/^/[$name] # /"
  fi
  report "$name" "$out/$name.log"
}

# Build checks: zero warnings with each compiler, and the pure part is pure.
builds() {
  for cc in gcc clang; do
    if ! command -v $cc > /dev/null 2>&1; then
      echo "# $cc not installed: build check not run"
      continue
    fi
    for mode in "" "-DHTTPD_NO_MAIN" "-DHTTPD_PURE_ONLY"; do
      if $cc $WARN -Werror -O2 $mode -c httpd.c -o "$out/w.o" 2> "$out/w.err"; then
        echo "ok - $cc $mode builds httpd.c with zero warnings"
      else
        echo "not ok - $cc $mode builds httpd.c with zero warnings"
        sed 's/^/# /' "$out/w.err"
      fi
    done
    if $cc -O2 -o "$out/plain" httpd.c 2> "$out/w.err" && [ ! -s "$out/w.err" ]; then
      echo "ok - $cc -O2 -o httpd httpd.c (the README build) is silent"
    else
      echo "not ok - $cc -O2 -o httpd httpd.c (the README build) is silent"
    fi
  done
  # The pure part may call only these C library functions.
  cc -O2 -DHTTPD_PURE_ONLY -c httpd.c -o "$out/pure.o"
  bad=$(nm -u "$out/pure.o" | awk '{print $2}' | grep -v -x -E 'memset|memcpy|memcmp|memmove|strlen|strchr|strrchr|_GLOBAL_OFFSET_TABLE_' || true)
  if [ -z "$bad" ]; then
    echo "ok - the pure parser needs no I/O, allocation or other library calls"
  else
    echo "not ok - the pure parser calls: $bad"
  fi
  if nm "$out/pure.o" | grep -q ' [BbDd] '; then
    echo "not ok - the pure parser has mutable globals: $(nm "$out/pure.o" | grep ' [BbDd] ')"
  else
    echo "ok - the pure parser has no mutable globals"
  fi
}

run builds builds
run unit "$B/unit"
run unit-small "$B/unit-small"
# every stored fuzz input (corpus/ and corpus/regressions/) through the
# harnesses' gcc replayers, under ASan+UBSan
# (the replayers always carry the sanitizers: once is enough)
if [ -z "${SANITIZER:-}" ]; then
  run fuzz-replay sh fuzz/run.sh replay
fi
for t in e2e api lineage race; do
  if [ -f "tests/$t.py" ]; then
    run "$t" python3 "tests/$t.py"
  fi
done
# the symlink race again on the portable lookup (openat(O_NOFOLLOW) walk)
HTTPD="$B/httpd-walk" run race-walk python3 tests/race.py

if [ -n "${SANITIZER:-}" ]; then
  if ls "$out/san" | grep -q .; then
    for f in "$out"/san/*; do sed 's/^/# /' "$f" | head -40; done
    echo "not ok - sanitizer reports: $(ls "$out/san" | wc -l) files" > "$out/san.log"
  else
    echo "ok - no sanitizer report from any process (servers, children, tests)" > "$out/san.log"
  fi
  report sanitizer "$out/san.log"
fi
rm -rf "$out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
