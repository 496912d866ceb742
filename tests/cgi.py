#!/usr/bin/env python3
"""tests/cgi.py -- CGI/1.1 (RFC 3875) end to end: httpd ($HTTPD) running real
scripts (tests/cgi-apps/, examples/) as user nobody.

Groups (each line of output names its group)
  env       the variables (RFC 3875 4.1) a /bin/sh script sees through `env`,
            for HTTP/1.0 and 1.1, with and without path info and a body, with
            --cgi-pass-auth, with the server on an IPv4-mapped IPv6 socket and on
            ::1; nothing of the server's own environment (a marker variable)
            but PATH; the script's working directory, descriptors (its own, a
            child's, a grandchild's), signal mask and dispositions, process group.
  lookup    403/404/500 for what is not a script, never its source, whatever
            the spelling of the path; PATH_INFO; --cgi-pattern.
  process   the script's group killed when the client goes away, when it is
            silent past --cgi-timeout (504), at SIGTERM of the server; no
            zombie; a grandchild holding stdout open does not hold the client;
            a 10 MB stderr flood neither blocks the script nor fills the
            server's stderr.
  body      request bodies to stdin (Content-Length streamed, chunked decoded
            with CONTENT_LENGTH, Expect: 100-continue, 413), no deadlock.
  response  the script's header block: Status, Content-Type, Location (local
            and client redirects), Content-Length, the framing the server
            chooses, HEAD, every malformed block -> 502 with no script byte on
            the wire, hop-by-hop fields dropped, streaming, 10 MiB with bounded
            memory, keep-alive.
  apps      git clone/fetch/push through git http-backend (examples/git), cgit,
            Flask (examples/flask) and Django (tests/cgi-apps/django) through
            wsgiref's CGIHandler, the sh and C examples (examples/cgi-bin).
  lineage   128 and 500 simultaneous CGI requests (a compiled script), zero
            zombies, descriptors back to idle; RLIMIT_NPROC -> 503.
  prefork   a subset with -w 2.
  controls  the checks above fail on a live process group, a planted zombie,
            a 502 carrying script bytes, a source in a body.

The cases of the first groups run concurrently, each on its own connections
and scripts (their lines are printed in order); lineage, nproc and prefork
run after them, on servers of their own.

Every server runs under a small reaper (a child subreaper, as init would be:
the PID 1 of a container may reap nothing), so that a process the server
leaves behind is either still running or gone: "gone" means it was killed and
reaped.  Every process is stopped by PID.
Loopback only; bounded time (a watchdog ends the program).  Always exits 0:
tests/run.sh counts the ok / not ok lines.  A missing application package is
"# SKIPPED ... (not installed)" (a failure when CI=true).
"""
import os
import random
import re
import resource
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

T0 = time.monotonic()
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
APPS_DIR = os.path.join(HERE, "cgi-apps")
EXAMPLES = os.path.join(REPO, "examples")
HTTPD = ht.binary("HTTPD", "./httpd")
BUDGET = 240.0                 # the watchdog; the file is meant to take well under 90 s
HOST = "127.0.0.1"
MARK_NAME = "HTTPD_CGI_TEST_MARKER"
MARK_VALUE = "server-env-%08x" % random.getrandbits(32)
SOURCE_MARK = "SOURCE-MUST-NOT-LEAK-%08x" % random.getrandbits(32)
OUTSIDE_MARK = "OUTSIDE-ROOT-%08x" % random.getrandbits(32)
STATIC = b"a static file\n"
INDEX = b"<!doctype html><title>cgi</title><p>index</p>\n"
FIXED_RE = re.compile(rb"^(\d\d\d) [^\r\n]*\n$")      # the server's fixed error bodies
CGI_TIMEOUT = 2                # --cgi-timeout of the main server
IS_ROOT = os.geteuid() == 0
NOBODY = None                  # (uid, gid) the servers run as, when root
WORK = ROOT = CGI = PIDDIR = None
SERVERS = {}
CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")

# RFC 3875 meta-variables and what else a script may see: the variables of
# --cgi-env below, PATH, and what /bin/sh adds itself (PWD, ...).
RFC_VARS = {"AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "GATEWAY_INTERFACE", "PATH_INFO",
            "PATH_TRANSLATED", "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_IDENT",
            "REMOTE_USER", "REQUEST_METHOD", "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT",
            "SERVER_PROTOCOL", "SERVER_SOFTWARE",
            # common extensions (Apache, nginx)
            "REMOTE_PORT", "REQUEST_URI", "SCRIPT_FILENAME", "DOCUMENT_ROOT", "SERVER_ADDR",
            "REQUEST_SCHEME", "HTTPS", "CONTEXT_PREFIX", "CONTEXT_DOCUMENT_ROOT", "REDIRECT_STATUS"}
SHELL_VARS = {"PWD", "OLDPWD", "SHLVL", "_"}
CGI_ENV = {"CGI_EXTRA": "hello", "CGI_SPACES": "a b=c"}
CGI_ENV_NAMES = set(CGI_ENV) | {"PIDDIR", "GIT_PROJECT_ROOT", "CGIT_CONFIG"}   # every -e below


def elapsed():
    return time.monotonic() - T0


esc = ht.esc


# ---------------------------------------------------------------- the reaper

# A child subreaper between the test and each server, as a real init is: an
# orphan of the server's tree (a script's grandchild) comes here and is reaped,
# so a leftover process is either running (the server did not kill it) or
# gone.  It exits with the server's status when the server exits.
REAPER = r"""
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)      # PR_SET_CHILD_SUBREAPER
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
def fwd(n, f):
    try:
        os.kill(pid, n)
    except OSError:
        pass
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, fwd)
rc = 1
while True:
    try:
        p, st = os.waitpid(-1, 0)
    except InterruptedError:
        continue
    except ChildProcessError:
        break
    if p == pid:
        rc = os.waitstatus_to_exitcode(st)
        break
sys.exit(rc if rc >= 0 else 128 - rc)
"""


class Server(ht.Server):
    """httpd under the reaper, as nobody (when root), on ADDR port 0, with
    the document root ROOT, an access log with rejection sites, and ARGS."""

    def __init__(self, name, args, addr=HOST, as_user="nobody", extra_env=None, wrap=()):
        self.log = os.path.join(WORK, name + ".log")
        with open(self.log, "w"):
            pass
        os.chmod(self.log, 0o666)
        argv = [HTTPD_COPY, "-a", addr, "-p", "0", "-r", ROOT, "-l", self.log, "-s"] + list(args)
        w = [sys.executable, "-c", REAPER] + list(wrap)
        if IS_ROOT and as_user == "nobody" and NOBODY and ht.have("setpriv"):
            w += ["setpriv", "--reuid=%d" % NOBODY[0], "--regid=%d" % NOBODY[1], "--clear-groups"]
        elif IS_ROOT and isinstance(as_user, int):
            w += ["setpriv", "--reuid=%d" % as_user, "--regid=%d" % as_user, "--clear-groups"]
        env = server_env()
        env.update(extra_env or {})
        super().__init__(argv, name=name, wrap=w, pid_from_child=True, new_session=True, env=env,
                         errdir=WORK)
        self.user = as_user

    def start(self, timeout=10.0):
        return self.start_or_raise(timeout)

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def site(self, needle, wait=0.0):
        """The LOG:N site of the last access log line holding needle (the
        line is written after the response: waits for it up to `wait` s)."""
        end = time.monotonic() + wait
        while True:
            for line in reversed(self.log_text().splitlines()):
                if needle in line:
                    return line[-12:].strip()
            if time.monotonic() >= end:
                return "?"
            time.sleep(0.02)


def server_env():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), MARK_NAME: MARK_VALUE,
           "HOME": "/nonexistent-" + MARK_VALUE, "LANG": "C"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def start_server(key, name, args, **kw):
    s = Server(name, args, **kw)
    SERVERS[key] = s
    s.start()
    return s


# ---------------------------------------------------------------- client side

def build(method, target, headers=(), body=b"", version="1.1", host="127.0.0.1", length=True):
    lines = ["%s %s HTTP/%s" % (method, target, version)]
    hs = list(headers)
    if host is not None and not any(k.lower() == "host" for k, _ in hs):
        lines.append("Host: %s" % host)
    for k, v in hs:
        lines.append("%s: %s" % (k, v))
    if body and length and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in hs):
        lines.append("Content-Length: %d" % len(body))
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return data + (body if isinstance(body, bytes) else body.encode("latin-1"))


def ask(port, target, method="GET", headers=(), body=b"", version="1.1", timeout=10.0,
        host="127.0.0.1", addr=HOST):
    """One request on a fresh connection -> (Resp or None, error or None)."""
    try:
        c = ht.Conn(port, host=addr, timeout=timeout)
    except OSError as e:
        return None, "connect: %s" % e
    try:
        c.send(build(method, target, headers, body, version, host))
        r = c.read_response(head=(method == "HEAD"), timeout=timeout)
        if r is None:
            return None, "EOF before any response byte"
        r.client_port = c.s.getsockname()[1]
        return r, None
    except (ht.ProtoError, OSError) as e:
        return None, "%s: %s" % (type(e).__name__, e)
    finally:
        c.close()


def read_big(c, timeout=30.0, head=False):
    """The next response on Conn c, read without the quadratic copies of
    Conn.read_response (a 10 MiB chunked body under load): -> Resp, or raises
    ProtoError.  What follows it stays in c.buf."""
    deadline = time.monotonic() + timeout
    buf = bytearray(c.buf)
    c.buf = b""

    def more():
        left = deadline - time.monotonic()
        if left <= 0:
            raise ht.ProtoError("timeout after %d bytes" % len(buf))
        c.s.settimeout(min(left, 5.0))
        try:
            d = c.s.recv(1 << 20)
        except socket.timeout:
            raise ht.ProtoError("timeout after %d bytes" % len(buf))
        except (ConnectionResetError, ConnectionAbortedError):
            d = b""
        if not d:
            raise ht.ProtoError("EOF after %d bytes: %s" % (len(buf), esc(bytes(buf[-120:]))))
        buf.extend(d)
    while buf.find(b"\r\n\r\n") < 0:
        more()
    i = buf.find(b"\r\n\r\n")
    r = ht.parse_response(bytes(buf[:i + 4]), head=True)
    pos, parts = i + 4, []
    if head or 100 <= r.status < 200 or r.status in (204, 304):
        pass
    elif (r.h("Transfer-Encoding") or "").lower() == "chunked":
        while True:
            j = buf.find(b"\r\n", pos)
            while j < 0:
                more()
                j = buf.find(b"\r\n", pos)
            try:
                size = int(bytes(buf[pos:j]).split(b";")[0], 16)
            except ValueError:
                raise ht.ProtoError("bad chunk line %r" % esc(bytes(buf[pos:j])))
            if size == 0:
                while buf.find(b"\r\n\r\n", j) < 0 and len(buf) < j + 4:
                    more()
                pos = buf.find(b"\r\n\r\n", j) + 4
                break
            while len(buf) < j + 2 + size + 2:
                more()
            parts.append(bytes(buf[j + 2:j + 2 + size]))
            pos = j + 2 + size + 2
            if pos > 1 << 22:
                del buf[:pos]
                pos = 0
    elif r.h("Content-Length") is not None:
        n = int(r.h("Content-Length"))
        while len(buf) < pos + n:
            more()
        parts, pos = [bytes(buf[pos:pos + n])], pos + n
    else:
        try:
            while True:
                more()
        except ht.ProtoError as e:
            if "EOF" not in str(e):
                raise
        parts, pos = [bytes(buf[pos:])], len(buf)
    r.body = b"".join(parts)
    r.complete = True
    c.buf = bytes(buf[pos:])
    return r


def exchange(port, data, timeout=30.0, head=False):
    """Sends data from a thread while reading the response (a client that
    reads as it sends) -> (Resp or None, error or None, Conn after it)."""
    c = ht.Conn(port, timeout=timeout)
    box = {}

    def sender():
        try:
            c.s.sendall(data)
        except OSError as e:
            box["send"] = e
    th = threading.Thread(target=sender, daemon=True)
    th.start()
    try:
        r = read_big(c, timeout=timeout, head=head)
        err = None
    except (ht.ProtoError, OSError) as e:
        r, err = None, "%s: %s" % (type(e).__name__, e)
    th.join(timeout)
    if r is not None:
        r.send_error = box.get("send")
    return r, err, c


def is_fixed(r, status):
    """r is the server's own error response for status (fixed body)."""
    return r is not None and r.status == status and FIXED_RE.match(r.body) is not None and \
        r.body.startswith(b"%d " % status)


def parse_sections(body):
    out, cur = {}, None
    for line in body.decode("latin-1").split("\n"):
        m = re.match(r"^--([a-z-]+)$", line)
        if m:
            cur = m.group(1)
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def env_of(sec):
    env = {}
    for line in sec.get("env", []):
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    return env


def fd_table(lines):
    res = {}
    for line in lines:
        m = re.search(r"\s(\d+) -> (.*)$", line)
        if m:
            res[int(m.group(1))] = m.group(2)
    return res


def status_field(lines, name):
    for line in lines:
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


# ---------------------------------------------------------------- processes

