/*
** hello.c -- httpd vendored into a program: a C handler on the public API.
**
**   cc -o hello examples/hello.c httpd.c -DHTTPD_NO_MAIN
**   ./hello [PORT]          (default 8080; 0 picks a free port)
**
** Routes: GET /         "Hello, world!"
**         POST /echo    the request body back (Content-Length or chunked)
**         GET /stream   a body of unknown length (chunked in HTTP/1.1)
**         GET /fail     a handler error (500); GET /nocontent  204
**         anything else the static file server on ./www
*/
#include "../httpd.h"

#include <stdio.h>
#include <string.h>

static int
hello(struct httpd_conn *c, const struct httpd_request *req, void *arg)
{
  static const char msg[] = "Hello, world!\n";
  char body[65536];
  size_t n = 0;
  long r = 0;
  int i, rc;

  if (req->path.n == 1 && req->path.p[0] == '/' && req->method == HTTPD_GET)
    return httpd_respond(c, 200, "text/plain; charset=utf-8", msg, sizeof msg - 1);
  if (req->path.n == 5 && memcmp(req->path.p, "/echo", 5) == 0) {
    if (req->method != HTTPD_POST && req->method != HTTPD_PUT) {
      httpd_header(c, "Allow", "POST, PUT");
      return httpd_respond(c, 405, "text/plain", "405 Method Not Allowed\n", 23);
    }
    while (n < sizeof body && (r = httpd_read_body(c, body + n, sizeof body - n)) > 0)
      n += (size_t)r;
    if (n == sizeof body)
      return HTTPD_EBODYLARGE;       /* more than this example keeps: 413 */
    if (r < 0)
      return (int)r;                 /* the server answers 400/408/413... */
    return httpd_respond(c, 200, "application/octet-stream", body, n);
  }
  if (req->path.n == 7 && memcmp(req->path.p, "/stream", 7) == 0) {
    if ((rc = httpd_header(c, "Content-Type", "text/plain")) != 0 ||
        (rc = httpd_begin(c, 200, -1)) != 0)
      return rc;
    for (i = 0; i < 10; i++) {
      char line[32];
      int len = snprintf(line, sizeof line, "line %d\n", i);
      if ((rc = httpd_write(c, line, (size_t)len)) != 0)
        return rc;
    }
    return httpd_end(c);
  }
  if (req->path.n == 5 && memcmp(req->path.p, "/fail", 5) == 0)
    return HTTPD_EHANDLER;           /* a handler's own failure: the server answers 500 */
  if (req->path.n == 10 && memcmp(req->path.p, "/nocontent", 10) == 0) {
    /* the framing fields are the server's: a handler cannot set them */
    if (httpd_header(c, "Content-Length", "5") != HTTPD_EINVAL ||
        httpd_header(c, "transfer-encoding", "chunked") != HTTPD_EINVAL ||
        httpd_header(c, "X-Ok", "yes") != 0)
      return httpd_respond(c, 500, "text/plain", "header check\n", 13);
    if ((rc = httpd_begin(c, 204, 5)) != 0)  /* a length on 204 is ignored */
      return rc;
    return httpd_end(c);
  }
  return httpd_static(c, req, arg);
}

int
main(int argc, char **argv)
{
  struct httpd_config cfg;
  struct httpd_root root;
  int port = 0, fd, rc;

  if (httpd_root_open(&root, "www") != 0) {  /* opened once, before serving */
    perror("hello: www");
    return 1;
  }
  memset(&cfg, 0, sizeof cfg);       /* zeroed config: defaults */
  cfg.handler = hello;
  cfg.handler_arg = &root;
  fd = httpd_listen("127.0.0.1", argc > 1 ? argv[1] : "8080", &port);
  if (fd < 0) {
    fprintf(stderr, "hello: %s\n", httpd_strerror(fd));
    return 1;
  }
  fprintf(stderr, "hello: listening on 127.0.0.1 port %d\n", port);
  rc = httpd_serve(&cfg, fd);
  httpd_root_close(&root);
  return rc < 0 ? 1 : 0;
}
