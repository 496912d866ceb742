/*
** fuzz/cgirelay.c -- harness for the CGI relay (httpd.c section 8, cgi_relay)
** inside a whole connection (conn_serve over a socketpair), against an
** in-process fake script: a thread that writes the fuzzed output to the
** relay's stdout pipe in fuzzed pieces with fuzzed pauses.  No fork, no exec.
**
** Input: one option byte, then what the script prints (at most 65536 bytes).
**   bits 0-1   the request: GET HTTP/1.1, HEAD HTTP/1.1, GET HTTP/1.0, GET
**              HTTP/1.1 with Connection: close; a second request follows it
**              on the connection (pipelined): GET /second
**   bits 2-4   the script's write size: 1, 2, 7, 64, 512, 4096, all, varying
**   bits 5-6   its pauses: none, sched_yield, 20 us, 200 us every 8 writes
**   bit 7      it also writes to stderr (64 KiB)
** Properties (abort() when violated):
**   1. the client receives well-framed HTTP/1.1 responses and nothing else;
**   2. when httpd_cgi_parse refuses the whole output (or it ends inside the
**      header block), the answer is 502 with the fixed body and a close, and
**      no byte the script printed reaches the client;
**   3. else the status and every field passed on are the parser's; a local
**      redirect reaches the harness's handler as a GET of that path; the body
**      is the script's body: chunked in HTTP/1.1 and close-delimited in 1.0
**      without Content-Length, exactly Content-Length bytes when it matches,
**      a prefix of them and then a close when it does not; HEAD, 204 and 304
**      have none;
**   4. the second request is answered after a response that keeps the
**      connection, and never after one that closes it: script output can
**      never end up framed as another response.
*/
#define _GNU_SOURCE 1
#define HTTPD_NO_MAIN 1
#define HTTPD_CGI_STDERR_MAX 0         /* stderr drained, none passed on: a clean log */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include "../httpd.c"
#include "fuzz.h"

#define RELAY_MAX_INPUT 65536
#define RELAY_MAX_OUTPUT (1 << 20)

static const uint8_t *fz_script;
static size_t fz_nscript;
static unsigned fz_opt;
static int fz_out_w, fz_err_w;

static void *
script(void *arg)
{
  static const size_t sizes[8] = { 1, 2, 7, 64, 512, 4096, RELAY_MAX_INPUT, 0 };
  size_t off = 0, want = sizes[(fz_opt >> 2) & 7];
  unsigned pause = (fz_opt >> 5) & 3, k = 0;
  uint32_t seed = (uint32_t)fz_nscript | 1;
  (void)arg;
  (void)io_flags(fz_out_w, 0);         /* the fake script blocks as a real one */
  while (off < fz_nscript) {
    size_t n = want != 0 ? want : 1 + fuzz_rand(&seed) % 300;
    ssize_t w;
    if (n > fz_nscript - off)
      n = fz_nscript - off;
    w = write(fz_out_w, fz_script + off, n);
    if (w <= 0)
      break;                           /* the relay went away (EPIPE) */
    off += (size_t)w;
    if (pause == 1) {
      sched_yield();
    } else if (pause >= 2 && (pause == 2 || ++k % 8 == 0)) {
      struct timespec ts = { 0, pause == 2 ? 20000 : 200000 };
      nanosleep(&ts, NULL);
    }
  }
  close(fz_out_w);
  return NULL;
}

static void *
stderr_flood(void *arg)
{
  static char junk[4096];
  int i;
  (void)arg;
  memset(junk, 'e', sizeof junk);
  (void)io_flags(fz_err_w, 0);
  for (i = 0; i < 16; i++)
    if (write(fz_err_w, junk, sizeof junk) <= 0)
      break;
  close(fz_err_w);
  return NULL;
}

static int fz_redirected;
static char fz_location[HTTPD_MAX_CGI_HEAD];

