#!/usr/bin/env python3
"""fuzz/seeds.py -- writes the seed corpora corpus/<harness>/ (committed).

    python3 fuzz/seeds.py            # from the top of the repository

Every rule of the parser gets seeds on both sides of it: valid, borderline
(exactly at a limit, one past it) and hostile (smuggling shapes, obs-fold,
bare CR/LF, number edge cases, long lines).  The file name says what a seed
is.  corpus/<harness>/ is emptied and rewritten; corpus/regressions/ (the
minimized crashers) is never touched.

Option bytes (see the harness headers):
  chunked: the first byte selects the feeding: '0' all at once ('0' = 0x30:
           mode 0), '1' one byte at a time, '2' random pieces, '3' two pieces.
  conn:    the first byte: bits 0-2 read cap, bits 3-5 write cap, bit 6
           max_body 0.  '8' (0x38) = whole reads, 1500-byte writes; '9' =
           1-byte reads; '=' = 16-byte reads; '!' = 1-byte reads, 13-byte
           writes; '(' = 64-byte writes; 'x' = max_body 0.
The request, path and diff harnesses take raw bytes.

The limits of the fuzz builds of request/chunked/path/conn are the small ones
of `make test` (HTTPD_MAX_LINE=256, MAX_HEAD=1024, MAX_HEADERS=8, MAX_PATH=64,
MAX_CHUNK_LINE=64, MAX_TRAILER=256); diff and conndef (conn.c again) use the
defaults.
"""
import os
import shutil
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "corpus")

# small limits (fuzz.mk FUZZ_SMALL)
MAX_LINE, MAX_HEAD, MAX_HEADERS, MAX_PATH, MAX_CHUNK_LINE, MAX_TRAILER = 256, 1024, 8, 64, 64, 256
# default limits (diff)
D_MAX_LINE, D_MAX_HEAD, D_MAX_HEADERS = 8192, 32768, 64


def req(line, *fields, body=b"", host=b"h"):
    """A request head: request line, Host (unless host=None), fields, body."""
    out = line + b"\r\n"
    if host is not None:
        out += b"Host: " + host + b"\r\n"
    for f in fields:
        out += f + b"\r\n"
    return out + b"\r\n" + body


G = b"GET / HTTP/1.1"

