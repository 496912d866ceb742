/*
** cgi-hello.c -- a compiled CGI for the benchmark: a Content-Type and a
** Content-Length header, then the same 99-byte body as hello.txt.
**   cc -O2 -o DOCROOT/cgi-bin/hello bench/cgi-hello.c
*/
#include <stdio.h>

#define BODY "Hello from the benchmark docroot: a 99-byte body, the size of a small static response.  0123456789\n"

int
main(void)
{
  _Static_assert(sizeof BODY - 1 == 99, "body must be 99 bytes");
  static const char out[] =
    "Content-Type: text/plain\r\n"
    "Content-Length: 99\r\n"
    "\r\n" BODY;
  return fwrite(out, 1, sizeof out - 1, stdout) != sizeof out - 1 || fflush(stdout) != 0;
}
