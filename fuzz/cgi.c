/*
** fuzz/cgi.c -- harness for httpd_cgi_parse (the header block a CGI script
** prints: the second untrusted input, after what clients send).
**
** Input: the script's output bytes (no option byte).
** Properties (abort() when violated):
**   1. the result is a head length (> 0, <= len), HTTPD_EINCOMPLETE, or
**      HTTPD_EBADGATEWAY with a site in 600..699; a success carries site 0;
**   2. on success every view lies inside the head; the head ends with its
**      empty line (LF or CRLF); no bare CR, NUL or other control byte but
**      HTAB is anywhere in the head; status is 200..599; redirect is 0, 1
**      (Location an absolute path, no Status) or 2 (302 unless a Status);
**   3. every field passed on is a token name and a value of VCHAR, obs-text,
**      SP and HTAB, trimmed, and none is one the server owns or a hop-by-hop
**      one (Status, Location, Content-Type, Content-Length, Connection,
**      Transfer-Encoding, Keep-Alive, Upgrade, TE, Trailer, Proxy-Connection,
**      Date, Server): nothing a script prints can add a field or a response;
**   4. no response splitting: the fields passed on, written after a request
**      line as "Name: value\r\n", parse with httpd_parse_request as exactly
**      those fields (the server's own strict field rules agree);
**   5. split property: every prefix gives HTTPD_EINCOMPLETE or the same result
**      (same error and site; a prefix holding the whole head the same head);
**   6. Content-Length is kept only when it is one valid 1*DIGIT value (a
**      second, different one, or a bad one, drops it: -1).
*/
#define HTTPD_PURE_ONLY 1
#include "../httpd.c"
#include "fuzz.h"

static int
lower_eq(const char *p, size_t n, const char *s)
{
  size_t i;
  if (strlen(s) != n)
    return 0;
  for (i = 0; i < n; i++) {
    char c = p[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != s[i])
      return 0;
  }
  return 1;
}

static const char *const owned[] = {
  "status", "location", "content-type", "content-length", "connection",
  "transfer-encoding", "keep-alive", "upgrade", "te", "trailer", "proxy-connection",
  "date", "server",
};

/* Property 4: the passed fields as a request's header section. */
static void
check_no_splitting(const struct httpd_cgi_response *r)
{
  static struct httpd_request req;
  static char buf[HTTPD_MAX_CGI_HEAD * 2 + 64];
  size_t n = 0, k;
  int rc;
  memcpy(buf, "GET / HTTP/1.1\r\nHost: a\r\n", 25);
  n = 25;
  for (k = 0; k < r->nheaders; k++) {
    const struct httpd_header *h = &r->headers[k];
    if (n + h->name.n + h->value.n + 6 > sizeof buf)
      return;                          /* cannot happen: the head is bounded */
    memcpy(buf + n, h->name.p, h->name.n);
    n += h->name.n;
    memcpy(buf + n, ": ", 2);
    n += 2;
    memcpy(buf + n, h->value.p, h->value.n);
    n += h->value.n;
    memcpy(buf + n, "\r\n", 2);
    n += 2;
  }
  memcpy(buf + n, "\r\n", 2);
  n += 2;
  if (n > HTTPD_MAX_HEAD || r->nheaders + 1 > HTTPD_MAX_HEADERS)
    return;                            /* the request limits are another matter */
  rc = httpd_parse_request(buf, n, &req);
  if (rc == HTTPD_EBADHOST || rc == HTTPD_EBADLENGTH || rc == HTTPD_EBADCODING ||
      rc == HTTPD_ECODING || rc == HTTPD_EEXPECT)
    return;                            /* a field's meaning in a request, not its syntax */
  FUZZ_CHECK(rc == (int)n, "the fields passed on are valid header fields, nothing more");
  FUZZ_CHECK(req.nheaders == r->nheaders + 1, "as many fields as were passed on");
  for (k = 0; k < r->nheaders; k++)
    FUZZ_CHECK(req.headers[k + 1].name.n == r->headers[k].name.n &&
               req.headers[k + 1].value.n == r->headers[k].value.n &&
               memcmp(req.headers[k + 1].value.p, r->headers[k].value.p,
                      r->headers[k].value.n) == 0, "the same fields");
}

