#!/usr/bin/env python3
"""tests/scale.py -- scale-out: httpd instances behind Debian's HAProxy.

The HAProxy config is generated from contrib/haproxy.cfg (the file a user
installs): the bind and server addresses, the stats socket and the log are
changed, chroot/user/group/daemon dropped, and one line added that names the
backend in a response field (X-Backend, so the test knows where a request
went); everything else is the contrib file's.  Three httpd instances listen on
127.0.0.1 (ports of their own, -C 0: every client is HAProxy, -g 5, an access
log each); wrk drives HAProxy with -t1 -c16.

Parts (SCALE_ONLY=name,name runs only those: a development aid)
  config     the contrib file has what the deployment relies on (roundrobin,
             option httpchk GET /, inter 200ms, retries, option redispatch,
             keep-alive to the backends, no http-server-close); haproxy -c
             accepts the generated file.
  sigterm    wrk for 6 s; a 24 MiB download through HAProxy, read at ~8 MiB/s,
             is on instance N when N gets SIGTERM (2 s into the run): the
             download completes byte-exact, N exits 0 within its grace
             period, HAProxy marks it DOWN and sends the rest to the two
             others (their counts grow after the stop); wrk reports no socket
             error and no non-2xx; the requests each backend served (access
             logs) are printed, with HAProxy's retry and redispatch counts.
  rolling    a rolling restart under wrk: each instance in turn is stopped
             (SIGTERM, exit 0), left until HAProxy has it DOWN (a restart
             here takes 10 ms, a real deployment longer), started again on
             the same port, and waited for until HAProxy has it UP; zero
             failed requests, each backend marked DOWN once.
  usr2       SIGUSR2 to each instance in turn under wrk (the zero-downtime
             re-exec: the new server comes up on the same socket, the old one
             drains and exits): zero failed requests, HAProxy never marks an
             instance DOWN.
  control    the positive control: a second HAProxy on the same backends with
             `retries 0` and neither redispatch nor retry-on; one instance
             stopped under wrk: wrk must see failed requests (503s), else the
             zero-failure checks above could not fail.
  backlog    (no HAProxy) SIGTERM while a connection waits in the listen
             backlog with its request sent (the parent held with SIGSTOP so
             that it is there for certain, then SIGTERM, SIGCONT): it must get
             a response, not a reset; the idle keep-alive connection of the
             same server gets its last call (200, Connection: close).
  pid1       (root, no HAProxy) SIGUSR2 to a server that is PID 1 of a PID
             namespace (unshare --pid --fork: a container's entrypoint): once
             the old server's drain is over, the port still answers.
  reuseport  two instances with --reuseport on one port both serve (each
             access log gets requests); without --reuseport the second one
             cannot bind (exit 1, "Address already in use").

Development aids (environment): SCALE_ONLY=part,part; SCALE_KEEP=1 keeps the
work dir (configs, logs, wrk output); SCALE_HAPLOG=1 makes HAProxy log every
request that was retried or failed (option dontlog-normal) to its .out file;
SCALE_RETRY_ON=... replaces the contrib file's retry-on ("" removes it);
SCALE_EXTRA='option http-server-close' adds one line to the backend section.
The parts config..control need haproxy and wrk (tests/deps.txt); without
them they are SKIPPED (a failure with CI=true).  Server binary: $HTTPD.  A
watchdog kills what the file started if it runs past BUDGET seconds.  Every
process is stopped by its PID.
"""
import ctypes
import hashlib
import os
import re
import shutil
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
from httpdtest import ok, diag, skip, wait_for, Server  # noqa: E402

HTTPD = ht.binary("HTTPD", "httpd")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(REPO, "contrib", "haproxy.cfg")
HOST = "127.0.0.1"
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK)
                                      else None)     # /usr/sbin: not on every user's PATH
BUDGET = 200.0                  # whole file; plain ~45 s, ASan 2-3x
SAN = bool(os.environ.get("ASAN_OPTIONS") or os.environ.get("UBSAN_OPTIONS"))
SLOW = 2.5 if SAN else 1.0
GRACE = 5
NAMES = ("httpd1", "httpd2", "httpd3")
PAGE = "/page.html"             # what wrk asks for; the health checks ask for /
BIG = 24 << 20                  # the download in flight at SIGTERM
HAPLOG = os.environ.get("SCALE_HAPLOG") == "1"    # HAProxy logs its failed requests
RETRY_ON = os.environ.get("SCALE_RETRY_ON")        # replaces the file's retry-on ("": none)
EXTRA = os.environ.get("SCALE_EXTRA")               # one more line in the backend
ONLY = [x for x in os.environ.get("SCALE_ONLY", "").split(",") if x]
WORK = WWW = None
BIG_SHA = None
_extra = []                     # Popen objects and (pid, start) of the upgraded servers
_extra_lock = threading.Lock()


# ---------------------------------------------------------------- helpers

def track(p):
    if isinstance(p, int):
        st = ht.read_stat(p)
        if st is None:
            return p
        p = (p, st["start"])
    with _extra_lock:
        _extra.append(p)
    return p