def pgrp_of(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("latin-1")
        return int(data[data.rfind(")") + 2:].split()[2])
    except (OSError, ValueError, IndexError):
        return None


def group_members(pgid):
    """Every process (zombies included) whose process group is pgid."""
    res = []
    for d in os.listdir("/proc"):
        if d.isdigit() and pgrp_of(int(d)) == pgid:
            s = ht.read_stat(d)
            res.append((int(d), s["comm"] if s else "?", s["state"] if s else "?"))
    return res


def gone(pid):
    """No such process any more: killed (or exited) and reaped."""
    return ht.read_stat(pid) is None


def read_pids(tag, which=("script",), timeout=5.0):
    """{'script': (pid, pgid), 'child': pid}: what proc.sh wrote for tag."""
    res = {}

    def have():
        for w in which:
            try:
                with open(os.path.join(PIDDIR, "%s.%s" % (tag, w))) as f:
                    words = f.read().split()
            except OSError:
                return False
            if not words:
                return False
            res[w] = (int(words[0]), int(words[1])) if w == "script" else int(words[0])
        return True
    ht.wait_for(have, timeout, 0.02)
    return res if all(w in res for w in which) else None


def tree_zombies(srv):
    return [(p["pid"], p["comm"]) for p in ht.zombies(srv.pid, tree=True)]


STRAYS = set()                  # pids the test must kill at the end (setsid daemons)


def kill_strays():
    for pid in list(STRAYS):
        ht.kill_quietly(pid)


# ---------------------------------------------------------------- fixture

def copy_exec(src, dst, mode=0o755):
    shutil.copyfile(src, dst)
    os.chmod(dst, mode)


def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


def build_fixture():
    global ROOT, CGI, PIDDIR
    ROOT = os.path.join(WORK, "www")
    CGI = os.path.join(ROOT, "cgi-bin")
    PIDDIR = os.path.join(WORK, "pids")
    outside = os.path.join(WORK, "outside")
    for d in (ROOT, CGI, CGI + "/sub", CGI + "/flask", CGI + "/django", CGI + "/.dir",
              ROOT + "/app", ROOT + "/sub", outside, WORK + "/git"):
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
    os.makedirs(PIDDIR, exist_ok=True)
    os.chmod(PIDDIR, 0o1777)
    write(ROOT + "/index.html", INDEX)
    write(ROOT + "/static.txt", STATIC)
    write(ROOT + "/sub/index.html", b"sub index\n")
    for name in ("env.sh", "echo.sh", "respond.sh", "proc.sh"):
        copy_exec(os.path.join(APPS_DIR, name), os.path.join(CGI, name))
    copy_exec(os.path.join(APPS_DIR, "env.sh"), CGI + "/sub/env.sh")
    copy_exec(os.path.join(APPS_DIR, "env.sh"), CGI + "/.hidden.sh")
    copy_exec(os.path.join(APPS_DIR, "env.sh"), CGI + "/.dir/env.sh")
    src = "#!/bin/sh\n# %s\nprintf 'Content-Type: text/plain\\n\\n%s\\n'\n" % (SOURCE_MARK, SOURCE_MARK)
    write(CGI + "/noexec.sh", src, 0o644)
    write(CGI + "/sub/readme.txt", src, 0o644)
    write(CGI + "/gw.sh", src, 0o775)
    write(CGI + "/owneronly.sh", src, 0o700)          # root's: the server's user cannot run it
    write(CGI + "/badinterp.sh", "#!/nonexistent/interpreter\n# %s\n" % SOURCE_MARK, 0o755)
    write(CGI + "/ow.sh", src, 0o757)
    write(outside + "/evil.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n%s\\n'\n" % OUTSIDE_MARK,
          0o755)
    os.symlink(outside + "/evil.sh", CGI + "/out.sh")
    os.symlink(outside, CGI + "/outdir")
    # --cgi-pattern '*.cgi' (prefix /): scripts anywhere, other files static
    copy_exec(os.path.join(APPS_DIR, "env.sh"), ROOT + "/app/env.cgi")
    write(ROOT + "/app/readme.sh", src, 0o755)        # executable, but not *.cgi: a file
    write(ROOT + "/app/noexec.cgi", src, 0o644)
    write(ROOT + "/app/gw.cgi", src, 0o775)
    # examples and applications
    copy_exec(os.path.join(EXAMPLES, "cgi-bin", "hello.sh"), CGI + "/hello.sh")
    copy_exec(os.path.join(EXAMPLES, "git", "git-http-backend.cgi"), CGI + "/git")
    copy_exec(os.path.join(EXAMPLES, "flask", "app.cgi"), CGI + "/flask/app.cgi")
    write(CGI + "/flask/app.py", open(os.path.join(EXAMPLES, "flask", "app.py"), "rb").read())
    copy_exec(os.path.join(APPS_DIR, "django", "app.cgi"), CGI + "/django/app.cgi")
    if os.path.exists("/usr/lib/cgit/cgit.cgi"):
        # a copy: a symlink out of the document root is never followed
        copy_exec("/usr/lib/cgit/cgit.cgi", CGI + "/cgit.cgi")
    compiled = {}
    for src_c, dst in ((os.path.join(APPS_DIR, "tiny.c"), CGI + "/tiny.cgi"),
                       (os.path.join(EXAMPLES, "cgi-bin", "hello.c"), CGI + "/hello")):
        if CC is None:
            compiled[dst] = "no C compiler (cc)"
            continue
        p = subprocess.run([CC, "-O2", "-o", dst, src_c], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        if p.returncode != 0:
            compiled[dst] = "cc failed: %s" % p.stdout.decode("latin-1")[-300:]
        else:
            os.chmod(dst, 0o755)
    return compiled


# ---------------------------------------------------------------- cases: env

def check_env_common(t, r, label, srv_port):
    """What every env.sh answer must show; -> the parsed sections."""
    sec = parse_sections(r.body)
    env = env_of(sec)
    t.ok(env.get("GATEWAY_INTERFACE") == "CGI/1.1", "%s: GATEWAY_INTERFACE=CGI/1.1" % label,
         env.get("GATEWAY_INTERFACE"))
    t.ok(env.get("SERVER_SOFTWARE") and env.get("SERVER_SOFTWARE") == r.h("Server"),
         "%s: SERVER_SOFTWARE is the server's name (%s)" % (label, r.h("Server")),
         env.get("SERVER_SOFTWARE"))
    t.ok(env.get("SERVER_PORT") == str(srv_port), "%s: SERVER_PORT is the port" % label,
         env.get("SERVER_PORT"))
    t.ok(env.get("REMOTE_PORT") == str(r.client_port), "%s: REMOTE_PORT is the client's port" % label,
         (env.get("REMOTE_PORT"), r.client_port))
    t.ok("QUERY_STRING" in env, "%s: QUERY_STRING is always set" % label)
    t.ok("AUTH_TYPE" not in env and "REMOTE_USER" not in env,
         "%s: no AUTH_TYPE, no REMOTE_USER (the server authenticates nobody)" % label,
         [k for k in env if k in ("AUTH_TYPE", "REMOTE_USER")])
    leaked = [k for k, v in env.items() if k == MARK_NAME or MARK_VALUE in v]
    t.ok(not leaked, "%s: nothing of the server's environment (marker variable, HOME)" % label, leaked)
    t.ok(env.get("PATH"), "%s: PATH is set" % label, env.get("PATH"))
    extra = sorted(k for k in env if k not in RFC_VARS and k not in SHELL_VARS and k not in CGI_ENV_NAMES
                   and k != "PATH" and not k.startswith("HTTP_"))
    t.ok(not extra, "%s: no variable but RFC 3875's, HTTP_*, PATH and --cgi-env's" % label, extra)
    return sec, env


def case_controls(t):
    """The checks below can fail: on a live process group, on a zombie in a
    tree, on a script's bytes in a 502, on a source in a body."""
    p = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        pids = {"script": (p.pid, p.pid)}
        t.ok(running_now(pids), "controls: a planted process group runs")
        v, why = wait_group_gone(pids, 0.3)
        t.ok(not v, "controls: the group-gone check fails on a live group", why)
    finally:
        p.kill()
        p.wait()
    t.ok(gone(p.pid), "controls: ... and passes once it is killed and reaped")
    with ht.PlantedTree() as tree:
        z = [q["pid"] for q in ht.zombies(tree.pid, tree=True)]
        t.ok(tree.zombie in z, "controls: the tree zombie check sees a planted zombie", z)
    fake = ht.parse_response(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 12\r\n\r\nSCRIPTBYTES\n")
    t.ok(not is_fixed(fake, 502), "controls: a 502 with the script's bytes is not the fixed body")
    fake = ht.parse_response(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 14\r\n\r\n#!/bin/sh\n# x\n")
    t.ok(not never_source(fake), "controls: a source in a body is caught")


def case_env_11(t):
    s = SERVERS["main"]
    target = "/cgi-bin/env.sh/p%20i/x?q=1&r=%41+b"
    hdrs = [("Host", "example.test:8080"), ("X-Custom-Field", "custom value"),
            ("x-lower-case", "lower"), ("X-Multi", "one"), ("X-Multi", "two"),
            ("X_Under", "underscore-value"), ("Proxy", "http://evil.example:3128/"),
            ("Authorization", "Basic dXNlcjpwYXNz"), ("Cookie", "a=1"), ("Cookie", "b=2"),
            ("User-Agent", "cgi-test/1")]
    r, err = ask(s.port, target, headers=hdrs)
    if not t.ok(r is not None and r.status == 200, "env 1.1: GET env.sh with path info -> 200",
                err or r):
        return
    sec, env = check_env_common(t, r, "env 1.1", s.port)
    real = os.path.realpath(ROOT)
    checks = [
        ("SERVER_PROTOCOL", "HTTP/1.1"), ("SERVER_NAME", "example.test"),
        ("SERVER_ADDR", "127.0.0.1"), ("REMOTE_ADDR", "127.0.0.1"), ("REQUEST_METHOD", "GET"),
        ("REQUEST_URI", target), ("SCRIPT_NAME", "/cgi-bin/env.sh"),
        ("SCRIPT_FILENAME", real + "/cgi-bin/env.sh"), ("DOCUMENT_ROOT", real),
        ("PATH_INFO", "/p i/x"), ("PATH_TRANSLATED", real + "/p i/x"),
        ("QUERY_STRING", "q=1&r=%41+b"), ("HTTP_HOST", "example.test:8080"),
        ("HTTP_X_CUSTOM_FIELD", "custom value"), ("HTTP_X_LOWER_CASE", "lower"),
        ("HTTP_X_MULTI", "one, two"), ("HTTP_COOKIE", "a=1; b=2"), ("HTTP_USER_AGENT", "cgi-test/1"),
        ("CGI_EXTRA", "hello"), ("CGI_SPACES", "a b=c")]
    for k, v in checks:
        t.ok(env.get(k) == v, "env 1.1: %s=%s" % (k, v), "got %r" % env.get(k))
    for k in ("CONTENT_LENGTH", "CONTENT_TYPE", "HTTP_PROXY", "HTTP_AUTHORIZATION", "HTTP_X_UNDER",
              "HTTP_X_Under"):
        t.ok(k not in env, "env 1.1: no %s" % k, "%s=%r" % (k, env.get(k)))
    t.ok(not [k for k, v in env.items() if "underscore-value" in v],
         "env 1.1: a field with '_' in its name is dropped (X_Under)",
         [k for k, v in env.items() if "underscore-value" in v])
    t.ok(not [k for k, v in env.items() if "evil.example" in v],
         "env 1.1: the Proxy field reaches no variable (httpoxy)")
    t.ok(not [k for k, v in env.items() if "dXNlcjpwYXNz" in v],
         "env 1.1: the Authorization credentials reach no variable without --cgi-pass-auth")
    bad = [k for k in env if k.startswith("HTTP_") and not re.match(r"^HTTP_[A-Z0-9_]+$", k)]
    t.ok(not bad, "env 1.1: HTTP_* names are upper case with '_' for '-'", bad)
    # the process
    cwd = (sec.get("cwd") or [""])[0]
    t.ok(cwd == os.path.realpath(CGI), "env: the working directory is the script's directory",
         "%r vs %r" % (cwd, os.path.realpath(CGI)))
    script_path = os.path.realpath(CGI + "/env.sh")
    for which in ("fd-self", "fd-child", "fd-grandchild"):
        tab = fd_table(sec.get(which, []))
        # allowed beyond 0..2: the shell's own descriptor on its script file
        # (fd-self), the directory `ls` opened to list (fd-child/grandchild)
        extra = {fd: tg for fd, tg in tab.items() if fd > 2 and not (
            (which == "fd-self" and tg == script_path) or re.match(r"^/proc/\d+/fd$", tg))}
        t.ok(set(range(3)) <= set(tab) and not extra,
             "env: only descriptors 0, 1, 2 open in the %s" % {
                 "fd-self": "script", "fd-child": "script's child",
                 "fd-grandchild": "script's grandchild"}[which],
             "fds: %s" % tab)
        socks = {fd: tg for fd, tg in tab.items() if tg.startswith("socket:")}
        t.ok(tab and not socks, "env: no socket (listening or client) in the %s" % which, tab)
    tab = fd_table(sec.get("fd-self", []))
    t.ok(str(tab.get(0, "")).startswith("pipe:"),
         "env: stdin of a request without a body is an empty pipe (EOF at once; no /dev "
         "needed in a chroot)", tab.get(0))
    t.ok(str(tab.get(1, "")).startswith("pipe:") and str(tab.get(2, "")).startswith("pipe:"),
         "env: stdout and stderr are pipes to the server", (tab.get(1), tab.get(2)))
    for which in ("status-self", "status-child"):
        ign = status_field(sec.get(which, []), "SigIgn")
        blk = status_field(sec.get(which, []), "SigBlk")
        try:
            ign_v, blk_v = int(ign, 16), int(blk, 16)
        except (TypeError, ValueError):
            ign_v = blk_v = None
        t.ok(ign_v is not None and not ign_v & (1 << (signal.SIGPIPE - 1)),
             "env: SIGPIPE is not ignored in the %s" % which.replace("status-", ""), ign)
        # signals 32 and 33 are glibc's own (cancellation, setxid): a glibc
        # process cannot change them (sigaction refuses), and `make` runs
        # its recipes with them ignored; every glibc program installs its
        # own handlers for them at start
        glibc_rt = (1 << 31) | (1 << 32)
        t.ok(ign_v is not None and ign_v & ~glibc_rt == 0,
             "env: no signal ignored in the %s (SigIgn 0, but glibc's 32 and 33)"
             % which.replace("status-", ""), ign)
        t.ok(blk_v == 0, "env: empty signal mask in the %s (SigBlk 0)" % which.replace("status-", ""),
             blk)
    st = " ".join(sec.get("stat-self", [])).strip()
    try:
        f = st[st.rfind(")") + 2:].split()
        pid, pgrp = int(st.split()[0]), int(f[2])
    except (ValueError, IndexError):
        pid = pgrp = None
    t.ok(pid is not None and pid == pgrp, "env: the script leads its own process group",
         "pid %s pgrp %s" % (pid, pgrp))
    t.ok(pgrp is not None and pgrp != pgrp_of(s.pid),
         "env: the script's group is not the server's", (pgrp, pgrp_of(s.pid)))


def case_env_10(t):
    s = SERVERS["main"]
    r, err = ask(s.port, "/cgi-bin/env.sh", version="1.0", host=None)
    if not t.ok(r is not None and r.status == 200, "env 1.0: GET env.sh HTTP/1.0 -> 200", err or r):
        return
    ra, err = ask(s.port, "/cgi-bin/env.sh?-n+word")
    argc = (parse_sections(ra.body).get("argc") or ["?"])[0] if ra else "?"
    t.ok(argc == "0", "env: a query without '=' (\"-n+word\") gives the script no arguments "
         "(no RFC 3875 4.4 command line)", "argc %s" % argc)
    sec, env = check_env_common(t, r, "env 1.0", s.port)
    t.ok(env.get("SERVER_PROTOCOL") == "HTTP/1.0", "env 1.0: SERVER_PROTOCOL=HTTP/1.0",
         env.get("SERVER_PROTOCOL"))
    t.ok(env.get("SERVER_NAME") == "127.0.0.1",
         "env 1.0: without Host, SERVER_NAME is the address the request came to",
         env.get("SERVER_NAME"))
    t.ok(env.get("QUERY_STRING") == "", "env 1.0: QUERY_STRING is \"\" without a query",
         repr(env.get("QUERY_STRING")))
    t.ok("PATH_INFO" not in env and "PATH_TRANSLATED" not in env,
         "env 1.0: no PATH_INFO, no PATH_TRANSLATED without path info",
         (env.get("PATH_INFO"), env.get("PATH_TRANSLATED")))
    t.ok(env.get("SCRIPT_NAME") == "/cgi-bin/env.sh" and env.get("REQUEST_URI") == "/cgi-bin/env.sh",
         "env 1.0: SCRIPT_NAME and REQUEST_URI", (env.get("SCRIPT_NAME"), env.get("REQUEST_URI")))
    t.ok("HTTP_HOST" not in env, "env 1.0: no HTTP_HOST without a Host field")


def case_env_body(t):
    s = SERVERS["main"]
    r, err = ask(s.port, "/cgi-bin/env.sh?with=body", method="POST", body=b"a=1&b=2",
                 headers=[("Content-Type", "application/x-www-form-urlencoded")])
    if not t.ok(r is not None and r.status == 200, "env body: POST env.sh -> 200", err or r):
        return
    sec, env = check_env_common(t, r, "env body", s.port)
    t.ok(env.get("CONTENT_LENGTH") == "7", "env body: CONTENT_LENGTH=7", env.get("CONTENT_LENGTH"))
    t.ok(env.get("CONTENT_TYPE") == "application/x-www-form-urlencoded",
         "env body: CONTENT_TYPE is the request's Content-Type", env.get("CONTENT_TYPE"))
    t.ok("HTTP_CONTENT_LENGTH" not in env and "HTTP_CONTENT_TYPE" not in env,
         "env body: no HTTP_CONTENT_LENGTH, no HTTP_CONTENT_TYPE",
         [k for k in env if k.startswith("HTTP_CONTENT")])
    t.ok(env.get("REQUEST_METHOD") == "POST", "env body: REQUEST_METHOD=POST", env.get("REQUEST_METHOD"))
    tab = fd_table(sec.get("fd-self", []))
    t.ok(str(tab.get(0, "")).startswith("pipe:"), "env body: stdin is a pipe (the body)", tab.get(0))
    # a GET with Content-Type but no body: CONTENT_TYPE absent too
    r, err = ask(s.port, "/cgi-bin/env.sh", headers=[("Content-Type", "text/plain")])
    env = env_of(parse_sections(r.body)) if r else {}
    t.ok(r is not None and "CONTENT_TYPE" not in env and "CONTENT_LENGTH" not in env
         and "HTTP_CONTENT_TYPE" not in env,
         "env body: a request without a body has no CONTENT_TYPE/CONTENT_LENGTH even with the field",
         err or [k for k in env if "CONTENT" in k])


def case_env_more(t):
    s = SERVERS["main"]
    p = s.port
    for method in ("PUT", "DELETE", "OPTIONS", "PATCH"):
        r, err = ask(p, "/cgi-bin/env.sh", method=method, body=b"x" if method in ("PUT", "PATCH") else b"")
        env = env_of(parse_sections(r.body)) if r else {}
        t.ok(r is not None and r.status == 200 and env.get("REQUEST_METHOD") == method,
             "env: %s reaches the script as REQUEST_METHOD=%s" % (method, method), err or r)
    q = "q=" + "x" * 7000
    r, err = ask(p, "/cgi-bin/env.sh?" + q)
    env = env_of(parse_sections(r.body)) if r else {}
    t.ok(r is not None and env.get("QUERY_STRING") == q, "env: a 7000-byte query string is passed whole",
         err or len(env.get("QUERY_STRING", "")))
    big = "k=" + "c" * 20000
    r, err = ask(p, "/cgi-bin/env.sh", headers=[("Cookie", big), ("X-Big", "v" * 5000)])
    env = env_of(parse_sections(r.body)) if r else {}
    t.ok(r is not None and env.get("HTTP_COOKIE") == big and env.get("HTTP_X_BIG") == "v" * 5000,
         "env: a 20000-byte Cookie and a 5000-byte field are passed whole",
         err or (len(env.get("HTTP_COOKIE", "")), len(env.get("HTTP_X_BIG", ""))))
    many = [("X-F%02d" % i, "v%d" % i) for i in range(50)]
    r, err = ask(p, "/cgi-bin/env.sh", headers=many)
    env = env_of(parse_sections(r.body)) if r else {}
    t.ok(r is not None and all(env.get("HTTP_X_F%02d" % i) == "v%d" % i for i in range(50)),
         "env: 50 request fields all become HTTP_* variables", err or r)
    r, err = ask(p, "http://abs.example:9/cgi-bin/env.sh?abs", host="host.example")
    env = env_of(parse_sections(r.body)) if r else {}
    t.ok(r is not None and env.get("SERVER_NAME") == "abs.example"
         and env.get("REQUEST_URI") == "http://abs.example:9/cgi-bin/env.sh?abs"
         and env.get("SCRIPT_NAME") == "/cgi-bin/env.sh" and env.get("QUERY_STRING") == "abs",
         "env: an absolute-form target: SERVER_NAME from it (RFC 9112 3.2.2), REQUEST_URI as sent",
         err or {k: env.get(k) for k in ("SERVER_NAME", "REQUEST_URI", "SCRIPT_NAME", "QUERY_STRING")})


def case_env_passauth(t):
    s = SERVERS["passauth"]
    r, err = ask(s.port, "/cgi-bin/env.sh", headers=[("Authorization", "Basic dXNlcjpwYXNz"),
                                                     ("Proxy", "http://evil.example/")])
    env = env_of(parse_sections(r.body)) if r else {}
    t.ok(r is not None and env.get("HTTP_AUTHORIZATION") == "Basic dXNlcjpwYXNz",
         "env --cgi-pass-auth: HTTP_AUTHORIZATION is passed", err or env.get("HTTP_AUTHORIZATION"))
    t.ok(r is not None and "REMOTE_USER" not in env and "AUTH_TYPE" not in env
         and "HTTP_PROXY" not in env,
         "env --cgi-pass-auth: still no REMOTE_USER, AUTH_TYPE or HTTP_PROXY",
         [k for k in env if k in ("REMOTE_USER", "AUTH_TYPE", "HTTP_PROXY")])


def case_env_mapped(t):
    s = SERVERS["mapped"]
    r, err = ask(s.port, "/cgi-bin/env.sh")
    env = env_of(parse_sections(r.body)) if r else {}
    t.ok(r is not None and env.get("REMOTE_ADDR") == "127.0.0.1",
         "env [::ffff:127.0.0.1] socket, IPv4 client: REMOTE_ADDR=127.0.0.1 (not ::ffff:127.0.0.1)",
         err or env.get("REMOTE_ADDR"))
    t.ok(r is not None and env.get("SERVER_ADDR") == "127.0.0.1",
         "env [::ffff:127.0.0.1] socket: SERVER_ADDR=127.0.0.1", err or env.get("SERVER_ADDR"))


def case_env_v6(t):
    s = SERVERS.get("v6")
    if s is None:
        t.skip("env on ::1 (2 assertions)", "no IPv6 loopback on this machine")
        return
    r, err = ask(s.port, "/cgi-bin/env.sh", addr="::1", host="[::1]:%d" % s.port)
    env = env_of(parse_sections(r.body)) if r else {}
    t.ok(r is not None and env.get("REMOTE_ADDR") == "::1", "env ::1: REMOTE_ADDR=::1",
         err or env.get("REMOTE_ADDR"))
    t.ok(r is not None and env.get("SERVER_NAME") == "[::1]",
         "env ::1: SERVER_NAME of Host [::1]:port is [::1] (RFC 3875 4.1.14)",
         err or env.get("SERVER_NAME"))


# ---------------------------------------------------------------- cases: lookup

LOOKUP_CASES = []


def never_source(r, marks=(SOURCE_MARK, "#!/bin/sh")):
    raw = r.raw() if r is not None else b""
    return not any(m.encode() in raw for m in marks)


def case_lookup(t):
    s = SERVERS["main"]
    if IS_ROOT and NOBODY:
        LOOKUP_CASES.append(("/cgi-bin/owneronly.sh", (403, 500),
                             "a script (0700) only its owner, root, may read and run"))
    p = s.port
    for path, want, what in LOOKUP_CASES + [
            ("/cgi-bin/noexec.sh", 403, "a non-executable file"),
            ("/cgi-bin/noexec.sh/extra", 403, "a non-executable file with path info"),
            ("/cgi-bin/noexec.sh?q", 403, "a non-executable file with a query"),
            ("/cgi-bin/sub/readme.txt", 403, "a plain file in a subdirectory"),
            ("/cgi-bin/", 403, "the prefix directory"), ("/cgi-bin", 403, "the prefix without '/'"),
            ("/cgi-bin/sub/", 403, "a directory"), ("/cgi-bin/sub", 403, "a directory without '/'"),
            ("/cgi-bin/missing.sh", 404, "a missing file"),
            ("/cgi-bin/missing.sh/extra", 404, "a missing file with path info"),
            ("/cgi-bin/sub/missing", 404, "a missing file in a subdirectory"),
            ("/cgi-bin/.hidden.sh", 404, "an executable dotfile"),
            ("/cgi-bin/.dir/env.sh", 404, "a script in a dot directory"),
            ("/cgi-bin/out.sh", 404, "a symlink leading out of the root"),
            ("/cgi-bin/outdir/evil.sh", 404, "a script under a directory symlink out of the root"),
            ("/cgi-bin/gw.sh", 500, "a group-writable script"),
            ("/cgi-bin/ow.sh", 500, "an other-writable script"),
            ("/cgi-bin/badinterp.sh", 500, "a script whose interpreter is missing (exec fails)")]:
        r, err = ask(p, path)
        wants = want if isinstance(want, tuple) else (want,)
        t.ok(r is not None and r.status in wants and never_source(r, (SOURCE_MARK, OUTSIDE_MARK)),
             "lookup: %s (%s) -> %s, never its source" % (path, what, "/".join(map(str, wants))),
             "%s; site %s" % (err or r, s.site(path.split("?")[0] + " ")))
        if path == "/cgi-bin/noexec.sh":
            r, err = ask(p, path, method="HEAD")
            t.ok(r is not None and r.status == 403, "lookup: HEAD %s -> 403" % path, err or r)
            r, err = ask(p, path, method="POST", body=b"x=1")
            t.ok(r is not None and r.status == 403 and never_source(r),
                 "lookup: POST %s -> 403" % path, err or r)
    # traversal: refused, whatever the encoding; never a file outside
    for path in ("/cgi-bin/../../etc/passwd", "/cgi-bin/%2e%2e/%2e%2e/etc/passwd",
                 "/cgi-bin/..%2f..%2fetc%2fpasswd", "/cgi-bin/env.sh/../../../etc/passwd",
                 "/cgi-bin/%2E%2E/%2E%2E/%2E%2E/etc/passwd", "/cgi-bin/sub/..%2f..%2f..%2fetc/passwd",
                 "/cgi-bin/outdir/../../outside/evil.sh"):
        r, err = ask(p, path)
        t.ok(r is not None and r.status in (400, 403, 404) and b"root:" not in r.raw()
             and never_source(r, (OUTSIDE_MARK,)),
             "lookup: traversal %s refused (400/403/404)" % path, err or r)
    # every other spelling of a path under the prefix is under the prefix
    for path in ("/cgi%2Dbin/noexec.sh", "/cgi%2dbin/noexec.sh", "/%63gi-bin/noexec.sh",
                 "/cgi-bin/noexec%2Esh", "/cgi-bin//noexec.sh", "//cgi-bin/noexec.sh",
                 "/./cgi-bin/noexec.sh", "/cgi-bin/./noexec.sh", "/sub/../cgi-bin/noexec.sh",
                 "/cgi-bin/sub/../noexec.sh", "http://127.0.0.1/cgi-bin/noexec.sh",
                 "http://127.0.0.1/cgi%2Dbin/noexec.sh"):
        for method in ("GET", "HEAD"):
            r, err = ask(p, path, method=method)
            t.ok(r is not None and r.status in (400, 403, 404) and never_source(r),
                 "lookup: %s %s is under the prefix: 403, never the source" % (method, path),
                 err or r)
    for path in ("/cgi%2Dbin/env.sh", "/%63gi-bin/env%2Esh", "//cgi-bin/env.sh", "/cgi-bin//env.sh",
                 "/cgi-bin/./env.sh", "/static/../cgi-bin/env.sh", "http://127.0.0.1/cgi%2dbin/env.sh"):
        r, err = ask(p, path)
        env = env_of(parse_sections(r.body)) if r else {}
        t.ok(r is not None and r.status in (200, 400, 404) and never_source(r, ("#!/bin/sh",))
             and (r.status != 200 or (env.get("GATEWAY_INTERFACE") == "CGI/1.1"
                                      and env.get("SCRIPT_NAME") == "/cgi-bin/env.sh")),
             "lookup: %s runs the script (or is refused), never shows its source" % path, err or r)
    # PATH_INFO: after the first segment that names a file
    for path, sn, pi in [("/cgi-bin/sub/env.sh/more/path", "/cgi-bin/sub/env.sh", "/more/path"),
                         ("/cgi-bin/env.sh/env.sh", "/cgi-bin/env.sh", "/env.sh"),
                         ("/cgi-bin/env.sh/sub/env.sh/x", "/cgi-bin/env.sh", "/sub/env.sh/x"),
                         ("/cgi-bin/env.sh/", "/cgi-bin/env.sh", "/"),
                         ("/cgi-bin/env.sh/a%2Bb%25c", "/cgi-bin/env.sh", "/a+b%c")]:
        r, err = ask(p, path)
        env = env_of(parse_sections(r.body)) if r else {}
        t.ok(r is not None and r.status == 200 and env.get("SCRIPT_NAME") == sn
             and env.get("PATH_INFO") == pi,
             "lookup: %s -> SCRIPT_NAME %s, PATH_INFO %s" % (path, sn, pi),
             err or (r.status, env.get("SCRIPT_NAME"), env.get("PATH_INFO")))
    # outside the prefix: static files as ever
    r, err = ask(p, "/static.txt")
    t.ok(r is not None and r.status == 200 and r.body == STATIC, "lookup: /static.txt outside the prefix is a file",
         err or r)
    r, err = ask(p, "/")
    t.ok(r is not None and r.status == 200 and r.body == INDEX, "lookup: / outside the prefix is index.html",
         err or r)


def case_pattern(t):
    s = SERVERS["pattern"]
    p = s.port
    r, err = ask(p, "/app/env.cgi/extra?x=1")
    env = env_of(parse_sections(r.body)) if r else {}
    t.ok(r is not None and r.status == 200 and env.get("SCRIPT_NAME") == "/app/env.cgi"
         and env.get("PATH_INFO") == "/extra" and env.get("QUERY_STRING") == "x=1",
         "--cgi-pattern '*.cgi': /app/env.cgi/extra runs the script", err or r)
    r, err = ask(p, "/app/readme.sh")
    t.ok(r is not None and r.status == 200 and SOURCE_MARK.encode() in r.body,
         "--cgi-pattern '*.cgi': an executable /app/readme.sh is served as a file", err or r)
    r, err = ask(p, "/cgi-bin/env.sh")
    t.ok(r is not None and r.status == 200 and r.body.startswith(b"#!/bin/sh"),
         "--cgi-pattern '*.cgi': /cgi-bin/env.sh (not *.cgi) is served as a file", err or r)
    r, err = ask(p, "/static.txt")
    t.ok(r is not None and r.status == 200 and r.body == STATIC,
         "--cgi-pattern '*.cgi': /static.txt is a file", err or r)
    r, err = ask(p, "/app/noexec.cgi")
    t.ok(r is not None and r.status == 403 and never_source(r),
         "--cgi-pattern '*.cgi': a non-executable *.cgi -> 403, never its source", err or r)
    r, err = ask(p, "/app/gw.cgi")
    t.ok(r is not None and r.status == 500 and never_source(r),
         "--cgi-pattern '*.cgi': a group-writable *.cgi -> 500, never its source", err or r)
    r, err = ask(p, "/app/missing.cgi")
    t.ok(r is not None and r.status == 404, "--cgi-pattern '*.cgi': a missing *.cgi -> 404", err or r)
    r, err = ask(p, "/app/env%2Ecgi")
    t.ok(r is not None and r.status == 200 and never_source(r, ("#!/bin/sh",)),
         "--cgi-pattern '*.cgi': /app/env%2Ecgi runs the script, never its source", err or r)
    # directories are no scripts: the static handler's answers (index.html, 301)
    r, err = ask(p, "/")
    t.ok(r is not None and r.status == 200 and r.body == INDEX,
         "--cgi-pattern '*.cgi': GET / is the index.html (a directory is no script)",
         "%s; site %s" % (err or r, s.site('"GET / ')))
    r, err = ask(p, "/sub/")
    t.ok(r is not None and r.status == 200 and r.body == b"sub index\n",
         "--cgi-pattern '*.cgi': GET /sub/ is sub/index.html",
         "%s; site %s" % (err or r, s.site('"GET /sub/ ')))
    r, err = ask(p, "/sub")
    t.ok(r is not None and r.status == 301, "--cgi-pattern '*.cgi': GET /sub -> 301 to /sub/",
         "%s; site %s" % (err or r, s.site('"GET /sub ')))


# ---------------------------------------------------------------- cases: process

def running_now(pids):
    """The script and its child (when there is one) run: the gone checks
    below start from processes that existed."""
    pid, pgid = pids["script"]
    child = pids.get("child")
    return ht.read_stat(pid) is not None and ht.read_stat(pid)["state"] not in "ZX" and \
        (child is None or (ht.read_stat(child) is not None and ht.read_stat(child)["state"] not in "ZX"))


def wait_group_gone(pids, timeout=3.0):
    """(ok, why): the script, its child and every member of its group gone."""
    pid, pgid = pids["script"]
    child = pids.get("child")

    def done():
        return gone(pid) and (child is None or gone(child)) and not group_members(pgid)
    v, err = ht.poll(done, timeout, 0.05)
    why = None
    if not v:
        why = "script %d %s, child %s %s, group %d: %s" % (
            pid, ht.read_stat(pid), child, child and ht.read_stat(child), pgid, group_members(pgid))
    return v, why


def tag_of(name):
    return "%s-%d-%d" % (name, os.getpid(), random.getrandbits(24))


def case_client_gone(t):
    s = SERVERS["main"]
    for mode in ("chatty", "silent"):
        tag = tag_of(mode)
        c = ht.Conn(s.port, timeout=10)
        c.send(build("GET", "/cgi-bin/proc.sh?%s&%s" % (mode, tag)))
        want, times = (b"line of output\n", 3) if mode == "chatty" else (b"started\n", 1)
        got = ht.wait_for(lambda: (c._recv(time.monotonic() + 5) or True) and c.buf.count(want) >= times,
                          6, 0)
        pids = read_pids(tag, ("script", "child"))
        t.ok(got and pids and running_now(pids),
             "process: %s script started and streams (it and its child run)" % mode, esc(c.buf, 200))
        if mode == "chatty":            # a reset; the silent one gets a plain FIN
            c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        c.close()
        if pids:
            v, why = wait_group_gone(pids, 3.0)
            t.ok(v, "process: the client gone mid-response (%s script, %s): its whole group killed and "
                 "reaped within 3 s" % (mode, "RST" if mode == "chatty" else "FIN"), why)


def case_timeout(t):
    s = SERVERS["main"]
    tag = tag_of("mute")
    t0 = time.monotonic()
    c = ht.Conn(s.port, timeout=CGI_TIMEOUT + 8)
    c.send(build("GET", "/cgi-bin/proc.sh?mute&" + tag))
    pids = read_pids(tag, ("script", "child"), 1.0)
    t.ok(pids and running_now(pids), "process: the mute script and its child run", pids)
    try:
        r, err = c.read_response(timeout=CGI_TIMEOUT + 8), None
    except ht.ProtoError as e:
        r, err = None, str(e)
    c.close()
    dt = time.monotonic() - t0
    t.ok(is_fixed(r, 504) and never_source(r),
         "process: a script silent past --cgi-timeout %d with nothing sent -> 504 (fixed body)" % CGI_TIMEOUT,
         err or r)
    t.ok(CGI_TIMEOUT - 0.5 <= dt <= CGI_TIMEOUT + 4,
         "process: the 504 came after about --cgi-timeout (%.1f s)" % dt)
    if pids:
        v, why = wait_group_gone(pids, 3.0)
        t.ok(v, "process: the silent script's group killed and reaped after the timeout", why)
    # silent after the response began: the connection is closed, the body
    # left incomplete (no last chunk), the group killed
    tag = tag_of("silent")
    c = ht.Conn(s.port, timeout=CGI_TIMEOUT + 8)
    c.send(build("GET", "/cgi-bin/proc.sh?silent&" + tag))
    t0 = time.monotonic()
    closed, data = c.wait_closed(CGI_TIMEOUT + 6)
    dt = time.monotonic() - t0
    c.close()
    t.ok(closed and data.startswith(b"HTTP/1.1 200 ") and b"started\n" in data
         and not data.endswith(b"0\r\n\r\n"),
         "process: silent past the timeout after output began: the connection closes, "
         "no last chunk (%.1f s)" % dt, esc(data, 300))
    pids = read_pids(tag, ("script", "child"), 1.0)
    if pids:
        v, why = wait_group_gone(pids, 3.0)
        t.ok(v, "process: ... and the script's group is killed and reaped", why)


def case_timer(t):
    """--cgi-timeout is silence, not a total: output or a body still arriving
    is not silence."""
    s = SERVERS["main"]
    t0 = time.monotonic()
    r, err = ask(s.port, "/cgi-bin/proc.sh?dribble&" + tag_of("dribble"), timeout=CGI_TIMEOUT + 8)
    dt = time.monotonic() - t0
    t.ok(r is not None and r.status == 200 and r.body.count(b"tick ") == 6,
         "process: a script printing every 0.5 s for 3 s outlives --cgi-timeout %d (%.1f s)"
         % (CGI_TIMEOUT, dt), err or r)
    # the body arrives over 3.6 s; the script reads it all before it answers
    c = ht.Conn(s.port, timeout=15)
    pieces = [b"%d" % i * 1000 for i in range(6)]
    total = b"".join(pieces)
    c.send(build("POST", "/cgi-bin/proc.sh?readall&" + tag_of("readall"),
                 headers=[("Content-Length", str(len(total)))]))
    for piece in pieces:
        time.sleep(0.6)
        if not c.send(piece):
            break
    try:
        r = c.read_response(timeout=10)
    except ht.ProtoError as e:
        r = str(e)
    c.close()
    t.ok(isinstance(r, ht.Resp) and r.status == 200 and r.body == b"read %d\n" % len(total),
         "process: a script waiting for a body that takes 3.6 s to arrive is not 'silent' "
         "(--cgi-timeout %d)" % CGI_TIMEOUT, r)
    # the client goes away halfway through its upload: the script is killed
    tag = tag_of("upgone")
    c = ht.Conn(s.port, timeout=10)
    c.send(build("POST", "/cgi-bin/proc.sh?readall&" + tag, headers=[("Content-Length", "1048576")]))
    c.send(b"u" * 100000)
    pids = read_pids(tag)
    c.close()
    if t.ok(pids, "process: the uploading script started"):
        v, why = wait_group_gone(pids, 3.0)
        t.ok(v, "process: the client gone halfway through its upload: the script's group is killed "
             "and reaped", why)


def case_sigterm(t):
    s = start_server("term", "cgi-term", ["-x", "/cgi-bin/", "-g", "2", "-C", "0",
                                          "-e", "PIDDIR=" + PIDDIR])
    conns, tags = [], []
    for mode in ("chatty", "silent", "mute"):
        tag = tag_of("term-" + mode)
        c = ht.Conn(s.port, timeout=10)
        c.send(build("GET", "/cgi-bin/proc.sh?%s&%s" % (mode, tag)))
        conns.append(c)
        tags.append((mode, tag))
    allp = {}
    for mode, tag in tags:
        allp[mode] = read_pids(tag, ("script", "child"))
    t.ok(all(allp.values()) and all(running_now(v) for v in allp.values()),
         "process: three scripts (and their children) running before SIGTERM", allp)
    time.sleep(0.3)
    s.signal(signal.SIGTERM)
    rc = s.wait_exit(2 + 5)
    t.ok(rc == 0, "process: the server exits 0 within -g 2 + 5 s of SIGTERM with scripts running",
         "rc %r" % rc)
    for mode, pids in allp.items():
        if pids:
            v, why = wait_group_gone(pids, 3.0)
            t.ok(v, "process: at SIGTERM the %s script's whole group is killed and reaped" % mode, why)
    for c, (mode, tag) in zip(conns, tags):
        closed, extra = c.wait_closed(3.0)
        t.ok(closed, "process: at SIGTERM the client of the %s script sees its connection closed" % mode)
        c.close()
    s.stop()


def case_daemon(t):
    s = SERVERS["main"]
    for version in ("1.1", "1.0"):
        tag = tag_of("daemon")
        c = ht.Conn(s.port, timeout=10)
        t0 = time.monotonic()
        c.send(build("GET", "/cgi-bin/proc.sh?daemon&" + tag, version=version))
        try:
            r = c.read_response(timeout=8)
        except ht.ProtoError as e:
            r = None
            err = str(e)
        dt = time.monotonic() - t0
        t.ok(r is not None and r.status == 200 and r.body == b"bye\n" and dt < 3,
             "process: HTTP/%s, a grandchild keeps stdout open after the script exits: the response "
             "ends at once (%.1f s)" % (version, dt), r or err)
        if version == "1.1":
            c.send(build("GET", "/cgi-bin/respond.sh?cl"))
            try:
                r2 = c.read_response(timeout=5)
            except ht.ProtoError as e:
                r2 = str(e)
            t.ok(isinstance(r2, ht.Resp) and r2.status == 200 and r2.body == b"hello\n",
                 "process: ... and the connection serves the next request", r2)
        c.close()
        pids = read_pids(tag, ("script", "child"), 1.0)
        if pids:
            v, why = wait_group_gone(pids, 3.0)
            t.ok(v, "process: HTTP/%s, the grandchild in the script's group is killed when the "
                 "script is done, and reaped" % version, why)
    # a script that closes its stdout and lingers: the response ends there
    tag = tag_of("closeout")
    t0 = time.monotonic()
    r, err = ask(s.port, "/cgi-bin/proc.sh?closeout&" + tag, timeout=8)
    dt = time.monotonic() - t0
    t.ok(r is not None and r.status == 200 and r.body == b"closed\n" and dt < 3,
         "process: a script that closes stdout and lingers: the response ends then (%.1f s)" % dt, err or r)
    pids = read_pids(tag, timeout=1.0)
    if pids:
        v, why = wait_group_gone(pids, 3.0)
        t.ok(v, "process: ... and the lingering script is killed and reaped", why)
    # a grandchild in a session of its own: out of reach of the group kill,
    # but it must not hold the response either
    tag = tag_of("setsid")
    t0 = time.monotonic()
    r, err = ask(s.port, "/cgi-bin/proc.sh?setsid&" + tag, timeout=8)
    dt = time.monotonic() - t0
    pids = read_pids(tag, ("script", "child"), 1.0)
    if pids:
        STRAYS.add(pids["child"])
    t.ok(r is not None and r.status == 200 and r.body == b"bye\n" and dt < 3,
         "process: a setsid grandchild holding stdout does not hold the response (%.1f s)" % dt,
         err or r)
    if pids:
        ht.kill_quietly(pids["child"])
        STRAYS.discard(pids["child"])


def case_stderr(t):
    s = SERVERS["stderr"]
    before = len(s.stderr_bytes())
    tag = tag_of("stderr")
    t0 = time.monotonic()
    r, err = ask(s.port, "/cgi-bin/proc.sh?stderr&" + tag, timeout=30)
    dt = time.monotonic() - t0
    t.ok(r is not None and r.status == 200 and r.body == b"stderr done\n",
         "process: a script writing 10 MB to stderr first is not blocked (200 in %.1f s)" % dt, err or r)
    time.sleep(0.2)
    grown = len(s.stderr_bytes()) - before
    t.ok(0 < grown <= 65536 + 4096,
         "process: the server's stderr grew by at most 64 KiB (+4 KiB) for 10 MB of script stderr "
         "(%d bytes)" % grown)
    r2, err = ask(s.port, "/cgi-bin/respond.sh?cl")
    t.ok(r2 is not None and r2.status == 200, "process: the server serves on after the stderr flood",
         err or r2)
    tag = tag_of("mark")
    r, err = ask(s.port, "/cgi-bin/proc.sh?stderrmark&" + tag)
    ok = ht.wait_for(lambda: ("stderr-marker-" + tag).encode() in s.stderr_bytes(), 2.0)
    t.ok(r is not None and r.status == 200 and ok,
         "process: the script's stderr reaches the server's stderr", err or r)


# ---------------------------------------------------------------- cases: body

def case_bodies(t):
    s = SERVERS["main"]
    p = s.port
    body = random.Random(1).randbytes(2 * 1024 * 1024)
    r, err, c = exchange(p, build("POST", "/cgi-bin/echo.sh?exact", body=body,
                                  headers=[("Content-Type", "application/x-test")]))
    t.ok(r is not None and r.status == 200 and r.body == body and r.h("X-Content-Length") == str(len(body))
         and r.h("X-Content-Type") == "application/x-test",
         "body: a 2 MiB Content-Length body is streamed to stdin and echoed back intact "
         "(a script reading CONTENT_LENGTH bytes)",
         err or (r.status, len(r.body), r.h("X-Content-Length")))
    c.close()
    # a script that reads its stdin to EOF (cat): the body's end must be an EOF
    for size in (3, 2 * 1024 * 1024):
        body = random.Random(size).randbytes(size)
        t0 = time.monotonic()
        r, err, c = exchange(p, build("POST", "/cgi-bin/echo.sh", body=body), timeout=CGI_TIMEOUT + 8)
        dt = time.monotonic() - t0
        t.ok(r is not None and r.status == 200 and r.body == body and dt < CGI_TIMEOUT,
             "body: a script reading stdin to EOF (cat) gets EOF after a %d-byte Content-Length body "
             "(whole echo in %.1f s; --cgi-timeout %d)" % (size, dt, CGI_TIMEOUT),
             err or (r.status, len(r.body)))
        c.close()
    # a script that writes 2 MiB before it reads its input (1 MiB): no deadlock
    inp = random.Random(2).randbytes(1024 * 1024)
    t0 = time.monotonic()
    r, err, c = exchange(p, build("POST", "/cgi-bin/proc.sh?bigfirst&" + tag_of("bf"), body=inp))
    t.ok(r is not None and r.status == 200 and r.body == b"\0" * 2097152 + b"1048576\n",
         "body: a script writing 2 MiB before reading a 1 MiB body does not deadlock (%.1f s)"
         % (time.monotonic() - t0), err or (r.status, len(r.body), r.body[-20:]))
    c.close()
    # a script that never reads a 1 MiB body: the answer arrives; the
    # connection then serves on or closes cleanly
    r, err, c = exchange(p, build("POST", "/cgi-bin/proc.sh?noread&" + tag_of("nr"), body=inp))
    t.ok(r is not None and r.status == 200 and r.body == b"ignored\n",
         "body: a script that never reads its 1 MiB body: the response arrives", err or r)
    after = None
    if r is not None:
        c.send(build("GET", "/cgi-bin/respond.sh?cl"))
        try:
            r2 = c.read_response(timeout=5)
            after = "served" if r2 is not None and r2.status == 200 and r2.body == b"hello\n" else \
                "closed" if r2 is None else "bad: %r" % r2
        except (ht.ProtoError, OSError) as e:
            after = "closed" if "EOF" in str(e) or isinstance(e, OSError) else "bad: %s" % e
    t.ok(after in ("served", "closed"),
         "body: ... and the connection then serves the next request or is closed cleanly (%s)" % after)
    c.close()
    # chunked request bodies: decoded, with a CONTENT_LENGTH
    data = random.Random(3).randbytes(300 * 1024 + 7)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 7000]), data[i:i + 7000])
                      for i in range(0, len(data), 7000))
    req = build("POST", "/cgi-bin/echo.sh", headers=[("Transfer-Encoding", "chunked")]) + \
        chunks + b"0\r\nX-Trailer: t\r\n\r\n"
    r, err, c = exchange(p, req)
    t.ok(r is not None and r.status == 200 and r.body == data and r.h("X-Content-Length") == str(len(data)),
         "body: a chunked body is decoded for the script, with CONTENT_LENGTH=%d" % len(data),
         err or (r.status, len(r.body), r.h("X-Content-Length")))
    c.close()
    r, err = ask(p, "/cgi-bin/echo.sh", method="POST", headers=[("Transfer-Encoding", "chunked")],
                 body=b"0\r\n\r\n")
    t.ok(r is not None and r.status == 200 and r.body == b"" and r.h("X-Content-Length") == "0",
         "body: an empty chunked body gives CONTENT_LENGTH=0", err or r)
    # Expect: 100-continue, Content-Length and chunked
    for kind in ("length", "chunked"):
        c = ht.Conn(p, timeout=10)
        body = b"expected body " * 100
        if kind == "length":
            head = build("POST", "/cgi-bin/echo.sh?exact", headers=[("Expect", "100-continue"),
                                                                    ("Content-Length", str(len(body)))])
            payload = body
        else:
            head = build("POST", "/cgi-bin/echo.sh", headers=[("Expect", "100-continue"),
                                                              ("Transfer-Encoding", "chunked")])
            payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        c.send(head)
        try:
            r1 = c.read_response(timeout=5)
        except ht.ProtoError as e:
            r1 = str(e)
        t.ok(isinstance(r1, ht.Resp) and r1.status == 100,
             "body: Expect: 100-continue (%s) is answered 100 Continue before the body is sent" % kind, r1)
        c.send(payload)
        try:
            r2 = c.read_response(timeout=10)
        except ht.ProtoError as e:
            r2 = str(e)
        t.ok(isinstance(r2, ht.Resp) and r2.status == 200 and r2.body == body
             and r2.h("X-Content-Length") == str(len(body)),
             "body: ... then the script gets the body (%s)" % kind, r2)
        c.close()
    # over -b (4 MiB): 413, the script never starts
    tag = tag_of("big413")
    r, err = ask(p, "/cgi-bin/proc.sh?noread&" + tag, method="POST",
                 headers=[("Content-Length", str(5 * 1024 * 1024))], body=b"")
    t.ok(is_fixed(r, 413), "body: Content-Length over -b -> 413", err or r)
    t.ok(read_pids(tag, timeout=0.3) is None, "body: ... and the script was not started")
    tag = tag_of("chunk413")
    blob = b"x" * 65536
    req = build("POST", "/cgi-bin/proc.sh?noread&" + tag, headers=[("Transfer-Encoding", "chunked")]) + \
        (b"%x\r\n%s\r\n" % (len(blob), blob)) * 80 + b"0\r\n\r\n"
    r, err, c = exchange(p, req)
    t.ok(is_fixed(r, 413), "body: a chunked body over -b -> 413", err or r)
    c.close()
    t.ok(read_pids(tag, timeout=0.3) is None, "body: ... and the script was not started")
    # a body that arrives in pieces, after the head
    c = ht.Conn(p, timeout=10)
    pieces = [b"first piece;", b"second piece;", b"third piece"]
    total = b"".join(pieces)
    c.send(build("POST", "/cgi-bin/echo.sh?exact", headers=[("Content-Length", str(len(total)))]))
    for piece in pieces:
        time.sleep(0.2)
        c.send(piece)
    try:
        r = c.read_response(timeout=8)
    except ht.ProtoError as e:
        r = str(e)
    t.ok(isinstance(r, ht.Resp) and r.body == total,
         "body: a body sent in pieces after the head reaches the script whole", r)
    c.close()
    # pipelined behind a body the script never reads (or redirects without
    # reading): the rest of the body is skipped, never taken for a request
    junk = (b"GET /cgi-bin/respond.sh?SCRIPTBYTES HTTP/1.1\r\nHost: x\r\n\r\n" * 4000)[:200000]
    for q in ("proc.sh?noread&" + tag_of("pnr"), "respond.sh?local-static"):
        req = build("POST", "/cgi-bin/" + q, body=junk) + build("GET", "/cgi-bin/respond.sh?cl")
        r, err, c = exchange(p, req)
        try:
            r2 = c.read_response(timeout=8) if r is not None else None
        except ht.ProtoError as e:
            r2 = str(e)
        closed, extra = c.wait_closed(0.5)
        c.close()
        t.ok(r is not None and r.status == 200 and isinstance(r2, ht.Resp) and r2.body == b"hello\n"
             and b"SCRIPTBYTES" not in extra,
             "body: a 200 KB body the script does not read (%s), then a pipelined GET: the body is "
             "skipped, the GET answered" % q.split("&")[0], (err or r, r2, esc(extra)))
    # pipelined: a POST with a body, then a GET, in one send
    c = ht.Conn(p, timeout=10)
    c.send(build("POST", "/cgi-bin/echo.sh", body=b"hello") + build("GET", "/cgi-bin/respond.sh?cl"))
    try:
        r1, r2 = c.read_response(timeout=5), c.read_response(timeout=5)
    except ht.ProtoError as e:
        r1, r2 = str(e), None
    t.ok(isinstance(r1, ht.Resp) and r1.body == b"hello" and isinstance(r2, ht.Resp)
         and r2.body == b"hello\n",
         "body: pipelined POST (body) + GET on one connection: both answered in order", (r1, r2))
    c.close()


