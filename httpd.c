/*
** httpd.c -- a strict, fuzz-hardened, forking HTTP/1.1 server in one file.
**
** Build the server:     cc -O2 -o httpd httpd.c
** Vendor it:            cc -DHTTPD_NO_MAIN -c httpd.c   and #include "httpd.h"
** Pure part only:       cc -DHTTPD_PURE_ONLY -c httpd.c  (parser + tables: proves
**                       the parser needs no I/O, allocation or globals)
** Run:                  ./httpd -r www -p 8888       (./httpd -h for the options)
**
** Configuration macros (define before compiling; see httpd.h for the limits):
**   HTTPD_NO_MAIN        leave out main()
**   HTTPD_PURE_ONLY      compile only sections 1-3 (tables, parser)
**   HTTPD_MAX_LINE, HTTPD_MAX_HEAD, HTTPD_MAX_HEADERS, HTTPD_MAX_CHUNK_LINE,
**   HTTPD_MAX_TRAILER, HTTPD_MAX_PATH       parser limits (httpd.h)
**   HTTPD_NO_OPENAT2     look files up with the portable openat(O_NOFOLLOW) walk
**                        on Linux too (symlinks are then not followed)
**   HTTPD_SANITIZE       children leave through exit() instead of _exit(), so
**                        that LeakSanitizer runs in them (set by make SANITIZER=)
**
** Security properties
**   1. Every byte from a client is first read by the pure parser (section 3),
**      which never allocates, never writes to its input, and returns views.
**   2. Message framing is strict RFC 9112: anything ambiguous (CL with TE,
**      repeated differing CL, obs-fold, bare CR or LF, bad chunk framing) is
**      answered 400 and the connection is closed, so no request is smuggled.
**   3. Error bodies are fixed strings: an error never echoes its request (a
**      redirect's Location holds the validated path and query, re-encoded).
**   4. Paths are percent-decoded once, dot-segments removed, and an escape above
**      the root, an encoded '/', NUL or control character is refused.  The
**      static handler then resolves symlinks and refuses anything that lands
**      outside the document root, and any segment starting with '.'.
**   5. Bounded everything: head size, line length, header count, body size,
**      chunk line, trailers, head deadline, idle and I/O timeouts, children.
**   6. One process per connection: a crash or a leak dies with its child.  The
**      parent holds no request data and keeps its memory small so fork is cheap.
**   7. The parent never exits on a transient failure: EINTR is restarted, fork
**      failure is answered 503, EMFILE pauses accepting briefly.
**
** Table of contents (grep -n '^/\* ====' httpd.c)
**   1. CONFIG AND PLATFORM
**   2. TABLES (errors, reasons, character classes)
**   3. PARSER (pure: request head, chunked decoder, path normalizer)
**   4. RESPONSE WRITER (pure: head formatting, dates)
**   5. I/O HELPERS
**   6. CONNECTION (the child)
**   7. STATIC FILE HANDLER
**   8. SERVER (listen, fork, reap, shutdown)
**   9. MAIN
*/

/* ==== 1. CONFIG AND PLATFORM ==== */
#if !defined(_POSIX_C_SOURCE) && !defined(HTTPD_PURE_ONLY)
#define _POSIX_C_SOURCE 200809L
#endif
#if !defined(_FILE_OFFSET_BITS) && !defined(HTTPD_PURE_ONLY)
#define _FILE_OFFSET_BITS 64   /* files over 2 GiB on 32-bit systems */
#endif
#if defined(__linux__) && !defined(_GNU_SOURCE) && !defined(HTTPD_PURE_ONLY)
#define _GNU_SOURCE 1          /* sendfile, MSG_MORE, accept4 on Linux */
#endif
#if (defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
     defined(__NetBSD__)) && !defined(_DARWIN_C_SOURCE) && !defined(__BSD_VISIBLE)
#define _DARWIN_C_SOURCE 1
#endif

#include "httpd.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HTTPD_SERVER_NAME "httpd/" HTTPD_VERSION

/* ==== 2. TABLES ==== */

int
httpd_version(void)
{
  return HTTPD_VERSION_NUMBER;
}

const char *
httpd_strerror(int code)
{
  switch (code) {
#define X(name, num, status, msg) case num: return msg;
    HTTPD_ERRORS(X)
#undef X
  }
  return code >= 0 ? "success" : "unknown error";   /* >= 0: not an error */
}

int
httpd_status(int code)
{
  switch (code) {
#define X(name, num, status, msg) case num: return status;
    HTTPD_ERRORS(X)
#undef X
  }
  return code >= 0 ? 200 : 500;
}

/* Reason phrases of the statuses this server can send (RFC 9110 section 15). */
#define HTTPD_REASONS(X) \
  X(100, "Continue") X(200, "OK") X(201, "Created") X(204, "No Content") \
  X(206, "Partial Content") X(301, "Moved Permanently") X(302, "Found") \
  X(304, "Not Modified") X(307, "Temporary Redirect") X(308, "Permanent Redirect") \
  X(400, "Bad Request") X(401, "Unauthorized") X(403, "Forbidden") \
  X(404, "Not Found") X(405, "Method Not Allowed") X(408, "Request Timeout") \
  X(409, "Conflict") X(411, "Length Required") X(412, "Precondition Failed") \
  X(413, "Content Too Large") X(414, "URI Too Long") \
  X(415, "Unsupported Media Type") X(416, "Range Not Satisfiable") \
  X(417, "Expectation Failed") X(429, "Too Many Requests") \
  X(431, "Request Header Fields Too Large") X(500, "Internal Server Error") \
  X(501, "Not Implemented") X(502, "Bad Gateway") X(503, "Service Unavailable") \
  X(504, "Gateway Timeout") X(505, "HTTP Version Not Supported")

const char *
httpd_reason(int status)
{
  switch (status) {
#define X(num, text) case num: return text;
    HTTPD_REASONS(X)
#undef X
  }
  return "Unknown";
}

/* Character classes, one bit each, for the 256 byte values. */
#define CC_TCHAR  0x01   /* token character (RFC 9110 5.6.2) */
#define CC_TARGET 0x02   /* allowed raw in a request-target (RFC 3986 pchar, '/', '?') */
#define CC_VALUE  0x04   /* field-value octet: VCHAR, obs-text, SP, HTAB */
#define CC_HEX    0x08   /* HEXDIG */
#define CC_HOST   0x10   /* reg-name character: unreserved, sub-delims ('%' handled apart) */
#define CC_DIGIT  0x20

/* Classes as constant expressions, evaluated by the compiler into a table. */
#define PC_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define PC_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define PC_XALPHA(c) (((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define PC_UNRES(c) (PC_ALPHA(c) || PC_DIGIT(c) || (c) == '-' || (c) == '.' || \
                     (c) == '_' || (c) == '~')
#define PC_SUBD(c) ((c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || \
                    (c) == '(' || (c) == ')' || (c) == '*' || (c) == '+' || \
                    (c) == ',' || (c) == ';' || (c) == '=')
