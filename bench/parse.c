/*
** parse.c -- our request parser (httpd_parse_request) against picohttpparser.
**
**   make -f bench/bench.mk bench-parse     (or: make bench-parse)
**   cc -O2 -DHTTPD_PURE_ONLY -I. -o bench/build/parse bench/parse.c httpd.c \
**      -l:libh2o-evloop.so.0.13
**
** picohttpparser is not copied here: it is linked from Debian's libh2o-evloop0.13,
** which exports phr_parse_request; its prototype and struct phr_header are
** declared below as that library's ABI.
**
** For each head shape: both parsers must accept it whole, with the same number
** of header fields, method and target.  Then 7 rounds, each timing ours and
** pico back to back (the order alternating per round) on CPU time
** (CLOCK_PROCESS_CPUTIME_ID), each measurement at least 50 ms; the median of
** the 7 is printed as MB/s (10^6 bytes of head per second) and Mreq/s, with the
** ratio ours/pico (above 1: ours is faster).
*/
#define _POSIX_C_SOURCE 200809L
#include "httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* picohttpparser's ABI (libh2o-evloop0.13) */
struct phr_header {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);

#define ROUNDS 7
#define MIN_NS 50000000.0   /* 50 ms of CPU per measurement */
#define PICO_MAX_HEADERS 100

struct shape {
  const char *name;
  const char *fixed;  /* the head up to the padded last field, without its CRLF */
  size_t target;      /* total length after padding (0: no padding) */
  char *buf;
  size_t len;
};

/* A 37-byte head. */
static const char H37[] =
  "GET /index.html HTTP/1.1\r\n"
  "Host: a";

/* An 88-byte head as curl sends it. */
static const char H88[] =
  "GET /index.html HTTP/1.1\r\n"
  "Host: localhost:8888\r\n"
  "User-Agent: curl/7.88.1\r\n"
  "Accept: */*";

/* A desktop browser of some years ago fetching an image, padded to 703 bytes. */
static const char H703[] =
  "GET /static/uploads/2019/07/a-picture-of-the-harbour-at-night-large.jpg HTTP/1.1\r\n"
  "Host: www.example-photos.org\r\n"
  "User-Agent: Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:68.0) Gecko/20100101 Firefox/68.0\r\n"
  "Accept: image/webp,*/*\r\n"
  "Accept-Language: en-GB,en;q=0.7,fr;q=0.3\r\n"
  "Accept-Encoding: gzip, deflate\r\n"
  "Referer: http://www.example-photos.org/2019/07/harbour/\r\n"
  "Connection: keep-alive\r\n"
  "Cache-Control: max-age=0\r\n"
  "Cookie: visits=12; last_visit=1563012345; _ga=GA1.2.1234567890.1563000000; "
  "_gid=GA1.2.987654321.1563000000; theme=dark; pad=";

