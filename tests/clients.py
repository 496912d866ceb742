#!/usr/bin/env python3
"""tests/clients.py -- the clients a user brings, against the server unmodified.

Parts (CLIENTS_ONLY=name,name runs only those: a development aid)
  chromium   headless Chromium (Debian's chromium, as root: --no-sandbox, a
             fresh --user-data-dir and HOME each run) loads a page with a
             style sheet, a script, 12 images and a CSS background image:
             the access log has every subresource answered 200; the script
             ran (--dump-dom shows the DOM it changed, and the image it
             added was fetched); Chromium's net log shows several
             connections and requests on reused ones, and the server's
             status page more requests than connections.  A screenshot
             (--screenshot, --window-size=800,600) is a valid PNG of 800x600
             (decoded here with zlib and struct: every CRC, every filter)
             with the page's background colour over most of it and each
             image's colour in its 40x30 pixels.  A video (VP8 WebM made with
             vpxenc from frames written here, 30 s) opened at #t=25: Chromium
             asks for ranges (the net log: Range: bytes=N-M with N > 0, each
             answered 206 with the matching Content-Range), the access log
             shows the 206s, and the frame at 25 s is decoded (loadeddata at
             currentTime 25).
  wget       `wget -m` of a small site (pages linking each other, a
             subdirectory two deep, an image in a page, one only in the CSS,
             robots.txt, a page nothing links to, a link to another host):
             every linked file mirrored byte-exact with its Last-Modified as
             mtime, nothing else (the orphan page is not fetched, the other
             host -- a second server on 127.0.0.2 -- gets no request, every
             request in the log is for a file of the site and answered 200);
             a second `wget -m` is answered 304 and changes nothing.
  ab         ab -n 2000 -c 16, without and with -k: 2000 complete, zero
             failed, zero non-2xx; with -k all 2000 kept alive; the access
             log has the 2000 lines each.
  wrk        wrk -t2 -c32 -d3s: zero socket errors, zero non-2xx, the log
             holds what wrk counted; and against -n 100 (each connection
             closed with Connection: close after 100 requests): still zero
             errors, and the status page counts about one connection per 100
             requests.
  curl       --http1.0: 200 with Connection: close, closed; -0 with
             Connection: keep-alive: both responses say keep-alive and the
             second request reuses the connection (status page: one
             connection, two requests); --http1.0 -I: the head with the
             Content-Length and no body; --http1.0 -r: 206 and the bytes;
             HTTP/1.1: reused without a Connection field; -0 keep-alive
             against -n 2: the second response says close and the third
             request opens a new connection.

A part whose client is not installed is SKIPPED (a failure with CI=true).
Server binary: $HTTPD.  Each client run is bounded (timeout, then SIGKILL of
its process group, which it was started in).  A watchdog kills what the file
started if it runs past BUDGET seconds.
"""
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpdtest as ht  # noqa: E402
from httpdtest import ok, diag, skip, wait_for, Server  # noqa: E402

HTTPD = ht.binary("HTTPD", "httpd")
HOST = "127.0.0.1"
OTHER = "127.0.0.2"             # the other host of the wget part (loopback too)
BUDGET = 200.0                  # whole file; plain ~30 s, ASan 2-3x
SAN = bool(os.environ.get("ASAN_OPTIONS") or os.environ.get("UBSAN_OPTIONS"))
SLOW = 2.5 if SAN else 1.0
# Under ASan a child takes long to exit (LeakSanitizer's scan), and the children
# of closed connections still count against the per-address cap (-C, 128 here):
# ab without -k had 38 live children from one address where the plain build
# has 6, and once 88 of its requests were answered 503.  The load parts lift
# the cap there.
LOAD_ARGS = ["-C", "0"] if SAN else []
ONLY = [x for x in os.environ.get("CLIENTS_ONLY", "").split(",") if x]
WORK = None
_procs = []                     # Popen objects of the clients (own process groups)
_procs_lock = threading.Lock()

LOG_RE = re.compile(r'^\S+ \S+ \S+ \[[^\]]+\] "(\S+) (\S+) (HTTP/1\.[01])" (\d{3}) (\d+|-)')


# ---------------------------------------------------------------- helpers

def writef(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def readf(path, mode="rb"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return b"" if "b" in mode else ""


def mkdir(path):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o755)
    return path


def tree_modes(root):
    """Directories 755, files 644: the server drops to nobody as root."""
    for d, dirs, files in os.walk(root):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)


def run(argv, timeout, env=None, cwd=None, stdout=None):
    """Runs a client in its own process group; on timeout SIGKILLs the group.
    -> (rc or "timeout", stdout bytes, stderr bytes)."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=stdout if stdout is not None else subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, cwd=cwd, start_new_session=True)
    with _procs_lock:
        _procs.append(p)
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, err = p.communicate()
        rc = "timeout"
    kill_group(p)                   # whatever it left in its group (renderers, helpers)
    return rc, out or b"", err or b""


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    if p.poll() is None:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass


def kill_everything():
    ht.kill_all()
    with _procs_lock:
        procs = list(_procs)
    for p in procs:
        kill_group(p)


def log_lines(path, start=0):
    """[(method, path, version, status, size)] of the access log from byte `start`."""
    res = []
    for line in readf(path, "r")[start:].splitlines():
        m = LOG_RE.match(line)
        if m:
            res.append((m.group(1), m.group(2), m.group(3), int(m.group(4)), m.group(5)))
    return res


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def status_page(port):
    """The server's counters ({name: value}) from --status /status."""
    try:
        with urllib.request.urlopen("http://%s:%d/status" % (HOST, port), timeout=5) as r:
            text = r.read().decode()
    except OSError as e:
        return {"error": str(e)}
    res = {}
    for line in text.splitlines():
        m = re.match(r"^httpd_(\w+) (\d+)$", line)
        if m:
            res[m.group(1)] = int(m.group(2))
    return res