# ---------------------------------------------------------------- cases: response

MALFORMED = ["status99", "status600", "statusabc", "dupstatus", "badlocation", "barecr", "fold", "nul",
             "crinject", "ctl", "del", "split", "spacecolon", "nohead", "notext", "noblank",
             "unterminated", "empty", "onlyother", "hugehead"]


def case_response(t):
    s = SERVERS["main"]
    p = s.port
    R = "/cgi-bin/respond.sh?"

    def get(q, **kw):
        return ask(p, R + q, **kw)
    r, err = get("status201")
    t.ok(r is not None and r.status == 201 and r.reason == "Created" and r.body == b"created\n",
         "response: Status: 201 -> 201 (the server's reason phrase), the script's body", err or r)
    r, err = get("status404")
    t.ok(r is not None and r.status == 404 and r.body == b"the script own 404\n",
         "response: Status: 404 -> 404 with the script's own body", err or r)
    r, err = get("statusonly")
    t.ok(r is not None and r.status == 204 and r.body == b"", "response: Status: 204 alone -> 204", err or r)
    t.ok(" 201 " in s.log_text().split("?status201 ", 1)[-1].split("\n", 1)[0],
         "response: the access log records the script's status (201)",
         [l for l in s.log_text().splitlines() if "status201" in l])
    for q, st in (("status304", 304), ("status204body", 204)):
        c = ht.Conn(p, timeout=10)
        c.send(build("GET", R + q) + build("GET", R + "cl"))
        try:
            r1, r2 = c.read_response(timeout=5), c.read_response(timeout=5)
        except ht.ProtoError as e:
            r1, r2 = str(e), None
        c.close()
        t.ok(isinstance(r1, ht.Resp) and r1.status == st and isinstance(r2, ht.Resp)
             and r2.body == b"hello\n" and b"SCRIPTBYTES" not in r1.raw() + r2.raw(),
             "response: Status: %d with a body from the script: no body on the wire, the next "
             "response intact" % st, (r1, r2))
    r, err = get("emptyval")
    t.ok(r is not None and r.status == 200 and r.h("X-Empty") == "" and r.h("X-Spaces") == "padded",
         "response: an empty field value passes, surrounding spaces are trimmed", err or r)
    r, err = get("nospace")
    t.ok(r is not None and r.status == 200 and r.h("Content-Type") == "text/plain" and r.h("X-Tight") == "tight",
         "response: 'Name:value' without a space is accepted", err or r)
    r, err = get("lowercase")
    t.ok(r is not None and r.status == 202 and r.h("Content-Type") == "text/x-lower"
         and len(r.hall("Content-Type")) == 1 and r.h("Content-Length") == "6" and r.body == b"lower\n",
         "response: lower-case status/content-type/content-length are recognized", err or r)
    r, err = get("fields40")
    t.ok(r is not None and r.status == 200 and all(r.h("X-Field-%02d" % i) == "value %d" % i for i in range(40)),
         "response: 40 fields from the script are all passed", err or r)
    r, err = get("duplocation")
    t.ok(is_fixed(r, 502) and b"SCRIPTBYTES" not in r.raw(), "response: two Location fields -> 502", err or r)
    r, err = get("local-withbody")
    t.ok(r is not None and r.status == 200 and r.body == STATIC and b"SCRIPTBYTES" not in r.raw(),
         "response: a local redirect with a body: the body is dropped, the target served", err or r)
    r, err = get("ctype")
    t.ok(r is not None and r.status == 200 and r.h("Content-Type") == "text/x-test; charset=utf-8"
         and len(r.hall("Content-Type")) == 1,
         "response: Content-Type is passed as printed, once", err or r)
    for q, hdr, body in (("crlf", "X-Crlf", b"crlf body\n"), ("lf", "X-Lf", b"lf body\n"),
                         ("mixed", "X-Lf", b"mixed body\n")):
        r, err = get(q)
        t.ok(r is not None and r.status == 200 and r.h(hdr) == "yes" and r.body == body,
             "response: %s line ends accepted" % {"crlf": "CRLF", "lf": "bare LF",
                                                  "mixed": "mixed CRLF and LF"}[q], err or r)
    r, err = get("setcookies")
    t.ok(r is not None and r.hall("Set-Cookie") == ["a=1", "b=2"],
         "response: repeated Set-Cookie fields are all passed", err or r)
    # Location: local redirects, re-dispatched as GET
    r, err = get("local-static", method="POST", body=b"x=1")
    t.ok(r is not None and r.status == 200 and r.body == STATIC and r.h("Location") is None,
         "response: Location: /static.txt (after a POST) is served as a GET of the file", err or r)
    r, err = get("local-static", method="HEAD")
    t.ok(r is not None and r.status == 200 and r.body == b"" and r.h("Content-Length") == str(len(STATIC)),
         "response: a local redirect of a HEAD is a HEAD of the file", err or r)
    r, err = get("local-script", method="POST", body=b"x=1",
                 headers=[("Content-Type", "application/x-www-form-urlencoded")])
    env = env_of(parse_sections(r.body)) if r else {}
    t.ok(r is not None and r.status == 200 and env.get("REQUEST_METHOD") == "GET"
         and env.get("QUERY_STRING") == "from=redirect" and env.get("PATH_INFO") == "/via"
         and env.get("SCRIPT_NAME") == "/cgi-bin/env.sh" and "CONTENT_LENGTH" not in env,
         "response: Location: /cgi-bin/env.sh/via?from=redirect runs that script as a GET without body",
         err or {k: env.get(k) for k in ("REQUEST_METHOD", "QUERY_STRING", "PATH_INFO", "CONTENT_LENGTH")})
    r, err = get("local-noexec")
    t.ok(r is not None and r.status in (403, 404) and never_source(r),
         "response: a local redirect to /cgi%2Dbin/noexec.sh -> 403, never its source", err or r)
    r, err = get("local-traversal")
    t.ok(r is not None and r.status in (400, 403, 404, 502) and b"root:" not in r.raw(),
         "response: a local redirect to /../../etc/passwd is refused", err or r)
    r, err = get("splithead")
    t.ok(r is not None and r.status == 200 and r.h("X-Split") == "yes" and r.body == b"split body\n",
         "response: a header block printed in pieces (CR and LF in separate writes)", err or r)
    r, err = get("local-missing")
    t.ok(r is not None and r.status == 404, "response: a local redirect to a missing file -> 404", err or r)
    t0 = time.monotonic()
    r, err = get("loop")
    t.ok(is_fixed(r, 502) and time.monotonic() - t0 < 5,
         "response: a local redirect loop ends (bounded depth) in 502", err or r)
    r, err = get("absolute")
    t.ok(r is not None and r.status == 302 and r.h("Location") == "http://example.test/elsewhere?a=1",
         "response: Location: an absolute URL -> 302 with that Location", err or r)
    r, err = get("absolute301")
    t.ok(r is not None and r.status == 301 and r.h("Location") == "https://example.test/x",
         "response: Status: 301 with an absolute Location -> 301", err or r)
    r, err = get("path303")
    t.ok(r is not None and r.status == 303 and r.h("Location") == "/static.txt",
         "response: Status: 303 with a local path -> 303 to the client (not re-dispatched)", err or r)
    # framing
    c = ht.Conn(p, timeout=10)
    c.send(build("GET", R + "cl"))
    r = c.read_response(timeout=5)
    t.ok(r is not None and r.h("Content-Length") == "6" and r.h("Transfer-Encoding") is None
         and r.body == b"hello\n" and (r.h("Connection") or "").lower() != "close",
         "response: a valid Content-Length is honoured (no chunking, keep-alive)", r)
    c.send(build("GET", R + "nocl"))
    r = c.read_response(timeout=5)
    t.ok(r is not None and r.h("Transfer-Encoding") == "chunked" and r.h("Content-Length") is None
         and r.body == b"no length\n",
         "response: HTTP/1.1 without Content-Length: chunked, on the same connection", r)
    c.send(build("HEAD", R + "nocl"))
    r = c.read_response(head=True, timeout=5)
    t.ok(r is not None and r.status == 200 and r.body == b"" and not c.buf,
         "response: HEAD gets no body (streamed case)", r)
    c.send(build("HEAD", R + "cl"))
    r = c.read_response(head=True, timeout=5)
    t.ok(r is not None and r.status == 200 and not c.buf, "response: HEAD gets no body (Content-Length case)", r)
    c.send(build("GET", R + "clbad"))
    r = c.read_response(timeout=5)
    t.ok(r is not None and r.h("Transfer-Encoding") == "chunked" and r.h("Content-Length") is None
         and r.body == b"streamed\n", "response: an invalid Content-Length is dropped (the body streams)", r)
    c.send(build("GET", "/static.txt"))
    r = c.read_response(timeout=5)
    t.ok(r is not None and r.body == STATIC, "response: ... and the connection is still alive after all that", r)
    c.close()
    c = ht.Conn(p, timeout=10)
    c.send(build("GET", R + "cl", version="1.0", host=None, headers=[("Connection", "keep-alive")]))
    try:
        r1 = c.read_response(timeout=5)
        c.send(build("GET", R + "nocl", version="1.0", host=None, headers=[("Connection", "keep-alive")]))
        r2 = c.read_response(timeout=5)
        closed, _ = c.wait_closed(2)
    except ht.ProtoError as e:
        r1, r2, closed = str(e), None, None
    c.close()
    t.ok(isinstance(r1, ht.Resp) and (r1.h("Connection") or "").lower() == "keep-alive"
         and r1.body == b"hello\n" and isinstance(r2, ht.Resp) and r2.body == b"no length\n" and closed,
         "response: HTTP/1.0 keep-alive: kept after a Content-Length response, closed after a streamed one",
         (r1, r2, closed))
    r, err = get("nocl", version="1.0", host=None)
    t.ok(r is not None and r.status == 200 and r.h("Content-Length") is None
         and r.h("Transfer-Encoding") is None and r.body == b"no length\n",
         "response: HTTP/1.0 without Content-Length: close-delimited", err or r)
    # Content-Length shorter than the output: no byte beyond it on the wire
    c = ht.Conn(p, timeout=10)
    c.send(build("GET", R + "clshort"))
    try:
        r = c.read_response(timeout=5)
    except ht.ProtoError as e:
        r = str(e)
    closed, extra = c.wait_closed(3)
    served = None
    if not closed:
        c.send(build("GET", R + "cl"))
        try:
            served = c.read_response(timeout=5)
        except ht.ProtoError as e:
            served = str(e)
    t.ok(isinstance(r, ht.Resp) and r.body == b"hel" and b"SCRIPTBYTES" not in extra
         and (closed or (isinstance(served, ht.Resp) and served.body == b"hello\n")),
         "response: output beyond the script's Content-Length (in the same write): the client gets "
         "the head and exactly Content-Length bytes, never the excess",
         "response: %s; then %r; closed: %s; next request: %r"
         % ("none at all (EOF before any byte)" if r is None else r, esc(extra), closed, served))
    c.close()
    # Content-Length longer than the output: the connection must close
    c = ht.Conn(p, timeout=10)
    c.send(build("GET", R + "cllong"))
    t0 = time.monotonic()
    closed, data = c.wait_closed(4)
    t.ok(closed and data.endswith(b"\r\n\r\nhello") and time.monotonic() - t0 < 4,
         "response: a body shorter than the script's Content-Length: the connection closes at its end",
         (closed, esc(data, 300)))
    c.close()
    # hop-by-hop and server-owned fields from the script are dropped
    for q in ("hop", "hopcl"):
        c = ht.Conn(p, timeout=10)
        c.send(build("GET", R + q))
        r = c.read_response(timeout=5)
        names = [k.lower() for k, _ in r.headers] if r else []
        bad = [k for k in ("keep-alive", "upgrade", "proxy-connection", "te", "trailer") if k in names]
        t.ok(r is not None and not bad and r.body == b"hop body\n" and (q != "hop" or r.h("X-Kept") == "yes")
             and (r.h("Connection") or "").lower() != "close" and len(r.hall("Date")) == 1
             and "1970" not in r.h("Date", "") and r.hall("Server") == [SERVER_NAME]
             and len(r.hall("Transfer-Encoding")) <= 1,
             "response (%s): Connection, Transfer-Encoding, Keep-Alive, Upgrade, TE, Trailer, "
             "Proxy-Connection, Date, Server from the script are dropped" % q, (bad, r))
        if q == "hop":
            t.ok(r is not None and r.h("Transfer-Encoding") == "chunked",
                 "response (hop): the framing is the server's own (one chunked)", r)
        else:
            t.ok(r is not None and r.h("Content-Length") == "9", "response (hopcl): Content-Length kept", r)
        c.send(build("GET", R + "cl"))
        try:
            r2 = c.read_response(timeout=5)
        except ht.ProtoError as e:
            r2 = str(e)
        t.ok(isinstance(r2, ht.Resp) and r2.body == b"hello\n",
             "response (%s): the script's 'Connection: close' does not close the connection" % q, r2)
        c.close()
    # malformed header blocks: 502 with the fixed body, nothing of the script
    for q in MALFORMED:
        c = ht.Conn(p, timeout=10)
        c.send(build("GET", R + q))
        try:
            r = c.read_response(timeout=8)
        except ht.ProtoError as e:
            r = None
            err = str(e)
        closed, extra = c.wait_closed(0.3) if r is not None and (r.h("Connection") or "") == "close" \
            else (False, c.buf)
        c.close()
        raw = (r.raw() if r else b"") + extra
        t.ok(is_fixed(r, 502) and b"SCRIPTBYTES" not in raw,
             "response: malformed header block (%s) -> 502, fixed body, no script byte" % q,
             "%s; site %s" % (r or err, s.site("?" + q + " ")))


