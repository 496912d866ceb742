/*
** fuzz/diff.c -- differential harness: httpd_parse_request (+ the chunked
** decoder) against nodejs http_parser (Debian libhttp-parser-dev, 2.9.x,
** built non-strict), on the first request of the input.
**
** Input: raw bytes of a request (head and body; no option byte).
** Build: default limits (not the small ones), -lhttp_parser.
** Properties (abort() when violated):
**   1. when both accept the head: same head length, method, target, version,
**      header fields (names as sent, values with outer OWS removed), framing
**      (none / Content-Length n / chunked) and keep-alive;
**   2. when the framing agrees: same decoded body and same end of the message
**      (where the next request starts), or both fail;
**   3. every other disagreement (one accepts, the other refuses; or both
**      accept and differ) must be explained by a row of the table below, whose
**      predicate re-derives the reason from the raw input independently of our
**      parser.  fuzz/DIFFERENCES.md is the same table in prose, with the RFC
**      reason of each row.  Anything unexplained aborts and prints both views.
*/
#define HTTPD_PURE_ONLY 1
#include "../httpd.c"
#include "fuzz.h"
#include <http_parser.h>
#include <limits.h>

/* ---- their view ---------------------------------------------------------- */
#define T_MAX_FIELDS 256
struct theirs {
  int head_ok;                 /* on_headers_complete reached */
  size_t head_end;             /* bytes of the head */
  enum http_errno err;         /* first error, HPE_OK if none */
  int msg_done;                /* on_message_complete reached */
  size_t msg_end;
  int method, major, minor, chunked, keep_alive, upgrade;
  uint64_t content_length;     /* ULLONG_MAX: none */
  char *url;
  size_t nurl;
  size_t nfields;              /* fields seen, trailers included */
  size_t nhead;                /* fields of the head */
  char *name[T_MAX_FIELDS], *value[T_MAX_FIELDS];
  size_t nname[T_MAX_FIELDS], nvalue[T_MAX_FIELDS];
  int in_value;                /* the last callback was a value */
  char *body;
  size_t nbody;
};

static void
grow(char **p, size_t *n, const char *at, size_t len)
{
  *p = realloc(*p, *n + len + 1);
  FUZZ_CHECK(*p != NULL, "realloc");
  if (len > 0)
    memcpy(*p + *n, at, len);
  *n += len;
}

static int
cb_url(http_parser *p, const char *at, size_t len)
{
  struct theirs *t = p->data;
  grow(&t->url, &t->nurl, at, len);
  return 0;
}

static int
cb_field(http_parser *p, const char *at, size_t len)
{
  struct theirs *t = p->data;
  if (t->in_value || t->nfields == 0) {
    if (t->nfields == T_MAX_FIELDS)
      return 1;                      /* too many for us to keep: give up */
    t->nfields++;
    t->in_value = 0;
  }
  grow(&t->name[t->nfields - 1], &t->nname[t->nfields - 1], at, len);
  return 0;
}

static int
cb_value(http_parser *p, const char *at, size_t len)
{
  struct theirs *t = p->data;
  t->in_value = 1;
  if (t->nfields > 0)
    grow(&t->value[t->nfields - 1], &t->nvalue[t->nfields - 1], at, len);
  return 0;
}

static int
cb_headers_complete(http_parser *p)
{
  struct theirs *t = p->data;
  t->head_ok = 1;
  t->nhead = t->nfields;
  t->method = p->method;
  t->major = p->http_major;
  t->minor = p->http_minor;
  t->chunked = (p->flags & F_CHUNKED) != 0;
  t->content_length = p->content_length;
  t->keep_alive = http_should_keep_alive(p);
  t->upgrade = p->upgrade;
  http_parser_pause(p, 1);           /* to learn where the head ends */
  return 0;
}

static int
cb_body(http_parser *p, const char *at, size_t len)
{
  struct theirs *t = p->data;
  grow(&t->body, &t->nbody, at, len);
  return 0;
}

static int
cb_message_complete(http_parser *p)
{
  struct theirs *t = p->data;
  t->msg_done = 1;
  http_parser_pause(p, 1);           /* only the first message */
  return 0;
}

static void
run_theirs(const char *buf, size_t len, struct theirs *t)
{
  http_parser p;
  http_parser_settings s;
  size_t n;
  memset(&s, 0, sizeof s);
  s.on_url = cb_url;
  s.on_header_field = cb_field;
  s.on_header_value = cb_value;
  s.on_headers_complete = cb_headers_complete;
  s.on_body = cb_body;
  s.on_message_complete = cb_message_complete;
  http_parser_init(&p, HTTP_REQUEST);
  p.data = t;
  n = http_parser_execute(&p, &s, buf, len);
  t->err = HTTP_PARSER_ERRNO(&p);
  if (t->err != HPE_PAUSED || !t->head_ok) {
    if (t->err == HPE_PAUSED)
      t->err = HPE_OK;
    t->head_ok = 0;
    return;
  }
  /* paused on the final LF of the head, which is parsed again on resuming */
  t->head_end = n + 1;
  http_parser_pause(&p, 0);
  t->err = HPE_OK;
  if (t->msg_done) {                 /* completed in the same call (upgrade) */
    t->msg_end = t->head_end;
    return;
  }
  n += http_parser_execute(&p, &s, buf + n, len - n);
  t->err = HTTP_PARSER_ERRNO(&p);
  if (t->err == HPE_PAUSED) {
    t->err = HPE_OK;
    t->msg_end = n;
  }
}