def grew(st0, st1, name):
    """How much a counter of the status page grew between two reads, less the
    second read's own connection or request."""
    return st1.get(name, 0) - st0.get(name, 0) - 1


def server(root, log, *args, addr=HOST, name="clients"):
    srv = Server([HTTPD, "-a", addr, "-p", "0", "-r", root, "-l", log, "--status", "/status",
                  "-g", "2"] + list(args), name=name, errdir=WORK)
    if not srv.start(timeout=5.0 * SLOW):
        raise RuntimeError(srv.error)
    return srv


def png_encode(w, h, rgb):
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_decode(data):
    """-> (width, height, channels, [row bytes]) of an 8-bit RGB/RGBA PNG,
    non-interlaced; raises ValueError on anything else or a bad CRC."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("no PNG signature")
    pos, idat, ihdr, seen_end = 8, [], None, False
    while pos + 12 <= len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        t, d = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(t + d) != crc:
            raise ValueError("bad CRC in chunk %r" % t)
        if t == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", d)
        elif t == b"IDAT":
            idat.append(d)
        elif t == b"IEND":
            seen_end = True
            break
        pos += 12 + n
    if ihdr is None or not idat or not seen_end:
        raise ValueError("IHDR, IDAT or IEND missing")
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        raise ValueError("unsupported PNG: depth %d colour type %d interlace %d"
                         % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        raise ValueError("image data of %d bytes, not %d" % (len(raw), h * (stride + 1)))
    rows, prev = [], bytearray(stride)
    for y in range(h):
        i = y * (stride + 1)
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            for x in range(stride):
                line[x] = (line[x] + prev[x]) & 255
        elif f == 3:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((a + prev[x]) >> 1)) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif f != 0:
            raise ValueError("bad filter type %d in row %d" % (f, y))
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def colour_counts(rows, bpp):
    counts = {}
    for r in rows:
        if bpp == 3:
            px = [r[i:i + 3] for i in range(0, len(r), 3)]
        else:
            px = [r[i:i + 3] for i in range(0, len(r), 4)]
        for p in px:
            counts[p] = counts.get(p, 0) + 1
    return counts


# ---------------------------------------------------------------- chromium

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
BG = (0x12, 0x34, 0x56)         # body background (style.css)
H1 = (0xfe, 0xdc, 0xba)         # heading colour
TILE = (10, 200, 10)            # img/tile.png, only referenced from the CSS
IMG_COLOURS = [(200, 10 + 15 * i, 40 + 9 * i) for i in range(12)]
DYN = (250, 250, 20)            # the image the script adds


def chromium(url, d, tag, extra):
    """One headless run with a fresh profile; -> (rc, stdout, stderr, netlog path)."""
    prof = mkdir(os.path.join(d, "profile-" + tag))
    home = mkdir(os.path.join(d, "home-" + tag))
    netlog = os.path.join(d, "netlog-%s.json" % tag)
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"))
    argv = (["chromium"] + CHROMIUM_FLAGS + ["--user-data-dir=" + prof,
                                             "--log-net-log=" + netlog] + extra + [url])
    rc, out, err = run(argv, 60.0 * SLOW, env=env)
    return rc, out, err, netlog


def netlog_requests(path):
    """Chromium's net log -> ([{request, headers, status, resp_headers}], connects, reuses)."""
    with open(path) as f:
        d = json.load(f)
    types = {v: k for k, v in d["constants"]["logEventTypes"].items()}
    reqs, connects, reuses = {}, 0, 0
    order = []
    for e in d["events"]:
        t = types.get(e["type"], "")
        p = e.get("params") or {}
        sid = e.get("source", {}).get("id")
        if t == "HTTP_TRANSACTION_SEND_REQUEST_HEADERS":
            r = {"request": p.get("line", "").strip(), "headers": p.get("headers", []),
                 "status": None, "resp_headers": []}
            reqs.setdefault(sid, []).append(r)
            order.append(r)
        elif t == "HTTP_TRANSACTION_READ_RESPONSE_HEADERS":
            h = p.get("headers", [])
            if reqs.get(sid):
                r = reqs[sid][-1]
                r["resp_headers"] = h[1:]
                m = re.match(r"HTTP/1\.[01] (\d{3})", h[0] if h else "")
                r["status"] = int(m.group(1)) if m else None
        elif t == "TCP_CONNECT" and e.get("phase") == 1:
            connects += 1
        elif t == "SOCKET_POOL_REUSED_AN_EXISTING_SOCKET":
            reuses += 1
    return order, connects, reuses