SERVER_NAME = None


def case_streaming(t):
    s = SERVERS["main"]
    sk = socket.create_connection((HOST, s.port), timeout=10)
    t0 = time.monotonic()
    sk.sendall(build("GET", "/cgi-bin/respond.sh?slow"))
    data, t_first, t_second = b"", None, None
    while time.monotonic() - t0 < 8 and t_second is None:
        d = sk.recv(65536)
        if not d:
            break
        data += d
        now = time.monotonic() - t0
        if t_first is None and b"first\n" in data:
            t_first = now
        if b"second\n" in data:
            t_second = now
    sk.close()
    t.ok(t_first is not None and t_second is not None and t_first + 0.6 < t_second,
         "response: the first bytes reach the client before the script ends "
         "(first at %s s, second at %s s, the script sleeps 1 s between)"
         % (t_first and round(t_first, 2), t_second and round(t_second, 2)), esc(data, 200))
    # 10 MiB, with the connection child's memory watched
    c = ht.Conn(s.port, timeout=20)
    c.send(build("GET", "/cgi-bin/respond.sh?ppid"))
    r = c.read_response(timeout=5)
    child = int(r.h("X-Ppid", "0")) if r else 0

    def hwm():
        try:
            with open("/proc/%d/status" % child) as f:
                m = re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M)
            return int(m.group(1)) * 1024 if m else None
        except OSError:
            return None
    base = hwm()
    c.send(build("GET", "/cgi-bin/respond.sh?big"))
    time.sleep(0.5)               # the client lags: the server must not buffer it all
    try:
        r = read_big(c, timeout=30)
    except ht.ProtoError as e:
        r = None
        ht.diag("10 MiB: %s" % e)
    peak = hwm()
    want = (b"0123456789abcde\n" * 655360)
    t.ok(r is not None and r.status == 200 and len(r.body) == len(want) and r.body == want,
         "response: a 10 MiB output passes intact", r and (r.status, len(r.body)))
    t.ok(base is not None and peak is not None and peak - base < 4 * 1024 * 1024,
         "response: the connection's process grew by less than 4 MiB for it (VmHWM %s -> %s)"
         % (base, peak))
    c.send(build("GET", "/static.txt"))
    r = c.read_response(timeout=5)
    t.ok(r is not None and r.body == STATIC, "response: the connection stays alive after the 10 MiB response", r)
    c.send(build("HEAD", "/cgi-bin/respond.sh?big") + build("GET", "/cgi-bin/respond.sh?cl"))
    try:
        r1 = c.read_response(head=True, timeout=10)
        r2 = c.read_response(timeout=10)
    except ht.ProtoError as e:
        r1, r2 = str(e), None
    t.ok(isinstance(r1, ht.Resp) and r1.status == 200 and r1.body == b"" and isinstance(r2, ht.Resp)
         and r2.body == b"hello\n",
         "response: HEAD of the 10 MiB script: no body, and the next request on the connection is answered",
         (r1, r2))
    c.close()
    # a client that pauses reading for longer than --cgi-timeout: the script
    # is blocked on its full pipe, not silent; the response completes
    c = ht.Conn(s.port, timeout=20)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.send(build("GET", "/cgi-bin/respond.sh?big"))
    time.sleep(CGI_TIMEOUT + 1.5)
    try:
        r = read_big(c, timeout=30)
    except ht.ProtoError as e:
        r = str(e)
    t.ok(isinstance(r, ht.Resp) and r.status == 200 and len(r.body) == len(want),
         "response: a client that stops reading for %.1f s (> --cgi-timeout %d) still gets the whole "
         "10 MiB" % (CGI_TIMEOUT + 1.5, CGI_TIMEOUT), r if not isinstance(r, ht.Resp) else (r.status, len(r.body)))
    c.close()
    # a request pipelined behind a slow script waits its turn
    c = ht.Conn(s.port, timeout=10)
    c.send(build("GET", "/cgi-bin/respond.sh?slow") + build("GET", "/cgi-bin/respond.sh?cl"))
    try:
        r1, r2 = c.read_response(timeout=8), c.read_response(timeout=8)
    except ht.ProtoError as e:
        r1, r2 = str(e), None
    t.ok(isinstance(r1, ht.Resp) and r1.body == b"first\nsecond\n" and isinstance(r2, ht.Resp)
         and r2.body == b"hello\n",
         "response: a request pipelined behind a streaming script is answered after it, in order", (r1, r2))
    c.close()