static void
free_theirs(struct theirs *t)
{
  size_t k;
  free(t->url);
  free(t->body);
  for (k = 0; k < t->nfields; k++) {
    free(t->name[k]);
    free(t->value[k]);
  }
}

/* ---- predicates on the raw input (independent of httpd.c) ---------------- */
struct ctx {
  const char *buf;
  size_t len;
  int rc;                      /* our result */
  const struct httpd_request *req;
  const struct theirs *t;
  size_t region;               /* bytes of the head as far as anyone parsed it */
};

static int
p_tchar(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
p_ieq(const char *p, size_t n, const char *s)
{
  size_t i;
  if (strlen(s) != n)
    return 0;
  for (i = 0; i < n; i++) {
    int a = (unsigned char)p[i], b = (unsigned char)s[i];
    if (a >= 'A' && a <= 'Z')
      a += 32;
    if (b >= 'A' && b <= 'Z')
      b += 32;
    if (a != b)
      return 0;
  }
  return 1;
}

/* The raw lines of the head region, split at LF (a CR before it dropped). */
struct rawline {
  const char *p;
  size_t n;
};

static size_t
raw_lines(const struct ctx *c, struct rawline *l, size_t max)
{
  size_t i = 0, s, k = 0;
  while (i < c->region && k < max) {
    s = i;
    while (i < c->region && c->buf[i] != '\n')
      i++;
    l[k].p = c->buf + s;
    l[k].n = i - s - (i > s && c->buf[i - 1] == '\r');
    k++;
    i++;
  }
  return k;
}

/* The request line: the first non-empty raw line. */
static struct rawline
request_line(const struct ctx *c)
{
  struct rawline l[1024], none = { NULL, 0 };
  size_t k, n = raw_lines(c, l, 1024);
  for (k = 0; k < n; k++)
    if (l[k].n > 0)
      return l[k];
  return none;
}

/* R-BARE-CRLF: a CR not followed by LF, or an LF without CR, in the head. */
static int
has_bare_cr_lf(const struct ctx *c)
{
  size_t i;
  for (i = 0; i < c->region; i++) {
    if (c->buf[i] == '\n' && (i == 0 || c->buf[i - 1] != '\r'))
      return 1;
    if (c->buf[i] == '\r' && (i + 1 >= c->len || c->buf[i + 1] != '\n'))
      return 1;
  }
  return 0;
}

/* R-OBS-FOLD / R-WS-FIRST: a header line starting with SP or HTAB. */
static int
has_folded_line(const struct ctx *c)
{
  struct rawline l[1024];
  size_t k, n = raw_lines(c, l, 1024), first = 0;
  while (first < n && l[first].n == 0)
    first++;
  for (k = first + 1; k < n; k++)
    if (l[k].n > 0 && (l[k].p[0] == ' ' || l[k].p[0] == '\t'))
      return 1;
  return 0;
}

/* R-LINE-SP: the request line is not exactly three parts split by single SPs
** with a token method and a version "HTTP/" DIGIT "." DIGIT. */
static int
request_line_shape_bad(const struct ctx *c)
{
  struct rawline r = request_line(c);
  size_t i, sp = 0, first = 0, second = 0;
  if (r.p == NULL)
    return 1;
  for (i = 0; i < r.n; i++) {
    if (r.p[i] == ' ') {
      sp++;
      if (sp == 1)
        first = i;
      else if (sp == 2)
        second = i;
    } else if ((unsigned char)r.p[i] < 0x21 || r.p[i] == 0x7f) {
      return 1;                    /* HTAB, FF, other whitespace or CTL */
    }
  }
  if (sp != 2 || first == 0 || second == first + 1 || r.n - second - 1 != 8)
    return 1;
  for (i = 0; i < first; i++)
    if (!p_tchar((unsigned char)r.p[i]))
      return 1;
  i = second + 1;
  return memcmp(r.p + i, "HTTP/", 5) != 0 || r.p[i + 5] < '0' || r.p[i + 5] > '9' ||
         r.p[i + 6] != '.' || r.p[i + 7] < '0' || r.p[i + 7] > '9';
}

static int
p_hex(unsigned char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
p_unreserved_or_subdelim(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("-._~!$&'()*+,;=", c) != NULL);
}

/* uri-host [ ":" port ] of RFC 3986, loosely for IP literals.  1 if valid. */
static int
host_ok(const char *p, size_t n)
{
  size_t i = 0, d;
  unsigned long port = 0;
  if (n > 0 && p[0] == '[') {
    while (i < n && p[i] != ']')
      i++;
    if (i == n || i < 3)
      return 0;
    for (d = 1; d < i; d++)
      if (!p_hex((unsigned char)p[d]) && p[d] != ':' && p[d] != '.')
        return 0;
    i++;
  } else {
    while (i < n && p[i] != ':') {
      if (p[i] == '%') {
        if (i + 2 >= n || !p_hex((unsigned char)p[i + 1]) || !p_hex((unsigned char)p[i + 2]))
          return 0;
        i += 3;
      } else if (p_unreserved_or_subdelim((unsigned char)p[i])) {
        i++;
      } else {
        return 0;
      }
    }
    if (i == 0)
      return 0;
  }
  if (i == n)
    return 1;
  if (p[i] != ':')
    return 0;
  for (d = 0, i++; i < n; i++, d++) {
    if (p[i] < '0' || p[i] > '9' || d == 5)
      return 0;
    port = port * 10 + (unsigned long)(p[i] - '0');
  }
  return port <= 65535;
}

/* R-TARGET: the target is not origin-form, absolute-form (http/https, no
** userinfo, valid host) or "*" with OPTIONS, made of RFC 3986 characters. */
static int
target_bad(const struct ctx *c)
{
  struct rawline r = request_line(c);
  const char *t;
  size_t n, i, a;
  if (r.p == NULL)
    return 1;
  t = memchr(r.p, ' ', r.n);
  if (t == NULL)
    return 1;
  t++;
  for (n = 0; t + n < r.p + r.n && t[n] != ' '; n++)
    ;
  if (n == 0)
    return 1;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)t[i];
    if (ch == '%') {
      if (i + 2 >= n || !p_hex((unsigned char)t[i + 1]) || !p_hex((unsigned char)t[i + 2]))
        return 1;
    } else if (!p_unreserved_or_subdelim(ch) && ch != ':' && ch != '@' && ch != '/' &&
               ch != '?') {
      return 1;
    }
  }
  if (n == 1 && t[0] == '*')
    return !(r.n >= 8 && memcmp(r.p, "OPTIONS ", 8) == 0);
  if (t[0] == '/')
    return 0;
  if (n >= 7 && p_ieq(t, 7, "http://"))
    a = 7;
  else if (n >= 8 && p_ieq(t, 8, "https://"))
    a = 8;
  else
    return 1;
  for (i = a; i < n && t[i] != '/' && t[i] != '?'; i++)
    ;
  return !host_ok(t + a, i - a);
}