# ---------------------------------------------------------------- heads ----
HEADS = {
    # valid
    "valid-get-minimal": req(G),
    "valid-http10-no-host": req(b"GET / HTTP/1.0", host=None),
    "valid-http10-keep-alive": req(b"GET / HTTP/1.0", b"Connection: keep-alive", host=None),
    "valid-head": req(b"HEAD /a.txt HTTP/1.1"),
    "valid-post-length": req(b"POST /form HTTP/1.1", b"Content-Length: 5", body=b"hello"),
    "valid-put-chunked": req(b"PUT /up HTTP/1.1", b"Transfer-Encoding: chunked",
                             body=b"5\r\nhello\r\n0\r\n\r\n"),
    "valid-delete": req(b"DELETE /x HTTP/1.1"),
    "valid-options-star": req(b"OPTIONS * HTTP/1.1"),
    "valid-trace": req(b"TRACE /t HTTP/1.1"),
    "valid-patch": req(b"PATCH /p HTTP/1.1", b"Content-Length: 0"),
    "valid-absolute-http": req(b"GET http://example.com/a?b=c HTTP/1.1", host=b"example.com"),
    "valid-absolute-https-port": req(b"GET https://example.com:8443/ HTTP/1.1"),
    "valid-absolute-ipv6": req(b"GET http://[::1]:80/x HTTP/1.1", host=b"[::1]"),
    "valid-absolute-no-path": req(b"GET http://h HTTP/1.1"),
    "valid-absolute-query-only": req(b"GET http://h?q HTTP/1.1"),
    "valid-host-ipv4-port": req(G, host=b"127.0.0.1:8080"),
    "valid-host-pct": req(G, host=b"ex%41mple.com"),
    "valid-host-empty-port": req(G, host=b"h:"),
    "valid-host-ipv6": req(G, host=b"[::1]:8080"),
    "valid-host-ipv4-literal": req(G, host=b"[1.2.3.4]"),
    "host-ipv6-junk-after": req(G, host=b"[::1]x"),
    "host-ipv6-short": req(G, host=b"[:]"),
    "host-ipv6-unclosed": req(G, host=b"[::1"),
    "valid-target-all-chars": req(b"GET /azAZ09-._~!$&'()*+,;=:@/%20?q=/?:@ HTTP/1.1"),
    "valid-target-pct": req(b"GET /%41%2f%2F%e2%82%ac HTTP/1.1"),
    "valid-query-empty": req(b"GET /? HTTP/1.1"),
    "valid-leading-crlf": b"\r\n\r\n" + req(G),
    "valid-ows-values": req(G, b"A: \t v \t ", b"B:v", b"C:", b"D:  "),
    "valid-obs-text-value": req(G, b"X: caf\xc3\xa9 \x80\xff"),
    "valid-header-case": req(b"GET / HTTP/1.1", b"CONTENT-length: 3", b"connection: CLOSE",
                             body=b"abc"),
    "valid-connection-close": req(G, b"Connection: close"),
    "valid-connection-list": req(G, b"Connection: foo, close ,bar"),
    "valid-connection-close-keep": req(b"GET / HTTP/1.0", b"Connection: keep-alive, close",
                                       host=None),
    "valid-connection-junk": req(G, b"Connection: close x, ;;, keep-alive"),
    "valid-upgrade": req(G, b"Connection: Upgrade", b"Upgrade: websocket"),
    "valid-expect-continue": req(b"POST / HTTP/1.1", b"Expect: 100-continue",
                                 b"Content-Length: 3", body=b"abc"),
    "valid-expect-continue-case": req(b"POST / HTTP/1.1", b"Expect: 100-Continue",
                                      b"Content-Length: 1", body=b"x"),
    "valid-expect-no-body": req(G, b"Expect: 100-continue"),
    "valid-expect-http10": req(b"GET / HTTP/1.0", b"Expect: whatever", host=None),
    "valid-cl-zero": req(b"POST / HTTP/1.1", b"Content-Length: 0"),
    "valid-cl-repeated-same": req(b"POST / HTTP/1.1", b"Content-Length: 2",
                                  b"Content-Length: 2", body=b"ab"),
    "valid-cl-leading-zeros": req(b"POST / HTTP/1.1", b"Content-Length: 0003", body=b"abc"),
    "valid-cl-max": req(b"POST / HTTP/1.1", b"Content-Length: 9223372036854775807"),
    "valid-cl-long-zeros": req(b"POST / HTTP/1.1", b"Content-Length: " + b"0" * 30 + b"1",
                               body=b"x"),
    "valid-te-case": req(b"POST / HTTP/1.1", b"Transfer-Encoding: CHUNKED",
                         body=b"0\r\n\r\n"),
    "valid-te-ows": req(b"POST / HTTP/1.1", b"Transfer-Encoding:\t chunked \t",
                        body=b"0\r\n\r\n"),
    "valid-pipelined": req(G) + req(b"GET /2 HTTP/1.1"),
    "valid-many-fields": req(G, *[b"X-%d: %d" % (i, i) for i in range(MAX_HEADERS - 1)]),
    # borderline (small limits)
    "limit-line-exact": req(b"GET /" + b"a" * (MAX_LINE - 14) + b" HTTP/1.1"),
    "limit-line-over": req(b"GET /" + b"a" * (MAX_LINE - 13) + b" HTTP/1.1"),
    "limit-line-over-no-crlf": b"GET /" + b"a" * (MAX_LINE + 10),
    "limit-fields-exact": req(G, *[b"X-%d: %d" % (i, i) for i in range(MAX_HEADERS - 1)]),
    "limit-fields-over": req(G, *[b"X-%d: %d" % (i, i) for i in range(MAX_HEADERS)]),
    "limit-head-exact": req(G, b"X: " + b"v" * (MAX_HEAD - len(req(G)) - 5)),
    "limit-head-over": req(G, b"X: " + b"v" * (MAX_HEAD - len(req(G)) - 4)),
    "limit-head-over-no-end": req(G)[:-2] + b"X: " + b"v" * MAX_HEAD,
    "limit-empty-lines": b"\r\n" * (MAX_HEAD // 2 + 1) + req(G),
    "limit-cl-2p63": req(b"POST / HTTP/1.1", b"Content-Length: 9223372036854775808"),
    "limit-cl-2p64": req(b"POST / HTTP/1.1", b"Content-Length: 18446744073709551616"),
    "limit-cl-20-digits": req(b"POST / HTTP/1.1", b"Content-Length: 99999999999999999999"),
    "limit-port-65535": req(G, host=b"h:65535"),
    "limit-port-65536": req(G, host=b"h:65536"),
    "limit-port-6-digits": req(G, host=b"h:000080"),
    # versions and methods
    "version-http12": req(b"GET / HTTP/1.2"),
    "version-http20": req(b"GET / HTTP/2.0"),
    "version-http09": req(b"GET / HTTP/0.9"),
    "version-http110": req(b"GET / HTTP/1.10"),
    "version-lowercase": req(b"GET / http/1.1"),
    "version-missing": b"GET /\r\n\r\n",
    "version-trailing-space": req(b"GET / HTTP/1.1 "),
    "method-lowercase": req(b"get / HTTP/1.1"),
    "method-unknown": req(b"PROPFIND / HTTP/1.1"),
    "method-connect": req(b"CONNECT h:443 HTTP/1.1"),
    "method-non-token": req(b"G(T / HTTP/1.1"),
    "method-empty": req(b" / HTTP/1.1"),
    # request line shape
    "line-double-space": req(b"GET  / HTTP/1.1"),
    "line-tab": req(b"GET\t/\tHTTP/1.1"),
    "line-leading-space": req(b" GET / HTTP/1.1"),
    "line-space-in-target": req(b"GET /a b HTTP/1.1"),
    "line-empty-target": req(b"GET  HTTP/1.1"),
    # targets
    "target-relative": req(b"GET a/b HTTP/1.1"),
    "target-star-get": req(b"GET * HTTP/1.1"),
    "target-fragment": req(b"GET /a#f HTTP/1.1"),
    "target-quote": req(b'GET /"x" HTTP/1.1'),
    "target-brackets": req(b"GET /<x>{y}|\\^` HTTP/1.1"),
    "target-pct-bad": req(b"GET /%zz HTTP/1.1"),
    "target-pct-short": req(b"GET /%4 HTTP/1.1"),
    "target-pct-end": req(b"GET /% HTTP/1.1"),
    "target-high-bytes": req(b"GET /caf\xc3\xa9 HTTP/1.1"),
    "target-ctl": req(b"GET /a\x01 HTTP/1.1"),
    "target-ftp": req(b"GET ftp://h/ HTTP/1.1"),
    "target-userinfo": req(b"GET http://u:p@h/ HTTP/1.1"),
    "target-empty-host": req(b"GET http:///x HTTP/1.1"),
    "target-bad-port": req(b"GET http://h:99999/ HTTP/1.1"),
    "target-ipv6-open": req(b"GET http://[::1/ HTTP/1.1"),
    "target-ipv6-empty": req(b"GET http://[]/ HTTP/1.1"),
    "target-authority-form": req(b"OPTIONS h:80 HTTP/1.1"),
    "target-scheme-case": req(b"GET HtTp://h/ HTTP/1.1"),
    # Host
    "host-missing-http11": req(G, host=None),
    "host-twice": req(G, b"Host: h"),
    "host-twice-http10": req(b"GET / HTTP/1.0", b"Host: a", b"Host: b", host=None),
    "host-empty": req(G, host=b""),
    "host-userinfo": req(G, host=b"u@h"),
    "host-space": req(G, host=b"a b"),
    "host-bad-pct": req(G, host=b"a%zz"),
    "host-ipv6-bad": req(G, host=b"[xyz]"),
    "host-absolute-differs": req(b"GET http://a/ HTTP/1.1", host=b"b"),
    # header syntax
    "field-obs-fold": req(G, b"X: a", b" b"),
    "field-obs-fold-tab": req(G, b"X: a", b"\tb"),
    "field-ws-first": b"GET / HTTP/1.1\r\n Host: h\r\n\r\n",
    "field-ws-before-colon": req(G, b"X : v"),
    "field-tab-before-colon": req(G, b"X\t: v"),
    "field-no-colon": req(G, b"Xv"),
    "field-empty-name": req(G, b": v"),
    "field-name-non-token": req(G, b"X(y): v"),
    "field-name-high-byte": req(G, b"X\xff: v"),
    "field-value-nul": req(G, b"X: a\x00b"),
    "field-value-del": req(G, b"X: a\x7fb"),
    "field-value-ctl": req(G, b"X: a\x1bb"),
    "field-value-vt": req(G, b"X: a\x0bb"),
    # bare CR / LF
    "crlf-bare-lf-line": b"GET / HTTP/1.1\nHost: h\r\n\r\n",
    "crlf-bare-lf-fields": b"GET / HTTP/1.1\r\nHost: h\n\n",
    "crlf-bare-lf-end": b"GET / HTTP/1.1\r\nHost: h\r\n\n",
    "crlf-bare-cr-line": b"GET / HTTP/1.1\rHost: h\r\n\r\n",
    "crlf-bare-cr-value": req(G, b"X: a\rb"),
    "crlf-cr-at-end": b"GET / HTTP/1.1\r",
    "crlf-lf-before-line": b"\n" + req(G),
    "crlf-cr-before-line": b"\r" + req(G),
    # Content-Length
    "cl-differing": req(b"POST / HTTP/1.1", b"Content-Length: 1", b"Content-Length: 2",
                        body=b"ab"),
    "cl-list": req(b"POST / HTTP/1.1", b"Content-Length: 1, 1", body=b"a"),
    "cl-plus": req(b"POST / HTTP/1.1", b"Content-Length: +1", body=b"a"),
    "cl-minus": req(b"POST / HTTP/1.1", b"Content-Length: -1"),
    "cl-hex": req(b"POST / HTTP/1.1", b"Content-Length: 0x10"),
    "cl-exp": req(b"POST / HTTP/1.1", b"Content-Length: 1e3"),
    "cl-inner-space": req(b"POST / HTTP/1.1", b"Content-Length: 1 2"),
    "cl-empty": req(b"POST / HTTP/1.1", b"Content-Length:"),
    "cl-ows": req(b"POST / HTTP/1.1", b"Content-Length: \t3\t ", body=b"abc"),
    # Transfer-Encoding and smuggling shapes
    "smuggle-cl-te": req(b"POST / HTTP/1.1", b"Content-Length: 6", b"Transfer-Encoding: chunked",
                         body=b"0\r\n\r\nG"),
    "smuggle-te-cl": req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", b"Content-Length: 3",
                         body=b"8\r\nSMUGGLED\r\n0\r\n\r\n"),
    "smuggle-te-space-colon": req(b"POST / HTTP/1.1", b"Transfer-Encoding : chunked",
                                  b"Content-Length: 4", body=b"0\r\n\r\n"),
    "smuggle-te-obs-fold": req(b"POST / HTTP/1.1", b"Transfer-Encoding:", b" chunked",
                               body=b"0\r\n\r\n"),
    "smuggle-te-xchunked": req(b"POST / HTTP/1.1", b"Transfer-Encoding: xchunked",
                               body=b"0\r\n\r\n"),
    "smuggle-te-chunked-identity": req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked, identity",
                                       body=b"0\r\n\r\n"),
    "smuggle-te-identity": req(b"POST / HTTP/1.1", b"Transfer-Encoding: identity"),
    "smuggle-te-gzip-chunked": req(b"POST / HTTP/1.1", b"Transfer-Encoding: gzip, chunked",
                                   body=b"0\r\n\r\n"),
    "smuggle-te-chunked-twice": req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked",
                                    b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
    "smuggle-te-chunked-chunked": req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked, chunked",
                                      body=b"0\r\n\r\n"),
    "smuggle-te-trailing-comma": req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked,",
                                     body=b"0\r\n\r\n"),
    "smuggle-te-empty-element": req(b"POST / HTTP/1.1", b"Transfer-Encoding: , chunked",
                                    body=b"0\r\n\r\n"),
    "smuggle-te-empty": req(b"POST / HTTP/1.1", b"Transfer-Encoding:"),
    "smuggle-te-http10": req(b"POST / HTTP/1.0", b"Transfer-Encoding: chunked",
                             body=b"0\r\n\r\n", host=None),
    "smuggle-te-name-suffix": req(b"POST / HTTP/1.1", b"Transfer-Encoding-X: chunked",
                                  b"Content-Length: 3", body=b"abc"),
    "smuggle-te-vt": req(b"POST / HTTP/1.1", b"Transfer-Encoding: \x0bchunked",
                         body=b"0\r\n\r\n"),
    "smuggle-te-quoted": req(b"POST / HTTP/1.1", b'Transfer-Encoding: "chunked"',
                             body=b"0\r\n\r\n"),
    "smuggle-te-param": req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked;q=1",
                            body=b"0\r\n\r\n"),
    "smuggle-double-host-line": req(G, b"Host: evil"),
    # Expect
    "expect-unknown": req(b"POST / HTTP/1.1", b"Expect: 200-ok", b"Content-Length: 1", body=b"x"),
    "expect-empty": req(G, b"Expect:"),
    # incomplete
    "incomplete-empty": b"",
    "incomplete-crlf": b"\r\n",
    "incomplete-method": b"GET",
    "incomplete-line": b"GET / HTTP/1.1\r\n",
    "incomplete-field": b"GET / HTTP/1.1\r\nHost: h\r\n",
    "incomplete-final-cr": b"GET / HTTP/1.1\r\nHost: h\r\n\r",
}

