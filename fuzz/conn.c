/*
** fuzz/conn.c -- harness for one whole connection: conn_serve() (static, in
** httpd.c section 6) with the static file handler on a tiny fixture docroot,
** over a socketpair, without fork or network.
**
** Input: one option byte, then the bytes a client sends (at most 4096; the
** harness writes them all, shuts its side down for writing, and runs
** conn_serve on the other end while a thread drains the responses).
** The option byte makes the I/O of the server short and uneven, the way TCP
** delivers it, by wrapping read/writev/send/sendfile (deterministically):
**   bits 0-2   longest read:  unlimited, 1, 2, 3, 5, 16, 100, 1000 bytes
**   bits 3-5   longest write: unlimited, 1, 2, 7, 13, 64, 200, 1500 bytes
**   bit 6      max_body 0 (any body is too large) instead of 4096
** Properties (abort() when violated):
**   1. the output is a sequence of HTTP/1.1 responses (status line, header
**      fields, framing by Content-Length or chunked) with nothing after them;
**      every status is one the static server may send, with its reason;
**   2. the responses answer exactly the requests that the pure parser frames
**      in the input, in order (same method and target at the handler), then
**      the connection ends where the model says: an error, a body too large,
**      Connection: close, an unread or incomplete body, or the end of input.
**      A different split of the stream would be request smuggling;
**   3. error bodies are the fixed "NNN Reason\n"; 200/206 bodies are bytes of
**      a fixture file; HEAD, 204 and 304 have no body; Connection: close is
**      sent exactly when the server then closes for that reason;
**   4. nothing from a dotfile or from outside the root ever appears.
*/
#define _GNU_SOURCE 1
#define HTTPD_NO_MAIN 1
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* ---- deterministic short I/O, wrapped around the server's system calls ---- */
static size_t fz_rcap, fz_wcap;

static ssize_t
fz_read(int fd, void *buf, size_t n)
{
  return read(fd, buf, fz_rcap != 0 && n > fz_rcap ? fz_rcap : n);
}

static ssize_t
fz_writev(int fd, const struct iovec *iov, int cnt)
{
  struct iovec v[16];
  size_t left = fz_wcap;
  int k;
  if (fz_wcap == 0)
    return writev(fd, iov, cnt);
  for (k = 0; k < cnt && k < 16 && left > 0; k++) {
    v[k] = iov[k];
    if (v[k].iov_len > left)
      v[k].iov_len = left;
    left -= v[k].iov_len;
  }
  return writev(fd, v, k);
}

static ssize_t
fz_send(int fd, const void *buf, size_t n, int flags)
{
  return send(fd, buf, fz_wcap != 0 && n > fz_wcap ? fz_wcap : n, flags);
}

static ssize_t
fz_sendfile(int out, int in, off_t *off, size_t n)
{
  return sendfile(out, in, off, fz_wcap != 0 && n > fz_wcap ? fz_wcap : n);
}

#define read fz_read
#define writev fz_writev
#define send fz_send
#define sendfile fz_sendfile
#include "../httpd.c"
#undef read
#undef writev
#undef send
#undef sendfile

#include "fuzz.h"

#define CONN_MAX_INPUT 4096
#define CONN_MAX_OUTPUT (4 << 20)

/* ---- the fixture document root ---- */
struct fixture_file {
  const char *path;         /* relative to the fixture's top directory */
  const char *content;      /* NULL: not a regular file */
  const char *link;         /* symlink target, or NULL */
  int servable;             /* may appear as a 200/206 body */
};

static char fz_big[3001];
static const struct fixture_file fixture[] = {
  { "outside.txt", "<SECRET> outside the root\n", NULL, 0 },
  { "root", NULL, NULL, 0 },
  { "root/index.html", "<!doctype html><title>root</title>\n", NULL, 1 },
  { "root/a.txt", "alpha\n", NULL, 1 },
  { "root/empty.txt", "", NULL, 1 },
  { "root/digits.txt", "0123456789abcdefghijklmnopqrstuvwxyz\n", NULL, 1 },
  { "root/big.txt", fz_big, NULL, 1 },
  { "root/sp ace.txt", "space\n", NULL, 1 },
  { "root/pct%41.txt", "percent\n", NULL, 1 },
  { "root/caf\xc3\xa9.txt", "utf-8\n", NULL, 1 },
  { "root/.hidden", "<SECRET> dotfile\n", NULL, 0 },
  { "root/sub", NULL, NULL, 0 },
  { "root/sub/index.html", "<p>sub</p>\n", NULL, 1 },
  { "root/sub/b.css", "b{}\n", NULL, 1 },
  { "root/sub/.env", "<SECRET> env\n", NULL, 0 },
  { "root/noindex", NULL, NULL, 0 },
  { "root/noindex/c.js", "c;\n", NULL, 1 },
  { "root/in.txt", NULL, "a.txt", 0 },
  { "root/out.txt", NULL, "../outside.txt", 0 },
  { "root/updir", NULL, "..", 0 },
  { "root/loop", NULL, "loop", 0 },
  { "root/fifo", NULL, NULL, 0 },
};
#define NFIXTURE (sizeof fixture / sizeof fixture[0])