static const char *const our_methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE",
                                           "OPTIONS", "TRACE", "PATCH" };

/* R-METHOD: the method token is not one we implement. */
static int
method_unknown(const struct ctx *c)
{
  struct rawline r = request_line(c);
  size_t k, n;
  if (r.p == NULL)
    return 1;
  for (n = 0; n < r.n && r.p[n] != ' '; n++)
    ;
  for (k = 0; k < sizeof our_methods / sizeof our_methods[0]; k++)
    if (strlen(our_methods[k]) == n && memcmp(our_methods[k], r.p, n) == 0)
      return 0;
  return 1;
}

/* R-VERSION: a version other than HTTP/1.0 and HTTP/1.1. */
static int
version_unsupported(const struct ctx *c)
{
  struct rawline r = request_line(c);
  return r.p == NULL || r.n < 8 || memcmp(r.p + r.n - 8, "HTTP/1.", 7) != 0 ||
         r.p[r.n - 1] < '0' || r.p[r.n - 1] > '9';
}

/* Header fields as they parsed them (needs t->head_ok). */
static size_t
count_fields(const struct theirs *t, const char *name)
{
  size_t k, n = 0;
  for (k = 0; k < t->nhead; k++)
    if (p_ieq(t->name[k], t->nname[k], name))
      n++;
  return n;
}

static void
trimmed(const char *p, size_t n, const char **tp, size_t *tn)
{
  while (n > 0 && (*p == ' ' || *p == '\t')) {
    p++;
    n--;
  }
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
    n--;
  *tp = p;
  *tn = n;
}

/* R-HOST: HTTP/1.1 without exactly one Host, or a Host that is not
** uri-host [":" port]. */
static int
host_bad(const struct ctx *c)
{
  const struct theirs *t = c->t;
  size_t k, nh;
  if (!t->head_ok)
    return 0;
  nh = count_fields(t, "host");
  if (nh > 1 || (nh == 0 && t->minor >= 1 && t->major == 1))   /* 1.x above 1.1 is 1.1 */
    return 1;
  for (k = 0; k < t->nhead; k++) {
    const char *v;
    size_t vn;
    if (!p_ieq(t->name[k], t->nname[k], "host"))
      continue;
    trimmed(t->value[k], t->nvalue[k], &v, &vn);
    if (!host_ok(v, vn))
      return 1;
  }
  return 0;
}

/* R-NAME: a field name that is not a token directly followed by ':'. */
static int
field_name_bad(const struct ctx *c)
{
  struct rawline l[1024];
  size_t k, n = raw_lines(c, l, 1024), first = 0, i;
  while (first < n && l[first].n == 0)
    first++;
  for (k = first + 1; k < n && l[k].n > 0; k++) {
    for (i = 0; i < l[k].n && p_tchar((unsigned char)l[k].p[i]); i++)
      ;
    if (i == 0 || i == l[k].n || l[k].p[i] != ':')
      return 1;
  }
  return 0;
}

/* R-VALUE-CTL: a field value with a control character other than HTAB. */
static int
field_value_ctl(const struct ctx *c)
{
  struct rawline l[1024];
  size_t k, n = raw_lines(c, l, 1024), first = 0, i;
  while (first < n && l[first].n == 0)
    first++;
  for (k = first + 1; k < n && l[k].n > 0; k++)
    for (i = 0; i < l[k].n; i++) {
      unsigned char ch = (unsigned char)l[k].p[i];
      if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
        return 1;
    }
  return 0;
}

