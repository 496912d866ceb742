/*
** fuzz/chunked.c -- harness for httpd_chunked_parse (the chunked decoder).
**
** Input: one option byte, then the bytes that follow a request head
** (chunked framing, maybe followed by the next request).
** The option byte selects how the input is fed to the incremental decoder,
** the way a connection receives it:
**   opt & 3 == 0   all at once
**              1   one byte at a time
**              2   pieces of 1..64 bytes from a generator seeded with opt
**              3   two pieces, split at (opt >> 2) * len / 64
** It is also always fed all at once.  Properties (abort() when violated):
**   1. each call consumes at most what it was given, its data view lies inside
**      the consumed bytes, and data is never handed out past the framing;
**   2. the decoded body, the end of the chunked message (where the next request
**      starts), and the outcome (done, needs more, or which error) agree with
**      a slow reference decoder written below from RFC 9112 section 7.1 and the
**      policy in httpd.h, whatever the feeding pattern;
**   3. total counts the body bytes; done stays done;
**   4. the rejection site (ch->site, the number after "LOG:" in httpd.c): an
**      error carries one in 200-299; while decoding goes well (done or
**      needing more) it stays 0; and every feeding pattern that ends in the
**      same error as the input fed all at once ends at the same site.
*/
#define HTTPD_PURE_ONLY 1
#include "../httpd.c"
#include "fuzz.h"

enum { R_DONE = 1, R_MORE = 0 };     /* outcomes; errors are HTTPD_E* (< 0) */

struct outcome {
  int status;          /* R_DONE, R_MORE or an HTTPD_E* error */
  int site;            /* the decoder's ch->site at the end (not the reference's) */
  size_t end;          /* R_DONE: bytes of the chunked message */
  char *body;
  size_t nbody, cap;
};

static void
out_append(struct outcome *o, const char *p, size_t n)
{
  if (o->nbody + n > o->cap) {
    o->cap = (o->nbody + n) * 2 + 16;
    o->body = realloc(o->body, o->cap);
    FUZZ_CHECK(o->body != NULL, "realloc");
  }
  if (n > 0)
    memcpy(o->body + o->nbody, p, n);
  o->nbody += n;
}

/* ---- the reference decoder: whole input at once, written for clarity ---- */

