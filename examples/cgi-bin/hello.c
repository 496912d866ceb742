/* examples/cgi-bin/hello.c -- a CGI/1.1 program in C.
**
**   mkdir -p www/cgi-bin && cc -O2 -o www/cgi-bin/hello examples/cgi-bin/hello.c
**   ./httpd -x /cgi-bin/
**   curl 'http://localhost:8888/cgi-bin/hello/extra?name=world'
**   curl --data 'some body' http://localhost:8888/cgi-bin/hello
**
** The request comes in the environment (RFC 3875 section 4.1) and, when it
** has a body, CONTENT_LENGTH bytes on stdin; the response is a header block
** ending in an empty line, then the body on stdout.  This one states its
** length, so the server keeps the connection alive without chunking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *
var(const char *name)
{
  const char *v = getenv(name);
  return v != NULL ? v : "";
}

int
main(void)
{
  char body[1024], buf[65536];
  unsigned long long want = strtoull(var("CONTENT_LENGTH"), NULL, 10), got = 0;
  int n;
  while (got < want) {                   /* read (and count) the whole body */
    size_t ask = want - got < sizeof buf ? (size_t)(want - got) : sizeof buf;
    ssize_t r = read(0, buf, ask);
    if (r <= 0)
      break;
    got += (unsigned long long)r;
  }
  n = snprintf(body, sizeof body,
               "Hello from C\nmethod: %s\npath_info: %s\nquery: %s\nbody bytes: %llu\n",
               var("REQUEST_METHOD"), var("PATH_INFO"), var("QUERY_STRING"), got);
  if (n < 0 || (size_t)n >= sizeof body)
    n = snprintf(body, sizeof body, "Hello from C\n(request too long to echo)\n");
  printf("Content-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", n, body);
  return fflush(stdout) == 0 ? 0 : 1;
}
