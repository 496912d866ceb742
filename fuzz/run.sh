#!/bin/sh
# fuzz/run.sh -- builds and runs the fuzz harnesses; fuzz/fuzz.mk calls it.
#
#   sh fuzz/run.sh replay     gcc replayers (ASan+UBSan) over corpus/ and
#                             corpus/regressions/: one "ok - replay H: N files"
#                             or "not ok - ..." line per harness
#   sh fuzz/run.sh fuzz       libFuzzer, then AFL++ (main with CmpLog + ASan
#                             secondary), FUZZ_SECONDS each per harness; exit 1
#                             on any finding (kept in fuzz/findings/H/)
#   sh fuzz/run.sh coverage   llvm-cov line and branch coverage of httpd.c
#                             section 3 (the pure parser) from the corpus
#   sh fuzz/run.sh msan       MSan replay of the pure harnesses
#
# Environment: FUZZ_SECONDS (60), FUZZ_HARNESSES (all), FUZZ_TOLERATE (a
# bit mask of known findings the harnesses then accept, for exploring past
# them: 1 = F1, 2 = F2, 4 = F3a, see fuzz/README.md), CC_REPLAY (gcc), CLANG (clang).
# Builds go to build/fuzz/.  Missing tools give "SKIPPED", not failures,
# except when CI=true: then a harness or engine not run is a "not ok" line.
# A replay of zero files fails.
set -u
cd "$(dirname "$0")/.."
B=build/fuzz
mkdir -p "$B"
HARNESSES=${FUZZ_HARNESSES:-request chunked path cgi conn conndef cgirelay diff}
PURE="request chunked path cgi"
SECONDS_EACH=${FUZZ_SECONDS:-60}
CC_REPLAY=${CC_REPLAY:-gcc}
CLANG=${CLANG:-clang}
# the small limits of `make test`, defined once (SMALL in the Makefile, printed
# by `make small-flags`): short inputs reach 414/431
SMALL=$(MAKEFLAGS= make -s --no-print-directory -f Makefile small-flags 2> /dev/null)
case $SMALL in
  *-DHTTPD_MAX_*) ;;
  *) echo "not ok - fuzz/run.sh: cannot read the small limits (make small-flags printed '$SMALL')"
     exit 1 ;;
esac
TOL=""
SUF=""                              # binaries built with FUZZ_TOLERATE differ
if [ -n "${FUZZ_TOLERATE:-}" ]; then
  TOL="-DFUZZ_TOLERATE=$FUZZ_TOLERATE"
  SUF="-tol$FUZZ_TOLERATE"
fi
SAN_OPTS="abort_on_error=1:detect_leaks=1:symbolize=1:allocator_may_return_null=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-$SAN_OPTS}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}"
export TMPDIR="${TMPDIR:-/tmp}"

# flags H: the harness's limits and libraries
# (conndef is conn.c again, with the default limits: what only they reach)
limits() { case $1 in diff|conndef|cgirelay) echo "" ;; *) echo "$SMALL" ;; esac; }
libs() { case $1 in conn|conndef|cgirelay) echo "-lpthread" ;; diff) echo "-lhttp_parser" ;; *) echo "" ;; esac; }
src() { case $1 in conndef) echo fuzz/conn.c ;; *) echo "fuzz/$1.c" ;; esac; }
have() { command -v "$1" > /dev/null 2>&1; }
# skipped WHAT WHY: a "# SKIPPED" line; under CI=true a "not ok" line and status 1
skipped() {
  if [ "${CI:-}" = true ]; then
    echo "not ok - $1: skipped in CI ($2)"
    return 1
  fi
  echo "# SKIPPED $1: $2"
  return 0
}
# can CC compile and link a file including <http_parser.h> with FLAGS?
have_http_parser() {
  printf '#include <http_parser.h>\nint main(void){return (int)http_parser_version()==0;}\n' \
    > "$B/hp-probe.c"
  "${1:-cc}" -o "$B/hp-probe" "$B/hp-probe.c" -lhttp_parser > /dev/null 2>&1
}
# can CLANG build with -fsanitize=FLAGS?
clang_can() {
  have "$CLANG" || return 1
  printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n){(void)d;(void)n;return 0;}\n' \
    > "$B/probe.c"
  case $1 in
    *fuzzer*) "$CLANG" -fsanitize="$1" -o "$B/probe" "$B/probe.c" > /dev/null 2>&1 ;;
    *) printf 'int main(void){return 0;}\n' > "$B/probe-main.c"
       "$CLANG" -fsanitize="$1" -o "$B/probe" "$B/probe-main.c" > /dev/null 2>&1 ;;
  esac
}
# stale OUT SRC...: true if OUT is missing or older than a source
stale() {
  _stale_out=$1
  shift
  [ -e "$_stale_out" ] || return 0
  for _stale_src in "$@" httpd.c httpd.h fuzz/fuzz.h fuzz/run.sh Makefile; do
    [ "$_stale_src" -nt "$_stale_out" ] && return 0
  done
  return 1
}
# corpus dirs of H (the regressions only when they hold a file)
corpora() {
  echo "corpus/$1"
  if [ -d "corpus/regressions/$1" ] &&
     [ -n "$(find "corpus/regressions/$1" -type f ! -name 'README*' ! -name '.*' | head -1)" ]; then
    echo "corpus/regressions/$1"
  fi
}