/* A request behind a CDN and two proxies, with a bearer token, padded to 2900. */
static const char H2900[] =
  "POST /api/v2/accounts/8f14e45fceea167a5a36dedd4bea2543/orders?expand=items,customer&limit=50 HTTP/1.1\r\n"
  "Host: api.example-shop.com\r\n"
  "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.58\r\n"
  "Accept: application/json, text/plain, */*\r\n"
  "Accept-Language: de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7\r\n"
  "Accept-Encoding: gzip, deflate, br\r\n"
  "Content-Type: application/json;charset=UTF-8\r\n"
  "Content-Length: 0\r\n"
  "Origin: https://shop.example-shop.com\r\n"
  "Referer: https://shop.example-shop.com/checkout/cart?step=2\r\n"
  "Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IjEyMzQ1Njc4OTAifQ."
  "eyJzdWIiOiI4ZjE0ZTQ1ZmNlZWExNjdhNWEzNmRlZGQ0YmVhMjU0MyIsImF1ZCI6ImFwaS5leGFtcGxlLXNob3AuY29tIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAsInNjb3BlIjoib3JkZXJzOnJlYWQgb3JkZXJzOndyaXRlIn0."
  "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1ub3QtYS1yZWFsLW9uZS1idXQtbG9uZy1lbm91Z2gtdG8tbG9vay1saWtlLWl0LTAxMjM0NTY3ODk\r\n"
  "X-Request-ID: 3f2b8c9e-4d1a-4b7e-9c6f-2a1d0e8b7c6d\r\n"
  "X-Forwarded-For: 203.0.113.195, 198.51.100.17, 192.0.2.44\r\n"
  "X-Forwarded-Proto: https\r\n"
  "X-Forwarded-Host: shop.example-shop.com\r\n"
  "X-Real-IP: 203.0.113.195\r\n"
  "Via: 1.1 cdn-edge-fra-12 (squid/4.10), 1.1 lb-internal-3\r\n"
  "CDN-Loop: cdn-provider; loops=1\r\n"
  "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
  "tracestate: vendor1=opaque-value-1,vendor2=opaque-value-2\r\n"
  "sec-ch-ua: \"Microsoft Edge\";v=\"119\", \"Chromium\";v=\"119\", \"Not?A_Brand\";v=\"24\"\r\n"
  "sec-ch-ua-mobile: ?0\r\n"
  "sec-ch-ua-platform: \"Windows\"\r\n"
  "Sec-Fetch-Site: same-site\r\n"
  "Sec-Fetch-Mode: cors\r\n"
  "Sec-Fetch-Dest: empty\r\n"
  "If-None-Match: W/\"5e15153d-120f\"\r\n"
  "Cache-Control: no-cache\r\n"
  "Pragma: no-cache\r\n"
  "Connection: keep-alive\r\n"
  "Cookie: session=s%3AkZ8mQ2vN7xR4tY1wE6uI3oP9aS5dF0gH.Jk2Lm4Nb6Vc8Xz0Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8; "
  "cart=7b22696473223a5b3132332c3435362c3738395d7d; locale=de_DE; currency=EUR; "
  "_ga=GA1.1.1234567890.1700000000; _ga_ABCDEF1234=GS1.1.1700000000.12.1.1700000100.0.0.0; "
  "consent=necessary%2Cpreferences%2Cstatistics; ab_test=checkout_v3%3Dvariant_b; pad=";

/* Chrome's typical navigation GET, unpadded (about 1 KB, a cookie of some 340 bytes). */
static const char HCHROME[] =
  "GET /products/item?id=12345&ref=home HTTP/1.1\r\n"
  "Host: www.example.com\r\n"
  "Connection: keep-alive\r\n"
  "sec-ch-ua: \"Not_A Brand\";v=\"8\", \"Chromium\";v=\"120\", \"Google Chrome\";v=\"120\"\r\n"
  "sec-ch-ua-mobile: ?0\r\n"
  "sec-ch-ua-platform: \"Linux\"\r\n"
  "Upgrade-Insecure-Requests: 1\r\n"
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
  "Sec-Fetch-Site: same-origin\r\n"
  "Sec-Fetch-Mode: navigate\r\n"
  "Sec-Fetch-User: ?1\r\n"
  "Sec-Fetch-Dest: document\r\n"
  "Referer: https://www.example.com/\r\n"
  "Accept-Encoding: gzip, deflate, br\r\n"
  "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
  "Cookie: _ga=GA1.1.1987654321.1701234567; _ga_XYZ123ABC4=GS1.1.1701234567.3.1.1701234890.0.0.0; "
  "sessionid=9f8e7d6c5b4a39281706f5e4d3c2b1a0; csrftoken=Q2w3E4r5T6y7U8i9O0pAsDfGhJkLzXcV; "
  "_fbp=fb.1.1701234567890.1234567890; cookie_consent=accepted; recently_viewed=12345%2C67890%2C24680; "
  "lang=en";

