# httpd -- build, test, sanitize.  The product needs no Makefile:
#   cc -O2 -o httpd httpd.c
# Targets:
#   make                 ./httpd and examples/hello (plain build)
#   make test            the whole suite (tests/run.sh): unit, small-limits unit,
#                        warnings, purity, end-to-end, API, lineage
#   make test SANITIZER=address,undefined    the same suite on an ASan+UBSan build
#   make sanitize        shorthand for the line above
#   make check           both of them, summed into one "N passed, N failed" line
#                        (first `make deps` if run as root and something is missing)
#   make deps            apt-get install what the suite needs (tests/deps.txt)
#   make fuzz FUZZ_SECONDS=N, make coverage, make fuzz-msan: see fuzz/README.md
#   make clean

CC       ?= cc
CFLAGS   ?= -O2 -g
# The warning set kept clean with gcc and clang (tests/run.sh checks both with -Werror).
WARN     = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wundef
SANITIZER ?=
ifneq ($(strip $(SANITIZER)),)
  B      = build/san
  SAN    = -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all \
           -DHTTPD_SANITIZE
else
  B      = build/default
  SAN    =
endif
# Small limits "to give some bugs a chance" (Lua's ltests.h idea).
SMALL    = -DHTTPD_MAX_LINE=256 -DHTTPD_MAX_HEAD=1024 -DHTTPD_MAX_HEADERS=8 \
           -DHTTPD_MAX_PATH=64 -DHTTPD_MAX_CHUNK_LINE=64 -DHTTPD_MAX_TRAILER=256

all: httpd examples/hello

httpd: httpd.c httpd.h
	$(CC) $(WARN) $(CFLAGS) -o $@ httpd.c

examples/hello: examples/hello.c httpd.c httpd.h
	$(CC) $(WARN) $(CFLAGS) -DHTTPD_NO_MAIN -o $@ examples/hello.c httpd.c

$(B)/httpd: httpd.c httpd.h
	@mkdir -p $(B)
	$(CC) $(WARN) $(CFLAGS) $(SAN) -o $@ httpd.c

$(B)/httpd-walk: httpd.c httpd.h
	@mkdir -p $(B)
	$(CC) $(WARN) $(CFLAGS) $(SAN) -DHTTPD_NO_OPENAT2 -o $@ httpd.c

$(B)/hello: examples/hello.c httpd.c httpd.h
	@mkdir -p $(B)
	$(CC) $(WARN) $(CFLAGS) $(SAN) -DHTTPD_NO_MAIN -o $@ examples/hello.c httpd.c

$(B)/unit: tests/unit.c httpd.c httpd.h
	@mkdir -p $(B)
	$(CC) $(WARN) $(CFLAGS) $(SAN) -DHTTPD_NO_MAIN -o $@ tests/unit.c httpd.c

$(B)/unit-small: tests/unit.c httpd.c httpd.h
	@mkdir -p $(B)
	$(CC) $(WARN) $(CFLAGS) $(SAN) $(SMALL) -DHTTPD_NO_MAIN -o $@ tests/unit.c httpd.c

test: $(B)/httpd $(B)/httpd-walk $(B)/hello $(B)/unit $(B)/unit-small
	B=$(B) SANITIZER="$(SANITIZER)" WARN="$(WARN)" sh tests/run.sh

sanitize:
	$(MAKE) test SANITIZER=address,undefined

# The README's test command: both builds, one closing line.
check:
	sh tests/check.sh

clean:
	rm -rf build httpd examples/hello

# What the suite needs (the list: tests/deps.txt): apt-get update + install, as
# root on Debian.  `make check` runs it first when it runs as root and
# something is missing.
deps:
	@sh tests/deps.sh install

# The small limits, for fuzz/run.sh and tests/run.sh (SMALL above is the one
# definition).
small-flags:
	@echo '$(SMALL)'

.PHONY: deps small-flags

.PHONY: all test sanitize check clean

# Fuzzing: fuzz-replay (part of make test), fuzz, coverage, fuzz-msan, fuzz-seeds.
include fuzz/fuzz.mk
include bench/bench.mk