def stop_popen(p, wait=5.0):
    """SIGTERM, wait, SIGKILL, by the Popen's pid."""
    if p is None:
        return None
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(3)
    return p.returncode


def kill_tree(pid):
    try:
        for k in ht.descendants(pid):
            ht.kill_quietly(k["pid"])
    except ht.ProcError:
        pass
    ht.kill_quietly(pid)


def kill_everything():
    ht.kill_all()
    with _extra_lock:
        extra = list(_extra)
    for p in extra:
        if isinstance(p, tuple):
            if ht.running(p[0], p[1]):
                kill_tree(p[0])
        elif p.poll() is None:
            p.kill()
            try:
                p.wait(2)
            except subprocess.TimeoutExpired:
                pass


def set_subreaper(on):
    """PR_SET_CHILD_SUBREAPER: a server started by SIGUSR2 outlives its parent
    and becomes ours, so that we can reap it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1 if on else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_adopted():
    """Reaps adopted zombies that are no Popen's (Popen reaps its own)."""
    own = set()
    with ht._servers_lock:
        own.update(x.proc.pid for x in ht._servers if x.proc is not None)
    with _extra_lock:
        own.update(x.pid for x in _extra if not isinstance(x, tuple))
    try:
        kids = ht.children(os.getpid())
    except ht.ProcError:
        return
    for k in kids:
        if k["state"] == "Z" and k["pid"] not in own:
            try:
                os.waitpid(k["pid"], os.WNOHANG)
            except ChildProcessError:
                pass


def wait_gone(pid, timeout):
    """Waits until pid has exited; reaps it if it is our (adopted) child.
    -> exit status, "gone" (not ours), or None (still there)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                return os.WEXITSTATUS(st) if os.WIFEXITED(st) else "signal %d" % os.WTERMSIG(st)
        except ChildProcessError:
            if (ht.read_stat(pid) or {"state": "Z"})["state"] in ("Z", "X"):
                return "gone"
        time.sleep(0.05)
    return None


def readf(path, mode="rb"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return b"" if "b" in mode else ""


def writef(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def mkdir(path):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o755)
    return path


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def big_data():
    block = hashlib.sha256(b"scale").digest() * 2048           # 64 KiB
    return b"".join(bytes([i & 0xff]) + block[1:] for i in range(BIG // len(block)))


def fetch(port, path="/", timeout=5.0):
    try:
        c = ht.Conn(port, timeout=timeout)
    except OSError as e:
        return None, "connect: %s" % e
    try:
        c.send(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode())
        return c.read_response(timeout=timeout), None
    except (ht.ProtoError, OSError) as e:
        return None, "%s: %s" % (type(e).__name__, e)
    finally:
        c.close()


def parse_wrk(out):
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    nx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (int(m.group(1)) if m else None,
            tuple(int(x) for x in se.groups()) if se else (0, 0, 0, 0),
            int(nx.group(1)) if nx else 0)


def log_counts(path):
    """(wrk requests answered 200, wrk requests answered otherwise, health checks)."""
    good = bad = checks = 0
    for line in readf(path, "r").splitlines():
        m = re.search(r'"GET (\S+) HTTP/1\.[01]" (\d{3}) ', line)
        if not m:
            continue
        if m.group(1) == PAGE:
            if m.group(2) == "200":
                good += 1
            else:
                bad += 1
        elif m.group(1) == "/":
            checks += 1
    return good, bad, checks


# ---------------------------------------------------------------- the cluster

class Backend:
    """One httpd instance; its port stays the same across restarts."""

    def __init__(self, name, d):
        self.name = name
        self.dir = mkdir(os.path.join(d, name))
        self.log = os.path.join(self.dir, "access.log")
        self.port = 0
        self.srv = None
        self.gen = 0

    def start(self):
        self.gen += 1
        self.srv = Server([HTTPD, "-a", HOST, "-p", str(self.port), "-r", WWW, "-C", "0",
                           "-g", str(GRACE), "-l", self.log],
                          name="%s-%d" % (self.name, self.gen), errdir=self.dir)
        if not self.srv.start(timeout=5.0 * SLOW):
            return False
        self.port = self.srv.port
        return True

    def counts(self):
        return log_counts(self.log)


class HAProxy:
    def __init__(self, d, backends, strip=(), add=(), tag="haproxy"):
        self.dir = d
        self.backends = backends
        self.strip = strip          # directives left out (the control)
        self.add = add              # and lines added to defaults
        self.port = free_port()
        self.sock = os.path.join(d, tag + ".sock")
        self.cfg = os.path.join(d, tag + ".cfg")
        self.out = os.path.join(d, tag + ".out")
        self.proc = None
        self.error = None

    def config(self):
        """The contrib file with this run's addresses; -> (text, [what changed])."""
        text = readf(TEMPLATE, "r")
        out, servers, changed = [], iter(self.backends), []
        for line in text.splitlines():
            s = line.strip()
            word = s.split()[0] if s else ""
            if any(s.startswith(x) for x in self.strip):
                changed.append("left out: " + s)
                continue
            if word in ("chroot", "user", "group", "daemon"):
                changed.append("dropped: " + s)
                continue
            if word == "log" and "/dev/log" in s:
                if not any(l.strip().startswith("log stdout") for l in out):
                    out.append("    log stdout format raw local0 %s"
                               % ("info" if HAPLOG else "notice"))
                changed.append("log to stdout: " + s)
                continue
            if word == "stats" and s.split()[1:2] == ["socket"]:
                out.append("    stats socket %s mode 600 level admin" % self.sock)
                continue
            if word == "retry-on" and RETRY_ON is not None:
                changed.append("retry-on %s (SCALE_RETRY_ON)" % RETRY_ON)
                if RETRY_ON:
                    out.append("    retry-on " + RETRY_ON)
                continue
            if word == "bind":
                out.append("    bind %s:%d" % (HOST, self.port))
                continue
            if word == "server":
                f = s.split()
                b = next(servers)
                f[1], f[2] = b.name, "%s:%d" % (HOST, b.port)
                out.append("    " + " ".join(f))
                continue
            out.append(line)
            if word == "defaults":
                for a in self.add:
                    out.append("    " + a)
                    changed.append("added: " + a)
            if word == "defaults" and HAPLOG:
                out.append("    option dontlog-normal")
            if word == "backend" and EXTRA:
                out.append("    " + EXTRA)
                changed.append("added: " + EXTRA)
            if word == "backend":
                out.append("    http-response set-header X-Backend %s")
        return "\n".join(out) + "\n", changed

    def start(self):
        text, _ = self.config()
        writef(self.cfg, text.encode())
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.cfg], stdin=subprocess.DEVNULL,
                                     stdout=open(self.out, "ab"), stderr=subprocess.STDOUT,
                                     close_fds=True)
        track(self.proc)
        if not wait_for(lambda: self.proc.poll() is not None or self.listening(), 10.0, 0.05) \
                or self.proc.poll() is not None:
            self.error = "haproxy did not come up (rc %r): %s" % (self.proc.poll(),
                                                                  readf(self.out, "r")[-800:])
            return False
        return True

    def listening(self):
        try:
            socket.create_connection((HOST, self.port), 0.5).close()
            return os.path.exists(self.sock)
        except OSError:
            return False

    def command(self, cmd):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3.0)
        try:
            s.connect(self.sock)
            s.sendall(cmd.encode() + b"\n")
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
            return data.decode("latin-1")
        finally:
            s.close()

    def stats(self):
        """{svname: row} of backend httpd (and "BACKEND", "FRONTEND" rows)."""
        text = self.command("show stat")
        lines = text.splitlines()
        if not lines or not lines[0].startswith("# "):
            raise RuntimeError("show stat: %r" % text[:200])
        cols = lines[0][2:].split(",")
        res = {}
        for l in lines[1:]:
            if not l:
                continue
            row = dict(zip(cols, l.split(",")))
            if row.get("pxname") in ("httpd", "www"):
                res[row["svname"]] = row
        return res

    def status(self, name):
        try:
            return self.stats().get(name, {}).get("status", "?")
        except (OSError, RuntimeError) as e:
            return "error: %s" % e

    def wait_status(self, name, want, timeout):
        """Waits until server `name` shows a status starting with `want`."""
        t = time.monotonic()
        if wait_for(lambda: self.status(name).startswith(want), timeout, 0.02):
            return time.monotonic() - t
        return None

    def stop(self):
        return stop_popen(self.proc)


