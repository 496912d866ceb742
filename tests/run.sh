#!/bin/sh
# tests/run.sh -- runs every test program of the suite and counts its lines.
# Each program prints "ok - ..." or "not ok - ..." per assertion; a program that
# exits non-zero counts as one more failure, and so does a program that prints
# no ok/not ok line at all, and a suite of SUITES below that is missing.
# "# SKIPPED what: why" lines are collected and repeated at the end; with
# CI=true the programs print "not ok" instead of skipping.  The last line is
# "N passed, N failed"; the exit status is 1 if anything failed.
# Environment: B (build dir with httpd, hello, unit, unit-small), SANITIZER, WARN.
set -u
B=${B:-build/default}
WARN=${WARN:--std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion}
export HTTPD="${HTTPD:-$B/httpd}" HELLO="${HELLO:-$B/hello}"
# The Python suites, run in this order; each must exist (tests/NAME.py).
SUITES="e2e api lineage prefork race sites cgi ops fair soak scale clients"
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
: > "$out/skipped"

# skipped WHAT WHY: a "# SKIPPED" line, or under CI=true a "not ok" line
skipped() {
  if [ "${CI:-}" = true ]; then
    echo "not ok - $1: skipped in CI ($2)"
  else
    echo "# SKIPPED $1: $2"
  fi
}

# report NAME FILE: counts the ok/not ok lines a program printed into FILE
report() {
  p=$(grep -c '^ok ' "$2")
  f=$(grep -c '^not ok ' "$2")
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    if grep -q '^# SKIPPED ' "$2" && [ "${CI:-}" != true ]; then
      :                                   # all of it skipped, and said so
    else
      echo "not ok - $1 printed no ok/not ok line at all" >> "$2"
      f=1
    fi
  fi
  grep '^not ok ' "$2" | sed "s/^/[$1] /"
  grep '^# SKIPPED ' "$2" | sed "s/^# SKIPPED /[$1] /" >> "$out/skipped"
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

# pure_calls OBJ: the C library functions OBJ calls beyond those the pure part
# may use, and its mutable globals; "nm failed" if nm cannot read it
pure_calls() {
  und=$(nm -u "$1" 2> /dev/null) || { echo "nm failed"; return; }
  all=$(nm "$1" 2> /dev/null) || { echo "nm failed"; return; }
  echo "$und" | awk 'NF {print $NF}' |
    grep -v -x -E 'memset|memcpy|memcmp|memmove|strlen|strchr|strrchr|_GLOBAL_OFFSET_TABLE_' |
    tr '\n' ' '
  echo "$all" | awk '$2 ~ /^[BbDd]$/ {print "global:" $3}' | tr '\n' ' '
}

# Build checks: zero warnings with each compiler, and the pure part is pure.
builds() {
  for cc in gcc clang; do
    if ! command -v $cc > /dev/null 2>&1; then
      skipped "build checks with $cc (4 assertions)" "$cc not installed (make deps)"
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
  # The pure part may call only these C library functions, and has no
  # mutable globals.  The control: an object that calls malloc and has a
  # global must be caught by the same check.
  if ! command -v nm > /dev/null 2>&1; then
    skipped "purity checks (3 assertions)" "nm not installed (binutils; make deps)"
    return 0
  fi
  printf '#include <stdlib.h>\nint counter;\nvoid *grab(void);\nvoid *grab(void) { counter++; return malloc(1); }\n' \
    > "$out/impure.c"
  if cc -O2 -c "$out/impure.c" -o "$out/impure.o" 2> "$out/w.err"; then
    bad=$(pure_calls "$out/impure.o")
    case $bad in
      *malloc*global:counter*) echo "ok - the purity check catches a planted malloc call and global (control)" ;;
      *) echo "not ok - the purity check catches a planted malloc call and global (control): got '$bad'" ;;
    esac
  else
    echo "not ok - the purity control compiles"
    sed 's/^/# /' "$out/w.err"
  fi
  if ! cc -O2 -DHTTPD_PURE_ONLY -c httpd.c -o "$out/pure.o" 2> "$out/w.err"; then
    echo "not ok - cc -DHTTPD_PURE_ONLY compiles (for the purity checks)"
    sed 's/^/# /' "$out/w.err"
    return 0
  fi
  bad=$(pure_calls "$out/pure.o")
  calls=$(echo "$bad" | tr ' ' '\n' | grep -v '^global:' | grep . | tr '\n' ' ')
  globals=$(echo "$bad" | tr ' ' '\n' | grep '^global:' | tr '\n' ' ')
  if [ -z "$calls" ]; then
    echo "ok - the pure parser needs no I/O, allocation or other library calls"
  else
    echo "not ok - the pure parser calls: $calls"
  fi
  if [ -z "$globals" ]; then
    echo "ok - the pure parser has no mutable globals"
  else
    echo "not ok - the pure parser has mutable globals: $globals"
  fi
}

