#!/usr/bin/env python3
"""The rejection sites of httpd.c: every place that rejects a request or
closes a connection early carries a number, written `/* LOG:N reason */`
beside it and into the access log (`-s`, " LOG:N").  This checks the table
itself: numbers unique, each one used in the code, each number the code
records documented, in the range of its section (1xx request head, 2xx
chunked body, 3xx path, 4xx connection, 5xx static files, 6xx CGI, 7xx
server), and every site the unit tests and fuzz harnesses rely on present.

Output: ok / not ok lines.
"""
import os
import re
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpdtest as ht  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "httpd.c")
COUNTS = [0, 0]


def ok(cond, desc, diag=None):
    COUNTS[0 if cond else 1] += 1
    print(("ok - " if cond else "not ok - ") + desc)
    if not cond and diag:
        for line in str(diag).splitlines()[:20]:
            print("#   " + line)
    return cond


def main():
    text = open(SRC, encoding="utf-8").read()
    lines = text.splitlines()
    documented = {}                     # N -> (line number, reason)
    dups = []
    for no, line in enumerate(lines, 1):
        for m in re.finditer(r"LOG:(\d+)\s+([^;*]*)", line):
            n = int(m.group(1))
            if n in documented:
                dups.append("LOG:%d at lines %d and %d" % (n, documented[n][0], no))
            documented[n] = (no, m.group(2).strip())
    ok(len(documented) >= 100, "%d numbered rejection sites documented" % len(documented))
    ok(not dups, "every LOG:N number is documented once", "\n".join(dups))
    # numbers the code records: PARSE_FAIL(x, N, ...), conn_site(c, N),
    # conn_reject(c, status, N), conn_close_at(c, N), srv_busy(s, fd, N),
    # *site = N, return N (site-returning helpers)
    pats = [r"PARSE_FAIL\([^,]+,\s*(\d{3})\s*,", r"conn_site\([^,]+,\s*(\d{3})\s*\)",
            r"conn_reject\([^,]+,[^,]+,\s*(\d{3})\s*\)", r"conn_close_at\([^,]+,\s*(\d{3})\s*\)",
            r"srv_busy\([^,]+,[^,]+,\s*(\d{3})\s*\)", r"\*site = (\d{3});",
            r"return (\d{3});\s+/\* LOG:", r"\?\s*(\d{3})\s+/\* LOG:", r":\s*(\d{3})\);\s+/\* LOG:",
            r"parse_field\([^;]*,\s*(\d{3}),\s*&", r"conn_fail\([^,]+,[^,]+,[^,]+,\s*(\d{3})\)",
            r"conn_body_fail\([^,]+,[^,]+,\s*(\d{3})\)"]
    used = set()
    for p in pats:
        for m in re.finditer(p, text):
            used.add(int(m.group(1)))
    # parse_field's base + 1 (the value's site) is used implicitly
    for m in re.finditer(r"parse_field\([^;]*,\s*(\d{3}),\s*&", text):
        used.add(int(m.group(1)) + 1)
    undocumented = sorted(used - set(documented))
    unused = sorted(set(documented) - used)
    ok(not undocumented, "every site number the code records has its LOG: comment",
       " ".join(map(str, undocumented)))
    # a documented number nobody records is dead documentation (the server's
    # own kill and close sites, logged on stderr or not at all, are listed)
    quiet = {704, 705}
    ok(not (set(unused) - quiet), "every documented site is recorded by the code",
       " ".join(str(n) for n in unused if n not in quiet))
    ranges = {1: "request head", 2: "chunked body", 3: "path", 4: "connection",
              5: "static files", 6: "CGI", 7: "server"}
    bad = [n for n in documented if n // 100 not in ranges]
    ok(not bad, "every site is in a section's range (1xx..7xx)", bad)
    # the ranges hold what their section does: the pure parser's numbers in
    # its section, the others after it
    sec3 = text.index("/* ==== 3. PARSER ==== */")
    sec4 = text.index("/* ==== 4. RESPONSE WRITER ==== */")
    parser_lines = set(range(text[:sec3].count("\n") + 1, text[:sec4].count("\n") + 1))
    misplaced = [n for n, (no, _) in documented.items()
                 if (n // 100 in (1, 2, 3)) != (no in parser_lines) and n // 100 != 6]
    ok(not misplaced, "1xx-3xx sites sit in the pure parser, the others outside it", misplaced)
    for sec, name in sorted(ranges.items()):
        nums = sorted(n for n in documented if n // 100 == sec)
        print("# %dxx %s: %d sites" % (sec, name, len(nums)))
    live(documented)
    print("# sites: %d passed, %d failed" % tuple(COUNTS))


# requests and the site their log line must name (a person reading the log
# finds the code with: grep -n 'LOG:N ' httpd.c)
CASES = [
    (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, 105),
    (b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400, 102),
    (b"GET / HTTP/1.1\r\n\r\n", 400, 142),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 130),
    (b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, 126),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, 133),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400, 138),
    (b"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501, 106),
    (b"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", 400, 306),
    (b"GET /a%2fb HTTP/1.1\r\nHost: a\r\n\r\n", 400, 302),
    (b"GET /.secret HTTP/1.1\r\nHost: a\r\n\r\n", 404, 513),
    (b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n", 404, 500),
    (b"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", 405, 511),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n", 413, 401),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n", 405, 402),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 405, 201),
    (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n", 417, 137),
]


def live(documented):
    root = tempfile.mkdtemp(prefix="httpd-sites-")
    os.chmod(root, 0o755)              # run by root, the server drops to nobody
    for name, data in (("index.html", b"index\n"), (".secret", b"secret\n")):
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(root, name), 0o644)
    log = os.path.join(root, "..", os.path.basename(root) + ".log")
    srv = ht.Server(ht.httpd_argv(ht.binary("HTTPD", "./httpd"), "-r", root, "-l", log, "-s",
                                  "-b", "1000", "-t", "3", "-T", "3"), name="sites")
    try:
        if not ok(srv.start(), "a server with -s (the site in the log) starts", srv.error):
            return
        for raw, status, site in CASES:
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            if site not in (402, 201):     # those need a drain, on a kept connection
                raw = raw.replace(b"Host: a\r\n", b"Host: a\r\nConnection: close\r\n", 1)
            try:
                s.sendall(raw)
                if site == 402 or site == 201:
                    s.shutdown(socket.SHUT_WR)
                data = b""
                while True:
                    try:
                        d = s.recv(65536)
                    except OSError:
                        break
                    if not d:
                        break
                    data += d
            finally:
                s.close()
            got = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "-"
            ok(got == str(status), "%s -> %d" % (ht.esc(raw, 50), status), ht.esc(data, 120))
            line = ""
            for _ in range(50):
                with open(log, "rb") as f:
                    lines = f.read().decode("latin-1").splitlines()
                hit = [l for l in lines if re.search(r" LOG:(\d+,)?%d$" % site, l)]
                if hit:
                    line = hit[-1]
                    break
                time.sleep(0.05)
            ok(line and site in documented and (" %d " % status) in line,
               "its log line names site LOG:%d (%s)" % (site, documented.get(site, ("", "?"))[1]),
               "log:\n" + "\n".join(lines[-3:]))
        with open(log, "rb") as f:
            lines = f.read().decode("latin-1").splitlines()
        ok(lines and all(re.search(r" (LOG:\d{3}(,\d{3})?|-)$", l) for l in lines),
           "every log line ends in LOG:N or - (%d lines)" % len(lines), "\n".join(lines[-5:]))
    finally:
        srv.stop()
        for p in (os.path.join(root, "index.html"), os.path.join(root, ".secret"), log):
            try:
                os.unlink(p)
            except OSError:
                pass
        os.rmdir(root)


if __name__ == "__main__":
    main()