# ---------------------------------------------------------------- replay ----
replay() {
  fail=0
  if ! have "$CC_REPLAY"; then
    skipped fuzz-replay "$CC_REPLAY not installed (apt-get install gcc)"
    return $?
  fi
  for h in $HARNESSES; do
    bin=$B/$h-replay$SUF
    if [ "$h" = diff ] && ! have_http_parser "$CC_REPLAY"; then
      skipped "replay diff" "libhttp-parser-dev not installed" || fail=1
      continue
    fi
    if stale "$bin" "$(src "$h")" fuzz/driver.c; then
      # shellcheck disable=SC2046
      if ! $CC_REPLAY -std=gnu11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
          -fno-omit-frame-pointer $(limits "$h") $TOL -DFUZZ_REPLAY -o "$bin" "$(src "$h")" \
          fuzz/driver.c $(libs "$h") > "$B/$h-replay.build.log" 2>&1; then
        echo "not ok - replay $h: build failed"
        sed 's/^/# /' "$B/$h-replay.build.log" | head -20
        fail=1
        continue
      fi
    fi
    # shellcheck disable=SC2046
    "$bin" $(corpora "$h") > "$B/$h-replay.log" 2>&1
    rc=$?
    sum=$(grep '^replayed ' "$B/$h-replay.log" | tail -1)
    n=$(echo "$sum" | sed -n 's/^replayed \([0-9]*\) files.*/\1/p')
    if [ $rc -eq 0 ] && [ "${n:-0}" -gt 0 ]; then
      echo "ok - replay $h: $n files"
    elif [ $rc -eq 0 ]; then
      echo "not ok - replay $h: ${n:-no} files replayed from $(corpora "$h" | tr '\n' ' ')(an empty corpus proves nothing)"
      fail=1
    else
      echo "not ok - replay $h: ${sum:-exit status $rc}"
      grep -E '^# FAIL|property violated|ERROR: |runtime error' "$B/$h-replay.log" | head -20 |
        sed 's/^#* */# /'
      fail=1
    fi
  done
  return $fail
}

# ------------------------------------------------------------------ fuzz ----
# count of files in a findings dir with a prefix
nfound() { find "fuzz/findings/$1" -maxdepth 1 -type f -name "$2*" 2> /dev/null | wc -l; }

libfuzzer() {
  h=$1
  bin=$B/$h-libfuzzer$SUF
  work=$B/work/$h/libfuzzer
  mkdir -p "$work" "fuzz/findings/$h"
  if stale "$bin" "$(src "$h")"; then
    # shellcheck disable=SC2046
    "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      $(limits "$h") $TOL -o "$bin" "$(src "$h")" $(libs "$h") > "$B/$h-libfuzzer.build.log" 2>&1 ||
      { echo "not ok - libfuzzer $h: build failed"; sed 's/^/# /' "$B/$h-libfuzzer.build.log" | head; return 1; }
  fi
  before=$(nfound "$h" libfuzzer-)
  case $h in conn|conndef) maxlen=4097 ;; diff) maxlen=8192 ;; *) maxlen=4096 ;; esac
  # shellcheck disable=SC2046
  "$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -max_len=$maxlen -timeout=10 \
    -rss_limit_mb=4096 -dict=fuzz/http.dict -artifact_prefix="fuzz/findings/$h/libfuzzer-" \
    "$work" $(corpora "$h") > "$B/$h-libfuzzer.log" 2>&1
  after=$(nfound "$h" libfuzzer-)
  execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$B/$h-libfuzzer.log" | tail -1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/$h-libfuzzer.log" | tail -1)
  cov=$(grep -E '^#[0-9]+' "$B/$h-libfuzzer.log" | tail -1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/\1 edges, \2 features/p')
  new=$((after - before))
  if [ $new -gt 0 ]; then
    echo "not ok - libfuzzer $h: ${execs:-?} execs/s, ${runs:-?} runs, ${cov:-?}: $new finding(s) in fuzz/findings/$h/"
    grep -E 'property violated|ERROR: |runtime error|SUMMARY' "$B/$h-libfuzzer.log" | head -5 | sed 's/^/# /'
    return 1
  fi
  echo "ok - libfuzzer $h: ${execs:-?} execs/s, ${runs:-?} runs, ${cov:-?}, no finding"
}