/* The connection's handler: /second answers itself; the first request runs
** the relay on the fake script; a local redirect is answered here. */
static int
handler(struct httpd_conn *c, const struct httpd_request *req, void *arg)
{
  struct httpd_cgi_response *r;
  struct cgi_proc p;
  pthread_t th, te;
  int out[2], err[2], rc;
  char *hbuf;
  (void)arg;
  if (req->path.n == 7 && memcmp(req->path.p, "/second", 7) == 0)
    return httpd_respond(c, 200, "text/plain", "second\n", 7);
  FUZZ_CHECK(cgi_pipe(out, 0) == 0 && cgi_pipe(err, 0) == 0, "pipes");
  fz_out_w = out[1];
  fz_err_w = err[1];
  FUZZ_CHECK(pthread_create(&th, NULL, script, NULL) == 0, "script thread");
  if (fz_opt & 128)
    FUZZ_CHECK(pthread_create(&te, NULL, stderr_flood, NULL) == 0, "stderr thread");
  else
    close(err[1]);
  p.pid = -1;
  p.in = -1;
  p.out = out[0];
  p.err = err[0];
  p.wake = -1;
  p.exited = 0;
  r = malloc(sizeof *r + HTTPD_MAX_CGI_HEAD);
  FUZZ_CHECK(r != NULL, "malloc");
  hbuf = (char *)(r + 1);
  rc = cgi_relay(c, &p, 5, r, hbuf);
  if (rc == 1) {
    fz_redirected = 1;
    memcpy(fz_location, r->location.p, r->location.n);
    fz_location[r->location.n] = '\0';
    rc = httpd_respond(c, 200, "text/plain", "redirected\n", 11);
  }
  cgi_end(&p);                         /* closes our ends: the threads see EPIPE */
  pthread_join(th, NULL);
  if (fz_opt & 128)
    pthread_join(te, NULL);
  free(r);
  return rc;
}

static char fz_cout[RELAY_MAX_OUTPUT];
static size_t fz_ncout;

static void *
client(void *arg)
{
  int fd = *(int *)arg;
  for (;;) {
    ssize_t n = recv(fd, fz_cout + fz_ncout, sizeof fz_cout - fz_ncout, 0);
    if (n <= 0)
      break;
    fz_ncout += (size_t)n;
    FUZZ_CHECK(fz_ncout < sizeof fz_cout, "output bounded");
  }
  return NULL;
}

/* A parsed response of the client's stream. */
struct resp {
  int status, chunked, close, has_cl;
  uint64_t cl;
  const char *body;
  size_t nbody, end;
  const char *fields;                  /* the raw field lines */
  size_t nfields;
};