static void
check_success(const char *b, size_t len, int rc, const struct httpd_cgi_response *r)
{
  size_t i, k, head = (size_t)rc;
  FUZZ_CHECK(head <= len && head == r->head_len, "head length within the input");
  FUZZ_CHECK(r->site == 0, "a success carries no site");
  FUZZ_CHECK(b[head - 1] == '\n' && (head == 1 || b[head - 2] == '\n' ||
                                     (b[head - 2] == '\r' && (head == 2 || b[head - 3] == '\n'))),
             "the head ends with its empty line");
  for (i = 0; i < head; i++) {
    unsigned char c = (unsigned char)b[i];
    if (c == '\r')
      FUZZ_CHECK(i + 1 < head && b[i + 1] == '\n', "no bare CR in the head");
    else
      FUZZ_CHECK(c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f),
                 "no NUL or control byte in the head");
  }
  FUZZ_CHECK(r->status >= 200 && r->status <= 599, "status 200..599");
  FUZZ_CHECK(r->redirect >= 0 && r->redirect <= 2, "redirect kind");
  if (r->redirect != 0)
    FUZZ_CHECK(r->location.p != NULL && r->location.n > 0 &&
               fuzz_inside(r->location.p, r->location.n, b, head), "Location view");
  if (r->redirect == 1)
    FUZZ_CHECK(r->location.p[0] == '/' && (r->location.n == 1 || r->location.p[1] != '/') &&
               r->status == 200, "a local redirect is a path, without a Status");
  if (r->location.p != NULL)
    FUZZ_CHECK(r->redirect != 0, "a Location is a redirect");
  if (r->content_type.p != NULL)
    FUZZ_CHECK(fuzz_inside(r->content_type.p, r->content_type.n, b, head), "Content-Type view");
  FUZZ_CHECK(r->content_length >= -1, "Content-Length -1 or a length");
  FUZZ_CHECK(r->nheaders <= HTTPD_MAX_HEADERS, "fields bounded");
  for (k = 0; k < r->nheaders; k++) {
    const struct httpd_header *h = &r->headers[k];
    size_t j;
    FUZZ_CHECK(fuzz_inside(h->name.p, h->name.n, b, head) &&
               fuzz_inside(h->value.p, h->value.n, b, head), "field views inside the head");
    FUZZ_CHECK(h->name.n > 0, "a name");
    for (j = 0; j < h->name.n; j++)
      FUZZ_CHECK(IS(CC_TCHAR, h->name.p[j]), "token name");
    for (j = 0; j < h->value.n; j++) {
      unsigned char c = (unsigned char)h->value.p[j];
      FUZZ_CHECK(c == '\t' || (c >= 0x20 && c != 0x7f), "value: no CR, LF, NUL or control");
    }
    FUZZ_CHECK(h->value.n == 0 || (h->value.p[0] != ' ' && h->value.p[0] != '\t' &&
                                   h->value.p[h->value.n - 1] != ' ' &&
                                   h->value.p[h->value.n - 1] != '\t'), "value trimmed");
    for (j = 0; j < sizeof owned / sizeof owned[0]; j++)
      FUZZ_CHECK(!lower_eq(h->name.p, h->name.n, owned[j]),
                 "no field the server owns and no hop-by-hop field passed on");
  }
  check_no_splitting(r);
  /* property 6, against a reference walk of the head's lines */
  {
    size_t ls = 0;
    int64_t want = -2;                 /* -2: none seen yet */
    while (ls < head) {
      size_t le = ls, ne, vs, ve;
      int64_t v = 0;
      int valid = 1;
      while (b[le] != '\n')
        le++;
      ve = le > ls && b[le - 1] == '\r' ? le - 1 : le;
      for (ne = ls; ne < ve && b[ne] != ':'; ne++)
        ;
      if (ne < ve && lower_eq(b + ls, ne - ls, "content-length")) {
        for (vs = ne + 1; vs < ve && (b[vs] == ' ' || b[vs] == '\t'); vs++)
          ;
        while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t'))
          ve--;
        if (vs == ve)
          valid = 0;
        for (; valid && vs < ve; vs++) {   /* 1*DIGIT below 2^63, leading zeros and all */
          if (b[vs] < '0' || b[vs] > '9' || v > (INT64_MAX - (b[vs] - '0')) / 10)
            valid = 0;
          else
            v = v * 10 + (b[vs] - '0');
        }
        want = !valid || (want != -2 && want != v) ? -1 : want == -1 ? -1 : v;
      }
      ls = le + 1;
    }
    if (want == -2)
      want = -1;
    FUZZ_CHECK(r->content_length == want,
               "Content-Length kept exactly when it is one valid value");
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct httpd_cgi_response r, rp;
  char *b = fuzz_dup(data, size);
  int rc = httpd_cgi_parse(b, size, &r);
  size_t k, step;
  uint32_t seed = (uint32_t)size * 2654435761u;
  FUZZ_CHECK(rc > 0 || rc == HTTPD_EINCOMPLETE || rc == HTTPD_EBADGATEWAY,
             "a head, incomplete, or 502");
  if (rc > 0)
    check_success(b, size, rc, &r);
  else if (rc == HTTPD_EBADGATEWAY)
    FUZZ_CHECK(r.site >= 600 && r.site <= 699, "an error carries a site in 600..699");
  /* property 5, at every split point in the replayer, a sample elsewhere */
  step = FUZZ_EXHAUSTIVE || size < 256 ? 1 : size / 64;
  for (k = 0; k < size; k += step + (FUZZ_EXHAUSTIVE ? 0 : fuzz_rand(&seed) % 3)) {
    char *p = fuzz_dup(b, k);
    int rk = httpd_cgi_parse(p, k, &rp);
    if (rc > 0 && k >= (size_t)rc) {
      FUZZ_CHECK(rk == rc && rp.status == r.status && rp.nheaders == r.nheaders &&
                 rp.content_length == r.content_length && rp.redirect == r.redirect,
                 "a prefix holding the whole head parses the same");
    } else if (rc > 0 || rc == HTTPD_EINCOMPLETE) {
      FUZZ_CHECK(rk == HTTPD_EINCOMPLETE, "a prefix of a valid head is incomplete");
    } else {
      FUZZ_CHECK(rk == HTTPD_EINCOMPLETE || (rk == rc && rp.site == r.site),
                 "a prefix of a bad head is incomplete or the same error at the same site");
    }
    free(p);
  }
  free(b);
  return 0;
}