afl_one() {
  h=$1
  out=$B/work/$h/afl
  mkdir -p "$out" "fuzz/findings/$h"
  for kind in plain cmplog asan; do
    bin=$B/$h-afl-$kind$SUF
    if stale "$bin" "$(src "$h")" fuzz/driver.c; then
      case $kind in
        plain) envs="" ;;
        cmplog) envs="AFL_LLVM_CMPLOG=1" ;;
        asan) envs="AFL_USE_ASAN=1 AFL_USE_UBSAN=1" ;;
      esac
      # shellcheck disable=SC2046,SC2086
      env $envs AFL_QUIET=1 afl-clang-fast -g -O2 $(limits "$h") $TOL -DFUZZ_AFL -o "$bin" \
        "$(src "$h")" fuzz/driver.c $(libs "$h") > "$B/$h-afl-$kind.build.log" 2>&1 ||
        { echo "not ok - afl $h: $kind build failed"; sed 's/^/# /' "$B/$h-afl-$kind.build.log" | head; return 1; }
    fi
  done
  # seeds: the corpus minus what crashes (regressions are replayed, not seeds)
  export AFL_TRY_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_SKIP_CRASHES=1 \
    AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SUPPRESS_ERROR=1 AFL_IMPORT_FIRST=1
  # afl-fuzz insists on symbolize=0; leaks are left to libFuzzer and the replayer
  ASAN_OPTIONS="abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1" \
  UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:symbolize=0" \
  MSAN_OPTIONS="exit_code=86:symbolize=0"
  export ASAN_OPTIONS UBSAN_OPTIONS MSAN_OPTIONS
  resume="-i corpus/$h"
  [ -d "$out/main/queue" ] && resume="-i -"    # go on from the last run
  case $h in conn|conndef) to=5000 ;; *) to=1000 ;; esac
  # shellcheck disable=SC2086
  AFL_FINAL_SYNC=1 afl-fuzz -M main -c "$B/$h-afl-cmplog$SUF" $resume -o "$out" -x fuzz/http.dict \
    -t $to -m none -V "$SECONDS_EACH" -- "$B/$h-afl-plain$SUF" > "$B/$h-afl-main.log" 2>&1 &
  pm=$!
  # shellcheck disable=SC2086
  afl-fuzz -S asan $resume -o "$out" -x fuzz/http.dict -t $to -m none -V "$SECONDS_EACH" \
    -- "$B/$h-afl-asan$SUF" > "$B/$h-afl-asan.log" 2>&1 &
  ps=$!
  wait $pm
  rm=$?
  wait $ps
  rs=$?
  found=0
  for inst in main asan; do
    for kind in crashes hangs; do
      for f in "$out/$inst/$kind"/id:*; do
        [ -f "$f" ] || continue
        base=$(basename "$f" | cut -c1-9 | tr ':' '-')
        dst="fuzz/findings/$h/afl-$inst-$kind-$base"
        if [ "$kind" = hangs ] && [ ! -e "$dst" ]; then
          # a "hang" is often a loaded machine (two instances per core): it
          # counts only if the ASan binary still takes over 10 s on its own
          timeout 10 "$B/$h-afl-asan$SUF" "$f" > /dev/null 2>&1
          if [ $? -ne 124 ]; then
            echo "# afl $h: $inst timeout $(basename "$f") not reproduced (machine load), dropped"
            continue
          fi
        fi
        if [ ! -e "$dst" ]; then
          cp "$f" "$dst"
          found=$((found + 1))
        fi
      done
    done
  done
  st=$out/main/fuzzer_stats
  if [ ! -f "$st" ]; then
    echo "not ok - afl $h: afl-fuzz did not start (exit $rm/$rs)"
    tail -15 "$B/$h-afl-main.log" | sed 's/^/# /'
    return 1
  fi
  v() { sed -n "s/^$1 *: *//p" "$2" | head -1; }
  execs_m=$(v execs_per_sec "$st")
  execs_a=$(v execs_per_sec "$out/asan/fuzzer_stats" 2> /dev/null)
  edges=$(v edges_found "$st")
  total=$(v total_edges "$st")
  cvg=$(v bitmap_cvg "$st")
  done_m=$(v execs_done "$st")
  done_a=$(v execs_done "$out/asan/fuzzer_stats" 2> /dev/null)
  line="execs/s main+cmplog ${execs_m:-?}, asan ${execs_a:-?}; execs ${done_m:-?}+${done_a:-?}; edges ${edges:-?}/${total:-?} (${cvg:-?})"
  if [ $found -gt 0 ]; then
    echo "not ok - afl $h: $line: $found new finding(s) in fuzz/findings/$h/"
    return 1
  fi
  echo "ok - afl $h: $line, no finding"
}