def hdr(headers, name):
    for h in headers:
        k, _, v = h.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def make_page_site(root):
    imgs = "".join('<img src="img/c%d.png" width="40" height="30" alt="">' % i for i in range(12))
    writef(os.path.join(root, "index.html"), (
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>clients</title>\n'
        '<link rel="stylesheet" href="css/style.css">\n'
        '<script src="js/app.js" defer></script></head>\n'
        '<body><h1 id="title">before the script</h1>\n'
        '<div id="imgs">%s</div>\n<div class="tile"></div>\n'
        '<p id="static">static text</p></body></html>\n' % imgs).encode())
    writef(os.path.join(root, "css/style.css"), (
        "body { background: #123456; margin: 0; font-family: sans-serif; }\n"
        "h1 { color: #fedcba; margin: 0; height: 60px; }\n"
        "#imgs { line-height: 0; font-size: 0; height: 30px; }\n"
        "img { display: inline-block; margin-right: 10px; }\n"
        ".tile { width: 100px; height: 50px; margin-top: 20px;"
        " background-image: url(../img/tile.png); }\n").encode())
    writef(os.path.join(root, "js/app.js"), (
        "var t = document.getElementById('title');\n"
        "t.textContent = 'the script ran';\n"
        "var p = document.createElement('p');\n"
        "p.id = 'by-script'; p.textContent = 'added by app.js';\n"
        "document.body.appendChild(p);\n"
        "var i = document.createElement('img');\n"
        "i.src = 'img/dyn.png'; i.width = 40; i.height = 30; i.id = 'dyn';\n"
        "document.body.appendChild(i);\n").encode())
    for i, c in enumerate(IMG_COLOURS):
        writef(os.path.join(root, "img/c%d.png" % i), png_encode(40, 30, c))
    writef(os.path.join(root, "img/tile.png"), png_encode(10, 10, TILE))
    writef(os.path.join(root, "img/dyn.png"), png_encode(40, 30, DYN))
    writef(os.path.join(root, "favicon.ico"), png_encode(16, 16, (1, 2, 3)))
    return (["/", "/css/style.css", "/js/app.js", "/img/tile.png", "/img/dyn.png"]
            + ["/img/c%d.png" % i for i in range(12)])