def case_keepalive(t):
    s = SERVERS["main"]
    c = ht.Conn(s.port, timeout=10)
    seq = [(build("GET", "/cgi-bin/env.sh"), lambda r: r.status == 200 and b"GATEWAY_INTERFACE" in r.body,
            "env.sh (chunked)"),
           (build("POST", "/cgi-bin/echo.sh?exact", body=b"123"), lambda r: r.body == b"123", "echo.sh POST"),
           (build("GET", "/cgi-bin/respond.sh?status404"), lambda r: r.status == 404, "Status: 404"),
           (build("GET", "/cgi-bin/respond.sh?local-static"), lambda r: r.body == STATIC, "local redirect"),
           (build("GET", "/cgi-bin/respond.sh?absolute"), lambda r: r.status == 302, "302"),
           (build("GET", "/cgi-bin/missing.sh"), lambda r: r.status == 404, "404 lookup"),
           (build("GET", "/cgi-bin/respond.sh?cl"), lambda r: r.body == b"hello\n", "Content-Length")]
    done = 0
    for req, good, what in seq:
        c.send(req)
        try:
            r = c.read_response(timeout=5)
        except ht.ProtoError:
            r = None
        if r is None or not good(r):
            t.ok(False, "keep-alive: %d CGI exchanges on one connection" % len(seq),
                 "failed at %s: %r" % (what, r))
            break
        done += 1
    else:
        t.ok(True, "keep-alive: %d CGI exchanges on one connection" % len(seq))
    c.close()


