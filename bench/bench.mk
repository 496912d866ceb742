# bench/bench.mk -- benchmark targets; included from the Makefile, or alone:
#   make -f bench/bench.mk bench-parse       (from the repository root)
# Targets:
#   make bench          bench/run.sh full   (3 runs of 10 s per cell, median; ~13 min)
#   make bench-quick    bench/run.sh quick  (1 run of 3 s per cell; ~1.5 min)
#   make bench-parse    our parser against picohttpparser (bench/build/parse)
# BENCH_SERVERS and BENCH_SCENARIOS limit bench/bench-quick (bench/README.md).

BENCH_CC      ?= cc
BENCH_PICOLIB ?= -l:libh2o-evloop.so.0.13

bench:
	bash bench/run.sh full

bench-quick:
	bash bench/run.sh quick

bench-parse: bench/build/parse
	bench/build/parse

bench/build/parse: bench/parse.c httpd.c httpd.h
	@sh bench/need-pico.sh
	@mkdir -p bench/build
	$(BENCH_CC) -O2 -std=c11 -Wall -Wextra -DHTTPD_PURE_ONLY -I. -o $@ bench/parse.c httpd.c $(BENCH_PICOLIB)

.PHONY: bench bench-quick bench-parse