# ---------------------------------------------------------------- chunked ----
CHUNKED = {
    "valid-one": b"5\r\nhello\r\n0\r\n\r\n",
    "valid-two": b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    "valid-empty-body": b"0\r\n\r\n",
    "valid-next-request": b"1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
    "valid-upper-hex": b"A\r\n0123456789\r\n0\r\n\r\n",
    "valid-leading-zeros": b"0005\r\nhello\r\n000\r\n\r\n",
    "valid-16-digits": b"0000000000000001\r\nx\r\n0\r\n\r\n",
    "valid-ext-token": b"1;name=value\r\nx\r\n0;last\r\n\r\n",
    "valid-ext-quoted": b'1;a="b c";d="e\\"f"\r\nx\r\n0\r\n\r\n',
    "valid-ext-bws": b"1 ; a = b ;c\r\nx\r\n0\r\n\r\n",
    "valid-ext-many": b"1;a;b;c=d;e=\"\"\r\nx\r\n0\r\n\r\n",
    "valid-ext-htab-bws": b"1\t;\ta\t=\tb\r\nx\r\n0\t\r\n\r\n",
    "valid-trailers": b"1\r\nx\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n",
    "valid-trailer-ows": b"0\r\nA:  v \t\r\nB:\r\n\r\n",
    "valid-binary-data": b"4\r\n\r\n\x00\xff\r\n0\r\n\r\n",
    "valid-data-crlf-inside": b"4\r\n\r\n\r\n\r\n0\r\n\r\n",
    "limit-17-digits": b"00000000000000001\r\nx\r\n0\r\n\r\n",
    "limit-huge-size": b"ffffffffffffffff\r\nabc",
    "limit-line-exact": b"1;" + b"a" * (MAX_CHUNK_LINE - 5) + b"\r\nx\r\n0\r\n\r\n",
    "limit-line-over": b"1;" + b"a" * (MAX_CHUNK_LINE - 4) + b"\r\nx\r\n0\r\n\r\n",
    "limit-line-over-no-crlf": b"1;" + b"a" * MAX_CHUNK_LINE,
    "limit-trailers-count": b"0\r\n" + b"".join(b"T%d: v\r\n" % i for i in range(MAX_HEADERS + 1))
                            + b"\r\n",
    "limit-trailers-size": b"0\r\nT: " + b"v" * MAX_TRAILER + b"\r\n\r\n",
    "limit-trailers-size-open": b"0\r\nT: " + b"v" * MAX_TRAILER,
    "limit-trailers-exact": b"0\r\nT: " + b"v" * (MAX_TRAILER - 7) + b"\r\n\r\n",
    "limit-trailers-no-room-for-end": b"0\r\nT: " + b"v" * (MAX_TRAILER - 6) + b"\r\n\r\n",
    "limit-trailers-size-then-lf": b"0\r\nT: " + b"v" * MAX_TRAILER + b"\n",
    "bad-size-empty": b"\r\nx\r\n0\r\n\r\n",
    "bad-size-space": b"1 \r\nx\r\n0\r\n\r\n",
    "bad-size-leading-space": b" 1\r\nx\r\n0\r\n\r\n",
    "bad-size-sign": b"+1\r\nx\r\n0\r\n\r\n",
    "bad-size-minus": b"-1\r\nx\r\n0\r\n\r\n",
    "bad-size-0x": b"0x1\r\nx\r\n0\r\n\r\n",
    "bad-size-junk": b"1g\r\nx\r\n0\r\n\r\n",
    "bad-ext-empty-name": b"1;\r\nx\r\n0\r\n\r\n",
    "bad-ext-empty-value": b"1;a=\r\nx\r\n0\r\n\r\n",
    "bad-ext-unterminated": b'1;a="b\r\nx\r\n0\r\n\r\n',
    "bad-ext-backslash-at-end": b'1;a="\\\r\nx\r\n0\r\n\r\n',
    "bad-ext-escaped-ctl": b'1;a="\\\x01"\r\nx\r\n0\r\n\r\n',
    "bad-ext-ctl-quoted": b'1;a="\x01"\r\nx\r\n0\r\n\r\n',
    "bad-ext-trailing-space": b"1;a \r\nx\r\n0\r\n\r\n",
    "bad-bare-lf-size": b"1\nx\r\n0\r\n\r\n",
    "bad-bare-cr-size": b"1\rx\r\n0\r\n\r\n",
    "bad-data-no-crlf": b"1\r\nxy\r\n0\r\n\r\n",
    "bad-data-lf-only": b"1\r\nx\n0\r\n\r\n",
    "bad-data-cr-only": b"1\r\nx\r0\r\n\r\n",
    "bad-trailer-obs-fold": b"0\r\nA: b\r\n c\r\n\r\n",
    "bad-trailer-no-colon": b"0\r\nAb\r\n\r\n",
    "bad-trailer-ws-colon": b"0\r\nA : b\r\n\r\n",
    "bad-trailer-ctl": b"0\r\nA: \x01\r\n\r\n",
    "bad-trailer-bare-lf": b"0\r\nA: b\n\r\n",
    "bad-last-bare-lf": b"0\r\n\n",
    "incomplete-size": b"1",
    "incomplete-size-cr": b"1\r",
    "incomplete-data": b"5\r\nhel",
    "incomplete-data-cr": b"1\r\nx\r",
    "incomplete-trailers": b"0\r\nA: b\r\n",
    "incomplete-empty": b"",
}

