/*
** fuzz/request.c -- harness for httpd_parse_request (the request head parser).
**
** Input: the raw bytes of a request head (no option byte).
** Properties, each an abort() when violated:
**   1. the result is a head length in (0, len] or one of the head parser's
**      error codes; head_len agrees; the input is never written;
**   2. every view lies inside the input, and the accepted head has exactly the
**      shape [CRLF]* method SP target SP HTTP/1.x CRLF *(name ":" OWS value
**      OWS CRLF) CRLF, with the views where that shape puts them: names are
**      tokens, values hold no CR/LF/NUL/CTL and no outer whitespace;
**   3. the framing fields (body, content_length, keep_alive, expect_continue,
**      host) equal what a slow reference computes from the header views;
**   4. split property: parsing any prefix gives HTTPD_EINCOMPLETE, or the same
**      result when the prefix holds the whole head, or the same error as the
**      whole input (never a different one);
**   5. round trip: the parsed request serialized canonically ("Name:value", and
**      "NAME: value" with the case of names flipped) parses again to the same
**      method, target, version, headers and framing;
**   6. httpd_find_header finds the first field of a name, in any case;
**   7. the rejection site (req->site, the number after "LOG:" in httpd.c): an
**      error carries one in 100-199, a success carries 0 (HTTPD_EINCOMPLETE is
**      neither), and a prefix that gives the same error as the whole input
**      gives the same site (property 4 covers the site too).
** Built with the small limits of `make test` (fuzz.mk), so the 414/431 paths
** are reached by short inputs.
*/
#define HTTPD_PURE_ONLY 1
#include "../httpd.c"
#include "fuzz.h"

static const int req_errors[] = {
  HTTPD_EBADLINE, HTTPD_EBADHEADER, HTTPD_EBADHOST, HTTPD_EBADLENGTH,
  HTTPD_EBADCODING, HTTPD_EBADVERSION, HTTPD_EURILONG, HTTPD_EHEADLARGE,
  HTTPD_EMETHOD, HTTPD_ECODING, HTTPD_EVERSION, HTTPD_EEXPECT
};

static int
req_is_error(int rc)
{
  size_t k;
  for (k = 0; k < sizeof req_errors / sizeof req_errors[0]; k++)
    if (rc == req_errors[k])
      return 1;
  return 0;
}

/* What the parser must not leave in req->site: it is set on every call. */
#define SITE_POISON (-4242)

/* Property 7 for one answer rc with site. */
static void
check_site(int rc, int site)
{
  if (rc > 0) {
    if (site != 0)
      fprintf(stderr, "success (%d) with site %d\n", rc, site);
    FUZZ_CHECK(site == 0, "a success carries site 0");
  } else if (rc != HTTPD_EINCOMPLETE) {
    if (site < 100 || site > 199)
      fprintf(stderr, "%d (%s) with site %d\n", rc, httpd_strerror(rc), site);
    FUZZ_CHECK(site >= 100 && site <= 199, "a head error carries a site in 100-199");
  }
}

/* Slow, obvious helpers (deliberately not the parser's own). */
static int
ref_lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
ref_ieq(const char *p, size_t n, const char *s)
{
  size_t i;
  if (strlen(s) != n)
    return 0;
  for (i = 0; i < n; i++)
    if (ref_lower((unsigned char)p[i]) != ref_lower((unsigned char)s[i]))
      return 0;
  return 1;
}