/* Parses the response at fz_cout[pos..]: 1, or 0 at the end of the stream. */
static int
parse_resp(size_t pos, int no_body, struct resp *r, char *dec, size_t cap)
{
  const char *o = fz_cout;
  size_t n = fz_ncout, i = pos, e;
  memset(r, 0, sizeof *r);
  if (pos == n)
    return 0;
  FUZZ_CHECK(n - i >= 13 && memcmp(o + i, "HTTP/1.1 ", 9) == 0, "status line");
  r->status = (o[i + 9] - '0') * 100 + (o[i + 10] - '0') * 10 + (o[i + 11] - '0');
  for (e = i; e + 1 < n && !(o[e] == '\r' && o[e + 1] == '\n'); e++)
    FUZZ_CHECK(o[e] != '\r' && o[e] != '\n' && o[e] != '\0', "no bare CR, LF or NUL");
  i = e + 2;
  r->fields = o + i;
  for (;;) {
    size_t c;
    for (e = i; e + 1 < n && !(o[e] == '\r' && o[e + 1] == '\n'); e++)
      FUZZ_CHECK(o[e] != '\r' && o[e] != '\n' && o[e] != '\0', "no bare CR, LF or NUL");
    FUZZ_CHECK(e + 1 < n, "the head ends");
    if (e == i)
      break;
    for (c = i; c < e && IS(CC_TCHAR, o[c]); c++)
      ;
    FUZZ_CHECK(c > i && c + 1 < e && o[c] == ':' && o[c + 1] == ' ', "Name: value");
    if (parse_ieq(o + i, c - i, "content-length")) {
      FUZZ_CHECK(!r->has_cl && parse_length(o + c + 2, e - c - 2, &r->cl) == 0,
                 "one valid Content-Length");
      r->has_cl = 1;
    } else if (parse_ieq(o + i, c - i, "transfer-encoding")) {
      FUZZ_CHECK(parse_ieq(o + c + 2, e - c - 2, "chunked"), "chunked");
      r->chunked = 1;
    } else if (parse_ieq(o + i, c - i, "connection")) {
      r->close = parse_ieq(o + c + 2, e - c - 2, "close");
    }
    i = e + 2;
  }
  r->nfields = (size_t)(o + i - r->fields);
  i += 2;
  FUZZ_CHECK(!(r->has_cl && r->chunked), "never both framings");
  r->body = dec;
  if (no_body || r->status == 204 || r->status == 304) {
    r->end = i;
  } else if (r->chunked) {
    struct httpd_chunked ch;
    httpd_chunked_init(&ch);
    while (!httpd_chunked_done(&ch)) {
      const char *d;
      size_t nd;
      long k = httpd_chunked_parse(&ch, o + i, n - i, &d, &nd);
      if (k <= 0 && nd == 0) {
        FUZZ_CHECK(r->close || k >= 0, "a chunked body ends well, or the connection breaks");
        r->close = 1;                  /* cut mid-body: the connection broke */
        break;
      }
      FUZZ_CHECK(r->nbody + nd <= cap, "body bounded");
      if (nd > 0)
        memcpy(dec + r->nbody, d, nd);
      r->nbody += nd;
      i += (size_t)k;
    }
    r->end = i;
  } else if (r->has_cl) {
    size_t take = (size_t)(r->cl < n - i ? r->cl : n - i);
    memcpy(dec, o + i, take);
    r->nbody = take;
    r->end = i + take;
    if (take < r->cl)
      r->close = 1;                    /* short: the connection broke */
  } else {
    FUZZ_CHECK(r->close, "a body without framing is close-delimited");
    memcpy(dec, o + i, n - i);
    r->nbody = n - i;
    r->end = n;
  }
  return 1;
}