# ---------------------------------------------------------------- paths ----
PATHS = {
    "root": b"/", "empty": b"", "file": b"/a.txt", "dir-slash": b"/sub/",
    "dot": b"/.", "dot-dot-top": b"/..", "dot-dot-inner": b"/a/b/../c",
    "dot-dot-trailing": b"/a/b/..", "dot-dot-escape": b"/a/../..",
    "dot-dot-deep": b"/a/b/c/../../../..", "dot-dot-pct": b"/%2e%2e/x",
    "dot-dot-pct-mixed": b"/.%2E/x", "dot-dot-pct-upper": b"/a/%2E%2E",
    "dot-pct": b"/a/%2e/b", "dot-trailing": b"/a/.", "dot-slash-trailing": b"/a/./",
    "slashes": b"//a//b///", "slash-encoded": b"/a%2fb", "slash-encoded-upper": b"/a%2F..",
    "dotdot-slash-encoded": b"/..%2f..", "nul": b"/%00", "ctl": b"/a%1fb", "del": b"/%7f",
    "raw-ctl": b"/a\x01", "raw-del": b"/a\x7f", "pct-bad": b"/%zz", "pct-short": b"/%4",
    "pct-end": b"/a%", "pct-percent": b"/x%25y", "pct-percent-2e": b"/%252e%252e",
    "utf8": b"/caf%C3%A9.txt", "raw-high": b"/caf\xc3\xa9", "space": b"/sp%20ace.txt",
    "question": b"/a%3Fb", "relative": b"a/b", "dot-start": b".", "hidden": b"/.hidden",
    "hidden-dir": b"/a/.git/config", "dots-three": b"/.../x", "dot-name": b"/a./.b/..c",
    "long-exact": b"/" + b"a" * MAX_PATH, "long-over": b"/" + b"a" * (MAX_PATH + 1),
    "long-intermediate": b"/" + b"a" * (MAX_PATH + 10) + b"/..",
    "long-pct": b"/" + b"%41" * (MAX_PATH + 1),
    "long-segments": b"/a" * (MAX_PATH // 2) + b"/b",
}

# ------------------------------------------------------------------ conn ----
def h(line, *fields, body=b"", host=b"h"):
    return req(line, *fields, body=body, host=host)


CONN = {
    "get-index": b"8" + h(G),
    "get-index-read1": b"9" + h(G),
    "get-file": b"8" + h(b"GET /a.txt HTTP/1.1"),
    "get-big-write13": b"!" + h(b"GET /big.txt HTTP/1.1"),
    "get-big-write64": b"(" + h(b"GET /big.txt HTTP/1.1"),
    "get-empty-file": b"8" + h(b"GET /empty.txt HTTP/1.1"),
    "head-file": b"8" + h(b"HEAD /digits.txt HTTP/1.1"),
    "get-sub-redirect": b"8" + h(b"GET /sub?x=1 HTTP/1.1"),
    "get-sub-index": b"8" + h(b"GET /sub/ HTTP/1.1"),
    "get-noindex": b"8" + h(b"GET /noindex/ HTTP/1.1"),
    "get-dotfile": b"8" + h(b"GET /.hidden HTTP/1.1"),
    "get-dotfile-sub": b"8" + h(b"GET /sub/.env HTTP/1.1"),
    "get-dotfile-pct": b"8" + h(b"GET /%2ehidden HTTP/1.1"),
    "get-symlink-in": b"8" + h(b"GET /in.txt HTTP/1.1"),
    "get-symlink-out": b"8" + h(b"GET /out.txt HTTP/1.1"),
    "get-updir": b"8" + h(b"GET /updir/outside.txt HTTP/1.1"),
    "get-loop": b"8" + h(b"GET /loop HTTP/1.1"),
    "get-fifo": b"8" + h(b"GET /fifo HTTP/1.1"),
    "get-missing": b"8" + h(b"GET /nope HTTP/1.1"),
    "get-escape": b"8" + h(b"GET /../outside.txt HTTP/1.1"),
    "get-escape-pct": b"8" + h(b"GET /%2e%2e/outside.txt HTTP/1.1"),
    "get-encoded-slash": b"8" + h(b"GET /sub%2fb.css HTTP/1.1"),
    "get-space-name": b"8" + h(b"GET /sp%20ace.txt HTTP/1.1"),
    "get-pct-name": b"8" + h(b"GET /pct%2541.txt HTTP/1.1"),
    "get-utf8-name": b"8" + h(b"GET /caf%C3%A9.txt HTTP/1.1"),
    "get-long-path": b"8" + h(b"GET /" + b"a" * (MAX_PATH + 5) + b" HTTP/1.1"),
    "get-long-redirect": b"8" + h(b"GET /sub?" + b"q" * 200 + b" HTTP/1.1"),
    "get-absolute": b"8" + h(b"GET http://h/a.txt HTTP/1.1"),
    "range-simple": b"8" + h(b"GET /digits.txt HTTP/1.1", b"Range: bytes=3-5"),
    "range-suffix": b"8" + h(b"GET /digits.txt HTTP/1.1", b"Range: bytes=-5"),
    "range-open": b"8" + h(b"GET /digits.txt HTTP/1.1", b"Range: bytes=30-"),
    "range-unsatisfiable": b"8" + h(b"GET /digits.txt HTTP/1.1", b"Range: bytes=40-50"),
    "range-empty-file": b"8" + h(b"GET /empty.txt HTTP/1.1", b"Range: bytes=-1"),
    "range-reversed": b"8" + h(b"GET /digits.txt HTTP/1.1", b"Range: bytes=5-3"),
    "range-multi": b"8" + h(b"GET /digits.txt HTTP/1.1", b"Range: bytes=0-1,3-4"),
    "range-big": b"(" + h(b"GET /big.txt HTTP/1.1", b"Range: bytes=100-2999"),
    "range-head": b"8" + h(b"HEAD /digits.txt HTTP/1.1", b"Range: bytes=0-0"),
    "range-if-range-date": b"8" + h(b"GET /digits.txt HTTP/1.1", b"Range: bytes=0-3",
                                    b"If-Range: Sun, 09 Sep 2001 01:46:40 GMT"),
    "range-if-range-etag": b"8" + h(b"GET /digits.txt HTTP/1.1", b"Range: bytes=0-3",
                                    b'If-Range: "nope"'),
    "cond-inm-star": b"8" + h(b"GET /a.txt HTTP/1.1", b"If-None-Match: *"),
    "cond-inm-list": b"8" + h(b"GET /a.txt HTTP/1.1", b'If-None-Match: W/"x", "y"'),
    "cond-ims-same": b"8" + h(b"GET /a.txt HTTP/1.1",
                              b"If-Modified-Since: Sun, 09 Sep 2001 01:46:40 GMT"),
    "cond-ims-before": b"8" + h(b"GET /a.txt HTTP/1.1",
                                b"If-Modified-Since: Sat, 08 Sep 2001 01:46:40 GMT"),
    "cond-ims-bad": b"8" + h(b"GET /a.txt HTTP/1.1", b"If-Modified-Since: yesterday"),
    "method-post-405": b"8" + h(b"POST /a.txt HTTP/1.1", b"Content-Length: 3", body=b"abc")
                       + h(G),
    "method-options-star": b"8" + h(b"OPTIONS * HTTP/1.1"),
    "method-unknown-501": b"8" + h(b"BREW / HTTP/1.1") + h(G),
    "pipeline-keep-alive": b"8" + h(G) + h(b"HEAD /a.txt HTTP/1.1") + h(b"GET /sub/ HTTP/1.1"),
    "pipeline-read1": b"9" + h(G) + h(b"GET /a.txt HTTP/1.1"),
    "pipeline-read16": b"=" + h(G) + h(b"GET /a.txt HTTP/1.1") + h(b"GET /b HTTP/1.1"),
    "pipeline-close-then-more": b"8" + h(b"GET /a.txt HTTP/1.1", b"Connection: close") + h(G),
    "pipeline-http10": b"8" + h(b"GET / HTTP/1.0", host=None) + h(G),
    "pipeline-http10-keep": b"8" + h(b"GET /a.txt HTTP/1.0", b"Connection: keep-alive",
                                    host=None) + h(G),
    "body-length-then-get": b"8" + h(b"POST / HTTP/1.1", b"Content-Length: 5", body=b"hello")
                            + h(b"GET /a.txt HTTP/1.1"),
    "body-chunked-then-get": b"8" + h(b"PUT / HTTP/1.1", b"Transfer-Encoding: chunked",
                                      body=b"3\r\nabc\r\n0\r\nT: v\r\n\r\n") + h(G),
    "body-chunked-read1": b"9" + h(b"PUT / HTTP/1.1", b"Transfer-Encoding: chunked",
                                   body=b"3;x=y\r\nabc\r\n0\r\n\r\n") + h(G),
    "body-chunked-bad": b"8" + h(b"PUT / HTTP/1.1", b"Transfer-Encoding: chunked",
                                 body=b"3\r\nabcX\r\n0\r\n\r\n") + h(G),
    "body-chunked-too-large": b"8" + h(b"PUT / HTTP/1.1", b"Transfer-Encoding: chunked",
                                       body=b"1001\r\n" + b"a" * 4097 + b"\r\n0\r\n\r\n"),
    "body-length-incomplete": b"8" + h(b"POST / HTTP/1.1", b"Content-Length: 50", body=b"abc"),
    "body-too-large": b"8" + h(b"POST / HTTP/1.1", b"Content-Length: 5000") + h(G),
    "body-too-large-head": b"8" + h(b"HEAD / HTTP/1.1", b"Content-Length: 5000"),
    "body-max-body-0": b"x" + h(b"POST / HTTP/1.1", b"Content-Length: 1", body=b"a"),
    "body-max-body-0-chunked": b"x" + h(b"PUT / HTTP/1.1", b"Transfer-Encoding: chunked",
                                        body=b"1\r\na\r\n0\r\n\r\n") + h(G),
    "expect-continue": b"8" + h(b"POST / HTTP/1.1", b"Expect: 100-continue",
                                b"Content-Length: 3", body=b"abc") + h(G),
    "expect-unknown": b"8" + h(b"POST / HTTP/1.1", b"Expect: nope", b"Content-Length: 1",
                               body=b"a"),
    "bad-request-then-more": b"8" + h(G, b"X : y") + h(G),
    "bad-host": b"8" + h(G, host=None),
    "bad-version": b"8" + h(b"GET / HTTP/1.2"),
    "bad-smuggle-cl-te": b"8" + h(b"POST / HTTP/1.1", b"Content-Length: 6",
                                  b"Transfer-Encoding: chunked", body=b"0\r\n\r\nG"),
    "bad-line-too-long": b"8" + h(b"GET /" + b"a" * MAX_LINE + b" HTTP/1.1"),
    "bad-line-too-long-read1": b"9" + b"GET /" + b"a" * (MAX_LINE + 20) + b"\r\n",
    "bad-head-too-large": b"8" + h(G, b"X: " + b"v" * MAX_HEAD),
    "incomplete-head": b"8" + b"GET / HTTP/1.1\r\nHost: h\r\n",
    "incomplete-after-one": b"8" + h(G) + b"GET /a",
    "empty": b"8",
    "only-crlf": b"8\r\n\r\n",
}


def conndef_seeds():
    """conn with the default limits (harness conndef): the conn seeds that are
    not about the small limits, and shapes only the real limits reach."""
    d = {k: v for k, v in CONN.items() if not k.startswith(("bad-line-too-long",
                                                            "bad-head-too-large",
                                                            "get-long-"))}
    d["get-long-path-default"] = b"8" + h(b"GET /" + b"a" * 300 + b" HTTP/1.1")
    d["get-redirect-long-query"] = b"8" + h(b"GET /sub?" + b"q" * 1500 + b" HTTP/1.1")
    d["get-redirect-long-name"] = b"8" + h(b"GET /sub" + b"/." * 700 + b" HTTP/1.1")
    d["many-fields"] = b"8" + h(G, *[b"X-%d: %d" % (i, i) for i in range(40)])
    return d


def diff_seeds():
    """The heads plus bodies, default limits (the harness uses them)."""
    d = {}
    for k, v in HEADS.items():
        if k.startswith("limit-") and "cl-" not in k and "port" not in k:
            continue                                   # small-limit shapes
        d[k] = v
    for k, v in CHUNKED.items():
        d["chunked-" + k] = req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=v)
    d["limit-line-default"] = req(b"GET /" + b"a" * (D_MAX_LINE - 14) + b" HTTP/1.1")
    d["limit-fields-default"] = req(G, *[b"X-%d: %d" % (i, i) for i in range(D_MAX_HEADERS)])
    d["body-length-short"] = req(b"POST / HTTP/1.1", b"Content-Length: 10", body=b"abc")
    d["body-length-then-next"] = req(b"POST / HTTP/1.1", b"Content-Length: 2", body=b"ab") + req(G)
    d["trailer-content-length"] = req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked",
                                      body=b"0\r\nContent-Length: x\r\n\r\n")
    return d