static int
ref_tchar(int c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
ref_ows(int c)
{
  return c == ' ' || c == '\t';
}

/* Is p[0..n) exactly the token s (case-insensitive) after trimming OWS? */
static int
ref_list_has(const char *p, size_t n, const char *s)
{
  size_t i = 0;
  while (i <= n) {
    size_t a = i, b;
    while (i < n && p[i] != ',')
      i++;
    b = i;
    while (a < b && ref_ows((unsigned char)p[a]))
      a++;
    while (b > a && ref_ows((unsigned char)p[b - 1]))
      b--;
    if (ref_ieq(p + a, b - a, s))
      return 1;
    i++;
  }
  return 0;
}

static int
ref_hex(int c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Parses 1*DIGIT below 2^63 the slow way (leading zeros allowed); -1 if not. */
static int
ref_number(const char *p, size_t n, uint64_t *out)
{
  uint64_t v = 0;
  size_t i = 0, digits;
  if (n == 0)
    return -1;
  for (i = 0; i < n; i++)
    if (p[i] < '0' || p[i] > '9')
      return -1;
  for (i = 0; i < n && p[i] == '0'; i++)
    ;
  digits = n - i;
  if (digits > 19)
    return -1;
  for (; i < n; i++)
    v = v * 10 + (uint64_t)(p[i] - '0');   /* 19 digits fit in 64 bits */
  if (v >= UINT64_C(0x8000000000000000))
    return -1;
  *out = v;
  return 0;
}

static int
view_eq(struct httpd_str a, struct httpd_str b)
{
  if ((a.p == NULL) != (b.p == NULL) || a.n != b.n)
    return 0;
  return a.n == 0 || memcmp(a.p, b.p, a.n) == 0;
}

/* Properties 1-3 and 6 of an accepted request head. */
static void
check_accepted(const char *buf, size_t len, int rc, const struct httpd_request *r)
{
  size_t s = 0, i, pos, k, ncl = 0, nte = 0, nhost = 0, tstart, tend;
  uint64_t cl = 0, v;
  int conn_close = 0, conn_keep = 0, expect = 0;
  const struct httpd_header *host = NULL;

  FUZZ_CHECK((size_t)rc <= len, "head length within the input");
  FUZZ_CHECK(r->head_len == (size_t)rc, "head_len equals the return value");
  FUZZ_CHECK((size_t)rc <= HTTPD_MAX_HEAD, "head within HTTPD_MAX_HEAD");
  FUZZ_CHECK(r->nheaders <= HTTPD_MAX_HEADERS, "nheaders within HTTPD_MAX_HEADERS");
  while (s + 1 < len && buf[s] == '\r' && buf[s + 1] == '\n')
    s += 2;
  /* request line */
  FUZZ_CHECK(r->method_str.p == buf + s, "method starts the request line");
  FUZZ_CHECK(r->method_str.n > 0, "method not empty");
  for (i = 0; i < r->method_str.n; i++)
    FUZZ_CHECK(ref_tchar((unsigned char)r->method_str.p[i]), "method is a token");
  {
    static const char *const names[] = { "", "GET", "HEAD", "POST", "PUT", "DELETE",
                                         "OPTIONS", "TRACE", "PATCH" };
    FUZZ_CHECK(r->method >= HTTPD_GET && r->method <= HTTPD_PATCH, "method enum");
    FUZZ_CHECK(strlen(names[r->method]) == r->method_str.n &&
               memcmp(names[r->method], r->method_str.p, r->method_str.n) == 0,
               "method enum names method_str (case-sensitive)");
  }
  tstart = s + r->method_str.n + 1;
  FUZZ_CHECK(buf[tstart - 1] == ' ', "one SP after the method");
  FUZZ_CHECK(r->target.p == buf + tstart && r->target.n > 0, "target view");
  tend = tstart + r->target.n;
  FUZZ_CHECK(tend + 10 <= (size_t)rc, "version fits in the head");
  FUZZ_CHECK(memcmp(buf + tend, " HTTP/1.", 8) == 0 && buf[tend + 8] >= '0' &&
             buf[tend + 8] <= '9' && r->minor == (buf[tend + 8] != '0') &&
             buf[tend + 9] == '\r' && buf[tend + 10] == '\n',
             "version HTTP/1.x then CRLF (1.0 is minor 0, any higher 1.x minor 1)");
  FUZZ_CHECK(tend + 9 - s <= HTTPD_MAX_LINE, "request line within HTTPD_MAX_LINE");
  for (i = 0; i < r->target.n; i++) {
    unsigned char c = (unsigned char)r->target.p[i];
    FUZZ_CHECK(c > 0x20 && c < 0x7f && strchr("\"<>\\^`{|}#", c) == NULL,
               "target holds only RFC 3986 characters");
    if (c == '%')
      FUZZ_CHECK(i + 2 < r->target.n && ref_hex((unsigned char)r->target.p[i + 1]) &&
                 ref_hex((unsigned char)r->target.p[i + 2]), "target %-escapes are %HH");
  }
  /* path, query, host */
  FUZZ_CHECK(fuzz_inside(r->path.p, r->path.n, r->target.p, r->target.n), "path in target");
  if (r->query.p != NULL) {
    FUZZ_CHECK(fuzz_inside(r->query.p, r->query.n, r->target.p, r->target.n),
               "query in target");
    FUZZ_CHECK(r->query.p == r->path.p + r->path.n + 1 && r->query.p[-1] == '?' &&
               r->query.p + r->query.n == r->target.p + r->target.n,
               "query is what follows the first '?'");
  } else {
    FUZZ_CHECK(r->path.p + r->path.n == r->target.p + r->target.n, "path ends the target");
  }
  FUZZ_CHECK(memchr(r->path.p, '?', r->path.n) == NULL, "no '?' in path");
  if (r->target.p[0] == '/') {
    FUZZ_CHECK(r->path.p == r->target.p, "origin-form: the path starts the target");
  } else if (r->target.n == 1 && r->target.p[0] == '*') {
    FUZZ_CHECK(r->method == HTTPD_OPTIONS, "'*' only with OPTIONS");
  } else {
    FUZZ_CHECK(ref_ieq(r->target.p, 7, "http://") || ref_ieq(r->target.p, 8, "https://"),
               "absolute-form is http or https");
    FUZZ_CHECK(r->host.p != NULL &&
               fuzz_inside(r->host.p, r->host.n, r->target.p, r->target.n) &&
               r->host.p + r->host.n == r->path.p && r->host.n > 0,
               "absolute-form: host is the authority");
    FUZZ_CHECK(memchr(r->host.p, '@', r->host.n) == NULL, "no userinfo in authority");
  }
  /* header section: walk it line by line */
  pos = tend + 11;
  for (k = 0; k < r->nheaders; k++) {
    const struct httpd_header *h = &r->headers[k];
    size_t eol;
    FUZZ_CHECK(h->name.p == buf + pos, "field name starts its line");
    FUZZ_CHECK(h->name.n > 0, "field name not empty");
    for (i = 0; i < h->name.n; i++)
      FUZZ_CHECK(ref_tchar((unsigned char)h->name.p[i]), "field name is a token");
    FUZZ_CHECK(buf[pos + h->name.n] == ':', "':' right after the name");
    for (eol = pos; eol < (size_t)rc && buf[eol] != '\r' && buf[eol] != '\n'; eol++)
      ;
    FUZZ_CHECK(eol + 1 < (size_t)rc && buf[eol] == '\r' && buf[eol + 1] == '\n',
               "field line ends in CRLF inside the head");
    FUZZ_CHECK(fuzz_inside(h->value.p, h->value.n, buf + pos + h->name.n + 1,
                           eol - pos - h->name.n - 1), "value inside its line");
    for (i = pos + h->name.n + 1; i < (size_t)(h->value.p - buf); i++)
      FUZZ_CHECK(ref_ows((unsigned char)buf[i]), "only OWS before the value");
    for (i = (size_t)(h->value.p - buf) + h->value.n; i < eol; i++)
      FUZZ_CHECK(ref_ows((unsigned char)buf[i]), "only OWS after the value");
    for (i = 0; i < h->value.n; i++) {
      unsigned char c = (unsigned char)h->value.p[i];
      FUZZ_CHECK(c == '\t' || (c >= 0x20 && c != 0x7f), "value holds no CTL, CR, LF, NUL");
    }
    if (h->value.n > 0)
      FUZZ_CHECK(!ref_ows((unsigned char)h->value.p[0]) &&
                 !ref_ows((unsigned char)h->value.p[h->value.n - 1]),
                 "value trimmed of OWS");
    /* reference semantics */
    if (ref_ieq(h->name.p, h->name.n, "host")) {
      nhost++;
      host = h;
    } else if (ref_ieq(h->name.p, h->name.n, "content-length")) {
      FUZZ_CHECK(ref_number(h->value.p, h->value.n, &v) == 0,
                 "accepted Content-Length is 1*DIGIT below 2^63");
      FUZZ_CHECK(ncl == 0 || v == cl, "repeated Content-Length has one value");
      cl = v;
      ncl++;
    } else if (ref_ieq(h->name.p, h->name.n, "transfer-encoding")) {
      nte++;
      FUZZ_CHECK(ref_list_has(h->value.p, h->value.n, "chunked") &&
                 ref_ieq(h->value.p, h->value.n, "chunked"),
                 "accepted Transfer-Encoding is exactly \"chunked\"");
    } else if (ref_ieq(h->name.p, h->name.n, "connection")) {
      conn_close |= ref_list_has(h->value.p, h->value.n, "close");
      conn_keep |= ref_list_has(h->value.p, h->value.n, "keep-alive");
    } else if (ref_ieq(h->name.p, h->name.n, "expect") && r->minor == 1) {
      FUZZ_CHECK(ref_ieq(h->value.p, h->value.n, "100-continue"),
                 "accepted Expect is 100-continue");
      expect = 1;
    }
    /* property 6 */
    {
      char name[HTTPD_MAX_HEAD + 1];
      const struct httpd_header *f;
      size_t j;
      for (i = 0; i < h->name.n; i++)
        name[i] = (char)(i % 2 ? ref_lower((unsigned char)h->name.p[i]) :
                         (h->name.p[i] >= 'a' && h->name.p[i] <= 'z' ? h->name.p[i] - 32 : h->name.p[i]));
      name[h->name.n] = '\0';
      f = httpd_find_header(r, name);
      for (j = 0; j < k; j++)
        if (ref_ieq(r->headers[j].name.p, r->headers[j].name.n, name))
          break;
      FUZZ_CHECK(f == &r->headers[j], "httpd_find_header finds the first match");
    }
    pos = eol + 2;
  }
  FUZZ_CHECK(pos + 2 == (size_t)rc && buf[pos] == '\r' && buf[pos + 1] == '\n',
             "an empty line ends the head right after the last field");
  /* property 3: framing as the reference sees it */
  FUZZ_CHECK(nhost <= 1 && (r->minor == 0 || nhost == 1), "one Host (HTTP/1.1)");
  if (r->target.p[0] != '/' && !(r->target.n == 1 && r->target.p[0] == '*'))
    ;                                  /* absolute-form: checked above */
  else if (host != NULL)
    FUZZ_CHECK(view_eq(r->host, host->value) && r->host.p == host->value.p,
               "host is the Host field");
  else
    FUZZ_CHECK(r->host.p == NULL, "no host without a Host field");
  FUZZ_CHECK(!(ncl > 0 && nte > 0), "never both Content-Length and Transfer-Encoding");
  FUZZ_CHECK(nte <= 1, "one Transfer-Encoding field at most");
  FUZZ_CHECK(nte == 0 || r->minor == 1, "no Transfer-Encoding in HTTP/1.0");
  if (nte > 0) {
    FUZZ_CHECK(r->body == HTTPD_BODY_CHUNKED, "TE: chunked means a chunked body");
  } else if (ncl > 0 && cl > 0) {
    FUZZ_CHECK(r->body == HTTPD_BODY_LENGTH && r->content_length == cl,
               "Content-Length frames the body");
  } else {
    FUZZ_CHECK(r->body == HTTPD_BODY_NONE, "no framing field: no body");
  }
  FUZZ_CHECK(r->keep_alive == (!conn_close && (r->minor == 1 || conn_keep)),
             "keep_alive from version and Connection");
  FUZZ_CHECK(r->expect_continue == (expect && r->body != HTTPD_BODY_NONE),
             "expect_continue only with a body in HTTP/1.1");
}

/* Two parses of (possibly different) buffers gave the same request, with
** views at the same offsets: a and b are the buffers. */
static void
check_same_offsets(const char *a, const struct httpd_request *ra, const char *b,
                   const struct httpd_request *rb)
{
  size_t k;
#define SAMEV(f) \
  FUZZ_CHECK((ra->f.p == NULL) == (rb->f.p == NULL) && ra->f.n == rb->f.n && \
             (ra->f.p == NULL || ra->f.p - a == rb->f.p - b), "same view " #f)
  SAMEV(method_str);
  SAMEV(target);
  SAMEV(path);
  SAMEV(query);
  SAMEV(host);
#undef SAMEV
  FUZZ_CHECK(ra->method == rb->method && ra->minor == rb->minor && ra->body == rb->body &&
             ra->content_length == rb->content_length && ra->keep_alive == rb->keep_alive &&
             ra->expect_continue == rb->expect_continue && ra->head_len == rb->head_len &&
             ra->nheaders == rb->nheaders, "same request fields");
  for (k = 0; k < ra->nheaders; k++)
    FUZZ_CHECK(ra->headers[k].name.p - a == rb->headers[k].name.p - b &&
               ra->headers[k].name.n == rb->headers[k].name.n &&
               ra->headers[k].value.p - a == rb->headers[k].value.p - b &&
               ra->headers[k].value.n == rb->headers[k].value.n, "same header views");
}

/* Property 4 at split point k. */
static void
check_prefix(const char *buf, size_t len, int rc, const struct httpd_request *r, size_t k)
{
  static struct httpd_request rp;
  char *p = fuzz_dup(buf, k);
  int rk, rk0;
  rp.site = SITE_POISON;
  rk = rk0 = httpd_parse_request(p, k, &rp);
  check_site(rk, rp.site);
  (void)len;
  if (rc > 0 && k >= (size_t)rc) {
    FUZZ_CHECK(rk == rc, "a prefix holding the whole head parses the same");
    check_same_offsets(buf, r, p, &rp);
  } else if (rc > 0 || rc == HTTPD_EINCOMPLETE) {
    FUZZ_CHECK(rk == HTTPD_EINCOMPLETE, "a prefix of a valid head is incomplete");
  } else {
#if defined(FUZZ_TOLERATE) && (FUZZ_TOLERATE & 1)
    /* known finding F1 (fuzz/README.md): a limit error on a prefix, a syntax
    ** error on the whole input once the bad byte arrives */
    if ((rk == HTTPD_EURILONG || rk == HTTPD_EHEADLARGE) && rk != rc)
      rk = rc;
#endif
    if (rk != HTTPD_EINCOMPLETE && rk != rc)
      fprintf(stderr, "prefix of %zu bytes: %d (%s); whole input of %zu: %d (%s)\n", k,
              rk, httpd_strerror(rk), len, rc, httpd_strerror(rc));
    FUZZ_CHECK(rk == HTTPD_EINCOMPLETE || rk == rc,
               "a prefix of a bad head is incomplete or gives the same error");
    if (rk0 == rc && rp.site != r->site)
      fprintf(stderr, "prefix of %zu bytes: %s at site %d; whole input of %zu: site %d\n", k,
              httpd_strerror(rc), rp.site, len, r->site);
    FUZZ_CHECK(rk0 != rc || rp.site == r->site,
               "a prefix that gives the same error gives the same site");
  }
  free(p);
}

/* Property 5: serializes r canonically and parses the result again. */
static void
check_roundtrip(const struct httpd_request *r, int form)
{
  static struct httpd_request r2;
  static char out[HTTPD_MAX_HEAD + 64];
  size_t n = 0, k, i, need;
  int rc;
  need = r->method_str.n + r->target.n + 14;
  for (k = 0; k < r->nheaders; k++)
    need += r->headers[k].name.n + r->headers[k].value.n + 3 + (form == 1);
  if (need > HTTPD_MAX_HEAD)
    return;                            /* longer than the original could be */
#define PUT(p, len) (memcpy(out + n, (p), (len)), n += (len))
  PUT(r->method_str.p, r->method_str.n);
  PUT(" ", 1);
  PUT(r->target.p, r->target.n);
  PUT(r->minor ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", 11);
  for (k = 0; k < r->nheaders; k++) {
    size_t at = n;
    PUT(r->headers[k].name.p, r->headers[k].name.n);
    if (form == 1)
      for (i = at; i < n; i++)
        out[i] = (char)(out[i] >= 'a' && out[i] <= 'z' ? out[i] - 32 :
                        ref_lower((unsigned char)out[i]));
    PUT(form == 1 ? ": " : ":", (size_t)(form == 1 ? 2 : 1));
    PUT(r->headers[k].value.p, r->headers[k].value.n);
    PUT("\r\n", 2);
  }
  PUT("\r\n", 2);
#undef PUT
  FUZZ_CHECK(n == need, "serialized length");
  {
    char *copy = fuzz_dup(out, n);
    r2.site = SITE_POISON;
    rc = httpd_parse_request(copy, n, &r2);
    check_site(rc, r2.site);
    if (rc != (int)n)
      fprintf(stderr, "round trip (form %d): %d (%s) for:\n%.*s\n", form, rc,
              httpd_strerror(rc), (int)n, copy);
    FUZZ_CHECK(rc == (int)n, "the serialized request parses back");
    FUZZ_CHECK(r2.method == r->method && r2.minor == r->minor &&
               view_eq(r2.method_str, r->method_str) && view_eq(r2.target, r->target) &&
               view_eq(r2.path, r->path) && view_eq(r2.query, r->query) &&
               view_eq(r2.host, r->host) && r2.nheaders == r->nheaders &&
               r2.body == r->body && r2.content_length == r->content_length &&
               r2.keep_alive == r->keep_alive &&
               r2.expect_continue == r->expect_continue,
               "round trip keeps method, target, version, host and framing");
    for (k = 0; k < r->nheaders; k++) {
      FUZZ_CHECK(r2.headers[k].name.n == r->headers[k].name.n,
                 "round trip keeps header names");
      for (i = 0; i < r->headers[k].name.n; i++)
        FUZZ_CHECK(ref_lower((unsigned char)r2.headers[k].name.p[i]) ==
                   ref_lower((unsigned char)r->headers[k].name.p[i]),
                   "round trip keeps header names");
      FUZZ_CHECK(view_eq(r2.headers[k].value, r->headers[k].value),
                 "round trip keeps header values");
    }
    free(copy);
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct httpd_request req;
  const char *buf = (const char *)data;
  char *orig = fuzz_dup(data, size);
  int rc;
  size_t k;
  uint32_t seed;

  req.site = SITE_POISON;
  rc = httpd_parse_request(buf, size, &req);
  check_site(rc, req.site);

  FUZZ_CHECK(memcmp(orig, data, size) == 0, "the parser never writes its input");
  free(orig);
  FUZZ_CHECK(rc > 0 || rc == HTTPD_EINCOMPLETE || req_is_error(rc),
             "result is a head length, INCOMPLETE or a head error");
  if (rc < 0)
    FUZZ_CHECK(httpd_status(rc) == 0 || httpd_status(rc) >= 400, "error status");
  if (rc > 0) {
    check_accepted(buf, size, rc, &req);
    check_roundtrip(&req, 0);
    check_roundtrip(&req, 1);
  }
  /* property 4: every prefix when short (or replaying), else a sample */
  if (FUZZ_EXHAUSTIVE || size <= 96) {
    for (k = 0; k < size; k++)
      check_prefix(buf, size, rc, &req, k);
  } else {
    seed = (uint32_t)size * 2654435761u;
    for (k = 0; k < size && k < 64; k++)
      seed = seed * 31 + data[k];
    check_prefix(buf, size, rc, &req, size - 1);
    check_prefix(buf, size, rc, &req, size - 2);
    check_prefix(buf, size, rc, &req, rc > 0 ? (size_t)rc - 1 : size / 2);
    for (k = 0; k < 8; k++)
      check_prefix(buf, size, rc, &req, fuzz_rand(&seed) % size);
  }
  return 0;
}
