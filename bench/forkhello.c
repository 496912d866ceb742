/*
** forkhello.c -- the physical limit of the fork-per-connection model.
**
** A bare fork-per-connection HTTP "hello": accept4(SOCK_CLOEXEC), fork; the
** child does one read and one write of a fixed response (99-byte body,
** Content-Length, Connection: close) and exits; the parent reaps with
** waitpid(-1, WNOHANG) from its SIGCHLD handler.  No parsing, no files, no
** timeouts, no logging: whatever a real forking server spends beyond this is
** its own cost.  Only for the Connection: close scenarios.
**
**   cc -O2 -o bench/build/forkhello bench/forkhello.c
**   bench/build/forkhello PORT            (binds 127.0.0.1:PORT)
*/
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The body is the same 99 bytes as hello.txt in the benchmark's docroot. */
#define BODY "Hello from the benchmark docroot: a 99-byte body, the size of a small static response.  0123456789\n"
static const char resp[] =
  "HTTP/1.1 200 OK\r\n"
  "Content-Type: text/plain\r\n"
  "Content-Length: 99\r\n"
  "Connection: close\r\n"
  "\r\n" BODY;

static void
on_chld(int sig)
{
  int saved = errno;
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
  errno = saved;
}

static void
on_term(int sig)
{
  (void)sig;
  _exit(0);
}

int
main(int argc, char **argv)
{
  _Static_assert(sizeof BODY - 1 == 99, "body must be 99 bytes");
  if (argc != 2) {
    fprintf(stderr, "usage: forkhello PORT\n");
    return 2;
  }
  int port = atoi(argv[1]);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 4096) < 0) {
    perror("forkhello: listen");
    return 1;
  }

  struct sigaction act;
  memset(&act, 0, sizeof act);
  sigemptyset(&act.sa_mask);
  act.sa_handler = on_chld;
  act.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &act, NULL);
  act.sa_handler = on_term;
  act.sa_flags = 0;
  sigaction(SIGTERM, &act, NULL);
  sigaction(SIGINT, &act, NULL);
  signal(SIGPIPE, SIG_IGN);
  fprintf(stderr, "forkhello: listening on 127.0.0.1 port %d\n", port);

  for (;;) {
    int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        usleep(1000);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      char buf[4096];
      if (read(c, buf, sizeof buf) > 0)
        (void)!write(c, resp, sizeof resp - 1);
      _exit(0);
    }
    close(c);   /* pid < 0: the connection is dropped */
  }
}