/* R-CL: Content-Length not 1*DIGIT below 2^63, or repeated with other values. */
static int
content_length_bad(const struct ctx *c)
{
  const struct theirs *t = c->t;
  size_t k, i;
  const char *first = NULL;
  size_t nfirst = 0;
  if (!t->head_ok)
    return 0;
  for (k = 0; k < t->nhead; k++) {
    const char *v;
    size_t vn, z = 0;
    if (!p_ieq(t->name[k], t->nname[k], "content-length"))
      continue;
    trimmed(t->value[k], t->nvalue[k], &v, &vn);
    if (vn == 0)
      return 1;
    for (i = 0; i < vn; i++)
      if (v[i] < '0' || v[i] > '9')
        return 1;
    while (z < vn && v[z] == '0')
      z++;
    if (vn - z > 19 || (vn - z == 19 && memcmp(v + z, "9223372036854775808", 19) >= 0))
      return 1;
    if (first != NULL) {
      /* compare values numerically: strip leading zeros */
      const char *a = first, *b = v + z;
      size_t an = nfirst;
      while (an > 0 && *a == '0') {
        a++;
        an--;
      }
      if (an != vn - z || memcmp(a, b, an) != 0)
        return 1;
    } else {
      first = v;
      nfirst = vn;
    }
  }
  return 0;
}

/* The coding list of all Transfer-Encoding fields, checked element by element:
** sets *empty (an empty element), *nchunked, *chunked_last, *other. */
static void
te_list(const struct theirs *t, int *present, int *empty, int *nchunked, int *chunked_last,
        int *other)
{
  size_t k, i;
  *present = *empty = *nchunked = *chunked_last = *other = 0;
  for (k = 0; k < t->nhead; k++) {
    const char *v = t->value[k];
    size_t vn = t->nvalue[k];
    if (!p_ieq(t->name[k], t->nname[k], "transfer-encoding"))
      continue;
    *present = 1;
    i = 0;
    for (;;) {
      size_t s = i;
      const char *e;
      size_t en;
      while (i < vn && v[i] != ',')
        i++;
      trimmed(v + s, i - s, &e, &en);
      if (en == 0) {
        *empty = 1;
      } else if (p_ieq(e, en, "chunked")) {
        (*nchunked)++;
        *chunked_last = 1;
      } else {
        *other = 1;
        *chunked_last = 0;
      }
      if (i >= vn)
        break;
      i++;
    }
  }
}

/* R-TE: Transfer-Encoding in HTTP/1.0, beside Content-Length, or other than a
** single final "chunked" (empty elements, chunked twice or not last). */
static int
transfer_encoding_bad(const struct ctx *c)
{
  int present, empty, nchunked, last, other;
  if (!c->t->head_ok)
    return 0;
  te_list(c->t, &present, &empty, &nchunked, &last, &other);
  if (!present)
    return 0;
  return c->t->minor == 0 || count_fields(c->t, "content-length") > 0 || empty ||
         nchunked != 1 || !last || other;
}

/* R-CODING: a transfer coding other than chunked (501). */
static int
transfer_coding_unknown(const struct ctx *c)
{
  int present, empty, nchunked, last, other;
  if (!c->t->head_ok)
    return 0;
  te_list(c->t, &present, &empty, &nchunked, &last, &other);
  return present && other;
}

/* R-EXPECT: an Expect other than 100-continue in HTTP/1.1 (or a higher 1.x). */
static int
expect_unknown(const struct ctx *c)
{
  const struct theirs *t = c->t;
  size_t k;
  if (!t->head_ok || t->minor == 0)
    return 0;
  for (k = 0; k < t->nhead; k++) {
    const char *v;
    size_t vn;
    if (!p_ieq(t->name[k], t->nname[k], "expect"))
      continue;
    trimmed(t->value[k], t->nvalue[k], &v, &vn);
    if (!p_ieq(v, vn, "100-continue"))
      return 1;
  }
  return 0;
}

/* R-LIMITS: a line, the head or the field count beyond our limits. */
static int
over_limits(const struct ctx *c)
{
  struct rawline l[1024];
  size_t n = raw_lines(c, l, 1024), k, first = 0;
  while (first < n && l[first].n == 0)
    first++;
  if (c->region > HTTPD_MAX_HEAD || (first < n && l[first].n > HTTPD_MAX_LINE))
    return 1;
  if (n - first > HTTPD_MAX_HEADERS + 2)
    return 1;
  /* an unfinished line longer than a limit (the head is still arriving) */
  for (k = 0; k < n; k++)
    if (l[k].n > HTTPD_MAX_LINE)
      return 1;
  return c->len > HTTPD_MAX_HEAD;
}

/* R-CONN-BOTH: Connection lists both close and keep-alive; close wins here. */
static int
connection_close_and_keep(const struct ctx *c)
{
  const struct theirs *t = c->t;
  size_t k;
  int close = 0, keep = 0;
  for (k = 0; k < t->nhead; k++) {
    const char *v = t->value[k];
    size_t vn = t->nvalue[k], i = 0;
    if (!p_ieq(t->name[k], t->nname[k], "connection"))
      continue;
    for (;;) {
      size_t s = i;
      const char *e;
      size_t en;
      while (i < vn && v[i] != ',')
        i++;
      trimmed(v + s, i - s, &e, &en);
      close |= p_ieq(e, en, "close");
      keep |= p_ieq(e, en, "keep-alive");
      if (i >= vn)
        break;
      i++;
    }
  }
  return close && keep;
}

