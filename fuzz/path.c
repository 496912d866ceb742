/*
** fuzz/path.c -- harness for httpd_path_normalize (request path -> safe
** relative path under the document root).
**
** Input: the path bytes as they appear in a request-target (no option byte).
** Properties (abort() when violated):
**   1. a success is NUL-terminated, shorter than cap, relative (no leading
**      '/'), has no empty, "." or ".." segment and no control byte: it cannot
**      name anything outside the root;
**   2. it equals the result of a slow reference (RFC 3986 5.2.4 dot-segment
**      removal on percent-decoded segments, refusing ".." above the root,
**      bad escapes, encoded '/', NUL and controls);
**   3. HTTPD_EURILONG only when the result, or a prefix of named segments
**      it passes through while being built, does not fit (dot segments take
**      no room); a cap one larger than that succeeds, a cap that cannot hold
**      the result fails, and the server's cap (HTTPD_MAX_PATH + 1) agrees
**      with the reference;
**   4. idempotence (httpd.h): normalizing "/" + result, each '%' written as
**      "%25", gives the result unchanged;
**   5. the rejection site (test hook httpd__path_site, the number after "LOG:"
**      in httpd.c), on every call above: an error carries one in 300-399, a
**      success carries 0 (and the hook writes the same result).  There is no
**      split property here: a path arrives whole, and a prefix may fail for
**      another reason than the whole path ("/%2" a bad escape, "/%2f" an
**      encoded slash).
*/
#define HTTPD_PURE_ONLY 1
#include "../httpd.c"
#include "fuzz.h"

/* The reference.  Writes the result (unbounded) to out, returns its length or
** HTTPD_EBADPATH; *need is the room an in-place algorithm needs: the longest
** prefix of named segments (with the '/' after the last one when more input
** follows) that the result passes through.  Dot segments take no room. */
static int
ref_normalize(const char *p, size_t n, char *out, size_t *need)
{
  /* the stack of named segments, kept as out[0..o) joined by '/' */
  size_t i, o = 0, nseg = 0, starts[4096 + 8];
  int last_dot = 0;
  *need = 0;
  if (n == 0) {
    out[0] = '\0';
    return 0;
  }
  if (p[0] != '/')
    return HTTPD_EBADPATH;
  i = 1;
  for (;;) {
    size_t prefix = nseg > 0 ? o + 1 : 0, dl = 0, rawend;
    char seg[8192 + 8];
    /* decode the raw segment up to the next '/' */
    for (rawend = i; rawend < n && p[rawend] != '/'; rawend++)
      ;
    while (i < rawend) {
      unsigned char c = (unsigned char)p[i];
      if (c == '%') {
        if (i + 2 >= n ||
            fuzz_hexval((unsigned char)p[i + 1]) < 0 || fuzz_hexval((unsigned char)p[i + 2]) < 0)
          return HTTPD_EBADPATH;
        c = (unsigned char)(fuzz_hexval((unsigned char)p[i + 1]) * 16 +
                            fuzz_hexval((unsigned char)p[i + 2]));
        if (c == '/')
          return HTTPD_EBADPATH;
        i += 3;
      } else {
        i++;
      }
      if (c < 0x20 || c == 0x7f)
        return HTTPD_EBADPATH;
      seg[dl++] = (char)c;
    }
    i = rawend;
    last_dot = dl == 0 || (dl == 1 && seg[0] == '.') ||
               (dl == 2 && seg[0] == '.' && seg[1] == '.');
    if (dl == 0 || (dl == 1 && seg[0] == '.')) {
      /* nothing */
    } else if (dl == 2 && seg[0] == '.' && seg[1] == '.') {
      if (nseg == 0)
        return HTTPD_EBADPATH;     /* above the root */
      nseg--;
      o = nseg > 0 ? starts[nseg] - 1 : 0;
    } else {
      if (nseg > 0)
        out[o++] = '/';
      starts[nseg++] = o;
      memcpy(out + o, seg, dl);
      o += dl;
      if (prefix + dl + (i < n) > *need)
        *need = prefix + dl + (i < n);   /* and the '/' after it, if one follows */
    }
    if (i >= n)
      break;
    i++;                           /* the '/' */
  }
  /* a trailing '/' when the last raw segment was empty, "." or ".." */
  if (nseg > 0 && last_dot)
    out[o++] = '/';
  out[o] = '\0';
  return (int)o;
}

/* httpd_path_normalize(p, n, out, cap), and property 5 for that call: the
** hook runs on the same arguments with an exact-size output buffer of its own. */
static int
normalize(const char *p, size_t n, char *out, size_t cap)
{
  int rc = httpd_path_normalize(p, n, out, cap);
  char *hout = (char *)malloc(cap + (cap == 0));
  int site;
  FUZZ_CHECK(hout != NULL, "malloc");
  site = httpd__path_site(p, n, hout, cap);
  if (rc >= 0) {
    if (site != 0)
      fprintf(stderr, "success (%d) with site %d\n", rc, site);
    FUZZ_CHECK(site == 0, "a success carries site 0");
    FUZZ_CHECK(strcmp(hout, out) == 0, "the hook normalizes the same way");
  } else {
    if (site < 300 || site > 399)
      fprintf(stderr, "%d (%s) with site %d (cap %zu)\n", rc, httpd_strerror(rc), site, cap);
    FUZZ_CHECK(site >= 300 && site <= 399, "a path error carries a site in 300-399");
  }
  free(hout);
  return rc;
}