static char fz_top[4096], fz_root[4200];
static struct httpd_root fz_docroot;
static pid_t fz_creator;

static void
fixture_remove(void)
{
  size_t k;
  char p[8192];
  if (getpid() != fz_creator || fz_top[0] == '\0')
    return;
  for (k = NFIXTURE; k-- > 0;) {
    snprintf(p, sizeof p, "%s/%s", fz_top, fixture[k].path);
    if (unlink(p) != 0)
      rmdir(p);
  }
  rmdir(fz_top);
}

static void
fixture_create(void)
{
  const char *tmp = getenv("TMPDIR");
  struct timespec ts[2];
  size_t k;
  char p[8192];
  for (k = 0; k < sizeof fz_big - 1; k++)
    fz_big[k] = (char)('A' + k % 26);
  snprintf(fz_top, sizeof fz_top, "%s/httpd-fuzz-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
  FUZZ_CHECK(mkdtemp(fz_top) != NULL, "mkdtemp for the fixture");
  fz_creator = getpid();
  atexit(fixture_remove);
  ts[0].tv_sec = ts[1].tv_sec = 1000000000;   /* Sun, 09 Sep 2001 01:46:40 GMT */
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  for (k = 0; k < NFIXTURE; k++) {
    const struct fixture_file *f = &fixture[k];
    snprintf(p, sizeof p, "%s/%s", fz_top, f->path);
    if (f->link != NULL) {
      FUZZ_CHECK(symlink(f->link, p) == 0, "fixture symlink");
    } else if (f->content != NULL) {
      int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      size_t n = strlen(f->content);
      FUZZ_CHECK(fd >= 0 && write(fd, f->content, n) == (ssize_t)n, "fixture file");
      close(fd);
    } else if (strcmp(f->path, "root/fifo") == 0) {
      FUZZ_CHECK(mkfifo(p, 0644) == 0, "fixture fifo");
    } else {
      FUZZ_CHECK(mkdir(p, 0755) == 0, "fixture directory");
    }
  }
  for (k = NFIXTURE; k-- > 0;) {      /* directories last: files change their mtime */
    snprintf(p, sizeof p, "%s/%s", fz_top, fixture[k].path);
    utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
  }
  snprintf(fz_root, sizeof fz_root, "%s/root", fz_top);
  FUZZ_CHECK(httpd_root_open(&fz_docroot, fz_root) == 0, "open the fixture root");
}

/* ---- what the handler saw ---- */
struct seen {
  int method, minor, rc, began, ended, failed, keep_alive, status;
  size_t ntarget;
  char target[HTTPD_MAX_LINE + 1];
};
#define MAX_SEEN 512
static struct seen fz_seen[MAX_SEEN];
static size_t fz_nseen;

static int
fz_handler(struct httpd_conn *c, const struct httpd_request *req, void *arg)
{
  int rc = httpd_static(c, req, arg);
  struct seen *s;
  FUZZ_CHECK(fz_nseen < MAX_SEEN, "handler calls bounded");
  s = &fz_seen[fz_nseen++];
  s->method = req->method;
  s->minor = req->minor;
  s->ntarget = req->target.n;
  FUZZ_CHECK(req->target.n <= HTTPD_MAX_LINE, "target length");
  memcpy(s->target, req->target.p, req->target.n);
  s->rc = rc;
  s->began = c->began;
  s->ended = c->ended;
  s->failed = c->failed;
  s->keep_alive = c->keep_alive;
  s->status = c->status;
  return rc;
}

/* ---- the client side: drain the responses ---- */
static char fz_out[CONN_MAX_OUTPUT];
static size_t fz_nout;
static int fz_drain_err;     /* errno of a failed recv: ECONNRESET = closed unread */

static void *
drain(void *arg)
{
  int fd = *(int *)arg;
  for (;;) {
    ssize_t r = recv(fd, fz_out + fz_nout, sizeof fz_out - fz_nout, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      fz_drain_err = errno;
    if (r <= 0)
      break;
    fz_nout += (size_t)r;
    FUZZ_CHECK(fz_nout < sizeof fz_out, "output bounded");
  }
  return NULL;
}

/* ---- parsing the output ---- */
struct response {
  int status, chunked, close, keep, has_cl;
  uint64_t cl;
  const char *type, *location, *range, *allow;
  size_t ntype, nlocation, nrange, nallow;
  const char *body;
  size_t nbody;
};

static int
known_status(int s)
{
  static const int ok[] = { 200, 206, 301, 304, 400, 403, 404, 405, 413, 414, 416,
                            417, 431, 501, 505 };
  size_t k;
  for (k = 0; k < sizeof ok / sizeof ok[0]; k++)
    if (s == ok[k])
      return 1;
  return 0;
}

static int
hdr_is(const char *p, size_t n, const char *name)
{
  return parse_ieq(p, n, name);     /* name is lower case */
}

/* Parses the response at fz_out[*pos..]; no_body for HEAD requests. */
static void
parse_response(size_t *pos, int no_body, struct response *r)
{
  const char *o = fz_out;
  size_t i = *pos, n = fz_nout, e, k;
  int have_date = 0, have_server = 0;
  memset(r, 0, sizeof *r);
  FUZZ_CHECK(n - i >= 17 && memcmp(o + i, "HTTP/1.1 ", 9) == 0, "status line HTTP/1.1");
  for (k = 9; k < 12; k++)
    FUZZ_CHECK(o[i + k] >= '0' && o[i + k] <= '9', "3-digit status");
  r->status = (o[i + 9] - '0') * 100 + (o[i + 10] - '0') * 10 + (o[i + 11] - '0');
  FUZZ_CHECK(o[i + 12] == ' ', "SP after the status");
  if (!known_status(r->status))
    fprintf(stderr, "status %d\n", r->status);
  FUZZ_CHECK(known_status(r->status), "a status the static server sends");
  {
    const char *reason = httpd_reason(r->status);
    size_t rn = strlen(reason);
    FUZZ_CHECK(n - i - 13 >= rn + 2 && memcmp(o + i + 13, reason, rn) == 0 &&
               o[i + 13 + rn] == '\r' && o[i + 14 + rn] == '\n', "reason phrase, CRLF");
    i += 15 + rn;
  }
  for (;;) {
    size_t c;
    for (e = i; e + 1 < n && !(o[e] == '\r' && o[e + 1] == '\n'); e++)
      FUZZ_CHECK(o[e] != '\r' && o[e] != '\n' && o[e] != '\0', "no bare CR, LF or NUL");
    FUZZ_CHECK(e + 1 < n, "the head ends");
    if (e == i)
      break;
    for (c = i; c < e && IS(CC_TCHAR, o[c]); c++)
      ;
    FUZZ_CHECK(c > i && c + 1 < e && o[c] == ':' && o[c + 1] == ' ', "\"Name: value\"");
    for (k = c + 2; k < e; k++)
      FUZZ_CHECK(IS(CC_VALUE, o[k]), "field value characters");
    FUZZ_CHECK(e > c + 2 && o[c + 2] != ' ' && o[e - 1] != ' ', "value not empty, trimmed");
#define VAL o + c + 2, e - c - 2
    if (hdr_is(o + i, c - i, "content-length")) {
      uint64_t v;
      FUZZ_CHECK(!r->has_cl && parse_length(VAL, &v) == 0, "one valid Content-Length");
      r->has_cl = 1;
      r->cl = v;
    } else if (hdr_is(o + i, c - i, "transfer-encoding")) {
      FUZZ_CHECK(!r->chunked && parse_ieq(VAL, "chunked"), "Transfer-Encoding: chunked");
      r->chunked = 1;
    } else if (hdr_is(o + i, c - i, "connection")) {
      FUZZ_CHECK(!r->close && !r->keep, "one Connection");
      r->close = parse_ieq(VAL, "close");
      r->keep = parse_ieq(VAL, "keep-alive");
      FUZZ_CHECK(r->close || r->keep, "Connection: close or keep-alive");
    } else if (hdr_is(o + i, c - i, "date")) {
      int64_t t;
      FUZZ_CHECK(!have_date && resp_parse_date(VAL, &t) == 0, "one IMF-fixdate Date");
      have_date = 1;
    } else if (hdr_is(o + i, c - i, "server")) {
      FUZZ_CHECK(!have_server && e - c - 2 == strlen(HTTPD_SERVER_NAME), "one Server");
      have_server = 1;
    } else if (hdr_is(o + i, c - i, "content-type")) {
      r->type = o + c + 2;
      r->ntype = e - c - 2;
    } else if (hdr_is(o + i, c - i, "location")) {
      r->location = o + c + 2;
      r->nlocation = e - c - 2;
    } else if (hdr_is(o + i, c - i, "content-range")) {
      r->range = o + c + 2;
      r->nrange = e - c - 2;
    } else if (hdr_is(o + i, c - i, "allow")) {
      r->allow = o + c + 2;
      r->nallow = e - c - 2;
    }
#undef VAL
    i = e + 2;
  }
  i += 2;
  FUZZ_CHECK(have_date && have_server, "Date and Server sent");
  FUZZ_CHECK(!(r->has_cl && r->chunked), "never Content-Length with chunked");
  if (r->status == 304 || r->status == 204) {
    FUZZ_CHECK(!r->has_cl && !r->chunked, "no framing fields on 204/304");
  } else if (no_body) {
    FUZZ_CHECK(!r->chunked, "HEAD: no chunked");
  } else if (r->chunked) {
    /* a simple chunked decoder: the server writes no extensions or trailers */
    FUZZ_CHECK(0, "the static server never streams");
  } else {
    FUZZ_CHECK(r->has_cl, "a body is framed by Content-Length");
    FUZZ_CHECK(r->cl <= n - i, "the whole body arrives");
    r->body = o + i;
    r->nbody = (size_t)r->cl;
    i += (size_t)r->cl;
  }
  *pos = i;
}

/* The fixed error body and the file bodies. */
static void
check_body(const struct response *r, int head)
{
  char want[64];
  size_t k;
  if (r->status == 200 || r->status == 206) {
    int found = 0;
    uint64_t first = 0, last = 0, size = 0;
    if (r->status == 206) {
      char rng[96];
      FUZZ_CHECK(r->range != NULL && r->nrange < sizeof rng, "206 has Content-Range");
      memcpy(rng, r->range, r->nrange);
      rng[r->nrange] = '\0';
      FUZZ_CHECK(sscanf(rng, "bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64, &first, &last,
                        &size) == 3 && first <= last && last < size,
                 "Content-Range bytes a-b/size");
      if (!head)
        FUZZ_CHECK(r->nbody == last - first + 1, "206 length matches the range");
      else
        FUZZ_CHECK(r->cl == last - first + 1, "206 length matches the range");
    }
    for (k = 0; k < NFIXTURE && !found; k++) {
      const struct fixture_file *f = &fixture[k];
      size_t fn;
      if (!f->servable)
        continue;
      fn = strlen(f->content);
      if (r->status == 200)
        found = head ? r->cl == fn : (r->nbody == fn && memcmp(r->body, f->content, fn) == 0);
      else
        found = size == fn && (head || memcmp(r->body, f->content + first, r->nbody) == 0);
    }
    FUZZ_CHECK(found, "a 200/206 body is (a range of) a servable fixture file");
    return;
  }
  if (r->status == 304)
    return;
  snprintf(want, sizeof want, "%d %s\n", r->status, httpd_reason(r->status));
  FUZZ_CHECK(r->has_cl && r->cl == strlen(want), "error body length");
  if (!head)
    FUZZ_CHECK(r->nbody == strlen(want) && memcmp(r->body, want, r->nbody) == 0,
               "error bodies are the fixed \"NNN Reason\\n\"");
  FUZZ_CHECK(r->type != NULL && r->ntype == 10 && memcmp(r->type, "text/plain", 10) == 0,
             "error bodies are text/plain");
#if defined(FUZZ_TOLERATE) && (FUZZ_TOLERATE & 4)
  if (r->status == 301 && r->location == NULL)
    ;                                  /* known finding F3 */
  else
#endif
  if (r->status == 301)
    FUZZ_CHECK(r->location != NULL && r->nlocation > 0 && r->location[0] == '/',
               "301 has a Location on this server");
  if (r->status == 405)
    FUZZ_CHECK(r->allow != NULL && r->nallow == 9 && memcmp(r->allow, "GET, HEAD", 9) == 0,
               "405 has Allow: GET, HEAD");
  if (r->status == 416)
    FUZZ_CHECK(r->range != NULL && r->nrange > 8 && memcmp(r->range, "bytes */", 8) == 0,
               "416 has Content-Range: bytes */size");
}

static int
parse_error_status(int s)
{
  return s == 400 || s == 414 || s == 431 || s == 501 || s == 505 || s == 417;
}

/* Property 2: walks the input as the pure parser frames it, and the output
** response by response. */
static void
check_connection(const char *in, size_t len, int64_t max_body)
{
  static struct httpd_request req;
  size_t pos = 0, opos = 0, si = 0;
  struct response r;
  for (;;) {
    int rc;
    const struct seen *s;
    if (pos == len)
      break;                           /* clean end of input: close */
    rc = httpd_parse_request(in + pos, len - pos, &req);
    if (rc == HTTPD_EINCOMPLETE)
      break;                           /* a partial head at EOF: just close */
    FUZZ_CHECK(opos < fz_nout, "a response for each framed request");
    if (rc < 0) {
      parse_response(&opos, 0, &r);
      {
        int st = r.status;
#if defined(FUZZ_TOLERATE) && (FUZZ_TOLERATE & 1)
        if (fz_rcap != 0 && (st == 414 || st == 431))
          st = httpd_status(rc);       /* known finding F1 */
#endif
        if (st != httpd_status(rc))
          fprintf(stderr, "parse error %d (%s): status %d\n", rc, httpd_strerror(rc),
                  r.status);
        FUZZ_CHECK(st == httpd_status(rc) && parse_error_status(st),
                   "a bad head is answered with its status");
      }
      FUZZ_CHECK(r.close, "a bad head closes the connection");
      check_body(&r, 0);
      break;
    }
    if (req.body == HTTPD_BODY_LENGTH && req.content_length > (uint64_t)max_body) {
      parse_response(&opos, req.method == HTTPD_HEAD, &r);
      FUZZ_CHECK(r.status == 413 && r.close, "413 and close for a body over the limit");
      check_body(&r, req.method == HTTPD_HEAD);
      break;
    }
    FUZZ_CHECK(si < fz_nseen, "the handler saw each framed request");
    s = &fz_seen[si++];
    FUZZ_CHECK(s->method == req.method && s->minor == req.minor &&
               s->ntarget == req.target.n && memcmp(s->target, req.target.p, s->ntarget) == 0,
               "the handler saw the same request the parser frames");
    FUZZ_CHECK(!s->failed, "no I/O failure on a healthy connection");
    parse_response(&opos, req.method == HTTPD_HEAD, &r);
    if (!s->began) {
      FUZZ_CHECK(r.status == (s->rc < 0 ? httpd_status(s->rc) : 500) && r.close,
                 "a handler error is answered with its status and a close");
      check_body(&r, req.method == HTTPD_HEAD);
      break;
    }
    FUZZ_CHECK(s->ended, "the static handler ends its responses");
    FUZZ_CHECK(r.status == s->status, "the status the handler sent");
    check_body(&r, req.method == HTTPD_HEAD);
    FUZZ_CHECK(s->keep_alive == (req.keep_alive && !req.expect_continue),
               "keep-alive unless the request says close or waits for 100-continue");
    FUZZ_CHECK(r.close == !s->keep_alive, "Connection: close exactly when closing");
    FUZZ_CHECK(r.keep == (s->keep_alive && req.minor == 0),
               "Connection: keep-alive exactly for HTTP/1.0 keep-alive");
    if (!s->keep_alive)
      break;
    pos += (size_t)rc;
    if (req.body == HTTPD_BODY_LENGTH) {
      if (len - pos < req.content_length)
        break;                         /* EOF inside the body */
      pos += (size_t)req.content_length;
    } else if (req.body == HTTPD_BODY_CHUNKED) {
      struct httpd_chunked ch;
      const char *d;
      size_t nd;
      long n;
      int ok = 1;
      httpd_chunked_init(&ch);
      while (!httpd_chunked_done(&ch)) {
        n = httpd_chunked_parse(&ch, in + pos, len - pos, &d, &nd);
        if (n < 0 || ch.total + ch.remaining > (uint64_t)max_body || (n == 0 && nd == 0)) {
          ok = 0;
          break;
        }
        pos += (size_t)n;
      }
      if (!ok)
        break;                         /* bad, too large or incomplete body: close */
    }
  }
  if (opos != fz_nout)
    fprintf(stderr, "%zu bytes after the last expected response:\n%.*s\n",
            fz_nout - opos, (int)(fz_nout - opos > 300 ? 300 : fz_nout - opos),
            fz_out + opos);
  FUZZ_CHECK(opos == fz_nout, "nothing after the last response");
  FUZZ_CHECK(si == fz_nseen, "the handler saw no request the parser does not frame");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  signal(SIGPIPE, SIG_IGN);
  fixture_create();
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const size_t rcaps[8] = { 0, 1, 2, 3, 5, 16, 100, 1000 };
  static const size_t wcaps[8] = { 0, 1, 2, 7, 13, 64, 200, 1500 };
  struct httpd_config cfg;
  pthread_t th;
  int sv[2];
  const char *in = (const char *)data + 1;
  size_t len;
  unsigned opt;

  if (size == 0 || size - 1 > CONN_MAX_INPUT)
    return 0;
  if (fz_root[0] == '\0')
    LLVMFuzzerInitialize(NULL, NULL);
  opt = data[0];
  len = size - 1;
  fz_rcap = rcaps[opt & 7];
  fz_wcap = wcaps[(opt >> 3) & 7];
  if (fz_rcap != 0 && fz_rcap < 16 && len > 512)
    return 0;                          /* keep byte-by-byte runs quick */
  memset(&cfg, 0, sizeof cfg);
  cfg.handler = fz_handler;
  cfg.handler_arg = &fz_docroot;
  cfg.log_format = HTTPD_LOG_NONE;
  cfg.max_requests = -1;               /* the model knows no request budget */
  cfg.lifetime = -1;
  cfg.min_rate = -1;
  cfg.idle_timeout = 1;
  cfg.head_timeout = 1;
  cfg.max_body = opt & 64 ? 0 : 4096;
  cfg.max_children = 1;
  cfg.grace = 1;
  fz_nseen = 0;
  fz_nout = 0;
  fz_drain_err = 0;

  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
  {
    size_t off = 0;
    while (off < len) {             /* the socket buffer holds 4 KiB at once */
      ssize_t w = write(sv[0], in + off, len - off);
      FUZZ_CHECK(w > 0, "write the request bytes");
      off += (size_t)w;
    }
  }
  shutdown(sv[0], SHUT_WR);
  /* Drain the responses.  Where a send buffer larger than any output can be
  ** forced (root), the server never blocks and the client reads afterwards:
  ** no thread, no wake-up per write, several times faster.  Else a thread
  ** reads while the server writes.  The output is the same either way. */
  {
    int big = 256 << 20;
    int threaded = setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) != 0;
    if (threaded)
      FUZZ_CHECK(pthread_create(&th, NULL, drain, &sv[0]) == 0, "pthread_create");
    {
      struct conn_peer peer;
      memset(&peer, 0, sizeof peer);
      memcpy(peer.addr, "fuzz", 5);
      peer.t0 = io_now_ms();
      conn_serve(sv[1], &cfg, &peer);  /* closes sv[1] */
    }
    if (threaded)
      pthread_join(th, NULL);
    else
      drain(&sv[0]);
  }
  close(sv[0]);

  if (getenv("FUZZ_DUMP") != NULL)     /* triage: show what the client got */
    fwrite(fz_out, 1, fz_nout, stderr);
  FUZZ_CHECK(memmem(fz_out, fz_nout, "<SECRET>", 8) == NULL,
             "no dotfile and nothing outside the root is ever served");
  /* On TCP, closing with unread input sends a reset that can destroy the
  ** response in flight (RFC 9112 9.6): the server must linger.  A unix
  ** socket reports it as ECONNRESET after the data. */
#if defined(FUZZ_TOLERATE) && (FUZZ_TOLERATE & 2)
  if (fz_drain_err == ECONNRESET)
    fz_drain_err = 0;                  /* known finding F2 */
#endif
  if (fz_drain_err != 0)
    fprintf(stderr, "client recv: %s\n", strerror(fz_drain_err));
  FUZZ_CHECK(fz_drain_err == 0, "the server never closes with input unread (no reset)");
  check_connection(in, len, cfg.max_body);
  return 0;
}