static struct shape shapes[] = {
  {"37 B", H37, 0, NULL, 0},
  {"88 B curl", H88, 0, NULL, 0},
  {"703 B", H703, 703, NULL, 0},
  {"2.9 KB", H2900, 2900, NULL, 0},
  {"browser", HCHROME, 0, NULL, 0},
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static void
build(struct shape *s)
{
  size_t n = strlen(s->fixed), len = s->target ? s->target : n + 4;
  if (len < n + 4) {
    fprintf(stderr, "parse: shape %s: fixed part %zu B exceeds %zu\n", s->name, n + 4, len);
    exit(1);
  }
  s->buf = malloc(len);
  if (!s->buf)
    exit(1);
  memcpy(s->buf, s->fixed, n);
  for (size_t i = n; i < len - 4; i++)
    s->buf[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[(i - n) % 36];
  memcpy(s->buf + len - 4, "\r\n\r\n", 4);
  s->len = len;
}

static double
cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile long sink;
static struct httpd_request req;  /* static: our parser's output struct */

static double
time_ours(const struct shape *s, long iters)
{
  long acc = 0;
  double t0 = cpu_ns();
  for (long i = 0; i < iters; i++)
    acc += httpd_parse_request(s->buf, s->len, &req);
  double t = cpu_ns() - t0;
  sink += acc;
  return t;
}

static double
time_pico(const struct shape *s, long iters)
{
  struct phr_header h[PICO_MAX_HEADERS];
  const char *m, *p;
  size_t ml, pl, nh;
  int minor;
  long acc = 0;
  double t0 = cpu_ns();
  for (long i = 0; i < iters; i++) {
    nh = PICO_MAX_HEADERS;
    acc += phr_parse_request(s->buf, s->len, &m, &ml, &p, &pl, &minor, h, &nh, 0);
  }
  double t = cpu_ns() - t0;
  sink += acc;
  return t;
}

static int
check(const struct shape *s)
{
  struct phr_header h[PICO_MAX_HEADERS];
  const char *m, *p;
  size_t ml, pl, nh = PICO_MAX_HEADERS;
  int minor;
  int ro = httpd_parse_request(s->buf, s->len, &req);
  int rp = phr_parse_request(s->buf, s->len, &m, &ml, &p, &pl, &minor, h, &nh, 0);
  if (ro != (int)s->len) {
    fprintf(stderr, "parse: shape %s (%zu B): ours returns %d (%s)\n", s->name, s->len, ro,
            ro < 0 ? httpd_strerror(ro) : "short");
    return -1;
  }
  if (rp != (int)s->len) {
    fprintf(stderr, "parse: shape %s (%zu B): picohttpparser returns %d\n", s->name, s->len, rp);
    return -1;
  }
  if (req.nheaders != nh || req.method_str.n != ml || memcmp(req.method_str.p, m, ml) != 0 ||
      req.target.n != pl || memcmp(req.target.p, p, pl) != 0 || req.minor != minor) {
    fprintf(stderr, "parse: shape %s: the parsers disagree (headers %zu vs %zu)\n", s->name,
            req.nheaders, nh);
    return -1;
  }
  for (size_t i = 0; i < nh; i++)
    if (req.headers[i].value.n != h[i].value_len ||
        memcmp(req.headers[i].value.p, h[i].value, h[i].value_len) != 0) {
      fprintf(stderr, "parse: shape %s: header %zu differs\n", s->name, i);
      return -1;
    }
  return (int)nh;
}

static int
cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int
main(void)
{
  int nh[NSHAPES];
  for (size_t i = 0; i < NSHAPES; i++) {
    build(&shapes[i]);
    if ((nh[i] = check(&shapes[i])) < 0)
      return 1;
  }
  printf("parse: httpd_parse_request (httpd %s, -O2) vs phr_parse_request "
         "(libh2o-evloop.so.0.13)\n", HTTPD_VERSION);
  printf("parse: CPU time, %d rounds alternating ours/pico, each >= %.0f ms, median\n\n",
         ROUNDS, MIN_NS / 1e6);
  printf("%-10s %6s %4s  %10s %11s  %10s %11s  %9s\n", "shape", "bytes", "hdrs", "ours MB/s",
         "ours Mreq/s", "pico MB/s", "pico Mreq/s", "ours/pico");
  for (size_t i = 0; i < NSHAPES; i++) {
    const struct shape *s = &shapes[i];
    /* Calibrate on the slower of the two, so both measurements reach MIN_NS. */
    long iters = 1000;
    for (;;) {
      double a = time_ours(s, iters), b = time_pico(s, iters);
      double t = a < b ? a : b;
      if (t >= MIN_NS)
        break;
      iters = t < MIN_NS / 16 ? iters * 8 : (long)((double)iters * MIN_NS * 1.2 / t) + 1;
    }
    double to[ROUNDS], tp[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
      if (r % 2 == 0) {
        to[r] = time_ours(s, iters);
        tp[r] = time_pico(s, iters);
      } else {
        tp[r] = time_pico(s, iters);
        to[r] = time_ours(s, iters);
      }
    }
    qsort(to, ROUNDS, sizeof to[0], cmp_double);
    qsort(tp, ROUNDS, sizeof tp[0], cmp_double);
    double mo = to[ROUNDS / 2], mp = tp[ROUNDS / 2];
    double ro = (double)iters / mo * 1e9, rp = (double)iters / mp * 1e9;  /* req/s */
    printf("%-10s %6zu %4d  %10.0f %11.2f  %10.0f %11.2f  %9.2f\n", s->name, s->len, nh[i],
           ro * (double)s->len / 1e6, ro / 1e6, rp * (double)s->len / 1e6, rp / 1e6, ro / rp);
  }
  return 0;
}