static int
ref_is_tchar(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
ref_is_vchar_or_ws(unsigned char c)         /* VCHAR, obs-text, SP, HTAB */
{
  return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

/* chunk-size [ chunk-ext ] on p[0..n):  1*16HEXDIG
**   chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
**   ext-val   = token / quoted-string
** Returns 0 and the size, or -1. */
static int
ref_chunk_line(const char *p, size_t n, uint64_t *size)
{
  size_t i = 0, digits = 0;
  uint64_t v = 0;
  while (i < n && fuzz_hexval((unsigned char)p[i]) >= 0) {
    v = v * 16 + (uint64_t)fuzz_hexval((unsigned char)p[i]);
    i++;
    digits++;
  }
  if (digits == 0 || digits > 16)
    return -1;
  *size = v;
  for (;;) {
    /* BWS ";" BWS name */
    if (i == n)
      return 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if (i == n || p[i] != ';')
      return -1;
    i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if (i == n || !ref_is_tchar((unsigned char)p[i]))
      return -1;
    while (i < n && ref_is_tchar((unsigned char)p[i]))
      i++;
    /* [ BWS "=" BWS value ]: look ahead for '=' */
    {
      size_t j = i;
      while (j < n && (p[j] == ' ' || p[j] == '\t'))
        j++;
      if (j == n || p[j] != '=')
        continue;
      i = j + 1;
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if (i < n && p[i] == '"') {
      i++;
      for (;;) {
        unsigned char c;
        if (i == n)
          return -1;               /* unterminated */
        c = (unsigned char)p[i];
        if (c == '"') {
          i++;
          break;
        }
        if (c == '\\') {
          if (i + 1 == n || !ref_is_vchar_or_ws((unsigned char)p[i + 1]))
            return -1;             /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
          i += 2;
          continue;
        }
        if (!ref_is_vchar_or_ws(c))
          return -1;               /* qdtext */
        i++;
      }
    } else {
      if (i == n || !ref_is_tchar((unsigned char)p[i]))
        return -1;
      while (i < n && ref_is_tchar((unsigned char)p[i]))
        i++;
    }
  }
}

/* field-name ":" OWS field-value OWS on p[0..n) (no CRLF); 0 or -1. */
static int
ref_field(const char *p, size_t n)
{
  size_t i = 0;
  while (i < n && ref_is_tchar((unsigned char)p[i]))
    i++;
  if (i == 0 || i == n || p[i] != ':')
    return -1;
  for (i++; i < n; i++)
    if (!ref_is_vchar_or_ws((unsigned char)p[i]))
      return -1;
  return 0;
}

/* Finds the line starting at pos, which may hold at most max bytes before
** its CRLF.  Returns 1 with *eol at its CR, 0 if the input ends first, -1 on
** a CR or LF that is not a CRLF, -2 when the line is longer than max.  The
** limit is decided by the first byte that decides it (the max+1st byte of the
** line, unless it starts the CRLF): bytes after it never change the answer,
** so the outcome cannot depend on how the input is split. */
static int
ref_line(const char *in, size_t len, size_t pos, size_t max, size_t *eol)
{
  size_t j;
  for (j = pos; j < len; j++) {
    if (in[j] == '\n')
      return -1;
    if (in[j] == '\r') {
      if (j + 1 == len)
        return 0;
      if (in[j + 1] != '\n')
        return -1;
      *eol = j;
      return 1;
    }
    if (j - pos == max)
      return -2;
  }
  return 0;
}

static void
ref_decode(const char *in, size_t len, struct outcome *o)
{
  size_t pos = 0, eol = 0, tl = 0, nt = 0;
  uint64_t size;
  int r;
  o->status = R_MORE;
  for (;;) {
    /* chunk-size line: at most HTTPD_MAX_CHUNK_LINE bytes with its CRLF */
    r = ref_line(in, len, pos, HTTPD_MAX_CHUNK_LINE - 2, &eol);
    if (r < 0) {
      o->status = HTTPD_EBADCHUNK;   /* bare CR/LF, or too long */
      return;
    }
    if (r == 0)
      return;                        /* R_MORE */
    if (ref_chunk_line(in + pos, eol - pos, &size) != 0) {
      o->status = HTTPD_EBADCHUNK;
      return;
    }
    pos = eol + 2;
    if (size == 0)
      break;
    if (len - pos < size) {
      out_append(o, in + pos, len - pos);
      return;                      /* R_MORE */
    }
    out_append(o, in + pos, (size_t)size);
    pos += (size_t)size;
    if ((pos < len && in[pos] != '\r') || (pos + 1 < len && in[pos + 1] != '\n')) {
      o->status = HTTPD_EBADCHUNK;
      return;
    }
    if (pos + 2 > len)
      return;
    pos += 2;
  }
  /* trailer section: at most HTTPD_MAX_TRAILER bytes with the final CRLF */
  for (;;) {
    if (tl + 2 > HTTPD_MAX_TRAILER) {
      o->status = HTTPD_EHEADLARGE;  /* no room left for the final CRLF */
      return;
    }
    r = ref_line(in, len, pos, HTTPD_MAX_TRAILER - 2 - tl, &eol);
    if (r == -1) {
      o->status = HTTPD_EBADCHUNK;
      return;
    }
    if (r == -2) {
      o->status = HTTPD_EHEADLARGE;
      return;
    }
    if (r == 0)
      return;                        /* R_MORE */
    tl += eol - pos + 2;
    if (eol == pos) {
      o->status = R_DONE;
      o->end = eol + 2;
      return;
    }
    if (in[pos] == ' ' || in[pos] == '\t') {
      o->status = HTTPD_EBADHEADER;   /* obs-fold */
      return;
    }
    if (nt == HTTPD_MAX_HEADERS) {
      o->status = HTTPD_EHEADLARGE;
      return;
    }
    if (ref_field(in + pos, eol - pos) != 0) {
      o->status = HTTPD_EBADHEADER;
      return;
    }
    nt++;
    pos = eol + 2;
  }
}

/* ---- the decoder under test, fed piece by piece ---- */

/* Size of the next piece for a feeding mode. */
static size_t
next_piece(int mode, uint32_t *seed, size_t fed, size_t len, size_t split)
{
  switch (mode) {
  case 1:
    return 1;
  case 2:
    return 1 + fuzz_rand(seed) % 64;
  case 3:
    return fed < split ? split - fed : len - fed;
  default:
    return len - fed;
  }
}

static void
feed(const char *in, size_t len, int mode, unsigned opt, struct outcome *o)
{
  struct httpd_chunked ch;
  size_t fed = 0, cons = 0, split = (size_t)(opt >> 2) * len / 64;
  uint32_t seed = opt * 2654435761u + 1;

  httpd_chunked_init(&ch);
  FUZZ_CHECK(!httpd_chunked_done(&ch) && ch.total == 0, "a fresh decoder is empty");
  FUZZ_CHECK(ch.site == 0, "a fresh decoder has no site");
  fed = next_piece(mode, &seed, 0, len, split);
  if (fed > len)
    fed = len;
  o->status = R_MORE;
  o->site = 0;
  for (;;) {
    const char *data = (const char *)1;
    size_t ndata = 99, have = fed - cons;
    char *piece = fuzz_dup(in + cons, have);
    long r = httpd_chunked_parse(&ch, piece, have, &data, &ndata);
    o->site = ch.site;
    if (r < 0) {
      FUZZ_CHECK(r == HTTPD_EBADCHUNK || r == HTTPD_EHEADLARGE || r == HTTPD_EBADHEADER,
                 "decoder errors are BADCHUNK, HEADLARGE or BADHEADER");
      if (ch.site < 200 || ch.site > 299)
        fprintf(stderr, "mode %d: %s with site %d\n", mode, httpd_strerror((int)r), ch.site);
      FUZZ_CHECK(ch.site >= 200 && ch.site <= 299, "a decoder error carries a site in 200-299");
      o->status = (int)r;
      free(piece);
      return;
    }
    if (ch.site != 0)
      fprintf(stderr, "mode %d: returned %ld with site %d\n", mode, r, ch.site);
    FUZZ_CHECK(ch.site == 0, "no error, no site: it stays 0");
    FUZZ_CHECK((size_t)r <= have, "consumes at most what it is given");
    if (ndata > 0) {
      FUZZ_CHECK(data != NULL && fuzz_inside(data, ndata, piece, (size_t)r),
                 "data lies inside the consumed bytes");
      FUZZ_CHECK(data + ndata == piece + r, "data ends what was consumed");
    } else {
      FUZZ_CHECK(ndata == 0, "ndata set");
    }
    out_append(o, data, ndata);
    FUZZ_CHECK(ch.total == o->nbody, "total counts the body bytes");
    free(piece);
    cons += (size_t)r;
    if (httpd_chunked_done(&ch)) {
      const char *d2;
      size_t n2;
      o->status = R_DONE;
      o->end = cons;
      /* done stays done and consumes nothing more */
      FUZZ_CHECK(httpd_chunked_parse(&ch, in + cons, len - cons, &d2, &n2) == 0 && n2 == 0 &&
                 httpd_chunked_done(&ch), "done is final");
      FUZZ_CHECK(ch.site == 0, "done: site 0");
      return;
    }
    if (r == 0 && ndata == 0) {
      if (fed == len)
        return;                      /* R_MORE */
      fed += next_piece(mode, &seed, fed, len, split);
      if (fed > len)
        fed = len;
    }
  }
}

static const char *
status_name(int s)
{
  return s == R_DONE ? "done" : s == R_MORE ? "needs more" : httpd_strerror(s);
}

/* Property 4 across feedings: got ends in the same error as all (the input
** fed at once), so at the same site. */
static void
compare_site(const struct outcome *all, const struct outcome *got, int mode)
{
  if (got->status != all->status || all->status >= 0)
    return;
  if (got->site != all->site)
    fprintf(stderr, "mode %d: %s at site %d; all at once: site %d\n", mode,
            status_name(all->status), got->site, all->site);
  FUZZ_CHECK(got->site == all->site, "the same error at the same site, however fed");
}

static void
compare(const struct outcome *ref, const struct outcome *got, int mode)
{
  int gs = got->status;
#if defined(FUZZ_TOLERATE) && (FUZZ_TOLERATE & 1)
  /* known finding F1: a limit error before the bad byte arrives */
  if (gs == HTTPD_EHEADLARGE && ref->status < 0)
    gs = ref->status;
#endif
  if (gs != ref->status)
    fprintf(stderr, "mode %d: decoder says %s, reference says %s\n", mode,
            status_name(got->status), status_name(ref->status));
  FUZZ_CHECK(gs == ref->status, "same outcome as the reference decoder");
  if (ref->status == R_DONE)
    FUZZ_CHECK(got->end == ref->end, "the message ends at the same byte");
  if (gs == got->status)
    FUZZ_CHECK(got->nbody == ref->nbody &&
               (ref->nbody == 0 || memcmp(got->body, ref->body, ref->nbody) == 0),
               "the same body bytes as the reference decoder");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct outcome ref, all, opt;
  const char *in = (const char *)data + 1;
  size_t len;
  unsigned o;
  if (size == 0)
    return 0;
  o = data[0];
  len = size - 1;
  memset(&ref, 0, sizeof ref);
  memset(&all, 0, sizeof all);
  memset(&opt, 0, sizeof opt);
  ref_decode(in, len, &ref);
  feed(in, len, 0, o, &all);
  compare(&ref, &all, 0);
  if ((o & 3) != 0) {
    feed(in, len, (int)(o & 3), o, &opt);
    compare(&ref, &opt, (int)(o & 3));
    compare_site(&all, &opt, (int)(o & 3));
  }
  if (FUZZ_EXHAUSTIVE) {             /* replay: every two-piece split */
    size_t k;
    for (k = 0; k < 64 && len > 0; k++) {
      struct outcome sp;
      memset(&sp, 0, sizeof sp);
      feed(in, len, 3, (unsigned)(k << 2 | 3), &sp);
      compare(&ref, &sp, 3);
      compare_site(&all, &sp, 3);
      free(sp.body);
    }
  }
  free(ref.body);
  free(all.body);
  free(opt.body);
  return 0;
}