def stat_sum(st, field):
    return {n: int(st.get(n, {}).get(field) or 0) for n in NAMES}


def start_wrk(port, seconds, d, tag):
    path = os.path.join(d, "wrk-%s.out" % tag)
    p = subprocess.Popen(["wrk", "-t1", "-c16", "-d%ds" % seconds, "--timeout", "5s",
                          "http://%s:%d%s" % (HOST, port, PAGE)], stdin=subprocess.DEVNULL,
                         stdout=open(path, "wb"), stderr=subprocess.STDOUT)
    track(p)
    return p, path


def finish_wrk(p, path, seconds, label):
    try:
        p.wait(seconds + 15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(3)
    out = readf(path, "r")
    n, sock, non2xx = parse_wrk(out)
    ok(p.returncode == 0 and n and n > 200 * seconds,
       "%s: wrk -t1 -c16 -d%d through HAProxy ran (%s requests)" % (label, seconds, n), out[-800:])
    ok(sock == (0, 0, 0, 0), "%s: wrk saw no socket error (connect, read, write, timeout: %s)"
       % (label, sock), out[-800:])
    ok(non2xx == 0, "%s: wrk saw no non-2xx response (%d)" % (label, non2xx), out[-800:])
    return n or 0


def report_counts(label, backends, before, hap, st0, n_wrk):
    """Prints requests per backend (access logs, minus `before`) and HAProxy's
    own figures; checks they add up to what wrk counted."""
    now = {b.name: b.counts() for b in backends}
    served = {n: now[n][0] - before[n][0] for n in now}
    bad = {n: now[n][1] - before[n][1] for n in now}
    try:
        st = hap.stats()
    except (OSError, RuntimeError) as e:
        st = {}
        diag("%s: HAProxy stats: %s" % (label, e))
    fig = {}
    for f in ("stot", "hrsp_2xx", "hrsp_5xx", "eresp", "econ", "wretr", "wredis", "chkdown"):
        a, b0 = stat_sum(st, f), stat_sum(st0, f)
        fig[f] = {n: a[n] - b0[n] for n in NAMES}
    diag("%s: requests served per backend (access logs): %s; total %d, wrk counted %d"
         % (label, ", ".join("%s %d" % (n, served[n]) for n in NAMES), sum(served.values()), n_wrk))
    diag("%s: HAProxy per backend: sessions %s, 2xx %s, 5xx %s, response errors %s, "
         "connect errors %s, retries %s, redispatches %s, DOWN transitions %s"
         % (label, *[" ".join(str(fig[f][n]) for n in NAMES)
                     for f in ("stot", "hrsp_2xx", "hrsp_5xx", "eresp", "econ", "wretr", "wredis",
                               "chkdown")]))
    fe = st.get("FRONTEND", {})
    diag("%s: HAProxy frontend: 2xx %s, 4xx %s, 5xx %s" % (label, fe.get("hrsp_2xx"),
                                                          fe.get("hrsp_4xx"), fe.get("hrsp_5xx")))
    total = sum(served.values())
    ok(sum(bad.values()) == 0, "%s: every %s request in the access logs was answered 200 (%s)"
       % (label, PAGE, bad))
    # wrk stops with up to 16 requests in flight: served and logged, not counted
    ok(n_wrk <= total <= n_wrk + 32,
       "%s: the access logs hold what wrk counted (%d logged, %d counted)" % (label, total, n_wrk))
    return served, fig


# ---------------------------------------------------------------- parts

class Cluster:
    def __init__(self):
        self.dir = mkdir(os.path.join(WORK, "cluster"))
        self.backends = [Backend(n, self.dir) for n in NAMES]
        self.hap = None

    def start(self):
        for b in self.backends:
            if not ok(b.start(), "%s starts (-C 0 -g %d)" % (b.name, GRACE), b.srv.error):
                return False
        self.hap = HAProxy(self.dir, self.backends)
        if not ok(self.hap.start(), "haproxy -db starts on the generated config (port %d)"
                  % self.hap.port, self.hap.error):
            return False
        up = all(self.hap.wait_status(b.name, "UP", 5.0 * SLOW) is not None for b in self.backends)
        return ok(up, "HAProxy sees the three backends UP",
                  {n: self.hap.status(n) for n in NAMES})

    def ensure_up(self):
        for b in self.backends:
            if not b.srv.alive():
                if not ok(b.start(), "%s starts again on port %d" % (b.name, b.port), b.srv.error):
                    return False
        return all(self.hap.wait_status(b.name, "UP", 5.0 * SLOW) is not None
                   for b in self.backends)

    def stop(self):
        if self.hap:
            self.hap.stop()
        for b in self.backends:
            if b.srv:
                b.srv.stop()


def p_config(cl):
    text = readf(TEMPLATE, "r")
    body = "\n".join(l.split("#", 1)[0] for l in text.splitlines())
    need = [("balance roundrobin", r"^\s*balance\s+roundrobin\s*$"),
            ("option httpchk GET /", r"^\s*option\s+httpchk\s+GET\s+/\s*$"),
            ("checks every 200 ms", r"^\s*default-server\b.*\bcheck\b.*\binter\s+200ms\b"),
            ("retries", r"^\s*retries\s+[1-9]"),
            ("option redispatch", r"^\s*option\s+redispatch\b"),
            ("mode http", r"^\s*mode\s+http\s*$"),
            ("keep-alive to the backends", r"^\s*option\s+http-keep-alive\s*$"),
            ("three servers", r"(?s)(^\s*server\s.*){3}")]
    missing = [w for w, rx in need if not re.search(rx, body, re.M)]
    ok(not missing, "contrib/haproxy.cfg: %s" % ", ".join(w for w, _ in need),
       "missing: %s" % missing)
    bad = [w for w in ("http-server-close", "httpclose", "forceclose")
           if re.search(r"^\s*option\s+%s\b" % w, body, re.M)]
    ok(not bad, "contrib/haproxy.cfg closes no backend connection per request (%s)"
       % "no option http-server-close/httpclose", bad)
    _, changed = cl.hap.config()
    r = subprocess.run([HAPROXY, "-c", "-f", cl.hap.cfg], capture_output=True, timeout=20)
    ok(r.returncode == 0, "haproxy -c accepts the config generated from contrib/haproxy.cfg",
       (r.stdout + r.stderr).decode("latin-1")[-600:])
    diag("config: generated from the contrib file: %s" % "; ".join(changed))


def slow_download(port, stop_at, result):
    """GET /big.bin through HAProxy, read at ~8 MiB/s; result: backend, ok, ..."""
    try:
        s = socket.create_connection((HOST, port), 5.0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.settimeout(10.0 * SLOW)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                raise ht.ProtoError("EOF in head: %r" % ht.esc(buf))
            buf += d
        head, body = buf.split(b"\r\n\r\n", 1)
        r = ht.parse_response(head + b"\r\n\r\n", head=True)
        result["status"] = r.status
        result["backend"] = r.h("X-Backend")
        result["head_at"] = time.monotonic()
        result["ev"].set()
        h = hashlib.sha256(body)
        got = len(body)
        t0 = time.monotonic()
        while got < BIG:
            d = s.recv(65536)
            if not d:
                break
            h.update(d)
            got += len(d)
            lag = got / (8 << 20) - (time.monotonic() - t0)
            if lag > 0:
                time.sleep(lag)
        result["got"] = got
        result["sha"] = h.hexdigest()
        result["end"] = time.monotonic()
        s.close()
    except Exception as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        result["ev"].set()


def p_sigterm(cl):
    hap, bs = cl.hap, cl.backends
    before = {b.name: b.counts() for b in bs}
    st0 = hap.stats()
    secs = 6
    wrk, wpath = start_wrk(hap.port, secs, cl.dir, "sigterm")
    time.sleep(1.5)
    # the download that is in flight at the stop; its backend is the victim
    res = {"ev": threading.Event()}
    th = threading.Thread(target=slow_download, args=(hap.port, None, res), daemon=True)
    th.start()
    res["ev"].wait(10.0 * SLOW)
    victim = next((b for b in bs if b.name == res.get("backend")), None)
    if not ok(victim is not None and res.get("status") == 200,
              "sigterm: a 24 MiB download through HAProxy is under way (on %s)"
              % res.get("backend"), res):
        victim = bs[0]
    others = [b for b in bs if b is not victim]
    time.sleep(0.3)
    at_stop = {b.name: b.counts()[0] for b in bs}
    logged_before = '"GET /big.bin' in readf(victim.log, "r")
    t_stop = time.monotonic()
    victim.srv.signal(signal.SIGTERM)
    live = ht.count_live(victim.srv.pid) if victim.srv.alive() else 0
    down = hap.wait_status(victim.name, "DOWN", 5.0 * SLOW)
    ok(down is not None, "sigterm: HAProxy marks %s DOWN after its SIGTERM (%s s)"
       % (victim.name, "%.2f" % down if down is not None else "never"),
       hap.status(victim.name))
    rc = victim.srv.wait_exit(GRACE + 3.0)
    took = time.monotonic() - t_stop
    ok(rc == 0 and took <= GRACE + 0.5,
       "sigterm: %s exits 0 within its grace period of %d s (%.2f s; %d children live at the "
       "signal)" % (victim.name, GRACE, took, live),
       "rc %r; %s" % (rc, victim.srv.stderr_text()[-300:]))
    th.join(15.0 * SLOW)
    ok(res.get("got") == BIG and res.get("sha") == BIG_SHA,
       "sigterm: the download in flight on %s at the signal completes byte-exact (%s of %d bytes, "
       "%.1f s after the signal)" % (victim.name, res.get("got"), BIG,
                                     res.get("end", t_stop) - t_stop), res.get("error"))
    ok(not logged_before, "sigterm: the download was in flight at %s when the signal came (not "
       "logged yet: the line is written when the response is done)" % victim.name)
    vlog = readf(victim.log, "r")
    ok(re.search(r'"GET /big\.bin HTTP/1\.1" 200 %d' % BIG, vlog),
       "sigterm: %s logged the download as 200 with all its bytes" % victim.name, vlog[-300:])
    n = finish_wrk(wrk, wpath, secs, "sigterm")
    after = {b.name: b.counts()[0] for b in bs}
    ok(all(after[b.name] > at_stop[b.name] for b in others),
       "sigterm: HAProxy routes around %s: the other two served on (%s)"
       % (victim.name, ", ".join("%s +%d" % (b.name, after[b.name] - at_stop[b.name])
                                 for b in others)))
    served, fig = report_counts("sigterm", bs, before, hap, st0, n)
    ok(all(served[b.name] > 0 for b in bs), "sigterm: each backend served requests (%s)" % served)
    # the health checks: each backend's log holds its GET / lines
    checks = {b.name: b.counts()[2] for b in bs}
    ok(all(v > 5 for v in checks.values()), "sigterm: HAProxy's health checks (GET /) reach every "
       "backend (%s)" % checks)


def p_rolling(cl):
    hap, bs = cl.hap, cl.backends
    if not ok(cl.ensure_up(), "rolling: the three backends are UP",
              {n: hap.status(n) for n in NAMES}):
        return
    before = {b.name: b.counts() for b in bs}
    st0 = hap.stats()
    secs = 8
    wrk, wpath = start_wrk(hap.port, secs, cl.dir, "rolling")
    t0 = time.monotonic()
    time.sleep(1.0)
    steps = []
    for b in bs:
        t = time.monotonic()
        rc = b.srv.stop(wait=GRACE + 3.0)
        stopped = time.monotonic() - t
        # a real deployment takes longer than the 10 ms a restart takes here:
        # let HAProxy see the instance gone before it comes back
        down = hap.wait_status(b.name, "DOWN", 5.0 * SLOW)
        started = b.start()
        up = hap.wait_status(b.name, "UP", 5.0 * SLOW) if started else None
        steps.append("%s: stopped in %.2f s (rc %r), DOWN %s later, UP again %s" % (
            b.name, stopped, rc, "%.2f s" % down if down is not None else "never",
            "after %.2f s" % up if up is not None else "never"))
        if not ok(rc == 0 and down is not None and started and up is not None,
                  "rolling: %s stopped (exit 0), DOWN in HAProxy, started again on port %d, "
                  "UP in HAProxy" % (b.name, b.port),
                  "rc %r, down %r, start %s, status %s" % (rc, down, b.srv.error,
                                                           hap.status(b.name))):
            break
    took = time.monotonic() - t0
    diag("rolling: " + "; ".join(steps))
    ok(took < secs - 0.5, "rolling: the restart of all three ended while wrk ran (%.1f of %d s)"
       % (took, secs))
    n = finish_wrk(wrk, wpath, secs, "rolling")
    served, fig = report_counts("rolling", bs, before, hap, st0, n)
    ok(all(v == 1 for v in fig["chkdown"].values()), "rolling: HAProxy marked each backend DOWN "
       "once (%s)" % fig["chkdown"])
    ok(all(v > 0 for v in served.values()), "rolling: each backend served requests (%s)" % served)


def p_usr2(cl):
    hap, bs = cl.hap, cl.backends
    if not ok(cl.ensure_up(), "usr2: the three backends are UP", {n: hap.status(n) for n in NAMES}):
        return
    before = {b.name: b.counts() for b in bs}
    st0 = hap.stats()
    secs = 7
    wrk, wpath = start_wrk(hap.port, secs, cl.dir, "usr2")
    t0 = time.monotonic()
    time.sleep(1.0)
    steps = []
    newpids = []
    for b in bs:
        t = time.monotonic()
        mark = len(b.srv.stderr_bytes())
        b.srv.signal(signal.SIGUSR2)
        m = None
        end = time.monotonic() + 10.0 * SLOW
        while time.monotonic() < end and m is None:
            m = re.search(rb"SIGUSR2: new server (\d+) serves", b.srv.stderr_bytes()[mark:])
            time.sleep(0.02)
        t_new = time.monotonic() - t
        newpid = int(m.group(1)) if m else None
        if newpid:
            track(newpid)
            newpids.append((b, newpid))
        rc = b.srv.wait_exit(GRACE + 3.0)
        steps.append("%s: new server %s after %.2f s, old one exited %r after %.2f s"
                     % (b.name, newpid, t_new, rc, time.monotonic() - t))
        if not ok(newpid and rc == 0, "usr2: %s re-executed: a new server (pid %s) serves, the "
                  "old one drains and exits 0" % (b.name, newpid),
                  b.srv.stderr_text()[-400:]):
            break
    took = time.monotonic() - t0
    diag("usr2: " + "; ".join(steps))
    ok(took < secs - 0.5, "usr2: the upgrade of all three ended while wrk ran (%.1f of %d s)"
       % (took, secs))
    n = finish_wrk(wrk, wpath, secs, "usr2")
    served, fig = report_counts("usr2", bs, before, hap, st0, n)
    ok(sum(fig["chkdown"].values()) == 0, "usr2: HAProxy never marked a backend DOWN (%s)"
       % fig["chkdown"])
    # the new servers are no Server objects: stop them by pid, reap them
    for b, pid in newpids:
        r, err = fetch(b.port, PAGE)
        ok(r is not None and r.status == 200, "usr2: %s's new server answers on port %d"
           % (b.name, b.port), err)
    for b, pid in newpids:
        os.kill(pid, signal.SIGTERM)
    for b, pid in newpids:
        rc = wait_gone(pid, GRACE + 5.0)
        ok(rc in (0, "gone"), "usr2: %s's new server (pid %d) exits 0 on SIGTERM (%r)"
           % (b.name, pid, rc))
        if rc is None:
            kill_tree(pid)


def p_control(cl):
    """The same stop behind a config without retries or redispatch: wrk must
    see failures, or the zero-failure checks above prove nothing."""
    if not ok(cl.ensure_up(), "control: the three backends are UP",
              {n: cl.hap.status(n) for n in NAMES}):
        return
    hap = HAProxy(cl.dir, cl.backends, strip=("retries", "option redispatch", "retry-on"),
                  add=("retries 0",), tag="control")
    try:
        if not ok(hap.start(), "control: a second haproxy with retries 0, no redispatch, no retry-on "
                  "starts (port %d)" % hap.port, hap.error):
            return
        up = all(hap.wait_status(b.name, "UP", 5.0 * SLOW) is not None for b in cl.backends)
        if not ok(up, "control: it sees the three backends UP"):
            return
        secs = 3
        wrk, wpath = start_wrk(hap.port, secs, cl.dir, "control")
        time.sleep(1.0)
        victim = cl.backends[1]
        victim.srv.stop(wait=GRACE + 3.0)
        wrk.wait(secs + 15)
        out = readf(wpath, "r")
        n, sock, non2xx = parse_wrk(out)
        diag("control: wrk: %s requests, socket errors %s, non-2xx %d" % (n, sock, non2xx))
        ok(n and (non2xx > 0 or sum(sock) > 0),
           "control: without retries and redispatch the stop of %s costs requests (non-2xx %d, "
           "socket errors %s): the zero-failure checks can fail" % (victim.name, non2xx, sock),
           out[-600:])
    finally:
        hap.stop()


def p_backlog(cl):
    """SIGTERM closes the listening socket.  A connection the kernel has
    already accepted into its backlog, with its request sent, is not a
    connection the server may drop: the client (HAProxy) sees a reset and
    cannot know the request was never read.  The parent is held (SIGSTOP)
    so that the connection waits in the backlog for certain, SIGTERM is
    sent, then SIGCONT: the queued request must get a response (served with
    Connection: close, or 503), not a reset."""
    d = mkdir(os.path.join(WORK, "backlog"))
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", "off", "-g", "3"), name="backlog", errdir=d)
    a = b = None
    try:
        if not ok(srv.start(), "backlog: starts", srv.error):
            return
        a = ht.Conn(srv.port)                   # a keep-alive connection in a child
        a.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        r = a.read_response()
        ok(r is not None and r.status == 200, "backlog: a keep-alive connection is served", r)
        os.kill(srv.pid, signal.SIGSTOP)
        try:
            b = ht.Conn(srv.port)               # completes in the kernel: the backlog
            b.send(b"GET /page.html HTTP/1.1\r\nHost: t\r\n\r\n")
            time.sleep(0.2)
            os.kill(srv.pid, signal.SIGTERM)
        finally:
            os.kill(srv.pid, signal.SIGCONT)
        try:
            rb = b.read_response(timeout=5.0 * SLOW)
            why = repr(rb)
        except (ht.ProtoError, OSError) as e:
            rb, why = None, "%s: %s" % (type(e).__name__, e)
        if rb is None and why == "None":
            why = "EOF or reset before any byte of a response"
        ok(rb is not None and rb.status in (200, 503),
           "backlog: at SIGTERM, a connection waiting in the listen backlog with its request sent "
           "gets a response, not a reset", why)
        a.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        try:
            ra = a.read_response(timeout=5.0)
        except (ht.ProtoError, OSError) as e:
            ra = None
        ok(ra is not None and ra.status == 200 and (ra.h("Connection") or "").lower() == "close",
           "backlog: the idle keep-alive connection gets its last call (200, Connection: close)", ra)
        rc = srv.wait_exit(3 + 3.0)
        ok(rc == 0, "backlog: the server exits 0", "rc %r" % rc)
    finally:
        for c in (a, b):
            if c:
                c.close()
        srv.stop()


def p_pid1(cl):
    """SIGUSR2 to a server that is PID 1 of its PID namespace (a container's
    entrypoint, contrib/Dockerfile): the new server is its child, so when the
    old one drains and exits the kernel kills the namespace, the new server
    with it.  Whatever the server does about it (refuse the upgrade as PID 1
    and go on, or stay as PID 1 while the new one serves), the port must still
    answer once the old one's drain is over."""
    if os.geteuid() != 0 or not ht.have("unshare"):
        skip("pid1: SIGUSR2 as PID 1", "needs root and unshare (util-linux)")
        return
    d = mkdir(os.path.join(WORK, "pid1"))
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", "off", "-g", "2"), name="pid1", errdir=d,
                 wrap=["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--"],
                 pid_from_child=True)
    try:
        if not ok(srv.start(timeout=5.0 * SLOW), "pid1: a server as PID 1 (unshare --pid --fork) "
                  "starts", srv.error):
            return
        r, err = fetch(srv.port, "/")
        ok(r is not None and r.status == 200, "pid1: it serves", err)
        mark = len(srv.stderr_bytes())
        srv.signal(signal.SIGUSR2)
        said = wait_for(lambda: re.search(rb"SIGUSR2: ", srv.stderr_bytes()[mark:]), 10.0 * SLOW)
        time.sleep(2 + 1.5)                     # the old one's drain (-g 2) is over
        r, err = fetch(srv.port, "/")
        ok(r is not None and r.status == 200,
           "pid1: after SIGUSR2 to the server that is PID 1, the port still answers (%s)"
           % (said.group(0).decode() + "..." if said else "no SIGUSR2 line"),
           "%s; stderr: %s" % (err or r, srv.stderr_text()[mark:][-300:]))
    finally:
        srv.stop()


def p_reuseport(cl):
    d = mkdir(os.path.join(WORK, "reuseport"))
    la, lb = os.path.join(d, "a.log"), os.path.join(d, "b.log")
    a = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", la, "--reuseport", "-g", "2"),
               name="reuse-a", errdir=d)
    b = c = None
    try:
        if not ok(a.start(), "reuseport: the first instance with --reuseport starts", a.error):
            return
        b = Server([HTTPD, "-a", HOST, "-p", str(a.port), "-r", WWW, "-l", lb, "--reuseport",
                    "-g", "2"], name="reuse-b", errdir=d)
        if not ok(b.start(), "reuseport: a second one with --reuseport starts on the same port "
                  "(%d)" % a.port, b.error):
            return
        fails = 0
        for _ in range(60):                     # 60 connections, one request each
            r, err = fetch(a.port, PAGE)
            fails += r is None or r.status != 200
        ca = log_counts(la)[0]
        cb = log_counts(lb)[0]
        wait_for(lambda: log_counts(la)[0] + log_counts(lb)[0] == 60, 2.0)
        ca, cb = log_counts(la)[0], log_counts(lb)[0]
        diag("reuseport: 60 connections: %d to the first instance, %d to the second" % (ca, cb))
        ok(fails == 0 and ca > 0 and cb > 0 and ca + cb == 60,
           "reuseport: the kernel spreads the connections over both (access logs: %d and %d of 60, "
           "%d failed)" % (ca, cb, fails))
        r = subprocess.run([HTTPD, "-a", HOST, "-p", str(a.port), "-r", WWW, "-l", "off"],
                           capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
        ok(r.returncode == 1 and b"Address already in use" in r.stderr,
           "reuseport: a third one without --reuseport cannot bind the port (exit 1, said so)",
           "rc %d %r" % (r.returncode, r.stderr[-200:]))
    finally:
        if b:
            b.stop()
        a.stop()
    c = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", "off", "-g", "2"), name="plain", errdir=d)
    try:
        if ok(c.start(), "reuseport: an instance without --reuseport starts", c.error):
            for extra in ([], ["--reuseport"]):
                r = subprocess.run([HTTPD, "-a", HOST, "-p", str(c.port), "-r", WWW, "-l", "off"]
                                   + extra, capture_output=True, timeout=10,
                                   stdin=subprocess.DEVNULL)
                ok(r.returncode == 1 and b"Address already in use" in r.stderr,
                   "reuseport: then a second one %s cannot bind its port (exit 1)"
                   % ("with --reuseport" if extra else "without it"),
                   "rc %d %r" % (r.returncode, r.stderr[-200:]))
    finally:
        c.stop()


# ---------------------------------------------------------------- main

def setup():
    global WORK, WWW, BIG_SHA
    WORK = tempfile.mkdtemp(prefix="httpd-scale-")
    os.chmod(WORK, 0o755)
    WWW = mkdir(os.path.join(WORK, "www"))
    writef(os.path.join(WWW, "index.html"), b"scale index\n")
    writef(os.path.join(WWW, "page.html"), b"<!doctype html><title>page</title>\n" + b"x" * 990)
    data = big_data()
    writef(os.path.join(WWW, "big.bin"), data)
    BIG_SHA = hashlib.sha256(data).hexdigest()


def watchdog():
    ok(False, "scale.py finished within its %d s budget (watchdog fired)" % BUDGET)
    try:
        kill_everything()
    finally:
        sys.stdout.flush()
        os._exit(0)


PARTS = [("config", p_config), ("sigterm", p_sigterm), ("rolling", p_rolling),
         ("usr2", p_usr2), ("control", p_control)]          # these need haproxy and wrk
ALONE = [("backlog", p_backlog), ("pid1", p_pid1), ("reuseport", p_reuseport)]


def main():
    t0 = time.monotonic()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    if not os.access(HTTPD, os.X_OK):
        ok(False, "scale: server binary %s exists and is executable" % HTTPD)
        ht.finish("scale", t0)
        return
    missing = ([] if HAPROXY else ["haproxy"]) + ([] if ht.have("wrk") else ["wrk"])
    setup()
    diag("scale: HTTPD=%s, work dir %s" % (HTTPD, WORK))
    wd = threading.Timer(BUDGET, watchdog)
    wd.daemon = True
    wd.start()
    if not set_subreaper(True):
        diag("scale: cannot become a subreaper: an upgraded server's exit status is not seen")
    cl = None
    try:
        if missing:
            for name, _ in PARTS:
                skip("scale %s" % name, "%s not installed (tests/deps.txt)" % " and ".join(missing))
        elif not ONLY or any(name in ONLY for name, _ in PARTS):
            cl = Cluster()
            if cl.start():
                for name, fn in PARTS:
                    if ONLY and name not in ONLY:
                        continue
                    t = time.monotonic()
                    try:
                        fn(cl)
                    except Exception:
                        ok(False, "%s: ran to its end without an exception" % name,
                           traceback.format_exc())
                    reap_adopted()
                    diag("%s: %.1f s" % (name, time.monotonic() - t))
        for name, fn in ALONE:
            if ONLY and name not in ONLY:
                continue
            t = time.monotonic()
            try:
                fn(cl)
            except Exception:
                ok(False, "%s: ran to its end without an exception" % name, traceback.format_exc())
            diag("%s: %.1f s" % (name, time.monotonic() - t))
    finally:
        wd.cancel()
        if cl:
            cl.stop()
        kill_everything()
        reap_adopted()
        if os.environ.get("SCALE_KEEP") == "1":
            diag("scale: work dir kept: %s" % WORK)
        else:
            shutil.rmtree(WORK, ignore_errors=True)
    ht.finish("scale", t0)


if __name__ == "__main__":
    main()
