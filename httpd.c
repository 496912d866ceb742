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
**   7. STATIC FILE HANDLER (lookup beneath the root, then sending)
**   8. CGI HANDLER (lookup, environment, process, relay)
**   9. SERVER (listen, fork or prefork, reap, shutdown)
**  10. MAIN
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

/* Records the rejection site (the number after LOG: in the comment beside
** each call, unique in this file) and evaluates to the error code. */
#define PARSE_FAIL(site_out, n, code) (*(site_out) = (n), (code))

/* Parses one header field line buf[0..n) (CRLF excluded) into *h.
** Returns 0 or HTTPD_EBADHEADER with *site set; `base` is the site of a bad
** name, base + 1 that of a bad value (header section or trailers). */
static int
parse_field(const char *buf, size_t n, struct httpd_header *h, int base, int *site)
{
  size_t i = 0, vs, ve;
  while (i < n && IS(CC_TCHAR, buf[i]))
    i++;
  if (i == 0 || i == n || buf[i] != ':')
    return PARSE_FAIL(site, base, HTTPD_EBADHEADER);   /* (base) empty name, ws before ':' */
  h->name.p = buf;
  h->name.n = i;
  for (vs = i + 1; vs < n && (buf[vs] == ' ' || buf[vs] == '\t'); vs++)
    ;
  for (ve = vs; ve < n; ve++)
    if (!IS(CC_VALUE, buf[ve]))
      return PARSE_FAIL(site, base + 1, HTTPD_EBADHEADER); /* (base+1) control in value */
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

/* Parses the request-target t[0..n) and sets path, query and (absolute-form)
** host.  Returns 0 or HTTPD_EBADLINE. */
static int
parse_target(const char *t, size_t n, int method, struct httpd_request *req)
{
  size_t i, a = 0, q;
  if (n == 1 && t[0] == '*') {
    if (method != HTTPD_OPTIONS)
      return PARSE_FAIL(&req->site, 110, HTTPD_EBADLINE); /* LOG:110 '*' target, not OPTIONS */
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
      return PARSE_FAIL(&req->site, 111, HTTPD_EBADLINE); /* LOG:111 neither origin- nor absolute-form */
    for (i = a; i < n && t[i] != '/' && t[i] != '?'; i++)
      ;
    if (parse_host(t + a, i - a) != 0)
      return PARSE_FAIL(&req->site, 112, HTTPD_EBADLINE); /* LOG:112 bad authority (userinfo, empty host) */
    req->host.p = t + a;
    req->host.n = i - a;
    a = i;
  }
  for (i = a; i < n; i++)
    if (t[i] == '[' || t[i] == ']')
      return PARSE_FAIL(&req->site, 113, HTTPD_EBADLINE); /* LOG:113 brackets outside an IP-literal */
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
  static const unsigned char lens[] = { 3, 4, 4, 3, 6, 7, 5, 5 };
  size_t k;
  for (k = 0; k < sizeof lens; k++)
    if (lens[k] == n && memcmp(names[k], p, n) == 0)
      return (int)k + HTTPD_GET;
  return 0;
}

/* Checks "HTTP/" DIGIT "." DIGIT at v (8 bytes) and sets req->minor: 1.0 is
** 0; 1.1 and any higher 1.x (RFC 9110 2.5: processed as the highest minor
** version implemented) are 1.  Returns 0 or a negative code. */
static int
parse_version(const char *v, struct httpd_request *req)
{
  if (memcmp(v, "HTTP/", 5) != 0 || !IS(CC_DIGIT, v[5]) || v[6] != '.' ||
      !IS(CC_DIGIT, v[7]))
    return PARSE_FAIL(&req->site, 104, HTTPD_EBADVERSION); /* LOG:104 malformed version (or extra SP) */
  if (v[5] != '1')
    return PARSE_FAIL(&req->site, 105, HTTPD_EVERSION);    /* LOG:105 HTTP major version other than 1 */
  req->minor = v[7] == '0' ? 0 : 1;
  return 0;
}

/* Sets the request line's views and method after its syntax was checked:
** method buf[s..m), target buf[m+1..t).  Returns 0 or a negative code. */
static int
parse_request_parts(const char *buf, size_t s, size_t m, size_t t,
                    struct httpd_request *req)
{
  int rc = parse_version(buf + t + 1, req);
  if (rc != 0)
    return rc;
  req->method_str.p = buf + s;
  req->method_str.n = m - s;
  req->method = parse_method(buf + s, m - s);
  if (req->method == 0)
    return PARSE_FAIL(&req->site, 106, HTTPD_EMETHOD);    /* LOG:106 unknown method */
  req->target.p = buf + m + 1;
  req->target.n = t - m - 1;
  return parse_target(req->target.p, req->target.n, req->method, req);
}

/* Parses the request line buf[s..e) into req.  Returns 0 or a negative code. */
static int
parse_request_line(const char *buf, size_t s, size_t e, struct httpd_request *req)
{
  size_t m, t;
  for (m = s; m < e && IS(CC_TCHAR, buf[m]); m++)
    ;
  if (m == e)
    return PARSE_FAIL(&req->site, 103, HTTPD_EBADLINE);   /* LOG:103 empty target or no version */
  if (m == s || buf[m] != ' ')
    return PARSE_FAIL(&req->site, 100, HTTPD_EBADLINE);   /* LOG:100 empty or non-token method */
  for (t = m + 1; t < e && buf[t] != ' '; t++) {
    if (buf[t] == '%') {
      if (t + 2 >= e || !IS(CC_HEX, buf[t + 1]) || !IS(CC_HEX, buf[t + 2]))
        return PARSE_FAIL(&req->site, 101, HTTPD_EBADLINE); /* LOG:101 bad percent-escape in target */
    } else if (!IS(CC_TARGET, buf[t]) && buf[t] != '[' && buf[t] != ']') {
      return PARSE_FAIL(&req->site, 102, HTTPD_EBADLINE);   /* LOG:102 forbidden character in target */
    }                                /* brackets: IP-literal, checked by parse_target */
  }
  if (t == m + 1 || t == e)
    return PARSE_FAIL(&req->site, 103, HTTPD_EBADLINE);
  if (e - t - 1 != 8)
    return PARSE_FAIL(&req->site, 104, HTTPD_EBADVERSION);
  return parse_request_parts(buf, s, m, t, req);
}

/* The request line the common way, in one pass: a valid line, CRLF within
** HTTPD_MAX_LINE, no bracket in the target.  Returns the index of its CR, or
** 0 when the line must take the general path (parse_eol, then
** parse_request_line), which then gives the answer: the fast path decides
** nothing the general one would decide otherwise. */
static size_t
parse_request_line_fast(const char *buf, size_t len, size_t s, struct httpd_request *req)
{
  size_t m = s, t, q = 0;
  while (m < len && IS(CC_TCHAR, buf[m]))
    m++;
  if (m == s || m >= len || buf[m] != ' ')
    return 0;
  for (t = m + 1; t < len; t++) {
    unsigned char c = (unsigned char)buf[t];
    if (!IS(CC_TARGET, c))
      break;
    if (c == '%' && (t + 2 >= len || !IS(CC_HEX, buf[t + 1]) || !IS(CC_HEX, buf[t + 2])))
      return 0;
    if (c == '?' && q == 0)
      q = t;
  }
  if (t == m + 1 || len - t < 11 || buf[t] != ' ' || buf[t + 9] != '\r' ||
      buf[t + 10] != '\n' || t + 9 - s > HTTPD_MAX_LINE)
    return 0;
  if (buf[m + 1] != '/')
    return parse_request_parts(buf, s, m, t, req) != 0 ? 0 : t + 9;
  /* origin-form, the usual case: the scan above found the '?' (and no
  ** bracket: CC_TARGET has none) */
  if (memcmp(buf + t + 1, "HTTP/1.1", 8) == 0)
    req->minor = 1;
  else if (parse_version(buf + t + 1, req) != 0)
    return 0;
  req->method = parse_method(buf + s, m - s);
  if (req->method == 0)
    return 0;
  req->method_str.p = buf + s;
  req->method_str.n = m - s;
  req->target.p = buf + m + 1;
  req->target.n = t - m - 1;
  req->path.p = buf + m + 1;
  req->path.n = (q != 0 ? q : t) - m - 1;
  if (q != 0) {
    req->query.p = buf + q + 1;
    req->query.n = t - q - 1;
  }
  return t + 9;
}

/* Case-insensitive test that the field name n[0..nn) is `lower` (of length nn). */
#define PARSE_NAME(n, nn, lower) \
  ((nn) == sizeof lower - 1 && parse_ieq((n), (nn), lower))

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
    if (PARSE_NAME(n, nn, "host")) {
      if (++nhost > 1)
        return PARSE_FAIL(&req->site, 130, HTTPD_EBADHOST);   /* LOG:130 repeated Host */
      if (parse_host(h->value.p, h->value.n) != 0)
        return PARSE_FAIL(&req->site, 131, HTTPD_EBADHOST);   /* LOG:131 invalid Host */
      if (req->host.p == NULL)       /* absolute-form authority wins */
        req->host = h->value;
    } else if (PARSE_NAME(n, nn, "content-length")) {
      if (parse_length(h->value.p, h->value.n, &v) != 0)
        return PARSE_FAIL(&req->site, 132, HTTPD_EBADLENGTH); /* LOG:132 Content-Length not 1*DIGIT below 2^63 */
      if (have_cl && v != cl)
        return PARSE_FAIL(&req->site, 133, HTTPD_EBADLENGTH); /* LOG:133 differing Content-Length values */
      have_cl = 1;
      cl = v;
    } else if (PARSE_NAME(n, nn, "transfer-encoding")) {
      if (req->minor == 0)
        return PARSE_FAIL(&req->site, 134, HTTPD_EBADCODING); /* LOG:134 Transfer-Encoding in HTTP/1.0 */
      have_te = 1;
      l.p = h->value.p;
      l.n = h->value.n;
      l.i = 0;
      while ((rc = parse_list_next(&l, &el)) != 0) {
        if (rc < 0)
          return PARSE_FAIL(&req->site, 135, HTTPD_EBADCODING); /* LOG:135 malformed coding list */
        if (chunked)
          return PARSE_FAIL(&req->site, 136, HTTPD_EBADCODING); /* LOG:136 chunked not last, or twice */
        if (parse_ieq(el.p, el.n, "chunked"))
          chunked = 1;
        else
          unknown = 1;
      }
    } else if (PARSE_NAME(n, nn, "connection")) {
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
    } else if (PARSE_NAME(n, nn, "expect") && req->minor == 1) {
      if (!parse_ieq(h->value.p, h->value.n, "100-continue"))
        return PARSE_FAIL(&req->site, 137, HTTPD_EEXPECT);    /* LOG:137 unknown expectation */
      req->expect_continue = 1;
    }
  }
  if (have_te && have_cl)
    return PARSE_FAIL(&req->site, 138, HTTPD_EBADCODING);     /* LOG:138 Transfer-Encoding and Content-Length */
  if (have_te && !chunked)            /* (an empty list failed above as malformed) */
    return PARSE_FAIL(&req->site, 139, unknown ? HTTPD_ECODING : HTTPD_EBADCODING); /* LOG:139 no final chunked */
  if (have_te && unknown)
    return PARSE_FAIL(&req->site, 141, HTTPD_ECODING);        /* LOG:141 unsupported coding before chunked */
  if (req->minor == 1 && nhost == 0)
    return PARSE_FAIL(&req->site, 142, HTTPD_EBADHOST);       /* LOG:142 HTTP/1.1 without Host */
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

/* Bytes that may appear in a field value as they are: VCHAR, obs-text, SP
** (HTAB is valid too, but takes the byte-wise path). */
#define PARSE_ONES  UINT64_C(0x0101010101010101)
#define PARSE_HIGHS UINT64_C(0x8080808080808080)
/* Nonzero if some byte of x is below 0x20 or is 0x7f (a bit in its place). */
#define PARSE_CTL8(x) \
  ((((x) - PARSE_ONES * 0x20) & ~(x)) | \
   ((((x) ^ (PARSE_ONES * 0x7f)) - PARSE_ONES) & ~((x) ^ (PARSE_ONES * 0x7f))))

/* One header field line starting at buf[pos], the common way, in one pass:
** a token name, ':', a value of plain bytes, CRLF, the line within `max`
** bytes.  Fills *h and returns the index of the CR, or 0 when the line must
** take the general path (parse_eol, then parse_field), which then answers. */
static size_t
parse_field_fast(const char *buf, size_t len, size_t pos, size_t max,
                 struct httpd_header *h)
{
  size_t i = pos, vs, ve;
  while (i < len && IS(CC_TCHAR, buf[i]))
    i++;
  if (i == pos || i >= len || buf[i] != ':')
    return 0;
  h->name.p = buf + pos;
  h->name.n = i - pos;
  i++;
  while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
    i++;
  vs = i;
  for (;;) {
    while (i + 8 <= len) {           /* eight bytes at a time while all plain */
      uint64_t x;
      memcpy(&x, buf + i, 8);
      if ((PARSE_CTL8(x) & PARSE_HIGHS) != 0)
        break;
      i += 8;
    }
    while (i < len && IS(CC_VALUE, buf[i]) && buf[i] != '\t')
      i++;
    if (i < len && buf[i] == '\t') {
      i++;
      continue;
    }
    break;
  }
  if (i + 1 >= len || buf[i] != '\r' || buf[i + 1] != '\n' || i - pos > max)
    return 0;
  ve = i;
  while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
    ve--;
  h->value.p = buf + vs;
  h->value.n = ve - vs;
  return i;
}