/* 1 if the field "name: value" is among the response's fields. */
static int
has_field(const struct resp *r, const struct httpd_header *h)
{
  const char *p = r->fields, *end = r->fields + r->nfields;
  while (p < end) {
    const char *e = memchr(p, '\r', (size_t)(end - p));
    if (e == NULL)
      break;
    if ((size_t)(e - p) == h->name.n + 2 + h->value.n &&
        memcmp(p, h->name.p, h->name.n) == 0 && p[h->name.n] == ':' &&
        memcmp(p + h->name.n + 2, h->value.p, h->value.n) == 0)
      return 1;
    p = e + 2;
  }
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const reqs[4] = {
    "GET /cgi HTTP/1.1\r\nHost: h\r\n\r\n", "HEAD /cgi HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /cgi HTTP/1.0\r\n\r\n", "GET /cgi HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
  };
  static char dec[RELAY_MAX_OUTPUT];
  static struct httpd_cgi_response ref;
  struct httpd_config cfg;
  struct conn_peer peer;
  struct resp r;
  pthread_t th;
  int sv[2], want_rc, head, ka;
  const char *req;
  size_t pos;

  if (size == 0 || size - 1 > RELAY_MAX_INPUT)
    return 0;
  signal(SIGPIPE, SIG_IGN);
  fz_opt = data[0];
  fz_script = data + 1;
  fz_nscript = size - 1;
  fz_redirected = 0;
  fz_ncout = 0;
  req = reqs[fz_opt & 3];
  head = (fz_opt & 3) == 1;
  memset(&cfg, 0, sizeof cfg);
  cfg.handler = handler;
  srv_defaults(&cfg);
  cfg.idle_timeout = 2;
  cfg.head_timeout = 2;
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
  FUZZ_CHECK(write(sv[0], req, strlen(req)) == (ssize_t)strlen(req) &&
             write(sv[0], "GET /second HTTP/1.1\r\nHost: h\r\n\r\n", 34) == 34, "requests");
  shutdown(sv[0], SHUT_WR);
  FUZZ_CHECK(pthread_create(&th, NULL, client, &sv[0]) == 0, "client thread");
  memset(&peer, 0, sizeof peer);
  memcpy(peer.addr, "fuzz", 5);
  peer.t0 = io_now_ms();
  conn_serve(sv[1], &cfg, &peer);      /* closes sv[1] */
  pthread_join(th, NULL);
  close(sv[0]);
  if (getenv("FUZZ_DUMP") != NULL)     /* triage: what the client got */
    fwrite(fz_cout, 1, fz_ncout, stderr);

  want_rc = httpd_cgi_parse((const char *)fz_script, fz_nscript, &ref);
  FUZZ_CHECK(parse_resp(0, head, &r, dec, sizeof dec) == 1, "a response");
  if (want_rc < 0) {
    FUZZ_CHECK(r.status == 502 && r.close && r.nbody == 16 &&
               memcmp(r.body, "502 Bad Gateway\n", 16) == 0 || (head && r.status == 502),
               "a refused header block is 502, fixed body, close");
    FUZZ_CHECK(r.end == fz_ncout, "nothing after the 502");
    return 0;
  }
  if (ref.redirect == 1) {
    FUZZ_CHECK(fz_redirected && strlen(fz_location) == ref.location.n &&
               memcmp(fz_location, ref.location.p, ref.location.n) == 0 && r.status == 200,
               "a local redirect goes to the handler");
  } else {
    size_t k, rest = fz_nscript - (size_t)want_rc;
    const char *body = (const char *)fz_script + want_rc;
    FUZZ_CHECK(!fz_redirected, "no redirect");
    FUZZ_CHECK(r.status == ref.status, "the script's status");
    for (k = 0; k < ref.nheaders; k++)
      FUZZ_CHECK(has_field(&r, &ref.headers[k]), "every field passed on");
    if (!head && ref.status != 204 && ref.status != 304) {
      if (ref.content_length >= 0) {
        FUZZ_CHECK(r.has_cl && r.cl == (uint64_t)ref.content_length, "its Content-Length");
        FUZZ_CHECK(r.nbody <= rest && memcmp(r.body, body, r.nbody) == 0,
                   "a Content-Length body is the script's bytes");
        if (rest == (size_t)ref.content_length)
          FUZZ_CHECK(r.nbody == rest, "all of them when they match");
        else
          FUZZ_CHECK(r.close || fz_ncout == r.end, "a mismatch closes");
      } else {
        FUZZ_CHECK(r.nbody == rest && memcmp(r.body, body, rest) == 0,
                   "a streamed body is exactly the script's bytes");
        FUZZ_CHECK((fz_opt & 3) == 2 ? !r.chunked && r.close : r.chunked,
                   "chunked in HTTP/1.1, close-delimited in 1.0");
      }
    }
  }
  ka = !r.close && (fz_opt & 3) != 2 && (fz_opt & 3) != 3 &&
       !(want_rc > 0 && ref.redirect != 1 && ref.content_length >= 0 && !head &&
         ref.status != 204 && ref.status != 304 &&
         fz_nscript - (size_t)want_rc != (size_t)ref.content_length);
  pos = r.end;
  if (ka) {
    FUZZ_CHECK(parse_resp(pos, 0, &r, dec, sizeof dec) == 1 && r.status == 200 &&
               r.nbody == 7 && memcmp(r.body, "second\n", 7) == 0,
               "the second request is answered after a kept connection");
    pos = r.end;
  }
  FUZZ_CHECK(pos == fz_ncout, "nothing more: script output never framed as a response");
  return 0;
}