# ---------------------------------------------------------------- cases: apps

def run(cmd, cwd=None, env=None, timeout=60, input=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.returncode, p.stdout.decode("latin-1")
    except subprocess.TimeoutExpired as e:
        return "timeout", (e.stdout or b"").decode("latin-1")


def git_env():
    home = os.path.join(WORK, "home")
    os.makedirs(home, exist_ok=True)
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.test", "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.test", "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*"}


def make_bare(name, files, subject):
    """A bare repository WORK/git/NAME.git with one commit; owned by nobody."""
    env = git_env()
    seed = os.path.join(WORK, "seed-" + name)
    bare = os.path.join(WORK, "git", name + ".git")
    rc, out = run(["git", "init", "-q", "-b", "main", seed], env=env)
    for fn, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(seed, fn)), exist_ok=True)
        write(os.path.join(seed, fn), data)
    rc2, out2 = run(["git", "-C", seed, "add", "-A"], env=env)
    rc3, out3 = run(["git", "-C", seed, "commit", "-q", "-m", subject], env=env)
    rc4, out4 = run(["git", "clone", "-q", "--bare", seed, bare], env=env)
    if (rc, rc2, rc3, rc4) != (0, 0, 0, 0):
        raise RuntimeError("git setup: %s %s %s %s" % (out, out2, out3, out4))
    if IS_ROOT and NOBODY:
        for dp, dns, fns in os.walk(bare):
            for n in dns + fns:
                os.lchown(os.path.join(dp, n), NOBODY[0], NOBODY[1])
        os.lchown(bare, NOBODY[0], NOBODY[1])
    head = run(["git", "-C", seed, "rev-parse", "HEAD"], env=env)[1].strip()
    return bare, head


