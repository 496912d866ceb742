# fuzz/fuzz.mk -- fuzzing targets; the top Makefile says:  include fuzz/fuzz.mk
#
#   make fuzz-replay              gcc ASan+UBSan replayer of every harness over
#                                 corpus/<h>/ and corpus/regressions/<h>/ (run by
#                                 make test): "ok - replay <h>: N files" lines
#   make fuzz FUZZ_SECONDS=60     libFuzzer, then AFL++ (main+CmpLog, ASan
#                                 secondary), N seconds per harness and engine;
#                                 prints execs/s, coverage, findings; exits 1
#                                 on a finding (kept in fuzz/findings/<h>/)
#   make coverage                 llvm-cov line/branch coverage of httpd.c
#                                 section 3 (pure parser) from corpus + replay
#   make fuzz-msan                MSan replay of the pure harnesses
#   make fuzz-seeds               regenerate corpus/<h>/ with fuzz/seeds.py
#
# Harnesses: fuzz/request.c chunked.c path.c conn.c diff.c; fuzz/driver.c is
# main() for AFL++ and the replayer.  Builds go to build/fuzz/.  Every target
# says SKIPPED instead of failing when clang, AFL++ or libhttp-parser-dev is
# missing.  FUZZ_HARNESSES="request path" limits a run to some harnesses;
# FUZZ_TOLERATE=7 accepts the findings F1, F2, F3a (fuzz/README.md).
FUZZ_SECONDS   ?= 60
FUZZ_HARNESSES ?= request chunked path cgi conn conndef cgirelay diff
FUZZ_TOLERATE  ?=
FUZZ_ENV = FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_HARNESSES='$(FUZZ_HARNESSES)' \
           FUZZ_TOLERATE='$(FUZZ_TOLERATE)'

fuzz-replay:
	@$(FUZZ_ENV) sh fuzz/run.sh replay

fuzz:
	@$(FUZZ_ENV) sh fuzz/run.sh fuzz

coverage:
	@$(FUZZ_ENV) sh fuzz/run.sh coverage

fuzz-msan:
	@$(FUZZ_ENV) sh fuzz/run.sh msan

fuzz-seeds:
	python3 fuzz/seeds.py

.PHONY: fuzz-replay fuzz coverage fuzz-msan fuzz-seeds