/* R-UPGRADE: they switch protocols (Upgrade + Connection: upgrade, or
** CONNECT); we do not implement Upgrade and keep parsing HTTP. */
static int
upgrade(const struct ctx *c)
{
  return c->t->head_ok && c->t->upgrade;
}

/* A-CL-REPEAT: the same Content-Length repeated (they refuse any repeat). */
static int
content_length_repeated(const struct ctx *c)
{
  size_t k, n = 0;
  for (k = 0; k < c->req->nheaders; k++)
    if (p_ieq(c->req->headers[k].name.p, c->req->headers[k].name.n, "content-length"))
      n++;
  return n > 1 && c->t->err == HPE_UNEXPECTED_CONTENT_LENGTH;
}

/* T-TE-PREFIX: they take a field whose name only starts with
** "Transfer-Encoding" (e.g. "Transfer-Encoding-X") for Transfer-Encoding, and
** refuse the request for it (http_parser 2.9 matches the name by prefix). */
static int
te_name_prefix(const struct ctx *c)
{
  size_t k;
  for (k = 0; c->rc > 0 && k < c->req->nheaders; k++) {
    const struct httpd_header *h = &c->req->headers[k];
    if (h->name.n > 17 && p_ieq(h->name.p, 17, "transfer-encoding"))
      return 1;
  }
  return 0;
}

/* T-TRAILER-FRAMING: they apply Content-Length / Transfer-Encoding rules to
** trailer fields of those names and refuse the message; we discard trailers
** (after checking their syntax): they never frame anything. */
static int
trailer_framing_field(const struct ctx *c)
{
  const struct theirs *t = c->t;
  size_t k;
  for (k = t->nhead; k < t->nfields; k++)
    if ((t->nname[k] >= 14 && p_ieq(t->name[k], 14, "content-length")) ||
        (t->nname[k] >= 17 && p_ieq(t->name[k], 17, "transfer-encoding")))
      return 1;
  return 0;
}

/* T-HTAB-OWS: HTAB as OWS in a Transfer-Encoding, Content-Length or
** Connection field ("chunked<HTAB>", "close<HTAB>", "<HTAB>3"): they skip
** only SP there and misread or refuse the field; OWS is SP or HTAB (RFC 9110
** 5.6.3) and we strip both. */
static int
framing_field_htab(const struct ctx *c)
{
  size_t k;
  for (k = 0; c->rc > 0 && k < c->req->nheaders; k++) {
    const struct httpd_header *h = &c->req->headers[k];
    const char *e = h->value.p + h->value.n;
    if (!p_ieq(h->name.p, h->name.n, "content-length") &&
        !p_ieq(h->name.p, h->name.n, "transfer-encoding") &&
        !p_ieq(h->name.p, h->name.n, "connection"))
      continue;
    while (*e != '\r')
      e++;                          /* the line ends in CRLF inside the head */
    if (memchr(h->name.p, '\t', (size_t)(e - h->name.p)) != NULL)
      return 1;
  }
  return 0;
}

/* T-CONN-LIST: a Connection list with an empty element ("a,, close"), an
** element starting with or holding a non-token byte ("close \xa4b"), or an
** element that is a proper
** prefix of close, keep-alive or upgrade ("cl, close"): http_parser 2.9 loses
** the members after it.  A recipient must
** skip empty elements (RFC 9110 5.6.1) and match whole tokens; we do. */
static int
connection_list_quirk(const struct ctx *c)
{
  static const char *const known[] = { "close", "keep-alive", "upgrade" };
  size_t k, i, j;
  for (k = 0; c->rc > 0 && k < c->req->nheaders; k++) {
    const struct httpd_header *h = &c->req->headers[k];
    const char *v = h->value.p;
    size_t n = h->value.n;
    if (!p_ieq(h->name.p, h->name.n, "connection"))
      continue;
    i = 0;
    for (;;) {
      size_t s0 = i;
      const char *e;
      size_t en;
      while (i < n && v[i] != ',')
        i++;
      trimmed(v + s0, i - s0, &e, &en);
      if (en == 0 && (i < n || s0 > 0))
        return 1;
      if (en > 0 && !p_tchar((unsigned char)e[0]))
        return 1;                   /* they ignore the rest of the field */
      for (j = 0; j < en; j++)
        if (!p_tchar((unsigned char)e[j]))
          return 1;                 /* junk inside an element ("close <x>"): the same */
      for (j = 0; j < 3; j++)
        if (en > 0 && en < strlen(known[j]) && p_ieq(e, en, "") == 0) {
          size_t q;
          for (q = 0; q < en; q++)
            if ((e[q] | 0x20) != known[j][q] && e[q] != known[j][q])
              break;
          if (q == en)
            return 1;
        }
      if (i >= n)
        break;
      i++;
    }
  }
  return 0;
}

/* T-CHUNK-HTAB: HTAB as BWS right after a chunk-size ("1<HTAB>;a"): they
** refuse it (HPE_INVALID_CHUNK_SIZE); BWS is OWS, SP or HTAB (RFC 9112 7.1.1,
** RFC 9110 5.6.3), and we take it. */
static int
chunk_size_htab(const struct ctx *c)
{
  size_t i;
  if (c->t->err != HPE_INVALID_CHUNK_SIZE || c->rc <= 0)
    return 0;
  for (i = (size_t)c->rc; i + 1 < c->len; i++)
    if (p_hex((unsigned char)c->buf[i]) && c->buf[i + 1] == '\t')
      return 1;
  return 0;
}