# The small limits are defined once (SMALL in the Makefile); fuzz/run.sh reads
# them with `make small-flags`; fuzz/seeds.py holds its own copy, which must agree.
limits() {
  small=$(MAKEFLAGS= make -s --no-print-directory small-flags 2> /dev/null)
  case $small in
    *-DHTTPD_MAX_LINE=*) echo "ok - make small-flags prints the small limits ($small)" ;;
    *) echo "not ok - make small-flags prints the small limits (got '$small')"; return 0 ;;
  esac
  if [ -f fuzz/seeds.py ]; then
    seeds=$(python3 -c 'import sys; sys.path.insert(0, "fuzz"); import seeds as s
print(" ".join("-DHTTPD_%s=%d" % (k, getattr(s, k)) for k in
      ("MAX_LINE", "MAX_HEAD", "MAX_HEADERS", "MAX_PATH", "MAX_CHUNK_LINE", "MAX_TRAILER")))' 2>&1)
    if [ "$seeds" = "$small" ]; then
      echo "ok - fuzz/seeds.py uses the small limits of the Makefile"
    else
      echo "not ok - fuzz/seeds.py uses the small limits of the Makefile: '$seeds' vs '$small'"
    fi
  fi
}

# The sanitizer check below finds no report file also when nothing could write
# one: the control is a planted heap overflow whose report must appear.
san_control() {
  case $SANITIZER in
    *address*) ;;
    *) skipped "sanitizer control" "SANITIZER=$SANITIZER has no address sanitizer"; return 0 ;;
  esac
  d=$(mktemp -d "$out/san-control.XXXXXX")
  printf '#include <stdlib.h>\nint main(int c, char **v) { char *p = malloc(4); (void)v; p[c + 3] = 1; free(p); return 0; }\n' \
    > "$d/overflow.c"
  # shellcheck disable=SC2086
  if ! cc -g -fsanitize=$SANITIZER -fno-sanitize-recover=all -o "$d/overflow" "$d/overflow.c" 2> "$d/err"; then
    echo "not ok - sanitizer control: a planted overflow builds with -fsanitize=$SANITIZER"
    sed 's/^/# /' "$d/err"
    return 0
  fi
  ASAN_OPTIONS="log_path=$d/asan:detect_leaks=1:abort_on_error=0:exitcode=99" "$d/overflow" > /dev/null 2>&1
  if ls "$d" | grep -q '^asan\.'; then
    echo "ok - sanitizer control: a planted heap overflow leaves a report in log_path"
  else
    echo "not ok - sanitizer control: a planted heap overflow leaves a report in log_path"
  fi
  rm -rf "$d"
  for b in httpd hello unit unit-small; do
    if nm "$B/$b" 2> /dev/null | grep -q '__asan_init\|__ubsan_handle'; then
      echo "ok - $B/$b carries the sanitizers"
    else
      echo "not ok - $B/$b carries the sanitizers"
    fi
  done
}

run builds builds
run limits limits
run unit "$B/unit"
run unit-small "$B/unit-small"
# every stored fuzz input (corpus/ and corpus/regressions/) through the
# harnesses' gcc replayers, under ASan+UBSan
# (the replayers always carry the sanitizers: once is enough)
if [ -z "${SANITIZER:-}" ]; then
  run fuzz-replay sh fuzz/run.sh replay
else
  echo "# fuzz-replay: run once, with the plain build (its replayers carry ASan+UBSan)"
  run san-control san_control
fi
for t in $SUITES; do
  if [ -f "tests/$t.py" ]; then
    run "$t" python3 "tests/$t.py"
  else
    echo "not ok - suite tests/$t.py exists (listed in SUITES of tests/run.sh)" > "$out/$t.log"
    report "$t" "$out/$t.log"
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
if [ -s "$out/skipped" ]; then
  echo "# skipped ($(wc -l < "$out/skipped")), each with why (CI=true makes these failures):"
  sed 's/^/#   /' "$out/skipped"
fi
rm -rf "$out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
