#!/usr/bin/env python3
"""End-to-end tests for httpd: a real ./httpd ($HTTPD) against a fixture docroot.

Output: one `ok - ...` / `not ok - ...` line per assertion, `# ...` diagnostics.
Always exits 0.  Every socket and subprocess is time-bounded; every process
started here is stopped by PID (SIGTERM, wait, SIGKILL fallback) in a finally.

Independent cases run concurrently (each on its own connections); their
output is printed in declaration order.
"""
import email.utils
import hashlib
import http.client
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpdtest as ht  # noqa: E402

T0 = time.monotonic()
HTTPD = os.path.abspath(os.environ.get("HTTPD", "./httpd"))
IDLE = 3            # -t
HEADT = 2           # -T
GRACE = 2           # -g
SOCK_TIMEOUT = 5.0  # every socket operation
CLOSE_WAIT = 2.0    # how long we wait for the server to close after an error
BUDGET = 30.0       # the concurrent phase must be over by then (seconds since start)
HARD = T0 + 40.0    # no socket wait extends past this point; then only teardown remains
SERVER_ID = "httpd/0.1.0"
MTIME = 1600000000  # fixed mtime of the fixture files
LASTMOD = email.utils.formatdate(MTIME, usegmt=True)   # Sun, 13 Sep 2020 12:26:40 GMT
OLDER = email.utils.formatdate(MTIME - 86400, usegmt=True)
NEWER = email.utils.formatdate(MTIME + 86400, usegmt=True)

A_TXT = b"".join(b"%03d," % i for i in range(25))          # 100 bytes
INDEX = b"<!doctype html><title>index</title><p>root index page</p>\n"
SUB_INDEX = b"<!doctype html><title>sub</title><p>sub index page</p>\n"
CSS = b"body { color: #123456; }\n"
JSON = b'{"k": [1, 2, 3]}\n'
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
SECRET = b"OUTSIDE-SECRET-7f3a\n"
BIG = random.Random(20261122).randbytes(3 * 1024 * 1024 + 123)
IMF_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")
ETAG_RE = re.compile(r'^"[\x21\x23-\x7e]*"$')
MARK = "ZqXmark%08x" % random.getrandbits(32)
RFC_REASON = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
              408: "Request Timeout", 413: "Content Too Large", 414: "URI Too Long",
              416: "Range Not Satisfiable", 417: "Expectation Failed",
              431: "Request Header Fields Too Large", 501: "Not Implemented",
              505: "HTTP Version Not Supported"}

ALL_BODIES = []          # every body read over raw sockets (checked for /etc/passwd content)
_bodies_lock = threading.Lock()


emit = ht.emit


def tmo(x):
    """A timeout clamped to the global hard deadline."""
    return max(0.2, min(x, HARD - time.monotonic()))


esc = ht.esc
Rec = ht.Buffer          # assertions of one case, printed in order


# ---------------------------------------------------------------- raw HTTP
ProtoError = ht.ProtoError
Resp = ht.Resp


class Raw(ht.Conn):
    """ht.Conn bounded by the global hard deadline; every response read is kept
    in ALL_BODIES (checked for /etc/passwd content at the end)."""

    def __init__(self, port, host="127.0.0.1", timeout=SOCK_TIMEOUT):
        super().__init__(port, host, tmo(timeout), hard=HARD)

    def read_response(self, head=False, timeout=SOCK_TIMEOUT):
        r = super().read_response(head, timeout)
        if r is not None:
            with _bodies_lock:
                ALL_BODIES.append(r.raw())
        return r

    def wait_closed(self, timeout=CLOSE_WAIT):
        return super().wait_closed(timeout)


class Res:
    def __init__(self):
        self.resps = []
        self.closed = None
        self.extra = b""
        self.err = None
        self.elapsed = 0.0

    @property
    def r(self):
        return self.resps[0] if self.resps else None

    def statuses(self):
        return [r.status for r in self.resps]

    def summary(self):
        s = "responses: %s" % ([repr(r) for r in self.resps] or "none")
        if self.err:
            s += "\nerror: %s" % self.err
        s += "\nclosed: %s extra: %r" % (self.closed, esc(self.extra, 120))
        return s


def talk(port, data, nresp=1, heads=(), wait_close=True, close_wait=CLOSE_WAIT,
         timeout=SOCK_TIMEOUT, host="127.0.0.1"):
    """Connect, send data in one sendall, read up to nresp responses, then wait for close."""
    res = Res()
    t0 = time.monotonic()
    try:
        c = Raw(port, host, timeout)
    except OSError as e:
        res.err = "connect: %s" % e
        return res
    try:
        c.send(data)
        for i in range(nresp):
            r = c.read_response(head=(i in heads), timeout=timeout)
            if r is None:
                break
            res.resps.append(r)
        res.elapsed = time.monotonic() - t0
        if wait_close:
            res.closed, res.extra = c.wait_closed(close_wait)
    except (ProtoError, OSError, ValueError) as e:
        res.err = "%s: %s" % (type(e).__name__, e)
        res.elapsed = time.monotonic() - t0
    finally:
        c.close()
    return res


def req(target=b"/", method=b"GET", version=b"HTTP/1.1", headers=(), body=b"",
        host=b"localhost", close=False):
    lines = [method + b" " + target + b" " + version]
    if host is not None:
        lines.append(b"Host: " + host)
    lines.extend(headers)
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


FOLLOW = req(b"/a.txt", close=True)   # a follow-up request: 200 A_TXT then close


def hget(port, path, method="GET", headers=None, body=None, host="127.0.0.1"):
    c = http.client.HTTPConnection(host, port, timeout=tmo(SOCK_TIMEOUT))
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, r.headers, data
    finally:
        c.close()


def check_err(t, label, res, status, full=False, marker=None):
    """An error response: status, (full: fixed text body, headers), no echo, connection closed."""
    r = res.r
    t.ok(r is not None and r.status == status, "%s -> %d" % (label, status), res.summary())
    if full:
        good = r is not None
        reason = r.reason if good else ""
        t.ok(good and (r.h("content-type") or "").split(";")[0].strip().lower() == "text/plain",
             "%s: Content-Type text/plain" % label, res.summary())
        t.ok(good and reason != "" and r.body == ("%d %s\n" % (status, reason)).encode(),
             "%s: fixed body '<status> <reason>\\n'" % label, res.summary())
        if good and reason and status in RFC_REASON and reason != RFC_REASON[status] \
                and not (status == 413 and reason == "Payload Too Large"):
            t.diag("%s: reason phrase %r (RFC 9110: %r)" % (label, reason, RFC_REASON[status]))
        t.ok(good and (r.h("connection") or "").lower() == "close",
             "%s: Connection: close" % label, res.summary())
        t.ok(good and r.h("content-length") == str(len(r.body)),
             "%s: Content-Length matches body" % label, res.summary())
        t.ok(good and r.h("date") is not None and IMF_RE.match(r.h("date")) is not None
             and r.h("server") == SERVER_ID, "%s: Date and Server present" % label, res.summary())
    if marker is not None:
        alltext = b"".join(x.raw() for x in res.resps) + res.extra
        t.ok(marker.encode() not in alltext, "%s: input marker not echoed" % label, res.summary())
    t.ok(res.closed is True and res.extra == b"", "%s: connection closed by server" % label,
         res.summary())


def err_case(t, label, data, status, port=None, full=False, marker=None):
    res = talk(port or ENV["port"], data)
    check_err(t, label, res, status, full, marker)
    return res


def ka_case(t, label, first, status, head=False):
    """first gets `status` and the connection stays usable: a pipelined GET is answered."""
    res = talk(ENV["port"], first + FOLLOW, nresp=2, heads=(0,) if head else ())
    r1 = res.r
    t.ok(r1 is not None and r1.status == status, "%s -> %d" % (label, status), res.summary())
    r2 = res.resps[1] if len(res.resps) > 1 else None
    t.ok(r2 is not None and r2.status == 200 and r2.body == A_TXT and res.closed
         and res.extra == b"", "%s: connection kept alive (pipelined request answered)" % label,
         res.summary())
    return res