def case_git(t):
    if not ht.have("git") or not os.path.exists("/usr/lib/git-core/git-http-backend"):
        t.skip("git http-backend (12 assertions)", "git not installed (apt-get install git)")
        return
    s = SERVERS["apps"]
    env = git_env()
    bare, head0 = make_bare("repo", {"README": "hello git\n"}, "first commit")
    url = "http://127.0.0.1:%d/cgi-bin/git/repo.git" % s.port
    c1, c2 = os.path.join(WORK, "clone1"), os.path.join(WORK, "clone2")
    rc, out = run(["git", "clone", "-q", url, c1], env=env)
    readme = open(os.path.join(c1, "README")).read() if rc == 0 else None
    t.ok(rc == 0 and readme == "hello git\n", "git: clone over smart HTTP (git http-backend as a CGI script)",
         out[-600:])
    t.ok(rc == 0 and run(["git", "-C", c1, "rev-parse", "HEAD"], env=env)[1].strip() == head0,
         "git: the clone has the server's commit")
    rc, out = run(["git", "clone", "-q", url, c2], env=env)
    t.ok(rc == 0, "git: a second clone (for the fetch)", out[-400:])
    if not os.path.isdir(c1):
        return
    # a small push
    write(os.path.join(c1, "second.txt"), "second\n")
    run(["git", "-C", c1, "add", "-A"], env=env)
    run(["git", "-C", c1, "commit", "-q", "-m", "second commit"], env=env)
    rc, out = run(["git", "-C", c1, "push", "-q", "origin", "main"], env=env)
    h1 = run(["git", "-C", c1, "rev-parse", "HEAD"], env=env)[1].strip()
    hb = run(["git", "--git-dir", bare, "rev-parse", "main"], env=env)[1].strip()
    t.ok(rc == 0 and hb == h1, "git: push of a small commit (receive-pack through the CGI)",
         "%s; bare %s, clone %s" % (out[-600:], hb, h1))
    # a push of a pack over 1 MiB: git sends it chunked
    write(os.path.join(c1, "big.bin"), random.Random(4).randbytes(2 * 1024 * 1024 + 17))
    run(["git", "-C", c1, "add", "-A"], env=env)
    run(["git", "-C", c1, "commit", "-q", "-m", "big commit"], env=env)
    trace = os.path.join(WORK, "git-trace")
    e2 = dict(env, GIT_TRACE_CURL=trace, GIT_TRACE_CURL_NO_DATA="1")
    rc, out = run(["git", "-C", c1, "push", "-q", "origin", "main"], env=e2, timeout=120)
    h2 = run(["git", "-C", c1, "rev-parse", "HEAD"], env=env)[1].strip()
    hb = run(["git", "--git-dir", bare, "rev-parse", "main"], env=env)[1].strip()
    t.ok(rc == 0 and hb == h2, "git: push of a pack over 1 MiB", "%s; bare %s, clone %s; site %s"
         % (out[-600:], hb, h2, s.site("git-receive-pack")))
    tr = open(trace, "rb").read().decode("latin-1") if os.path.exists(trace) else ""
    t.ok(re.search(r"=> Send header: Transfer-Encoding: chunked", tr) is not None,
         "git: ... which git sent as a chunked request body",
         "trace has %d bytes" % len(tr))
    # fetch into the second clone
    rc, out = run(["git", "-C", c2, "fetch", "-q", "origin"], env=env, timeout=120)
    hf = run(["git", "-C", c2, "rev-parse", "origin/main"], env=env)[1].strip()
    t.ok(rc == 0 and hf == h2, "git: fetch brings both pushed commits", "%s; %s vs %s" % (out[-600:], hf, h2))
    rc, out = run(["git", "-C", c2, "merge", "-q", "--ff-only", "origin/main"], env=env)
    same = rc == 0 and open(os.path.join(c2, "big.bin"), "rb").read() == \
        open(os.path.join(c1, "big.bin"), "rb").read()
    t.ok(same, "git: the fetched 2 MiB file is byte-identical", out[-300:])
    # the refs on both sides, and the object stores
    rc, out = run(["git", "ls-remote", url], env=env)
    remote = sorted(l.split("\t")[::-1] for l in out.strip().splitlines() if "\t" in l)
    rc2, out2 = run(["git", "--git-dir", bare, "show-ref", "--head"], env=env)
    local = sorted(l.split(" ", 1)[::-1] for l in out2.strip().splitlines() if " " in l)
    t.ok(rc == 0 and rc2 == 0 and remote == local and remote,
         "git: ls-remote over HTTP equals the server's refs", (remote, local))
    rc, out = run(["git", "--git-dir", bare, "fsck", "--full", "--strict"], env=env, timeout=120)
    t.ok(rc == 0, "git: fsck of the server's repository after the pushes", out[-600:])
    rc, out = run(["git", "-C", c2, "fsck", "--full"], env=env, timeout=120)
    t.ok(rc == 0, "git: fsck of the fetched clone", out[-600:])
    rc, out = run(["git", "clone", "-q", url, os.path.join(WORK, "clone3")], env=env, timeout=120)
    h3 = run(["git", "-C", os.path.join(WORK, "clone3"), "rev-parse", "HEAD"], env=env)[1].strip() \
        if rc == 0 else None
    t.ok(rc == 0 and h3 == h2, "git: a fresh clone after the pushes has them", out[-300:])


def case_cgit(t):
    if not os.path.exists("/usr/lib/cgit/cgit.cgi") or not ht.have("git"):
        t.skip("cgit (5 assertions)", "cgit not installed (apt-get install cgit)")
        return
    s = SERVERS["apps"]
    hello = "hello from cgit's plain view\nline two\n"
    subject = "cgit test commit %08x" % random.getrandbits(32)
    bare, head = make_bare("cgitrepo", {"hello.txt": hello, "dir/nested.txt": "nested\n"}, subject)
    write(os.path.join(WORK, "cgitrc"),
          "cache-size=0\nvirtual-root=/cgi-bin/cgit.cgi/\nenable-http-clone=0\n"
          "repo.url=repo\nrepo.path=%s\nrepo.desc=the cgit test repository\n" % bare)
    base = "/cgi-bin/cgit.cgi"
    r, err = ask(s.port, base + "/", timeout=20)
    t.ok(r is not None and r.status == 200 and b"the cgit test repository" in r.body,
         "cgit: the index lists the repository", err or r)
    r, err = ask(s.port, base + "/repo/log/", timeout=20)
    t.ok(r is not None and r.status == 200 and subject.encode() in r.body
         and (r.h("Content-Type") or "").startswith("text/html"),
         "cgit: the repository's log page shows the commit", err or r)
    r, err = ask(s.port, base + "/repo/plain/hello.txt", timeout=20)
    t.ok(r is not None and r.status == 200 and r.body == hello.encode(),
         "cgit: a file's plain view is the file, byte for byte", err or r)
    r, err = ask(s.port, base + "/repo/tree/dir", timeout=20)
    t.ok(r is not None and r.status == 200 and b"nested.txt" in r.body,
         "cgit: the tree view of a directory (PATH_INFO deeper)", err or r)
    r, err = ask(s.port, base + "/repo/commit/?id=" + head, timeout=20)
    t.ok(r is not None and r.status == 200 and subject.encode() in r.body,
         "cgit: the commit page by id (QUERY_STRING)", err or r)


def webapp(t, name, base):
    """The routes shared by the Flask example and the Django fixture."""
    s = SERVERS["apps"]
    p = s.port
    T = 30
    r, err = ask(p, base + "/", timeout=T)
    t.ok(r is not None and r.status == 200 and r.body == ("hello from %s\n" % name).encode(),
         "%s: the index route" % name, err or r)
    r, err = ask(p, base + "/greet?name=Ada%20L", timeout=T)
    t.ok(r is not None and r.status == 200 and r.body == b"Hello, Ada L!\n",
         "%s: a query string" % name, err or r)
    r, err = ask(p, base + "/form", timeout=T)
    t.ok(r is not None and r.status == 200 and b"<form" in r.body, "%s: GET of the form" % name, err or r)
    r, err = ask(p, base + "/form", method="POST", body=b"name=Grace&colour=blue%26green",
                 headers=[("Content-Type", "application/x-www-form-urlencoded")], timeout=T)
    t.ok(r is not None and r.status == 200 and r.body == b"name=Grace\ncolour=blue&green\n",
         "%s: a form POST" % name, err or r)
    r, err = ask(p, base + "/cookie/set?v=choc", timeout=T)
    sc = r.h("Set-Cookie", "") if r else ""
    t.ok(r is not None and r.status == 200 and sc.startswith("flavour=choc"),
         "%s: a cookie is set (Set-Cookie passed)" % name, err or r)
    r, err = ask(p, base + "/cookie/get", headers=[("Cookie", sc.split(";")[0] or "x=y")], timeout=T)
    t.ok(r is not None and r.body == b"flavour=choc\n", "%s: ... and read back (HTTP_COOKIE)" % name, err or r)
    r, err = ask(p, base + "/go", timeout=T)
    loc = r.h("Location", "") if r else ""
    t.ok(r is not None and r.status == 302 and loc.endswith(base + "/greet?name=redirected"),
         "%s: a redirect -> 302 with the app's Location" % name, err or r)
    if loc:
        path = re.sub(r"^https?://[^/]+", "", loc)
        r, err = ask(p, path, timeout=T)
        t.ok(r is not None and r.body == b"Hello, redirected!\n", "%s: ... which leads back" % name, err or r)
    r, err = ask(p, base + "/where", timeout=T)
    t.ok(r is not None and r.body == ("script_root=%s\npath=/where\nindex=%s/\n" % (base, base)).encode(),
         "%s: SCRIPT_NAME and PATH_INFO as the app sees them" % name, err or r)
    r, err = ask(p, base + "/nope", timeout=T)
    t.ok(r is not None and r.status == 404 and b"Not Found" in r.body and not FIXED_RE.match(r.body),
         "%s: the app's own 404 page" % name, err or r)
    c = ht.Conn(p, timeout=T)
    c.send(build("GET", base + "/") + build("GET", base + "/greet?name=again"))
    try:
        r1, r2 = c.read_response(timeout=T), c.read_response(timeout=T)
    except ht.ProtoError as e:
        r1, r2 = e, None
    c.close()
    t.ok(isinstance(r2, ht.Resp) and r2.body == b"Hello, again!\n",
         "%s: two requests on one connection" % name, (r1, r2))