/* Property 1. */
static void
check_shape(const char *out, int rc, size_t cap)
{
  size_t i, n = (size_t)rc, s = 0;
  FUZZ_CHECK(n < cap && out[n] == '\0', "NUL-terminated within cap");
  FUZZ_CHECK(strlen(out) == n, "no NUL inside");
  FUZZ_CHECK(n == 0 || out[0] != '/', "relative: no leading '/'");
  for (i = 0; i < n; i++)
    FUZZ_CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f, "no control bytes");
  for (i = 0; i <= n; i++) {
    if (i == n || out[i] == '/') {
      size_t len = i - s;
      if (i == n && len == 0)
        break;                       /* a trailing '/' (or the empty root) */
      FUZZ_CHECK(len > 0, "no empty segment (\"//\")");
      FUZZ_CHECK(!(len == 1 && out[s] == '.'), "no \".\" segment");
      FUZZ_CHECK(!(len == 2 && out[s] == '.' && out[s + 1] == '.'), "no \"..\" segment");
      s = i + 1;
    }
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char out[HTTPD_MAX_PATH + 2], ref[8192 + 16], out2[HTTPD_MAX_PATH + 2];
  static char again[3 * HTTPD_MAX_PATH + 8];
  const char *p = (const char *)data;
  size_t need, limit = HTTPD_MAX_PATH, k, n2;
  int rc, rr, r2;

  if (size > 4096)
    return 0;                        /* the reference's stack arrays */
  {
    char *copy = fuzz_dup(p, size);
    rc = normalize(copy, size, out, HTTPD_MAX_PATH + 1);
    free(copy);
  }
  rr = ref_normalize(p, size, ref, &need);
  FUZZ_CHECK(rc >= 0 || rc == HTTPD_EBADPATH || rc == HTTPD_EURILONG,
             "result is a length, BADPATH or URILONG");
  if (rc >= 0) {
    check_shape(out, rc, HTTPD_MAX_PATH + 1);
    if (rr < 0 || strcmp(out, ref) != 0)
      fprintf(stderr, "normalized \"%s\", reference %d \"%s\"\n", out, rr,
              rr >= 0 ? ref : "");
    FUZZ_CHECK(rr == rc && strcmp(out, ref) == 0, "same result as the reference");
    FUZZ_CHECK(need <= limit, "fits: the reference agrees");
  } else if (rc == HTTPD_EBADPATH) {
    if (rr >= 0)
      fprintf(stderr, "BADPATH, reference \"%s\"\n", ref);
    FUZZ_CHECK(rr == HTTPD_EBADPATH, "BADPATH only when the reference refuses it");
  } else {
    /* (when the path has two faults, which one is reported is not specified) */
    FUZZ_CHECK(need > limit || rr == HTTPD_EBADPATH,
               "URILONG only when the path or a step of it is too long");
  }
  if (rr >= 0 && need <= limit)
    FUZZ_CHECK(rc == rr, "what the reference accepts within the limit is accepted");

  /* property 3: caps around what is needed */
  FUZZ_CHECK(normalize(p, size, out2, 0) == HTTPD_EURILONG, "cap 0");
  if (rc >= 0) {
    size_t fit = (need > (size_t)rc ? need : (size_t)rc) + 1;
    FUZZ_CHECK(normalize(p, size, out2, fit) == rc && strcmp(out2, out) == 0,
               "a cap of what is needed + 1 is enough");
    if ((size_t)rc > 0)
      FUZZ_CHECK(normalize(p, size, out2, (size_t)rc) == HTTPD_EURILONG,
                 "a cap that cannot hold the result is too small");
  }

  /* property 4: idempotence */
  if (rc >= 0) {
    n2 = 0;
    again[n2++] = '/';
    for (k = 0; k < (size_t)rc; k++) {
      if (out[k] == '%') {
        memcpy(again + n2, "%25", 3);
        n2 += 3;
      } else {
        again[n2++] = out[k];
      }
    }
    {
      char *copy = fuzz_dup(again, n2);
      r2 = normalize(copy, n2, out2, HTTPD_MAX_PATH + 1);
      free(copy);
    }
    if (r2 != rc || strcmp(out2, out) != 0)
      fprintf(stderr, "\"%s\" normalizes again to %d \"%s\"\n", out, r2,
              r2 >= 0 ? out2 : "");
    FUZZ_CHECK(r2 == rc && strcmp(out2, out) == 0, "normalizing twice changes nothing");
  }
  return 0;
}
