/*
** fuzz/driver.c -- main() for a harness when libFuzzer does not provide one.
**
**   -DFUZZ_AFL     AFL++ persistent mode with shared-memory test cases
**                  (build with afl-clang-fast; AFL_LLVM_CMPLOG=1 for the CmpLog
**                  binary, AFL_USE_ASAN=1 for the ASan one).  Given file
**                  arguments it runs them once each instead, for triage.
**   -DFUZZ_REPLAY  a plain replayer any C compiler builds (gcc alone is enough
**                  to rerun a crasher):  H-replay [-n] FILE|DIR...
**                  Each file, and each file of a directory (sorted; names
**                  starting with '.' or "README" skipped), is run once in a
**                  forked child with a 20 s alarm, so one failing input does not
**                  hide the others; -n runs them in this process instead.
**                  Prints "# FAIL <file>" per failure and a summary line
**                  "replayed N files, M failed"; exit status 1 if M > 0.
**
** Both hand the harness an exact-size heap copy of the input, so a read past
** its end is caught under ASan (AFL's shared-memory buffer is larger).
*/
#if !defined(FUZZ_AFL) && !defined(FUZZ_REPLAY)
#error "define FUZZ_AFL or FUZZ_REPLAY (libFuzzer brings its own main)"
#endif
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness: called once before the first input. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Reads a whole file into a malloc'ed exact-size buffer.  Returns 0 or -1. */
static int
drv_read_file(const char *path, uint8_t **out, size_t *n)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL, *nb;
  size_t len = 0, cap = 0, r;
  if (f == NULL)
    return -1;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 4096;
      if ((nb = realloc(buf, cap)) == NULL) {
        free(buf);
        fclose(f);
        return -1;
      }
      buf = nb;
    }
    r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (r == 0)
      break;
  }
  fclose(f);
  /* shrink to the exact size: the harness must not read buf[len] */
  nb = malloc(len + (len == 0));
  if (nb == NULL) {
    free(buf);
    return -1;
  }
  if (len > 0)
    memcpy(nb, buf, len);
  free(buf);
  *out = nb;
  *n = len;
  return 0;
}

/* Runs one file in this process.  Returns 0, or -1 if it could not be read. */
static int
drv_run_file(const char *path)
{
  uint8_t *buf;
  size_t n;
  if (drv_read_file(path, &buf, &n) != 0) {
    fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
    return -1;
  }
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 0;
}

#ifdef FUZZ_REPLAY
static int drv_fork = 1;
static unsigned long drv_files, drv_failed;

/* Runs one file, in a child unless -n.  Counts it. */
static void
drv_replay_file(const char *path)
{
  pid_t pid;
  int st;
  drv_files++;
  if (!drv_fork) {
    if (drv_run_file(path) != 0)
      drv_failed++;
    return;
  }
  fflush(NULL);
  pid = fork();
  if (pid < 0) {
    perror("replay: fork");
    exit(2);
  }
  if (pid == 0) {
    alarm(20);                       /* a hang is a failure too */
    exit(drv_run_file(path) != 0 ? 3 : 0);
  }
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    drv_failed++;
    if (WIFSIGNALED(st))
      printf("# FAIL %s (signal %d%s)\n", path, WTERMSIG(st),
             WTERMSIG(st) == SIGALRM ? ": timeout" : "");
    else
      printf("# FAIL %s (exit status %d)\n", path, WEXITSTATUS(st));
  }
}

static int
drv_skip(const char *name)
{
  return name[0] == '.' || strncmp(name, "README", 6) == 0;
}

/* Replays a file or, recursively, a directory in sorted order. */
static void
drv_replay(const char *path)
{
  struct stat st;
  struct dirent **ents;
  int k, n;
  if (stat(path, &st) != 0) {
    printf("# FAIL %s (%s)\n", path, strerror(errno));
    drv_failed++;
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    drv_replay_file(path);
    return;
  }
  n = scandir(path, &ents, NULL, alphasort);
  if (n < 0) {
    printf("# FAIL %s (%s)\n", path, strerror(errno));
    drv_failed++;
    return;
  }
  for (k = 0; k < n; k++) {
    if (!drv_skip(ents[k]->d_name)) {
      size_t len = strlen(path) + strlen(ents[k]->d_name) + 2;
      char *sub = malloc(len);
      if (sub != NULL) {
        snprintf(sub, len, "%s/%s", path, ents[k]->d_name);
        drv_replay(sub);
        free(sub);
      }
    }
    free(ents[k]);
  }
  free(ents);
}

int
main(int argc, char **argv)
{
  int i = 1;
  if (i < argc && strcmp(argv[i], "-n") == 0) {
    drv_fork = 0;
    i++;
  }
  if (i == argc) {
    fprintf(stderr, "usage: %s [-n] FILE|DIR...\n", argv[0]);
    return 2;
  }
  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize(&argc, &argv);
  for (; i < argc; i++)
    drv_replay(argv[i]);
  printf("replayed %lu files, %lu failed\n", drv_files, drv_failed);
  return drv_failed > 0;
}
#endif /* FUZZ_REPLAY */

#ifdef FUZZ_AFL
#ifndef __AFL_FUZZ_TESTCASE_LEN
#error "build the AFL driver with afl-clang-fast (or afl-clang-lto)"
#endif
__AFL_FUZZ_INIT();

int
main(int argc, char **argv)
{
  unsigned char *buf;
  int i;
  if (argc > 1) {                    /* triage: run the given files once */
    if (LLVMFuzzerInitialize != NULL)
      LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++)
      if (drv_run_file(argv[i]) != 0)
        return 2;
    return 0;
  }
  __AFL_INIT();
  /* after the fork server: each child sets itself up (the conn harness makes
  ** its fixture directory here and removes it when the child exits) */
  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize(&argc, &argv);
  buf = __AFL_FUZZ_TESTCASE_BUF;    /* after __AFL_INIT, before the loop */
  while (__AFL_LOOP(10000)) {
    size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
    uint8_t *copy = malloc(len + (len == 0));
    if (copy == NULL)
      abort();
    if (len > 0)
      memcpy(copy, buf, len);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
  }
  return 0;
}
#endif /* FUZZ_AFL */