def py_has(mod):
    return subprocess.run(["/usr/bin/python3", "-c", "import " + mod], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def case_flask(t):
    if not os.path.exists("/usr/bin/python3") or not py_has("flask"):
        t.skip("flask (11 assertions)", "python3-flask not installed (apt-get install python3-flask)")
        return
    webapp(t, "flask", "/cgi-bin/flask/app.cgi")


def case_django(t):
    if not os.path.exists("/usr/bin/python3") or not py_has("django"):
        t.skip("django (11 assertions)", "python3-django not installed (apt-get install python3-django)")
        return
    webapp(t, "django", "/cgi-bin/django/app.cgi")


def case_examples(t):
    s = SERVERS["apps"]
    for path, who in (("/cgi-bin/hello.sh", "sh"), ("/cgi-bin/hello", "C")):
        if who == "C" and COMPILED.get(CGI + "/hello"):
            t.skip("the C example (2 assertions)", COMPILED[CGI + "/hello"])
            continue
        r, err = ask(s.port, path + "/extra?name=x")
        want = ("Hello from %s\nmethod: GET\npath_info: /extra\nquery: name=x\nbody bytes: 0\n" % who).encode()
        t.ok(r is not None and r.status == 200 and r.body == want,
             "examples: the %s script answers a GET with path info and query" % who, err or r)
        r, err = ask(s.port, path, method="POST", body=b"some body")
        want = ("Hello from %s\nmethod: POST\npath_info: \nquery: \nbody bytes: 9\n" % who).encode()
        t.ok(r is not None and r.status == 200 and r.body == want,
             "examples: the %s script reads a POST body" % who, err or r)


# ---------------------------------------------------------------- lineage

def burst(port, n, req, timeout=30.0):
    """n connections opened first, then the request on each; -> [(status, body, err)]."""
    import selectors
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sk.setblocking(False)
        sk.connect_ex((HOST, port))
        socks.append({"s": sk, "data": b"", "err": None, "done": False})
    end = time.monotonic() + timeout
    for c in socks:
        sel.register(c["s"], selectors.EVENT_WRITE, c)
    pending = n
    while pending and time.monotonic() < end:
        for key, _ in sel.select(0.5):
            c = key.data
            sel.unregister(c["s"])
            pending -= 1
            e = c["s"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e:
                c["err"], c["done"] = "connect: " + os.strerror(e), True
                continue
            try:
                c["s"].send(req)
            except OSError as ex:
                c["err"], c["done"] = "send: %s" % ex, True
                continue
            sel.register(c["s"], selectors.EVENT_READ, c)
    reading = sum(1 for c in socks if not c["done"])
    while reading and time.monotonic() < end:
        for key, _ in sel.select(0.5):
            c = key.data
            try:
                d = c["s"].recv(65536)
            except BlockingIOError:
                continue
            except OSError as ex:
                c["err"], d = "recv: %s" % ex, b""
            if d:
                c["data"] += d
                continue
            c["done"] = True
            sel.unregister(c["s"])
            reading -= 1
    res = []
    for c in socks:
        try:
            r = ht.parse_response(c["data"], eof=c["done"])
        except ht.ProtoError as e:
            r, c["err"] = None, str(e)
        if not c["done"] and not c["err"]:
            c["err"] = "timeout"
        res.append((r.status if r else None, r.body if r else b"", c["err"]))
        c["s"].close()
    sel.close()
    return res


def summary(res):
    b = {}
    for st, body, err in res:
        k = (st, body[:20], err)
        b[k] = b.get(k, 0) + 1
    return "; ".join("%dx %s" % (n, k) for k, n in sorted(b.items(), key=lambda kv: -kv[1])[:6])


def lineage_checks(t, srv, label, idle, workers=0):
    v, err = ht.poll(lambda: not tree_zombies(srv), 2.0)
    t.ok(v, "%s: zero zombies in the server's tree (scripts and their children) within 2 s" % label,
         err or tree_zombies(srv))
    v, err = ht.poll(lambda: ht.count_live(srv.pid, tree=True) == workers, 2.0)
    t.ok(v, "%s: live processes under the server back to %d within 2 s" % (label, workers),
         err or ht.count_live(srv.pid, tree=True))
    if idle is not None:
        v, err = ht.poll(lambda: ht.tree_fd_count(srv.pid) == idle, 2.0)
        t.ok(v, "%s: descriptors back to idle (%d) within 2 s" % (label, idle),
             err or ht.tree_fd_count(srv.pid))


def case_lineage(t):
    if CC is None or COMPILED.get(CGI + "/tiny.cgi"):
        t.skip("lineage bursts (8 assertions)", COMPILED.get(CGI + "/tiny.cgi") or "no cc")
        return
    s = start_server("lineage", "cgi-lineage", ["-x", "/cgi-bin/", "-c", "600", "-C", "0", "-t", "10",
                                                "-T", "10", "-g", "2", "-l", "off"])
    time.sleep(0.3)
    idle = ht.tree_fd_count(s.pid)
    req = b"GET /cgi-bin/tiny.cgi HTTP/1.0\r\n\r\n"
    for n in (128, 500):
        t0 = time.monotonic()
        res = burst(s.port, n, req, timeout=40)
        good = sum(1 for st, body, err in res if st == 200 and body == b"tiny\n")
        t.ok(good == n, "lineage: %d simultaneous CGI requests all answered 200 (%d, %.1f s)"
             % (n, good, time.monotonic() - t0), summary(res))
        lineage_checks(t, s, "lineage %d" % n, idle)
    t.ok(s.alive(), "lineage: the server survives the bursts")
    s.stop()


def pick_uid():
    import pwd
    uid = 41000 + os.getpid() % 20000
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if ht.uid_tasks(uid) == 0:
                return uid
        uid += 1


def case_nproc(t):
    if not IS_ROOT or not ht.have("prlimit") or not ht.have("setpriv"):
        t.skip("CGI under RLIMIT_NPROC (5 assertions)",
               "not root" if not IS_ROOT else "prlimit/setpriv not installed (util-linux)")
        return
    uid = pick_uid()
    env = {}
    if os.environ.get("ASAN_OPTIONS"):
        # LeakSanitizer cannot start its thread at the limit
        env["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":detect_leaks=0"
    # the server and one connection child, no room for the script
    s = start_server("nproc", "cgi-nproc", ["-x", "/cgi-bin/", "-C", "0", "-g", "2"], as_user=uid,
                     wrap=["prlimit", "--nproc=2"], extra_env=env)
    st = open("/proc/%d/status" % s.pid).read()
    t.ok(re.search(r"^Uid:\s+%d\b" % uid, st, re.M), "nproc: the server runs as uid %d (no other process)" % uid)
    r, err = ask(s.port, "/static.txt")
    t.ok(r is not None and r.status == 200 and r.body == STATIC,
         "nproc: at --nproc=2 a static file is served (the connection's fork works)", err or r)
    ht.wait_for(lambda: ht.count_live(s.pid) == 0, 2.0)
    r, err = ask(s.port, "/cgi-bin/env.sh?nproc")
    t.ok(is_fixed(r, 503) and "627" in s.site("?nproc ", wait=2.0),
         "nproc: spawning the script fails -> 503 (fixed body; logged as the script's fork, LOG:627)",
         "%s; site %s" % (err or r, s.site("?nproc ")))
    ht.wait_for(lambda: ht.count_live(s.pid) == 0, 2.0)
    r, err = ask(s.port, "/static.txt")
    t.ok(r is not None and r.status == 200, "nproc: ... and the server keeps serving", err or r)
    ht.wait_for(lambda: ht.count_live(s.pid) == 0, 2.0)
    r, err = ask(s.port, "/cgi-bin/tiny.cgi")
    t.ok(is_fixed(r, 503) and s.alive(), "nproc: a second script spawn fails the same way, server alive",
         err or r)
    v, err = ht.poll(lambda: not tree_zombies(s), 2.0)
    t.ok(v, "nproc: no zombie", err or tree_zombies(s))
    s.stop()


def case_prefork(t):
    s = start_server("prefork", "cgi-prefork", ["-x", "/cgi-bin/", "-w", "2", "-c", "64", "-C", "0",
                                                "--cgi-timeout", str(CGI_TIMEOUT), "-g", "2",
                                                "-e", "PIDDIR=" + PIDDIR])
    ht.wait_for(lambda: ht.count_live(s.pid) == 2, 3.0)
    time.sleep(0.2)
    idle = ht.tree_fd_count(s.pid)
    r, err = ask(s.port, "/cgi-bin/env.sh/pi?q=1")
    env = env_of(parse_sections(r.body)) if r else {}
    sec = parse_sections(r.body) if r else {}
    t.ok(r is not None and env.get("REMOTE_ADDR") == "127.0.0.1" and env.get("PATH_INFO") == "/pi"
         and env.get("QUERY_STRING") == "q=1" and env.get("SERVER_PORT") == str(s.port),
         "prefork: the environment", err or r)
    tab = fd_table(sec.get("fd-child", []))
    t.ok(tab and not [fd for fd, tg in tab.items() if fd > 2 and not re.match(r"^/proc/\d+/fd$", tg)],
         "prefork: only descriptors 0, 1, 2 in the script's child (no listening socket)", tab)
    body = random.Random(5).randbytes(300000)
    r, err, c = exchange(s.port, build("POST", "/cgi-bin/echo.sh?exact", body=body))
    t.ok(r is not None and r.body == body, "prefork: a 300 KB body echoed", err or r)
    c.close()
    r, err, c = exchange(s.port, build("POST", "/cgi-bin/echo.sh", body=b"to EOF"), timeout=CGI_TIMEOUT + 8)
    t.ok(r is not None and r.body == b"to EOF",
         "prefork: a script reading stdin to EOF gets EOF after a Content-Length body", err or r)
    c.close()
    c = ht.Conn(s.port, timeout=10)
    c.send(build("GET", "/cgi-bin/respond.sh?cl"))
    try:
        r = c.read_response(timeout=5)
    except ht.ProtoError as e:
        r = str(e)
    c.send(build("GET", "/cgi-bin/respond.sh?nocl"))
    try:
        r2 = c.read_response(timeout=5)
    except ht.ProtoError as e:
        r2 = str(e)
    t.ok(isinstance(r2, ht.Resp) and r2.body == b"no length\n" and r2.h("Transfer-Encoding") == "chunked",
         "prefork: a chunked CGI response on the same connection", r2)
    c.close()
    r, err = ask(s.port, "/cgi-bin/respond.sh?barecr")
    t.ok(is_fixed(r, 502) and b"SCRIPTBYTES" not in r.raw(), "prefork: a bare CR -> 502", err or r)
    r, err = ask(s.port, "/cgi-bin/respond.sh?local-static")
    t.ok(r is not None and r.body == STATIC, "prefork: a local redirect", err or r)
    tag = tag_of("pf-chatty")
    c = ht.Conn(s.port, timeout=10)
    c.send(build("GET", "/cgi-bin/proc.sh?chatty&" + tag))
    pids = read_pids(tag, ("script", "child"))
    time.sleep(0.2)
    c.close()
    if t.ok(pids, "prefork: chatty script started"):
        v, why = wait_group_gone(pids, 3.0)
        t.ok(v, "prefork: the client gone, the script's whole group is killed and reaped", why)
    tag = tag_of("pf-mute")
    r, err = ask(s.port, "/cgi-bin/proc.sh?mute&" + tag, timeout=CGI_TIMEOUT + 8)
    t.ok(is_fixed(r, 504), "prefork: a silent script -> 504", err or r)
    pids = read_pids(tag, ("script", "child"), 1.0)
    if pids:
        v, why = wait_group_gone(pids, 3.0)
        t.ok(v, "prefork: ... and its group is killed and reaped", why)
    if CC is not None and not COMPILED.get(CGI + "/tiny.cgi"):
        res = burst(s.port, 50, b"GET /cgi-bin/tiny.cgi HTTP/1.0\r\n\r\n", timeout=30)
        good = sum(1 for st, b, e in res if st == 200 and b == b"tiny\n")
        t.ok(good == 50, "prefork: 50 simultaneous CGI requests answered (%d)" % good, summary(res))
    lineage_checks(t, s, "prefork", idle, workers=2)
    s.stop()


# ---------------------------------------------------------------- main

# the concurrent phase, printed in this order
CASES = [("controls", case_controls), ("env 1.1", case_env_11), ("env 1.0", case_env_10),
         ("env body", case_env_body), ("env more", case_env_more), ("env pass-auth", case_env_passauth),
         ("env mapped", case_env_mapped), ("env v6", case_env_v6), ("lookup", case_lookup),
         ("pattern", case_pattern), ("client gone", case_client_gone), ("timeout", case_timeout),
         ("timer", case_timer), ("sigterm", case_sigterm), ("daemon", case_daemon), ("stderr", case_stderr),
         ("bodies", case_bodies), ("response", case_response), ("streaming", case_streaming),
         ("keep-alive", case_keepalive), ("git", case_git), ("cgit", case_cgit), ("flask", case_flask),
         ("django", case_django), ("examples", case_examples)]


def run_cases(cases, workers=8):
    """Runs the cases concurrently (each with its own Buffer); prints them in order."""
    bufs = [ht.Buffer(name) for name, _ in cases]
    sem = threading.Semaphore(workers)

    def one(i):
        name, fn = cases[i]
        with sem:
            t0 = time.monotonic()
            try:
                fn(bufs[i])
            except Exception as e:
                bufs[i].ok(False, "%s: ran to completion" % name,
                           "".join(traceback.format_exception(type(e), e, e.__traceback__))[-1500:])
            bufs[i].diag("%s took %.1f s" % (name, time.monotonic() - t0))
    ths = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(cases))]
    for th in ths:
        th.start()
    for i, th in enumerate(ths):
        th.join(max(1.0, BUDGET - elapsed()))
        bufs[i].flush()


def watchdog():
    ht.ok(False, "cgi.py finished within its %d s budget (watchdog fired)" % BUDGET)
    try:
        ht.kill_all()
        kill_strays()
    finally:
        sys.stdout.flush()
        os._exit(0)


def ipv6_loopback():
    try:
        sk = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        sk.bind(("::1", 0))
        sk.close()
        return True
    except OSError:
        return False


COMPILED = {}
HTTPD_COPY = None


def main():
    global WORK, NOBODY, HTTPD_COPY, COMPILED, SERVER_NAME
    if not os.access(HTTPD, os.X_OK):
        ht.ok(False, "cgi: server binary %s exists and is executable" % HTTPD)
        return
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if IS_ROOT:
        import pwd
        try:
            pw = pwd.getpwnam("nobody")
            NOBODY = (pw.pw_uid, pw.pw_gid)
        except KeyError:
            NOBODY = None
    if IS_ROOT and not (NOBODY and ht.have("setpriv")):
        ht.skip("servers as nobody", "no user nobody or no setpriv (util-linux): servers run as root")
    elif not IS_ROOT:
        ht.diag("not root: servers run as uid %d (the permission checks are the server's own)" % os.getuid())
    WORK = tempfile.mkdtemp(prefix="httpd-cgi-")
    os.chmod(WORK, 0o755)
    wd = threading.Timer(BUDGET, watchdog)
    wd.daemon = True
    wd.start()
    try:
        HTTPD_COPY = os.path.join(WORK, "httpd")
        shutil.copy(HTTPD, HTTPD_COPY)
        os.chmod(HTTPD_COPY, 0o755)
        COMPILED = build_fixture()
        common = ["-x", "/cgi-bin/", "-C", "0", "-c", "600", "-t", "10", "-g", "2",
                  "-e", "PIDDIR=" + PIDDIR] + sum((["-e", "%s=%s" % kv] for kv in CGI_ENV.items()), [])
        start_server("main", "cgi-main", common + ["-b", str(4 * 1024 * 1024),
                                                   "--cgi-timeout", str(CGI_TIMEOUT)])
        start_server("passauth", "cgi-passauth", common + ["--cgi-pass-auth"])
        start_server("mapped", "cgi-mapped", common, addr="::ffff:127.0.0.1")
        if ipv6_loopback():
            start_server("v6", "cgi-v6", common, addr="::1")
        start_server("pattern", "cgi-pattern", ["--cgi-pattern", "*.cgi", "-C", "0"])
        start_server("stderr", "cgi-stderr", common + ["-q"])
        start_server("apps", "cgi-apps", common + ["-b", str(64 * 1024 * 1024), "--cgi-timeout", "30",
                                                   "-e", "GIT_PROJECT_ROOT=" + os.path.join(WORK, "git"),
                                                   "-e", "CGIT_CONFIG=" + os.path.join(WORK, "cgitrc")])
        r, err = ask(SERVERS["main"].port, "/static.txt")
        SERVER_NAME = r.h("Server") if r else None
        run_cases(CASES, workers=len(CASES))
        ht.diag("concurrent phase done at %.1f s" % elapsed())
        # every server of the concurrent phase: nothing left behind
        for key in ("main", "passauth", "mapped", "v6", "pattern", "stderr", "apps"):
            s = SERVERS.get(key)
            if s is None:
                continue
            v, err = ht.poll(lambda: not tree_zombies(s), 3.0)
            ht.ok(v, "%s: no zombie in the server's tree after its cases" % s.name, err or tree_zombies(s))
            v, err = ht.poll(lambda: ht.count_live(s.pid, tree=True) == 0, 3.0)
            ht.ok(v, "%s: no live child or script left after its cases" % s.name,
                  err or [(p["pid"], p["comm"]) for p in ht.live_children(s.pid, tree=True)])
            ht.ok(s.alive(), "%s: the server is still running" % s.name)
            rc = s.stop()
            ht.ok(rc == 0, "%s: exits 0 at SIGTERM" % s.name, "rc %r; stderr %s" % (rc, esc(s.stderr_text()[-300:])))
        run_cases([("lineage", case_lineage)])
        run_cases([("nproc", case_nproc), ("prefork", case_prefork)])
    finally:
        ht.kill_all()
        kill_strays()
        wd.cancel()
        if os.environ.get("CGI_TEST_KEEP"):
            ht.diag("kept %s (CGI_TEST_KEEP)" % WORK)
        else:
            shutil.rmtree(WORK, ignore_errors=True)
    ht.finish("cgi", T0)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        ht.ok(False, "cgi: unexpected error %r" % e)
        traceback.print_exc(file=sys.stdout)
    sys.stdout.flush()
    os._exit(0)