static int chunk_stricter(const struct ctx *c);

/* ---- the table ------------------------------------------------------------ */
/* Where the two may disagree, each row: which of our results it covers, and a
** predicate on the input that must hold.  Keep fuzz/DIFFERENCES.md in step. */
enum when {
  W_WE_REFUSE = 1,            /* we refuse (error), they accept the head */
  W_THEY_REFUSE = 2,          /* we accept, they refuse */
  W_BOTH_DIFFER = 4,          /* both accept, a field differs */
  W_BODY_WE_REFUSE = 8,       /* same framing; we refuse the body, they take it */
  W_BODY_THEY_REFUSE = 16     /* same framing; we take the body, they refuse it */
};

struct difference {
  const char *id;
  int when;
  int codes[6];               /* our errors this row explains (W_WE_REFUSE) */
  int (*applies)(const struct ctx *);
};

static const struct difference differences[] = {
  { "R-BARE-CRLF", W_WE_REFUSE, { HTTPD_EBADLINE, HTTPD_EBADHEADER, HTTPD_EURILONG,
                                  HTTPD_EHEADLARGE }, has_bare_cr_lf },
  { "R-OBS-FOLD", W_WE_REFUSE, { HTTPD_EBADHEADER }, has_folded_line },
  { "R-LINE-SHAPE", W_WE_REFUSE, { HTTPD_EBADLINE, HTTPD_EBADVERSION },
    request_line_shape_bad },
  { "R-TARGET", W_WE_REFUSE, { HTTPD_EBADLINE }, target_bad },
  { "R-METHOD", W_WE_REFUSE, { HTTPD_EMETHOD }, method_unknown },
  { "R-VERSION", W_WE_REFUSE, { HTTPD_EVERSION, HTTPD_EBADVERSION }, version_unsupported },
  { "R-HOST", W_WE_REFUSE, { HTTPD_EBADHOST }, host_bad },
  { "R-NAME", W_WE_REFUSE, { HTTPD_EBADHEADER }, field_name_bad },
  { "R-VALUE-CTL", W_WE_REFUSE, { HTTPD_EBADHEADER }, field_value_ctl },
  { "R-CL", W_WE_REFUSE, { HTTPD_EBADLENGTH }, content_length_bad },
  { "R-TE", W_WE_REFUSE, { HTTPD_EBADCODING }, transfer_encoding_bad },
  { "R-CODING", W_WE_REFUSE, { HTTPD_ECODING }, transfer_coding_unknown },
  { "R-EXPECT", W_WE_REFUSE, { HTTPD_EEXPECT }, expect_unknown },
  { "R-LIMITS", W_WE_REFUSE, { HTTPD_EURILONG, HTTPD_EHEADLARGE }, over_limits },
  { "A-CL-REPEAT", W_THEY_REFUSE, { 0 }, content_length_repeated },
  { "T-TE-PREFIX", W_THEY_REFUSE | W_BODY_THEY_REFUSE | W_BOTH_DIFFER, { 0 }, te_name_prefix },
  { "T-HTAB-OWS", W_BOTH_DIFFER | W_BODY_THEY_REFUSE | W_THEY_REFUSE, { 0 },
    framing_field_htab },
  { "T-CONN-LIST", W_BOTH_DIFFER, { 0 }, connection_list_quirk },
  { "R-CHUNK", W_BODY_WE_REFUSE, { 0 }, chunk_stricter },
  { "T-TRAILER-FRAMING", W_BODY_THEY_REFUSE, { 0 }, trailer_framing_field },
  { "T-CHUNK-HTAB", W_BODY_THEY_REFUSE, { 0 }, chunk_size_htab },
  { "D-CONN-BOTH", W_BOTH_DIFFER, { 0 }, connection_close_and_keep },
  { "D-UPGRADE", W_BOTH_DIFFER, { 0 }, upgrade },
};
#define NDIFF (sizeof differences / sizeof differences[0])

/* The id of the first row explaining the situation, or NULL. */
static const char *
explain(const struct ctx *c, int when)
{
  size_t k, j;
  for (k = 0; k < NDIFF; k++) {
    const struct difference *d = &differences[k];
    int code_ok = when != W_WE_REFUSE;
    if (!(d->when & when))
      continue;
    for (j = 0; j < 6 && d->codes[j] != 0 && !code_ok; j++)
      code_ok = d->codes[j] == c->rc;
    if (code_ok && d->applies(c)) {
      if (getenv("FUZZ_DIFF_ROWS") != NULL)   /* triage: which row explained it */
        fprintf(stderr, "row %s\n", d->id);
      return d->id;
    }
  }
  return NULL;
}

static void
dump(const struct ctx *c, const char *why)
{
  const struct theirs *t = c->t;
  size_t k;
  fprintf(stderr, "differential: %s\n  ours: %d (%s)", why, c->rc,
          c->rc > 0 ? "accepted" : httpd_strerror(c->rc));
  if (c->rc > 0)
    fprintf(stderr, " body=%d cl=%llu keep_alive=%d", c->req->body,
            (unsigned long long)c->req->content_length, c->req->keep_alive);
  fprintf(stderr, "\n  theirs: %s head_ok=%d head_end=%zu", http_errno_name(t->err),
          t->head_ok, t->head_end);
  if (t->head_ok) {
    fprintf(stderr, " %s HTTP/%d.%d url=\"%.*s\" chunked=%d cl=%lld keep_alive=%d "
            "upgrade=%d", http_method_str((enum http_method)t->method), t->major, t->minor,
            (int)t->nurl, t->url, t->chunked, (long long)t->content_length, t->keep_alive,
            t->upgrade);
    for (k = 0; k < t->nhead; k++)
      fprintf(stderr, "\n    [%.*s]: [%.*s]", (int)t->nname[k], t->name[k],
              (int)t->nvalue[k], t->value[k]);
  }
  fprintf(stderr, "\n");
}

