/*
** fuzz/fuzz.h -- what every harness shares: the entry point's prototype, the
** property check, and exact-size copies (so that a one-byte over-read of a
** piece of input is caught by ASan, as picohttpparser's test does with a
** PROT_NONE page).
**
** A harness is one C file that defines LLVMFuzzerTestOneInput (and optionally
** LLVMFuzzerInitialize) and #includes "../httpd.c" itself, so it can see the
** static parts of the server.  It builds three ways (see fuzz/fuzz.mk):
**   libFuzzer:  clang -fsanitize=fuzzer,address,undefined fuzz/H.c
**   AFL++:      afl-clang-fast -DFUZZ_AFL fuzz/H.c fuzz/driver.c
**   replayer:   gcc -DFUZZ_REPLAY -fsanitize=address,undefined fuzz/H.c fuzz/driver.c
** Harnesses check properties, not only "no crash": FUZZ_CHECK aborts with a
** message naming the property, so every build (and `make fuzz-replay`) fails.
*/
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The replayer (fuzz/driver.c with -DFUZZ_REPLAY) runs few inputs: there a
** harness may spend more time per input (every split point, not a sample). */
#ifdef FUZZ_REPLAY
#define FUZZ_EXHAUSTIVE 1
#else
#define FUZZ_EXHAUSTIVE 0
#endif

#define FUZZ_CHECK(cond, what)                                              \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: property violated: %s\n  (%s)\n", __FILE__,   \
              __LINE__, what, #cond);                                       \
      abort();                                                              \
    }                                                                       \
  } while (0)

/* An exact-size heap copy of p[0..n): reading p[n] is a heap overflow. */
static inline char *
fuzz_dup(const void *p, size_t n)
{
  char *q = (char *)malloc(n + (n == 0));
  FUZZ_CHECK(q != NULL, "malloc");
  if (n > 0)
    memcpy(q, p, n);
  return q;
}

/* 1 if the view [p, p+n) lies inside [base, base+len). */
static inline int
fuzz_inside(const void *p, size_t n, const void *base, size_t len)
{
  const char *a = (const char *)p, *b = (const char *)base;
  if (a == NULL)
    return n == 0;
  return a >= b && a <= b + len && n <= (size_t)(b + len - a);
}

/* A small deterministic generator for splitting inputs (xorshift32). */
static inline uint32_t
fuzz_rand(uint32_t *s)
{
  uint32_t x = *s != 0 ? *s : 0x9e3779b9u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

/* The value of a hex digit, or -1: for the reference decoders, which must not
** share code with the parser they check. */
static inline int
fuzz_hexval(unsigned char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

#endif /* FUZZ_H */