fuzz() {
  fail=0
  rm -rf "$TMPDIR"/httpd-fuzz-* 2> /dev/null
  if clang_can fuzzer,address,undefined; then
    for h in $HARNESSES; do
      if [ "$h" = diff ] && ! have_http_parser "$CLANG"; then
        skipped "libfuzzer diff" "libhttp-parser-dev not installed" || fail=1
        continue
      fi
      libfuzzer "$h" || fail=1
    done
  else
    skipped libfuzzer "$CLANG with -fsanitize=fuzzer not available (apt-get install clang libclang-rt-14-dev)" || fail=1
  fi
  if have afl-clang-fast && have afl-fuzz; then
    for h in $HARNESSES; do
      if [ "$h" = diff ] && ! have_http_parser cc; then
        skipped "afl diff" "libhttp-parser-dev not installed" || fail=1
        continue
      fi
      afl_one "$h" || fail=1
    done
  else
    skipped afl "afl-clang-fast/afl-fuzz not installed (apt-get install afl++)" || fail=1
  fi
  rm -rf "$TMPDIR"/httpd-fuzz-* 2> /dev/null
  if [ $fail -ne 0 ]; then
    echo "# findings: fuzz/findings/ (minimize: build/fuzz/H-libfuzzer -minimize_crash=1 -runs=10000 FILE;"
    echo "#  then move the result to corpus/regressions/H/)"
  fi
  return $fail
}