int
httpd_parse_request(const char *buf, size_t len, struct httpd_request *req)
{
  size_t s = 0, e = 0, pos;
  int rc;

  /* every field set here, the header array only as far as nheaders */
  req->method = req->minor = 0;
  req->method_str.p = req->target.p = req->path.p = req->query.p = req->host.p = NULL;
  req->method_str.n = req->target.n = req->path.n = req->query.n = req->host.n = 0;
  req->body = HTTPD_BODY_NONE;
  req->content_length = 0;
  req->keep_alive = req->expect_continue = 0;
  req->head_len = req->nheaders = 0;
  req->site = 0;
  /* RFC 9112 2.2: ignore empty lines received before the request line. */
  while (s + 1 < len && buf[s] == '\r' && buf[s + 1] == '\n')
    s += 2;
  if (s > HTTPD_MAX_HEAD)
    return PARSE_FAIL(&req->site, 120, HTTPD_EHEADLARGE);     /* LOG:120 endless empty lines */
  e = parse_request_line_fast(buf, len, s, req);
  if (e == 0) {
    req->method = req->minor = 0;    /* the general path starts over */
    req->method_str.p = req->target.p = req->path.p = req->query.p = req->host.p = NULL;
    req->method_str.n = req->target.n = req->path.n = req->query.n = req->host.n = 0;
    req->site = 0;
    rc = parse_eol(buf, len, s, HTTPD_MAX_LINE, &e);
    if (rc == -2)
      return PARSE_FAIL(&req->site, 121, HTTPD_EURILONG);     /* LOG:121 request line too long */
    if (rc < 0)
      return PARSE_FAIL(&req->site, 122, HTTPD_EBADLINE);     /* LOG:122 bare CR or LF in request line */
    if (rc == 0)
      return HTTPD_EINCOMPLETE;
    rc = parse_request_line(buf, s, e, req);
    if (rc != 0)
      return rc;
  }
  pos = e + 2;
  for (;;) {
    struct httpd_header *h = &req->headers[req->nheaders];
    size_t max;
    if (pos + 2 > HTTPD_MAX_HEAD)
      return PARSE_FAIL(&req->site, 123, HTTPD_EHEADLARGE);   /* LOG:123 no room left for the final CRLF */
    max = HTTPD_MAX_HEAD - 2 - pos;
    if (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n') {
      e = pos;
      break;                         /* the empty line ends the head */
    }
    if (req->nheaders < HTTPD_MAX_HEADERS && (e = parse_field_fast(buf, len, pos, max, h)) != 0) {
      req->nheaders++;
      pos = e + 2;
      continue;
    }
    rc = parse_eol(buf, len, pos, max, &e);
    if (rc == -2)
      return PARSE_FAIL(&req->site, 124, HTTPD_EHEADLARGE);   /* LOG:124 head too large */
    if (rc < 0)
      return PARSE_FAIL(&req->site, 125, HTTPD_EBADHEADER);   /* LOG:125 bare CR or LF in header section */
    if (rc == 0)
      return HTTPD_EINCOMPLETE;
    if (e == pos)
      break;
    if (buf[pos] == ' ' || buf[pos] == '\t')
      return PARSE_FAIL(&req->site, 126, HTTPD_EBADHEADER);   /* LOG:126 obs-fold or space before a field */
    if (req->nheaders == HTTPD_MAX_HEADERS)
      return PARSE_FAIL(&req->site, 127, HTTPD_EHEADLARGE);   /* LOG:127 too many header fields */
    rc = parse_field(buf + pos, e - pos, h, 128, &req->site); /* LOG:128 bad field name; LOG:129 control character in value */
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
** chunk-size [ chunk-ext ], chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )
** Returns 0, or the site (> 0) of what is wrong. */
static int
parse_chunk_line(const char *p, size_t n, uint64_t *size)
{
  size_t i = 0;
  uint64_t v = 0;
  while (i < n && IS(CC_HEX, p[i])) {
    if (i == 16)
      return 200;                    /* LOG:200 chunk size over 16 hex digits */
    v = v << 4 | (uint64_t)parse_hexval(p[i]);
    i++;
  }
  if (i == 0)
    return 201;                      /* LOG:201 no hex digit first (empty size, sign, space) */
  while (i < n) {
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if (i == n || p[i] != ';')
      return 202;                    /* LOG:202 junk after the size or an extension ("0x5", "5 ", "5;a b") */
    i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if (i == n || !IS(CC_TCHAR, p[i]))
      return 203;                    /* LOG:203 empty chunk extension name */
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
            return 204;              /* LOG:204 quoted string ends in a backslash */
        }
        if (!IS(CC_VALUE, p[i]))
          return 205;                /* LOG:205 control character in a quoted string */
      }
      if (i == n)
        return 206;                  /* LOG:206 unterminated quoted string */
      i++;
    } else {
      if (i == n || !IS(CC_TCHAR, p[i]))
        return 207;                  /* LOG:207 empty chunk extension value */
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
      if (rc == -2)
        return PARSE_FAIL(&ch->site, 208, HTTPD_EBADCHUNK);  /* LOG:208 chunk-size line too long */
      if (rc < 0)
        return PARSE_FAIL(&ch->site, 209, HTTPD_EBADCHUNK);  /* LOG:209 bare CR or LF in a chunk-size line */
      if (rc == 0)
        return (long)i;
      if ((rc = parse_chunk_line(in + i, e - i, &ch->remaining)) != 0)
        return PARSE_FAIL(&ch->site, rc, HTTPD_EBADCHUNK);
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
        return PARSE_FAIL(&ch->site, 210, HTTPD_EBADCHUNK);  /* LOG:210 chunk data not followed by CRLF */
      if (i + 1 < len && in[i + 1] != '\n')
        return PARSE_FAIL(&ch->site, 210, HTTPD_EBADCHUNK);
      if (i + 2 > len)
        return (long)i;
      i += 2;
      ch->state = CH_SIZE;
      break;
    case CH_TRAILER:
      if (ch->trailer_len + 2 > HTTPD_MAX_TRAILER)
        return PARSE_FAIL(&ch->site, 211, HTTPD_EHEADLARGE); /* LOG:211 no room left for the final CRLF */
      rc = parse_eol(in, len, i, HTTPD_MAX_TRAILER - 2 - ch->trailer_len, &e);
      if (rc == -2)
        return PARSE_FAIL(&ch->site, 212, HTTPD_EHEADLARGE); /* LOG:212 trailer section too large */
      if (rc < 0)
        return PARSE_FAIL(&ch->site, 213, HTTPD_EBADCHUNK);  /* LOG:213 bare CR or LF in trailers */
      if (rc == 0)
        return (long)i;
      ch->trailer_len += e - i + 2;
      if (e == i) {
        ch->state = CH_DONE;
        return (long)(i + 2);
      }
      if (in[i] == ' ' || in[i] == '\t')
        return PARSE_FAIL(&ch->site, 214, HTTPD_EBADHEADER); /* LOG:214 obs-fold in trailers */
      if (ch->ntrailers == HTTPD_MAX_HEADERS)
        return PARSE_FAIL(&ch->site, 215, HTTPD_EHEADLARGE); /* LOG:215 too many trailer fields */
      if (parse_field(in + i, e - i, &h, 216, &ch->site) != 0)
        return HTTPD_EBADHEADER;     /* LOG:216 bad trailer name; LOG:217 control in a trailer value */
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
/* httpd_path_normalize, with the site of a rejection in *site. */
static int
parse_path(const char *path, size_t n, char *out, size_t cap, int *site)
{
  size_t i, o = 0, seg, limit;
  int last_named = 0;

  if (cap == 0)
    return PARSE_FAIL(site, 305, HTTPD_EURILONG);     /* LOG:305 no room at all */
  limit = cap - 1 < HTTPD_MAX_PATH ? cap - 1 : HTTPD_MAX_PATH;
  if (n == 0) {
    out[0] = '\0';
    return 0;
  }
  if (path[0] != '/')
    return PARSE_FAIL(site, 300, HTTPD_EBADPATH);   /* LOG:300 path not absolute */
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
          return PARSE_FAIL(site, 301, HTTPD_EBADPATH); /* LOG:301 bad percent-escape */
        c = (unsigned char)(parse_hexval(path[i + 1]) * 16 + parse_hexval(path[i + 2]));
        if (c == '/')
          return PARSE_FAIL(site, 302, HTTPD_EBADPATH); /* LOG:302 encoded slash */
        i += 3;
      } else {
        i++;
      }
      if (c < 0x20 || c == 0x7f)
        return PARSE_FAIL(site, 303, HTTPD_EBADPATH);   /* LOG:303 NUL or control character */
      if (o >= limit)
        return PARSE_FAIL(site, 304, HTTPD_EURILONG);   /* LOG:304 decoded path too long */
      out[o++] = (char)c;
    }
    last_named = 0;
    if (o - seg == 0 && dots != 2) {
      o = seg;                       /* empty or "." segment */
    } else if (dots == 2) {
      if (seg == 0)
        return PARSE_FAIL(site, 306, HTTPD_EBADPATH);   /* LOG:306 ".." above the root */
      o = seg - 1;                   /* drop the '/' ending the previous segment */
      while (o > 0 && out[o - 1] != '/')
        o--;
    } else {
      last_named = 1;
      if (i < n) {
        if (o >= limit)
          return PARSE_FAIL(site, 304, HTTPD_EURILONG);
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

int
httpd_path_normalize(const char *path, size_t n, char *out, size_t cap)
{
  int site;
  return parse_path(path, n, out, cap, &site);
}

/* Test hook (not API): the site of httpd_path_normalize's answer, 0 if none. */
int httpd__path_site(const char *path, size_t n, char *out, size_t cap);
int
httpd__path_site(const char *path, size_t n, char *out, size_t cap)
{
  int site = 0;
  (void)parse_path(path, n, out, cap, &site);
  return site;
}

/* ---- CGI response header block ---- */

/* 1 if the field name n[0..nn) is one the server owns or a hop-by-hop field:
** a script's copy is dropped. */
static int
parse_cgi_dropped(const char *n, size_t nn)
{
  return PARSE_NAME(n, nn, "connection") || PARSE_NAME(n, nn, "transfer-encoding") ||
         PARSE_NAME(n, nn, "keep-alive") || PARSE_NAME(n, nn, "upgrade") ||
         PARSE_NAME(n, nn, "te") || PARSE_NAME(n, nn, "trailer") ||
         PARSE_NAME(n, nn, "proxy-connection") || PARSE_NAME(n, nn, "date") ||
         PARSE_NAME(n, nn, "server");
}

/* Parses a Status value: 3 digits (200..599), then nothing or SP and a
** reason phrase (ignored: the server sends its own).  Returns the status or 0. */
static int
parse_cgi_status(const char *p, size_t n)
{
  int v;
  if (n < 3 || !IS(CC_DIGIT, p[0]) || !IS(CC_DIGIT, p[1]) || !IS(CC_DIGIT, p[2]) ||
      (n > 3 && p[3] != ' '))
    return 0;
  v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
  return v >= 200 && v <= 599 ? v : 0;
}

/* Classifies a Location value: 1 local (an absolute path, re-dispatched by
** the server), 2 an absolute URI (scheme ":" ...: a client redirect), 0 bad. */
static int
parse_cgi_location(const char *p, size_t n)
{
  size_t i;
  if (n == 0)
    return 0;
  if (p[0] == '/')
    return n > 1 && p[1] == '/' ? 2 : 1;   /* "//host/...": network-path, the client's */
  if (!PC_ALPHA(p[0]))
    return 0;
  for (i = 1; i < n && (PC_ALPHA(p[i]) || PC_DIGIT(p[i]) || p[i] == '+' || p[i] == '-' ||
                        p[i] == '.'); i++)
    ;
  return i < n && p[i] == ':' && i + 1 < n ? 2 : 0;
}

int
httpd_cgi_parse(const char *buf, size_t len, struct httpd_cgi_response *r)
{
  size_t pos = 0, e, end;
  int have_status = 0, have_cl = 0, bad_cl = 0;
  uint64_t cl = 0, v;

  r->status = 0;
  r->redirect = 0;
  r->content_length = -1;
  r->location.p = r->content_type.p = NULL;
  r->location.n = r->content_type.n = 0;
  r->head_len = r->nheaders = 0;
  r->site = 0;
  for (;;) {
    struct httpd_header h;
    const char *n;
    size_t nn;
    int rc;
    /* one line: LF or CRLF (RFC 3875 6.3), never a bare CR */
    for (e = pos; e < len && buf[e] != '\n' && buf[e] != '\r'; e++)
      if (e >= HTTPD_MAX_CGI_HEAD)
        break;
    if (e >= HTTPD_MAX_CGI_HEAD)
      return PARSE_FAIL(&r->site, 604, HTTPD_EBADGATEWAY);   /* LOG:604 CGI header block too large */
    if (e == len)
      return HTTPD_EINCOMPLETE;
    end = e + 1;
    if (buf[e] == '\r') {
      if (e + 1 == len)
        return HTTPD_EINCOMPLETE;
      if (buf[e + 1] != '\n')
        return PARSE_FAIL(&r->site, 600, HTTPD_EBADGATEWAY); /* LOG:600 bare CR in CGI headers */
      end = e + 2;
    }
    if (e == pos)
      break;                         /* the empty line ends the block */
    if (buf[pos] == ' ' || buf[pos] == '\t')
      return PARSE_FAIL(&r->site, 601, HTTPD_EBADGATEWAY);   /* LOG:601 obs-fold in CGI headers */
    rc = parse_field(buf + pos, e - pos, &h, 602, &r->site); /* LOG:602 bad CGI field name; LOG:603 control character in a CGI field */
    if (rc != 0)
      return HTTPD_EBADGATEWAY;
    n = h.name.p;
    nn = h.name.n;
    if (PARSE_NAME(n, nn, "status")) {
      if (have_status)
        return PARSE_FAIL(&r->site, 607, HTTPD_EBADGATEWAY); /* LOG:607 repeated Status */
      r->status = parse_cgi_status(h.value.p, h.value.n);
      if (r->status == 0)
        return PARSE_FAIL(&r->site, 606, HTTPD_EBADGATEWAY); /* LOG:606 bad Status (not 200..599) */
      have_status = 1;
    } else if (PARSE_NAME(n, nn, "location")) {
      if (r->location.p != NULL)
        return PARSE_FAIL(&r->site, 609, HTTPD_EBADGATEWAY); /* LOG:609 repeated Location */
      r->redirect = parse_cgi_location(h.value.p, h.value.n);
      if (r->redirect == 0)
        return PARSE_FAIL(&r->site, 608, HTTPD_EBADGATEWAY); /* LOG:608 Location neither a path nor an absolute URI */
      r->location = h.value;
    } else if (PARSE_NAME(n, nn, "content-type")) {
      if (r->content_type.p != NULL)
        return PARSE_FAIL(&r->site, 610, HTTPD_EBADGATEWAY); /* LOG:610 repeated Content-Type */
      r->content_type = h.value;
    } else if (PARSE_NAME(n, nn, "content-length")) {
      /* honoured when valid and single; else the body streams */
      if (parse_length(h.value.p, h.value.n, &v) != 0 || (have_cl && v != cl))
        bad_cl = 1;
      else
        cl = v;
      have_cl = 1;
    } else if (!parse_cgi_dropped(n, nn)) {
      if (r->nheaders == HTTPD_MAX_HEADERS)
        return PARSE_FAIL(&r->site, 605, HTTPD_EBADGATEWAY); /* LOG:605 too many CGI fields */
      r->headers[r->nheaders++] = h;
    }
    pos = end;
  }
  if (!have_status && r->location.p == NULL && r->content_type.p == NULL)
    return PARSE_FAIL(&r->site, 611, HTTPD_EBADGATEWAY);     /* LOG:611 no Status, Location or Content-Type */
  if (have_cl && !bad_cl)
    r->content_length = (int64_t)cl;
  if (r->redirect == 1 && have_status)
    r->redirect = 2;                 /* a path with a status: the client's to follow */
  if (!have_status)
    r->status = r->redirect == 2 ? 302 : 200;
  r->head_len = end;
  return (int)end;
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
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
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

/* The only mutable globals: set by signal handlers, read by the loops. */
static volatile sig_atomic_t srv_stop;     /* SIGTERM/SIGINT: stop */
static volatile sig_atomic_t srv_pressure; /* SIGUSR1 in a child: the pool is nearly
                                              full, shed idle keep-alive */
static volatile sig_atomic_t srv_hup;      /* SIGHUP: reopen the access log */
static volatile sig_atomic_t srv_upgrade;  /* SIGUSR2: re-execute, then drain and go */
static volatile sig_atomic_t srv_wakefd = -1;  /* the parent's self-pipe, write end */

/* Async-signal-safe: records the signal and wakes the loop through the pipe. */
static void
io_on_signal(int sig)
{
  int saved = errno;
  if (sig == SIGUSR1)
    srv_pressure = 1;
  else if (sig == SIGHUP)
    srv_hup = 1;
  else if (sig == SIGUSR2)
    srv_upgrade = 1;
  else if (sig != SIGCHLD)
    srv_stop = 1;
  if (srv_wakefd >= 0)
    (void)!write((int)srv_wakefd, "", 1);
  errno = saved;
}

/* Monotonic clock in milliseconds. */
static int64_t
io_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Which requests may cut a wait short (io_wait's `stoppable`). */
#define IO_STOP     1   /* SIGTERM/SIGINT */
#define IO_PRESSURE 2   /* SIGUSR1: the pool is nearly full */
#define IO_WAIT     4   /* io_read: wait first (no byte is expected yet) */

/* Waits until fd is ready for `events` or the deadline (monotonic ms)
** passes.  Returns 1 ready, 0 timed out, HTTPD_ESTOPPED on a request named in
** `stoppable` (IO_STOP, IO_PRESSURE), or HTTPD_ESYS.  EINTR is otherwise
** restarted. */
static int
io_wait(int fd, short events, int64_t deadline, int stoppable)
{
  struct pollfd p;
  for (;;) {
    int64_t left = deadline - io_now_ms();
    int r;
    if (((stoppable & IO_STOP) && srv_stop) || ((stoppable & IO_PRESSURE) && srv_pressure))
      return HTTPD_ESTOPPED;
    if (left <= 0)
      return 0;
    p.fd = fd;
    p.events = events;
    p.revents = 0;
    r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
    if (r > 0)
      return 1;
    if (r < 0 && errno != EINTR)
      return HTTPD_ESYS;
  }
}

/* Reads up to n bytes: reads first (or, with IO_WAIT in stoppable, waits
** first), waits only when nothing is there (the socket is non-blocking), at
** most until deadline.  Returns the count, 0 at
** end of stream, HTTPD_ETIMEOUT, HTTPD_EIO, or HTTPD_ESTOPPED (the wait was
** cut by a request named in `stoppable`). */
static long
io_read(int fd, void *buf, size_t n, int64_t deadline, int stoppable)
{
  int wait_first = (stoppable & IO_WAIT) != 0;
  stoppable &= ~IO_WAIT;
  for (;;) {
    ssize_t r;
    int w;
    if (!wait_first) {
      r = read(fd, buf, n);
      if (r >= 0)
        return (long)r;
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return HTTPD_EIO;
    }
    wait_first = 0;
    w = io_wait(fd, POLLIN, deadline, stoppable);
    if (w == 0)
      return HTTPD_ETIMEOUT;
    if (w < 0)
      return w == HTTPD_ESTOPPED ? w : HTTPD_EIO;
  }
}

/* When a wait must end: a fixed deadline, or one computed only when a wait
** begins (most writes never wait: they need no clock, no system call). */
struct io_due {
  int64_t at;                          /* monotonic ms, when fn is NULL */
  int64_t (*fn)(const void *arg);
  const void *arg;
};

static int64_t
io_due_at(const struct io_due *d)
{
  return d->fn != NULL ? d->fn(d->arg) : d->at;
}

/* Bytes the socket still holds to send (Linux), or -1 where that is unknown. */
static long
io_outq(int fd)
{
#if defined(__linux__) && defined(TIOCOUTQ)
  int q;
  if (ioctl(fd, TIOCOUTQ, &q) == 0)
    return q;
#else
  (void)fd;
#endif
  return -1;
}

/* Waits until socket fd can take more, until the due time.  A send buffer
** of megabytes wakes the poll only once a third of it has drained: while
** the socket's queue keeps shrinking (the client is reading), the wait goes
** on, each stretch bounded by a new due time.  Returns 1, 0 timed out, or
** HTTPD_ESYS. */
static int
io_wait_out(int fd, const struct io_due *due)
{
  long q0 = io_outq(fd);
  for (;;) {
    int w = io_wait(fd, POLLOUT, io_due_at(due), 0);
    long q1;
    if (w != 0)
      return w;
    q1 = io_outq(fd);
    if (q0 < 0 || q1 < 0 || q1 >= q0)
      return 0;                      /* no progress at all: too slow */
    q0 = q1;
  }
}

/* Writes all of iov[0..cnt) (modified in place), waiting for the socket at
** most until the due time.  Returns 0, HTTPD_ETIMEOUT or HTTPD_EIO. */
static int
io_writev(int fd, struct iovec *iov, int cnt, const struct io_due *due)
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
      int w;
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return HTTPD_EIO;            /* EPIPE, ECONNRESET */
      w = io_wait_out(fd, due);
      if (w == 0)
        return HTTPD_ETIMEOUT;
      if (w < 0)
        return HTTPD_EIO;
      continue;
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
io_write(int fd, const void *p, size_t n, const struct io_due *due)
{
  struct iovec v;
  v.iov_base = (void *)(uintptr_t)p;
  v.iov_len = n;
  return io_writev(fd, &v, 1, due);
}

/* Copies up to n bytes of file `in` from offset off to socket `out`, waiting
** for the socket at most until the due time.  Returns the bytes sent (> 0),
** HTTPD_ETIMEOUT, or HTTPD_EIO (also when the file shrank).  The caller loops,
** so that it can move its deadline as bytes go out. */
static long
io_sendfile(int out, int in, int64_t off, int64_t n, const struct io_due *due)
{
  for (;;) {
    ssize_t r;
    int w;
#if defined(__linux__)
    off_t o = (off_t)off;
    r = sendfile(out, in, &o, n > (int64_t)1 << 30 ? (size_t)1 << 30 : (size_t)n);
    if (r == 0)
      return HTTPD_EIO;              /* file truncated under us */
    if (r > 0)
      return (long)r;
#else
    char buf[16384];
    size_t want = n > (int64_t)sizeof buf ? sizeof buf : (size_t)n;
    r = pread(in, buf, want, (off_t)off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return HTTPD_EIO;
    return io_write(out, buf, (size_t)r, due) == 0 ? (long)r : HTTPD_EIO;
#endif
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return HTTPD_EIO;
    w = io_wait_out(out, due);
    if (w == 0)
      return HTTPD_ETIMEOUT;
    if (w < 0)
      return HTTPD_EIO;
  }
}

/* Makes fd non-blocking (or blocking) and close-on-exec.  Returns 0 or -1. */
static int
io_flags(int fd, int nonblock)
{
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
    return -1;
  fl = fcntl(fd, F_GETFL);
  if (fl < 0)
    return -1;
  fl = nonblock ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
  return fcntl(fd, F_SETFL, fl);
}

/* Leaves the process.  Children use this one exit so that a sanitizer build
** can run exit() (and LeakSanitizer) while a normal build skips atexit work
** and stdio buffers inherited from the parent. */
static void
io_exit(int code)
{
#if defined(HTTPD_SANITIZE)
  exit(code);
#elif defined(__linux__) && defined(SYS_exit_group)
  syscall(SYS_exit_group, code);     /* bound already: no lazy lookup in the child */
  _exit(code);
#else
  _exit(code);
#endif
}

/* Formats a socket address: the address as text (an IPv4-mapped IPv6
** address as plain IPv4) into buf, its port into *port, and its 16-byte key
** (IPv4 as ::ffff:a.b.c.d) into key when not NULL. */
static void
io_addr(const struct sockaddr_storage *ss, char *buf, size_t cap, unsigned *port,
        unsigned char key[16])
{
  static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  unsigned char k[16];
  memset(k, 0, sizeof k);
  snprintf(buf, cap, "-");
  *port = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ss;
    inet_ntop(AF_INET, &a->sin_addr, buf, (socklen_t)cap);
    *port = ntohs(a->sin_port);
    memcpy(k, v4mapped, 12);
    memcpy(k + 12, &a->sin_addr, 4);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ss;
    memcpy(k, &a->sin6_addr, 16);
    if (memcmp(k, v4mapped, 12) == 0)
      inet_ntop(AF_INET, k + 12, buf, (socklen_t)cap);
    else
      inet_ntop(AF_INET6, &a->sin6_addr, buf, (socklen_t)cap);
    *port = ntohs(a->sin6_port);
  }
  if (key != NULL)
    memcpy(key, k, 16);
}

/* ==== 6. CONNECTION ==== */
/* Everything here runs in the process that owns one client socket: a forked
** child, a prefork worker, or the inetd-mode server itself. */

/* The handler's fields (httpd_header): room for everything a CGI header
** block may pass on (its lines as "Name: value\r\n"); the whole head adds
** the server's own fields. */
#ifndef HTTPD_MAX_RESP_FIELDS
#define HTTPD_MAX_RESP_FIELDS (HTTPD_MAX_CGI_HEAD + 2 * HTTPD_MAX_HEADERS + 256)
#endif
#define HTTPD_MAX_RESP_HEAD (HTTPD_MAX_RESP_FIELDS + 512)
/* Input buffer: a whole head, then room for chunk lines and trailers. */
#define CONN_INBUF (HTTPD_MAX_HEAD + HTTPD_MAX_TRAILER + 4096)
/* A pressure request cuts the wait for a request head (or an idle
** keep-alive wait) to this much more; a stop request to the second. */
#define CONN_PRESSURE_MS 1000
#define CONN_LASTCALL_MS 2000

/* Counters of the server's life, in a page the parent shares with its
** children and workers (MAP_SHARED): the status page reads them. */
struct conn_stats {
  int64_t started;               /* time(NULL) at start */
  unsigned long accepted, reaped, crashed, nofork, per_addr, backlog, emfile,
                workers_replaced, upgrades;
  unsigned long requests;        /* counted by children and workers (atomically) */
  int live;                      /* live children or workers */
  int workers;                   /* prefork: configured workers; 0 fork mode */
};

/* Who is on the other end, and since when. */
struct conn_peer {
  char addr[INET6_ADDRSTRLEN + 1];  /* "127.0.0.1", "::1" */
  unsigned port;
  int64_t t0;                       /* accepted at (monotonic ms) */
  struct conn_stats *stats;         /* the server's counters, or NULL */
};

struct httpd_conn {
  int fd;
  const struct httpd_config *cfg;
  const struct httpd_request *req;
  struct conn_peer peer;
  unsigned nreq;            /* requests begun on this connection */
  int site, site2;          /* the current request's rejection and early-close sites */
  int must_close;           /* the connection ends after this response */
  int cut;                  /* pressure has shortened the wait for this head */
  int ready;                /* bytes may be waiting: read before any poll */
  struct httpd_root *cache_root;  /* a root whose file cache a handler used */
  struct io_due resp_due;   /* when a wait of the response must end (computed then) */
  int linger;               /* input may remain unread: close with a lingering read */
  char *in;                 /* input buffer [0..in_len) of CONN_INBUF */
  size_t in_len;
  size_t head_len;          /* the current request's head, in[0..head_len) */
  size_t body_pos;          /* next unconsumed byte after the head */
  int64_t idle_end;         /* the wait for the next request ends here */
  int64_t head_end;         /* the next head must be complete by then (0: no byte yet) */
  /* request body */
  uint64_t body_left;       /* Content-Length bytes still to read */
  struct httpd_chunked ch;
  const char *pend;         /* decoded chunk data not yet handed out */
  size_t npend;
  int body_done, body_err, continue_sent;
  int64_t body_t0;          /* the body began (head complete): its rate deadline */
  uint64_t body_got;        /* body bytes read from the socket */
  int64_t body_end;         /* if not 0: no body read past this (the drain) */
  /* response */
  size_t hdr_len;           /* handler fields in hdr */
  size_t head_pending;      /* formatted head not yet sent, in head */
  int status, began, ended, no_body, out_chunked, keep_alive, failed;
  int redirects;            /* CGI local redirects followed for this request */
  int64_t length;
  uint64_t sent;            /* body bytes sent (for the log) */
  int64_t resp_t0;          /* the response began: its rate deadline */
  uint64_t resp_out;        /* bytes written so far, head and framing included */
  /* last: the buffers, which conn_init does not clear */
  char hdr[HTTPD_MAX_RESP_FIELDS];
  char head[HTTPD_MAX_RESP_HEAD];
};

const char *
httpd_peer(const struct httpd_conn *c)
{
  return c->peer.addr;
}

/* Records the site of a rejection or early close: the first one names the
** answer, a later different one why the connection then closed (the log
** shows both, "LOG:511,402"). */
static void
conn_site(struct httpd_conn *c, int site)
{
  if (c->site == 0)
    c->site = site;
  else if (c->site2 == 0 && site != c->site)
    c->site2 = site;
}

/* The deadline of the next wait of a transfer that began at t0 and has moved
** `done` bytes: idle_timeout from now at most and, with a minimum rate, no
** later than t0 + idle_timeout + (done + 64 KiB) / min_rate, so that a client
** trickling a body or reading a response a byte at a time is cut. */
static int64_t
conn_deadline(const struct httpd_conn *c, int64_t t0, uint64_t done)
{
  int64_t idle = (int64_t)c->cfg->idle_timeout * 1000, d = io_now_ms() + idle;
  if (c->cfg->min_rate > 0) {
    uint64_t ms = (done + 65536) / (uint64_t)c->cfg->min_rate * 1000;
    int64_t r = ms > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : t0 + idle + (int64_t)ms;
    if (r < d)
      d = r;
  }
  return d;
}

/* The deadline of the next wait of the response: conn_deadline over the
** bytes the client has taken (on Linux the socket's unsent queue is not
** counted: a send buffer of megabytes must not make a slow reader look fast). */
static int64_t
conn_resp_deadline(const void *arg)
{
  const struct httpd_conn *c = arg;
  uint64_t done = c->resp_out;
  long q = c->cfg->min_rate > 0 && done > 65536 ? io_outq(c->fd) : -1;
  if (q > 0 && (uint64_t)q <= done)
    done -= (uint64_t)q;
  return conn_deadline(c, c->resp_t0, done);
}

/* The one place that decides whether the connection serves another request
** after the current one.  Returns 0 to keep it, or why not: -1 when the
** client asked (Connection: close, HTTP/1.0 without keep-alive, framing in
** doubt), else the site of the server's own reason. */
static int
conn_must_close(const struct httpd_conn *c)
{
  const struct httpd_request *req = c->req;
  if (req == NULL || !req->keep_alive)
    return -1;
  if (c->must_close)
    return c->site != 0 ? c->site : -1;
  if (srv_stop)
    return 412;                      /* LOG:412 server stopping: closed after this response */
  if (srv_pressure)
    return 413;                      /* LOG:413 pool nearly full: keep-alive shed */
  if (req->expect_continue && !c->continue_sent && !c->body_done)
    return 410;                      /* LOG:410 body behind an unsent 100-continue: closed */
  if (c->cfg->max_requests > 0 && c->nreq >= (unsigned)c->cfg->max_requests)
    return 414;                      /* LOG:414 request budget of the connection spent */
  if (c->cfg->lifetime > 0 &&
      io_now_ms() - c->peer.t0 >= (int64_t)c->cfg->lifetime * 1000)
    return 415;                      /* LOG:415 connection lifetime reached */
  return 0;
}

/* Marks the connection to close after this response, at site. */
static void
conn_close_at(struct httpd_conn *c, int site)
{
  c->must_close = 1;
  conn_site(c, site);
}

/* httpd_header with counted strings. */
static int
conn_header(struct httpd_conn *c, const char *name, size_t nn, const char *value, size_t vn)
{
  size_t i;
  if (c->began || nn == 0)
    return HTTPD_EINVAL;
  for (i = 0; i < nn; i++)
    if (!IS(CC_TCHAR, name[i]))
      return HTTPD_EINVAL;
  if (PARSE_NAME(name, nn, "content-length") || PARSE_NAME(name, nn, "transfer-encoding") ||
      PARSE_NAME(name, nn, "connection") || PARSE_NAME(name, nn, "date") ||
      PARSE_NAME(name, nn, "server") || PARSE_NAME(name, nn, "keep-alive"))
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
httpd_header(struct httpd_conn *c, const char *name, const char *value)
{
  return conn_header(c, name, strlen(name), value, strlen(value));
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
      conn_close_at(c, 416);         /* LOG:416 close-delimited body (HTTP/1.0 stream) */
  }
  c->length = length;
  c->keep_alive = conn_must_close(c) == 0;
  conn = !c->keep_alive ? 1 : (c->req != NULL && c->req->minor == 0 ? 2 : 0);
  resp_init(&b, c->head, sizeof c->head);
  resp_head(&b, status, (int64_t)time(NULL), c->hdr, c->hdr_len, length,
            c->out_chunked, conn);
  if (b.err)
    return HTTPD_EINVAL;
  c->head_pending = b.n;
  c->resp_t0 = io_now_ms();
  return 0;
}

/* Marks the response broken after a failed write (rc): the client is gone
** or too slow. */
static int
conn_broken(struct httpd_conn *c, int rc)
{
  c->failed = 1;
  conn_close_at(c, rc == HTTPD_ETIMEOUT ? 408    /* LOG:408 client too slow to read the response */
                                        : 409);  /* LOG:409 response write failed: client gone */
  return HTTPD_EIO;
}

/* Sends the pending head followed by p[0..n) (framed as a chunk if chunk)
** in one writev. */
static int
conn_send(struct httpd_conn *c, const void *p, size_t n, int chunk)
{
  struct iovec v[4];
  char line[24];
  int k = 0, rc;
  size_t total = c->head_pending + n;
  if (c->head_pending > 0) {
    v[k].iov_base = c->head;
    v[k++].iov_len = c->head_pending;
  }
  if (chunk && n > 0) {
    v[k].iov_base = line;
    v[k].iov_len = resp_chunk_line(line, (uint64_t)n);
    total += v[k++].iov_len + 2;
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
  rc = io_writev(c->fd, v, k, &c->resp_due);
  if (rc != 0)
    return conn_broken(c, rc);
  c->resp_out += total;
  return 0;
}

int
httpd_write(struct httpd_conn *c, const void *p, size_t n)
{
  if (!c->began || c->ended || c->failed)
    return HTTPD_EINVAL;
  if (c->length >= 0 && (uint64_t)n > (uint64_t)c->length - c->sent) {
    c->failed = 1;                   /* more than announced: framing would break */
    conn_close_at(c, 418);           /* LOG:418 handler wrote more than it announced */
    return HTTPD_EINVAL;
  }
  c->sent += n;
  if (c->no_body || n == 0)
    return 0;
  return conn_send(c, p, n, c->out_chunked);
}

#ifndef HTTPD_SMALL_FILE
#define HTTPD_SMALL_FILE 16384     /* a body this small leaves with its head in one writev */
#endif

int
httpd_sendfile(struct httpd_conn *c, int fd, int64_t off, int64_t n)
{
  int rc = 0;
  if (!c->began || c->ended || c->failed || off < 0 || n < 0)
    return HTTPD_EINVAL;
  if (c->length >= 0 && (uint64_t)n > (uint64_t)c->length - c->sent) {
    c->failed = 1;
    conn_close_at(c, 418);
    return HTTPD_EINVAL;
  }
  if (c->no_body || n == 0) {
    c->sent += (uint64_t)n;
    return 0;
  }
  if (n <= HTTPD_SMALL_FILE) {
    /* small: read it, then head and body in one writev (no Nagle stall,
    ** one system call on the socket) */
    char buf[HTTPD_SMALL_FILE];
    size_t got = 0;
    while (got < (size_t)n) {
      ssize_t r = pread(fd, buf + got, (size_t)n - got, (off_t)(off + (int64_t)got));
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0) {
        c->failed = 1;
        conn_close_at(c, 417);       /* LOG:417 file could not be read (truncated under us?) */
        return HTTPD_EIO;
      }
      got += (size_t)r;
    }
    return httpd_write(c, buf, got);
  }
  if (c->out_chunked) {
    char line[24];
    size_t ln = resp_chunk_line(line, (uint64_t)n);
    struct iovec v[2];
    v[0].iov_base = c->head;
    v[0].iov_len = c->head_pending;
    v[1].iov_base = line;
    v[1].iov_len = ln;
    c->resp_out += c->head_pending + ln;
    c->head_pending = 0;
    rc = io_writev(c->fd, v, 2, &c->resp_due);
  } else if (c->head_pending > 0) {
    /* the head in the first segment with the file's first bytes */
#ifdef MSG_MORE
    ssize_t r;
    do
      r = send(c->fd, c->head, c->head_pending, MSG_MORE);
    while (r < 0 && errno == EINTR);
    if (r == (ssize_t)c->head_pending)
      rc = 0;
    else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      rc = HTTPD_EIO;
    else
      rc = io_write(c->fd, c->head + (r > 0 ? (size_t)r : 0),
                    c->head_pending - (r > 0 ? (size_t)r : 0),
                    &c->resp_due);
#else
    rc = io_write(c->fd, c->head, c->head_pending,
                  &c->resp_due);
#endif
    c->resp_out += c->head_pending;
    c->head_pending = 0;
  }
  while (rc == 0 && n > 0) {
    long r = io_sendfile(c->fd, fd, off, n, &c->resp_due);
    if (r < 0) {
      rc = (int)r;
      break;
    }
    off += r;
    n -= r;
    c->resp_out += (uint64_t)r;
    c->sent += (uint64_t)r;          /* what went, for the log */
  }
  if (rc == 0 && c->out_chunked)
    rc = io_write(c->fd, "\r\n", 2, &c->resp_due);
  return rc != 0 ? conn_broken(c, rc) : 0;
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
  if (rc == 0 && c->length >= 0 && c->sent < (uint64_t)c->length && !c->no_body) {
    c->failed = 1;                   /* short body: the client must see a close */
    conn_close_at(c, 405);           /* LOG:405 response shorter than its Content-Length */
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

/* Answers status with its fixed page and records the site. */
static int
conn_reject(struct httpd_conn *c, int status, int site)
{
  conn_site(c, site);
  return conn_status_page(c, status);
}

int
httpd_server_status(struct httpd_conn *c, const struct httpd_request *req, void *arg)
{
  const struct conn_stats *st = c->peer.stats;
  char body[2048];
  struct resp_buf b;
  static const char *const names[] = {
    "connections_accepted_total", "requests_total", "children_reaped_total",
    "children_crashed_total", "busy_fork_failed_total", "busy_per_address_total",
    "busy_backlog_total", "emfile_pauses_total", "workers_replaced_total", "upgrades_total",
  };
  unsigned long v[10];
  size_t k;
  (void)arg;
  if (req->method != HTTPD_GET && req->method != HTTPD_HEAD) {
    httpd_header(c, "Allow", "GET, HEAD");
    return conn_reject(c, 405, 514); /* LOG:514 status page: method other than GET or HEAD */
  }
  if (st == NULL)
    return conn_reject(c, 404, 515); /* LOG:515 status page: no server counters here */
  v[0] = st->accepted;
  v[1] = st->requests;
  v[2] = st->reaped;
  v[3] = st->crashed;
  v[4] = st->nofork;
  v[5] = st->per_addr;
  v[6] = st->backlog;
  v[7] = st->emfile;
  v[8] = st->workers_replaced;
  v[9] = st->upgrades;
  resp_init(&b, body, sizeof body);
  resp_puts(&b, "# httpd " HTTPD_VERSION " status (Prometheus text format)\n");
  resp_puts(&b, "httpd_uptime_seconds ");
  resp_putu(&b, (uint64_t)((int64_t)time(NULL) - st->started));
  resp_puts(&b, st->workers > 0 ? "\nhttpd_live_workers " : "\nhttpd_live_children ");
  resp_putu(&b, (uint64_t)(st->live > 0 ? st->live : 0));
  resp_puts(&b, "\nhttpd_prefork_workers ");
  resp_putu(&b, (uint64_t)st->workers);
  resp_puts(&b, "\n");
  for (k = 0; k < sizeof names / sizeof names[0]; k++) {
    resp_puts(&b, "httpd_");
    resp_puts(&b, names[k]);
    resp_puts(&b, " ");
    resp_putu(&b, v[k]);
    resp_puts(&b, "\n");
  }
  return httpd_respond(c, 200, "text/plain; version=0.0.4", body, b.n);
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

/* Records a body read failure (code at site) and returns the code. */
static long
conn_body_fail(struct httpd_conn *c, int code, int site)
{
  conn_site(c, site);
  return c->body_err = code;
}

/* The deadline of the next body read. */
static int64_t
conn_body_deadline(const struct httpd_conn *c)
{
  int64_t d = conn_deadline(c, c->body_t0, c->body_got);
  return c->body_end != 0 && c->body_end < d ? c->body_end : d;
}

/* Maps a failed read of the body (r <= 0) to its code and site. */
static long
conn_body_read_fail(struct httpd_conn *c, long r)
{
  if (r == 0)
    return conn_body_fail(c, HTTPD_EIO, 407);       /* LOG:407 client closed mid-body */
  if (r == HTTPD_ETIMEOUT)
    return conn_body_fail(c, HTTPD_ETIMEOUT, 406);  /* LOG:406 request body too slow or stalled */
  if (r == HTTPD_EBADCHUNK)
    return conn_body_fail(c, HTTPD_EBADCHUNK, 419); /* LOG:419 chunk framing overflows the buffer */
  return conn_body_fail(c, HTTPD_EIO, 420);         /* LOG:420 body read failed */
}

/* Sends "100 Continue" if the client waits for it and no body byte came
** yet (once).  Returns 0, or the body error after a failed write. */
static int
conn_continue(struct httpd_conn *c)
{
  static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  if (c->req != NULL && c->req->expect_continue && !c->continue_sent &&
      c->body_pos == c->in_len && !c->began) {
    c->continue_sent = 1;
    struct io_due due;
    due.at = conn_deadline(c, c->body_t0, 0);
    due.fn = NULL;
    if (io_write(c->fd, cont, sizeof cont - 1, &due) != 0)
      return (int)conn_body_fail(c, HTTPD_EIO, 421); /* LOG:421 100 Continue could not be sent */
  }
  c->continue_sent = 1;
  return 0;
}

long
httpd_read_body(struct httpd_conn *c, void *buf, size_t cap)
{
  const struct httpd_request *req = c->req;
  long r;
  if (cap == 0)
    return HTTPD_EINVAL;
  if (req == NULL || req->body == HTTPD_BODY_NONE || c->body_done)
    return 0;
  if (c->body_err)
    return c->body_err;
  if (conn_continue(c) != 0)
    return c->body_err;
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
      r = io_read(c->fd, buf, n, conn_body_deadline(c), 0);
      if (r <= 0)
        return conn_body_read_fail(c, r);
      n = (size_t)r;
      c->body_got += n;
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
      return conn_body_fail(c, (int)r, c->ch.site);
    c->body_pos += (size_t)r;
    /* decided at the chunk-size line: the declared size already says it */
    if (c->ch.total + c->ch.remaining > (uint64_t)c->cfg->max_body)
      return conn_body_fail(c, HTTPD_EBODYLARGE, 402); /* LOG:402 chunked body over the limit */
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
    r = conn_fill(c, conn_body_deadline(c), 0);
    if (r <= 0)
      return conn_body_read_fail(c, r);
    c->body_got += (uint64_t)r;
  }
}

/* Appends p[0..n) to b with control characters, '"' and '\' as \xHH. */
static void
conn_log_escaped(struct resp_buf *b, const char *p, size_t n, size_t max)
{
  size_t i;
  for (i = 0; i < n && i < max; i++) {
    unsigned char ch = (unsigned char)p[i];
    if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
      char esc[4] = { '\\', 'x', "0123456789abcdef"[ch >> 4], "0123456789abcdef"[ch & 15] };
      resp_put(b, esc, 4);
    } else {
      resp_put(b, (const char *)&p[i], 1);
    }
  }
  if (n == 0)
    resp_puts(b, "-");
}

/* Writes one access log line (CLF or combined, maybe with the site) with a
** single write(2). */
static void
conn_log(struct httpd_conn *c, const struct httpd_request *req, int status)
{
  char line[2048];
  struct resp_buf b;
  size_t i, n = 0;
  const char *p = NULL;
  int fmt = c->cfg->log_format & 15;
  if (fmt == HTTPD_LOG_NONE)
    return;
  resp_init(&b, line, sizeof line - 1);   /* room for the newline */
  resp_puts(&b, c->peer.addr);
  resp_puts(&b, " - - [");
  resp_date(&b, (int64_t)time(NULL), 1);
  resp_puts(&b, "] \"");
  if (req != NULL && req->method_str.p != NULL && req->target.p != NULL) {
    p = req->method_str.p;           /* request line: method through version */
    n = (size_t)(req->target.p + req->target.n - p) + 9;
  } else if (c->in_len > 0) {
    /* a rejected request: its first line as received, escaped */
    for (i = 0; i + 1 < c->in_len && c->in[i] == '\r' && c->in[i + 1] == '\n'; i += 2)
      ;
    p = c->in + i;
    while (i + n < c->in_len && c->in[i + n] != '\r' && c->in[i + n] != '\n')
      n++;
  }
  conn_log_escaped(&b, p, n, 700);
  resp_puts(&b, "\" ");
  resp_putu(&b, (uint64_t)status);
  resp_puts(&b, " ");
  if (c->sent > 0 && !c->no_body)
    resp_putu(&b, c->sent);
  else
    resp_puts(&b, "-");
  if (fmt == HTTPD_LOG_COMBINED) {
    static const char *const names[2] = { "Referer", "User-Agent" };
    int k;
    for (k = 0; k < 2; k++) {
      const struct httpd_header *h = req != NULL && req->method_str.p != NULL ?
                                     httpd_find_header(req, names[k]) : NULL;
      resp_puts(&b, " \"");
      conn_log_escaped(&b, h != NULL ? h->value.p : NULL, h != NULL ? h->value.n : 0, 500);
      resp_puts(&b, "\"");
    }
  }
  if (c->cfg->log_format & HTTPD_LOG_SITE) {
    if (c->site != 0) {
      resp_puts(&b, " LOG:");
      resp_putu(&b, (uint64_t)c->site);
      if (c->site2 != 0) {
        resp_puts(&b, ",");
        resp_putu(&b, (uint64_t)c->site2);
      }
    } else {
      resp_puts(&b, " -");
    }
  }
  if (b.err)
    b.n = sizeof line - 1;
  line[b.n++] = '\n';
  while (write(c->cfg->log_fd, line, b.n) < 0 && errno == EINTR)
    ;
}

/* Sends an error response for code (at site) and marks the connection to
** close. */
static void
conn_fail(struct httpd_conn *c, const struct httpd_request *req, int code, int site)
{
  int status = httpd_status(code);
  conn_close_at(c, site);
  c->hdr_len = 0;
  if (!c->began)
    conn_status_page(c, status);
  conn_log(c, req, status);
}

/* Reads and parses the next request head into *req.  Returns the head
** length; 0 when the connection should just close (clean EOF, idle timeout,
** stop or pressure while idle) or, with park, when the next step would be to
** wait (*parked set; c->in holds what arrived); or a negative code to answer
** (req->site or c->site says where). */
static int
conn_read_head(struct httpd_conn *c, struct httpd_request *req, int park, int *parked)
{
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
      if (c->head_end == 0 && s < c->in_len)   /* the first request's from the accept */
        c->head_end = (c->nreq == 0 ? c->peer.t0 : io_now_ms()) +
                      (int64_t)c->cfg->head_timeout * 1000;
    }
    if (park) {
      /* prefork: never wait here; the worker's poll waits for all of them */
      if (io_now_ms() >= (c->head_end != 0 ? c->head_end : c->idle_end)) {
        if (c->head_end == 0 && !(c->cut && c->nreq == 0 && !srv_stop))
          return 0;
        conn_site(c, c->head_end != 0 ? 400 : 422);
        return HTTPD_ETIMEOUT;
      }
      if (!c->ready) {
        *parked = 1;                 /* just answered: the poll says when more comes */
        return 0;
      }
      r = conn_fill(c, 0, 0);
      if (r > 0)
        continue;
      c->ready = 0;
      if (r == HTTPD_ETIMEOUT)
        *parked = 1;                 /* nothing more now: back to the poll */
      return 0;
    }
    if ((srv_pressure || srv_stop) && !c->cut) {
      /* the pool is nearly full, or the server stops: the connection gets a
      ** last call, a second or two for a request (answered, then closed:
      ** Connection: close tells the client to go elsewhere) -- closing an
      ** idle keep-alive connection at once would race a request in flight */
      int64_t cut = io_now_ms() + (srv_stop ? CONN_LASTCALL_MS : CONN_PRESSURE_MS);
      if (c->head_end != 0 && cut < c->head_end)
        c->head_end = cut;
      if (c->head_end == 0 && cut < c->idle_end)
        c->idle_end = cut;
      c->cut = 1;
    }
    /* after a response a request rarely waits already: poll first */
    r = conn_fill(c, c->head_end != 0 ? c->head_end : c->idle_end,
                  (c->cut ? 0 : IO_STOP | IO_PRESSURE) | (c->ready ? 0 : IO_WAIT));
    c->ready = 1;
    if (r > 0 || r == HTTPD_ESTOPPED)
      continue;                      /* bytes, or a stop or pressure: cut above */
    if (r == HTTPD_ETIMEOUT) {
      if (c->head_end == 0 && !(c->cut && c->nreq == 0 && !srv_stop)) {
        if (c->cut)
          conn_site(c, srv_stop ? 412 : 413);
        return 0;                    /* idle: the wait or its last call is over */
      }
      conn_site(c, c->head_end != 0 ? 400   /* LOG:400 request head not complete in time */
                                    : 422); /* LOG:422 pool nearly full: a silent new connection cut */
      return HTTPD_ETIMEOUT;
    }
    return 0;                        /* EOF, error, or stop while idle */
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
    conn_close_at(c, 410);           /* the client may never send it */
    c->linger = 1;
    return;
  }
  if (conn_must_close(c) != 0) {
    c->linger = 1;                   /* closing anyway: no need to read it all */
    return;
  }
  /* one deadline for the whole drain: a body trickled a byte at a time must
  ** not hold the process for max_body times the idle timeout */
  c->body_end = io_now_ms() + (int64_t)c->cfg->idle_timeout * 1000;
  while ((r = httpd_read_body(c, scratch, sizeof scratch)) > 0)
    ;
  if (r < 0) {
    conn_close_at(c, 411);           /* LOG:411 unread body could not be drained */
    c->linger = 1;
  }
}

/* 1 if closing fd needs a lingering read: linger is set, or input is
** waiting in the socket after all. */
static int
conn_lingers(int fd, int linger)
{
  char b;
  return linger || recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Closes fd; after a lingering read when input may remain unread (linger,
** or bytes waiting in the socket), so that the close does not turn into a
** reset that destroys the response in flight (RFC 9112 9.6). */
static void
conn_close(int fd, int linger)
{
  char buf[4096];
  int64_t end = io_now_ms() + 1000;
  long total = 0;
  if (conn_lingers(fd, linger)) {
    shutdown(fd, SHUT_WR);
    while (total < 262144) {
      long r = io_read(fd, buf, sizeof buf, end, 0);
      if (r <= 0)
        break;
      total += r;
    }
  }
  close(fd);
}

/* Sets up c for the connection on fd; in is its CONN_INBUF input buffer. */
static void
conn_init(struct httpd_conn *c, int fd, const struct httpd_config *cfg,
          const struct conn_peer *peer, char *in)
{
  memset(c, 0, offsetof(struct httpd_conn, hdr));   /* not the 6 KiB of buffers */
  c->fd = fd;
  c->cfg = cfg;
  c->in = in;
  c->peer = *peer;
  c->idle_end = peer->t0 + (int64_t)cfg->head_timeout * 1000;  /* the first head */
  c->ready = 1;                      /* a fresh connection: its request is likely there */
  c->resp_due.fn = conn_resp_deadline;
  c->resp_due.arg = c;
}

/* Serves requests on c until the connection ends (returns 0: close it with
** conn_close(c->fd, c->linger)) or, with park, until the next request head
** is not all there (returns 1: c->in holds its first bytes; call again when
** the socket is readable).  The handler runs once per request; pipelined
** requests are answered in order. */
static int
conn_run(struct httpd_conn *c, struct httpd_request *req, int park)
{
  const struct httpd_config *cfg = c->cfg;
  for (;;) {
    int parked = 0, rc, why;
    size_t rest;
    c->site = c->site2 = 0;
    rc = conn_read_head(c, req, park, &parked);
    if (parked)
      return 1;
    /* per-request state; the input stays */
    c->req = rc > 0 ? req : NULL;
    c->head_len = c->body_pos = rc > 0 ? (size_t)rc : 0;
    c->body_left = rc > 0 && req->body == HTTPD_BODY_LENGTH ? req->content_length : 0;
    httpd_chunked_init(&c->ch);
    c->pend = NULL;
    c->npend = 0;
    c->body_done = c->body_err = c->continue_sent = 0;
    c->body_t0 = io_now_ms();
    c->body_got = 0;
    c->body_end = 0;
    c->hdr_len = c->head_pending = 0;
    c->status = c->began = c->ended = c->no_body = c->out_chunked = c->failed = 0;
    c->keep_alive = c->must_close = c->redirects = 0;
    c->length = -1;
    c->sent = c->resp_out = 0;
    if (rc == 0)
      return 0;
    if (rc < 0) {                    /* answered as HTTP/1.1, framing in doubt */
      conn_fail(c, req, rc, req->site != 0 ? req->site : c->site);
      c->linger = c->in_len > 0;     /* the client may be sending more */
      return 0;
    }
    c->nreq++;
    if (c->peer.stats != NULL) {
#if defined(__GNUC__)
      __atomic_fetch_add(&c->peer.stats->requests, 1UL, __ATOMIC_RELAXED);
#else
      c->peer.stats->requests++;
#endif
    }
    if (req->body == HTTPD_BODY_LENGTH && req->content_length > (uint64_t)cfg->max_body) {
      conn_fail(c, req, HTTPD_EBODYLARGE, 401);  /* LOG:401 Content-Length over the body limit */
      c->linger = 1;
      return 0;
    }
    rc = cfg->handler(c, req, cfg->handler_arg);
    if (!c->began) {
      /* the handler gave up without answering: say why, then close */
      int status = rc < 0 ? httpd_status(rc) : 500;
      if (c->site == 0)
        conn_site(c, 403);           /* LOG:403 handler failed before answering */
      c->must_close = 1;
      c->hdr_len = 0;                /* its fields may be what did not fit */
      conn_status_page(c, status >= 400 ? status : 500);
      c->linger = 1;
    } else if (!c->ended) {
      if (rc < 0) {
        c->failed = 1;
        conn_close_at(c, 404);       /* LOG:404 handler failed after a partial response */
      } else {
        httpd_end(c);
      }
    }
    conn_finish_body(c);
    why = conn_must_close(c);
    if (c->keep_alive && why >= 412 && why <= 415)
      why = 0;                       /* announced kept: the next wait or answer closes it */
    if (why > 0)
      conn_site(c, why);
    conn_log(c, req, c->status);
    if (c->failed)
      return 0;                      /* the connection is broken: just close */
    if (why != 0) {
      /* the client may send more (pipelined requests, the rest of a body, a
      ** next request it thinks welcome): linger, or close() may reset the
      ** connection and destroy the response in flight */
      if (c->in_len > c->body_pos || why > 0 ||
          (req->body != HTTPD_BODY_NONE && !c->body_done))
        c->linger = 1;
      return 0;
    }
    rest = c->in_len - c->body_pos;
    memmove(c->in, c->in + c->body_pos, rest);
    c->in_len = rest;
    c->head_end = 0;
    c->cut = 0;                      /* a new wait: pressure may cut it again */
    c->ready = 0;                    /* the client reads its answer first */
    /* (a lifetime never cuts this wait: its end makes the next answer say
    ** Connection: close, so no request can meet a close without an answer) */
    c->idle_end = io_now_ms() + (int64_t)cfg->idle_timeout * 1000;
  }
}

/* Serves the connection on fd to its end and closes it. */
static void
conn_serve(int fd, const struct httpd_config *cfg, const struct conn_peer *peer)
{
  char in[CONN_INBUF];
  struct httpd_request req;
  struct httpd_conn c;
  conn_init(&c, fd, cfg, peer, in);
  (void)conn_run(&c, &req, 0);
  conn_close(fd, c.linger);
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
  int k;
  for (k = 0; k < HTTPD_ROOT_CACHE; k++) {
    if (root->cache[k].fd >= 0)
      close(root->cache[k].fd);
    root->cache[k].fd = -1;
  }
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
  int e, k;
  root->fd = -1;
  root->len = 0;
  for (k = 0; k < HTTPD_ROOT_CACHE; k++)
    root->cache[k].fd = -1;
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

/* Maps the errno of a failed open to the status a client is told (and
** *site to the reason). */
static int
static_errno_status(int e, int *site)
{
  if (e == EACCES || e == EPERM) {
    *site = 501;                     /* LOG:501 not permitted (mode, directory search) */
    return 403;
  }
  if (e == EMFILE || e == ENFILE || e == ENOMEM || e == EAGAIN) {
    *site = 502;                     /* LOG:502 out of descriptors or memory */
    return 503;
  }
  *site = 500;                       /* LOG:500 no such file (ENOENT, ENOTDIR, ELOOP...) */
  return 404;
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
static_open(const struct httpd_root *root, const char *rel, struct stat *st, int *site)
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
      *site = 503;                   /* LOG:503 symlink to a dotfile (or out of the root) */
      return -404;
    }
  }
  if (fd < 0 && errno == EXDEV) {
    *site = 504;                     /* LOG:504 symlink leads out of the root */
    return -404;
  }
  if (fd < 0 && (errno == ENOSYS || errno == EPERM))
    fd = static_walk(root->fd, rel, flags);   /* no openat2 (old kernel, seccomp) */
#else
  fd = static_walk(root->fd, rel, flags);
#endif
  if (fd < 0)
    return -static_errno_status(errno, site);
  if (fstat(fd, st) != 0) {
    close(fd);
    *site = 509;                     /* LOG:509 fstat failed */
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
              struct stat *st, int *site)
{
  int fd = static_open(root, rel, st, site);
  if (fd < 0 || !S_ISDIR(st->st_mode))
    goto check;
  close(fd);
  if (n > 0 && rel[n - 1] != '/')
    return -301;
  if (n + sizeof "index.html" > cap) {
    *site = 510;                     /* LOG:510 no room for index.html */
    return -414;
  }
  memcpy(rel + n, "index.html", sizeof "index.html");
  fd = static_open(root, rel, st, site);
  if (fd == -404) {
    *site = 505;                     /* LOG:505 directory without index */
    return -403;
  }
check:
  if (fd >= 0 && !S_ISREG(st->st_mode)) {
    close(fd);
    *site = 506;                     /* LOG:506 not a regular file */
    return -403;
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

#define STATIC_CACHE_MS 1000       /* how long a cached open file stands for its name */

/* static_locate through the root's cache of open files: a request for the
** same path within a second reuses the descriptor (one fstat instead of
** openat2, fstat and close; what was opened passed every rule when it was).
** Returns the descriptor, *cached set when it belongs to the cache (the
** caller must not close it), or what static_locate returns.  rel may get
** "index.html" appended as there. */
static int
static_locate_cached(struct httpd_root *root, char *rel, size_t n, size_t cap,
                     struct stat *st, int *site, int *cached, const char **type)
{
  int64_t now = io_now_ms();
  int k, fd, victim = 0;
  *cached = 0;
  if (n >= sizeof root->cache[0].rel) {
    fd = static_locate(root, rel, n, cap, st, site);
    *type = static_type(rel);
    return fd;
  }
  for (k = 0; k < HTTPD_ROOT_CACHE; k++) {
    if (root->cache[k].fd >= 0 && strcmp(root->cache[k].rel, rel) == 0) {
      if (now - root->cache[k].at < STATIC_CACHE_MS && fstat(root->cache[k].fd, st) == 0 &&
          S_ISREG(st->st_mode)) {
        *cached = 1;
        *type = root->cache[k].type;
        return root->cache[k].fd;
      }
      close(root->cache[k].fd);      /* stale: look it up again */
      root->cache[k].fd = -1;
    }
    if (root->cache[k].fd < 0 || (root->cache[victim].fd >= 0 &&
                                  root->cache[k].at < root->cache[victim].at))
      victim = k;
  }
  memcpy(root->cache[victim].rel, rel, n + 1);   /* the name as asked, index or not */
  fd = static_locate(root, rel, n, cap, st, site);
  if (fd < 0)
    return fd;
  *type = static_type(rel);          /* of what was found: index.html, say */
  if (root->cache[victim].fd >= 0)
    close(root->cache[victim].fd);
  root->cache[victim].fd = fd;
  root->cache[victim].at = now;
  root->cache[victim].type = *type;
  *cached = 1;
  return fd;
}

/* Closes the cached files of root older than their second.  Returns when
** the next one falls due (monotonic ms), or 0 when none is cached. */
static int64_t
static_sweep(struct httpd_root *root, int64_t now)
{
  int64_t next = 0;
  int k;
  for (k = 0; k < HTTPD_ROOT_CACHE; k++) {
    if (root->cache[k].fd < 0)
      continue;
    if (now - root->cache[k].at >= STATIC_CACHE_MS) {
      close(root->cache[k].fd);
      root->cache[k].fd = -1;
    } else if (next == 0 || root->cache[k].at + STATIC_CACHE_MS < next) {
      next = root->cache[k].at + STATIC_CACHE_MS;
    }
  }
  return next;
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
  if (b.err || b.n > sizeof c->hdr - 256) {
    conn_site(c, 507);               /* LOG:507 Location would not fit the head */
    return HTTPD_EURILONG;
  }
  loc[b.n] = '\0';
  if (httpd_header(c, "Location", loc) != 0) {
    conn_site(c, 508);               /* LOG:508 Location does not fit the response head */
    return HTTPD_EURILONG;
  }
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
  struct httpd_root *root = arg;
  struct stat st;
  int n, fd, rc, site = 0, cached;
  const char *type;

  if (req->method != HTTPD_GET && req->method != HTTPD_HEAD) {
    httpd_header(c, "Allow", "GET, HEAD");
    return conn_reject(c, 405, 511); /* LOG:511 method other than GET or HEAD */
  }
  if (root == NULL || root->fd < 0) {
    conn_site(c, 512);               /* LOG:512 no document root given */
    return HTTPD_EINVAL;
  }
  n = parse_path(req->path.p, req->path.n, rel, HTTPD_MAX_PATH + 1, &site);
  if (n < 0) {
    conn_site(c, site);              /* unsafe path (400) or too long (414): its 3xx site */
    return n;
  }
  if (static_hidden(rel))
    return conn_reject(c, 404, 513); /* LOG:513 dotfile */
  c->cache_root = root;              /* a prefork worker sweeps it when idle */
  fd = static_locate_cached(root, rel, (size_t)n, sizeof rel, &st, &site, &cached, &type);
  if (fd == -301)
    return static_redirect(c, req, rel);
  if (fd == -414) {
    conn_site(c, site);
    return HTTPD_EURILONG;
  }
  if (fd < 0)
    return conn_reject(c, -fd, site);
  rc = static_send(c, req, fd, &st, type);
  if (!cached)
    close(fd);
  return rc;
}

/* ==== 8. CGI HANDLER ==== */
/* CGI/1.1 (RFC 3875) as a handler on the public API: the script is looked up
** beneath the document root as the static handler looks up files, started
** with a clean environment and only descriptors 0, 1 and 2, fed the request
** body while its output is read, and what it prints meets the pure parser
** httpd_cgi_parse before any byte of it reaches the client. */

#ifndef HTTPD_CGI_STDERR_MAX
#define HTTPD_CGI_STDERR_MAX 65536    /* stderr bytes of one run passed on; the rest dropped */
#endif
#define CGI_ENV_BYTES (HTTPD_MAX_HEAD + 16384)
#define CGI_ENV_VARS (HTTPD_MAX_HEADERS + 64)
#define CGI_REDIRECTS 4              /* local redirects followed per request */
#define CGI_PATH "/usr/local/bin:/usr/bin:/bin"

/* The environment of a script, built in one buffer. */
struct cgi_env {
  char buf[CGI_ENV_BYTES];
  size_t n;
  char *v[CGI_ENV_VARS + 1];
  int nv, err;
};

/* Appends NAME=value (value p[0..vn)). */
static void
cgi_put(struct cgi_env *e, const char *name, const char *p, size_t vn)
{
  size_t nn = strlen(name);
  if (e->err || e->nv == CGI_ENV_VARS || nn + vn + 2 > sizeof e->buf - e->n) {
    e->err = 1;
    return;
  }
  e->v[e->nv++] = e->buf + e->n;
  memcpy(e->buf + e->n, name, nn);
  e->buf[e->n + nn] = '=';
  if (vn > 0)
    memcpy(e->buf + e->n + nn + 1, p, vn);
  e->buf[e->n + nn + 1 + vn] = '\0';
  e->n += nn + vn + 2;
}

static void
cgi_puts(struct cgi_env *e, const char *name, const char *value)
{
  cgi_put(e, name, value, strlen(value));
}

static void
cgi_putu(struct cgi_env *e, const char *name, uint64_t v)
{
  char d[24];
  struct resp_buf b;
  resp_init(&b, d, sizeof d);
  resp_putu(&b, v);
  cgi_put(e, name, d, b.n);
}

/* 1 if a[0..n) and b[0..n) are the same ignoring ASCII case. */
static int
cgi_same(const char *a, const char *b, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x >= 'A' && x <= 'Z')
      x = (unsigned char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = (unsigned char)(y - 'A' + 'a');
    if (x != y)
      return 0;
  }
  return 1;
}

/* Appends the request's header fields as HTTP_* variables: upper case, '-'
** as '_', repeated fields joined with ", " ("; " for Cookie).  Left out:
** names holding '_' (X_Foo would pose as X-Foo), Proxy (httpoxy), the body's
** own fields (CONTENT_LENGTH and CONTENT_TYPE say those), the framing fields
** the server consumed, and Authorization unless pass_auth. */
static void
cgi_put_fields(struct cgi_env *e, const struct httpd_request *req, int pass_auth)
{
  size_t k, j, i;
  for (k = 0; k < req->nheaders; k++) {
    const struct httpd_header *h = &req->headers[k];
    const char *n = h->name.p;
    size_t nn = h->name.n, start;
    int cookie = PARSE_NAME(n, nn, "cookie");
    if (memchr(n, '_', nn) != NULL || PARSE_NAME(n, nn, "proxy") ||
        PARSE_NAME(n, nn, "content-length") || PARSE_NAME(n, nn, "content-type") ||
        PARSE_NAME(n, nn, "transfer-encoding") || PARSE_NAME(n, nn, "expect") ||
        (!pass_auth && PARSE_NAME(n, nn, "authorization")))
      continue;
    for (j = 0; j < k; j++)          /* joined at the first one already */
      if (req->headers[j].name.n == nn && cgi_same(req->headers[j].name.p, n, nn))
        break;
    if (j < k)
      continue;
    if (e->err || e->nv == CGI_ENV_VARS || nn + 8 > sizeof e->buf - e->n) {
      e->err = 1;
      return;
    }
    e->v[e->nv++] = e->buf + e->n;
    start = e->n;
    memcpy(e->buf + e->n, "HTTP_", 5);
    e->n += 5;
    for (i = 0; i < nn; i++) {
      char ch = n[i];
      e->buf[e->n++] = ch == '-' ? '_' : ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
    }
    e->buf[e->n++] = '=';
    for (j = k; j < req->nheaders; j++) {
      const struct httpd_header *g = &req->headers[j];
      if (j != k && !(g->name.n == nn && cgi_same(g->name.p, n, nn)))
        continue;
      if (j != k) {
        if (sizeof e->buf - e->n < 2)
          break;
        memcpy(e->buf + e->n, cookie ? "; " : ", ", 2);
        e->n += 2;
      }
      if (g->value.n + 1 > sizeof e->buf - e->n) {
        e->err = 1;
        e->n = start;
        e->nv--;
        return;
      }
      memcpy(e->buf + e->n, g->value.p, g->value.n);
      e->n += g->value.n;
    }
    if (e->n == sizeof e->buf) {
      e->err = 1;
      return;
    }
    e->buf[e->n++] = '\0';
  }
}

/* The script a request names, as located beneath the root. */
struct cgi_script {
  char rel[HTTPD_MAX_PATH + 16];  /* the script's path, relative to the root */
  const char *path_info;          /* the rest of the decoded path ("" if none) */
  char *name;                     /* the script's last segment, inside rel */
  int fd, dirfd;                  /* the script and its directory, opened beneath the root */
  struct stat st;
};

/* Finds the script in the normalized path rel (n bytes): the first segment
** that names a regular file; what follows is PATH_INFO.  Returns 0 with *s
** filled (fd and dirfd open), 1 if the file is not a script by the suffix
** rule (serve it as a file), or a negative HTTP status with *site. */
static int
cgi_locate(const struct httpd_cgi *cgi, const char *rel, size_t n, struct cgi_script *s,
           int *site)
{
  size_t i = 0, sl;
  int fd;
  s->fd = s->dirfd = -1;
  for (;;) {
    while (i < n && rel[i] != '/')
      i++;
    memcpy(s->rel, rel, i);
    s->rel[i] = '\0';
    if (static_hidden(s->rel)) {
      *site = 625;                   /* LOG:625 a dotfile on the way to the script */
      return -404;
    }
    fd = static_open(cgi->root, s->rel, &s->st, site);
    if (fd < 0)
      return fd;
    if (S_ISREG(s->st.st_mode))
      break;
    close(fd);
    if (!S_ISDIR(s->st.st_mode) || i >= n || i + 1 >= n) {
      if (cgi->suffix != NULL && S_ISDIR(s->st.st_mode))
        return 1;                    /* by the pattern a directory is no script: a file */
      *site = 626;                   /* LOG:626 a directory (or no file) under the CGI prefix */
      return -403;
    }
    i++;                             /* into the directory */
  }
  s->fd = fd;
  s->path_info = rel + i;
  s->name = strrchr(s->rel, '/');
  s->name = s->name != NULL ? s->name + 1 : s->rel;
  sl = cgi->suffix != NULL ? strlen(cgi->suffix) : 0;
  if (sl > 0 && (strlen(s->name) < sl ||
                 strcmp(s->name + strlen(s->name) - sl, cgi->suffix) != 0)) {
    close(fd);
    s->fd = -1;
    return 1;
  }
  if ((s->st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
    *site = 623;                     /* LOG:623 script not executable */
    return -403;
  }
  if ((s->st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    *site = 624;                     /* LOG:624 script writable by group or others */
    return -500;
  }
  /* its directory, beneath the root too: the script runs in it */
  {
    char dir[HTTPD_MAX_PATH + 16];
    size_t dn = s->name > s->rel ? (size_t)(s->name - s->rel - 1) : 0;
    struct stat dst;
    memcpy(dir, s->rel, dn);
    dir[dn] = '\0';
    s->dirfd = static_open(cgi->root, dir, &dst, site);
    if (s->dirfd < 0)
      return s->dirfd;
  }
  return 0;
}

/* Builds the script's environment (RFC 3875 4.1; unset is absent, not empty). */
static void
cgi_environ(struct cgi_env *e, struct httpd_conn *c, const struct httpd_request *req,
            const struct httpd_cgi *cgi, const struct cgi_script *s, int64_t length)
{
  const struct httpd_header *ct;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char local[INET6_ADDRSTRLEN + 1] = "-";
  unsigned lport = 0;
  size_t i;
  const char *const *x;
  e->n = 0;
  e->nv = e->err = 0;
  cgi_puts(e, "PATH", CGI_PATH);
  cgi_puts(e, "GATEWAY_INTERFACE", "CGI/1.1");
  cgi_puts(e, "SERVER_SOFTWARE", HTTPD_SERVER_NAME);
  cgi_puts(e, "SERVER_PROTOCOL", req->minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
  if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0)
    io_addr(&ss, local, sizeof local, &lport, NULL);
  if (req->host.p != NULL) {         /* validated by the parser: without its port */
    size_t hn = req->host.n;
    if (req->host.p[0] == '[') {
      for (i = 0; i < hn && req->host.p[i] != ']'; i++)
        ;
      hn = i + 1 <= hn ? i + 1 : hn;
    } else {
      for (i = 0; i < hn && req->host.p[i] != ':'; i++)
        ;
      hn = i;
    }
    cgi_put(e, "SERVER_NAME", req->host.p, hn);
  } else {
    cgi_puts(e, "SERVER_NAME", local);
  }
  cgi_putu(e, "SERVER_PORT", lport);
  cgi_puts(e, "SERVER_ADDR", local);
  cgi_puts(e, "REMOTE_ADDR", c->peer.addr);
  cgi_putu(e, "REMOTE_PORT", c->peer.port);
  cgi_put(e, "REQUEST_METHOD", req->method_str.p, req->method_str.n);
  cgi_put(e, "REQUEST_URI", req->target.p, req->target.n);
  {
    char sn[HTTPD_MAX_PATH + 18];
    sn[0] = '/';
    memcpy(sn + 1, s->rel, strlen(s->rel) + 1);
    cgi_puts(e, "SCRIPT_NAME", sn);
  }
  cgi_puts(e, "DOCUMENT_ROOT", cgi->root->path);
  {
    char fn[PATH_MAX];
    struct resp_buf b;
    resp_init(&b, fn, sizeof fn - 1);
    resp_puts(&b, cgi->root->path);
    if (cgi->root->len > 0)
      resp_puts(&b, "/");
    resp_puts(&b, s->rel);
    fn[b.n] = '\0';
    cgi_put(e, "SCRIPT_FILENAME", fn, b.err ? 0 : b.n);
    if (s->path_info[0] != '\0') {
      cgi_puts(e, "PATH_INFO", s->path_info);
      resp_init(&b, fn, sizeof fn - 1);
      resp_puts(&b, cgi->root->path);
      resp_puts(&b, cgi->root->len > 0 ? s->path_info : s->path_info + 1);
      cgi_put(e, "PATH_TRANSLATED", fn, b.err ? 0 : b.n);
    }
  }
  cgi_put(e, "QUERY_STRING", req->query.p, req->query.p != NULL ? req->query.n : 0);
  if (length >= 0) {
    cgi_putu(e, "CONTENT_LENGTH", (uint64_t)length);
    if ((ct = httpd_find_header(req, "Content-Type")) != NULL)
      cgi_put(e, "CONTENT_TYPE", ct->value.p, ct->value.n);
  }
  cgi_put_fields(e, req, cgi->pass_auth);
  for (x = cgi->env; x != NULL && *x != NULL; x++)
    if (strchr(*x, '=') != NULL && e->nv < CGI_ENV_VARS)
      e->v[e->nv++] = (char *)(uintptr_t)*x;
  e->v[e->nv] = NULL;
}

/* A running script: its process (pid -1 for the fuzz harness's fake) and
** our ends of its pipes (-1 once closed). */
struct cgi_proc {
  pid_t pid;
  int in, out, err;
  int wake;                      /* self-pipe read end: SIGCHLD arrived */
  int exited;
};

/* Makes a pipe whose two ends are close-on-exec; ours non-blocking. */
static int
cgi_pipe(int p[2], int our_end)
{
  if (pipe(p) != 0)
    return -1;
  if (io_flags(p[0], our_end == 0) != 0 || io_flags(p[1], our_end == 1) != 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  return 0;
}

/* The script's side of the fork: own process group, default signal
** dispositions and an empty mask, descriptors 0, 1, 2 and nothing else,
** working directory its own, then exec.  On failure writes errno to
** status and exits 127. */
static void
cgi_exec(const struct cgi_script *s, char **envp, int in, int out, int err, int status)
{
  struct sigaction sa;
  sigset_t none;
  char *argv[2];
  int sig, e, fd;
  setpgid(0, 0);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (sig = 1; sig < 65; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction(sig, &sa, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* move the pipe ends out of the way of 0..2, then into place */
  if ((in = fcntl(in, F_DUPFD, 3)) < 0 || (out = fcntl(out, F_DUPFD, 3)) < 0 ||
      (err = fcntl(err, F_DUPFD, 3)) < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
      dup2(err, 2) < 0 || fchdir(s->dirfd) != 0)
    goto fail;
  fd = status;
  if (fd < 3 && (fd = fcntl(status, F_DUPFD_CLOEXEC, 3)) < 0)
    goto fail;
  status = fd;
#if defined(__linux__) && defined(SYS_close_range)
  if (status > 3)
    syscall(SYS_close_range, 3U, (unsigned)status - 1, 0U);
  if (syscall(SYS_close_range, (unsigned)status + 1, ~0U, 0U) != 0)
#endif
  {
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
      max = 65536;
    for (fd = 3; fd < max; fd++)
      if (fd != status)
        close(fd);
  }
  argv[0] = s->name;
  argv[1] = NULL;
  {
    char path[NAME_MAX + 3];
    size_t nn = strlen(s->name);
    if (nn + 3 > sizeof path)
      goto fail;
    memcpy(path, "./", 2);
    memcpy(path + 2, s->name, nn + 1);
    execve(path, argv, envp);
  }
fail:
  e = errno;
  (void)!write(status, &e, sizeof e);
  _exit(127);
}

/* Starts the script with stdin from `input` (a descriptor to give it
** whole, or -1: a pipe we feed, p->in).  Returns 0, or a negative HTTP
** status (*site set). */
static int
cgi_spawn(const struct cgi_script *s, char **envp, int input, struct cgi_proc *p, int *site)
{
  int pin[2] = { -1, -1 }, pout[2], perr[2], pst[2], e = 0;
  ssize_t r;
  p->pid = -1;
  p->in = p->out = p->err = -1;
  p->exited = 0;
  if (input < 0 && cgi_pipe(pin, 1) != 0)
    goto nofd;
  if (cgi_pipe(pout, 0) != 0)
    goto nofd_in;
  if (cgi_pipe(perr, 0) != 0)
    goto nofd_out;
  if (cgi_pipe(pst, 0) != 0)
    goto nofd_err;
  p->pid = fork();
  if (p->pid == 0)
    cgi_exec(s, envp, input >= 0 ? input : pin[0], pout[1], perr[1], pst[1]);
  e = errno;
  close(pst[1]);
  close(pout[1]);
  close(perr[1]);
  if (input < 0)
    close(pin[0]);
  if (p->pid < 0) {
    close(pst[0]);
    close(pout[0]);
    close(perr[0]);
    if (input < 0)
      close(pin[1]);
    *site = 627;                     /* LOG:627 fork for a CGI script failed (ulimit -u?) */
    errno = e;
    return -503;
  }
  setpgid(p->pid, p->pid);           /* both sides, whichever runs first */
  /* the status pipe closes at exec: a read of 0 bytes means it started */
  (void)io_flags(pst[0], 0);
  do
    r = read(pst[0], &e, sizeof e);
  while (r < 0 && errno == EINTR);
  close(pst[0]);
  p->in = input < 0 ? pin[1] : -1;
  p->out = pout[0];
  p->err = perr[0];
  if (r == (ssize_t)sizeof e) {
    char msg[PATH_MAX + 128];
    int n = snprintf(msg, sizeof msg, "httpd: cannot start CGI script /%s: %s%s\n",
                     s->rel, strerror(e),
                     e == ENOENT ? " (its interpreter missing? in a chroot it must be inside)" : "");
    if (n > 0)
      (void)!write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    *site = 622;                     /* LOG:622 CGI script could not be started */
    return -500;
  }
  return 0;
nofd_err:
  close(perr[0]);
  close(perr[1]);
nofd_out:
  close(pout[0]);
  close(pout[1]);
nofd_in:
  if (input < 0) {
    close(pin[0]);
    close(pin[1]);
  }
nofd:
  *site = 502;
  return -503;
}

/* Ends the script: kills its process group (grandchildren included) and
** reaps it; closes our pipe ends. */
static void
cgi_end(struct cgi_proc *p)
{
  if (p->in >= 0)
    close(p->in);
  if (p->out >= 0)
    close(p->out);
  if (p->err >= 0)
    close(p->err);
  p->in = p->out = p->err = -1;
  if (p->pid > 0) {
    int st;
    kill(-p->pid, SIGKILL);          /* the group: before the reap, so its id is ours */
    kill(p->pid, SIGKILL);
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
      ;
    p->pid = -1;
  }
}

/* 1 once the script (not its grandchildren) has exited: it is left a zombie
** (WNOWAIT), so that its process group id stays ours until cgi_end. */
static int
cgi_exited(struct cgi_proc *p)
{
  siginfo_t si;
  if (p->pid <= 0 || p->exited)
    return p->exited;
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0)
    p->exited = 1;
  return p->exited;
}

/* Begins the response from the script's header block r. */
static int
cgi_begin(struct httpd_conn *c, const struct httpd_cgi_response *r)
{
  size_t k;
  for (k = 0; k < r->nheaders; k++)
    if (conn_header(c, r->headers[k].name.p, r->headers[k].name.n, r->headers[k].value.p,
                    r->headers[k].value.n) != 0)
      goto full;
  if (r->content_type.p != NULL &&
      conn_header(c, "Content-Type", 12, r->content_type.p, r->content_type.n) != 0)
    goto full;
  if (r->location.p != NULL &&
      conn_header(c, "Location", 8, r->location.p, r->location.n) != 0)
    goto full;
  return httpd_begin(c, r->status, r->content_length);
full:
  conn_site(c, 629);                 /* LOG:629 the script's fields do not fit the response head */
  c->hdr_len = 0;
  return HTTPD_EBADGATEWAY;
}

/* Sends n bytes of the script's body; what goes beyond its Content-Length is
** dropped, and the connection closes after the response (the script said
** one thing and did another).  Returns 0 or a negative code. */
static int
cgi_write(struct httpd_conn *c, const char *p, size_t n)
{
  if (c->length >= 0 && (uint64_t)n > (uint64_t)c->length - c->sent) {
    n = (size_t)((uint64_t)c->length - c->sent);
    if (!c->no_body)                 /* (HEAD: no body is sent, framing stays sound) */
      conn_close_at(c, 630);         /* LOG:630 script output beyond its Content-Length */
  }
  if (httpd_write(c, p, n) != 0) {
    c->failed = 1;
    conn_site(c, 636);               /* LOG:636 client gone during a CGI response */
    return HTTPD_EIO;
  }
  return 0;
}

/* Passes stderr bytes of the script on to the server's stderr, at most
** HTTPD_CGI_STDERR_MAX per run (*budget), and drops the rest. */
static void
cgi_stderr(int fd, size_t *budget)
{
  char buf[4096];
  ssize_t r;
  int i;
  for (i = 0; i < 16 && (r = read(fd, buf, sizeof buf)) > 0; i++) {
    size_t n = (size_t)r < *budget ? (size_t)r : *budget;
    if (n > 0)
      (void)!write(2, buf, n);
    *budget -= n;
  }
}

/* Relays one CGI exchange: the request body (what remains of it after the
** head) to p->in while the script's output is read from p->out, parsed by
** httpd_cgi_parse, and sent on; stderr passed on, bounded.  The script is
** given `timeout` seconds of silence at most.  On a local redirect returns
** 1 with *r filled and nothing sent; else 0 or a negative code (after a
** partial response the connection is marked broken).  hbuf holds
** HTTPD_MAX_CGI_HEAD bytes: the header block (r's views point into it). */
static int
cgi_relay(struct httpd_conn *c, struct cgi_proc *p, int timeout,
          struct httpd_cgi_response *r, char *hbuf)
{
  char inb[16384], outb[16384];
  size_t in_pos = 0, in_len = 0, hlen = 0, errbudget = HTTPD_CGI_STDERR_MAX;
  int64_t deadline = io_now_ms() + (int64_t)timeout * 1000;
  int head_done = 0, want_body = p->in >= 0, rc;
  if (want_body && conn_continue(c) != 0)
    want_body = 0;
  for (;;) {
    struct pollfd f[5];
    int nf = 0, i_out = -1, i_err = -1, i_in = -1, i_sock = -1, i_wake = -1;
    int64_t left;
    if (srv_stop) {
      conn_site(c, 633);             /* LOG:633 server stopping during a CGI request */
      return c->began ? (c->failed = 1, HTTPD_EIO) : HTTPD_ESTOPPED;
    }
    /* more body for the script, when it has taken what we hold */
    if (want_body && in_pos == in_len && c->in_len > c->body_pos) {
      long n = httpd_read_body(c, inb, sizeof inb);
      if (n < 0)
        goto body_error;
      in_pos = 0;
      in_len = (size_t)n;
      if (n == 0)
        want_body = 0;
    }
    if (want_body && in_pos == in_len && c->body_done)
      want_body = 0;                 /* all of it read: EOF for the script below */
    if (p->in >= 0 && !want_body && in_pos == in_len) {
      close(p->in);                  /* all of the body given: EOF for the script */
      p->in = -1;
    }
    if (p->out >= 0) {
      f[nf].fd = p->out;
      f[nf].events = POLLIN;
      i_out = nf++;
    }
    if (p->err >= 0) {
      f[nf].fd = p->err;
      f[nf].events = POLLIN;
      i_err = nf++;
    }
    if (p->in >= 0 && in_pos < in_len) {
      f[nf].fd = p->in;
      f[nf].events = POLLOUT;
      i_in = nf++;
    }
    /* body bytes, or the client gone: a reset (POLLHUP, POLLERR).  A FIN is
    ** no sign of that (a client may shut its side after the request and
    ** still read); a write to a client that has left fails, and the script
    ** is killed then, or after its timeout if it stays silent */
    f[nf].fd = c->fd;
    f[nf].events = want_body && in_pos == in_len ? POLLIN : 0;
    i_sock = nf++;
    if (p->wake >= 0) {
      f[nf].fd = p->wake;
      f[nf].events = POLLIN;
      i_wake = nf++;
    }
    if (i_out < 0)
      break;                         /* the script's stdout is closed: done */
    left = deadline - io_now_ms();
    if (left <= 0) {
      conn_site(c, 621);             /* LOG:621 CGI script silent past its timeout */
      if (c->began) {
        c->failed = 1;
        return HTTPD_EIO;
      }
      return HTTPD_EGWTIMEOUT;
    }
    for (rc = 0; rc < nf; rc++)
      f[rc].revents = 0;
    if (poll(f, (nfds_t)nf, left > INT_MAX ? INT_MAX : (int)left) < 0) {
      if (errno == EINTR)
        continue;
      return HTTPD_ESYS;
    }
    if (i_wake >= 0 && f[i_wake].revents) {
      char b[64];
      while (read(p->wake, b, sizeof b) > 0)
        ;
    }
    if (f[i_sock].revents & (POLLHUP | POLLERR)) {
      if (!(want_body && (f[i_sock].revents & POLLIN))) {
        conn_site(c, 628);           /* LOG:628 client gone during a CGI request */
        c->failed = 1;
        return HTTPD_EIO;
      }
    }
    if ((f[i_sock].revents & POLLIN) && want_body && in_pos == in_len) {
      long n = httpd_read_body(c, inb, sizeof inb);
      if (n < 0)
        goto body_error;
      in_pos = 0;
      in_len = (size_t)n;
      if (n == 0)
        want_body = 0;
    }
    if (i_in >= 0 && (f[i_in].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(p->in, inb + in_pos, in_len - in_pos);
      if (w > 0) {
        in_pos += (size_t)w;
        deadline = io_now_ms() + (int64_t)timeout * 1000;  /* it is reading: not silent */
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        close(p->in);                /* the script will not read it: the rest is drained */
        p->in = -1;
        want_body = 0;
        in_pos = in_len = 0;
      }
    }
    if (i_err >= 0 && f[i_err].revents) {
      cgi_stderr(p->err, &errbudget);
      if (f[i_err].revents & (POLLHUP | POLLERR) && !(f[i_err].revents & POLLIN)) {
        close(p->err);
        p->err = -1;
      }
    }
    if (f[i_out].revents == 0 && !cgi_exited(p))
      continue;
    /* read what the script printed; once it has exited, only what is there
    ** (a grandchild keeping stdout open must not hold the connection) */
    for (;;) {
      ssize_t n;
      char *dst = head_done ? outb : hbuf + hlen;
      size_t room = head_done ? sizeof outb : HTTPD_MAX_CGI_HEAD - hlen;
      if (room == 0)
        room = 1, dst = outb;        /* parse below reports the full block */
      n = read(p->out, dst, room);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (cgi_exited(p))
          n = 0;                     /* exited: what was there is all */
        else
          break;
      }
      if (n <= 0) {
        close(p->out);
        p->out = -1;
        break;
      }
      deadline = io_now_ms() + (int64_t)timeout * 1000;
      if (head_done) {
        if ((rc = cgi_write(c, outb, (size_t)n)) != 0)
          return rc;
        if (c->length >= 0 && c->sent == (uint64_t)c->length && n > 0 &&
            (c->must_close || c->no_body))
          break;                     /* its Content-Length is all sent: the rest is dropped */
        continue;
      }
      hlen += (size_t)n;
      rc = httpd_cgi_parse(hbuf, hlen, r);
      if (rc == HTTPD_EINCOMPLETE && hlen < HTTPD_MAX_CGI_HEAD)
        continue;
      if (rc < 0) {
        conn_site(c, rc == HTTPD_EINCOMPLETE ? 604 : r->site);
        return HTTPD_EBADGATEWAY;
      }
      head_done = 1;
      if (r->redirect == 1)
        return 1;                    /* local: the caller re-dispatches */
      if ((rc = cgi_begin(c, r)) != 0)
        return rc;
      if (hlen > r->head_len && (rc = cgi_write(c, hbuf + r->head_len, hlen - r->head_len)) != 0)
        return rc;
      if (c->length >= 0 && c->sent == (uint64_t)c->length && (c->must_close || c->no_body))
        break;
    }
  }
  if (!head_done) {
    conn_site(c, 620);               /* LOG:620 script ended without a complete header block */
    return HTTPD_EBADGATEWAY;
  }
  return httpd_end(c);
body_error:
  if (c->began) {
    c->failed = 1;
    return HTTPD_EIO;
  }
  return c->body_err;
}

/* Reads the whole (chunked) request body into an unlinked temporary file,
** bounded by max_body (httpd_read_body says 413 beyond).  Returns the
** descriptor, at offset 0, with *len set; or a negative code. */
static int
cgi_spool(struct httpd_conn *c, int64_t *len)
{
  char buf[16384], path[PATH_MAX];
  const char *tmp = getenv("TMPDIR");
  long r;
  int fd = -1;
  *len = 0;
  if (tmp == NULL || *tmp == '\0' || strlen(tmp) > sizeof path - 32)
    tmp = "/tmp";
#if defined(__linux__) && defined(O_TMPFILE)
  fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
  if (fd < 0) {
    snprintf(path, sizeof path, "%s/httpd-body-XXXXXX", tmp);
    fd = mkstemp(path);
    if (fd >= 0) {
      unlink(path);
      (void)io_flags(fd, 0);
    }
  }
  if (fd < 0) {
    conn_site(c, 631);               /* LOG:631 no temporary file for a chunked body */
    return HTTPD_ESYS;
  }
  while ((r = httpd_read_body(c, buf, sizeof buf)) > 0) {
    if (write(fd, buf, (size_t)r) != r) {
      close(fd);
      conn_site(c, 631);
      return HTTPD_ESYS;
    }
    *len += r;
  }
  if (r < 0 || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return r < 0 ? (int)r : HTTPD_ESYS;
  }
  return fd;
}

/* 1 if the normalized path rel lies under the CGI prefix. */
static int
cgi_under(const struct httpd_cgi *cgi, const char *rel)
{
  const char *p = cgi->prefix != NULL ? cgi->prefix : "";
  size_t pn;
  while (*p == '/')
    p++;
  pn = strlen(p);
  while (pn > 0 && p[pn - 1] == '/')
    pn--;
  return pn == 0 || (strncmp(rel, p, pn) == 0 && (rel[pn] == '\0' || rel[pn] == '/'));
}

int
httpd_cgi_match(const struct httpd_cgi *cgi, const struct httpd_request *req)
{
  char rel[HTTPD_MAX_PATH + 16];
  /* on the decoded, normalized path: "/cgi%2Dbin/x" is under "/cgi-bin/"
  ** too, and must never be served as a file */
  if (cgi == NULL ||
      httpd_path_normalize(req->path.p, req->path.n, rel, HTTPD_MAX_PATH + 1) < 0)
    return cgi != NULL;              /* a bad path: the CGI handler answers 400/414 */
  return cgi_under(cgi, rel);
}

/* Runs the script for req (after the lookup); answers, or returns a code. */
static int
cgi_run(struct httpd_conn *c, const struct httpd_request *req, const struct httpd_cgi *cgi,
        struct cgi_script *s)
{
  struct cgi_env *env;
  struct httpd_cgi_response *r;
  struct cgi_proc p;
  struct sigaction sa, old;
  char *hbuf;
  int64_t length = -1;
  int input = -1, rc, site = 0, wake[2] = { -1, -1 };

  if (req->body == HTTPD_BODY_CHUNKED) {
    input = cgi_spool(c, &length);   /* the script gets a CONTENT_LENGTH */
    if (input < 0)
      return input;
  } else if (req->body == HTTPD_BODY_LENGTH) {
    length = (int64_t)req->content_length;
  } else {
    int ep[2];                       /* an empty stdin: a pipe (no /dev in a chroot) */
    if (cgi_pipe(ep, 0) != 0)
      return HTTPD_ESYS;
    close(ep[1]);
    (void)io_flags(ep[0], 0);
    input = ep[0];
  }
  env = malloc(sizeof *env);
  if (env != NULL)
    cgi_environ(env, c, req, cgi, s, length);
  if (env == NULL || env->err) {
    if (input >= 0)
      close(input);
    free(env);
    conn_site(c, 632);               /* LOG:632 the script's environment does not fit */
    return HTTPD_ESYS;
  }
  r = malloc(sizeof *r + HTTPD_MAX_CGI_HEAD);
  if (r == NULL || cgi_pipe(wake, 0) != 0) {
    free(r);
    free(env);
    if (input >= 0)
      close(input);
    return HTTPD_ESYS;
  }
  hbuf = (char *)(r + 1);
  /* SIGCHLD wakes the relay when the script exits */
  srv_wakefd = wake[1];
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = io_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, &old);
  rc = cgi_spawn(s, env->v, input, &p, &site);
  free(env);
  if (input >= 0)
    close(input);
  p.wake = wake[0];
  if (rc < 0) {
    conn_site(c, site);
    rc = rc == -503 ? HTTPD_ENOFORK : HTTPD_ESYS;
  } else {
    rc = cgi_relay(c, &p, cgi->timeout > 0 ? cgi->timeout : 30, r, hbuf);
  }
  cgi_end(&p);
  sigaction(SIGCHLD, &old, NULL);
  srv_wakefd = -1;
  close(wake[0]);
  close(wake[1]);
  if (rc == 1) {
    /* a local redirect: the same connection, the new path, as GET */
    char head[HTTPD_MAX_HEAD];
    struct httpd_request *nreq = malloc(sizeof *nreq);
    struct resp_buf b;
    size_t k;
    int n;
    if (nreq == NULL) {
      free(r);
      return HTTPD_ESYS;
    }
    resp_init(&b, head, sizeof head);
    resp_puts(&b, "GET ");
    resp_put(&b, r->location.p, r->location.n);
    resp_puts(&b, req->minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
    for (k = 0; k < req->nheaders; k++) {
      const struct httpd_header *h = &req->headers[k];
      if (PARSE_NAME(h->name.p, h->name.n, "content-length") ||
          PARSE_NAME(h->name.p, h->name.n, "transfer-encoding") ||
          PARSE_NAME(h->name.p, h->name.n, "expect"))
        continue;
      resp_put(&b, h->name.p, h->name.n);
      resp_puts(&b, ": ");
      resp_put(&b, h->value.p, h->value.n);
      resp_puts(&b, "\r\n");
    }
    resp_puts(&b, "\r\n");
    free(r);
    n = b.err ? HTTPD_EHEADLARGE : httpd_parse_request(head, b.n, nreq);
    if (n < 0 || c->redirects >= CGI_REDIRECTS) {
      free(nreq);
      conn_site(c, n < 0 ? 634        /* LOG:634 a local redirect that is no valid request */
                         : 635);      /* LOG:635 too many local redirects */
      return HTTPD_EBADGATEWAY;
    }
    c->redirects++;
    c->req = nreq;                   /* the server's handler, as for any request */
    rc = c->cfg->handler(c, nreq, c->cfg->handler_arg);
    c->req = req;
    free(nreq);
    return rc;
  }
  free(r);
  return rc;
}

int
httpd_cgi(struct httpd_conn *c, const struct httpd_request *req, void *arg)
{
  const struct httpd_cgi *cgi = arg;
  char rel[HTTPD_MAX_PATH + 16];
  struct cgi_script *s;
  int n, rc, site = 0;
  if (cgi == NULL || cgi->root == NULL || cgi->root->fd < 0) {
    conn_site(c, 512);
    return HTTPD_EINVAL;
  }
  n = parse_path(req->path.p, req->path.n, rel, HTTPD_MAX_PATH + 1, &site);
  if (n < 0) {
    conn_site(c, site);
    return n;
  }
  if (!cgi_under(cgi, rel))
    return httpd_static(c, req, (void *)(uintptr_t)cgi->root);
  s = malloc(sizeof *s);
  if (s == NULL)
    return HTTPD_ESYS;
  rc = cgi_locate(cgi, rel, (size_t)n, s, &site);
  if (rc == 1) {
    free(s);
    return httpd_static(c, req, (void *)(uintptr_t)cgi->root);   /* not a script: a file */
  }
  if (rc == 0)
    rc = cgi_run(c, req, cgi, s);
  else
    rc = conn_reject(c, -rc, site);
  if (s->fd >= 0)
    close(s->fd);
  if (s->dirfd >= 0)
    close(s->dirfd);
  free(s);
  return rc;
}

/* ==== 9. SERVER ==== */
/* The parent: listen, accept, fork (or prefork workers), reap, shut down.  It
** keeps no request state and little memory, so fork stays cheap; it never
** blocks on a client. */

#ifndef HTTPD_BACKLOG
#define HTTPD_BACKLOG 4096       /* the kernel caps it at somaxconn */
#endif
#ifndef HTTPD_EMFILE_PAUSE_MS
#define HTTPD_EMFILE_PAUSE_MS 100
#endif
#ifndef HTTPD_BUSY_MAX
#define HTTPD_BUSY_MAX 64        /* connections the parent holds while answering 503 */
#endif
#define SRV_BUSY_LINGER_MS 1000  /* how long a 503'd connection may take to go away */
#define SRV_BACKLOG_WAIT_MS 2000 /* at the cap: clients waiting this long get 503 */
#define SRV_PRESSURE_NUM 3       /* pressure above 3/4 of the cap */
#define SRV_PRESSURE_DEN 4


/* One live child or worker of the parent. */
struct srv_kid {
  pid_t pid;
  unsigned char addr[16];        /* fork mode: the client's address */
  int pressed;                   /* SIGUSR1 sent */
  int64_t born;                  /* monotonic ms */
};

/* A connection the parent answered 503 and is letting go of. */
struct srv_busy {
  int fd;
  int64_t end;
};

/* The parent's state. */
struct srv {
  struct httpd_config cfg;
  const int *lfd;
  int nlfd;
  struct srv_kid *kids;
  int cap, live;
  struct srv_busy busy[HTTPD_BUSY_MAX];
  int nbusy;
  int pipe[2];                   /* self-pipe: signal handlers wake the poll */
  int life, life_w;              /* prefork: a pipe the parent holds the write end
                                    of; workers poll the read end (parent gone) */
  int64_t paused_until;          /* EMFILE: no accept before this */
  int64_t full_since;            /* at the cap since (0: not) */
  int64_t respawn_at;            /* prefork: no new worker before this */
  int upgraded;                  /* a new server took over the sockets */
  int64_t event_at[8];           /* rate limit of stderr event lines, per kind */
  unsigned long event_dropped[8];
  struct conn_stats *stats;
  struct sigaction old[7];
};

static const int srv_signals[7] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2,
                                     SIGPIPE };

static int
srv_sigaction(int sig, void (*fn)(int), struct sigaction *old)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = sig == SIGCHLD ? SA_NOCLDSTOP | SA_RESTART : SA_RESTART;
  return sigaction(sig, &sa, old);
}

int
httpd_listen_opt(const char *addr, const char *port, int reuseport, int *port_out)
{
  struct addrinfo hints, *res = NULL, *ai;
  int fd = -1, on = 1, off = 0, pass, e = 0;
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
    if (getaddrinfo(addr, port != NULL ? port : "8888", &hints, &res) != 0) {
      e = EADDRNOTAVAIL;
      continue;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
      fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd < 0) {
        e = errno;
        continue;
      }
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
#ifdef SO_REUSEPORT
      if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
#endif
      /* accepted sockets inherit it on Linux: no setsockopt per connection */
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      if (ai->ai_family == AF_INET6 && addr == NULL)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
      if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
          listen(fd, HTTPD_BACKLOG) == 0 && io_flags(fd, 1) == 0)
        break;
      e = errno;
      close(fd);
      fd = -1;
    }
    freeaddrinfo(res);
    res = NULL;
  }
  if (fd < 0) {
    errno = e;
    return HTTPD_ESYS;
  }
  if (port_out != NULL) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char text[INET6_ADDRSTRLEN + 1];
    unsigned p = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
      io_addr(&ss, text, sizeof text, &p, NULL);
    *port_out = (int)p;
  }
  return fd;
}

int
httpd_listen(const char *addr, const char *port, int *port_out)
{
  return httpd_listen_opt(addr, port, 0, port_out);
}

/* One line on stderr for a server-side event of `kind` (0..7), at most one
** per kind and second; the lines dropped meanwhile are counted in the next. */
#if defined(__GNUC__)
static void srv_event(struct srv *s, int kind, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
#endif
static void
srv_event(struct srv *s, int kind, const char *fmt, ...)
{
  char line[256];
  int64_t now = io_now_ms();
  int n;
  va_list ap;
  if (s->cfg.quiet)
    return;
  if (s->event_at[kind] != 0 && now - s->event_at[kind] < 1000) {
    s->event_dropped[kind]++;
    return;
  }
  s->event_at[kind] = now;
  memcpy(line, "httpd: ", 7);
  va_start(ap, fmt);
  n = vsnprintf(line + 7, sizeof line - 40, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  n += 7;
  if ((size_t)n > sizeof line - 40)
    n = (int)sizeof line - 40;
  if (s->event_dropped[kind] > 0)
    n += snprintf(line + n, sizeof line - (size_t)n - 1, " [%lu more]", s->event_dropped[kind]);
  s->event_dropped[kind] = 0;
  line[n++] = '\n';
  (void)!write(2, line, (size_t)n);
}

/* Drops pid from the table of live children; returns its index or -1 (an
** adopted orphan, or an embedding program's own child, is not in it). */
static int
srv_forget(struct srv *s, pid_t pid)
{
  int i;
  for (i = 0; i < s->live; i++)
    if (s->kids[i].pid == pid) {
      s->kids[i] = s->kids[--s->live];
      s->stats->live = s->live;
      return i;
    }
  return -1;
}

/* Reaps every child that has exited (and adopted orphans when PID 1):
** waitpid(-1, WNOHANG) until nothing is left, because signals coalesce.
** Keeps errno.  Returns the number of our children reaped. */
static int
srv_reap(struct srv *s)
{
  int saved = errno, st, n = 0, i;
  pid_t p;
  while ((p = waitpid(-1, &st, WNOHANG)) != 0) {
    if (p < 0) {
      if (errno == EINTR)
        continue;
      break;                         /* ECHILD: none left */
    }
    for (i = 0; i < s->live && s->kids[i].pid != p; i++)
      ;
    if (i == s->live)
      continue;                      /* not ours: an adopted orphan */
    if (s->cfg.workers > 0 && io_now_ms() - s->kids[i].born < 1000 &&
        !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
      s->respawn_at = io_now_ms() + 1000;   /* dying young: replace it slowly */
    srv_forget(s, p);
    n++;
    s->stats->reaped++;
    if (WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM && WTERMSIG(st) != SIGKILL) {
      s->stats->crashed++;
      srv_event(s, 0, "%s %ld killed by signal %d", s->cfg.workers > 0 ? "worker" : "child",
                (long)p, WTERMSIG(st));
    } else if (s->cfg.workers > 0 && !srv_stop && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
      srv_event(s, 3, "worker %ld exited with status %d", (long)p,
                WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
  }
  errno = saved;
  return n;
}

static void
srv_drain_pipe(struct srv *s)
{
  char buf[64];
  while (read(s->pipe[0], buf, sizeof buf) > 0)
    ;
}

/* Lets go of busy connection k: close it, drop it from the set. */
static void
srv_busy_drop(struct srv *s, int k)
{
  close(s->busy[k].fd);
  s->busy[k] = s->busy[--s->nbusy];
}

/* Answers 503 on the fresh connection fd without waiting for anything: the
** answer goes out at once (the socket buffer is empty), the write side is
** shut, and the parent reads and drops what the client sends until it goes
** away or SRV_BUSY_LINGER_MS pass (polled with the rest, never blocking), so
** the close is no reset that would destroy the answer.  At most HTTPD_BUSY_MAX
** at once: beyond that the oldest is closed.  site goes to the access log. */
static void
srv_busy(struct srv *s, int fd, int site)
{
  static const char msg[] =
    "HTTP/1.1 503 Service Unavailable\r\nServer: " HTTPD_SERVER_NAME "\r\n"
    "Content-Type: text/plain\r\nContent-Length: 24\r\nConnection: close\r\n"
    "Retry-After: 1\r\n\r\n503 Service Unavailable\n";
  (void)!write(fd, msg, sizeof msg - 1);   /* SIGPIPE is ignored */
  shutdown(fd, SHUT_WR);
  if (s->nbusy == HTTPD_BUSY_MAX) {
    int k, oldest = 0;
    for (k = 1; k < s->nbusy; k++)
      if (s->busy[k].end < s->busy[oldest].end)
        oldest = k;
    srv_busy_drop(s, oldest);        /* LOG:705 503 set full: oldest closed at once */
  }
  s->busy[s->nbusy].fd = fd;
  s->busy[s->nbusy++].end = io_now_ms() + SRV_BUSY_LINGER_MS;
  if (s->cfg.log_format != HTTPD_LOG_NONE) {
    char line[256];
    struct resp_buf b;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char addr[INET6_ADDRSTRLEN + 1] = "-";
    unsigned port;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
      io_addr(&ss, addr, sizeof addr, &port, NULL);
    resp_init(&b, line, sizeof line - 1);
    resp_puts(&b, addr);
    resp_puts(&b, " - - [");
    resp_date(&b, (int64_t)time(NULL), 1);
    resp_puts(&b, "] \"-\" 503 -");
    if ((s->cfg.log_format & 15) == HTTPD_LOG_COMBINED)
      resp_puts(&b, " \"-\" \"-\"");
    if (s->cfg.log_format & HTTPD_LOG_SITE) {
      resp_puts(&b, " LOG:");
      resp_putu(&b, (uint64_t)site);
    }
    line[b.n++] = '\n';
    (void)!write(s->cfg.log_fd, line, b.n);
  }
}

/* Services the busy set after a poll (p: their pollfds, in order). */
static void
srv_busy_poll(struct srv *s, const struct pollfd *p, int n)
{
  int64_t now = io_now_ms();
  int k;
  for (k = n; k-- > 0;) {
    int gone = now >= s->busy[k].end;
    if (!gone && p[k].revents != 0) {
      char buf[4096];
      int i;
      ssize_t r = 0;
      for (i = 0; i < 16 && (r = read(s->busy[k].fd, buf, sizeof buf)) > 0; i++)
        ;
      gone = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }
    if (gone)
      srv_busy_drop(s, k);
  }
}

/* Calls, once in the parent, the library functions a child calls, so that
** lazy binding resolves them once here and not again in every fresh child
** (the children inherit the resolved entries).  All calls fail harmlessly. */
static void
srv_warm(void)
{
  struct stat st;
  struct iovec v;
  char b[8] = { 0 };
  int saved = errno;
  v.iov_base = b;
  v.iov_len = 0;
  (void)!read(-1, b, 0);
  (void)!write(-1, b, 0);
  (void)!writev(-1, &v, 1);
  (void)!pread(-1, b, 0, 0);
  (void)!send(-1, b, 0, 0);
  (void)!recv(-1, b, 0, 0);
  (void)poll(NULL, 0, 0);
  (void)fstat(-1, &st);
  (void)!openat(-1, "", O_RDONLY);
  (void)!readlink("", b, sizeof b);
  (void)!shutdown(-1, SHUT_WR);
  (void)!close(-1);
  (void)!time(NULL);
  (void)!getsockname(-1, NULL, NULL);
  (void)!recvfrom(-1, b, 0, 0, NULL, NULL);
  {
    /* through a volatile pointer, into a volatile sink: a call on constant
    ** data would be folded, one whose result is unused dropped */
    char *volatile vp = b;
    volatile uintptr_t sink;
    sink = (uintptr_t)strrchr(vp, 'x') + (uintptr_t)strchr(vp, 'x') +
           (uintptr_t)memchr(vp, 'x', sizeof b) + (uintptr_t)strncmp(vp, vp + 1, 1) +
           (uintptr_t)strcmp(vp, vp + 1) + (uintptr_t)memcmp(vp, vp + 1, 1) +
           (uintptr_t)strlen(vp);
    memmove(vp, vp + 1, 1);
    (void)sink;
  }
  (void)io_now_ms();
#if defined(__linux__)
  (void)!sendfile(-1, -1, NULL, 0);
  (void)!syscall(SYS_openat2, -1, "", NULL, (size_t)0);
#endif
  {
    char t[INET6_ADDRSTRLEN];
    (void)!inet_ntop(AF_INET, b, t, sizeof t);
  }
  errno = saved;
}

/* Resets what a child or worker inherits from the parent: its descriptors,
** its signal handlers and flags. */
static void
srv_child_setup(struct srv *s)
{
  int i, rpipe = s->pipe[0], wpipe = s->pipe[1];
  /* the parent's handlers stay: with no pipe to write to they only set
  ** flags, which a child reads as it should (stop, pressure) or never (HUP,
  ** USR2, CHLD: a handler's own children are reaped by its own waitpid) */
  srv_wakefd = -1;                   /* first: the handler must not write to it */
  srv_hup = 0;                       /* (not srv_pressure: it may have come already) */
  close(rpipe);
  close(wpipe);
  s->pipe[0] = s->pipe[1] = -1;
  if (s->life_w >= 0)
    close(s->life_w);                /* only the parent holds it: its death closes it */
  s->life_w = -1;
  for (i = 0; i < s->nbusy; i++)
    close(s->busy[i].fd);
  s->nbusy = 0;
}

/* The child's life (fork mode): drop the parent's descriptors, serve the
** connection, exit. */
static void
srv_child(struct srv *s, int cfd, const struct conn_peer *from)
{
  struct conn_peer peer = *from;     /* formatted by the parent: no inet_ntop here */
  int i;
  srv_child_setup(s);
  for (i = 0; i < s->nlfd; i++)
    close(s->lfd[i]);
#if !defined(__linux__)
  {
    int one = 1;                     /* inherited from the listener on Linux only */
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
#endif
  conn_serve(cfd, &s->cfg, &peer);
  io_exit(0);
}

/* Accepts one connection from lfd: non-blocking and close-on-exec.
** Returns the descriptor, or -1 with errno. */
static int
srv_accept(int lfd, struct sockaddr_storage *ss)
{
  socklen_t sl = sizeof *ss;
  int fd;
#if defined(__linux__)
  fd = accept4(lfd, (struct sockaddr *)ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
#else
  fd = accept(lfd, (struct sockaddr *)ss, &sl);
  if (fd >= 0 && io_flags(fd, 1) != 0) {
    close(fd);
    errno = EINTR;
    return -1;
  }
#endif
  return fd;
}

/* Live children holding a connection from addr. */
static int
srv_count_addr(const struct srv *s, const unsigned char addr[16])
{
  int i, n = 0;
  for (i = 0; i < s->live; i++)
    if (memcmp(s->kids[i].addr, addr, 16) == 0)
      n++;
  return n;
}

/* Accepts from lfd and forks a child for each connection while there is room;
** reaps as it goes, so zombies never hold places. */
static void
srv_accept_fork(struct srv *s, int lfd)
{
  int n;
  for (n = 0; n < 256 && s->live < s->cap && !srv_stop; n++) {
    struct sockaddr_storage ss;
    struct conn_peer peer;
    unsigned char key[16];
    pid_t pid;
    int cfd = srv_accept(lfd, &ss);
    if (cfd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
        continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        s->paused_until = io_now_ms() + HTTPD_EMFILE_PAUSE_MS;
        s->stats->emfile++;
        srv_event(s, 2, "out of descriptors (%s): accepting paused %d ms",
                  strerror(errno), HTTPD_EMFILE_PAUSE_MS);
      }
      break;                         /* EAGAIN: backlog empty */
    }
    peer.t0 = io_now_ms();
    peer.stats = s->stats;
    s->stats->accepted++;
    srv_drain_pipe(s);
    srv_reap(s);
    io_addr(&ss, peer.addr, sizeof peer.addr, &peer.port, key);
    if (s->cfg.max_per_addr > 0 && srv_count_addr(s, key) >= s->cfg.max_per_addr) {
      s->stats->per_addr++;
      srv_event(s, 4, "%s holds %d connections: answered 503", peer.addr, s->cfg.max_per_addr);
      srv_busy(s, cfd, 701);         /* LOG:701 too many connections from one address */
      continue;
    }
    pid = fork();
    if (pid < 0) {
      s->stats->nofork++;
      srv_event(s, 1, "fork failed (%s): answered 503", strerror(errno));
      srv_busy(s, cfd, 700);         /* LOG:700 fork failed (ulimit -u?) */
      break;
    }
    if (pid == 0)
      srv_child(s, cfd, &peer);
    close(cfd);
    s->kids[s->live].pid = pid;
    memcpy(s->kids[s->live].addr, key, 16);
    s->kids[s->live].pressed = 0;
    s->kids[s->live].born = peer.t0;
    s->stats->live = ++s->live;
  }
}

/* Near the cap: tells every child not told yet to shed its idle keep-alive
** connection (SIGUSR1; the child finishes its request, then closes). */
static void
srv_press(struct srv *s)
{
  int i;
  if (s->live * SRV_PRESSURE_DEN < s->cap * SRV_PRESSURE_NUM)
    return;
  for (i = 0; i < s->live; i++)      /* each child once */
    if (!s->kids[i].pressed) {
      kill(s->kids[i].pid, SIGUSR1);
      s->kids[i].pressed = 1;
    }
}

/* At the cap for SRV_BACKLOG_WAIT_MS: answers 503 to the clients waiting in
** the backlog rather than leaving them there in silence. */
static void
srv_shed_backlog(struct srv *s)
{
  int i, n, total = 0;
  for (i = 0; i < s->nlfd; i++)
    for (n = 0; n < HTTPD_BUSY_MAX / 2; n++) {
      struct sockaddr_storage ss;
      int cfd = srv_accept(s->lfd[i], &ss);
      if (cfd < 0)
        break;
      s->stats->backlog++;
      total++;
      srv_busy(s, cfd, 702);         /* LOG:702 at the cap too long: 503 from the backlog */
    }
  if (total > 0)
    srv_event(s, 5, "%d children (the cap) for %d ms: answered 503 to %d waiting clients",
              s->cap, SRV_BACKLOG_WAIT_MS, total);
}

/* Reopens the access log at cfg.log_path onto cfg.log_fd (SIGHUP). */
static void
srv_reopen_log(struct srv *s)
{
  int fd;
  srv_hup = 0;
  if (s->cfg.log_path == NULL || s->cfg.log_fd < 0)
    return;
  fd = open(s->cfg.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    srv_event(s, 6, "cannot reopen the log %s: %s", s->cfg.log_path, strerror(errno));
    return;
  }
  dup2(fd, s->cfg.log_fd);
  close(fd);
}

/* SIGUSR2: the zero-downtime upgrade.  Starts cfg.reexec_argv with the
** listening sockets as descriptors 3.. (LISTEN_FDS, LISTEN_PID: the systemd
** protocol) and a pipe as HTTPD_READY_FD, and waits up to 10 s for the new
** server to write a byte on it.  Both accept on the same sockets meanwhile,
** so no connection is refused.  Then this server stops accepting and drains
** (srv_stop); if the new one does not come up, it is killed and this one goes
** on.  The new server is this one's child until this one exits. */
static void
srv_upgrade_now(struct srv *s)
{
  int rp[2], i, got = 0;
  pid_t pid;
  srv_upgrade = 0;
  if (getpid() == 1) {
    /* the new server would be this one's child: when PID 1 exits, the kernel
    ** ends every process of its namespace, the new server too */
    srv_event(s, 7, "SIGUSR2: no upgrade as PID 1 (replace the container instead)");
    return;
  }
  if (s->cfg.reexec_argv == NULL || s->nlfd > 64 || cgi_pipe(rp, 0) != 0) {
    srv_event(s, 7, "SIGUSR2: no upgrade (%s)", s->cfg.reexec_argv == NULL ?
              "re-execution not configured" : "no pipe");
    return;
  }
  pid = fork();
  if (pid == 0) {
    char env[3][48];
    int tmp[65], hi = 3 + s->nlfd + 1;
    struct sigaction sa;
    sigset_t none;
    /* out of the way first, then into place: 3.., the ready pipe after them */
    for (i = 0; i <= s->nlfd; i++)
      if ((tmp[i] = fcntl(i < s->nlfd ? s->lfd[i] : rp[1], F_DUPFD_CLOEXEC, hi)) < 0)
        _exit(127);
    for (i = 0; i <= s->nlfd; i++)
      if (dup2(tmp[i], 3 + i) != 3 + i)  /* dup2 clears close-on-exec */
        _exit(127);
    snprintf(env[0], sizeof env[0], "%d", s->nlfd);
    snprintf(env[1], sizeof env[1], "%ld", (long)getpid());
    snprintf(env[2], sizeof env[2], "%d", 3 + s->nlfd);
    if (setenv("LISTEN_FDS", env[0], 1) != 0 || setenv("LISTEN_PID", env[1], 1) != 0 ||
        setenv("HTTPD_READY_FD", env[2], 1) != 0)
      _exit(127);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (i = 1; i < 65; i++)
      if (i != SIGKILL && i != SIGSTOP)
        sigaction(i, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(s->cfg.reexec_argv[0], s->cfg.reexec_argv);
    _exit(127);
  }
  close(rp[1]);
  if (pid > 0) {
    struct pollfd p;
    int64_t end = io_now_ms() + 10000;
    char b;
    while (!got && io_now_ms() < end) {
      p.fd = rp[0];
      p.events = POLLIN;
      p.revents = 0;
      if (poll(&p, 1, 100) > 0) {
        ssize_t r = read(rp[0], &b, 1);
        if (r == 1)
          got = 1;
        else if (r == 0 || (errno != EAGAIN && errno != EINTR))
          break;                     /* it closed the pipe without a word */
      }
      srv_drain_pipe(s);
      srv_reap(s);
    }
    if (!got) {
      kill(pid, SIGKILL);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  }
  close(rp[0]);
  if (got) {
    s->upgraded = 1;                 /* the sockets' backlog is the new server's */
    s->stats->upgrades++;
    srv_event(s, 7, "SIGUSR2: new server %ld serves; this one (%ld) stops accepting and "
              "drains", (long)pid, (long)getpid());
    srv_stop = 1;
  } else {
    srv_event(s, 7, "SIGUSR2: the new server did not come up: this one goes on");
  }
}

/* The fork-per-connection loop: until a stop request. */
static void
srv_loop_fork(struct srv *s)
{
  struct pollfd p[1 + 64 + HTTPD_BUSY_MAX];
  while (!srv_stop) {
    int np = 0, timeout = -1, i, nl = 0, can_accept;
    int64_t now = io_now_ms();
    p[np].fd = s->pipe[0];
    p[np].events = POLLIN;
    p[np++].revents = 0;
    can_accept = s->live < s->cap && now >= s->paused_until;
    if (s->live < s->cap)
      s->full_since = 0;
    else if (s->full_since == 0)
      s->full_since = now;
    if (can_accept) {
      for (i = 0; i < s->nlfd && i < 64; i++, nl++) {
        p[np].fd = s->lfd[i];
        p[np].events = POLLIN;
        p[np++].revents = 0;
      }
    } else if (s->live < s->cap) {
      timeout = (int)(s->paused_until - now);   /* EMFILE pause */
    } else {
      timeout = (int)(s->full_since + SRV_BACKLOG_WAIT_MS - now);  /* at the cap */
      if (timeout < 0)
        timeout = 0;
    }
    for (i = 0; i < s->nbusy; i++) {
      int left = (int)(s->busy[i].end - now);
      p[np].fd = s->busy[i].fd;
      p[np].events = POLLIN;
      p[np++].revents = 0;
      if (timeout < 0 || left < timeout)
        timeout = left < 0 ? 0 : left;
    }
    if (poll(p, (nfds_t)np, timeout) < 0 && errno != EINTR)
      break;
    srv_pressure = 0;                /* the parent's own: children start without */
    srv_drain_pipe(s);
    srv_reap(s);
    srv_busy_poll(s, p + 1 + nl, s->nbusy);
    if (srv_hup)
      srv_reopen_log(s);
    if (srv_upgrade)
      srv_upgrade_now(s);
    if (srv_stop)
      break;
    for (i = 0; i < nl; i++)
      if (p[1 + i].revents & POLLIN)
        srv_accept_fork(s, p[1 + i].fd);
    if (s->live >= s->cap && s->full_since != 0 &&
        io_now_ms() - s->full_since >= SRV_BACKLOG_WAIT_MS) {
      srv_shed_backlog(s);
      s->full_since = io_now_ms();
    }
    srv_press(s);
  }
}

/* ---- prefork ---- */

/* A connection a worker holds between requests (or with a head coming). */
struct srv_idle {
  int fd;
  unsigned char addr[16];
  struct conn_peer peer;
  unsigned nreq;
  int64_t idle_end, head_end;
  int cut;                       /* a pressure last call was given */
  char *part;                    /* the first bytes of a head not all there */
  size_t npart;
};

/* Lets go of fd after a response that may leave input unread: shut the
** write side, then read and drop in the busy set (never blocking). */
static void
srv_linger(struct srv *s, int fd)
{
  if (s->nbusy == HTTPD_BUSY_MAX) {
    close(fd);
    return;
  }
  shutdown(fd, SHUT_WR);
  s->busy[s->nbusy].fd = fd;
  s->busy[s->nbusy++].end = io_now_ms() + SRV_BUSY_LINGER_MS;
}

/* Serves the idle connection e that became readable (or reached its head
** deadline).  Returns 1 if it is idle again (e updated), 0 if it closed. */
static int
srv_resume(struct srv *s, struct httpd_conn *c, struct httpd_request *req, char *in,
           struct srv_idle *e)
{
  conn_init(c, e->fd, &s->cfg, &e->peer, in);
  c->nreq = e->nreq;
  c->idle_end = e->idle_end;
  c->head_end = e->head_end;
  c->cut = e->cut;
  if (e->npart > 0)
    memcpy(in, e->part, e->npart);
  c->in_len = e->npart;
  free(e->part);
  e->part = NULL;
  e->npart = 0;
  if (conn_run(c, req, 1)) {
    e->nreq = c->nreq;
    e->idle_end = c->idle_end;
    e->head_end = c->head_end;
    e->cut = c->cut;
    if (c->in_len == 0)
      return 1;
    e->part = malloc(c->in_len);
    if (e->part != NULL) {
      memcpy(e->part, in, c->in_len);
      e->npart = c->in_len;
      return 1;
    }
  }
  if (conn_lingers(e->fd, c->linger))
    srv_linger(s, e->fd);
  else
    close(e->fd);
  return 0;
}

/* Gives the held connections a last call by `end`: one request that comes
** by then is answered (with Connection: close), then they go. */
static void
srv_last_call(struct srv_idle *set, int n, int64_t end, int cut)
{
  int k;
  for (k = 0; k < n; k++) {
    if (set[k].head_end != 0 && set[k].head_end > end)
      set[k].head_end = end;
    if (set[k].idle_end > end)
      set[k].idle_end = end;
    set[k].cut |= cut;
  }
}

/* A worker's life (prefork mode): accept on the shared listening sockets and
** serve, holding idle keep-alive connections in a poll set so that none of
** them holds the worker; retire after worker_connections connections; stop
** when the parent says so, or dies (the life pipe closes). */
static void
srv_worker(struct srv *s)
{
  int cap = s->cfg.max_children / s->cfg.workers, n = 0, k, closed = 0;
  int per = s->cfg.max_per_addr > 0 ? s->cfg.max_per_addr / s->cfg.workers : 0;
  unsigned long served = 0;
  int64_t stop_end = 0, paused_until = 0;
  struct httpd_root *swept = NULL;   /* the file cache this worker's handler used */
  struct srv_idle *set;
  struct pollfd *p;
  struct httpd_conn *c;
  struct httpd_request *req;
  struct rlimit rl;
  char *in;
  struct sigaction sa;
  if (cap < 16)
    cap = 16;
  /* keep descriptors in reserve for what a request opens (a file, a CGI
  ** script's pipes): a connection accepted into the last one could only be
  ** answered 503 */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    long room = (long)rl.rlim_cur - (long)(3 + s->nlfd + 4) - 16;
    if (room < cap)
      cap = room > 1 ? (int)room : 1;
  }
  if (s->cfg.max_per_addr > 0 && per < 1)
    per = 1;
  srv_child_setup(s);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = io_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, NULL);      /* a worker reopens the log itself */
  set = calloc((size_t)cap, sizeof *set);
  p = calloc((size_t)(cap + s->nlfd + HTTPD_BUSY_MAX + 1), sizeof *p);
  c = malloc(sizeof *c);
  req = malloc(sizeof *req);
  in = malloc(CONN_INBUF);
  if (set == NULL || p == NULL || c == NULL || req == NULL || in == NULL)
    io_exit(1);
  for (;;) {
    int np = 0, nl = 0, timeout = -1, i, il;
    int64_t now = io_now_ms(), sweep = swept != NULL ? static_sweep(swept, now) : 0;
    if (srv_hup)
      srv_reopen_log(s);
    if (srv_stop) {
      if (!closed) {                 /* new connections go to the new server, or are refused */
        for (i = 0; i < s->nlfd; i++)
          close(s->lfd[i]);
        closed = 1;
      }
      if (stop_end == 0) {
        stop_end = now + CONN_LASTCALL_MS;
        srv_last_call(set, n, stop_end, 0);
      }
      if (n == 0 && s->nbusy == 0)
        break;
    } else if (n * SRV_PRESSURE_DEN >= cap * SRV_PRESSURE_NUM) {
      /* nearly full: the idle and the silent get a last call (1 s), a silent
      ** new one then 408 */
      int64_t end = now + CONN_PRESSURE_MS;
      for (k = 0; k < n; k++)
        if (!set[k].cut)
          srv_last_call(&set[k], 1, end, 1);
    }
    if (!srv_stop && n < cap && now >= paused_until)
      for (i = 0; i < s->nlfd; i++, nl++) {
        p[np].fd = s->lfd[i];
        p[np].events = POLLIN;
        p[np++].revents = 0;
      }
    else if (!srv_stop && n < cap)
      timeout = (int)(paused_until - now);   /* out of descriptors: a pause */
    for (k = 0; k < n; k++) {
      int64_t end = set[k].head_end != 0 ? set[k].head_end : set[k].idle_end;
      int left = end - now < 0 ? 0 : end - now > INT_MAX ? INT_MAX : (int)(end - now);
      p[np].fd = set[k].fd;
      p[np].events = POLLIN;
      p[np++].revents = 0;
      if (timeout < 0 || left < timeout)
        timeout = left;
    }
    for (k = 0; k < s->nbusy; k++) {
      int left = (int)(s->busy[k].end - now);
      p[np].fd = s->busy[k].fd;
      p[np].events = POLLIN;
      p[np++].revents = 0;
      if (timeout < 0 || left < timeout)
        timeout = left < 0 ? 0 : left;
    }
    if (sweep != 0 && (timeout < 0 || sweep - now < timeout))
      timeout = sweep - now < 0 ? 0 : (int)(sweep - now);   /* cached files fall due */
    il = np;                         /* the life pipe: it closes when the parent dies */
    p[np].fd = s->life;
    p[np].events = POLLIN;
    p[np++].revents = 0;
    if (poll(p, (nfds_t)np, timeout) < 0 && errno != EINTR)
      break;
    if (p[il].revents != 0)
      srv_stop = 1;                  /* the parent is gone: finish and go */
    srv_busy_poll(s, p + nl + n, s->nbusy);
    now = io_now_ms();
    for (k = n; k-- > 0;) {
      struct srv_idle *e = &set[k];
      int64_t end = e->head_end != 0 ? e->head_end : e->idle_end;
      if (p[nl + k].revents == 0 && now < end)
        continue;
      if (p[nl + k].revents == 0 && e->head_end == 0 && !(e->cut && e->nreq == 0)) {
        close(e->fd);                /* idle timeout, or its last call is over */
        free(e->part);
      } else {
        int kept = srv_resume(s, c, req, in, e);
        if (c->cache_root != NULL)
          swept = c->cache_root;
        if (kept)
          continue;
      }
      served++;
      set[k] = set[--n];
    }
    for (i = 0; i < nl; i++) {
      int m;
      if (!(p[i].revents & POLLIN))
        continue;
      for (m = 0; m < 16 && n < cap; m++) {
        struct sockaddr_storage ss;
        struct srv_idle *e = &set[n];
        int fd = srv_accept(p[i].fd, &ss), same = 0, j;
        if (fd < 0) {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            paused_until = io_now_ms() + HTTPD_EMFILE_PAUSE_MS;
            s->stats->emfile++;
          }
          break;                     /* EAGAIN: another worker took it */
        }
        s->stats->accepted++;
        io_addr(&ss, e->peer.addr, sizeof e->peer.addr, &e->peer.port, e->addr);
        for (j = 0; per > 0 && j < n; j++)
          same += memcmp(set[j].addr, e->addr, 16) == 0;
        if (per > 0 && same >= per) {
          s->stats->per_addr++;
          srv_busy(s, fd, 703);      /* LOG:703 too many connections from one address (worker) */
          continue;
        }
        e->fd = fd;
        e->peer.t0 = io_now_ms();
        e->peer.stats = s->stats;
        e->nreq = 0;
        e->idle_end = e->peer.t0 + (int64_t)s->cfg.head_timeout * 1000;
        e->head_end = 0;
        e->cut = 0;
        e->part = NULL;
        e->npart = 0;
        n++;
      }
    }
    if (s->cfg.worker_connections > 0 && served >= (unsigned long)s->cfg.worker_connections)
      srv_stop = 1;                  /* retire: finish, close idle ones, exit */
  }
  for (k = 0; k < n; k++) {
    close(set[k].fd);
    free(set[k].part);
  }
  free(set);
  free(p);
  free(c);
  free(req);
  free(in);
  io_exit(0);
}

/* The prefork loop: keeps cfg.workers workers alive until a stop request. */
static void
srv_loop_prefork(struct srv *s)
{
  while (!srv_stop) {
    struct pollfd p;
    int64_t now = io_now_ms();
    int timeout = -1;
    if (srv_hup) {
      int i;
      srv_reopen_log(s);
      for (i = 0; i < s->live; i++)
        kill(s->kids[i].pid, SIGHUP);
    }
    if (srv_upgrade) {
      srv_upgrade_now(s);
      if (srv_stop)
        break;
    }
    if (s->live < s->cfg.workers && now >= s->respawn_at) {
      pid_t pid = fork();
      if (pid == 0)
        srv_worker(s);
      if (pid < 0) {
        srv_event(s, 1, "fork of a worker failed (%s)", strerror(errno));
        s->respawn_at = now + 1000;
      } else {
        memset(&s->kids[s->live], 0, sizeof s->kids[s->live]);
        s->kids[s->live].pid = pid;
        s->kids[s->live].born = now;
        s->stats->live = ++s->live;
      }
      continue;
    }
    if (s->live < s->cfg.workers)
      timeout = (int)(s->respawn_at - now);
    p.fd = s->pipe[0];
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, timeout) < 0 && errno != EINTR)
      break;
    srv_drain_pipe(s);
    if (srv_reap(s) > 0 && !srv_stop)
      s->stats->workers_replaced++;
  }
}

/* ---- setup and shutdown ---- */

/* Fills in the defaults of a config. */
static void
srv_defaults(struct httpd_config *cfg)
{
  if (cfg->workers < 0)
    cfg->workers = 0;
  if (cfg->max_children <= 0)
    cfg->max_children = 256;
  if (cfg->max_per_addr == 0)
    cfg->max_per_addr = cfg->max_children / 2 > 0 ? cfg->max_children / 2 : 1;
  else if (cfg->max_per_addr < 0)
    cfg->max_per_addr = 0;           /* no limit */
  if (cfg->idle_timeout <= 0)
    cfg->idle_timeout = 10;
  if (cfg->head_timeout <= 0)
    cfg->head_timeout = 10;
  if (cfg->grace <= 0)
    cfg->grace = 10;
  if (cfg->max_body == 0)
    cfg->max_body = (int64_t)1 << 20;
  else if (cfg->max_body < 0)
    cfg->max_body = 0;               /* negative: no request body at all */
  if (cfg->min_rate == 0)
    cfg->min_rate = 1024;
  else if (cfg->min_rate < 0)
    cfg->min_rate = 0;
  if (cfg->max_requests == 0)
    cfg->max_requests = 1000;
  else if (cfg->max_requests < 0)
    cfg->max_requests = 0;
  if (cfg->lifetime == 0)
    cfg->lifetime = 300;
  else if (cfg->lifetime < 0)
    cfg->lifetime = 0;
  if (cfg->worker_connections == 0)
    cfg->worker_connections = 10000;
  else if (cfg->worker_connections < 0)
    cfg->worker_connections = 0;
  if (cfg->log_format == HTTPD_LOG_NONE)
    cfg->log_fd = -1;
}

/* Sets up the parent: defaults, the table of children, the self-pipe, the
** shared counters, the signal handlers.  Returns 0 or a negative code. */
static int
srv_setup(struct srv *s, const struct httpd_config *user, const int *fds, int n)
{
  int i;
  memset(s, 0, sizeof *s);
  s->pipe[0] = s->pipe[1] = -1;
  s->life = s->life_w = -1;
  if (user == NULL || user->handler == NULL || fds == NULL || n < 1)
    return HTTPD_EINVAL;
  for (i = 0; i < n; i++)
    if (fds[i] < 0)
      return HTTPD_EINVAL;
  s->cfg = *user;
  srv_defaults(&s->cfg);
  s->lfd = fds;
  s->nlfd = n;
  s->cap = s->cfg.workers > 0 ? s->cfg.workers : s->cfg.max_children;
  s->kids = calloc((size_t)s->cap, sizeof *s->kids);
  s->stats = mmap(NULL, sizeof *s->stats, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s->stats == MAP_FAILED)
    s->stats = NULL;
  if (s->kids == NULL || s->stats == NULL || pipe(s->pipe) != 0)
    goto fail;
  if (io_flags(s->pipe[0], 1) != 0 || io_flags(s->pipe[1], 1) != 0)
    goto fail;
  if (s->cfg.workers > 0) {
    int lp[2];
    if (pipe(lp) != 0)
      goto fail;
    s->life = lp[0];
    s->life_w = lp[1];
    if (io_flags(s->life, 1) != 0 || io_flags(s->life_w, 1) != 0)
      goto fail;
  }
  for (i = 0; i < n; i++)
    if (io_flags(fds[i], 1) != 0)
      goto fail;
  memset(s->stats, 0, sizeof *s->stats);
  s->stats->started = (int64_t)time(NULL);
  s->stats->workers = s->cfg.workers;
  srv_stop = srv_pressure = srv_hup = srv_upgrade = 0;
  srv_wakefd = s->pipe[1];
  for (i = 0; i < 7; i++)
    sigaction(srv_signals[i], NULL, &s->old[i]);
  signal(SIGPIPE, SIG_IGN);
  for (i = 0; i < 6; i++)
    srv_sigaction(srv_signals[i], io_on_signal, NULL);
  srv_warm();
  return 0;
fail:
  if (s->pipe[0] >= 0) {
    close(s->pipe[0]);
    close(s->pipe[1]);
  }
  if (s->life >= 0) {
    close(s->life);
    close(s->life_w);
  }
  if (s->stats != NULL)
    munmap(s->stats, sizeof *s->stats);
  free(s->kids);
  return HTTPD_ESYS;
}

/* Stops accepting, asks children to finish, waits the grace period, then
** insists; gives the process its signal dispositions back. */
static void
srv_shutdown(struct srv *s)
{
  int64_t end;
  int i;
  /* connections the kernel has queued would be reset by the close: answer
  ** them 503 (Retry-After) instead, unless a new server takes them */
  if (!s->upgraded)
    for (i = 0; i < s->nlfd; i++) {
      int k;
      for (k = 0; k < HTTPD_BUSY_MAX; k++) {
        struct sockaddr_storage ss;
        int cfd = srv_accept(s->lfd[i], &ss);
        if (cfd < 0)
          break;
        srv_busy(s, cfd, 706);       /* LOG:706 server stopping: a queued connection answered 503 */
      }
    }
  for (i = 0; i < s->nlfd; i++)
    close(s->lfd[i]);
  srv_reap(s);
  for (i = 0; i < s->live; i++)
    kill(s->kids[i].pid, SIGTERM);
  end = io_now_ms() + (int64_t)s->cfg.grace * 1000;
  while (s->live > 0 || s->nbusy > 0) {
    struct pollfd p[1 + HTTPD_BUSY_MAX];
    int64_t left = end - io_now_ms();
    int k;
    if (left <= 0)
      break;
    p[0].fd = s->pipe[0];
    p[0].events = POLLIN;
    p[0].revents = 0;
    for (k = 0; k < s->nbusy; k++) {
      p[1 + k].fd = s->busy[k].fd;
      p[1 + k].events = POLLIN;
      p[1 + k].revents = 0;
    }
    (void)poll(p, (nfds_t)(1 + s->nbusy), left > 100 ? 100 : (int)left);
    srv_drain_pipe(s);
    srv_reap(s);
    srv_busy_poll(s, p + 1, s->nbusy);
  }
  while (s->nbusy > 0)
    srv_busy_drop(s, 0);
  for (i = 0; i < s->live; i++)
    kill(s->kids[i].pid, SIGKILL);   /* LOG:704 child outlived the grace period */
  while (s->live > 0) {
    int st;
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0 && errno == EINTR)
      continue;
    if (p < 0)
      break;
    srv_forget(s, p);
  }
  srv_reap(s);
  for (i = 0; i < 7; i++)            /* the embedding program's dispositions back */
    sigaction(srv_signals[i], &s->old[i], NULL);
  srv_wakefd = -1;
  close(s->pipe[0]);
  close(s->pipe[1]);
  if (s->life >= 0) {
    close(s->life);
    close(s->life_w);
  }
  munmap(s->stats, sizeof *s->stats);
  free(s->kids);
}

int
httpd_serve_fds(const struct httpd_config *cfg, const int *fds, int n)
{
  struct srv s;
  int rc = srv_setup(&s, cfg, fds, n);
  if (rc != 0)
    return rc;
  if (s.cfg.workers > 0)
    srv_loop_prefork(&s);
  else
    srv_loop_fork(&s);
  srv_shutdown(&s);
  return 0;
}

int
httpd_serve(const struct httpd_config *cfg, int listen_fd)
{
  return httpd_serve_fds(cfg, &listen_fd, 1);
}

int
httpd_serve_conn(const struct httpd_config *user, int fd)
{
  struct httpd_config cfg;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  struct conn_peer peer;
  struct sigaction old;
  if (user == NULL || user->handler == NULL || fd < 0)
    return HTTPD_EINVAL;
  cfg = *user;
  srv_defaults(&cfg);
  memset(&ss, 0, sizeof ss);
  if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
    ss.ss_family = AF_UNSPEC;
  io_addr(&ss, peer.addr, sizeof peer.addr, &peer.port, NULL);
  peer.t0 = io_now_ms();
  peer.stats = NULL;
  (void)io_flags(fd, 1);
  sigaction(SIGPIPE, NULL, &old);
  signal(SIGPIPE, SIG_IGN);
  conn_serve(fd, &cfg, &peer);
  sigaction(SIGPIPE, &old, NULL);
  return 0;
}

#endif /* HTTPD_PURE_ONLY */

/* ==== 10. MAIN ==== */
#if !defined(HTTPD_NO_MAIN) && !defined(HTTPD_PURE_ONLY)
#include <grp.h>
#include <pwd.h>

static const char main_usage[] =
  "usage: httpd [options]\n"
  "  -a, --addr ADDR          bind address (default: all, IPv6 and IPv4)\n"
  "  -p, --port PORT          port (default 8888; 0 picks a free one)\n"
  "  -r, --root DIR           document root (default www/ if present, else .)\n"
  "  -w, --workers N          prefork: N workers accept and serve (default 0: a\n"
  "                           forked child per connection)\n"
  "  -c, --children N         most live children; prefork: most connections (256)\n"
  "      --worker-connections N  prefork: a worker is replaced after N connections\n"
  "                           (default 10000; 0: never)\n"
  "  -C, --per-addr N         most connections from one client address (default\n"
  "                           half of -c; 0: no limit, e.g. behind a proxy)\n"
  "  -t, --timeout SECONDS    keep-alive idle wait, and the longest wait of any\n"
  "                           read or write (default 10)\n"
  "  -T, --head-timeout SEC   deadline for a whole request head (default 10)\n"
  "  -g, --grace SECONDS      shutdown grace period (default 10)\n"
  "  -b, --max-body BYTES     largest request body (default 1048576; 0: none)\n"
  "  -m, --min-rate BYTES     slowest average rate of a body or a response, in\n"
  "                           bytes/s, after -t of grace (default 1024; 0: none)\n"
  "  -n, --max-requests N     requests per connection (default 1000; 0: no limit)\n"
  "  -L, --lifetime SECONDS   longest life of a connection (default 300; 0: none)\n"
  "  -l, --log FILE           access log (default -: stdout; off: none);\n"
  "                           SIGHUP reopens FILE\n"
  "  -f, --log-format FMT     clf (default) or combined\n"
  "  -s, --log-site           append the rejection site (LOG:N) to each log line\n"
  "  -q, --quiet              no server event lines on stderr\n"
  "  -x, --cgi PREFIX         run CGI scripts for paths under PREFIX (e.g.\n"
  "                           /cgi-bin/): the first segment naming a file is\n"
  "                           the script (executable, not group/other-writable)\n"
  "      --cgi-pattern *SUF   only files ending in SUF are scripts (e.g. '*.cgi');\n"
  "                           others are served as files (PREFIX defaults to /)\n"
  "      --cgi-timeout SEC    seconds a script may stay silent (default 30)\n"
  "      --cgi-pass-auth      pass the Authorization field (HTTP_AUTHORIZATION)\n"
  "  -e, --cgi-env NAME=VAL   add NAME=VAL to every script's environment\n"
  "                           (repeatable)\n"
  "  -i, --inetd              serve the one connection on descriptor 0, then exit\n"
  "  -u, --user USER[:GROUP]  run as USER (a name or uid) after binding and opening\n"
  "                           the log; as root without -u: the document root's\n"
  "                           owner, or nobody if root owns it\n"
  "  -j, --chroot DIR         chroot to DIR (before -u); -r is then inside DIR\n"
  "      --reuseport          SO_REUSEPORT: several servers share one port\n"
  "      --status PATH        serve the server's counters at PATH (plain text,\n"
  "                           Prometheus); loopback clients only unless\n"
  "      --status-any         any client may read the status page\n"
  "  Systemd socket activation (LISTEN_FDS) is used when present; SIGHUP reopens\n"
  "  the log, SIGUSR2 starts the binary again on the same sockets and drains.\n"
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

/* The options: short and long name, whether it takes a value, and for a
** number its range. */
enum {
  O_ADDR, O_PORT, O_ROOT, O_WORKERS, O_CHILDREN, O_PERADDR, O_TIMEOUT, O_HEADT,
  O_GRACE, O_BODY, O_RATE, O_REQS, O_LIFE, O_LOG, O_LOGFMT, O_LOGSITE, O_QUIET,
  O_CGI, O_CGIPAT, O_CGITIME, O_CGIAUTH, O_CGIENV, O_WCONN, O_INETD, O_USER, O_CHROOT,
  O_REUSE, O_STATUS, O_STATANY, O_NOPTS
};
static const struct main_opt {
  const char *s, *l;
  int value;                   /* 0 flag, 1 text, 2 number */
  int64_t lo, hi;
} main_opts[O_NOPTS] = {
  { "-a", "--addr", 1, 0, 0 },           { "-p", "--port", 2, 0, 65535 },
  { "-r", "--root", 1, 0, 0 },           { "-w", "--workers", 2, 0, 1024 },
  { "-c", "--children", 2, 1, 1000000 }, { "-C", "--per-addr", 2, 0, 1000000 },
  { "-t", "--timeout", 2, 1, 86400 },    { "-T", "--head-timeout", 2, 1, 86400 },
  { "-g", "--grace", 2, 1, 86400 },      { "-b", "--max-body", 2, 0, INT64_MAX / 2 },
  { "-m", "--min-rate", 2, 0, INT_MAX }, { "-n", "--max-requests", 2, 0, INT_MAX },
  { "-L", "--lifetime", 2, 0, 86400 * 365 }, { "-l", "--log", 1, 0, 0 },
  { "-f", "--log-format", 1, 0, 0 },     { "-s", "--log-site", 0, 0, 0 },
  { "-q", "--quiet", 0, 0, 0 },          { "-x", "--cgi", 1, 0, 0 },
  { "--cgi-pattern", "--cgi-pattern", 1, 0, 0 },
  { "--cgi-timeout", "--cgi-timeout", 2, 1, 86400 },
  { "--cgi-pass-auth", "--cgi-pass-auth", 0, 0, 0 },
  { "-e", "--cgi-env", 1, 0, 0 },
  { "--worker-connections", "--worker-connections", 2, 0, INT_MAX },
  { "-i", "--inetd", 0, 0, 0 },          { "-u", "--user", 1, 0, 0 },
  { "-j", "--chroot", 1, 0, 0 },         { "--reuseport", "--reuseport", 0, 0, 0 },
  { "--status", "--status", 1, 0, 0 },   { "--status-any", "--status-any", 0, 0, 0 },
};
#define MAIN_MAX_FDS 64
#define MAIN_MAX_ENV 64

/* Parses argv into val[] (text) and num[] (numbers).  Returns 0, 1 after
** printing the help, or 2 after a usage error. */
static int
main_args(int argc, char **argv, const char *val[O_NOPTS], int64_t num[O_NOPTS],
          const char *env[MAIN_MAX_ENV + 1])
{
  int nenv = 0;
  int i, k;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *eq = NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(main_usage, stdout);
      return 1;
    }
    if (strncmp(a, "--", 2) == 0)
      eq = strchr(a, '=');
    for (k = 0; k < O_NOPTS; k++) {
      size_t ln = eq != NULL ? (size_t)(eq - a) : strlen(a);
      if (strcmp(a, main_opts[k].s) == 0 ||
          (strlen(main_opts[k].l) == ln && strncmp(a, main_opts[k].l, ln) == 0))
        break;
    }
    if (k == O_NOPTS) {
      fprintf(stderr, "httpd: unknown option '%s'\n%s", a, main_usage);
      return 2;
    }
    if (main_opts[k].value == 0) {
      if (eq != NULL) {
        fprintf(stderr, "httpd: option '%s' takes no value\n", main_opts[k].l);
        return 2;
      }
      val[k] = "1";
      continue;
    }
    if (eq != NULL) {
      val[k] = eq + 1;
    } else if (i + 1 < argc) {
      val[k] = argv[++i];
    } else {
      fprintf(stderr, "httpd: option '%s' needs a value\n%s", a, main_usage);
      return 2;
    }
    if (k == O_CGIENV) {
      if (strchr(val[k], '=') == NULL || val[k][0] == '=' || nenv == MAIN_MAX_ENV) {
        fprintf(stderr, "httpd: bad --cgi-env '%s' (NAME=VALUE, at most %d)\n", val[k],
                MAIN_MAX_ENV);
        return 2;
      }
      env[nenv++] = val[k];
    }
    if (main_opts[k].value == 2 &&
        main_number(val[k], main_opts[k].lo, main_opts[k].hi, &num[k]) != 0) {
      fprintf(stderr, "httpd: bad value for %s: '%s'\n", main_opts[k].l, val[k]);
      return 2;
    }
  }
  return 0;
}

/* What the command line serves: static files, CGI scripts if asked, the
** status page if asked. */
struct main_site {
  struct httpd_root root;
  struct httpd_cgi cgi;
  int cgi_on;
  const char *status;          /* the status page's path, or NULL */
  int status_any;              /* any client may read it */
};

/* The server's handler: the status page, CGI for paths under its prefix,
** else static files. */
static int
main_handler(struct httpd_conn *c, const struct httpd_request *req, void *arg)
{
  struct main_site *site = arg;
  if (site->status != NULL && req->path.n == strlen(site->status) &&
      memcmp(req->path.p, site->status, req->path.n) == 0) {
    const char *peer = httpd_peer(c);
    if (site->status_any || strncmp(peer, "127.", 4) == 0 || strcmp(peer, "::1") == 0)
      return httpd_server_status(c, req, NULL);
    return HTTPD_ENOTFOUND;          /* as if it were not there */
  }
  if (site->cgi_on && httpd_cgi_match(&site->cgi, req))
    return httpd_cgi(c, req, &site->cgi);
  return httpd_static(c, req, &site->root);
}

/* The listening sockets systemd passes (LISTEN_PID is this process,
** LISTEN_FDS of them from descriptor 3), into fds.  Returns their number, 0
** when there are none, -1 when the variables are wrong. */
static int
main_listen_fds(int fds[MAIN_MAX_FDS])
{
  const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
  int64_t p, k;
  int i, acc;
  socklen_t sl = sizeof acc;
  if (pid == NULL || n == NULL)
    return 0;
  if (main_number(pid, 1, INT_MAX, &p) != 0 || (pid_t)p != getpid())
    return 0;                        /* meant for another process */
  if (main_number(n, 1, MAIN_MAX_FDS, &k) != 0)
    return -1;
  for (i = 0; i < (int)k; i++) {
    fds[i] = 3 + i;
    if (getsockopt(fds[i], SOL_SOCKET, SO_ACCEPTCONN, &acc, &sl) != 0 || !acc)
      return -1;                     /* not a listening socket */
    (void)io_flags(fds[i], 1);
  }
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  return (int)k;
}

/* Resolves USER[:GROUP] (names or numbers) to *uid and *gid.  Returns 0 or -1. */
static int
main_user(const char *spec, uid_t *uid, gid_t *gid, char *name, size_t cap)
{
  char u[256];
  const char *colon = strchr(spec, ':');
  size_t un = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
  struct passwd *pw;
  int64_t v;
  if (un == 0 || un >= sizeof u)
    return -1;
  memcpy(u, spec, un);
  u[un] = '\0';
  snprintf(name, cap, "%s", u);
  if ((pw = getpwnam(u)) != NULL) {
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
  } else if (main_number(u, 0, INT_MAX, &v) == 0) {
    *uid = (uid_t)v;
    *gid = (gid_t)v;
    if ((pw = getpwuid(*uid)) != NULL)
      *gid = pw->pw_gid;
  } else {
    return -1;
  }
  if (colon != NULL) {
    struct group *gr = getgrnam(colon + 1);
    if (gr != NULL)
      *gid = gr->gr_gid;
    else if (main_number(colon + 1, 0, INT_MAX, &v) == 0)
      *gid = (gid_t)v;
    else
      return -1;
  }
  return 0;
}

/* Drops root for good: supplementary groups, then the group, then the user,
** and checks that root cannot be had back.  Returns 0 or -1. */
static int
main_drop(uid_t uid, gid_t gid)
{
  if (getuid() == uid && geteuid() == uid && getgid() == gid && getegid() == gid)
    return 0;                        /* already (an upgraded server, or not started as root) */
  if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
    return -1;
  if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
    return -1;                       /* root came back: refuse to serve */
  return getuid() == uid && geteuid() == uid && getgid() == gid ? 0 : -1;
}

/* A CLI number where 0 means "none" to a config field where < 0 does. */
static int
main_none(const char *val, int64_t v)
{
  return val == NULL ? 0 : v == 0 ? -1 : (int)v;
}

int
main(int argc, char **argv)
{
  const char *val[O_NOPTS] = { 0 }, *env[MAIN_MAX_ENV + 1] = { 0 };
  int64_t num[O_NOPTS] = { 0 };
  struct httpd_config cfg;
  struct main_site site;
  struct stat st;
  int fds[MAIN_MAX_FDS], nfd = 0, i, port = 0, rc, drop = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  char uname[256] = "", who[320], self[PATH_MAX];

  rc = main_args(argc, argv, val, num, env);
  if (rc != 0)
    return rc == 1 ? 0 : 2;
  memset(&cfg, 0, sizeof cfg);
  memset(&site, 0, sizeof site);
  cfg.handler = main_handler;
  cfg.handler_arg = &site;
  cfg.workers = (int)num[O_WORKERS];
  cfg.max_children = (int)num[O_CHILDREN];
  cfg.max_per_addr = main_none(val[O_PERADDR], num[O_PERADDR]);
  cfg.idle_timeout = (int)num[O_TIMEOUT];
  cfg.head_timeout = (int)num[O_HEADT];
  cfg.grace = (int)num[O_GRACE];
  cfg.max_body = val[O_BODY] == NULL ? 0 : num[O_BODY] == 0 ? -1 : num[O_BODY];
  cfg.min_rate = main_none(val[O_RATE], num[O_RATE]);
  cfg.max_requests = main_none(val[O_REQS], num[O_REQS]);
  cfg.lifetime = main_none(val[O_LIFE], num[O_LIFE]);
  cfg.worker_connections = main_none(val[O_WCONN], num[O_WCONN]);
  cfg.quiet = val[O_QUIET] != NULL;
  cfg.log_format = HTTPD_LOG_CLF;
  if (val[O_LOGFMT] != NULL) {
    if (strcmp(val[O_LOGFMT], "combined") == 0)
      cfg.log_format = HTTPD_LOG_COMBINED;
    else if (strcmp(val[O_LOGFMT], "clf") != 0) {
      fprintf(stderr, "httpd: bad value for --log-format: '%s' (clf, combined)\n",
              val[O_LOGFMT]);
      return 2;
    }
  }
  if (val[O_LOGSITE] != NULL)
    cfg.log_format |= HTTPD_LOG_SITE;
  cfg.log_fd = 1;
  if (val[O_LOG] != NULL && strcmp(val[O_LOG], "off") == 0) {
    cfg.log_format = HTTPD_LOG_NONE;
  } else if (val[O_LOG] != NULL && strcmp(val[O_LOG], "-") != 0) {
    cfg.log_fd = open(val[O_LOG], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (cfg.log_fd < 0) {
      fprintf(stderr, "httpd: cannot open log '%s': %s\n", val[O_LOG], strerror(errno));
      return 1;
    }
    cfg.log_path = val[O_LOG];
  }
  if (val[O_CGIPAT] != NULL && (val[O_CGIPAT][0] != '*' || val[O_CGIPAT][1] == '\0' ||
                                strpbrk(val[O_CGIPAT] + 1, "*?[/") != NULL)) {
    fprintf(stderr, "httpd: bad --cgi-pattern '%s' (*SUFFIX, e.g. '*.cgi')\n", val[O_CGIPAT]);
    return 2;
  }
  if (val[O_CGI] != NULL && val[O_CGI][0] != '/') {
    fprintf(stderr, "httpd: bad --cgi prefix '%s' (a path, e.g. /cgi-bin/)\n", val[O_CGI]);
    return 2;
  }
  if (val[O_STATUS] != NULL && val[O_STATUS][0] != '/') {
    fprintf(stderr, "httpd: bad --status path '%s'\n", val[O_STATUS]);
    return 2;
  }
  /* 1. the sockets: inherited (systemd, an upgrade), fd 0 (inetd) or our own */
  if (val[O_INETD] == NULL) {
    nfd = main_listen_fds(fds);
    if (nfd < 0) {
      fprintf(stderr, "httpd: LISTEN_FDS does not name listening sockets\n");
      return 1;
    }
    if (nfd == 0) {
      fds[0] = httpd_listen_opt(val[O_ADDR], val[O_PORT], val[O_REUSE] != NULL, &port);
      if (fds[0] < 0) {
        fprintf(stderr, "httpd: cannot listen on %s port %s: %s\n",
                val[O_ADDR] != NULL ? val[O_ADDR] : "*",
                val[O_PORT] != NULL ? val[O_PORT] : "8888", strerror(errno));
        return 1;
      }
      nfd = 1;
    }
  } else if (cfg.log_fd == 1 && cfg.log_format != HTTPD_LOG_NONE) {
    if (val[O_LOG] != NULL) {        /* "-": stdout is the connection */
      fprintf(stderr, "httpd: -i: the access log cannot go to stdout (the connection)\n");
      return 2;
    }
    cfg.log_format = HTTPD_LOG_NONE; /* inetd: no log unless a file is named */
  }
  /* 2. who to become: -u, or as root the document root's owner, or nobody */
  if (val[O_ROOT] == NULL)
    val[O_ROOT] = stat("www", &st) == 0 && S_ISDIR(st.st_mode) ? "www" : ".";
  if (val[O_USER] != NULL) {
    if (main_user(val[O_USER], &uid, &gid, uname, sizeof uname) != 0) {
      fprintf(stderr, "httpd: unknown user or group '%s'\n", val[O_USER]);
      return 2;
    }
    drop = 1;
  } else if (geteuid() == 0) {
    char rootpath[PATH_MAX];
    snprintf(rootpath, sizeof rootpath, "%s%s%s", val[O_CHROOT] != NULL ? val[O_CHROOT] : "",
             val[O_CHROOT] != NULL ? "/" : "", val[O_ROOT]);
    if (stat(rootpath, &st) == 0 && st.st_uid != 0) {
      snprintf(uname, sizeof uname, "%ld", (long)st.st_uid);
      (void)main_user(uname, &uid, &gid, uname, sizeof uname);
      {
        struct passwd *pw = getpwuid(uid);
        if (pw != NULL)
          snprintf(uname, sizeof uname, "%s", pw->pw_name);
      }
    } else if (main_user("nobody", &uid, &gid, uname, sizeof uname) != 0) {
      uid = gid = 65534;             /* no passwd file (a scratch container) */
      snprintf(uname, sizeof uname, "65534");
    }
    drop = 1;
  }
  /* 3. the chroot, then the document root inside it */
  if (val[O_CHROOT] != NULL && (chroot(val[O_CHROOT]) != 0 || chdir("/") != 0)) {
    fprintf(stderr, "httpd: cannot chroot to '%s': %s\n", val[O_CHROOT], strerror(errno));
    return 1;
  }
  if (httpd_root_open(&site.root, val[O_ROOT]) != 0) {
    fprintf(stderr, "httpd: document root '%s': %s\n", val[O_ROOT], strerror(errno));
    return 1;
  }
  if (val[O_CGI] != NULL || val[O_CGIPAT] != NULL) {
    const char *pat = val[O_CGIPAT];
    site.cgi_on = 1;
    site.cgi.root = &site.root;
    site.cgi.prefix = val[O_CGI];
    site.cgi.suffix = pat != NULL ? pat + 1 : NULL;
    site.cgi.timeout = (int)num[O_CGITIME];
    site.cgi.pass_auth = val[O_CGIAUTH] != NULL;
    site.cgi.env = env;
  }
  site.status = val[O_STATUS];
  site.status_any = val[O_STATANY] != NULL;
  /* 4. drop root for good; the log becomes the user's, so that SIGHUP (and
  ** an upgraded server) can reopen it */
  if (drop && cfg.log_path != NULL && geteuid() == 0)
    (void)!fchown(cfg.log_fd, uid, gid);
  if (drop && main_drop(uid, gid) != 0) {
    fprintf(stderr, "httpd: cannot become %s (uid %ld, gid %ld): %s\n", uname, (long)uid,
            (long)gid, strerror(errno));
    httpd_root_close(&site.root);
    return 1;
  }
  snprintf(who, sizeof who, " as %s (uid %ld, gid %ld)", drop ? uname : "the caller",
           (long)getuid(), (long)getgid());
  /* 5. serve */
  if (val[O_INETD] != NULL) {
    rc = httpd_serve_conn(&cfg, 0);
    httpd_root_close(&site.root);
    return rc < 0 ? 1 : 0;
  }
  for (i = 0; i < nfd; i++) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char text[INET6_ADDRSTRLEN + 1] = "*";
    unsigned p = (unsigned)port;
    if (val[O_ADDR] == NULL && nfd == 1 && port != 0)
      ;                              /* our own socket on all addresses: "*" */
    else if (getsockname(fds[i], (struct sockaddr *)&ss, &sl) == 0)
      io_addr(&ss, text, sizeof text, &p, NULL);
    fprintf(stderr, "httpd: listening on %s port %u%s\n", text, p, who);
  }
  /* an upgrade (SIGUSR2) runs this binary again: remember where it is now */
  {
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0 && val[O_CHROOT] == NULL) {
      self[n] = '\0';
      argv[0] = self;
    }
    if (argv[0][0] == '/' || strchr(argv[0], '/') != NULL)
      cfg.reexec_argv = argv;
  }
  /* httpd_serve gives back the dispositions it found: make those "ignore", so
  ** that a second SIGTERM during the last steps of shutdown cannot turn the
  ** exit status 0 into death by signal */
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  {
    const char *ready = getenv("HTTPD_READY_FD");   /* the server we replace waits */
    int64_t v;
    if (ready != NULL && main_number(ready, 3, INT_MAX, &v) == 0) {
      (void)!write((int)v, "1", 1);
      close((int)v);
    }
    unsetenv("HTTPD_READY_FD");
  }
  rc = httpd_serve_fds(&cfg, fds, nfd);
  httpd_root_close(&site.root);
  if (rc < 0) {
    fprintf(stderr, "httpd: %s\n", httpd_strerror(rc));
    return 1;
  }
  return 0;
}

#endif /* HTTPD_NO_MAIN */