def make_video(root, d):
    """A 30 s VP8 WebM (160x120, 10 frames/s, noise so it is ~4 MB) -> size or None."""
    if not ht.have("vpxenc"):
        return None
    w, h, fps, n = 160, 120, 10, 300
    rnd = random.Random(20261201)
    y4m = os.path.join(d, "v.y4m")
    with open(y4m, "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n" % (w, h, fps))
        for i in range(n):
            f.write(b"FRAME\n")
            f.write(rnd.randbytes(w * h))
            f.write(bytes([128 + i % 50]) * (w * h // 4))
            f.write(bytes([128]) * (w * h // 4))
    out = os.path.join(root, "media/v.webm")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    rc, _, err = run(["vpxenc", "--quiet", "--codec=vp8", "--good", "--cpu-used=16",
                      "--target-bitrate=3000", "--kf-max-dist=10", "-o", out, y4m], 60.0)
    os.unlink(y4m)
    if rc != 0 or not os.path.exists(out):
        diag("vpxenc failed (%r): %s" % (rc, err[-300:]))
        return None
    os.chmod(out, 0o644)
    writef(os.path.join(root, "video.html"), (
        '<!doctype html>\n<html><body>\n'
        '<video id="v" src="media/v.webm#t=25" preload="metadata" muted width="160" height="120">'
        '</video>\n<script>\n'
        'var v = document.getElementById("v");\n'
        'function note(id, text) { var p = document.createElement("p"); p.id = id;'
        ' p.textContent = text; document.body.appendChild(p); }\n'
        'v.addEventListener("loadedmetadata", function () {'
        ' note("meta", "duration " + v.duration); });\n'
        'v.addEventListener("loadeddata", function () { note("data", "at " + v.currentTime); });\n'
        'v.addEventListener("error", function () { note("error", "error " +'
        ' (v.error && v.error.code)); });\n'
        '</script></body></html>\n').encode())
    return os.path.getsize(out)


def p_chromium():
    if not ht.have("chromium"):
        skip("chromium (page, screenshot, video)", "chromium not installed (tests/deps.txt)")
        return
    d = mkdir(os.path.join(WORK, "chromium"))
    root = mkdir(os.path.join(d, "www"))
    wanted = make_page_site(root)
    vsize = make_video(root, d)
    tree_modes(root)
    log = os.path.join(d, "access.log")
    srv = server(root, log, name="chromium")
    try:
        base = "http://%s:%d/" % (HOST, srv.port)
        # 1. the page and its subresources; the DOM after the script
        st0 = status_page(srv.port)
        mark = log_size(log)
        rc, out, err, netlog = chromium(base, d, "dom", ["--dump-dom"])
        st1 = status_page(srv.port)
        dom = out.decode("utf-8", "replace")
        ok(rc == 0 and "</html>" in dom, "chromium --dump-dom %s: exit 0, a DOM printed" % base,
           "rc %r; %s" % (rc, err.decode("latin-1")[-600:]))
        ok('the script ran</h1>' in dom and 'id="by-script"' in dom and 'id="dyn"' in dom,
           "chromium: the script ran (the DOM has the heading it changed and the elements it "
           "added)", dom[-600:])
        lines = log_lines(log, mark)
        got = {}
        for m, path, v, status, size in lines:
            got.setdefault(path, []).append(status)
        missing = [p for p in wanted if 200 not in got.get(p, [])]
        ok(not missing, "chromium: the access log has the page and its %d subresources (CSS, "
           "script, 12 images, the CSS background, the image the script added) answered 200"
           % (len(wanted) - 1), "missing or not 200: %s; log: %s" % (missing, got))
        bad = [(p, s) for p, ss in got.items() for s in ss if s != 200]
        ok(not bad, "chromium: every request of the page load was answered 200 (%d requests)"
           % len(lines), bad)
        try:
            reqs, connects, reuses = netlog_requests(netlog)
            why = None
        except (OSError, ValueError, KeyError) as e:
            reqs, connects, reuses, why = [], 0, 0, "net log: %s: %s" % (type(e).__name__, e)
        diag("chromium: net log: %d requests, %d TCP connections, %d reuses of an idle one; "
             "server: %s connections, %s requests"
             % (len(reqs), connects, reuses,
                grew(st0, st1, "connections_accepted_total"),
                grew(st0, st1, "requests_total")))
        ok(connects >= 2 and reuses >= 1 and all(r["status"] == 200 for r in reqs),
           "chromium: parallel keep-alive connections (net log: %d connections, %d requests on "
           "reused ones, every response 200)" % (connects, reuses),
           why or [(r["request"], r["status"]) for r in reqs])
        # the status page's own request is one connection and one request of st1
        nconn = grew(st0, st1, "connections_accepted_total")
        nreq = grew(st0, st1, "requests_total")
        ok(nconn >= 2 and nreq > nconn,
           "chromium: the server counted more requests (%d) than connections (%d), over 2 or more "
           "connections" % (nreq, nconn), (st0, st1))
        # 2. the screenshot
        shot = os.path.join(d, "shot.png")
        rc, out, err, _ = chromium(base, d, "shot", ["--screenshot=" + shot, "--window-size=800,600"])
        data = readf(shot)
        try:
            w, h, bpp, rows = png_decode(data)
            why = None
        except (ValueError, zlib.error) as e:
            w = h = bpp = 0
            rows, why = [], "%s (%d bytes)" % (e, len(data))
        ok(rc == 0 and why is None and (w, h) == (800, 600),
           "chromium --screenshot --window-size=800,600: a PNG that decodes (CRCs, filters), "
           "800x600 (%dx%d)" % (w, h), why or "rc %r; %s" % (rc, err.decode("latin-1")[-400:]))
        counts = colour_counts(rows, bpp) if rows else {}
        bg = counts.get(bytes(BG), 0)
        ok(bg > 800 * 600 // 2, "chromium: the screenshot has the background colour style.css sets "
           "(#123456) over most of it (%d of %d pixels)" % (bg, 800 * 600),
           sorted(counts.items(), key=lambda kv: -kv[1])[:5])
        imgs = {c: counts.get(bytes(c), 0) for c in IMG_COLOURS + [DYN]}
        ok(all(v >= 1000 for v in imgs.values()),
           "chromium: each of the 13 images is in the screenshot (40x30 pixels of its colour)",
           imgs)
        ok(counts.get(bytes(TILE), 0) >= 4500 and counts.get(bytes(H1), 0) > 100,
           "chromium: the CSS background image (100x50) and the heading colour are in it "
           "(%d, %d pixels)" % (counts.get(bytes(TILE), 0), counts.get(bytes(H1), 0)))
        # 3. the video, opened at 25 s
        if vsize is None:
            skip("chromium video (Range requests)", "vpxenc not installed (vpx-tools, "
                 "tests/deps.txt) or it failed")
            return
        mark = log_size(log)
        rc, out, err, netlog = chromium(base + "video.html", d, "video", ["--dump-dom"])
        dom = out.decode("utf-8", "replace")
        m = re.search(r'<p id="meta">duration ([\d.]+)</p>', dom)
        ok(rc == 0 and m and 29 < float(m.group(1)) < 31 and 'id="error"' not in dom,
           "chromium: the video's metadata loads (duration %s s, no media error)"
           % (m.group(1) if m else None), dom[-500:] + err.decode("latin-1")[-300:])
        ok('<p id="data">at 25</p>' in dom, "chromium: the frame at #t=25 is decoded (loadeddata "
           "at currentTime 25)", dom[-400:])
        lines = [l for l in log_lines(log, mark) if l[1] == "/media/v.webm"]
        s206 = [l for l in lines if l[3] == 206]
        ok(len(s206) >= 2 and all(l[3] in (206, 200, 304) for l in lines),
           "chromium: the access log shows the video served in ranges (%d responses 206 of %d)"
           % (len(s206), len(lines)), lines)
        try:
            reqs, _, _ = netlog_requests(netlog)
            why = None
        except (OSError, ValueError, KeyError) as e:
            reqs, why = [], "%s: %s" % (type(e).__name__, e)
        seeks, wrong = [], []
        for r in reqs:
            if "/media/v.webm" not in r["request"]:
                continue
            rg = hdr(r["headers"], "Range")
            mr = re.match(r"bytes=(\d+)-(\d*)$", rg or "")
            if not mr:
                continue
            if r["status"] == 304:
                continue                      # a cached range revalidated
            first = int(mr.group(1))
            last = int(mr.group(2)) if mr.group(2) else vsize - 1
            want = "bytes %d-%d/%d" % (first, min(last, vsize - 1), vsize)
            cr = hdr(r["resp_headers"], "Content-Range")
            if r["status"] != 206 or cr != want:
                wrong.append((rg, r["status"], cr, want))
            elif first > 0:
                seeks.append(rg)
        diag("chromium: video ranges asked: %s" % [hdr(r["headers"], "Range") for r in reqs
                                                   if "/media/v.webm" in r["request"]])
        ok(seeks and not wrong, "chromium: the seek asks for ranges past the start (%s), each "
           "answered 206 with the matching Content-Range" % ", ".join(seeks),
           why or wrong or "no Range: bytes=N- with N > 0")
    finally:
        srv.stop()


# ---------------------------------------------------------------- wget

SITE = {
    "index.html": b'<!doctype html><title>home</title>\n<link rel="stylesheet" href="style.css">\n'
                  b'<p><a href="a.html">a</a> <a href="sub/">sub</a> <a href="sub/b.html">b</a>\n'
                  b'<img src="img/logo.png" alt="logo">\n'
                  b'<a href="http://%(other)s/elsewhere.html">elsewhere</a>\n'
                  b'<a href="mailto:nobody@example.invalid">mail</a></p>\n',
    "a.html": b'<!doctype html><title>a</title><p><a href="index.html">home</a>'
              b' <a href="./sub/b.html">b</a> <a href="#top">top</a></p>\n',
    "sub/index.html": b'<!doctype html><title>sub</title><p><a href="../index.html">home</a>'
                      b' <a href="b.html">b</a> <a href="c.txt">c</a></p>\n',
    "sub/b.html": b'<!doctype html><title>b</title><p><a href="../a.html">a</a>'
                  b' <img src="../img/logo.png" alt=""> <a href="deeper/d.html">d</a></p>\n',
    "sub/c.txt": b"plain text in the subdirectory\n" * 20,
    "sub/deeper/d.html": b'<!doctype html><title>d</title><p><a href="../../index.html">home</a>'
                         b' <a href="/sub/">sub</a></p>\n',
    "style.css": b"body { background: url(img/bg.png); }\n",
    "img/logo.png": None,           # filled in: a PNG
    "img/bg.png": None,
    "robots.txt": b"User-agent: *\nDisallow:\n",
}
ORPHAN = "orphan.html"              # in the root, linked from nowhere


def p_wget():
    if not ht.have("wget"):
        skip("wget -m (mirror)", "wget not installed (tests/deps.txt)")
        return
    d = mkdir(os.path.join(WORK, "wget"))
    root = mkdir(os.path.join(d, "www"))
    oroot = mkdir(os.path.join(d, "other"))
    writef(os.path.join(oroot, "elsewhere.html"), b"another host\n")
    log, olog = os.path.join(d, "access.log"), os.path.join(d, "other.log")
    other = None
    try:
        other = server(oroot, olog, addr=OTHER, name="wget-other")
    except RuntimeError as e:
        diag("wget: no second server on %s (%s): the other-host link points nowhere" % (OTHER, e))
    files = {}
    for name, data in SITE.items():
        if data is None:
            data = png_encode(24, 8, (9, 99, 199) if "logo" in name else (77, 7, 177))
        elif other is not None:
            data = data.replace(b"%(other)s", b"%s:%d" % (OTHER.encode(), other.port))
        else:
            data = data.replace(b"%(other)s", b"%s:9" % OTHER.encode())
        files[name] = data
        writef(os.path.join(root, name), data)
    writef(os.path.join(root, ORPHAN), b"nobody links here\n")
    writef(os.path.join(d, "outside.txt"), b"outside the root\n")
    tree_modes(root)
    # distinct, whole-second mtimes: the mirror must take them over
    for i, name in enumerate(sorted(files)):
        t = 1700000000 + 3600 * i
        os.utime(os.path.join(root, name), (t, t))
    srv = server(root, log, name="wget")
    try:
        mirror = mkdir(os.path.join(d, "mirror"))
        home = mkdir(os.path.join(d, "home"))
        env = dict(os.environ, HOME=home)
        url = "http://%s:%d/" % (HOST, srv.port)
        rc, out, err = run(["wget", "-m", "-nv", "-e", "robots=on", "-P", mirror, url],
                           60.0 * SLOW, env=env)
        ok(rc == 0, "wget -m %s: exit 0" % url, "rc %r; %s" % (rc, err.decode("latin-1")[-800:]))
        hostdir = "%s:%d" % (HOST, srv.port)
        found = set()
        for dd, _, fs in os.walk(mirror):
            for f in fs:
                found.add(os.path.relpath(os.path.join(dd, f), mirror))
        want = {os.path.join(hostdir, n) for n in files}
        ok(found == want, "wget -m: the mirror holds exactly the %d files of the site (pages, "
           "subdirectories, images, the CSS's image, robots.txt)" % len(want),
           "missing %s; extra %s" % (sorted(want - found), sorted(found - want)))
        differ = [n for n in files
                  if readf(os.path.join(mirror, hostdir, n)) != files[n]]
        ok(not differ and found == want, "wget -m: every mirrored file is byte-exact", differ)
        mt = [n for n in files if os.path.exists(os.path.join(mirror, hostdir, n)) and
              int(os.stat(os.path.join(mirror, hostdir, n)).st_mtime) !=
              int(os.stat(os.path.join(root, n)).st_mtime)]
        ok(not mt, "wget -m: every file has the source's mtime (from Last-Modified)", mt)
        lines = log_lines(log)
        paths = {l[1] for l in lines}
        allowed = {"/" + n for n in files} | {"/", "/sub/"}
        # "/" was saved as index.html, so the link to /index.html is asked for
        # with If-Modified-Since (wget -m is -N): 304 is the right answer there
        bad = [l for l in lines if l[1] not in allowed or
               not (l[3] == 200 or (l[3] == 304 and l[1] == "/index.html"))]
        ok(not bad and "/" + ORPHAN not in paths,
           "wget -m: every request was for a file of the site and answered 200 (%d requests; "
           "the orphan page not asked for)" % len(lines), bad)
        if other is not None:
            ok(log_lines(olog) == [], "wget -m: the link to another host (%s) is not followed "
               "(that server got no request)" % OTHER, log_lines(olog))
        # 2. again: the start page is answered 304 (wget then stops there: it
        # does not read links from a page it did not download -- nginx's 304
        # makes it stop the same way)
        before = {n: readf(os.path.join(mirror, hostdir, n)) for n in files}
        mark = log_size(log)
        rc, out, err = run(["wget", "-m", "-nv", "-P", mirror, url], 60.0 * SLOW, env=env)
        again = log_lines(log, mark)
        after = {n: readf(os.path.join(mirror, hostdir, n)) for n in files}
        ok(rc == 0 and again[:1] == [("GET", "/", "HTTP/1.1", 304, "-")] and before == after,
           "wget -m again: If-Modified-Since on the start page is answered 304 Not Modified, "
           "the mirror unchanged", "rc %r; %s" % (rc, again))
        # 3. with HEAD requests instead (--no-if-modified-since): every file is
        # compared by its Last-Modified and size, and nothing is downloaded
        mark = log_size(log)
        wget_head = ["wget", "-m", "-nv", "--no-if-modified-since", "-P", mirror, url]
        rc, out, err = run(wget_head, 60.0 * SLOW, env=env)
        again = log_lines(log, mark)
        heads_ = {l[1] for l in again if l[0] == "HEAD" and l[3] == 200}
        gets = [l[1] for l in again if l[0] == "GET"]
        after = {n: readf(os.path.join(mirror, hostdir, n)) for n in files}
        want_heads = {"/" + n for n in files if n not in ("robots.txt", "sub/index.html")}
        ok(rc == 0 and want_heads <= heads_ and gets in ([], ["/robots.txt"]) and before == after,
           "wget -m --no-if-modified-since: a HEAD for every file of the site (%d), no download "
           "but robots.txt, the mirror unchanged" % len(heads_),
           "rc %r; missing HEADs %s; GETs %s" % (rc, sorted(want_heads - heads_), gets))
        # 4. one page changes (new content, newer mtime): only it is fetched again
        files["a.html"] = files["a.html"].replace(b"<title>a</title>", b"<title>a, changed</title>")
        writef(os.path.join(root, "a.html"), files["a.html"])
        os.utime(os.path.join(root, "a.html"), (1800000000, 1800000000))
        mark = log_size(log)
        rc, out, err = run(wget_head, 60.0 * SLOW, env=env)
        gets = [l[1] for l in log_lines(log, mark) if l[0] == "GET"]
        got = readf(os.path.join(mirror, hostdir, "a.html"))
        ok(rc == 0 and [g for g in gets if g != "/robots.txt"] == ["/a.html"] and
           got == files["a.html"] and
           int(os.stat(os.path.join(mirror, hostdir, "a.html")).st_mtime) == 1800000000,
           "wget -m after a change: only the changed page is downloaded again, byte-exact, "
           "with its new mtime", "rc %r; GETs %s" % (rc, gets))
    finally:
        srv.stop()
        if other:
            other.stop()


# ---------------------------------------------------------------- ab, wrk

PAGE = b"<!doctype html><title>bench</title>\n" + b"0123456789abcdef" * 64


def bench_root(tag):
    d = mkdir(os.path.join(WORK, tag))
    root = mkdir(os.path.join(d, "www"))
    writef(os.path.join(root, "page.html"), PAGE)
    writef(os.path.join(root, "index.html"), b"index\n")
    return d, root


def ab_figures(out):
    def num(rx):
        m = re.search(rx, out, re.M)
        return int(m.group(1)) if m else None
    return {"complete": num(r"^Complete requests:\s+(\d+)"),
            "failed": num(r"^Failed requests:\s+(\d+)"),
            "non2xx": num(r"^Non-2xx responses:\s+(\d+)") or 0,
            "keepalive": num(r"^Keep-Alive requests:\s+(\d+)"),
            "length": len(PAGE) if num(r"^Document Length:\s+(\d+)") == len(PAGE) else None}


def p_ab():
    if not ht.have("ab"):
        skip("ab -n 2000 -c 16 (with and without -k)", "ab not installed (apache2-utils, "
             "tests/deps.txt)")
        return
    d, root = bench_root("ab")
    log = os.path.join(d, "access.log")
    srv = server(root, log, *LOAD_ARGS, name="ab")
    try:
        url = "http://%s:%d/page.html" % (HOST, srv.port)
        for keep in (False, True):
            mark = log_size(log)
            st0 = status_page(srv.port)
            t = time.monotonic()
            rc, out, err = run(["ab", "-n", "2000", "-c", "16"] + (["-k"] if keep else []) + [url],
                               60.0 * SLOW)
            took = time.monotonic() - t
            st1 = status_page(srv.port)
            text = out.decode("latin-1")
            f = ab_figures(text)
            tag = "ab -n 2000 -c 16%s" % (" -k" if keep else "")
            conns = grew(st0, st1, "connections_accepted_total")
            busy = {k: grew(st0, st1, k) + 1 for k in st1 if k.startswith("busy_")}
            diag("%s: %.2f s, %s; server: %d connections, 503s %s" % (tag, took, f, conns, busy))
            ok(rc == 0 and f["complete"] == 2000 and f["failed"] == 0 and f["non2xx"] == 0
               and f["length"], "%s: 2000 complete, 0 failed, 0 non-2xx, the document's length"
               % tag, "rc %r; %s %s" % (rc, text[-900:], err.decode("latin-1")[-300:]))
            if keep:
                ok(f["keepalive"] == 2000 and conns <= 32,
                   "%s: all 2000 requests kept alive (ab: %s; the server accepted %d connections)"
                   % (tag, f["keepalive"], conns))
            else:
                # ab may open a few connections at the end that it never uses
                ok(2000 <= conns <= 2000 + 16, "%s: one connection per request (the server "
                   "accepted %d)" % (tag, conns))
            lines = [l for l in log_lines(log, mark) if l[1] == "/page.html"]
            ok(len(lines) == 2000 and all(l[3] == 200 and l[2] == "HTTP/1.0" for l in lines),
               "%s: the access log has 2000 lines, each HTTP/1.0 200" % tag,
               "%d lines; %s" % (len(lines), [l for l in lines if l[3] != 200][:5]))
    finally:
        srv.stop()


def parse_wrk(out):
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    nx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (int(m.group(1)) if m else None,
            tuple(int(x) for x in se.groups()) if se else (0, 0, 0, 0),
            int(nx.group(1)) if nx else 0)


def p_wrk():
    if not ht.have("wrk"):
        skip("wrk keep-alive", "wrk not installed (tests/deps.txt)")
        return
    d, root = bench_root("wrk")
    for label, extra, argv in (("wrk -t2 -c32 -d3s", [], ["-t2", "-c32", "-d3s"]),
                               ("wrk -t1 -c8 -d2s against -n 100", ["-n", "100"],
                                ["-t1", "-c8", "-d2s"])):
        log = os.path.join(d, "access-%d.log" % len(extra))
        srv = server(root, log, *(extra + LOAD_ARGS), name="wrk")
        try:
            url = "http://%s:%d/page.html" % (HOST, srv.port)
            st0 = status_page(srv.port)
            rc, out, err = run(["wrk"] + argv + ["--timeout", "5s", url], 30.0)
            text = out.decode("latin-1")
            n, sock, non2xx = parse_wrk(text)
            # wrk stops with requests in flight: they are served and logged
            wait_for(lambda: len(log_lines(log)) >= (n or 0), 3.0)
            st1 = status_page(srv.port)
            conns = grew(st0, st1, "connections_accepted_total")
            logged = [l for l in log_lines(log) if l[1] == "/page.html"]
            diag("%s: %s requests, socket errors %s, non-2xx %d; server: %d connections, %d "
                 "logged" % (label, n, sock, non2xx, conns, len(logged)))
            ok(rc == 0 and n and n > 1000, "%s: ran (%s requests)" % (label, n), text[-600:])
            ok(sock == (0, 0, 0, 0) and non2xx == 0, "%s: zero socket errors (%s), zero non-2xx "
               "(%d)" % (label, sock, non2xx), text[-600:])
            ok(n and n <= len(logged) <= n + 40 and all(l[3] == 200 for l in logged),
               "%s: the access log holds what wrk counted, all 200 (%d logged, %s counted)"
               % (label, len(logged), n))
            if extra:
                ok(n and len(logged) / 100.0 <= conns <= len(logged) / 100.0 + 8 + 1,
                   "%s: each connection served its 100 requests and was closed (%d connections "
                   "for %d requests)" % (label, conns, len(logged)))
            else:
                # -n 1000 (the default): a connection is renewed every 1000 requests
                ok(conns <= len(logged) / 1000.0 + 32 + 2,
                   "%s: keep-alive: 32 connections, each renewed after its 1000 requests (%d "
                   "accepted for %d requests)" % (label, conns, len(logged)))
        finally:
            srv.stop()


# ---------------------------------------------------------------- curl

def curl(args, timeout=20.0):
    return run(["curl", "-sS", "-v", "--max-time", "10"] + args, timeout)


def heads(err):
    """curl -v's stderr -> (request lines, response head lines, info lines)."""
    text = err.decode("latin-1").replace("\r", "")
    return ([l[2:] for l in text.splitlines() if l.startswith("> ")],
            [l[2:] for l in text.splitlines() if l.startswith("< ")],
            [l[2:] for l in text.splitlines() if l.startswith("* ")])


def p_curl():
    if not ht.have("curl"):
        skip("curl --http1.0", "curl not installed (tests/deps.txt)")
        return
    d, root = bench_root("curl")
    body = PAGE
    two = b"second file\n"
    writef(os.path.join(root, "two.txt"), two)
    log = os.path.join(d, "access.log")
    srv = server(root, log, name="curl")
    lim = None
    try:
        u = "http://%s:%d" % (HOST, srv.port)
        # 1. plain HTTP/1.0: answered, then closed
        st0 = status_page(srv.port)
        rc, out, err = curl(["--http1.0", u + "/page.html"])
        req, resp, info = heads(err)
        ok(rc == 0 and out == body and req and req[0] == "GET /page.html HTTP/1.0",
           "curl --http1.0: the body, asked for as HTTP/1.0", (rc, err[-500:]))
        ok(resp and re.match(r"HTTP/1\.1 200 ", resp[0]) and "Connection: close" in resp and
           "Content-Length: %d" % len(body) in resp and any("Closing connection" in l for l in info),
           "curl --http1.0: 200 with Content-Length and Connection: close, and the connection "
           "closed", resp + info[-3:])
        # 2. HTTP/1.0 keep-alive: both answers keep it, the second request reuses it
        o1, o2 = os.path.join(d, "o1"), os.path.join(d, "o2")
        st0 = status_page(srv.port)
        rc, out, err = curl(["-0", "-H", "Connection: keep-alive", u + "/page.html", "-o", o1,
                             u + "/two.txt", "-o", o2])
        st1 = status_page(srv.port)
        req, resp, info = heads(err)
        conns = grew(st0, st1, "connections_accepted_total")
        nreq = grew(st0, st1, "requests_total")
        ok(rc == 0 and readf(o1) == body and readf(o2) == two,
           "curl -0 -H 'Connection: keep-alive' URL URL: both bodies", (rc, err[-500:]))
        ok(resp.count("Connection: keep-alive") == 2 and
           any("Re-using existing connection" in l for l in info) and (conns, nreq) == (1, 2),
           "curl -0 keep-alive: both responses say Connection: keep-alive, the second request "
           "reuses the connection (server: %d connection, %d requests)" % (conns, nreq),
           resp + info)
        # 3. HEAD in 1.0
        rc, out, err = curl(["--http1.0", "-I", u + "/page.html"])
        ok(rc == 0 and re.match(rb"HTTP/1\.1 200 ", out) and
           b"Content-Length: %d\r\n" % len(body) in out and out.endswith(b"\r\n\r\n"),
           "curl --http1.0 -I: 200, the Content-Length of the file, no body", out[-300:])
        # 4. a range in 1.0
        rc, out, err = curl(["--http1.0", "-r", "10-19", u + "/page.html"])
        req, resp, info = heads(err)
        ok(rc == 0 and out == body[10:20] and resp and resp[0].startswith("HTTP/1.1 206 ") and
           "Content-Range: bytes 10-19/%d" % len(body) in resp,
           "curl --http1.0 -r 10-19: 206, Content-Range, the 10 bytes", (out, resp))
        # 5. HTTP/1.1: kept without a Connection field
        rc, out, err = curl([u + "/page.html", "-o", o1, u + "/two.txt", "-o", o2])
        req, resp, info = heads(err)
        ok(rc == 0 and readf(o1) == body and readf(o2) == two and
           any("Re-using existing connection" in l for l in info) and
           not any(l.lower().startswith("connection:") for l in resp),
           "curl (HTTP/1.1) URL URL: reused, no Connection field needed", resp + info)
        lines = log_lines(log)
        ok(any(l[2] == "HTTP/1.0" for l in lines) and all(l[3] in (200, 206) for l in lines),
           "curl: the access log has the HTTP/1.0 requests, each 200 or 206",
           [l for l in lines if l[3] not in (200, 206)])
        # 6. the request budget (-n 2) in HTTP/1.0 keep-alive
        lim = server(root, os.path.join(d, "lim.log"), "-n", "2", name="curl-n2")
        ul = "http://%s:%d" % (HOST, lim.port)
        rc, out, err = curl(["-0", "-H", "Connection: keep-alive", ul + "/page.html", "-o", o1,
                             ul + "/two.txt", "-o", o2, ul + "/index.html", "-o",
                             os.path.join(d, "o3")])
        req, resp, info = heads(err)
        conn_fields = [l for l in resp if l.lower().startswith("connection:")]
        ok(rc == 0 and conn_fields == ["Connection: keep-alive", "Connection: close",
                                       "Connection: keep-alive"]
           and sum("Connected to" in l for l in info) == 2,
           "curl -0 keep-alive against -n 2: the second response says close, the third "
           "request opens a new connection", conn_fields + info)
    finally:
        srv.stop()
        if lim:
            lim.stop()


# ---------------------------------------------------------------- main

def watchdog():
    ok(False, "clients.py finished within its %d s budget (watchdog fired)" % BUDGET)
    try:
        kill_everything()
    finally:
        sys.stdout.flush()
        os._exit(0)


PARTS = [("chromium", p_chromium), ("wget", p_wget), ("ab", p_ab), ("wrk", p_wrk),
         ("curl", p_curl)]


def main():
    global WORK
    t0 = time.monotonic()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    if not os.access(HTTPD, os.X_OK):
        ok(False, "clients: server binary %s exists and is executable" % HTTPD)
        ht.finish("clients", t0)
        return
    WORK = tempfile.mkdtemp(prefix="httpd-clients-")
    os.chmod(WORK, 0o755)
    diag("clients: HTTPD=%s, work dir %s" % (HTTPD, WORK))
    wd = threading.Timer(BUDGET, watchdog)
    wd.daemon = True
    wd.start()
    try:
        for name, fn in PARTS:
            if ONLY and name not in ONLY:
                continue
            t = time.monotonic()
            try:
                fn()
            except Exception:
                ok(False, "%s: ran to its end without an exception" % name, traceback.format_exc())
            diag("%s: %.1f s" % (name, time.monotonic() - t))
    finally:
        wd.cancel()
        kill_everything()
        if os.environ.get("CLIENTS_KEEP") == "1":
            diag("clients: work dir kept: %s" % WORK)
        else:
            shutil.rmtree(WORK, ignore_errors=True)
    ht.finish("clients", t0)


if __name__ == "__main__":
    main()