# -------------------------------------------------------------- coverage ----
coverage() {
  if ! have "$CLANG" || { ! have llvm-profdata-14 && ! have llvm-profdata; }; then
    skipped coverage "clang or llvm-profdata not installed (apt-get install clang llvm-14)"
    return $?
  fi
  PROFDATA=llvm-profdata-14
  have $PROFDATA || PROFDATA=llvm-profdata
  COV=llvm-cov-14
  have $COV || COV=llvm-cov
  d=$B/coverage
  rm -rf "$d"
  mkdir -p "$d"
  objs=""
  for h in $HARNESSES; do
    if [ "$h" = diff ] && ! have_http_parser "$CLANG"; then
      skipped "coverage diff" "libhttp-parser-dev not installed" || return 1
      continue
    fi
    bin=$d/$h-cov
    # shellcheck disable=SC2046
    "$CLANG" -g -O0 -fprofile-instr-generate -fcoverage-mapping $(limits "$h") -DFUZZ_TOLERATE=3 \
      -DFUZZ_REPLAY -o "$bin" "$(src "$h")" fuzz/driver.c $(libs "$h") > "$d/$h.build.log" 2>&1 ||
      { echo "not ok - coverage $h: build failed"; continue; }
    # shellcheck disable=SC2046
    LLVM_PROFILE_FILE="$d/$h-%p.profraw" "$bin" $(corpora "$h") > "$d/$h.log" 2>&1
    objs="$objs -object $bin"
  done
  $PROFDATA merge -sparse -o "$d/all.profdata" "$d"/*.profraw || return 1
  # shellcheck disable=SC2086
  $COV export -format=lcov -instr-profile="$d/all.profdata" $objs > "$d/all.lcov" 2> /dev/null
  # shellcheck disable=SC2086
  $COV export -format=text -instr-profile="$d/all.profdata" $objs > "$d/all.json" 2> /dev/null
  start=$(grep -n '^/\* ==== 3\. ' httpd.c | cut -d: -f1)
  end=$(grep -n '^/\* ==== 4\. ' httpd.c | cut -d: -f1)
  # shellcheck disable=SC2086
  $COV show -format=html -output-dir="$d/html" -instr-profile="$d/all.profdata" $objs \
    "$(pwd)/httpd.c" > /dev/null 2>&1
  python3 - "$d/all.lcov" "$d/all.json" "$(pwd)/httpd.c" "$start" "$end" << 'EOF'
# Lines from the lcov export (merged by line across the harness binaries);
# branches from the JSON export, deduplicated by source position (each binary
# numbers its own), each branch point counting its true and false outcome.
import json, sys
lcov, js, src, start, end = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
lines, fstart = {}, {}
cur = False
for l in open(lcov):
    l = l.strip()
    if l.startswith("SF:"):
        cur = l[3:] == src
    elif cur and l.startswith("DA:"):
        n, c = map(int, l[3:].split(",")[:2])
        lines[n] = max(lines.get(n, 0), c)
    elif cur and l.startswith("FN:"):
        n, name = l[3:].split(",", 1)
        fstart[int(n)] = name.split(":")[-1]
branches = {}
for data in json.load(open(js))["data"]:
    for f in data["functions"]:
        for b in f.get("branches", []):
            l0, c0, l1, c1, t, fl, fid = b[:7]
            if f["filenames"][fid] != src or not (start <= l0 < end):
                continue
            k = (l0, c0, l1, c1)
            ot, of = branches.get(k, (0, 0))
            branches[k] = (max(ot, t), max(of, fl))
inside = lambda n: start <= n < end
ln = sorted(n for n in lines if inside(n))
hit = lambda n: lines[n] > 0
bt = lambda ks: (sum((branches[k][0] > 0) + (branches[k][1] > 0) for k in ks), 2 * len(ks))
pct = lambda a, b: 100.0 * a / b if b else 100.0
bh, bn = bt(list(branches))
print("coverage of httpd.c section 3 (lines %d-%d, the pure parser), corpus + regressions:" % (start, end - 1))
print("  lines:    %d/%d (%.1f%%)" % (sum(map(hit, ln)), len(ln), pct(sum(map(hit, ln)), len(ln))))
print("  branches: %d/%d (%.1f%%)" % (bh, bn, pct(bh, bn)))
fs = sorted(s for s in fstart if inside(s))
for s, e in zip(fs, fs[1:] + [end]):
    fl = [n for n in ln if s <= n < e]
    h, t = bt([k for k in branches if s <= k[0] < e])
    print("  %-22s lines %3d/%-3d  branches %3d/%-3d" % (fstart[s], sum(map(hit, fl)), len(fl), h, t))
missed = [n for n in ln if not hit(n)]
if missed:
    print("  lines never run: " + ", ".join(map(str, missed[:40])) + (" ..." if len(missed) > 40 else ""))
EOF
  echo "# html report: $d/html/index.html"
}

# ------------------------------------------------------------------ msan ----
msan() {
  fail=0
  if ! clang_can memory; then
    skipped fuzz-msan "$CLANG -fsanitize=memory not available (apt-get install clang libclang-rt-14-dev)"
    return $?
  fi
  for h in $PURE; do
    bin=$B/$h-msan$SUF
    if stale "$bin" "$(src "$h")" fuzz/driver.c; then
      # shellcheck disable=SC2046
      "$CLANG" -g -O1 -fsanitize=memory -fsanitize-memory-track-origins -fno-omit-frame-pointer \
        $(limits "$h") $TOL -DFUZZ_REPLAY -o "$bin" "$(src "$h")" fuzz/driver.c \
        > "$B/$h-msan.build.log" 2>&1 ||
        { echo "not ok - msan $h: build failed"; fail=1; continue; }
    fi
    # shellcheck disable=SC2046
    MSAN_OPTIONS=halt_on_error=1 "$bin" $(corpora "$h") > "$B/$h-msan.log" 2>&1
    rc=$?
    n=$(sed -n 's/^replayed \([0-9]*\) files.*/\1/p' "$B/$h-msan.log" | tail -1)
    if [ $rc -eq 0 ] && [ "${n:-0}" -gt 0 ]; then
      echo "ok - msan $h: $n files"
    elif [ $rc -eq 0 ]; then
      echo "not ok - msan $h: ${n:-no} files replayed (an empty corpus proves nothing)"
      fail=1
    else
      echo "not ok - msan $h: $(grep '^replayed' "$B/$h-msan.log" | tail -1)"
      grep -E '^# FAIL|WARNING: MemorySanitizer|property violated' "$B/$h-msan.log" | head | sed 's/^#* */# /'
      fail=1
    fi
  done
  return $fail
}

case ${1:-} in
  replay) replay ;;
  fuzz) fuzz ;;
  coverage) coverage ;;
  msan) msan ;;
  *) echo "usage: sh fuzz/run.sh replay|fuzz|coverage|msan" >&2; exit 2 ;;
esac