#define DIFF_CHECK(cond, c, when, what)                                      \
  do {                                                                       \
    if (!(cond) && explain((c), (when)) == NULL) {                           \
      dump((c), (what));                                                     \
      FUZZ_CHECK(0, "an unexplained difference with http_parser: " what);    \
    }                                                                        \
  } while (0)

/* ---- body: ours ----------------------------------------------------------- */
struct body {
  int status;                  /* 1 done, 0 needs more, < 0 error */
  size_t end;
  char *p;
  size_t n;
};

static void
our_body(const char *buf, size_t len, const struct httpd_request *r, struct body *b)
{
  size_t pos = r->head_len;
  memset(b, 0, sizeof b[0]);
  if (r->body == HTTPD_BODY_NONE) {
    b->status = 1;
    b->end = pos;
  } else if (r->body == HTTPD_BODY_LENGTH) {
    if (len - pos >= r->content_length) {
      grow(&b->p, &b->n, buf + pos, (size_t)r->content_length);
      b->status = 1;
      b->end = pos + (size_t)r->content_length;
    } else {
      grow(&b->p, &b->n, buf + pos, len - pos);
    }
  } else {
    struct httpd_chunked ch;
    httpd_chunked_init(&ch);
    grow(&b->p, &b->n, "", 0);
    while (!httpd_chunked_done(&ch)) {
      const char *d;
      size_t nd;
      long n = httpd_chunked_parse(&ch, buf + pos, len - pos, &d, &nd);
      if (n < 0) {
        b->status = (int)n;
        return;
      }
      grow(&b->p, &b->n, d, nd);
      pos += (size_t)n;
      if (n == 0 && nd == 0)
        return;                      /* needs more */
    }
    b->status = 1;
    b->end = pos;
  }
}