# ---- cgi: what a script prints (fuzz/cgi.c, and the relay harness cgirelay)
CGI = {
    "doc-lf": b"Content-Type: text/plain\n\nhello\n",
    "doc-crlf": b"Content-Type: text/html\r\n\r\n<p>hi</p>",
    "status": b"Status: 404 Not Found\nContent-Type: text/plain\n\nnope\n",
    "status-only": b"Status: 204\n\n",
    "status-bad": b"Status: 99 x\nContent-Type: a\n\n",
    "status-twice": b"Status: 200\nStatus: 201\n\n",
    "local-redirect": b"Location: /index.html\n\n",
    "local-redirect-query": b"Location: /cgi-bin/a?x=1\r\n\r\n",
    "client-redirect": b"Location: https://example.com/a\n\n",
    "client-redirect-status": b"Status: 301 Moved\nLocation: /x\n\n",
    "network-path": b"Location: //evil.example/x\n\n",
    "bad-location": b"Location: x\n\n",
    "length": b"Content-Type: a\nContent-Length: 5\n\nhello",
    "length-twice-same": b"Content-Length: 5\nContent-Length: 5\nContent-Type: a\n\nhello",
    "length-twice-diff": b"Content-Length: 5\nContent-Length: 6\nContent-Type: a\n\nhello!",
    "length-bad": b"Content-Length: 5x\nContent-Type: a\n\nhello",
    "hop-by-hop": b"Content-Type: a\nConnection: close\nTransfer-Encoding: chunked\n"
                  b"Keep-Alive: 5\nDate: x\nServer: y\nX-Ok: 1\n\nbody",
    "cookies": b"Content-Type: a\nSet-Cookie: a=1\nSet-Cookie: b=2; Path=/\n\n",
    "bare-cr": b"Content-Type: a\rX-Injected: 1\n\n",
    "obs-fold": b"Content-Type: a\n x\n\n",
    "nul": b"Content-Type: a\x00b\n\n",
    "ctl": b"Content-Type: a\x1bb\n\n",
    "splitting": b"Content-Type: a\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    "no-cgi-field": b"X-Only: 1\n\nbody",
    "empty": b"\n",
    "space-before-colon": b"Content-Type : a\n\n",
    "no-colon": b"Content-Type a\n\n",
    "mixed-ends": b"Content-Type: a\r\nX-A: 1\n\r\nbody",
    "tab-value": b"Content-Type: a\tb\n\n",
    "obs-text": b"Content-Type: a\nX-U: \xc3\xa9t\xc3\xa9\n\n",
    "big": b"Content-Type: a\n" + b"".join(b"X-F%d: %s\n" % (i, b"v" * 60) for i in range(150)) + b"\n",
}