#define PC_TCHAR(c) (PC_ALPHA(c) || PC_DIGIT(c) || (c) == '!' || (c) == '#' || \
                     (c) == '$' || (c) == '%' || (c) == '&' || (c) == '\'' || \
                     (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' || \
                     (c) == '^' || (c) == '_' || (c) == '`' || (c) == '|' || (c) == '~')
#define PC_CLASS(c) \
  ((PC_TCHAR(c) ? CC_TCHAR : 0) | \
   (PC_UNRES(c) || PC_SUBD(c) || (c) == ':' || (c) == '@' || (c) == '/' || \
    (c) == '?' || (c) == '%' ? CC_TARGET : 0) | \
   (((c) >= 0x20 && (c) != 0x7f) || (c) == '\t' ? CC_VALUE : 0) | \
   (PC_DIGIT(c) || PC_XALPHA(c) ? CC_HEX : 0) | \
   (PC_UNRES(c) || PC_SUBD(c) ? CC_HOST : 0) | \
   (PC_DIGIT(c) ? CC_DIGIT : 0))
#define PC_R4(b)  PC_CLASS(b), PC_CLASS((b) + 1), PC_CLASS((b) + 2), PC_CLASS((b) + 3)
#define PC_R16(b) PC_R4(b), PC_R4((b) + 4), PC_R4((b) + 8), PC_R4((b) + 12)
#define PC_R64(b) PC_R16(b), PC_R16((b) + 16), PC_R16((b) + 32), PC_R16((b) + 48)

static const unsigned char parse_cc[256] = {
  PC_R64(0), PC_R64(64), PC_R64(128), PC_R64(192)
};

#define IS(cls, c) ((parse_cc[(unsigned char)(c)] & (cls)) != 0)

/* ==== 3. PARSER ==== */
/* Pure: no I/O, no allocation, no globals.  Everything returned is a view into
** the caller's buffer.  Positions are size_t indexes; every index is checked
** against the length before the byte is read. */

/* Finds the end of the line that starts at buf[i] and may hold at most max
** bytes before its CRLF: sets *eol to the index of the CR.  Returns 1 if a
** CRLF was found, 0 if the input ends first, -1 on a bare CR or bare LF, -2 if
** the line is longer than max.  Nothing past the limit is looked at, so the
** answer never depends on how the bytes were split. */
static int
parse_eol(const char *buf, size_t len, size_t i, size_t max, size_t *eol)
{
  size_t j;
  for (j = i; j < len; j++) {
    if (buf[j] == '\n')
      return -1;                          /* LF without CR */
    if (buf[j] == '\r') {
      if (j + 1 == len)
        return 0;
      if (buf[j + 1] != '\n')
        return -1;                        /* CR without LF */
      *eol = j;
      return 1;
    }
    if (j - i == max)
      return -2;
  }
  return 0;
}

/* Case-insensitive comparison of a view with a lower-case C string. */
static int
parse_ieq(const char *p, size_t n, const char *lower)
{
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c >= 'A' && c <= 'Z')
      c = (unsigned char)(c - 'A' + 'a');
    if (lower[i] == '\0' || c != (unsigned char)lower[i])
      return 0;
  }
  return lower[n] == '\0';
}

static int
parse_hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return c - 'A' + 10;
}

/* Parses one header field line buf[0..n) (CRLF excluded) into *h.
** Returns 0 or HTTPD_EBADHEADER. */
static int
parse_field(const char *buf, size_t n, struct httpd_header *h)
{
  size_t i = 0, vs, ve;
  while (i < n && IS(CC_TCHAR, buf[i]))
    i++;
  if (i == 0 || i == n || buf[i] != ':')
    return HTTPD_EBADHEADER;   /* LOG: empty name, non-token name, ws before ':', no ':' */
  h->name.p = buf;
  h->name.n = i;
  for (vs = i + 1; vs < n && (buf[vs] == ' ' || buf[vs] == '\t'); vs++)
    ;
  for (ve = vs; ve < n; ve++)
    if (!IS(CC_VALUE, buf[ve]))
      return HTTPD_EBADHEADER; /* LOG: control character in value */
  while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
    ve--;
  h->value.p = buf + vs;
  h->value.n = ve - vs;
  return 0;
}

/* Validates uri-host [":" port] (RFC 3986): reg-name with %-escapes, IPv4, or
** an IP-literal in brackets.  Empty host is refused (http URIs need one). */
static int
parse_host(const char *p, size_t n)
{
  size_t i = 0, ndig;
  unsigned long port = 0;
  if (n > 0 && p[0] == '[') {
    for (i = 1; i < n && p[i] != ']'; i++)
      if (!IS(CC_HEX, p[i]) && p[i] != ':' && p[i] != '.')
        return -1;
    if (i == n || i < 3)
      return -1;                    /* no ']' or empty literal */
    i++;
  } else {
    while (i < n && p[i] != ':') {
      if (p[i] == '%') {
        if (i + 2 >= n || !IS(CC_HEX, p[i + 1]) || !IS(CC_HEX, p[i + 2]))
          return -1;
        i += 3;
      } else if (IS(CC_HOST, p[i])) {
        i++;
      } else {
        return -1;
      }
    }
    if (i == 0)
      return -1;
  }
  if (i == n)
    return 0;
  if (p[i] != ':')
    return -1;
  for (ndig = 0, i++; i < n; i++, ndig++) {
    if (!IS(CC_DIGIT, p[i]) || ndig >= 5)
      return -1;
    port = port * 10 + (unsigned long)(p[i] - '0');
  }
  return port > 65535 ? -1 : 0;
}

/* Parses a Content-Length value: 1*DIGIT below 2^63. */
static int
parse_length(const char *p, size_t n, uint64_t *out)
{
  uint64_t v = 0;
  size_t i;
  if (n == 0)
    return -1;
  for (i = 0; i < n; i++) {
    if (!IS(CC_DIGIT, p[i]))
      return -1;
    if (v > (UINT64_C(0x7fffffffffffffff) - (uint64_t)(p[i] - '0')) / 10)
      return -1;                     /* would reach 2^63 */
    v = v * 10 + (uint64_t)(p[i] - '0');
  }
  *out = v;
  return 0;
}

/* A cursor over a comma-separated list of tokens (RFC 9110 5.6.1). */
struct parse_list {
  const char *p;
  size_t n, i;
};

/* Next element of the list into *el.  Returns 1, 0 at the end, or -1 for a
** malformed element (empty, or other than OWS between the token and the comma);
** after -1 the cursor has moved past that element, so the walk may go on. */
static int
parse_list_next(struct parse_list *l, struct httpd_str *el)
{
  size_t s, e;
  if (l->i > l->n)
    return 0;
  s = l->i;
  while (s < l->n && (l->p[s] == ' ' || l->p[s] == '\t'))
    s++;
  e = s;
  while (e < l->n && IS(CC_TCHAR, l->p[e]))
    e++;
  el->p = l->p + s;
  el->n = e - s;
  while (e < l->n && (l->p[e] == ' ' || l->p[e] == '\t'))
    e++;
  if (e < l->n && l->p[e] != ',') {
    while (e < l->n && l->p[e] != ',')
      e++;
    l->i = e + 1;
    return -1;
  }
  l->i = e + 1;
  return el->n == 0 ? -1 : 1;
}

/* Parses the request-target tgt[0..n) and sets path, query and (absolute-form)
** host.  Returns 0 or HTTPD_EBADLINE. */
static int
parse_target(const char *t, size_t n, int method, struct httpd_request *req)
{
  size_t i, a = 0, q;
  if (n == 1 && t[0] == '*') {
    if (method != HTTPD_OPTIONS)
      return HTTPD_EBADLINE;         /* LOG: '*' target with other than OPTIONS */
    req->path.p = t;
    req->path.n = 1;
    return 0;
  }
  if (t[0] != '/') {
    /* absolute-form: "http" ["s"] "://" authority [path-abempty] ["?" query] */
    if (n >= 7 && parse_ieq(t, 7, "http://"))
      a = 7;
    else if (n >= 8 && parse_ieq(t, 8, "https://"))
      a = 8;
    else
      return HTTPD_EBADLINE;         /* LOG: target neither origin- nor absolute-form */
    for (i = a; i < n && t[i] != '/' && t[i] != '?'; i++)
      ;
    if (parse_host(t + a, i - a) != 0)
      return HTTPD_EBADLINE;         /* LOG: bad authority (userinfo, empty host...) */
    req->host.p = t + a;
    req->host.n = i - a;
    a = i;
  }
  for (i = a; i < n; i++)
    if (t[i] == '[' || t[i] == ']')
      return HTTPD_EBADLINE;         /* LOG: brackets outside an IP-literal host */
  for (q = a; q < n && t[q] != '?'; q++)
    ;
  req->path.p = t + a;
  req->path.n = q - a;
  if (q < n) {
    req->query.p = t + q + 1;
    req->query.n = n - q - 1;
  }
  return 0;
}

/* Method name to enum httpd_method, 0 if unknown. */
static int
parse_method(const char *p, size_t n)
{
  static const char names[][8] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"
  };
  size_t k;
  for (k = 0; k < sizeof names / sizeof names[0]; k++)
    if (strlen(names[k]) == n && memcmp(names[k], p, n) == 0)
      return (int)k + HTTPD_GET;
  return 0;
}

/* Parses the request line buf[s..e) into req.  Returns 0 or a negative code. */
static int
parse_request_line(const char *buf, size_t s, size_t e, struct httpd_request *req)
{
  size_t m, t, i;
  const char *v;
  int rc;
  for (m = s; m < e && IS(CC_TCHAR, buf[m]); m++)
    ;
  if (m == s || m == e || buf[m] != ' ')
    return HTTPD_EBADLINE;           /* LOG: empty or non-token method */
  for (t = m + 1; t < e && buf[t] != ' '; t++) {
    if (buf[t] == '%') {
      if (t + 2 >= e || !IS(CC_HEX, buf[t + 1]) || !IS(CC_HEX, buf[t + 2]))
        return HTTPD_EBADLINE;       /* LOG: bad percent-escape in target */
    } else if (!IS(CC_TARGET, buf[t]) && buf[t] != '[' && buf[t] != ']') {
      return HTTPD_EBADLINE;         /* LOG: forbidden character in target */
    }                                /* brackets: IP-literal, checked below */
  }
  if (t == m + 1 || t == e)
    return HTTPD_EBADLINE;           /* LOG: empty target or no version */
  i = t + 1;
  v = buf + i;
  if (e - i != 8 || memcmp(v, "HTTP/", 5) != 0 || !IS(CC_DIGIT, v[5]) ||
      v[6] != '.' || !IS(CC_DIGIT, v[7]))
    return HTTPD_EBADVERSION;        /* LOG: malformed version (or extra SP) */
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
    return HTTPD_EVERSION;           /* LOG: well-formed but unsupported version */
  req->minor = v[7] - '0';
  req->method_str.p = buf + s;
  req->method_str.n = m - s;
  req->method = parse_method(buf + s, m - s);
  if (req->method == 0)
    return HTTPD_EMETHOD;            /* LOG: unknown method */
  req->target.p = buf + m + 1;
  req->target.n = t - m - 1;
  rc = parse_target(req->target.p, req->target.n, req->method, req);
  return rc;
}

/* Applies the framing rules to the complete header section of req. */
static int
parse_semantics(struct httpd_request *req)
{
  size_t k;
  int nhost = 0, have_cl = 0, have_te = 0, chunked = 0, unknown = 0;
  int conn_close = 0, conn_keep = 0;
  uint64_t cl = 0, v;
  struct parse_list l;
  struct httpd_str el;
  int rc;

  for (k = 0; k < req->nheaders; k++) {
    const struct httpd_header *h = &req->headers[k];
    const char *n = h->name.p;
    size_t nn = h->name.n;
    if (parse_ieq(n, nn, "host")) {
      if (++nhost > 1 || parse_host(h->value.p, h->value.n) != 0)
        return HTTPD_EBADHOST;       /* LOG: repeated or invalid Host */
      if (req->host.p == NULL)       /* absolute-form authority wins */
        req->host = h->value;
    } else if (parse_ieq(n, nn, "content-length")) {
      if (parse_length(h->value.p, h->value.n, &v) != 0)
        return HTTPD_EBADLENGTH;     /* LOG: Content-Length not 1*DIGIT or too big */
      if (have_cl && v != cl)
        return HTTPD_EBADLENGTH;     /* LOG: differing Content-Length values */
      have_cl = 1;
      cl = v;
    } else if (parse_ieq(n, nn, "transfer-encoding")) {
      if (req->minor == 0)
        return HTTPD_EBADCODING;     /* LOG: Transfer-Encoding in HTTP/1.0 */
      have_te = 1;
      l.p = h->value.p;
      l.n = h->value.n;
      l.i = 0;
      while ((rc = parse_list_next(&l, &el)) != 0) {
        if (rc < 0)
          return HTTPD_EBADCODING;   /* LOG: malformed coding list */
        if (chunked)
          return HTTPD_EBADCODING;   /* LOG: chunked not last, or twice */
        if (parse_ieq(el.p, el.n, "chunked"))
          chunked = 1;
        else
          unknown = 1;
      }
    } else if (parse_ieq(n, nn, "connection")) {
      l.p = h->value.p;
      l.n = h->value.n;
      l.i = 0;
      while ((rc = parse_list_next(&l, &el)) != 0) {
        if (rc < 0)
          continue;                  /* not framing: ignore junk options */
        if (parse_ieq(el.p, el.n, "close"))
          conn_close = 1;
        else if (parse_ieq(el.p, el.n, "keep-alive"))
          conn_keep = 1;
      }
    } else if (parse_ieq(n, nn, "expect") && req->minor == 1) {
      if (!parse_ieq(h->value.p, h->value.n, "100-continue"))
        return HTTPD_EEXPECT;        /* LOG: unknown expectation */
      req->expect_continue = 1;
    }
  }
  if (have_te && have_cl)
    return HTTPD_EBADCODING;         /* LOG: both Transfer-Encoding and Content-Length */
  if (have_te && !chunked)
    return unknown ? HTTPD_ECODING : HTTPD_EBADCODING; /* LOG: no final chunked */
  if (have_te && unknown)
    return HTTPD_ECODING;            /* LOG: unsupported coding before chunked */
  if (req->minor == 1 && nhost == 0)
    return HTTPD_EBADHOST;           /* LOG: HTTP/1.1 without Host */
  if (chunked) {
    req->body = HTTPD_BODY_CHUNKED;
  } else if (have_cl && cl > 0) {
    req->body = HTTPD_BODY_LENGTH;
    req->content_length = cl;
  }
  req->keep_alive = !conn_close && (req->minor == 1 || conn_keep);
  if (req->body == HTTPD_BODY_NONE)
    req->expect_continue = 0;        /* nothing to continue with */
  return 0;
}

int
httpd_parse_request(const char *buf, size_t len, struct httpd_request *req)
{
  size_t s = 0, e = 0, pos;
  int rc;

  memset(req, 0, sizeof *req);
  /* RFC 9112 2.2: ignore empty lines received before the request line. */
  while (s + 1 < len && buf[s] == '\r' && buf[s + 1] == '\n')
    s += 2;
  if (s > HTTPD_MAX_HEAD)
    return HTTPD_EHEADLARGE;         /* LOG: endless empty lines */
  rc = parse_eol(buf, len, s, HTTPD_MAX_LINE, &e);
  if (rc == -2)
    return HTTPD_EURILONG;           /* LOG: request line too long */
  if (rc < 0)
    return HTTPD_EBADLINE;           /* LOG: bare CR or LF in request line */
  if (rc == 0)
    return HTTPD_EINCOMPLETE;
  rc = parse_request_line(buf, s, e, req);
  if (rc != 0)
    return rc;
  pos = e + 2;
  for (;;) {
    if (pos + 2 > HTTPD_MAX_HEAD)
      return HTTPD_EHEADLARGE;       /* LOG: no room left for the final CRLF */
    rc = parse_eol(buf, len, pos, HTTPD_MAX_HEAD - 2 - pos, &e);
    if (rc == -2)
      return HTTPD_EHEADLARGE;       /* LOG: head too large */
    if (rc < 0)
      return HTTPD_EBADHEADER;       /* LOG: bare CR or LF in header section */
    if (rc == 0)
      return HTTPD_EINCOMPLETE;
    if (e == pos)
      break;                         /* the empty line ends the head */
    if (buf[pos] == ' ' || buf[pos] == '\t')
      return HTTPD_EBADHEADER;       /* LOG: obs-fold or space before first field */
    if (req->nheaders == HTTPD_MAX_HEADERS)
      return HTTPD_EHEADLARGE;       /* LOG: too many header fields */
    rc = parse_field(buf + pos, e - pos, &req->headers[req->nheaders]);
    if (rc != 0)
      return rc;
    req->nheaders++;
    pos = e + 2;
  }
  req->head_len = e + 2;
  rc = parse_semantics(req);
  if (rc != 0)
    return rc;
  return (int)req->head_len;
}

const struct httpd_header *
httpd_find_header(const struct httpd_request *req, const char *name)
{
  size_t k, i, n = strlen(name);
  for (k = 0; k < req->nheaders; k++) {
    const struct httpd_header *h = &req->headers[k];
    if (h->name.n != n)
      continue;
    for (i = 0; i < n; i++) {
      unsigned char a = (unsigned char)h->name.p[i], b = (unsigned char)name[i];
      if (a >= 'A' && a <= 'Z')
        a = (unsigned char)(a - 'A' + 'a');
      if (b >= 'A' && b <= 'Z')
        b = (unsigned char)(b - 'A' + 'a');
      if (a != b)
        break;
    }
    if (i == n)
      return h;
  }
  return NULL;
}

/* ---- chunked decoder ---- */
enum { CH_SIZE = 0, CH_DATA, CH_DATA_CRLF, CH_TRAILER, CH_DONE };

void
httpd_chunked_init(struct httpd_chunked *ch)
{
  memset(ch, 0, sizeof *ch);
}

int
httpd_chunked_done(const struct httpd_chunked *ch)
{
  return ch->state == CH_DONE;
}

/* Validates a chunk-size line p[0..n) (CRLF excluded) and sets *size.
** chunk-size [ chunk-ext ], chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ) */
static int
parse_chunk_line(const char *p, size_t n, uint64_t *size)
{
  size_t i = 0;
  uint64_t v = 0;
  while (i < n && IS(CC_HEX, p[i])) {
    if (i == 16)
      return -1;                     /* LOG: chunk size over 16 hex digits */
    v = v << 4 | (uint64_t)parse_hexval(p[i]);
    i++;
  }
  if (i == 0)
    return -1;                       /* LOG: empty chunk size or prefix/sign */
  while (i < n) {
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if (i == n || p[i] != ';')
      return -1;                     /* LOG: trailing space or junk after size */
    i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if (i == n || !IS(CC_TCHAR, p[i]))
      return -1;                     /* LOG: empty extension name */
    while (i < n && IS(CC_TCHAR, p[i]))
      i++;
    {
      size_t j = i;
      while (j < n && (p[j] == ' ' || p[j] == '\t'))
        j++;
      if (j == n || p[j] != '=')
        continue;                    /* no value: loop checks what follows */
      i = j + 1;
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if (i < n && p[i] == '"') {
      for (i++; i < n && p[i] != '"'; i++) {
        if (p[i] == '\\') {
          if (++i == n)
            return -1;
        }
        if (!IS(CC_VALUE, p[i]))
          return -1;                 /* LOG: control character in quoted string */
      }
      if (i == n)
        return -1;                   /* LOG: unterminated quoted string */
      i++;
    } else {
      if (i == n || !IS(CC_TCHAR, p[i]))
        return -1;                   /* LOG: empty extension value */
      while (i < n && IS(CC_TCHAR, p[i]))
        i++;
    }
  }
  *size = v;
  return 0;
}

long
httpd_chunked_parse(struct httpd_chunked *ch, const char *in, size_t len,
                    const char **data, size_t *ndata)
{
  size_t i = 0, e = 0, n;
  struct httpd_header h;
  int rc;

  *data = NULL;
  *ndata = 0;
  for (;;) {
    switch (ch->state) {
    case CH_SIZE:
      rc = parse_eol(in, len, i, HTTPD_MAX_CHUNK_LINE - 2, &e);
      if (rc < 0)
        return HTTPD_EBADCHUNK;      /* LOG: bare CR or LF, or chunk line too long */
      if (rc == 0)
        return (long)i;
      if (parse_chunk_line(in + i, e - i, &ch->remaining) != 0)
        return HTTPD_EBADCHUNK;
      i = e + 2;
      ch->state = ch->remaining == 0 ? CH_TRAILER : CH_DATA;
      break;
    case CH_DATA:
      if (i == len)
        return (long)i;
      n = len - i;
      if ((uint64_t)n > ch->remaining)
        n = (size_t)ch->remaining;
      *data = in + i;
      *ndata = n;
      ch->remaining -= n;
      ch->total += n;
      if (ch->remaining == 0)
        ch->state = CH_DATA_CRLF;
      return (long)(i + n);
    case CH_DATA_CRLF:
      if (i < len && in[i] != '\r')
        return HTTPD_EBADCHUNK;      /* LOG: chunk data not followed by CRLF */
      if (i + 1 < len && in[i + 1] != '\n')
        return HTTPD_EBADCHUNK;
      if (i + 2 > len)
        return (long)i;
      i += 2;
      ch->state = CH_SIZE;
      break;
    case CH_TRAILER:
      if (ch->trailer_len + 2 > HTTPD_MAX_TRAILER)
        return HTTPD_EHEADLARGE;     /* LOG: no room left for the final CRLF */
      rc = parse_eol(in, len, i, HTTPD_MAX_TRAILER - 2 - ch->trailer_len, &e);
      if (rc == -2)
        return HTTPD_EHEADLARGE;     /* LOG: trailer section too large */
      if (rc < 0)
        return HTTPD_EBADCHUNK;      /* LOG: bare CR or LF in trailers */
      if (rc == 0)
        return (long)i;
      ch->trailer_len += e - i + 2;
      if (e == i) {
        ch->state = CH_DONE;
        return (long)(i + 2);
      }
      if (in[i] == ' ' || in[i] == '\t')
        return HTTPD_EBADHEADER;     /* LOG: obs-fold in trailers */
      if (ch->ntrailers == HTTPD_MAX_HEADERS)
        return HTTPD_EHEADLARGE;     /* LOG: too many trailer fields */
      if (parse_field(in + i, e - i, &h) != 0)
        return HTTPD_EBADHEADER;     /* LOG: malformed trailer field */
      ch->ntrailers++;
      i = e + 2;
      break;
    default:
      return (long)i;
    }
  }
}

/* ---- request path normalizer ---- */

/* If the segment at p[0..n) (up to the next '/') decodes to "." or "..",
** returns 1 or 2; else 0.  Escapes are only peeked at, not validated. */
static int
parse_dot_segment(const char *p, size_t n)
{
  size_t i = 0;
  int dots = 0;
  while (i < n && p[i] != '/') {
    if (p[i] == '.') {
      i++;
    } else if (p[i] == '%' && i + 2 < n && p[i + 1] == '2' &&
               (p[i + 2] == 'e' || p[i + 2] == 'E')) {
      i += 3;
    } else {
      return 0;
    }
    if (++dots > 2)
      return 0;
  }
  return dots;
}
int
httpd_path_normalize(const char *path, size_t n, char *out, size_t cap)
{
  size_t i, o = 0, seg, limit;
  int last_named = 0;

  if (cap == 0)
    return HTTPD_EURILONG;
  limit = cap - 1 < HTTPD_MAX_PATH ? cap - 1 : HTTPD_MAX_PATH;
  if (n == 0) {
    out[0] = '\0';
    return 0;
  }
  if (path[0] != '/')
    return HTTPD_EBADPATH;           /* LOG: path not absolute */
  i = 1;
  for (;;) {
    /* a dot-segment ("." or "..", maybe encoded) takes no room in out */
    int dots = parse_dot_segment(path + i, n - i);
    seg = o;
    if (dots > 0) {
      while (i < n && path[i] != '/')
        i++;
    }
    /* decode one segment path[i..'/') to out[o..) */
    while (i < n && path[i] != '/') {
      unsigned char c = (unsigned char)path[i];
      if (c == '%') {
        if (i + 2 >= n || !IS(CC_HEX, path[i + 1]) || !IS(CC_HEX, path[i + 2]))
          return HTTPD_EBADPATH;     /* LOG: bad percent-escape */
        c = (unsigned char)(parse_hexval(path[i + 1]) * 16 + parse_hexval(path[i + 2]));
        if (c == '/')
          return HTTPD_EBADPATH;     /* LOG: encoded slash */
        i += 3;
      } else {
        i++;
      }
      if (c < 0x20 || c == 0x7f)
        return HTTPD_EBADPATH;       /* LOG: NUL or control character */
      if (o >= limit)
        return HTTPD_EURILONG;       /* LOG: decoded path too long */
      out[o++] = (char)c;
    }
    last_named = 0;
    if (o - seg == 0 && dots != 2) {
      o = seg;                       /* empty or "." segment */
    } else if (dots == 2) {
      if (seg == 0)
        return HTTPD_EBADPATH;       /* LOG: ".." above the root */
      o = seg - 1;                   /* drop the '/' ending the previous segment */
      while (o > 0 && out[o - 1] != '/')
        o--;
    } else {
      last_named = 1;
      if (i < n) {
        if (o >= limit)
          return HTTPD_EURILONG;
        out[o++] = '/';
      }
    }
    if (i >= n)
      break;
    i++;                             /* skip the '/' */
    if (i == n && last_named)
      break;                         /* trailing slash already written */
  }
  out[o] = '\0';
  return (int)o;
}

#ifndef HTTPD_PURE_ONLY
/* ==== 4. RESPONSE WRITER ==== */
/* Pure formatting into caller buffers: status lines, header fields, dates. */

/* A bounded output buffer; `err` is set once anything did not fit. */
struct resp_buf {
  char *p;
  size_t n, cap;
  int err;
};

static void
resp_init(struct resp_buf *b, char *p, size_t cap)
{
  b->p = p;
  b->n = 0;
  b->cap = cap;
  b->err = 0;
}

static void
resp_put(struct resp_buf *b, const char *s, size_t n)
{
  if (b->err || n > b->cap - b->n) {
    b->err = 1;
    return;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void
resp_puts(struct resp_buf *b, const char *s)
{
  resp_put(b, s, strlen(s));
}

static void
resp_putu(struct resp_buf *b, uint64_t v)
{
  char d[24];
  size_t i = sizeof d;
  do {
    d[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  resp_put(b, d + i, sizeof d - i);
}

static void
resp_putx(struct resp_buf *b, uint64_t v)
{
  char d[20];
  size_t i = sizeof d;
  do {
    d[--i] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  resp_put(b, d + i, sizeof d - i);
}

static const char resp_wday[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char resp_mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t
resp_days(int64_t y, int m, int d)
{
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct resp_tm {
  int64_t year;
  int mon, mday, hour, min, sec, wday;   /* mon 0..11, wday 0 = Sunday */
};

/* Breaks seconds since the epoch into UTC fields. */
static void
resp_gmtime(int64_t t, struct resp_tm *tm)
{
  int64_t days = t / 86400, secs = t % 86400, era, doe, yoe, doy, mp;
  if (secs < 0) {
    secs += 86400;
    days--;
  }
  tm->hour = (int)(secs / 3600);
  tm->min = (int)(secs / 60 % 60);
  tm->sec = (int)(secs % 60);
  tm->wday = (int)(((days % 7) + 11) % 7);   /* 1970-01-01 was a Thursday */
  days += 719468;
  era = (days >= 0 ? days : days - 146096) / 146097;
  doe = days - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  tm->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
  tm->mon = (int)(mp < 10 ? mp + 2 : mp - 10);
  tm->year = yoe + era * 400 + (tm->mon <= 1);
}

static void
resp_put2(struct resp_buf *b, int v)
{
  char d[2];
  d[0] = (char)('0' + v / 10 % 10);
  d[1] = (char)('0' + v % 10);
  resp_put(b, d, 2);
}

/* Appends an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", or with clf set a
** Common Log Format date, "06/Nov/1994:08:49:37 +0000". */
static void
resp_date(struct resp_buf *b, int64_t t, int clf)
{
  struct resp_tm tm;
  const char *sep = clf ? "/" : " ";
  resp_gmtime(t, &tm);
  if (!clf) {
    resp_puts(b, resp_wday[tm.wday]);
    resp_puts(b, ", ");
  }
  resp_put2(b, tm.mday);
  resp_puts(b, sep);
  resp_puts(b, resp_mon[tm.mon]);
  resp_puts(b, sep);
  resp_putu(b, (uint64_t)tm.year);
  resp_puts(b, clf ? ":" : " ");
  resp_put2(b, tm.hour);
  resp_puts(b, ":");
  resp_put2(b, tm.min);
  resp_puts(b, ":");
  resp_put2(b, tm.sec);
  resp_puts(b, clf ? " +0000" : " GMT");
}

/* Parses an IMF-fixdate (the only form this server generates) into *t.
** Returns 0, or -1 if p[0..n) is not one. */
static int
resp_parse_date(const char *p, size_t n, int64_t *t)
{
  int k, mon = -1, v[4], i;
  static const int at[4] = { 5, 12, 17, 20 };   /* day, year, hour, min; sec at 23 */
  int64_t year, sec;
  if (n != 29 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' ||
      p[16] != ' ' || p[19] != ':' || p[22] != ':' || memcmp(p + 25, " GMT", 4) != 0)
    return -1;
  for (k = 0; k < 12; k++)
    if (memcmp(p + 8, resp_mon[k], 3) == 0)
      mon = k;
  if (mon < 0)
    return -1;
  for (i = 0; i < 4; i++) {
    const char *q = p + at[i];
    if (!IS(CC_DIGIT, q[0]) || !IS(CC_DIGIT, q[1]))
      return -1;
    v[i] = (q[0] - '0') * 10 + (q[1] - '0');
  }
  if (!IS(CC_DIGIT, p[14]) || !IS(CC_DIGIT, p[15]) || !IS(CC_DIGIT, p[23]) ||
      !IS(CC_DIGIT, p[24]))
    return -1;
  year = v[1] * 100 + (p[14] - '0') * 10 + (p[15] - '0');
  sec = (p[23] - '0') * 10 + (p[24] - '0');
  if (v[0] < 1 || v[0] > 31 || v[2] > 23 || v[3] > 59 || sec > 60)
    return -1;
  *t = resp_days(year, mon + 1, v[0]) * 86400 + v[2] * 3600 + v[3] * 60 + sec;
  return 0;
}

/* Formats the size line of a chunk of n bytes ("1a\r\n") into line. */
static size_t
resp_chunk_line(char line[24], uint64_t n)
{
  struct resp_buf b;
  resp_init(&b, line, 24);
  resp_putx(&b, n);
  resp_put(&b, "\r\n", 2);
  return b.n;
}

/* Formats a response head into b.  conn: 0 no Connection field, 1 "close",
** 2 "keep-alive".  length < 0: no Content-Length; chunked adds
** Transfer-Encoding.  extra holds complete "Name: value\r\n" lines. */
static void
resp_head(struct resp_buf *b, int status, int64_t now, const char *extra,
          size_t extra_len, int64_t length, int chunked, int conn)
{
  resp_puts(b, "HTTP/1.1 ");
  resp_putu(b, (uint64_t)status);
  resp_puts(b, " ");
  resp_puts(b, httpd_reason(status));
  resp_puts(b, "\r\nServer: " HTTPD_SERVER_NAME "\r\nDate: ");
  resp_date(b, now, 0);
  resp_puts(b, "\r\n");
  resp_put(b, extra, extra_len);
  if (length >= 0) {
    resp_puts(b, "Content-Length: ");
    resp_putu(b, (uint64_t)length);
    resp_puts(b, "\r\n");
  }
  if (chunked)
    resp_puts(b, "Transfer-Encoding: chunked\r\n");
  if (conn == 1)
    resp_puts(b, "Connection: close\r\n");
  else if (conn == 2)
    resp_puts(b, "Connection: keep-alive\r\n");
  resp_puts(b, "\r\n");
}

/* ==== 5. I/O HELPERS ==== */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#if defined(__linux__)
#include <sys/sendfile.h>
#include <sys/syscall.h>
#ifndef SYS_openat2
#define SYS_openat2 437       /* Linux 5.6, the same number on every architecture */
#endif
struct io_open_how {          /* struct open_how of <linux/openat2.h> */
  uint64_t flags, mode, resolve;
};
#define IO_RESOLVE_NO_MAGICLINKS 0x02
#define IO_RESOLVE_NO_SYMLINKS   0x04
#define IO_RESOLVE_BENEATH       0x08
#endif

/* Set by signal handlers; read by the server loop and by children. */
static volatile sig_atomic_t srv_stop;    /* SIGTERM/SIGINT seen */
static volatile sig_atomic_t srv_chld;    /* SIGCHLD seen (parent) */
static int srv_pipe[2] = { -1, -1 };      /* self-pipe: wakes the parent's poll */
static volatile sig_atomic_t srv_wakefd = -1;  /* srv_pipe[1], as the handler sees it */

/* Monotonic clock in milliseconds. */
static int64_t
io_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable or the deadline (monotonic ms) passes.
** Returns 1 ready, 0 timed out, -1 interrupted by a stop request (only when
** `stoppable`), or HTTPD_ESYS.  EINTR is otherwise restarted. */
static int
io_wait_read(int fd, int64_t deadline, int stoppable)
{
  struct pollfd p;
  for (;;) {
    int64_t left = deadline - io_now_ms();
    int r;
    if (stoppable && srv_stop)
      return -1;
    if (left <= 0)
      return 0;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
    if (r > 0)
      return 1;
    if (r < 0 && errno != EINTR)
      return HTTPD_ESYS;
  }
}

/* Reads up to n bytes, waiting at most until deadline.  Returns the count,
** 0 at end of stream, HTTPD_ETIMEOUT, HTTPD_EIO, or -1 on a stop request. */
static long
io_read(int fd, void *buf, size_t n, int64_t deadline, int stoppable)
{
  for (;;) {
    ssize_t r;
    int w = io_wait_read(fd, deadline, stoppable);
    if (w == 0)
      return HTTPD_ETIMEOUT;
    if (w < 0)
      return w == -1 ? -1 : HTTPD_EIO;
    r = read(fd, buf, n);
    if (r >= 0)
      return (long)r;
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
      return HTTPD_EIO;
  }
}

/* Writes all of iov[0..cnt) (modified in place).  The socket's SO_SNDTIMEO
** bounds each blocking write.  Returns 0 or HTTPD_EIO. */
static int
io_writev(int fd, struct iovec *iov, int cnt)
{
  while (cnt > 0) {
    ssize_t r;
    if (iov->iov_len == 0) {
      iov++;
      cnt--;
      continue;
    }
    r = writev(fd, iov, cnt);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return HTTPD_EIO;              /* EPIPE, ECONNRESET, EAGAIN after timeout */
    }
    while (cnt > 0 && (size_t)r >= iov->iov_len) {
      r -= (ssize_t)iov->iov_len;
      iov++;
      cnt--;
    }
    if (cnt > 0) {
      iov->iov_base = (char *)iov->iov_base + r;
      iov->iov_len -= (size_t)r;
    }
  }
  return 0;
}

static int
io_write(int fd, const void *p, size_t n)
{
  struct iovec v;
  v.iov_base = (void *)(uintptr_t)p;
  v.iov_len = n;
  return io_writev(fd, &v, 1);
}

/* Copies n bytes of file `in` from offset off to socket `out`.
** Returns 0 or HTTPD_EIO (also when the file shrank). */
static int
io_sendfile(int out, int in, int64_t off, int64_t n)
{
#if defined(__linux__)
  while (n > 0) {
    off_t o = (off_t)off;
    size_t chunk = n > (int64_t)1 << 30 ? (size_t)1 << 30 : (size_t)n;
    ssize_t r = sendfile(out, in, &o, chunk);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return HTTPD_EIO;
    }
    if (r == 0)
      return HTTPD_EIO;              /* file truncated under us */
    off += r;
    n -= r;
  }
  return 0;
#else
  char buf[16384];
  while (n > 0) {
    size_t want = n > (int64_t)sizeof buf ? sizeof buf : (size_t)n;
    ssize_t r = pread(in, buf, want, (off_t)off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return HTTPD_EIO;
    if (io_write(out, buf, (size_t)r) != 0)
      return HTTPD_EIO;
    off += r;
    n -= r;
  }
  return 0;
#endif
}

/* Leaves the process.  Children use this one exit so that a sanitizer build
** can run exit() (and LeakSanitizer) while a normal build skips atexit work
** inherited from the parent. */
static void
io_exit(int code)
{
#ifdef HTTPD_SANITIZE
  exit(code);
#else
  _exit(code);
#endif
}

/* ==== 6. CONNECTION ==== */
/* Everything here runs in the forked child that owns one client socket. */

#ifndef HTTPD_MAX_RESP_HEAD
#define HTTPD_MAX_RESP_HEAD 4096   /* response head incl. handler headers */
#endif
/* Input buffer: a whole head, then room for chunk lines and trailers. */
#define CONN_INBUF (HTTPD_MAX_HEAD + HTTPD_MAX_TRAILER + 4096)

struct httpd_conn {
  int fd;
  const struct httpd_config *cfg;
  const struct httpd_request *req;
  char peer[INET6_ADDRSTRLEN + 1];
  char *in;                 /* input buffer [0..in_len) of CONN_INBUF */
  size_t in_len;
  size_t head_len;          /* the current request's head, in[0..head_len) */
  size_t body_pos;          /* next unconsumed byte after the head */
  /* request body */
  uint64_t body_left;       /* Content-Length bytes still to read */
  struct httpd_chunked ch;
  const char *pend;         /* decoded chunk data not yet handed out */
  size_t npend;
  int body_done, body_err, continue_sent;
  int64_t body_end;         /* if not 0: no body read past this (monotonic ms) */
  /* response */
  char hdr[HTTPD_MAX_RESP_HEAD / 2];
  size_t hdr_len;
  char head[HTTPD_MAX_RESP_HEAD];
  size_t head_pending;      /* formatted head not yet sent */
  int status, began, ended, no_body, out_chunked, keep_alive, failed;
  int64_t length;
  uint64_t sent;            /* body bytes sent (for the log) */
};

const char *
httpd_peer(const struct httpd_conn *c)
{
  return c->peer;
}

int
httpd_header(struct httpd_conn *c, const char *name, const char *value)
{
  size_t nn = strlen(name), vn = strlen(value), i;
  if (c->began || nn == 0)
    return HTTPD_EINVAL;
  for (i = 0; i < nn; i++)
    if (!IS(CC_TCHAR, name[i]))
      return HTTPD_EINVAL;
  if (parse_ieq(name, nn, "content-length") || parse_ieq(name, nn, "transfer-encoding") ||
      parse_ieq(name, nn, "connection") || parse_ieq(name, nn, "date") ||
      parse_ieq(name, nn, "server"))
    return HTTPD_EINVAL;             /* framing and these are the server's */
  for (i = 0; i < vn; i++)
    if (!IS(CC_VALUE, value[i]))
      return HTTPD_EINVAL;           /* CR, LF or other control: no injection */
  if (nn + vn + 4 > sizeof c->hdr - c->hdr_len)
    return HTTPD_EINVAL;
  memcpy(c->hdr + c->hdr_len, name, nn);
  memcpy(c->hdr + c->hdr_len + nn, ": ", 2);
  memcpy(c->hdr + c->hdr_len + nn + 2, value, vn);
  memcpy(c->hdr + c->hdr_len + nn + 2 + vn, "\r\n", 2);
  c->hdr_len += nn + vn + 4;
  return 0;
}

int
httpd_begin(struct httpd_conn *c, int status, int64_t length)
{
  struct resp_buf b;
  int conn;
  if (c->began || status < 200 || status > 999)
    return HTTPD_EINVAL;
  c->began = 1;
  c->status = status;
  c->no_body = (c->req != NULL && c->req->method == HTTPD_HEAD) ||
               status == 304 || status == 204;
  if (status == 304 || status == 204) {
    length = -1;                     /* no framing fields for bodiless statuses */
  } else if (length < 0) {
    if (c->req != NULL && c->req->minor == 1)
      c->out_chunked = 1;
    else
      c->keep_alive = 0;             /* close-delimited body */
  }
  c->length = length;
  if (srv_stop || (c->req != NULL && c->req->expect_continue && !c->continue_sent))
    c->keep_alive = 0;               /* an unsent body may never come: close */
  conn = !c->keep_alive ? 1 : (c->req != NULL && c->req->minor == 0 ? 2 : 0);
  resp_init(&b, c->head, sizeof c->head);
  resp_head(&b, status, (int64_t)time(NULL), c->hdr, c->hdr_len, length,
            c->out_chunked, conn);
  if (b.err)
    return HTTPD_EINVAL;
  c->head_pending = b.n;
  return 0;
}

/* Sends the pending head followed by iov data in one writev. */
static int
conn_send(struct httpd_conn *c, const void *p, size_t n, int chunk)
{
  struct iovec v[4];
  char line[24];
  int k = 0, rc;
  if (c->head_pending > 0) {
    v[k].iov_base = c->head;
    v[k++].iov_len = c->head_pending;
  }
  if (chunk && n > 0) {
    v[k].iov_base = line;
    v[k++].iov_len = resp_chunk_line(line, (uint64_t)n);
  }
  if (n > 0) {
    v[k].iov_base = (void *)(uintptr_t)p;
    v[k++].iov_len = n;
  }
  if (chunk && n > 0) {
    v[k].iov_base = (void *)(uintptr_t)"\r\n";
    v[k++].iov_len = 2;
  }
  c->head_pending = 0;
  rc = io_writev(c->fd, v, k);
  if (rc != 0)
    c->failed = 1;
  return rc;
}

int
httpd_write(struct httpd_conn *c, const void *p, size_t n)
{
  if (!c->began || c->ended || c->failed)
    return HTTPD_EINVAL;
  if (c->length >= 0 && (uint64_t)n > (uint64_t)c->length - c->sent) {
    c->failed = 1;                   /* more than announced: framing would break */
    return HTTPD_EINVAL;
  }
  c->sent += n;
  if (c->no_body || n == 0)
    return 0;
  return conn_send(c, p, n, c->out_chunked);
}

int
httpd_sendfile(struct httpd_conn *c, int fd, int64_t off, int64_t n)
{
  int rc;
  if (!c->began || c->ended || c->failed || off < 0 || n < 0)
    return HTTPD_EINVAL;
  if (c->length >= 0 && (uint64_t)n > (uint64_t)c->length - c->sent) {
    c->failed = 1;
    return HTTPD_EINVAL;
  }
  c->sent += (uint64_t)n;
  if (c->no_body || n == 0)
    return 0;
  if (c->out_chunked) {
    /* head + size line now, data, then the CRLF ending the chunk */
    char line[24];
    struct iovec v[2];
    v[0].iov_base = c->head;
    v[0].iov_len = c->head_pending;
    v[1].iov_base = line;
    v[1].iov_len = resp_chunk_line(line, (uint64_t)n);
    c->head_pending = 0;
    rc = io_writev(c->fd, v, 2);
    if (rc == 0)
      rc = io_sendfile(c->fd, fd, off, n);
    if (rc == 0)
      rc = io_write(c->fd, "\r\n", 2);
  } else {
    if (c->head_pending > 0) {
#ifdef MSG_MORE
      ssize_t r;
      do
        r = send(c->fd, c->head, c->head_pending, MSG_MORE);
      while (r < 0 && errno == EINTR);
      rc = r == (ssize_t)c->head_pending ? 0 :
           io_write(c->fd, c->head + (r > 0 ? (size_t)r : 0),
                    c->head_pending - (r > 0 ? (size_t)r : 0));
#else
      rc = io_write(c->fd, c->head, c->head_pending);
#endif
      c->head_pending = 0;
      if (rc != 0) {
        c->failed = 1;
        return rc;
      }
    }
    rc = io_sendfile(c->fd, fd, off, n);
  }
  if (rc != 0)
    c->failed = 1;
  return rc;
}

int
httpd_end(struct httpd_conn *c)
{
  int rc = 0;
  if (!c->began || c->ended)
    return HTTPD_EINVAL;
  c->ended = 1;
  if (c->failed)
    return HTTPD_EIO;
  if (c->out_chunked && !c->no_body)
    rc = conn_send(c, "0\r\n\r\n", 5, 0);
  else if (c->head_pending > 0)
    rc = conn_send(c, NULL, 0, 0);
  if (rc == 0 && c->length >= 0 && c->sent < (uint64_t)c->length) {
    c->failed = 1;                   /* short body: the client must see a close */
    rc = HTTPD_EINVAL;
  }
  return rc;
}

int
httpd_respond(struct httpd_conn *c, int status, const char *type,
              const void *body, size_t n)
{
  int rc;
  if (type != NULL && (rc = httpd_header(c, "Content-Type", type)) != 0)
    return rc;
  if ((rc = httpd_begin(c, status, (int64_t)n)) != 0)
    return rc;
  if ((rc = httpd_write(c, body, n)) != 0)
    return rc;
  return httpd_end(c);
}

/* Answers with a fixed plain-text body "NNN Reason\n" (never input). */
static int
conn_status_page(struct httpd_conn *c, int status)
{
  char body[64];
  struct resp_buf b;
  resp_init(&b, body, sizeof body);
  resp_putu(&b, (uint64_t)status);
  resp_puts(&b, " ");
  resp_puts(&b, httpd_reason(status));
  resp_puts(&b, "\n");
  return httpd_respond(c, status, "text/plain", body, b.n);
}

/* Reads more input into c->in after in_len.  Returns bytes read, 0 at EOF,
** or a negative code. */
static long
conn_fill(struct httpd_conn *c, int64_t deadline, int stoppable)
{
  long r;
  if (c->in_len == CONN_INBUF)
    return HTTPD_EBADCHUNK;
  r = io_read(c->fd, c->in + c->in_len, CONN_INBUF - c->in_len, deadline, stoppable);
  if (r > 0)
    c->in_len += (size_t)r;
  return r;
}

long
httpd_read_body(struct httpd_conn *c, void *buf, size_t cap)
{
  const struct httpd_request *req = c->req;
  int64_t deadline;
  long r;
  if (cap == 0)
    return HTTPD_EINVAL;
  if (req == NULL || req->body == HTTPD_BODY_NONE || c->body_done)
    return 0;
  if (c->body_err)
    return c->body_err;
  if (req->expect_continue && !c->continue_sent && c->body_pos == c->in_len &&
      !c->began) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    c->continue_sent = 1;
    if (io_write(c->fd, cont, sizeof cont - 1) != 0)
      return c->body_err = HTTPD_EIO;
  }
  c->continue_sent = 1;
  if (req->body == HTTPD_BODY_LENGTH) {
    size_t avail = c->in_len - c->body_pos, n = cap;
    if (c->body_left == 0) {
      c->body_done = 1;
      return 0;
    }
    if ((uint64_t)n > c->body_left)
      n = (size_t)c->body_left;
    if (avail > 0) {
      if (n > avail)
        n = avail;
      memcpy(buf, c->in + c->body_pos, n);
      c->body_pos += n;
    } else {
      deadline = io_now_ms() + (int64_t)c->cfg->idle_timeout * 1000;
      if (c->body_end != 0 && deadline > c->body_end)
        deadline = c->body_end;
      r = io_read(c->fd, buf, n, deadline, 0);
      if (r <= 0)
        return c->body_err = (int)(r == 0 ? HTTPD_EIO : r);
      n = (size_t)r;
    }
    c->body_left -= n;
    if (c->body_left == 0)
      c->body_done = 1;
    return (long)n;
  }
  for (;;) {                         /* chunked */
    const char *d;
    size_t nd;
    if (c->npend > 0) {
      size_t n = c->npend < cap ? c->npend : cap;
      memcpy(buf, c->pend, n);
      c->pend += n;
      c->npend -= n;
      return (long)n;
    }
    if (httpd_chunked_done(&c->ch)) {
      c->body_done = 1;
      return 0;
    }
    r = httpd_chunked_parse(&c->ch, c->in + c->body_pos, c->in_len - c->body_pos,
                            &d, &nd);
    if (r < 0)
      return c->body_err = (int)r;
    c->body_pos += (size_t)r;
    if (c->ch.total > (uint64_t)c->cfg->max_body)
      return c->body_err = HTTPD_EBODYLARGE;
    if (nd > 0) {
      c->pend = d;
      c->npend = nd;
      continue;
    }
    if (r > 0 || httpd_chunked_done(&c->ch))
      continue;
    /* need more input: keep the head, move the unparsed tail after it */
    memmove(c->in + c->head_len, c->in + c->body_pos, c->in_len - c->body_pos);
    c->in_len = c->head_len + (c->in_len - c->body_pos);
    c->body_pos = c->head_len;
    deadline = io_now_ms() + (int64_t)c->cfg->idle_timeout * 1000;
    if (c->body_end != 0 && deadline > c->body_end)
      deadline = c->body_end;
    r = conn_fill(c, deadline, 0);
    if (r <= 0)
      return c->body_err = (int)(r == 0 ? HTTPD_EIO : r);
  }
}

/* Writes one Common Log Format line with a single write(2). */
static void
conn_log(struct httpd_conn *c, const struct httpd_request *req, int status)
{
  char line[1024];
  struct resp_buf b;
  size_t i, n = 0;
  const char *p = NULL;
  int fd = c->cfg->log_fd == 0 ? 1 : c->cfg->log_fd;
  if (fd < 0)
    return;
  resp_init(&b, line, sizeof line - 1);   /* room for the newline */
  resp_puts(&b, c->peer);
  resp_puts(&b, " - - [");
  resp_date(&b, (int64_t)time(NULL), 1);
  resp_puts(&b, "] \"");
  if (req != NULL && req->method_str.p != NULL && req->target.p != NULL) {
    p = req->method_str.p;           /* request line: method through version */
    n = (size_t)(req->target.p + req->target.n - p) + 9;
  } else if (c->in_len > 0) {
    /* a rejected request: its first line as received, escaped below */
    for (i = 0; i + 1 < c->in_len && c->in[i] == '\r' && c->in[i + 1] == '\n'; i += 2)
      ;
    p = c->in + i;
    while (i + n < c->in_len && c->in[i + n] != '\r' && c->in[i + n] != '\n')
      n++;
  }
  for (i = 0; i < n && b.n < 700; i++) {
    unsigned char ch = (unsigned char)p[i];
    if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
      char esc[4] = { '\\', 'x', "0123456789abcdef"[ch >> 4], "0123456789abcdef"[ch & 15] };
      resp_put(&b, esc, 4);
    } else {
      resp_put(&b, (const char *)&p[i], 1);
    }
  }
  if (n == 0)
    resp_puts(&b, "-");
  resp_puts(&b, "\" ");
  resp_putu(&b, (uint64_t)status);
  resp_puts(&b, " ");
  if (c->sent > 0 && !c->no_body)
    resp_putu(&b, c->sent);
  else
    resp_puts(&b, "-");
  if (b.err)
    b.n = sizeof line - 1;
  line[b.n++] = '\n';
  while (write(fd, line, b.n) < 0 && errno == EINTR)
    ;
}

/* Sends an error response for code and marks the connection to close. */
static void
conn_fail(struct httpd_conn *c, const struct httpd_request *req, int code)
{
  int status = httpd_status(code);
  c->keep_alive = 0;
  c->hdr_len = 0;
  if (!c->began)
    conn_status_page(c, status);
  conn_log(c, req, status);
}

/* Reads and parses the next request head into *req.
** Returns the head length, 0 when the connection should just close (clean
** EOF, idle timeout, shutdown), or a negative code to answer. */
static int
conn_read_head(struct httpd_conn *c, struct httpd_request *req, int first)
{
  int64_t idle_end = io_now_ms() +
                     (int64_t)(first ? c->cfg->head_timeout : c->cfg->idle_timeout) * 1000;
  int64_t head_end = 0;
  for (;;) {
    long r;
    int rc;
    size_t s = 0;
    /* only empty lines so far (allowed before a request): still idle */
    while (s + 1 < c->in_len && c->in[s] == '\r' && c->in[s + 1] == '\n')
      s += 2;
    if (s + 1 == c->in_len && c->in[s] == '\r')
      s++;
    if (c->in_len > 0) {
      rc = httpd_parse_request(c->in, c->in_len, req);
      if (rc != HTTPD_EINCOMPLETE)
        return rc;
      if (head_end == 0 && s < c->in_len)
        head_end = io_now_ms() + (int64_t)c->cfg->head_timeout * 1000;
    }
    r = conn_fill(c, head_end != 0 ? head_end : idle_end, head_end == 0);
    if (r == HTTPD_ETIMEOUT)
      return head_end != 0 ? HTTPD_ETIMEOUT : 0;
    if (r <= 0)
      return 0;                      /* EOF, error, or stop while idle */
  }
}

/* Consumes what is left of the request body so the next request starts at
** its first byte; gives up (and closes) if it cannot. */
static void
conn_finish_body(struct httpd_conn *c)
{
  char scratch[4096];
  long r;
  if (c->req->body == HTTPD_BODY_NONE || c->body_done)
    return;
  if (c->req->expect_continue && !c->continue_sent) {
    c->keep_alive = 0;               /* the client may never send it */
    return;
  }
  /* one deadline for the whole drain: a body trickled a byte at a time must
  ** not hold the child for max_body times the idle timeout */
  c->body_end = io_now_ms() + (int64_t)c->cfg->idle_timeout * 1000;
  while ((r = httpd_read_body(c, scratch, sizeof scratch)) > 0)
    ;
  if (r < 0)
    c->keep_alive = 0;
}

/* Closes after a lingering read, so that unread input does not turn the close
** into a reset that destroys the response in flight. */
static void
conn_close(int fd, int linger)
{
  char buf[4096];
  int64_t end = io_now_ms() + 1000;
  long total = 0;
  if (!linger) {
    close(fd);
    return;
  }
  shutdown(fd, SHUT_WR);
  while (total < 262144) {
    long r = io_read(fd, buf, sizeof buf, end, 0);
    if (r <= 0)
      break;
    total += r;
  }
  close(fd);
}

/* Serves requests on fd until the connection ends.  The handler runs once
** per request; pipelined requests are answered in order. */
static void
conn_serve(int fd, const struct httpd_config *cfg, const char *peer)
{
  char in[CONN_INBUF];
  struct httpd_request req;
  struct httpd_conn c;
  int first = 1, linger = 0;

  memset(&c, 0, sizeof c);
  c.fd = fd;
  c.cfg = cfg;
  c.in = in;
  snprintf(c.peer, sizeof c.peer, "%s", peer);
  memset(&req, 0, sizeof req);
  for (;;) {
    int rc = conn_read_head(&c, &req, first), status;
    size_t rest;
    first = 0;
    /* reset per-request state, keep the input */
    c.req = &req;
    c.head_len = c.body_pos = rc > 0 ? (size_t)rc : 0;
    c.body_left = req.body == HTTPD_BODY_LENGTH ? req.content_length : 0;
    httpd_chunked_init(&c.ch);
    c.pend = NULL;
    c.npend = 0;
    c.body_done = c.body_err = c.continue_sent = 0;
    c.body_end = 0;
    c.hdr_len = c.head_pending = 0;
    c.status = c.began = c.ended = c.no_body = c.out_chunked = c.failed = 0;
    c.length = -1;
    c.sent = 0;
    c.keep_alive = rc > 0 && req.keep_alive && !srv_stop;
    if (rc == 0)
      break;
    if (rc < 0) {
      c.req = NULL;                  /* answer as HTTP/1.1, framing in doubt */
      conn_fail(&c, &req, rc);
      linger = 1;
      break;
    }
    if (req.body == HTTPD_BODY_LENGTH &&
        req.content_length > (uint64_t)cfg->max_body) {
      conn_fail(&c, &req, HTTPD_EBODYLARGE);   /* LOG: body over the limit */
      linger = 1;
      break;
    }
    rc = cfg->handler(&c, &req, cfg->handler_arg);
    if (!c.began) {
      /* the handler gave up without answering: say why, then close */
      c.keep_alive = 0;
      c.hdr_len = 0;                 /* its fields may be what did not fit */
      status = rc < 0 ? httpd_status(rc) : 500;
      conn_status_page(&c, status >= 400 ? status : 500);
      linger = 1;
    } else if (!c.ended) {
      if (rc < 0)
        c.failed = 1;
      else
        httpd_end(&c);
    }
    conn_log(&c, &req, c.status);
    if (c.failed)
      break;                         /* the connection is broken: just close */
    conn_finish_body(&c);
    if (!c.keep_alive || srv_stop) {
      /* the client may have sent more (pipelined requests, an unread body)
      ** that we have not read: linger, or close() may reset the connection
      ** and destroy the response still in flight */
      linger = 1;
      break;
    }
    rest = c.in_len - c.body_pos;
    memmove(in, in + c.body_pos, rest);
    c.in_len = rest;
  }
  conn_close(fd, linger);
}

/* ==== 7. STATIC FILE HANDLER ==== */
/* A handler on the public API (plus conn_status_page for fixed bodies). */

/* Content types by file name extension; the first match wins. */
static const char *const static_types[][2] = {
  { "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
  { "txt", "text/plain; charset=utf-8" }, { "css", "text/css" },
  { "js", "text/javascript" }, { "mjs", "text/javascript" },
  { "json", "application/json" }, { "xml", "application/xml" },
  { "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
  { "gif", "image/gif" }, { "svg", "image/svg+xml" }, { "ico", "image/x-icon" },
  { "webp", "image/webp" }, { "avif", "image/avif" }, { "pdf", "application/pdf" },
  { "wasm", "application/wasm" }, { "woff", "font/woff" }, { "woff2", "font/woff2" },
  { "mp4", "video/mp4" }, { "webm", "video/webm" }, { "mp3", "audio/mpeg" },
  { "ogg", "audio/ogg" }, { "zip", "application/zip" }, { "gz", "application/gzip" },
  { "tar", "application/x-tar" }, { "csv", "text/csv; charset=utf-8" },
  { "md", "text/markdown; charset=utf-8" },
};

static const char *
static_type(const char *path)
{
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  size_t k;
  if (dot == NULL || (slash != NULL && dot < slash))
    return "application/octet-stream";
  for (k = 0; k < sizeof static_types / sizeof static_types[0]; k++)
    if (parse_ieq(dot + 1, strlen(dot + 1), static_types[k][0]))
      return static_types[k][1];
  return "application/octet-stream";
}

/* 1 if any segment of the relative path starts with '.' (dotfiles stay hidden). */
static int
static_hidden(const char *rel)
{
  const char *p = rel;
  for (;;) {
    if (*p == '.')
      return 1;
    p = strchr(p, '/');
    if (p == NULL)
      return 0;
    p++;
  }
}

/* ---- lookup beneath the document root ---- */

void
httpd_root_close(struct httpd_root *root)
{
  if (root->fd >= 0)
    close(root->fd);
  free(root->path);
  root->fd = -1;
  root->path = NULL;
  root->len = 0;
}

int
httpd_root_open(struct httpd_root *root, const char *dir)
{
  struct stat st;
  int e;
  root->fd = -1;
  root->len = 0;
  root->path = realpath(dir, NULL);
  if (root->path == NULL)
    return HTTPD_ESYS;
  root->fd = open(root->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root->fd < 0 || fstat(root->fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
    e = root->fd < 0 ? errno : ENOTDIR;
    httpd_root_close(root);
    errno = e;
    return HTTPD_ESYS;
  }
  root->len = strcmp(root->path, "/") == 0 ? 0 : strlen(root->path);
  return 0;
}

/* Maps the errno of a failed open to the status a client is told. */
static int
static_errno_status(int e)
{
  if (e == EACCES || e == EPERM)
    return 403;                      /* LOG: 501 not permitted (mode, directory search) */
  if (e == EMFILE || e == ENFILE || e == ENOMEM || e == EAGAIN)
    return 503;                      /* LOG: 502 out of descriptors or memory */
  return 404;                        /* ENOENT, ENOTDIR, ELOOP, EXDEV... */
}

/* The portable lookup: rel one segment at a time, each openat(O_NOFOLLOW)
** relative to the directory opened before it, starting at the root
** descriptor.  Symlinks are not followed here (ELOOP: 404).  Returns the
** descriptor or -1 with errno set. */
static int
static_walk(int rootfd, const char *rel, int flags)
{
  char seg[256];
  const char *p = rel, *slash;
  int dir = rootfd, fd, e;
  if (*p == '\0')
    return openat(rootfd, ".", flags);
  for (;;) {
    size_t n;
    int last;
    slash = strchr(p, '/');
    n = slash != NULL ? (size_t)(slash - p) : strlen(p);
    last = slash == NULL || slash[1] == '\0';
    if (n >= sizeof seg) {
      fd = -1;
      e = ENAMETOOLONG;
    } else {
      memcpy(seg, p, n);
      seg[n] = '\0';
      fd = openat(dir, seg, O_NOFOLLOW | (last ? flags : O_RDONLY | O_CLOEXEC) |
                            (last && slash == NULL ? 0 : O_DIRECTORY));
      e = errno;
    }
    if (dir != rootfd)
      close(dir);
    if (fd < 0 || last) {
      errno = e;
      return fd;
    }
    dir = fd;
    p = slash + 1;
  }
}

#if defined(__linux__) && !defined(HTTPD_NO_OPENAT2)
/* openat2(2) without a libc wrapper (glibc has none); retries EAGAIN, which
** the kernel returns when a rename raced a RESOLVE_BENEATH lookup. */
static int
static_openat2(int dirfd, const char *rel, int flags, uint64_t resolve)
{
  struct io_open_how how;
  long r;
  int tries = 0;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(unsigned)flags;
  how.resolve = resolve;
  do
    r = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
  while (r < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 16)));
  return (int)r;
}

/* 1 if descriptor fd, opened through a symlink, is beneath root and no
** segment of its path starts with '.': the dotfile rule applied to what was
** actually opened, read back from /proc/self/fd (no /proc: refused). */
static int
static_opened_ok(const struct httpd_root *root, int fd)
{
  char link[40], got[PATH_MAX];
  struct resp_buf b;
  ssize_t n;
  const char *tail;
  resp_init(&b, link, sizeof link - 1);
  resp_puts(&b, "/proc/self/fd/");
  resp_putu(&b, (uint64_t)fd);
  link[b.n] = '\0';
  n = readlink(link, got, sizeof got - 1);
  if (n <= 0 || (size_t)n >= sizeof got - 1)
    return 0;
  got[n] = '\0';
  if (strncmp(got, root->path, root->len) != 0)
    return 0;
  tail = got + root->len;
  if (*tail == '\0')
    return 1;
  return *tail == '/' && !static_hidden(tail + 1);
}
#endif

/* Opens the normalized relative path rel (no "." or ".." segment, no
** dotfile: httpd_path_normalize and static_hidden have run) beneath root.
** Nothing outside the root is ever opened: not through a symlink, not when a
** rename swaps a directory for a symlink during the lookup (the kernel
** resolves beneath root->fd; where it cannot, no symlink is followed).
** Returns the descriptor with *st filled (fstat of what was opened), or a
** negative HTTP status: -404 missing, outside or hidden, -403 not permitted,
** -503 out of descriptors, -500 otherwise. */
static int
static_open(const struct httpd_root *root, const char *rel, struct stat *st)
{
  int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;  /* FIFOs never block */
  int fd;
#if defined(__linux__) && !defined(HTTPD_NO_OPENAT2)
  const char *name = rel[0] != '\0' ? rel : ".";
  /* Fast path, no symlink anywhere: what was opened is rel itself. */
  fd = static_openat2(root->fd, name, flags, IO_RESOLVE_BENEATH |
                      IO_RESOLVE_NO_SYMLINKS | IO_RESOLVE_NO_MAGICLINKS);
  if (fd < 0 && errno == ELOOP) {
    /* a symlink on the way: follow it, within the root only, then judge
    ** the path of what was opened */
    fd = static_openat2(root->fd, name, flags, IO_RESOLVE_BENEATH |
                        IO_RESOLVE_NO_MAGICLINKS);
    if (fd >= 0 && !static_opened_ok(root, fd)) {
      close(fd);
      return -404;                   /* LOG: 503 symlink to a dotfile or out of the root */
    }
  }
  if (fd < 0 && errno == EXDEV)
    return -404;                     /* LOG: 504 symlink leads out of the root */
  if (fd < 0 && (errno == ENOSYS || errno == EPERM))
    fd = static_walk(root->fd, rel, flags);   /* no openat2 (old kernel, seccomp) */
#else
  fd = static_walk(root->fd, rel, flags);
#endif
  if (fd < 0)
    return -static_errno_status(errno);
  if (fstat(fd, st) != 0) {
    close(fd);
    return -500;
  }
  return fd;
}

/* Locates what rel names: a regular file, or a directory's index.html
** (appended to rel, whose buffer holds cap bytes).  Returns the descriptor
** with *st filled, or a negative status: -301 for a directory named without
** its trailing slash (rel unchanged), -403 for a directory without index or
** something not a regular file, -414 when "index.html" does not fit. */
static int
static_locate(const struct httpd_root *root, char *rel, size_t n, size_t cap,
              struct stat *st)
{
  int fd = static_open(root, rel, st);
  if (fd < 0 || !S_ISDIR(st->st_mode))
    goto check;
  close(fd);
  if (n > 0 && rel[n - 1] != '/')
    return -301;
  if (n + sizeof "index.html" > cap)
    return -414;
  memcpy(rel + n, "index.html", sizeof "index.html");
  fd = static_open(root, rel, st);
  if (fd == -404)
    return -403;                     /* LOG: 505 directory without index */
check:
  if (fd >= 0 && !S_ISREG(st->st_mode)) {
    close(fd);
    return -403;                     /* LOG: 506 not a regular file */
  }
  return fd;
}

/* Percent-encodes rel into b for a Location field ('/' kept). */
static void
static_put_encoded(struct resp_buf *b, const char *rel)
{
  for (; *rel != '\0'; rel++) {
    unsigned char ch = (unsigned char)*rel;
    if (IS(CC_HOST, ch) || ch == '/' || ch == ':' || ch == '@') {
      resp_put(b, (const char *)rel, 1);
    } else {
      char e[3] = { '%', "0123456789ABCDEF"[ch >> 4], "0123456789ABCDEF"[ch & 15] };
      resp_put(b, e, 3);
    }
  }
}

/* 1 if the If-None-Match list p[0..n) matches etag (weak comparison). */
static int
static_etag_match(const char *p, size_t n, const char *etag)
{
  size_t i = 0, el = strlen(etag);
  while (i < n) {
    size_t s;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
      i++;
    if (i == n)
      break;
    if (p[i] == '*')
      return 1;
    if (n - i >= 2 && p[i] == 'W' && p[i + 1] == '/')
      i += 2;
    if (i == n || p[i] != '"')
      return 0;                      /* malformed: no match */
    s = i++;
    while (i < n && p[i] != '"')
      i++;
    if (i == n)
      return 0;
    i++;
    if (i - s == el && memcmp(p + s, etag, el) == 0)
      return 1;
  }
  return 0;
}

/* Parses a Range value against size.  Returns 1 with [*first, *last] for a
** single satisfiable range, 0 to ignore the field (malformed, or several
** ranges: the full body is sent), -1 if unsatisfiable (416). */
#define STATIC_POS_MAX ((uint64_t)1 << 62)

static int
static_range(const char *p, size_t n, int64_t size, int64_t *first, int64_t *last)
{
  uint64_t a = 0, b = 0;
  size_t i = 6, da = 0, db = 0;
  if (n < 7 || !parse_ieq(p, 6, "bytes="))
    return 0;
  /* positions saturate at 2^62: a last position beyond the end is clamped
  ** (RFC 9110 14.1.2) however many digits it has, a first one is past it */
  for (; i < n && IS(CC_DIGIT, p[i]); i++, da++)
    a = a >= STATIC_POS_MAX / 10 ? STATIC_POS_MAX : a * 10 + (uint64_t)(p[i] - '0');
  if (i == n || p[i] != '-')
    return 0;
  for (i++; i < n && IS(CC_DIGIT, p[i]); i++, db++)
    b = b >= STATIC_POS_MAX / 10 ? STATIC_POS_MAX : b * 10 + (uint64_t)(p[i] - '0');
  if (i != n || (da == 0 && db == 0))
    return 0;                        /* junk, several ranges, or "-" */
  if (da == 0) {                     /* suffix: last b bytes */
    if (b == 0 || size == 0)
      return -1;
    *first = (uint64_t)size > b ? size - (int64_t)b : 0;
    *last = size - 1;
    return 1;
  }
  if (db > 0 && b < a)
    return 0;                        /* invalid range-spec: ignore */
  if (a >= (uint64_t)size)
    return -1;
  *first = (int64_t)a;
  *last = db == 0 || b >= (uint64_t)size ? size - 1 : (int64_t)b;
  return 1;
}

/* Answers 301 to rel + "/" (and the query), for a directory named without
** its trailing slash. */
static int
static_redirect(struct httpd_conn *c, const struct httpd_request *req, const char *rel)
{
  char loc[HTTPD_MAX_PATH * 3 + 16];
  struct resp_buf b;
  resp_init(&b, loc, sizeof loc - 1);
  resp_puts(&b, "/");
  static_put_encoded(&b, rel);
  resp_puts(&b, "/");
  if (req->query.p != NULL) {
    resp_puts(&b, "?");
    resp_put(&b, req->query.p, req->query.n);
  }
  if (b.err || b.n > sizeof c->hdr - 256)
    return HTTPD_EURILONG;           /* LOG: 507 Location would not fit the head */
  loc[b.n] = '\0';
  if (httpd_header(c, "Location", loc) != 0)
    return HTTPD_EURILONG;           /* LOG: 508 Location does not fit the response head */
  return conn_status_page(c, 301);
}

/* Sends the open regular file fd (*st) as the answer to req: validators,
** conditional requests (304), one byte range (206, 416), the body. */
static int
static_send(struct httpd_conn *c, const struct httpd_request *req, int fd,
            const struct stat *st, const char *type)
{
  char etag[64], lm[40], cr[96];
  struct resp_buf b;
  const struct httpd_header *h, *ims, *inm;
  int r, rc;
  int64_t mtime = (int64_t)st->st_mtime, size = (int64_t)st->st_size, first = 0, last = -1;

  resp_init(&b, etag, sizeof etag - 1);
  resp_puts(&b, "\"");
  resp_putx(&b, (uint64_t)st->st_ino);
  resp_puts(&b, "-");
  resp_putx(&b, (uint64_t)size);
  resp_puts(&b, "-");
  resp_putx(&b, (uint64_t)mtime);
  resp_puts(&b, "\"");
  etag[b.n] = '\0';
  resp_init(&b, lm, sizeof lm - 1);
  resp_date(&b, mtime, 0);
  lm[b.n] = '\0';
  httpd_header(c, "Last-Modified", lm);
  httpd_header(c, "ETag", etag);
  inm = httpd_find_header(req, "If-None-Match");
  ims = httpd_find_header(req, "If-Modified-Since");
  if (inm != NULL) {
    if (static_etag_match(inm->value.p, inm->value.n, etag))
      goto not_modified;
  } else if (ims != NULL) {
    int64_t t;
    if (resp_parse_date(ims->value.p, ims->value.n, &t) == 0 && mtime <= t)
      goto not_modified;
  }
  httpd_header(c, "Accept-Ranges", "bytes");
  h = httpd_find_header(req, "Range");
  r = h == NULL ? 0 : static_range(h->value.p, h->value.n, size, &first, &last);
  if (r != 0 && (h = httpd_find_header(req, "If-Range")) != NULL) {
    int64_t t;
    if (h->value.n > 1 && (h->value.p[0] == '"' ||
                           (h->value.p[0] == 'W' && h->value.p[1] == '/'))) {
      if (h->value.n != strlen(etag) || memcmp(h->value.p, etag, h->value.n) != 0)
        r = 0;                       /* strong comparison failed: full body */
    } else if (resp_parse_date(h->value.p, h->value.n, &t) != 0 || t != mtime) {
      r = 0;
    }
  }
  resp_init(&b, cr, sizeof cr - 1);
  resp_puts(&b, "bytes ");
  if (r < 0) {
    resp_puts(&b, "*/");
    resp_putu(&b, (uint64_t)size);
    cr[b.n] = '\0';
    httpd_header(c, "Content-Range", cr);
    return conn_status_page(c, 416);
  }
  if (r > 0) {
    resp_putu(&b, (uint64_t)first);
    resp_puts(&b, "-");
    resp_putu(&b, (uint64_t)last);
    resp_puts(&b, "/");
    resp_putu(&b, (uint64_t)size);
    cr[b.n] = '\0';
    httpd_header(c, "Content-Range", cr);
  } else {
    first = 0;
    last = size - 1;
  }
  httpd_header(c, "Content-Type", type);
  rc = httpd_begin(c, r > 0 ? 206 : 200, last - first + 1);
  if (rc == 0)
    rc = httpd_sendfile(c, fd, first, last - first + 1);
  if (rc == 0)
    rc = httpd_end(c);
  return rc;
not_modified:
  rc = httpd_begin(c, 304, -1);
  return rc == 0 ? httpd_end(c) : rc;
}

int
httpd_static(struct httpd_conn *c, const struct httpd_request *req, void *arg)
{
  char rel[HTTPD_MAX_PATH + 16];
  const struct httpd_root *root = arg;
  struct stat st;
  int n, fd, rc;

  if (req->method != HTTPD_GET && req->method != HTTPD_HEAD) {
    httpd_header(c, "Allow", "GET, HEAD");
    return conn_status_page(c, 405);
  }
  if (root == NULL || root->fd < 0)
    return HTTPD_EINVAL;
  n = httpd_path_normalize(req->path.p, req->path.n, rel, HTTPD_MAX_PATH + 1);
  if (n < 0)
    return n;                        /* LOG: unsafe path (400) or too long (414) */
  if (static_hidden(rel))
    return conn_status_page(c, 404); /* LOG: dotfile */
  fd = static_locate(root, rel, (size_t)n, sizeof rel, &st);
  if (fd == -301)
    return static_redirect(c, req, rel);
  if (fd == -414)
    return HTTPD_EURILONG;
  if (fd < 0)
    return conn_status_page(c, -fd);
  rc = static_send(c, req, fd, &st, static_type(rel));
  close(fd);
  return rc;
}

/* ==== 8. SERVER ==== */
/* The parent: listen, accept, fork, reap.  It keeps no request state and
** little memory, so fork stays cheap. */

#ifndef HTTPD_BACKLOG
#define HTTPD_BACKLOG 4096   /* the kernel caps it at somaxconn */
#endif
#ifndef HTTPD_EMFILE_PAUSE_MS
#define HTTPD_EMFILE_PAUSE_MS 100
#endif

/* Async-signal-safe: records the signal and wakes the loop through the pipe. */
static void
srv_on_signal(int sig)
{
  int saved = errno;
  if (sig == SIGCHLD)
    srv_chld = 1;
  else
    srv_stop = 1;
  if (srv_wakefd >= 0)
    (void)!write((int)srv_wakefd, "", 1);
  errno = saved;
}

static int
srv_sigaction(int sig, void (*fn)(int))
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = sig == SIGCHLD ? SA_NOCLDSTOP | SA_RESTART : SA_RESTART;
  return sigaction(sig, &sa, NULL);
}

static int
srv_cloexec_nonblock(int fd, int nonblock)
{
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
    return -1;
  if (nonblock) {
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
      return -1;
  }
  return 0;
}

int
httpd_listen(const char *addr, const char *port, int *port_out)
{
  struct addrinfo hints, *res = NULL, *ai;
  int fd = -1, on = 1, off = 0, pass;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = addr == NULL ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  /* with no address: [::] dual-stack first, then 0.0.0.0 */
  for (pass = 0; pass < 2 && fd < 0; pass++) {
    if (pass == 1) {
      if (addr != NULL)
        break;
      hints.ai_family = AF_INET;
    }
    if (getaddrinfo(addr, port != NULL ? port : "8888", &hints, &res) != 0)
      continue;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
      fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd < 0)
        continue;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
      if (ai->ai_family == AF_INET6 && addr == NULL)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
      if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
          listen(fd, HTTPD_BACKLOG) == 0 && srv_cloexec_nonblock(fd, 1) == 0)
        break;
      close(fd);
      fd = -1;
    }
    freeaddrinfo(res);
    res = NULL;
  }
  if (fd < 0)
    return HTTPD_ESYS;
  if (port_out != NULL) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    *port_out = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
      *port_out = ntohs(ss.ss_family == AF_INET6 ?
                        ((struct sockaddr_in6 *)&ss)->sin6_port :
                        ((struct sockaddr_in *)&ss)->sin_port);
  }
  return fd;
}

/* Live children, by pid: a small table in the parent. */
struct srv_kids {
  pid_t *pid;
  int cap, live;
};

/* Drops pid from the table of live children (an adopted orphan is not in it). */
static void
srv_forget(struct srv_kids *k, pid_t pid)
{
  int i;
  for (i = 0; i < k->live; i++)
    if (k->pid[i] == pid) {
      k->pid[i] = k->pid[--k->live];
      return;
    }
}

/* Reaps every child that has exited (and adopted orphans when PID 1):
** waitpid(-1, WNOHANG) until nothing is left, because signals coalesce. */
static void
srv_reap(struct srv_kids *k)
{
  int saved = errno, st;
  pid_t p;
  srv_chld = 0;
  while ((p = waitpid(-1, &st, WNOHANG)) != 0) {
    if (p < 0) {
      if (errno == EINTR)
        continue;
      break;                         /* ECHILD: none left */
    }
    srv_forget(k, p);
  }
  errno = saved;
}

static void
srv_drain_pipe(void)
{
  char buf[64];
  while (read(srv_pipe[0], buf, sizeof buf) > 0)
    ;
}

/* Fork failed: answer 503 without blocking the loop for long, then close. */
static void
srv_busy(int fd)
{
  static const char msg[] =
    "HTTP/1.1 503 Service Unavailable\r\nServer: " HTTPD_SERVER_NAME "\r\n"
    "Content-Type: text/plain\r\nContent-Length: 24\r\nConnection: close\r\n"
    "Retry-After: 1\r\n\r\n503 Service Unavailable\n";
  char buf[4096];
  struct pollfd p;
  p.fd = fd;
  p.events = POLLIN;
  p.revents = 0;
  (void)srv_cloexec_nonblock(fd, 1); /* never block the accepting loop */
  (void)poll(&p, 1, 50);             /* let the request arrive, so close is no RST */
  while (read(fd, buf, sizeof buf) > 0)
    ;
  (void)!write(fd, msg, sizeof msg - 1);   /* SIGPIPE is ignored */
  shutdown(fd, SHUT_WR);
  while (read(fd, buf, sizeof buf) > 0)
    ;
  close(fd);
}

/* The child's life: drop the parent's descriptors and signal dispositions,
** serve the connection, exit. */
static void
srv_child(const struct httpd_config *cfg, int lfd, int cfd,
          const struct sockaddr_storage *ss)
{
  char peer[INET6_ADDRSTRLEN + 1] = "-";
  int one = 1;
  struct timeval tv;
  int rpipe = srv_pipe[0], wpipe = srv_pipe[1];
  srv_wakefd = -1;                   /* first: the handler must not write to it */
  srv_pipe[0] = srv_pipe[1] = -1;
  close(lfd);
  close(rpipe);
  close(wpipe);
  signal(SIGCHLD, SIG_DFL);          /* a handler's own children are its own */
  srv_sigaction(SIGTERM, srv_on_signal);
  srv_sigaction(SIGINT, srv_on_signal);
  /* BSD accept() inherits O_NONBLOCK from the listener: the child blocks,
  ** bounded by SO_SNDTIMEO and poll() deadlines */
  fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) & ~O_NONBLOCK);
  setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  tv.tv_sec = cfg->idle_timeout;
  tv.tv_usec = 0;
  setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (ss->ss_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, peer, sizeof peer);
  else if (ss->ss_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, peer, sizeof peer);
  conn_serve(cfd, cfg, peer);
  io_exit(0);
}

int
httpd_serve(const struct httpd_config *user, int lfd)
{
  struct httpd_config cfg = *user;
  struct srv_kids kids;
  struct sigaction old_chld, old_term, old_int, old_pipe;
  int64_t paused_until = 0, end;
  int i;

  if (cfg.handler == NULL || lfd < 0)
    return HTTPD_EINVAL;
  if (cfg.max_children <= 0)
    cfg.max_children = 256;
  if (cfg.idle_timeout <= 0)
    cfg.idle_timeout = 10;
  if (cfg.head_timeout <= 0)
    cfg.head_timeout = 10;
  if (cfg.grace <= 0)
    cfg.grace = 10;
  if (cfg.max_body == 0)
    cfg.max_body = (int64_t)1 << 20;
  else if (cfg.max_body < 0)
    cfg.max_body = 0;                /* negative: no request body at all */
  kids.cap = cfg.max_children;
  kids.live = 0;
  kids.pid = calloc((size_t)kids.cap, sizeof *kids.pid);
  if (kids.pid == NULL)
    return HTTPD_ESYS;
  if (pipe(srv_pipe) != 0) {
    free(kids.pid);
    return HTTPD_ESYS;
  }
  if (srv_cloexec_nonblock(srv_pipe[0], 1) != 0 ||
      srv_cloexec_nonblock(srv_pipe[1], 1) != 0 ||
      srv_cloexec_nonblock(lfd, 1) != 0) {
    close(srv_pipe[0]);
    close(srv_pipe[1]);
    srv_pipe[0] = srv_pipe[1] = -1;
    free(kids.pid);
    return HTTPD_ESYS;
  }
  srv_stop = 0;
  srv_wakefd = srv_pipe[1];
  sigaction(SIGCHLD, NULL, &old_chld);
  sigaction(SIGTERM, NULL, &old_term);
  sigaction(SIGINT, NULL, &old_int);
  sigaction(SIGPIPE, NULL, &old_pipe);
  signal(SIGPIPE, SIG_IGN);
  srv_sigaction(SIGCHLD, srv_on_signal);
  srv_sigaction(SIGTERM, srv_on_signal);
  srv_sigaction(SIGINT, srv_on_signal);

  while (!srv_stop) {
    struct pollfd p[2];
    int np = 1, timeout = -1, can_accept;
    int64_t now = io_now_ms();
    p[0].fd = srv_pipe[0];
    p[0].events = POLLIN;
    p[0].revents = 0;
    can_accept = kids.live < kids.cap && now >= paused_until;
    if (can_accept) {
      p[1].fd = lfd;
      p[1].events = POLLIN;
      p[1].revents = 0;
      np = 2;
    } else if (kids.live < kids.cap) {
      timeout = (int)(paused_until - now);   /* EMFILE pause */
    }                                /* at the cap: only SIGCHLD wakes us */
    if (poll(p, (nfds_t)np, timeout) < 0 && errno != EINTR)
      break;
    srv_drain_pipe();
    srv_reap(&kids);
    if (np < 2 || !(p[1].revents & POLLIN) || srv_stop)
      continue;
    while (kids.live < kids.cap && !srv_stop) {
      struct sockaddr_storage ss;
      socklen_t sl = sizeof ss;
      pid_t pid;
      int cfd = accept(lfd, (struct sockaddr *)&ss, &sl);
      if (cfd < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
          continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
          paused_until = io_now_ms() + HTTPD_EMFILE_PAUSE_MS;  /* LOG: out of fds */
        break;                       /* EAGAIN: backlog empty */
      }
      srv_cloexec_nonblock(cfd, 0);
      pid = fork();
      if (pid < 0) {
        srv_busy(cfd);               /* LOG: fork failed (ulimit -u?) */
        break;
      }
      if (pid == 0)
        srv_child(&cfg, lfd, cfd, &ss);
      close(cfd);
      kids.pid[kids.live++] = pid;
    }
  }

  /* Shutdown: stop accepting, ask children to finish, then insist. */
  close(lfd);
  srv_reap(&kids);
  for (i = 0; i < kids.live; i++)
    kill(kids.pid[i], SIGTERM);
  end = io_now_ms() + (int64_t)cfg.grace * 1000;
  while (kids.live > 0) {
    struct pollfd p;
    int64_t left = end - io_now_ms();
    if (left <= 0)
      break;
    p.fd = srv_pipe[0];
    p.events = POLLIN;
    p.revents = 0;
    (void)poll(&p, 1, left > 1000 ? 1000 : (int)left);
    srv_drain_pipe();
    srv_reap(&kids);
  }
  for (i = 0; i < kids.live; i++)
    kill(kids.pid[i], SIGKILL);      /* LOG: child outlived the grace period */
  while (kids.live > 0) {
    int st;
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0 && errno == EINTR)
      continue;
    if (p < 0)
      break;
    srv_forget(&kids, p);
  }
  srv_reap(&kids);
  sigaction(SIGCHLD, &old_chld, NULL);   /* give the embedding program its */
  sigaction(SIGTERM, &old_term, NULL);   /* signal dispositions back */
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGPIPE, &old_pipe, NULL);
  srv_wakefd = -1;
  close(srv_pipe[0]);
  close(srv_pipe[1]);
  srv_pipe[0] = srv_pipe[1] = -1;
  free(kids.pid);
  return 0;
}

#endif /* HTTPD_PURE_ONLY */

/* ==== 9. MAIN ==== */
#if !defined(HTTPD_NO_MAIN) && !defined(HTTPD_PURE_ONLY)

static const char main_usage[] =
  "usage: httpd [options]\n"
  "  -a, --addr ADDR          bind address (default: all, IPv6 and IPv4)\n"
  "  -p, --port PORT          port (default 8888; 0 picks a free one)\n"
  "  -r, --root DIR           document root (default www/ if present, else .)\n"
  "  -c, --children N         most live children (default 256)\n"
  "  -t, --timeout SECONDS    keep-alive idle and I/O timeout (default 10)\n"
  "  -T, --head-timeout SEC   deadline for a whole request head (default 10)\n"
  "  -g, --grace SECONDS      shutdown grace period (default 10)\n"
  "  -b, --max-body BYTES     largest request body (default 1048576)\n"
  "  -l, --log FILE           access log, Common Log Format (default stdout)\n"
  "  -h, --help               this text\n";

/* Parses a decimal number in [lo, hi]; returns 0 or -1. */
static int
main_number(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
  int64_t v = 0;
  if (*s == '\0')
    return -1;
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9' || v > (hi - (*s - '0')) / 10)
      return -1;
    v = v * 10 + (*s - '0');
  }
  if (v < lo)
    return -1;
  *out = v;
  return 0;
}

int
main(int argc, char **argv)
{
  static const char *const opts[][2] = {
    { "-a", "--addr" }, { "-p", "--port" }, { "-r", "--root" },
    { "-c", "--children" }, { "-t", "--timeout" }, { "-T", "--head-timeout" },
    { "-g", "--grace" }, { "-b", "--max-body" }, { "-l", "--log" },
  };
  const char *val[sizeof opts / sizeof opts[0]] = { 0 };
  struct httpd_config cfg;
  struct stat st;
  struct httpd_root root;
  int i, k, lfd, port = 0, rc;
  int64_t v;

  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *eq = NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(main_usage, stdout);
      return 0;
    }
    if (strncmp(a, "--", 2) == 0)
      eq = strchr(a, '=');
    for (k = 0; k < (int)(sizeof opts / sizeof opts[0]); k++) {
      size_t ln = eq != NULL ? (size_t)(eq - a) : strlen(a);
      if (strcmp(a, opts[k][0]) == 0 ||
          (strlen(opts[k][1]) == ln && strncmp(a, opts[k][1], ln) == 0))
        break;
    }
    if (k == (int)(sizeof opts / sizeof opts[0])) {
      fprintf(stderr, "httpd: unknown option '%s'\n%s", a, main_usage);
      return 2;
    }
    if (eq != NULL) {
      val[k] = eq + 1;
    } else if (i + 1 < argc) {
      val[k] = argv[++i];
    } else {
      fprintf(stderr, "httpd: option '%s' needs a value\n%s", a, main_usage);
      return 2;
    }
  }
  memset(&cfg, 0, sizeof cfg);
  cfg.handler = httpd_static;
  {
    static const struct { int opt; int64_t lo, hi; } nums[] = {
      { 3, 1, 1000000 }, { 4, 1, 86400 }, { 5, 1, 86400 }, { 6, 1, 86400 },
      { 7, 0, INT64_MAX / 2 },
    };
    for (k = 0; k < (int)(sizeof nums / sizeof nums[0]); k++) {
      const char *s = val[nums[k].opt];
      if (s == NULL)
        continue;
      if (main_number(s, nums[k].lo, nums[k].hi, &v) != 0) {
        fprintf(stderr, "httpd: bad value for %s: '%s'\n", opts[nums[k].opt][1], s);
        return 2;
      }
      switch (nums[k].opt) {
      case 3: cfg.max_children = (int)v; break;
      case 4: cfg.idle_timeout = (int)v; break;
      case 5: cfg.head_timeout = (int)v; break;
      case 6: cfg.grace = (int)v; break;
      default: cfg.max_body = v == 0 ? -1 : v; break;
      }
    }
  }
  if (val[1] != NULL && main_number(val[1], 0, 65535, &v) != 0) {
    fprintf(stderr, "httpd: bad port '%s'\n", val[1]);
    return 2;
  }
  if (val[2] == NULL)
    val[2] = stat("www", &st) == 0 && S_ISDIR(st.st_mode) ? "www" : ".";
  if (httpd_root_open(&root, val[2]) != 0) {
    fprintf(stderr, "httpd: document root '%s': %s\n", val[2], strerror(errno));
    return 1;
  }
  cfg.handler_arg = &root;
  if (val[8] != NULL && strcmp(val[8], "-") != 0) {
    cfg.log_fd = open(val[8], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (cfg.log_fd < 0) {
      fprintf(stderr, "httpd: cannot open log '%s': %s\n", val[8], strerror(errno));
      return 1;
    }
  }
  lfd = httpd_listen(val[0], val[1], &port);
  if (lfd < 0) {
    fprintf(stderr, "httpd: cannot listen on %s port %s: %s\n",
            val[0] != NULL ? val[0] : "*", val[1] != NULL ? val[1] : "8888",
            strerror(errno));
    return 1;
  }
  fprintf(stderr, "httpd: listening on %s port %d\n", val[0] != NULL ? val[0] : "*", port);
  /* httpd_serve gives back the dispositions it found: make those "ignore", so
  ** that a second SIGTERM during the last steps of shutdown cannot turn the
  ** exit status 0 into death by signal */
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  rc = httpd_serve(&cfg, lfd);
  httpd_root_close(&root);
  if (rc < 0) {
    fprintf(stderr, "httpd: %s\n", httpd_strerror(rc));
    return 1;
  }
  return 0;
}

#endif /* HTTPD_NO_MAIN */