/* R-CHUNK: our chunked decoder refused what theirs took: the chunked framing
** (their message) has a bare CR/LF, a chunk-size of more than 16 digits or
** followed by anything but RFC 9112 chunk-ext, a line longer than our limit,
** or a trailer field that is not a valid field line (or too many/large). */
/* chunk-ext (RFC 9112 7.1.1) on p[0..n):
**   *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token / quoted-string */
static int
chunk_ext_ok(const char *p, size_t n)
{
  size_t i = 0;
#define BWS() while (i < n && (p[i] == ' ' || p[i] == '\t')) i++
  while (i < n) {
    BWS();
    if (i == n || p[i] != ';')
      return 0;
    i++;
    BWS();
    if (i == n || !p_tchar((unsigned char)p[i]))
      return 0;
    while (i < n && p_tchar((unsigned char)p[i]))
      i++;
    {
      size_t save = i;
      BWS();
      if (i == n || p[i] != '=') {
        i = save;
        continue;
      }
    }
    i++;
    BWS();
    if (i < n && p[i] == '"') {
      for (i++; i < n && p[i] != '"'; i++) {
        unsigned char ch;
        if (p[i] == '\\' && ++i == n)
          return 0;
        ch = (unsigned char)p[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
          return 0;
      }
      if (i == n)
        return 0;
      i++;
    } else {
      if (i == n || !p_tchar((unsigned char)p[i]))
        return 0;
      while (i < n && p_tchar((unsigned char)p[i]))
        i++;
    }
  }
#undef BWS
  return 1;
}

static int
chunk_stricter_raw(const char *p, size_t n)
{
  size_t i = 0, s, d;
  int trailers = 0;
  size_t ntr = 0, trlen = 0;
  while (i < n) {
    s = i;
    while (i < n && p[i] != '\n' && p[i] != '\r')
      i++;
    if (i < n && (p[i] == '\n' || i + 1 >= n || p[i + 1] != '\n'))
      return 1;                     /* bare CR or LF */
    if (i - s + 2 > HTTPD_MAX_CHUNK_LINE)
      return 1;
    if (trailers) {
      size_t k;
      trlen += i - s + 2;
      if (trlen > HTTPD_MAX_TRAILER)
        return 1;
      if (i == s)
        return 0;
      for (k = s; k < i && p_tchar((unsigned char)p[k]); k++)
        ;
      if (k == s || k == i || p[k] != ':' || ++ntr > HTTPD_MAX_HEADERS)
        return 1;
      for (k++; k < i; k++)
        if (((unsigned char)p[k] < 0x20 && p[k] != '\t') || p[k] == 0x7f)
          return 1;
      i += 2;
      continue;
    }
    /* a chunk-size line: digits, then nothing or ';' (their leniency lies in
    ** what may follow the digits and in the extension syntax) */
    for (d = s; d < i && p_hex((unsigned char)p[d]); d++)
      ;
    if (d == s || d - s > 16)
      return 1;
    if (d < i && !chunk_ext_ok(p + d, i - d))
      return 1;
    {
      uint64_t size = 0;
      size_t k;
      for (k = s; k < d; k++) {
        int v = p[k] <= '9' ? p[k] - '0' : (p[k] | 0x20) - 'a' + 10;
        size = size * 16 + (uint64_t)v;
      }
      i += 2;
      if (size == 0) {
        trailers = 1;
        continue;
      }
      if (n - i < size)
        return 0;
      i += (size_t)size;
      if (i + 2 > n || p[i] != '\r' || p[i + 1] != '\n')
        return 1;                   /* data not followed by CRLF */
      i += 2;
    }
  }
  return 0;
}

static int
chunk_stricter(const struct ctx *c)
{
  return c->rc > 0 && c->t->msg_done &&
         chunk_stricter_raw(c->buf + c->rc, c->t->msg_end - (size_t)c->rc);
}

/* ---- the harness ------------------------------------------------------------ */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct httpd_request req;
  struct theirs t;
  struct ctx c;
  const char *buf = (const char *)data;
  int rc;
  size_t k;

  memset(&t, 0, sizeof t);
  rc = httpd_parse_request(buf, size, &req);
  run_theirs(buf, size, &t);
  c.buf = buf;
  c.len = size;
  c.rc = rc;
  c.req = &req;
  c.t = &t;
  c.region = t.head_ok ? t.head_end : (rc > 0 ? (size_t)rc : size);

  if (rc > 0 && !t.head_ok) {
    if (t.err != HPE_OK)             /* they refuse what we accept */
      DIFF_CHECK(0, &c, W_THEY_REFUSE, "we accept a head they refuse");
    else                             /* they need more bytes: compare later */
      DIFF_CHECK(0, &c, W_THEY_REFUSE, "we accept a head they find incomplete");
  } else if (rc <= 0 && t.head_ok) {
    if (rc == HTTPD_EINCOMPLETE)
      DIFF_CHECK(0, &c, W_WE_REFUSE, "they accept a head we find incomplete");
    else
      DIFF_CHECK(0, &c, W_WE_REFUSE, "they accept a head we refuse");
  } else if (rc > 0 && t.head_ok) {
    /* property 1 */
    DIFF_CHECK((size_t)rc == t.head_end, &c, W_BOTH_DIFFER, "head length");
    DIFF_CHECK(strcmp(http_method_str((enum http_method)t.method),
                      our_methods[req.method - 1]) == 0, &c, W_BOTH_DIFFER, "method");
    DIFF_CHECK(t.nurl == req.target.n && memcmp(t.url, req.target.p, t.nurl) == 0, &c,
               W_BOTH_DIFFER, "target");
    DIFF_CHECK(t.major == 1 && (t.minor != 0) == req.minor, &c, W_BOTH_DIFFER, "version");
    DIFF_CHECK(t.nhead == req.nheaders, &c, W_BOTH_DIFFER, "number of fields");
    for (k = 0; k < t.nhead && k < req.nheaders; k++) {
      const char *v;
      size_t vn;
      trimmed(t.value[k], t.nvalue[k], &v, &vn);
      DIFF_CHECK(t.nname[k] == req.headers[k].name.n &&
                 memcmp(t.name[k], req.headers[k].name.p, t.nname[k]) == 0, &c,
                 W_BOTH_DIFFER, "field name");
      DIFF_CHECK(vn == req.headers[k].value.n && memcmp(v, req.headers[k].value.p, vn) == 0,
                 &c, W_BOTH_DIFFER, "field value");
    }
    if (!t.upgrade || explain(&c, W_BOTH_DIFFER) == NULL) {
      int same_framing;
      DIFF_CHECK(t.keep_alive == req.keep_alive, &c, W_BOTH_DIFFER, "keep-alive");
      if (req.body == HTTPD_BODY_CHUNKED)
        same_framing = t.chunked;
      else if (req.body == HTTPD_BODY_LENGTH)
        same_framing = !t.chunked && t.content_length == req.content_length;
      else
        same_framing = !t.chunked && (t.content_length == 0 ||
                                      t.content_length == (uint64_t)ULLONG_MAX);
      DIFF_CHECK(same_framing, &c, W_BOTH_DIFFER, "body framing");
      /* property 2 */
      if (same_framing) {
        struct body b;
        our_body(buf, size, &req, &b);
        if (b.status == 1 && t.msg_done) {
          if (b.end != t.msg_end || b.n != t.nbody || (b.n > 0 && memcmp(b.p, t.body, b.n)))
            dump(&c, "body");
          FUZZ_CHECK(b.end == t.msg_end, "the message ends at the same byte");
          FUZZ_CHECK(b.n == t.nbody && (b.n == 0 || memcmp(b.p, t.body, b.n) == 0),
                     "the same body");
        } else if (b.status < 0 && t.msg_done) {
          DIFF_CHECK(0, &c, W_BODY_WE_REFUSE, "a body we refuse and they take");
        } else if (b.status == 1 && !t.msg_done) {
          if (t.err == HPE_OK)
            DIFF_CHECK(0, &c, W_BODY_THEY_REFUSE, "a body we take and they find incomplete");
          else
            DIFF_CHECK(0, &c, W_BODY_THEY_REFUSE, "a body we take and they refuse");
        } else if (b.status == 0 && t.msg_done) {
          DIFF_CHECK(0, &c, W_BODY_WE_REFUSE, "a body they take and we find incomplete");
        }
        free(b.p);
      }
    }
  }
  free_theirs(&t);
  return 0;
}