def write(name, seeds):
    d = os.path.join(CORPUS, name)
    # the seeds are ours to rewrite; "min-*" files are what campaigns found,
    # merged with libFuzzer -merge=1 (fuzz/README.md), and stay
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if not f.startswith("min-"):
            os.unlink(os.path.join(d, f))
    for k, v in sorted(seeds.items()):
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)
    return len(seeds)


def main():
    chunked = {}
    for k, v in CHUNKED.items():
        chunked[k] = b"0" + v
        if not k.startswith("limit-"):
            chunked[k + "-bytewise"] = b"1" + v
    for k in ("valid-two", "valid-trailers", "valid-ext-quoted", "bad-data-no-crlf"):
        chunked[k + "-random"] = b"2" + CHUNKED[k]
        chunked[k + "-split"] = b"s" + CHUNKED[k]      # 's' = 0x73: mode 3, split 28/64
    n = 0
    n += write("request", HEADS)
    n += write("chunked", chunked)
    n += write("path", PATHS)
    n += write("conn", CONN)
    n += write("conndef", conndef_seeds())
    n += write("diff", diff_seeds())
    n += write("cgi", CGI)
    os.makedirs(os.path.join(CORPUS, "regressions"), exist_ok=True)
    print("wrote %d seeds into %s" % (n, os.path.relpath(CORPUS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