# ---------------------------------------------------------------- servers
class Server(ht.Server):
    """ht.Server with e2e's signature: NAME, ARGS of $HTTPD, stderr in BASE/NAME.stderr."""

    def __init__(self, name, args, base, wrapper=(), log_stdout=None):
        super().__init__([HTTPD] + list(args), name=name, wrap=wrapper, errdir=base,
                         stdout=log_stdout)

    def signal_term(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except OSError:
                pass


def build_fixture(base):
    os.chmod(base, 0o755)
    root = os.path.join(base, "www")
    outside = os.path.join(base, "outside")
    for d in (root, outside, root + "/sub", root + "/empty", root + "/.git"):
        os.makedirs(d, exist_ok=True)
    files = {
        "index.html": INDEX, "a.txt": A_TXT, "big.bin": BIG, "style.css": CSS, "x.json": JSON,
        "noext": b"no extension\n", "img.png": PNG, "app.js": b"var x = 1;\n",
        "pic.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n", "pic.jpg": b"\xff\xd8\xff\xe0jpg",
        "pic.jpeg": b"\xff\xd8\xff\xe0jpeg", "anim.gif": b"GIF89a....", "favicon.ico": b"\0\0\1\0ico",
        "doc.pdf": b"%PDF-1.4\n", "mod.wasm": b"\0asm\1\0\0\0", "data.xml": b"<x/>\n",
        "page.htm": b"<p>htm</p>\n", "sp ace.txt": b"space in name\n", "a.unknownext": b"??\n",
        "sub/index.html": SUB_INDEX, "sub/.hidden": b"hidden in sub\n", ".hidden": b"dotfile\n",
        ".git/config": b"[core]\n\tsecret = " + MARK.encode() + b"\n",
        "empty.txt": b"", "mutable.txt": b"version one\n",
        "unreadable.txt": b"you should not read me\n",
    }
    for name, data in files.items():
        p = os.path.join(root, name)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, 0o644)
        os.utime(p, (MTIME, MTIME))
    with open(os.path.join(outside, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.chmod(os.path.join(outside, "secret.txt"), 0o644)
    os.chmod(os.path.join(root, "unreadable.txt"), 0)
    os.mkfifo(os.path.join(root, "fifo"), 0o644)
    os.symlink("a.txt", os.path.join(root, "inlink.txt"))
    os.symlink("sub", os.path.join(root, "subl"))
    os.symlink("/etc/passwd", os.path.join(root, "passwd"))
    os.symlink(outside, os.path.join(root, "outdir"))
    os.symlink("../outside/secret.txt", os.path.join(root, "rel.txt"))
    os.symlink("loop", os.path.join(root, "loop"))
    os.symlink(".hidden", os.path.join(root, "tohidden"))     # a name that hides a dotfile
    with open(os.path.join(root, "wed.txt"), "wb") as f:
        f.write(b"0123456789")
    os.chmod(os.path.join(root, "wed.txt"), 0o644)
    os.utime(os.path.join(root, "wed.txt"), (WED, WED))
    for d in (root, outside, root + "/sub", root + "/empty", root + "/.git"):
        os.chmod(d, 0o755)
    return root


# ---------------------------------------------------------------- cases
CASES = []
ENV = {}
WED = 1763467200            # Wed, 18 Nov 2025 12:00:00 GMT: an HTTP-date starting with 'W'



def case(fn):
    CASES.append(fn)
    return fn


def etag_of(path):
    st, h, _ = hget(ENV["port"], path, method="HEAD")
    return h.get("ETag")


@case
def t_get_root(t):
    P = ENV["port"]
    st, h, body = hget(P, "/")
    t.ok(st == 200, "GET / -> 200", st)
    t.ok((h.get("Content-Type") or "").lower() == "text/html; charset=utf-8",
         "GET /: Content-Type text/html; charset=utf-8", h.get("Content-Type"))
    t.ok(h.get("Content-Length") == str(len(INDEX)), "GET /: Content-Length", h.get("Content-Length"))
    t.ok(body == INDEX, "GET /: body is index.html", esc(body, 200))
    d = h.get("Date") or ""
    fresh = False
    if IMF_RE.match(d):
        fresh = abs(email.utils.parsedate_to_datetime(d).timestamp() - time.time()) < 120
    t.ok(fresh, "GET /: Date is a current IMF-fixdate", d)
    t.ok(h.get("Server") == SERVER_ID, "GET /: Server: " + SERVER_ID, h.get("Server"))
    t.ok(h.get("Last-Modified") == LASTMOD, "GET /: Last-Modified is the file mtime", h.get("Last-Modified"))
    t.ok(ETAG_RE.match(h.get("ETag") or "") is not None, "GET /: strong quoted ETag", h.get("ETag"))
    t.ok(h.get("Accept-Ranges") == "bytes", "GET /: Accept-Ranges: bytes", h.get("Accept-Ranges"))
    st2, h2, body2 = hget(P, "/", method="HEAD")
    t.ok(st2 == 200 and body2 == b"", "HEAD / -> 200, no body", (st2, body2[:50]))
    same = [k for k in ("Content-Type", "Content-Length", "Last-Modified", "ETag", "Accept-Ranges",
                        "Server") if h.get(k) != h2.get(k)]
    t.ok(not same, "HEAD / has the same headers as GET /", "differ: %s" % same)
    st, h, body = hget(P, "/index.html")
    t.ok(st == 200 and body == INDEX and h.get("ETag") == h2.get("ETag"),
         "GET /index.html -> same entity as /", (st, h.get("ETag"), h2.get("ETag")))


@case
def t_head_raw(t):
    res = talk(ENV["port"], req(b"/a.txt", method=b"HEAD", close=True), heads=(0,))
    r = res.r
    t.ok(r is not None and r.status == 200 and r.h("content-length") == "100",
         "HEAD /a.txt (raw) -> 200 with Content-Length of the entity", res.summary())
    t.ok(res.closed and res.extra == b"", "HEAD /a.txt (raw): no bytes after the head", res.summary())
    res = talk(ENV["port"], req(b"/a.txt", method=b"HEAD") + req(b"/style.css", close=True),
               nresp=2, heads=(0,))
    ok = len(res.resps) == 2 and res.resps[1].status == 200 and res.resps[1].body == CSS
    t.ok(ok and res.extra == b"", "HEAD then pipelined GET: next response follows the head directly",
         res.summary())


@case
def t_big_httpclient(t):
    st, h, body = hget(ENV["port"], "/big.bin")
    t.ok(st == 200 and h.get("Content-Length") == str(len(BIG)), "GET /big.bin -> 200, Content-Length",
         (st, h.get("Content-Length")))
    t.ok(hashlib.sha256(body).digest() == hashlib.sha256(BIG).digest(),
         "GET /big.bin (http.client): byte-exact", "got %d bytes" % len(body))
    t.ok((h.get("Content-Type") or "") == "application/octet-stream",
         "GET /big.bin: Content-Type application/octet-stream", h.get("Content-Type"))
    st, h, body = hget(ENV["port"], "/big.bin", headers={"Range": "bytes=3000000-"})
    t.ok(st == 206 and body == BIG[3000000:], "GET /big.bin Range bytes=3000000- -> 206 exact tail",
         (st, len(body)))
    t.ok(h.get("Content-Range") == "bytes 3000000-%d/%d" % (len(BIG) - 1, len(BIG)),
         "GET /big.bin Range: Content-Range", h.get("Content-Range"))


CHILD_PROCS = []        # every helper process started by a case (killed by PID at the end)
_procs_lock = threading.Lock()


def run_proc(cmd, timeout):
    """subprocess.run with the child registered for cleanup; raises TimeoutExpired."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with _procs_lock:
        CHILD_PROCS.append(p)
    try:
        out, err = p.communicate(timeout=tmo(timeout))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def curl(args, timeout=15):
    return run_proc(["curl", "-sS", "--max-time", "10"] + args, timeout)


@case
def t_curl(t):
    P = ENV["port"]
    if not ht.have("curl"):
        t.skip("curl cases (7 assertions)", "curl not installed (apt-get install curl)")
        return
    out = os.path.join(ENV["base"], "curl_big.out")
    p = curl(["-o", out, "-w", "%{http_code}", "http://127.0.0.1:%d/big.bin" % P])
    data = open(out, "rb").read() if os.path.exists(out) else b""
    t.ok(p.returncode == 0 and p.stdout == b"200", "curl /big.bin: exit 0, 200",
         (p.returncode, p.stdout, p.stderr[-200:]))
    t.ok(hashlib.sha256(data).digest() == hashlib.sha256(BIG).digest(),
         "curl /big.bin: byte-exact (sendfile path)", "got %d bytes" % len(data))
    p = curl(["-o", out, "-w", "%{http_code}", "-r", "1000000-1999999",
              "http://127.0.0.1:%d/big.bin" % P])
    data = open(out, "rb").read() if os.path.exists(out) else b""
    t.ok(p.stdout == b"206" and data == BIG[1000000:2000000], "curl -r 1000000-1999999 /big.bin: 206 exact",
         (p.returncode, p.stdout, len(data)))
    p = curl(["-I", "http://127.0.0.1:%d/a.txt" % P])
    t.ok(p.returncode == 0 and p.stdout.startswith(b"HTTP/1.1 200") and b"Content-Length: 100\r\n" in p.stdout,
         "curl -I /a.txt: 200, Content-Length: 100", esc(p.stdout, 300))
    p = curl(["--http1.0", "http://127.0.0.1:%d/a.txt" % P])
    t.ok(p.returncode == 0 and p.stdout == A_TXT, "curl --http1.0 /a.txt: body", (p.returncode, esc(p.stdout)))
    p = curl(["--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
              "http://127.0.0.1:%d/../../etc/passwd" % P])
    t.ok(p.stdout == b"400", "curl --path-as-is /../../etc/passwd -> 400", (p.returncode, p.stdout))
    p = curl(["-w", "\n%{http_code}", "http://127.0.0.1:%d/sub/" % P])
    t.ok(p.stdout == SUB_INDEX + b"\n200", "curl /sub/: sub/index.html", esc(p.stdout))


CTYPES = [("/a.txt", "text/plain; charset=utf-8"), ("/index.html", "text/html; charset=utf-8"),
          ("/page.htm", "text/html; charset=utf-8"), ("/style.css", "text/css"),
          ("/app.js", "text/javascript"), ("/x.json", "application/json"), ("/img.png", "image/png"),
          ("/pic.jpg", "image/jpeg"), ("/pic.jpeg", "image/jpeg"), ("/anim.gif", "image/gif"),
          ("/pic.svg", "image/svg+xml"), ("/favicon.ico", "image/x-icon"), ("/doc.pdf", "application/pdf"),
          ("/mod.wasm", "application/wasm"), ("/data.xml", "application/xml"),
          ("/noext", "application/octet-stream"), ("/a.unknownext", "application/octet-stream")]


@case
def t_ctypes(t):
    c = http.client.HTTPConnection("127.0.0.1", ENV["port"], timeout=tmo(SOCK_TIMEOUT))
    try:
        for path, ct in CTYPES:
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            got = r.getheader("Content-Type") or ""
            t.ok(r.status == 200 and got.lower() == ct, "GET %s -> 200 %s" % (path, ct), (r.status, got))
    finally:
        c.close()
    st, h, body = hget(ENV["port"], "/x.json")
    t.ok(body == JSON and h.get("Content-Length") == str(len(JSON)), "GET /x.json: body and length", esc(body))


@case
def t_keepalive_statuses(t):
    res = ka_case(t, "GET /nope.html", req(b"/nope.html"), 404)
    r = res.r
    t.ok(r is not None and r.body == b"404 Not Found\n" and
         (r.h("content-type") or "").startswith("text/plain"), "404: body '404 Not Found\\n', text/plain",
         res.summary())
    ka_case(t, "GET /empty/ (no index)", req(b"/empty/"), 403)
    res = ka_case(t, "POST /a.txt", req(b"/a.txt", method=b"POST", headers=[b"Content-Length: 0"]), 405)
    t.ok(res.r is not None and (res.r.h("allow") or "").replace(" ", "") == "GET,HEAD",
         "405 carries Allow: GET, HEAD", res.summary())
    res = ka_case(t, "GET /sub", req(b"/sub"), 301)
    t.ok(res.r is not None and res.r.h("location") == "/sub/", "301 /sub: Location: /sub/", res.summary())
    ka_case(t, "GET /a.txt Range bytes=100-", req(b"/a.txt", headers=[b"Range: bytes=100-"]), 416)
    ka_case(t, "GET /a.txt If-None-Match: *", req(b"/a.txt", headers=[b"If-None-Match: *"]), 304)


@case
def t_dotfiles(t):
    for path in ["/.hidden", "/.git/config", "/.git/", "/.git", "/sub/.hidden", "/%2ehidden",
                 "/sub/../.hidden"]:
        res = talk(ENV["port"], req(path.encode(), close=True))
        r = res.r
        t.ok(r is not None and r.status == 404 and MARK.encode() not in r.body and b"dotfile" not in r.body
             and b"hidden in" not in r.body, "dotfile GET %s -> 404" % path, res.summary())


@case
def t_dirs(t):
    P = ENV["port"]
    st, h, _ = hget(P, "/empty")
    t.ok(st == 301 and h.get("Location") == "/empty/", "GET /empty -> 301 Location /empty/", (st, h.get("Location")))
    st, h, _ = hget(P, "/sub?x=1")
    t.ok(st == 301, "GET /sub?x=1 -> 301", st)
    t.ok(h.get("Location") == "/sub/?x=1", "GET /sub?x=1: Location keeps the query (/sub/?x=1)", h.get("Location"))
    st, h, body = hget(P, "/sub/")
    t.ok(st == 200 and body == SUB_INDEX, "GET /sub/ -> sub/index.html", (st, esc(body)))
    t.ok((h.get("Content-Type") or "").lower() == "text/html; charset=utf-8", "GET /sub/: Content-Type html",
         h.get("Content-Type"))
    st, h, body = hget(P, "/sub/?q=2")
    t.ok(st == 200 and body == SUB_INDEX, "GET /sub/?q=2 -> sub/index.html", st)
    st, h, body = hget(P, "/subl/")
    t.ok(st == 200 and body == SUB_INDEX, "GET /subl/ (symlink to dir inside root) -> served", st)
    st, h, body = hget(P, "/sub/index.html")
    t.ok(st == 200 and body == SUB_INDEX, "GET /sub/index.html -> 200", st)


@case
def t_methods(t):
    for m in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"]:
        st, h, body = hget(ENV["port"], "/a.txt", method=m)
        t.ok(st == 405, "%s /a.txt -> 405" % m, st)
        t.ok((h.get("Allow") or "").replace(" ", "") == "GET,HEAD", "%s /a.txt: Allow: GET, HEAD" % m, h.get("Allow"))
    res = talk(ENV["port"], req(b"*", method=b"OPTIONS", close=True))
    t.ok(res.r is not None and res.r.status not in (400,) and res.r.status < 500,
         "OPTIONS * accepted by the parser (not 400/5xx)", res.summary())


@case
def t_501_505_400version(t):
    for m in [b"FOO", b"CONNECT", b"get", b"MKCOL"]:
        err_case(t, "method %s" % m.decode(), req(b"/a.txt", method=m), 501)
    for v in [b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0"]:
        err_case(t, "version %s" % v.decode(), req(b"/a.txt", version=v), 505)
    # RFC 9110 2.5: a higher minor version is served as the highest we implement
    for v in [b"HTTP/1.2", b"HTTP/1.9"]:
        res = talk(ENV["port"], req(b"/a.txt", version=v, close=True))
        t.ok(res.r is not None and res.r.status == 200 and res.r.status_line.startswith("HTTP/1.1 "),
             "version %s served as HTTP/1.1 (200)" % v.decode(), res.summary())
    for v in [b"HTTP/1", b"http/1.1", b"HTTP/1.1x", b"HTTP/11.1", b"HTTP/1.", b"HTTP 1.1", b"HTTP/1.1 "]:
        err_case(t, "malformed version %r" % esc(v), req(b"/a.txt", version=v), 400)


@case
def t_conditional(t):
    P = ENV["port"]
    et = etag_of("/a.txt")
    t.ok(et is not None, "HEAD /a.txt gives an ETag", et)
    et = (et or '"none"').encode()

    def cond(label, hdrs, status):
        res = talk(P, req(b"/a.txt", headers=hdrs, close=True))
        r = res.r
        t.ok(r is not None and r.status == status, "%s -> %d" % (label, status), res.summary())
        if status == 304:
            t.ok(r is not None and r.body == b"" and res.extra == b"" and res.closed,
                 "%s: 304 has no body" % label, res.summary())
        else:
            t.ok(r is not None and r.body == A_TXT, "%s: full body" % label, res.summary())
        return r
    r = cond("If-None-Match: <etag>", [b"If-None-Match: " + et], 304)
    t.ok(r is not None and r.h("etag") == et.decode(), "304 carries the ETag", r)
    cond("If-None-Match: *", [b"If-None-Match: *"], 304)
    cond('If-None-Match: "other"', [b'If-None-Match: "other-etag"'], 200)
    cond('If-None-Match: "other", <etag>', [b'If-None-Match: "other-etag", ' + et], 304)
    cond("If-Modified-Since: Last-Modified", [b"If-Modified-Since: " + LASTMOD.encode()], 304)
    cond("If-Modified-Since: older", [b"If-Modified-Since: " + OLDER.encode()], 200)
    cond("If-Modified-Since: newer", [b"If-Modified-Since: " + NEWER.encode()], 304)
    cond("If-Modified-Since: garbage", [b"If-Modified-Since: yesterday at noon"], 200)


@case
def t_ranges(t):
    P = ENV["port"]

    def rng(value, extra=None):
        hd = {"Range": value}
        hd.update(extra or {})
        return hget(P, "/a.txt", headers=hd)

    for spec, lo, hi in [("bytes=0-9", 0, 9), ("bytes=5-", 5, 99), ("bytes=-5", 95, 99),
                         ("bytes=0-999999", 0, 99), ("bytes=99-99", 99, 99)]:
        st, h, body = rng(spec)
        t.ok(st == 206 and body == A_TXT[lo:hi + 1], "Range %s -> 206 bytes %d-%d exact" % (spec, lo, hi),
             (st, esc(body)))
        t.ok(h.get("Content-Range") == "bytes %d-%d/100" % (lo, hi), "Range %s: Content-Range bytes %d-%d/100"
             % (spec, lo, hi), h.get("Content-Range"))
        t.ok(h.get("Content-Length") == str(hi - lo + 1), "Range %s: Content-Length %d" % (spec, hi - lo + 1),
             h.get("Content-Length"))
    for spec in ["bytes=100-", "bytes=-0", "bytes=500-600"]:
        st, h, body = rng(spec)
        t.ok(st == 416, "Range %s -> 416" % spec, st)
        t.ok(h.get("Content-Range") == "bytes */100", "Range %s: Content-Range bytes */100" % spec,
             h.get("Content-Range"))
    for spec in ["bytes=0-1,5-6", "bytes=abc", "items=0-5", "bytes=5-2", "bytes 0-5", "bytes=--1", "bytes=1-2-3"]:
        st, h, body = rng(spec)
        t.ok(st == 200 and body == A_TXT, "Range %s (multiple/malformed) -> 200 full" % spec, (st, esc(body)))
    et = etag_of("/a.txt") or '"x"'
    st, h, body = rng("bytes=0-9", {"If-Range": '"not-the-etag"'})
    t.ok(st == 200 and body == A_TXT, "If-Range mismatching ETag -> 200 full", (st, esc(body)))
    st, h, body = rng("bytes=0-9", {"If-Range": et})
    t.ok(st == 206 and body == A_TXT[:10], "If-Range matching ETag -> 206", (st, esc(body)))
    st, h, body = rng("bytes=0-9", {"If-Range": OLDER})
    t.ok(st == 200 and body == A_TXT, "If-Range older date -> 200 full", (st, esc(body)))


@case
def t_edge_entities(t):
    P = ENV["port"]
    st, h, body = hget(P, "/empty.txt")
    t.ok(st == 200 and body == b"" and h.get("Content-Length") == "0", "GET /empty.txt (0 bytes) -> 200, Content-Length: 0",
         (st, h.get("Content-Length")))
    st, h, body = hget(P, "/empty.txt", headers={"Range": "bytes=0-"})
    t.ok(st == 416 and h.get("Content-Range") == "bytes */0", "Range bytes=0- on an empty file -> 416 bytes */0",
         (st, h.get("Content-Range")))
    st, h, body = hget(P, "/a.txt", headers={"Range": "bytes=0-9", "If-Range": LASTMOD})
    t.ok(st == 206 and body == A_TXT[:10], "If-Range with the Last-Modified date -> 206", (st, esc(body)))
    old = etag_of("/mutable.txt")
    path = os.path.join(ENV["root"], "mutable.txt")
    with open(path, "wb") as f:
        f.write(b"version two, longer\n")
    os.utime(path, (MTIME + 3600, MTIME + 3600))
    st, h, body = hget(P, "/mutable.txt", headers={"If-None-Match": old or '"x"'})
    t.ok(st == 200 and body == b"version two, longer\n", "after a file changes, its old ETag no longer gives 304",
         (st, old, h.get("ETag"), esc(body)))
    t.ok(h.get("ETag") not in (None, old) and h.get("Last-Modified") == email.utils.formatdate(MTIME + 3600, usegmt=True),
         "after a file changes: new ETag and Last-Modified", (old, h.get("ETag"), h.get("Last-Modified")))


@case
def t_more_static(t):
    P = ENV["port"]
    for label, data in [("HEAD 404", req(b"/nope.html", method=b"HEAD", close=True)),
                        ("HEAD 301", req(b"/sub", method=b"HEAD", close=True)),
                        ("HEAD 416", req(b"/a.txt", method=b"HEAD", headers=[b"Range: bytes=500-"], close=True)),
                        ("HEAD 206", req(b"/a.txt", method=b"HEAD", headers=[b"Range: bytes=0-9"], close=True)),
                        ("HEAD 304", req(b"/a.txt", method=b"HEAD", headers=[b"If-None-Match: *"], close=True)),
                        ("HEAD big.bin", req(b"/big.bin", method=b"HEAD", close=True))]:
        res = talk(P, data, heads=(0,))
        t.ok(res.r is not None and res.closed and res.extra == b"", "%s: no body bytes after the head" % label, res.summary())
    res = talk(P, req(b"/big.bin", method=b"HEAD", close=True), heads=(0,))
    t.ok(res.r is not None and res.r.h("content-length") == str(len(BIG)), "HEAD /big.bin: Content-Length of the entity",
         res.summary())
    for spec, lo, hi in [("bytes=-200", 0, 99), ("bytes=0-0", 0, 0)]:
        st, h, body = hget(P, "/a.txt", headers={"Range": spec})
        t.ok(st == 206 and body == A_TXT[lo:hi + 1] and h.get("Content-Range") == "bytes %d-%d/100" % (lo, hi),
             "Range %s -> 206 bytes %d-%d/100" % (spec, lo, hi), (st, h.get("Content-Range"), esc(body)))
    et = etag_of("/a.txt") or '"x"'
    st, h, body = hget(P, "/a.txt", headers={"If-None-Match": "W/" + et})
    t.ok(st == 304, "If-None-Match: W/<etag> -> 304 (weak comparison, RFC 9110 13.1.2)", st)
    st, h, body = hget(P, "/a.txt", headers={"If-None-Match": '"other-etag"', "If-Modified-Since": LASTMOD})
    t.ok(st == 200 and body == A_TXT,
         "If-None-Match not matching + If-Modified-Since current -> 200 (IMS ignored, RFC 9110 13.1.3)", st)
    st, h, body = hget(P, "/a.txt/")
    t.ok(st == 404, "GET /a.txt/ (file with trailing slash) -> 404", st)
    st, h, body = hget(P, "/sub/index.html/")
    t.ok(st == 404, "GET /sub/index.html/ -> 404", st)
    res = ka_case(t, "GET /loop (symlink loop)", req(b"/loop"), 404)


@case
def t_conn_tokens(t):
    P = ENV["port"]
    res = talk(P, req(b"/a.txt", headers=[b"Connection: foo, close"]))
    t.ok(res.r is not None and res.r.status == 200 and res.closed and res.extra == b"",
         "Connection: foo, close -> closed after the response", res.summary())
    res = talk(P, req(b"/a.txt", headers=[b"Connection: CLOSE"]))
    t.ok(res.r is not None and res.closed, "Connection: CLOSE (case-insensitive) -> closed", res.summary())
    res = talk(P, b"GET /a.txt HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /x.json HTTP/1.0\r\n\r\n", nresp=2)
    t.ok(len(res.resps) == 2 and res.resps[1].body == JSON and res.closed,
         "HTTP/1.0 Connection: Keep-Alive (mixed case) -> kept alive", res.summary())


@case
def t_concurrency(t):
    P = ENV["port"]
    results = [None] * 40

    def one(i):
        try:
            path = "/big.bin" if i % 10 == 0 else "/a.txt"
            st, h, body = hget(P, path)
            results[i] = st == 200 and body == (BIG if path == "/big.bin" else A_TXT)
        except Exception as e:
            results[i] = repr(e)
    ths = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(40)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(tmo(15))
    bad = [(i, r) for i, r in enumerate(results) if r is not True]
    t.ok(not bad, "40 concurrent connections all answered correctly", bad[:5])
    # a client that resets the connection in the middle of a download
    c = Raw(P)
    c.send(req(b"/big.bin"))
    c.s.recv(1024)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    time.sleep(0.2)
    st, h, body = hget(P, "/a.txt")
    t.ok(st == 200 and body == A_TXT, "server still serves after a client reset mid-download", st)


PASSWD = b"root:"


@case
def t_path_safety(t):
    for tg, host in [(b"/../etc/passwd", b"localhost"), (b"/%2e%2e/%2e%2e/etc/passwd", b"localhost"),
                     (b"/%2E%2E/etc/passwd", b"localhost"), (b"/sub/../../etc/passwd", b"localhost"),
                     (b"/a%2fb", b"localhost"), (b"/a%2Fb", b"localhost"),
                     (b"/..%2f..%2fetc%2fpasswd", b"localhost"), (b"/%00", b"localhost"),
                     (b"/a.txt%00.html", b"localhost"), (b"/%0a", b"localhost"), (b"/%7f", b"localhost"),
                     (b"http://x/../../etc/passwd", b"x"), (b"/./../etc/passwd", b"localhost")]:
        res = err_case(t, "unsafe path %s" % tg.decode(), req(tg, host=host), 400)
        t.ok(all(PASSWD not in r.raw() for r in res.resps) and PASSWD not in res.extra,
             "unsafe path %s: no passwd content" % tg.decode(), res.summary())


@case
def t_path_ok(t):
    for tg, body in [(b"/sub/../a.txt", A_TXT), (b"//a.txt", A_TXT), (b"/./a.txt", A_TXT), (b"/%61.txt", A_TXT),
                     (b"/sp%20ace.txt", b"space in name\n"), (b"/sub//index.html", SUB_INDEX),
                     (b"http://localhost/a.txt", A_TXT), (b"HTTP://localhost:80/a.txt?q", A_TXT),
                     (b"https://localhost/a.txt", A_TXT), (b"/a.txt?x=%22y%22&z=/..", A_TXT),
                     (b"/inlink.txt", A_TXT)]:
        res = talk(ENV["port"], req(tg, close=True))
        t.ok(res.r is not None and res.r.status == 200 and res.r.body == body,
             "GET %s -> 200 with the right file" % tg.decode(), res.summary())


@case
def t_symlinks_outside(t):
    for tg in [b"/passwd", b"/outdir/secret.txt", b"/outdir/", b"/outdir", b"/rel.txt"]:
        res = talk(ENV["port"], req(tg, close=True))
        r = res.r
        t.ok(r is not None and r.status == 404 and PASSWD not in r.body and SECRET not in r.body,
             "symlink outside root %s -> 404" % tg.decode(), res.summary())


@case
def t_fifo(t):
    fifo = os.path.join(ENV["root"], "fifo")
    res = talk(ENV["port"], req(b"/fifo", close=True), timeout=3)
    t.ok(res.r is not None and res.r.status == 403, "GET /fifo (not a regular file) -> 403 without blocking",
         res.summary())
    try:   # if the server blocked in open(fifo), release it so the child can exit
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        t.diag("a server process had the fifo open for reading")
    except OSError:
        pass


@case
def t_bad_targets(t):
    for tg in [b"/a<b", b"/a>b", b"/a%G1", b"/a%", b"/a%4", b"/\x80", b"a.txt", b"*", b"/a.txt#f",
               b'/a"b', b"/a{b}", b"/a|b", b"/a^b", b"/a`b", b"/a\\b", b"/a\x01b", b"/a\tb",
               b"ftp://localhost/a.txt", b"http:/a.txt"]:
        err_case(t, "bad target %r" % esc(tg), req(tg), 400)


@case
def t_bad_heads(t):
    H = b"Host: localhost\r\n"
    cases = [
        ("bare LF line ends", b"GET /a.txt HTTP/1.1\nHost: localhost\n\n"),
        ("bare LF in one header", b"GET /a.txt HTTP/1.1\r\nHost: localhost\nX-A: b\r\n\r\n"),
        ("bare CR in request line", b"GET /a.txt HTTP/1.1\rX\r\nHost: localhost\r\n\r\n"),
        ("bare CR in header value", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A: b\rc\r\n\r\n"),
        ("obs-fold", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n"),
        ("HTAB fold", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A: a\r\n\tb\r\n\r\n"),
        ("SP before first header", b"GET /a.txt HTTP/1.1\r\n Host: localhost\r\n\r\n"),
        ("space before colon", b"GET /a.txt HTTP/1.1\r\nHost : localhost\r\n\r\n"),
        ("tab before colon", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A\t: b\r\n\r\n"),
        ("header without colon", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A b\r\n\r\n"),
        ("empty header name", b"GET /a.txt HTTP/1.1\r\n" + H + b": b\r\n\r\n"),
        ("non-token header name", b"GET /a.txt HTTP/1.1\r\n" + H + b"X(A): b\r\n\r\n"),
        ("control char in value", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A: a\x01b\r\n\r\n"),
        ("NUL in value", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n"),
        ("DEL in value", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A: a\x7fb\r\n\r\n"),
        ("two SP after method", b"GET  /a.txt HTTP/1.1\r\n" + H + b"\r\n"),
        ("HTAB separator", b"GET\t/a.txt HTTP/1.1\r\n" + H + b"\r\n"),
        ("non-token method", b"G(T /a.txt HTTP/1.1\r\n" + H + b"\r\n"),
        ("missing version", b"GET /a.txt\r\n" + H + b"\r\n"),
        ("CL + TE", b"POST /a.txt HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("TE in HTTP/1.0", b"POST /a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("duplicate differing CL", b"POST /a.txt HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        ("CL with sign", b"POST /a.txt HTTP/1.1\r\n" + H + b"Content-Length: +5\r\n\r\nhello"),
        ("CL comma list", b"POST /a.txt HTTP/1.1\r\n" + H + b"Content-Length: 5, 5\r\n\r\nhello"),
        ("CL not a number", b"POST /a.txt HTTP/1.1\r\n" + H + b"Content-Length: abc\r\n\r\n"),
        ("CL 2^63", b"POST /a.txt HTTP/1.1\r\n" + H + b"Content-Length: 9223372036854775808\r\n\r\n"),
        ("CL space inside", b"POST /a.txt HTTP/1.1\r\n" + H + b"Content-Length: 1 0\r\n\r\n0123456789"),
        ("TE chunked, chunked", b"POST /a.txt HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
        ("TE chunked, gzip", b"POST /a.txt HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
        ("TE empty element", b"POST /a.txt HTTP/1.1\r\n" + H + b"Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n"),
        ("TE with parameter", b"POST /a.txt HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n"),
        ("missing Host in 1.1", b"GET /a.txt HTTP/1.1\r\n\r\n"),
        ("two Host fields", b"GET /a.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        ("two identical Host fields", b"GET /a.txt HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
        ("empty Host", b"GET /a.txt HTTP/1.1\r\nHost: \r\n\r\n"),
        ("Host 'a b'", b"GET /a.txt HTTP/1.1\r\nHost: a b\r\n\r\n"),
        ("Host 'x:y:z'", b"GET /a.txt HTTP/1.1\r\nHost: x:y:z\r\n\r\n"),
        ("Host 'a/b'", b"GET /a.txt HTTP/1.1\r\nHost: a/b\r\n\r\n"),
        ("invalid Host in HTTP/1.0", b"GET /a.txt HTTP/1.0\r\nHost: a b\r\n\r\n"),
    ]
    for label, data in cases:
        err_case(t, label, data, 400)
    for label, data in [
        ("TE gzip, chunked", b"POST /a.txt HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        ("TE gzip", b"POST /a.txt HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n"),
        ("TE foo, chunked", b"POST /a.txt HTTP/1.1\r\n" + H + b"Transfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n")]:
        err_case(t, label, data, 501)


@case
def t_bad_chunks(t):
    # The static handler does not read bodies, so the server may answer 405 first and only then
    # meet the framing error while draining: then it must close, never answer the body bytes.
    H = b"POST /a.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
    for label, body in [("non-hex chunk size", b"zz\r\nhello\r\n0\r\n\r\n"),
                        ("chunk size with trailing SP only", b"1 \r\nX\r\n0\r\n\r\n"),
                        ("0x chunk size", b"0x5\r\nhello\r\n0\r\n\r\n"),
                        ("negative chunk size", b"-1\r\nX\r\n0\r\n\r\n"),
                        ("17-digit chunk size", b"00000000000000001\r\nX\r\n0\r\n\r\n"),
                        ("chunk data without CRLF", b"5\r\nhelloXX0\r\n\r\n"),
                        ("bare LF after chunk size", b"5\nhello\r\n0\r\n\r\n")]:
        res = talk(ENV["port"], H + body + req(b"/x.json", close=True), nresp=2)
        t.ok(res.r is not None and res.r.status in (400, 405),
             "chunked POST with %s -> 400 (or 405 before the body is read)" % label, res.summary())
        if res.r is not None and res.r.status != 400:
            t.diag("%s: first status %d" % (label, res.r.status))
        t.ok(len(res.resps) == 1 and res.closed and res.extra == b"",
             "chunked POST with %s: one response, then closed" % label, res.summary())


@case
def t_accepted_heads(t):
    P = ENV["port"]
    ok_cases = [
        ("empty lines before request line", b"\r\n\r\n" + req(b"/a.txt", close=True)),
        ("HTTP/1.0 without Host", b"GET /a.txt HTTP/1.0\r\n\r\n"),
        ("obs-text in a header value", req(b"/a.txt", headers=[b"X-A: caf\xc3\xa9 \x80\xff"], close=True)),
        ("HTAB and SP in a header value", req(b"/a.txt", headers=[b"X-A:\ta \t b\t "], close=True)),
        ("header name case-insensitive (HOST)", b"GET /a.txt HTTP/1.1\r\nHOST: localhost\r\nConnection: close\r\n\r\n"),
        ("Host with port", req(b"/a.txt", host=b"localhost:8080", close=True)),
        ("Host IPv6 literal", req(b"/a.txt", host=b"[::1]:8080", close=True)),
        ("Host IPv4", req(b"/a.txt", host=b"127.0.0.1", close=True)),
        ("empty header value", req(b"/a.txt", headers=[b"X-Empty:"], close=True)),
    ]
    for label, data in ok_cases:
        res = talk(P, data)
        t.ok(res.r is not None and res.r.status == 200 and res.r.body == A_TXT, "%s -> 200" % label, res.summary())
    # bodies are consumed and never parsed as a request
    pip = [
        ("GET with repeated identical Content-Length", req(b"/a.txt", headers=[b"Content-Length: 5", b"Content-Length: 5"], body=b"GET /")),
        ("GET with chunked body (TE: Chunked)", req(b"/a.txt", headers=[b"Transfer-Encoding: Chunked"], body=b"5\r\nGET /\r\n0\r\n\r\n")),
        ("chunked body with extension and BWS", req(b"/a.txt", headers=[b"Transfer-Encoding: chunked"], body=b"5 ;ext=1;q=\"a b\"\r\nGET /\r\n0\r\n\r\n")),
        ("chunked body with trailer", req(b"/a.txt", headers=[b"Transfer-Encoding: chunked"], body=b"5\r\nGET /\r\n0\r\nX-Trailer: 1\r\n\r\n")),
        ("chunked body, upper-case hex", req(b"/a.txt", headers=[b"Transfer-Encoding: chunked"], body=b"A\r\nGET /a.txt\r\n0\r\n\r\n")),
    ]
    for label, data in pip:
        res = talk(P, data + req(b"/style.css", close=True), nresp=3)
        t.ok(res.statuses() == [200, 200] and res.resps[0].body == A_TXT and res.resps[1].body == CSS
             and res.closed and res.extra == b"", "%s: exactly 2 responses (body not parsed)" % label, res.summary())


@case
def t_limits(t):
    P = ENV["port"]
    err_case(t, "9000-byte request line", b"GET /" + b"a" * 8995 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414)
    line = b"GET /a.txt?" + b"q" * (8000 - len(b"GET /a.txt? HTTP/1.1")) + b" HTTP/1.1"
    assert len(line) == 8000
    res = talk(P, line + b"\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    t.ok(res.r is not None and res.r.status == 200 and res.r.body == A_TXT,
         "8000-byte request line (long query) -> 200", res.summary())
    path = b"/" + (b"b" * 99 + b"/") * 39 + b"x"
    res = talk(P, req(path, close=True))
    t.ok(res.r is not None and res.r.status == 404, "%d-byte path of missing dirs -> 404" % len(path), res.summary())
    res = talk(P, req(b"/" + b"a" * 7980, close=True))   # the spec's own example
    t.ok(res.r is not None and res.r.status == 404, "GET /a*7980 (8000-byte line) -> 404 (not 414)", res.summary())

    def line(n):   # a request line of exactly n bytes (CRLF not counted)
        pre, post = b"GET /a.txt?", b" HTTP/1.1"
        return pre + b"q" * (n - len(pre) - len(post)) + post + b"\r\nHost: localhost\r\n"
    res = talk(P, line(8192) + b"Connection: close\r\n\r\n")
    t.ok(res.r is not None and res.r.status == 200, "request line of exactly HTTPD_MAX_LINE=8192 bytes -> 200", res.summary())
    err_case(t, "request line of 8193 bytes", line(8193) + b"\r\n", 414)

    def head(n):   # a whole head (final CRLF included) of exactly n bytes
        base = b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-P: "
        return base + b"v" * (n - len(base) - 4) + b"\r\n\r\n"
    res = talk(P, head(32768))
    t.ok(res.r is not None and res.r.status == 200, "head of exactly HTTPD_MAX_HEAD=32768 bytes -> 200", res.summary())
    err_case(t, "head of 32769 bytes", head(32769), 431)
    err_case(t, "Content-Length 2^63-1 (over -b)", req(b"/a.txt", headers=[b"Content-Length: 9223372036854775807"]), 413)
    hs = [b"X-H%d: v" % i for i in range(128)]
    res = talk(P, req(b"/a.txt", headers=hs[:126], close=True))  # Host + 126 + Connection = 128
    t.ok(res.r is not None and res.r.status == 200, "128 header fields -> 200", res.summary())
    res = talk(P, req(b"/a.txt", headers=hs[:98], close=True))   # Host + 98 + Connection = 100
    t.ok(res.r is not None and res.r.status == 200, "100 header fields (Apache's limit) -> 200",
         res.summary())
    err_case(t, "129 header fields", req(b"/a.txt", headers=hs[:128]), 431)
    err_case(t, "200 header fields", req(b"/a.txt", headers=[b"X-H%d: v" % i for i in range(199)]), 431)
    err_case(t, "40 KB request head", req(b"/a.txt", headers=[b"X-Big%d: " % i + b"v" * 8000 for i in range(5)]), 431)
    res = talk(P, req(b"/a.txt", headers=[b"X-Big%d: " % i + b"v" * 7000 for i in range(4)], close=True))
    t.ok(res.r is not None and res.r.status == 200, "28 KB request head -> 200", res.summary())


@case
def t_markers(t):
    P = ENV["port"]
    M = MARK.encode()
    err_case(t, "400 (bad char in target, marker)", req(b"/" + M + b"<x"), 400, full=True, marker=MARK)
    err_case(t, "400 (space before colon, marker)", b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-" + M + b" : " + M + b"\r\n\r\n",
             400, full=True, marker=MARK)
    err_case(t, "400 (invalid Host, marker)", req(b"/" + M, host=M + b" " + M), 400, full=True, marker=MARK)
    err_case(t, "414 (marker)", req(b"/" + M + b"a" * 9000), 414, full=True, marker=MARK)
    err_case(t, "431 (marker)", req(b"/" + M, headers=[b"X-" + M + b"-%d: " % i + M for i in range(200)]), 431,
             full=True, marker=MARK)
    err_case(t, "501 (marker)", req(b"/" + M, method=M.upper()), 501, full=True, marker=MARK)
    err_case(t, "505 (marker)", req(b"/" + M, version=b"HTTP/2.0"), 505, full=True, marker=MARK)
    err_case(t, "417 (marker)", req(b"/a.txt", headers=[b"Expect: " + M]), 417, full=True, marker=MARK)
    err_case(t, "501 TE (marker)", req(b"/a.txt", method=b"POST", headers=[b"Transfer-Encoding: " + M + b", chunked"], body=b"0\r\n\r\n"),
             501, full=True, marker=MARK)


@case
def t_keepalive(t):
    P = ENV["port"]
    c = http.client.HTTPConnection("127.0.0.1", P, timeout=tmo(SOCK_TIMEOUT))
    try:
        c.request("GET", "/a.txt")
        r = c.getresponse()
        b1 = r.read()
        s1 = c.sock
        n1 = s1.getsockname() if s1 else None
        c.request("GET", "/style.css")
        r2 = c.getresponse()
        b2 = r2.read()
        s2 = c.sock
        t.ok(b1 == A_TXT and b2 == CSS, "keep-alive: two requests on one http.client connection", (b1[:20], b2[:20]))
        t.ok(s1 is not None and s1 is s2 and s2.getsockname() == n1, "keep-alive: the socket was reused")
        t.ok((r2.getheader("Connection") or "").lower() != "close", "keep-alive: no Connection: close on 1.1",
             r2.getheader("Connection"))
    finally:
        c.close()
    res = talk(P, b"GET /a.txt HTTP/1.0\r\n\r\n")
    t.ok(res.r is not None and res.r.status == 200 and (res.r.h("connection") or "").lower() != "keep-alive",
         "HTTP/1.0: 200, no keep-alive by default", res.summary())
    t.ok(res.closed and res.extra == b"", "HTTP/1.0: connection closed by default", res.summary())
    res = talk(P, b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /style.css HTTP/1.0\r\n\r\n", nresp=2)
    t.ok(res.r is not None and (res.r.h("connection") or "").lower() == "keep-alive",
         "HTTP/1.0 Connection: keep-alive -> response says keep-alive", res.summary())
    t.ok(len(res.resps) == 2 and res.resps[1].body == CSS, "HTTP/1.0 keep-alive: second request answered", res.summary())
    t.ok(res.closed and res.extra == b"", "HTTP/1.0 keep-alive: closed after the plain 1.0 request", res.summary())
    res = talk(P, req(b"/a.txt", close=True))
    t.ok(res.r is not None and (res.r.h("connection") or "").lower() == "close",
         "Connection: close -> response has Connection: close", res.summary())
    t.ok(res.closed and res.extra == b"", "Connection: close honoured", res.summary())
    res = talk(P, req(b"/a.txt") + req(b"/style.css") + req(b"/x.json", close=True), nresp=3)
    t.ok([r.body for r in res.resps] == [A_TXT, CSS, JSON], "pipelining: 3 responses in order, right bodies",
         res.summary())
    t.ok([(r.h("content-type") or "").split(";")[0] for r in res.resps] == ["text/plain", "text/css", "application/json"],
         "pipelining: right Content-Types", res.summary())
    t.ok(res.closed and res.extra == b"", "pipelining: nothing after the 3rd response", res.summary())
    # pipelined, sent byte by byte
    data = req(b"/a.txt") + req(b"/x.json", close=True)
    cc = Raw(P)
    try:
        for i in range(0, len(data), 7):
            cc.send(data[i:i + 7])
        r1 = cc.read_response()
        r2 = cc.read_response()
        t.ok(r1 is not None and r2 is not None and r1.body == A_TXT and r2.body == JSON,
             "two requests sent in 7-byte pieces -> both answered", (r1, r2))
    except ProtoError as e:
        t.ok(False, "two requests sent in 7-byte pieces -> both answered", e)
    finally:
        cc.close()
    res = talk(P, req(b"/a.txt", headers=[b"Content-Length: 5"], body=b"GET /") + req(b"/style.css", close=True), nresp=3)
    t.ok(res.statuses() == [200, 200], "GET with 5-byte body 'GET /' + request: exactly 2 responses", res.summary())
    t.ok(len(res.resps) == 2 and res.resps[0].body == A_TXT and res.resps[1].body == CSS and res.closed and res.extra == b"",
         "GET with body: bodies right, body never parsed as a request", res.summary())
    body = b"5\r\nGET /\r\n0\r\n\r\n"
    res = talk(P, req(b"/a.txt", method=b"POST", headers=[b"Transfer-Encoding: chunked"], body=body)
               + req(b"/x.json", close=True), nresp=3)
    t.ok(res.r is not None and res.r.status == 405, "chunked POST /a.txt -> 405", res.summary())
    rest_ok = (len(res.resps) == 1 or (len(res.resps) == 2 and res.resps[1].status == 200 and res.resps[1].body == JSON))
    t.ok(rest_ok and res.closed and res.extra == b"",
         "chunked POST: next pipelined request answered or connection closed; body bytes never answered",
         res.summary())
    if len(res.resps) == 1:
        t.diag("chunked POST to static file: server closed after 405 instead of draining the body")


@case
def t_expect(t):
    P = ENV["port"]
    c = Raw(P)
    body = b"GET /a.txt"     # 10 bytes that would be a request prefix if misparsed
    seen = []
    try:
        c.send(b"POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
        try:
            r1 = c.read_response(timeout=2)
        except ProtoError:
            r1 = None
        t.ok(r1 is not None and r1.status in (100, 405),
             "Expect: 100-continue POST: server answers (100 or 405) before the body is sent", r1)
        if r1 is not None:
            seen.append(r1.status)
            if r1.status == 100:
                t.ok(r1.head == b"HTTP/1.1 100 Continue\r\n\r\n", "100 Continue status line", r1)
        c.send(body + FOLLOW)
        if r1 is None or r1.status == 100:
            r2 = c.read_response()
            seen.append(r2.status if r2 else None)
            t.ok(r2 is not None and r2.status == 405, "Expect: 100-continue POST: final 405", r2)
        while True:
            r = c.read_response()
            if r is None:
                break
            seen.append(r.status)
            if len(seen) > 4:
                break
        closed, extra = c.wait_closed()
        tail = [s for s in seen if s not in (100,)]
        t.ok(tail in ([405], [405, 200]) and seen.count(100) <= 1 and closed and extra == b"",
             "Expect: 100-continue POST: no garbage (statuses %s)" % seen, extra)
    except ProtoError as e:
        t.ok(False, "Expect: 100-continue POST: well-formed responses", "%s seen=%s" % (e, seen))
    finally:
        c.close()
    err_case(t, "Expect: something-else", req(b"/a.txt", headers=[b"Expect: something-else"]), 417)
    err_case(t, "Expect: 100-continue with HTTP/1.1 but bad value 100-continuez",
             req(b"/a.txt", headers=[b"Expect: 100-continuez"]), 417)


@case
def t_limit_server(t):
    PB = ENV.get("port_b")
    if not PB:
        t.ok(False, "-b 1000 server started")
        return
    res = err_case(t, "POST Content-Length 5000 > -b 1000 (body not sent)",
                   b"POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n", 413, port=PB, full=True)
    t.ok(res.elapsed < 2.0, "413 sent before the body arrives (%.2fs)" % res.elapsed)
    res = talk(PB, b"POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
    t.ok(res.r is not None and res.r.status == 413, "Expect: 100-continue + CL over limit -> 413 without 100 Continue",
         res.summary())
    t.ok(res.closed and res.extra == b"", "Expect + CL over limit: closed after 413", res.summary())
    res = talk(PB, req(b"/a.txt", method=b"POST", headers=[b"Content-Length: 1000"], body=b"x" * 1000) + FOLLOW, nresp=2)
    t.ok(res.statuses() in ([405, 200], [405]) and res.closed,
         "POST Content-Length 1000 == limit -> 405 (not 413)", res.summary())
    res = talk(PB, req(b"/a.txt", headers=[b"Content-Length: 1001"], body=b"x" * 1001))
    t.ok(res.r is not None and res.r.status == 413, "GET with Content-Length 1001 > limit -> 413", res.summary())


@case
def t_idle_timeout(t):
    c = Raw(ENV["port"], timeout=IDLE + 3)
    try:
        c.send(req(b"/a.txt"))
        r = c.read_response()
        t0 = time.monotonic()
        t.ok(r is not None and r.status == 200, "idle: first response on a keep-alive connection", r)
        closed, extra = c.wait_closed(IDLE + 2.5)
        el = time.monotonic() - t0
        t.ok(closed and extra == b"", "idle keep-alive connection closed by server, nothing sent (%.1fs)" % el, extra)
        t.ok(IDLE - 1.0 <= el <= IDLE + 1.0, "idle close happens after about -t %d s (%.1fs)" % (IDLE, el))
    finally:
        c.close()


@case
def t_review_fixes(t):
    """Cases found by review: each once answered wrongly."""
    P = ENV["port"]
    res = talk(P, req(b"/tohidden", close=True))
    t.ok(res.r is not None and res.r.status == 404 and b"dotfile" not in res.r.body,
         "a symlink that names a dotfile -> 404", res.summary())
    res = talk(P, req(b"/a.txt", headers=(b"Range: bytes=1000-",), close=True))
    n = sum(1 for k, _ in res.r.headers if k.lower() == "content-type") if res.r else -1
    t.ok(res.r is not None and res.r.status == 416 and n == 1, "416 carries exactly one Content-Type (%d)" % n,
         res.summary())
    res = talk(P, req(b"/wed.txt", headers=(b"Range: bytes=2-4",
                                            b"If-Range: Wed, 18 Nov 2025 12:00:00 GMT"), close=True))
    t.ok(res.r is not None and res.r.status == 206 and res.r.body == b"234",
         "If-Range with a Wednesday date equal to Last-Modified -> 206", res.summary())
    res = talk(P, req(b"/wed.txt", headers=(b"Range: BYTES=0-0",), close=True))
    t.ok(res.r is not None and res.r.status == 206 and res.r.body == b"0",
         "range unit is case-insensitive (RFC 9110 14.1)", res.summary())
    # empty lines after a response are not the start of a head: no 408 at -T
    c = Raw(P, timeout=IDLE + 3)
    try:
        c.send(req(b"/a.txt") + b"\r\n")
        r = c.read_response()
        t0 = time.monotonic()
        closed, extra = c.wait_closed(IDLE + 2.5)
        el = time.monotonic() - t0
        t.ok(r is not None and r.status == 200 and closed and extra == b"" and el >= IDLE - 1.0,
             "a CRLF after a keep-alive request keeps the connection idle: closed at -t, no 408 "
             "(%.1fs)" % el, extra)
    finally:
        c.close()
    # a body trickled after an answered request: one deadline for the whole drain
    c = Raw(P, timeout=IDLE + 6)
    try:
        c.send(req(b"/a.txt", headers=(b"Content-Length: 100000",)))
        r = c.read_response()
        t0 = time.monotonic()
        closed = False
        while time.monotonic() - t0 < IDLE + 4 and not closed:
            if not c.send(b"x"):
                closed = True
                break
            try:
                c.s.settimeout(0.5)
                d = c.s.recv(4096)
                if d == b"":
                    closed = True
            except socket.timeout:
                pass
            except OSError:
                closed = True
        el = time.monotonic() - t0
        t.ok(r is not None and r.status == 200 and closed and el <= IDLE + 2.5,
             "a body trickled byte by byte is cut off at one -t deadline (%.1fs)" % el)
    finally:
        c.close()


@case
def t_slowloris(t):
    c = Raw(ENV["port"], timeout=SOCK_TIMEOUT)
    try:
        t0 = time.monotonic()
        c.send(b"GET / HTTP/1.1\r\n")
        trickle = b"X-Slow: " + b"a" * 64
        i = 0
        while time.monotonic() - t0 < HEADT + 3:
            rd, _, _ = select.select([c.s], [], [], 0.5)
            if rd or not c.send(trickle[i:i + 1]):
                break
            i += 1
        el = time.monotonic() - t0
        try:
            r = c.read_response(timeout=1.5)
        except ProtoError as e:
            r = e
        t.ok(isinstance(r, Resp) and r.status == 408, "slowloris (1 byte / 0.5 s): 408", r)
        t.ok(isinstance(r, Resp) and r.body == ("408 %s\n" % r.reason).encode() and r.reason != ""
             and (r.h("connection") or "").lower() == "close" and r.h("content-length") == str(len(r.body))
             and (r.h("content-type") or "").startswith("text/plain"),
             "slowloris 408: fixed text body, Connection: close, Content-Length", r)
        t.ok(HEADT - 0.5 <= el <= HEADT + 2, "slowloris cut off within -T+2 s, not before -T (%.1fs)" % el)
        closed, extra = c.wait_closed()
        t.ok(closed and extra == b"", "slowloris: connection closed after 408", extra)
    finally:
        c.close()


@case
def t_perm_server(t):
    PN = ENV.get("port_nobody")
    if ENV.get("nobody_skip"):
        t.skip("cases as user nobody (3 assertions)", ENV["nobody_skip"])
        return
    if not PN:
        t.ok(False, "server running as nobody started", ENV.get("nobody_err"))
        return
    st, h, body = hget(PN, "/a.txt")
    t.ok(st == 200 and body == A_TXT, "as nobody: GET /a.txt -> 200", st)
    st, h, body = hget(PN, "/unreadable.txt")
    t.ok(st == 403 and b"should not" not in body, "as nobody: GET /unreadable.txt (mode 000) -> 403", (st, body[:40]))
    st, h, body = hget(PN, "/big.bin", headers={"Range": "bytes=-100"})
    t.ok(st == 206 and body == BIG[-100:], "as nobody: Range bytes=-100 on big.bin -> 206 exact", st)


@case
def t_ipv6(t):
    P6 = ENV.get("port6")
    if P6 is None:
        t.diag("SKIPPED ipv6 cases: ::1 not available on this machine")
        return
    if P6 == 0:
        t.ok(False, "server on -a ::1 started", ENV.get("v6_err"))
        return
    st, h, body = hget(P6, "/", host="::1")
    t.ok(st == 200 and body == INDEX, "IPv6 [::1]: GET / -> 200 index", st)
    res = talk(P6, req(b"/a.txt", host=b"[::1]", close=True), host="::1")
    t.ok(res.r is not None and res.r.status == 200 and res.r.body == A_TXT, "IPv6 raw GET /a.txt Host [::1]", res.summary())


@case
def t_cli(t):
    for opt in ["-h", "--help"]:
        try:
            p = run_proc([HTTPD, opt], 5)
            t.ok(p.returncode == 0 and b"usage" in p.stdout.lower(), "%s: usage on stdout, exit 0" % opt,
                 (p.returncode, p.stdout[:200], p.stderr[:200]))
        except subprocess.TimeoutExpired:
            t.ok(False, "%s: usage on stdout, exit 0" % opt, "did not exit within 5 s")
    for opt in [["-Z"], ["--bogus"], ["-p"]]:
        try:
            p = run_proc([HTTPD] + opt, 5)
            t.ok(p.returncode == 2 and b"usage" in p.stderr.lower(), "%s: usage on stderr, exit 2" % " ".join(opt),
                 (p.returncode, p.stdout[:200], p.stderr[:200]))
        except subprocess.TimeoutExpired:
            t.ok(False, "%s: usage on stderr, exit 2" % " ".join(opt), "did not exit within 5 s")
    err = ENV["main"].stderr_bytes()
    want = rb"^httpd: listening on 127\.0\.0\.1 port %d as \S+ \(uid %d, gid %d\)\n$"
    st = os.stat("/proc/%d" % ENV["main"].pid)
    t.ok(re.match(want % (ENV["port"], st.st_uid, st.st_gid), err) is not None,
         "startup line 'httpd: listening on 127.0.0.1 port N as USER (uid U, gid G)' (one line), "
         "naming the user it runs as", esc(err, 300))
    if os.getuid() == 0:
        t.ok(st.st_uid != 0, "started by root without -u, the server does not run as root "
             "(uid %d)" % st.st_uid)


# ---------------------------------------------------------------- access log (sequential, at the end)
CLF_RE = re.compile(rb'^(\S+) - - \[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
                    rb'"((?:[^"\\\x00-\x1f\x7f]|\\x[0-9A-Fa-f]{2})*)" (\d{3}) (\d+|-)$')


def t_access_log(t):
    P = ENV["port"]
    expect = []   # (request-line, status, bytes)

    def one(data, reqline, head=False):
        res = talk(P, data, heads=(0,) if head else ())
        r = res.r
        if r is None:
            t.diag("log request %r got no response" % esc(reqline))
            return
        n = len(r.body)
        expect.append((reqline, r.status, b"-" if n == 0 else str(n).encode()))

    one(req(b"/a.txt?logok", close=True), b"GET /a.txt?logok HTTP/1.1")
    if not expect:
        t.ok(False, "access log checks: server answers GET /a.txt?logok")
        return
    one(req(b"/nope?lognf", close=True), b"GET /nope?lognf HTTP/1.1")
    one(req(b"/a.txt?loghead", method=b"HEAD", close=True), b"HEAD /a.txt?loghead HTTP/1.1", head=True)
    one(req(b"/a.txt?log304", headers=[b"If-None-Match: *"], close=True), b"GET /a.txt?log304 HTTP/1.1")
    one(req(b"/a.txt?logrange", headers=[b"Range: bytes=0-9"], close=True), b"GET /a.txt?logrange HTTP/1.1")
    one(req(b"/a.txt?logpost", method=b"POST", headers=[b"Content-Length: 0"], close=True), b"POST /a.txt?logpost HTTP/1.1")
    one(req(b"/a.txt?x=%22logq%22", close=True), b"GET /a.txt?x=%22logq%22 HTTP/1.1")
    one(req(b"/big.bin?logbig", close=True), b"GET /big.bin?logbig HTTP/1.1")
    one(req(b"/sub?logmoved", close=True), b"GET /sub?logmoved HTTP/1.1")
    bad1 = talk(P, req(b'/logbad"q\\w\x01z'))
    bad2 = talk(P, req(b"/logdel\x7fz"))
    foo = talk(P, req(b"/a.txt?logfoo", method=b"FOO"))
    t.ok(foo.r is not None and foo.r.status == 501, "log: FOO request -> 501", foo.summary())
    t.ok(bad1.r is not None and bad1.r.status == 400 and bad2.r is not None and bad2.r.status == 400,
         "log: requests with quote/backslash/control in the target -> 400", bad1.summary() + "\n" + bad2.summary())
    bad_res = [rb'/logbad\\x22q\\x5[cC]w\\x01z', rb'/logdel\\x7[fF]z', rb'"FOO /a\.txt\?logfoo HTTP/1\.1" 501 ']
    deadline = time.monotonic() + 3
    while True:
        try:
            with open(ENV["log"], "rb") as f:
                log = f.read()
        except OSError:
            log = b""
        have_all = all(rl in log for rl, _, _ in expect) and all(re.search(p, log) for p in bad_res)
        if have_all or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    lines = log.split(b"\n")
    t.ok(log.endswith(b"\n") and len(lines) > 20, "access log written (%d lines), newline-terminated" % (len(lines) - 1))
    lines = lines[:-1] if log.endswith(b"\n") else lines
    badfmt = [l for l in lines if not CLF_RE.match(l)]
    t.ok(not badfmt, "every access log line is well-formed CLF with escaped request", "\n".join(esc(l, 200) for l in badfmt[:5]))
    t.ok(re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", log) is None, "access log has no raw control bytes")
    for rl, st, nb in expect:
        hits = [l for l in lines if b'"' + rl + b'"' in l]
        want = b'127.0.0.1 - - [' in (hits[0] if hits else b"") and \
            (hits[0].endswith(b'" %d %s' % (st, nb)) if hits else False)
        t.ok(len(hits) == 1 and want, "log line for %s: host, status %d, bytes %s (exactly once)" % (rl.decode(), st, nb.decode()),
             "\n".join(esc(h, 200) for h in hits) or "no line")
    for p in bad_res:
        hits = [l for l in lines if re.search(p, l)]
        t.ok(len(hits) == 1 and re.search(rb'" (400|501) (\d+|-)$', hits[0]) is not None,
             {0: "log line for the 400 request escapes quote/backslash/control as \\xHH",
              1: "log line for the 400 request escapes DEL as \\xHH",
              2: "log line for the (well-formed) 501 request FOO has its request line"}[bad_res.index(p)],
             "\n".join(esc(h, 200) for h in hits) or "no line; lines with 'log': " +
             "; ".join(esc(l, 120) for l in lines if b"logbad" in l or b"logdel" in l or b"logfoo" in l)
             + " (%d lines have request \"-\")" % sum(1 for l in lines if b'] "-" ' in l))


def t_graceful(t, srv):
    """SIGTERM while a download is in flight: it completes, new connections get no answer, exit 0."""
    c = Raw(srv.port)
    try:
        c.send(req(b"/big.bin", close=True))
        c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        first = c.s.recv(65536)
        srv.signal_term()
        time.sleep(0.3)
        answered = False
        try:
            n = Raw(srv.port, timeout=1.0)
            try:
                n.send(req(b"/a.txt", close=True))
                r = n.read_response(timeout=1.0)
                answered = r is not None
            except (ProtoError, OSError):
                pass
            finally:
                n.close()
        except OSError:
            pass
        t.ok(not answered, "after SIGTERM: new connections are not served")
        c.buf = first
        r = c.read_response(timeout=5)
        t.ok(r is not None and r.status == 200 and r.body == BIG,
             "after SIGTERM: in-flight download of big.bin completes byte-exact",
             (r.status, len(r.body)) if r else None)
    except (ProtoError, OSError) as e:
        t.ok(False, "graceful shutdown: in-flight download completes (%s)" % e)
    finally:
        c.close()
    t1 = time.monotonic()
    rc = srv.stop()
    t.ok(rc == 0, "after SIGTERM: server exits 0 once the child is done (rc=%s, %.1fs)" % (rc, time.monotonic() - t1))


# ---------------------------------------------------------------- runner
def run_cases(cases, workers=16, budget=BUDGET):
    recs = [Rec(fn.__name__) for fn in cases]
    done = [False] * len(cases)
    lock = threading.Lock()
    nxt = [0]

    def worker():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(cases):
                return
            try:
                cases[i](recs[i])
            except Exception as e:
                recs[i].ok(False, "%s: ran without exception (%s: %s)" % (cases[i].__name__, type(e).__name__, e),
                           traceback.format_exc())
            done[i] = True

    ths = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for th in ths:
        th.start()
    deadline = T0 + budget
    for th in ths:
        th.join(max(0.0, deadline - time.monotonic()))
    for i, rec in enumerate(recs):
        if not done[i]:
            rec.ok(False, "%s: finished within the time budget" % cases[i].__name__)
        rec.flush()


def main():
    if not os.path.isfile(HTTPD) or not os.access(HTTPD, os.X_OK):
        emit("not ok - httpd binary exists at %s" % HTTPD)
        return
    base = tempfile.mkdtemp(prefix="httpd-e2e-")
    servers = []
    try:
        root = build_fixture(base)
        log = os.path.join(base, "access.log")
        ENV.update(base=base, root=root, log=log)
        common = ["-p", "0", "-r", root, "-t", str(IDLE), "-T", str(HEADT), "-g", str(GRACE)]
        main_srv = Server("main", ["-a", "127.0.0.1", "-l", log] + common, base)
        servers.append(main_srv)
        ok = main_srv.start()
        emit(("ok" if ok else "not ok") + " - server starts and prints its port")
        if not ok:
            emit("# " + esc(main_srv.error or main_srv.stderr_text(), 500))
            return
        ENV["main"] = main_srv
        ENV["port"] = main_srv.port
        lim = Server("limits", ["-a", "127.0.0.1", "-l", "-", "-b", "1000"] + common, base)
        servers.append(lim)
        if lim.start():
            ENV["port_b"] = lim.port
        if os.geteuid() != 0:
            ENV["nobody_skip"] = "not root (setpriv cannot change the uid)"
        elif not ht.have("setpriv"):
            ENV["nobody_skip"] = "setpriv not installed (apt-get install util-linux)"
        else:
            nob = Server("nobody", ["-a", "127.0.0.1", "-l", "-"] + common, base,
                         wrapper=["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            servers.append(nob)
            if nob.start():
                ENV["port_nobody"] = nob.port
            else:
                ENV["nobody_err"] = esc(nob.error or nob.stderr_text(), 300)
        have6 = False
        try:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s6.bind(("::1", 0))
            s6.close()
            have6 = True
        except OSError:
            pass
        if have6:
            v6 = Server("v6", ["-a", "::1", "-l", "-"] + common, base)
            servers.append(v6)
            ENV["port6"] = v6.port if v6.start() else 0
            if not ENV["port6"]:
                ENV["v6_err"] = esc(v6.stderr_text(), 300)
        run_cases(CASES)
        rec = Rec("access_log")
        try:
            t_access_log(rec)
        except Exception as e:
            rec.ok(False, "access log checks ran (%s)" % e, traceback.format_exc())
        rec.flush()
        with _bodies_lock:
            leaked = [b for b in ALL_BODIES if PASSWD in b]
        emit(("ok" if ALL_BODIES and not leaked else "not ok") +
             " - no response ever contained /etc/passwd content (%d responses)" % len(ALL_BODIES))
        if ENV.get("port_b"):
            rec = Rec("graceful")
            try:
                t_graceful(rec, lim)
            except Exception as e:
                rec.ok(False, "graceful shutdown checks ran (%s)" % e, traceback.format_exc())
            rec.flush()
        alive = main_srv.proc.poll() is None
        emit(("ok" if alive else "not ok") + " - main server still running after all tests")
    except Exception as e:
        emit("not ok - test harness ran without exception (%s: %s)" % (type(e).__name__, e))
        for l in traceback.format_exc().splitlines():
            emit("# " + l)
    finally:
        for s in servers:
            s.signal_term()
        until = time.monotonic() + GRACE + 2
        for s in servers:
            t1 = time.monotonic()
            rc = s.stop(until=until)
            if s is servers[0]:
                emit(("ok" if rc == 0 else "not ok") + " - SIGTERM: %s server exits 0 (rc=%s, %.1fs)"
                     % (s.name, rc, time.monotonic() - t1))
            elif rc != 0:
                emit("# %s server exit status on SIGTERM: %s" % (s.name, rc))
        with _procs_lock:
            for p in CHILD_PROCS:
                if p.poll() is None:
                    p.kill()
                    try:
                        p.wait(timeout=2)
                    except subprocess.TimeoutExpired:
                        pass
        try:
            subprocess.run(["rm", "-rf", base], timeout=10)
        except Exception:
            pass
    ht.finish("e2e", T0)


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.stdout.flush()
        os._exit(0)
