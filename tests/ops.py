#!/usr/bin/env python3
"""tests/ops.py -- the operations features of httpd, each run for real.

Parts (OPS_ONLY=name,name runs only those: a development aid)
  units      contrib/httpd.service and httpd.socket: the hardening options are
             there; `systemd-analyze verify` is silent (ExecStart pointed at a
             copy of the binary, httpd.1 on MANPATH for Documentation=), and
             says something about a planted unknown key (the control);
             `systemd-analyze security --offline` rates it; the unit's own
             ExecStart command line serves under socket activation as a
             non-root user (what DynamicUser= gives it).
  manpage    httpd.1: `mandoc -Tlint` prints nothing; its options are those
             of `httpd -h`; it covers every signal the server handles, every
             variable it reads, every exit status of main().
  activate   systemd-socket-activate -l (one socket; two, both served): the
             server is exec'd with them as descriptors 3.., binds nothing of
             its own, exits 0 on SIGTERM; a LISTEN_FDS that names no socket is
             refused, one meant for another process ignored.
  inetd      systemd-socket-activate --inetd -a with -i: the connection is
             descriptors 0 and 1, keep-alive works, the instance exits 0; and
             behind socat (TCP-LISTEN,fork EXEC:'httpd -i'): two requests on
             one connection, nothing but the responses in the stream (the
             log is off by default; with -l FILE it goes to the file);
             `-i -l -` is refused.
  static     contrib/Dockerfile's musl-gcc line builds a static binary (no
             interpreter: file, ldd, readelf), its size printed; as PID 1
             (unshare --pid --fork --mount-proc) with CGI scripts that leave
             orphans: they are adopted and reaped (no zombie), SIGTERM exits
             0; in an empty root (FROM scratch: no passwd file) it serves as
             uid 65534.
  privileges as root: -u nobody (and -u nobody:GROUP): uid, gid, groups and
             capabilities of the parent and of the children (fork, prefork)
             from /proc/PID/status; without -u: nobody when root owns the
             document root, else its owner, named on the start-up line; a
             file only root may read is 403.
  chroot     --chroot DIR -r www: serves from inside; symlinks and paths that
             lead outside reach nothing; a CGI script without its interpreter
             is 500 with a line on stderr saying so, also in a chroot without
             /dev; a self-contained (static) CGI program runs there; SIGUSR2
             in a chroot: the old server goes on.
  hup        SIGHUP in fork mode and prefork -w 2: requests going on, the log
             renamed, HUP: the next request is in the new file and no line is
             lost (both files counted); and the deployment as root, where the
             server drops to nobody after opening the file and logrotate's
             create gives the new file the old one's owner.
  formats    -f combined lines carry Referer and User-Agent (a quote in one
             escaped), -s lines end in LOG:N or -, the parent's own 503 lines
             too; an IPv4 client of the [::] dual-stack server is logged as
             plain IPv4; the default CLF line has nothing after the size.
  events     kill -SEGV to children (fork mode): "killed by signal 11" on
             stderr, rate-limited: 10 crashes within a second give one line,
             the next one a line with "[9 more]".
  lastcall   a keep-alive response in flight (32 MiB) at SIGUSR2 or SIGTERM, fork
             and prefork: its head promised nothing of a close, so the next
             request on the connection gets the last call's answer (Connection:
             close), not an EOF.
  upgrade    SIGUSR2 while wrk -t1 -c16 -d6 runs (USR2 after 2 s), fork and
             prefork -w 2, the binary replaced on disk by another build (mv)
             first: no socket error and no non-2xx in wrk's output, the old
             parent exits 0, the new one serves and runs the new file; and a
             server started as root with -l FILE, and one with -u nobody: their
             new process is no longer root, yet must come up.
  status     --status: every counter there, requests_total and
             connections_accepted_total grow by the requests made, HEAD and
             405; prefork counts its workers; in a network namespace of our
             own, a client from a non-loopback address (198.18.0.1 on its lo)
             gets 404, and 200 with --status-any.
  reuseport  --reuseport: two servers on one port both start and both serve;
             without it on either side the second cannot bind.

Output protocol: tests/httpdtest.py (ok/not ok lines, exit 0).  A part whose
tool is missing or that needs root is SKIPPED with the reason (a failure with
CI=true).  Server binary: $HTTPD (default ./httpd).  A watchdog kills what the
file started if it runs past BUDGET seconds.
"""
import ctypes
import grp
import hashlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpdtest as ht  # noqa: E402
from httpdtest import ok, diag, skip, wait_for, Server, Conn  # noqa: E402

HTTPD = ht.binary("HTTPD", "httpd")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
BUDGET = 240.0                  # whole file; plain ~60 s, ASan 2-3x
IS_ROOT = os.geteuid() == 0
SAN = bool(os.environ.get("ASAN_OPTIONS") or os.environ.get("UBSAN_OPTIONS"))
UNSHARE = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--"]
NS_ADDR = "198.18.0.1"          # the non-loopback address of our own namespace
ONLY = [x for x in os.environ.get("OPS_ONLY", "").split(",") if x]
SUBREAPER = False               # set in main(): upgraded servers become our children
WORK = WWW = None
INDEX = b"ops index\n"
SECRET = b"only root may read this\n"
OUTSIDE = b"outside the chroot\n"
_extra = []                     # Popen objects and bare pids to kill at the end
_extra_lock = threading.Lock()

try:
    NOBODY = pwd.getpwnam("nobody")
except KeyError:
    NOBODY = None


# ---------------------------------------------------------------- helpers

def track(p):
    """Remembers a Popen, or a bare pid with its start time (a pid we did not
    start ourselves: killed at the end only if it is still that process)."""
    if isinstance(p, int):
        st = ht.read_stat(p)
        if st is None:
            return p
        item = (p, st["start"])
    else:
        item = p
    with _extra_lock:
        _extra.append(item)
    return p


def stop_popen(p, wait=5.0):
    """SIGTERM, wait, SIGKILL: for the helper processes we start (by PID)."""
    if p is None or p.poll() is not None:
        return p.returncode if p is not None else None
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(wait)
    except subprocess.TimeoutExpired:
        p.kill()
        try:
            p.wait(3)
        except subprocess.TimeoutExpired:
            pass
        return "killed"


def kill_tree(pid):
    """SIGKILL pid's descendants, then pid (for servers we did not start ourselves:
    the new server of an upgrade)."""
    try:
        for p in ht.descendants(pid):
            ht.kill_quietly(p["pid"])
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


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def listening(port):
    """A listening TCP socket on 127.0.0.1:port (from /proc/net/tcp)."""
    want = "0100007F:%04X" % port
    for line in readf("/proc/net/tcp", "r").splitlines()[1:]:
        f = line.split()
        if len(f) > 3 and f[1] == want and f[3] == "0A":
            return True
    return False


def request_bytes(path="/", method="GET", headers=(), close=True, body=b""):
    h = "".join("%s: %s\r\n" % kv for kv in headers)
    if body:
        h += "Content-Length: %d\r\n" % len(body)
    return ("%s %s HTTP/1.1\r\nHost: ops\r\n%s%s\r\n"
            % (method, path, h, "Connection: close\r\n" if close else "")).encode("latin-1") + body


def fetch(port, path="/", host=HOST, method="GET", headers=(), body=b"", timeout=5.0):
    """One request on a connection of its own -> (Resp or None, error text)."""
    try:
        c = Conn(port, host, timeout=timeout)
    except OSError as e:
        return None, "connect: %s" % e
    try:
        if not c.send(request_bytes(path, method, headers, True, body)):
            return None, "send: %s" % c.send_error
        r = c.read_response(head=(method == "HEAD"), timeout=timeout)
        return r, None if r is not None else "EOF before a response"
    except (ht.ProtoError, OSError) as e:
        return None, "%s: %s" % (type(e).__name__, e)
    finally:
        c.close()


def is200(r, body=None):
    return r is not None and r.status == 200 and (body is None or r.body == body)


def short(r, err=None):
    return repr(r) if r is not None else "no response (%s)" % err


def proc_status(pid):
    """{Uid: [4], Gid: [4], Groups: [...], CapEff: int, CapPrm: int, ...} of pid, or None."""
    txt = readf("/proc/%d/status" % pid, "r")
    if not txt:
        return None
    res = {}
    for line in txt.splitlines():
        k, _, v = line.partition(":")
        v = v.split()
        if k in ("Uid", "Gid"):
            res[k] = [int(x) for x in v]
        elif k == "Groups":
            res[k] = sorted(int(x) for x in v)
        elif k in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
            res[k] = int(v[0], 16) if v else None
        elif k == "NSpid":
            res[k] = v
    return res


def creds_ok(st, uid, gid):
    """(passed, why): every uid and gid of st is uid/gid, the groups only gid,
    no capability left."""
    if st is None:
        return False, "no /proc status"
    why = []
    if st.get("Uid") != [uid] * 4:
        why.append("Uid %s" % st.get("Uid"))
    if st.get("Gid") != [gid] * 4:
        why.append("Gid %s" % st.get("Gid"))
    if st.get("Groups") != [gid]:
        why.append("Groups %s" % st.get("Groups"))
    for k in ("CapEff", "CapPrm", "CapAmb"):
        if st.get(k, 0) != 0:
            why.append("%s %x" % (k, st[k]))
    return not why, "; ".join(why) or None


def san_env(*extra):
    """An `env` argv prefix appending options to the sanitizer variables, or []."""
    if not SAN:
        return []
    out = ["env"]
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        cur = os.environ.get(var, "")
        out.append("%s=%s" % (var, ":".join(x for x in [cur] + list(extra) if x)))
    return out


def ssa_env_args():
    """systemd-socket-activate passes on only what -E names: the sanitizer options."""
    out = []
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if var in os.environ:
            out += ["-E", var]
    return out


def need(what, *tools, root=False):
    """True when the tools are there (and root, if asked); else skip(what, why)."""
    missing = [t for t in tools if not ht.have(t)]
    if missing:
        skip(what, "%s not installed (tests/deps.txt)" % ", ".join(missing))
        return False
    if root and not IS_ROOT:
        skip(what, "needs root")
        return False
    return True


def stderr_has(srv, pattern, timeout=2.0):
    rx = re.compile(pattern)
    return wait_for(lambda: rx.search(srv.stderr_text()), timeout, 0.02)


def lines_of(path):
    return [l for l in readf(path).decode("latin-1").splitlines() if l]


def set_subreaper(on):
    """PR_SET_CHILD_SUBREAPER: an upgraded server outlives its parent and becomes
    ours, so that we can wait for it.  -> success."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1 if on else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_adopted():
    """Reaps the zombies adopted as subreaper that are not ours through Popen
    (Popen must reap its own, or it loses their exit status)."""
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


def wait_pid(pid, timeout):
    """Waits for our child pid -> its exit status, "signal N", or None (timeout or
    not our child: then it just waits for it to vanish)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            p, st = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            if (ht.read_stat(pid) or {"state": "Z"})["state"] in ("Z", "X"):
                return "gone (not our child)"
            time.sleep(0.05)
            continue
        if p == pid:
            if os.WIFEXITED(st):
                return os.WEXITSTATUS(st)
            return "signal %d" % os.WTERMSIG(st)
        time.sleep(0.05)
    return None


def mkdir(path, mode=0o755, owner=None):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner[0], owner[1])
    return path


# ---------------------------------------------------------------- units

def parse_unit(text):
    """{section: [(key, value)]} of a unit file."""
    res, sec = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            sec = line[1:-1]
            res.setdefault(sec, [])
        elif "=" in line and sec:
            k, v = line.split("=", 1)
            res[sec].append((k.strip(), v.strip()))
    return res


HARDENING = ["NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
             "PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
             "ProtectControlGroups=yes", "RestrictNamespaces=yes", "RestrictSUIDSGID=yes",
             "LockPersonality=yes", "MemoryDenyWriteExecute=yes", "CapabilityBoundingSet=",
             "RestrictAddressFamilies=", "SystemCallFilter=", "SystemCallArchitectures=native"]


def p_units():
    svc_p = os.path.join(REPO, "contrib", "httpd.service")
    sock_p = os.path.join(REPO, "contrib", "httpd.socket")
    if not ok(os.path.isfile(svc_p) and os.path.isfile(sock_p),
              "units: contrib/httpd.service and contrib/httpd.socket exist"):
        return
    svc_t, sock_t = readf(svc_p, "r"), readf(sock_p, "r")
    svc, sock = parse_unit(svc_t), parse_unit(sock_t)
    kv = dict(svc.get("Service", []))
    have_kv = ["%s=%s" % (k, v) for k, v in svc.get("Service", [])]
    missing = [h for h in HARDENING
               if not any(x == h or (h.endswith("=") and x.startswith(h)) for x in have_kv)]
    ok(not missing, "units: httpd.service sets the hardening options (%d: ProtectSystem=strict, "
       "NoNewPrivileges, PrivateTmp, ...)" % len(HARDENING), "missing: %s" % missing)
    ok(any(k == "ListenStream" for k, _ in sock.get("Socket", [])),
       "units: httpd.socket has a ListenStream=")
    ok("DynamicUser" in kv or "User" in kv, "units: httpd.service runs as a user of its own, never root",
       kv)
    ok(kv.get("ExecReload", "").endswith("-HUP $MAINPID"),
       "units: reload is SIGHUP (the log reopened, for logrotate)", kv.get("ExecReload"))
    lr = os.path.join(REPO, "contrib", "httpd.logrotate")
    lr_t = readf(lr, "r")
    ok("postrotate" in lr_t and "reload httpd" in lr_t,
       "units: contrib/httpd.logrotate reloads the service after rotating", lr_t[:300])
    exec_start = kv.get("ExecStart", "")
    argv = exec_start.split()
    if not ok(argv and argv[0].startswith("/"), "units: ExecStart names an absolute binary (%s)"
              % exec_start):
        return
    if not need("units: systemd-analyze verify", "systemd-analyze"):
        return
    d = mkdir(os.path.join(WORK, "units"))
    os.makedirs(os.path.join(d, "bin"))
    binp = os.path.join(d, "bin", "httpd")
    shutil.copy(HTTPD, binp)
    os.chmod(binp, 0o755)
    mandir = os.path.join(d, "man", "man1")
    os.makedirs(mandir)
    if os.path.isfile(os.path.join(REPO, "httpd.1")):
        shutil.copy(os.path.join(REPO, "httpd.1"), mandir)
    env = dict(os.environ, MANPATH=os.path.join(d, "man"), SYSTEMD_LOG_COLOR="0")

    def verify(tag, svc_text):
        vd = mkdir(os.path.join(d, tag))
        writef(os.path.join(vd, "httpd.service"), svc_text.replace(argv[0], binp).encode())
        writef(os.path.join(vd, "httpd.socket"), sock_t.encode())
        try:
            r = subprocess.run(["systemd-analyze", "verify", os.path.join(vd, "httpd.socket"),
                                os.path.join(vd, "httpd.service")], capture_output=True,
                               timeout=30, env=env, cwd=vd)
        except subprocess.TimeoutExpired:
            return None, "timed out"
        return r.returncode, (r.stdout + r.stderr).decode("latin-1")

    rc, out = verify("real", svc_t)
    if rc is not None and "Failed to" in out and "bus" in out.lower():
        skip("units: systemd-analyze verify", "cannot run in this container: %s" % out.strip()[:200])
        return
    ok(rc == 0 and out.strip() == "", "units: systemd-analyze verify httpd.socket httpd.service: "
       "exit 0, nothing said (ExecStart and Documentation=man:httpd(1) resolve)",
       "rc %s: %s" % (rc, out[:1500]))
    bad = svc_t.replace("ProtectSystem=strict", "ProtectSystm=strict")
    rc2, out2 = verify("control", bad)
    ok("ProtectSystm" in out2, "units: control: verify reports a planted unknown key "
       "(ProtectSystm=), so its silence above means something", "rc %s: %s" % (rc2, out2[:500]))
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                        os.path.join(d, "real", "httpd.service")],
                       capture_output=True, timeout=30, env=env)
    out3 = (r.stdout + r.stderr).decode("utf-8", "replace")
    m = re.search(r"Overall exposure level for httpd\.service:\s*([\d.]+)\s*(\w+)", out3)
    if m:
        lvl = float(m.group(1))
        diag("units: systemd-analyze security: exposure %s %s" % (m.group(1), m.group(2)))
        ok(lvl <= 2.0, "units: systemd-analyze security --offline: exposure %.1f <= 2.0 (%s)"
           % (lvl, m.group(2)), out3[-1500:])
    else:
        skip("units: systemd-analyze security --offline", "no exposure level: %s"
             % out3.strip()[-200:])
    # the unit's own command line, as the dynamic user would run it: not root,
    # the socket from socket activation, the log in its LogsDirectory
    if not need("units: the ExecStart line under socket activation", "systemd-socket-activate"):
        return
    logdir = mkdir(os.path.join(d, "log"), 0o755,
                   (NOBODY.pw_uid, NOBODY.pw_gid) if IS_ROOT and NOBODY else None)
    args = []
    for a in argv[1:]:
        a = a.replace("/srv/www", WWW).replace("/var/log/httpd", logdir)
        args.append(a)
    port = free_port()
    wrap = []
    if IS_ROOT and NOBODY and ht.have("setpriv"):
        wrap = ["setpriv", "--reuid=%d" % NOBODY.pw_uid, "--regid=%d" % NOBODY.pw_gid,
                "--clear-groups"]
    wrap += ["systemd-socket-activate"] + ssa_env_args() + ["-l", "%s:%d" % (HOST, port)]
    srv = Server([binp] + args + ["-g", "2"], name="unit-exec", wrap=wrap, errdir=d)
    try:
        started, r, err = activate(srv, port)
        ok(started and is200(r, INDEX), "units: ExecStart's arguments (%s) serve 200 under socket "
           "activation%s" % (" ".join(args), " as nobody" if wrap[0] == "setpriv" else ""),
           "%s; %s" % (srv.error, short(r, err)))
        def logged():
            return [f for f in os.listdir(logdir)
                    if COMBINED_RE.match(readf(os.path.join(logdir, f), "r").strip())]
        got = wait_for(logged, 2.0)
        ok(got, "units: its access log is written in the log directory, combined format (%s)"
           % got, [(f, readf(os.path.join(logdir, f))[:200]) for f in os.listdir(logdir)])
    finally:
        srv.stop()


# ---------------------------------------------------------------- the man page

def section(text, name):
    """The mdoc source of section NAME (up to the next .Sh)."""
    m = re.search(r"^\.Sh %s\s*$(.*?)(?=^\.Sh |\Z)" % re.escape(name), text, re.M | re.S)
    return m.group(1) if m else ""


def help_options(text):
    opts = set()
    for line in text.splitlines():
        m = re.match(r"^\s+(-[A-Za-z])(?:,\s+(--[a-z][\w-]*))?", line)
        if m:
            opts.update(x for x in m.groups() if x)
            continue
        m = re.match(r"^\s+(--[a-z][\w-]*)", line)
        if m:
            opts.add(m.group(1))
    return opts


def man_options(src):
    opts = set()
    for line in section(src, "OPTIONS").splitlines():
        if line.startswith(".It "):
            for tok in re.findall(r"\bFl (-?[\w][\w-]*)", line):
                opts.add("-" + tok)
    return opts


def p_manpage():
    path = os.path.join(REPO, "httpd.1")
    if not ok(os.path.isfile(path), "manpage: httpd.1 exists"):
        return
    src = readf(path, "r")
    if need("manpage: mandoc -Tlint", "mandoc"):
        r = subprocess.run(["mandoc", "-Tlint", path], capture_output=True, timeout=30)
        out = (r.stdout + r.stderr).decode("latin-1")
        ok(r.returncode == 0 and not out.strip(), "manpage: mandoc -Tlint httpd.1: exit 0, no "
           "message at all", "rc %d: %s" % (r.returncode, out[:1500]))
        r = subprocess.run(["mandoc", "-Tascii", path], capture_output=True, timeout=30)
        txt = re.sub(r".\x08", "", r.stdout.decode("latin-1"))
        ok(r.returncode == 0 and "--status-any" in txt and "EXIT STATUS" in txt,
           "manpage: renders (mandoc -Tascii)", txt[:300])
    try:
        h = subprocess.run([HTTPD, "-h"], capture_output=True, timeout=10)
    except OSError as e:
        ok(False, "manpage: %s -h runs" % HTTPD, e)
        return
    hopts = help_options(h.stdout.decode("latin-1"))
    mopts = man_options(src)
    ok(h.returncode == 0 and len(hopts) > 30, "manpage: httpd -h exits 0 and lists options (%d)"
       % len(hopts), h.stdout[:300])
    ok(hopts == mopts and mopts, "manpage: the options of httpd.1 are those of httpd -h (%d)"
       % len(mopts), "only in -h: %s; only in httpd.1: %s"
       % (sorted(hopts - mopts), sorted(mopts - hopts)))
    for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SIGNALS", "ENVIRONMENT", "FILES",
                "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
        if not section(src, sec).strip():
            ok(False, "manpage: has a section %s" % sec)
            break
    else:
        ok(True, "manpage: has the sections NAME ... OPTIONS, SIGNALS, ENVIRONMENT, FILES, "
           "EXIT STATUS, EXAMPLES, SEE ALSO")
    code = readf(os.path.join(REPO, "httpd.c"), "r")
    m = re.search(r"srv_signals\[\d+\]\s*=\s*\{([^}]*)\}", code)
    sigs = re.findall(r"SIG[A-Z0-9]+", m.group(1)) if m else []
    sigsec = section(src, "SIGNALS")
    miss = [s for s in sigs if s not in sigsec]
    ok(sigs and not miss, "manpage: SIGNALS covers every signal the server handles (%s)"
       % " ".join(sigs), "missing: %s" % miss)
    envs = sorted(set(re.findall(r'getenv\("([A-Z_]+)"\)', code)))
    envsec = section(src, "ENVIRONMENT")
    miss = [e for e in envs if e not in envsec]
    ok(envs and not miss, "manpage: ENVIRONMENT covers every variable httpd.c reads (%s)"
       % " ".join(envs), "missing: %s" % miss)
    main_src = code[code.find("/* ==== 10. MAIN ==== */"):]
    fn = main_src[main_src.find("\nmain(int argc"):]
    codes = set()
    for expr in re.findall(r"return ([^;]+);", fn):
        codes.update(int(x) for x in re.findall(r"\b(\d)\b", expr))
    exsec = section(src, "EXIT STATUS")
    documented = set(int(x) for x in re.findall(r"^\.It (\d+)\s*$", exsec, re.M))
    ok(codes and codes <= documented, "manpage: EXIT STATUS documents every status main() returns "
       "(%s)" % sorted(codes), "documented %s" % sorted(documented))
    # the statuses for real: usage errors are 2 (also those found after the
    # document root is open: under ASan a leak there turns 2 into 99)
    bad = []
    for args, want in ((["--no-such-option"], 2), (["-p", "99999"], 2), (["--status", "nope"], 2),
                       (["--cgi-pattern", "cgi"], 2), (["-x", "cgi-bin"], 2),
                       (["-f", "json"], 2), (["-r", os.path.join(WORK, "no-such-dir")], 1), (["-h"], 0)):
        r = subprocess.run([HTTPD, "-a", HOST, "-p", "0", "-l", "off", "-r", WWW] + args,
                           capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
        if r.returncode != want:
            bad.append((args, r.returncode, r.stderr[-300:]))
    ok(not bad, "manpage: the exit statuses as documented: usage errors 2 (unknown option, bad "
       "port, --status, --cgi-pattern, -x, -f), a missing document root 1, -h 0", bad)
    files = section(src, "FILES")
    ok("/proc/self/exe" in files and "/dev/null" in files and "www/" in files,
       "manpage: FILES names www/, the log, /proc/self/exe and /dev/null")


# ---------------------------------------------------------------- socket activation

def activate(srv, port, timeout=5.0, req=None):
    """Starts srv (under systemd-socket-activate, which execs it only at the
    first connection): waits for "Listening on", connects, sends a request.
    -> (started, Resp or None, error)."""
    res = {}
    th = threading.Thread(target=lambda: res.update(started=srv.start(timeout)), daemon=True)
    th.start()
    errpath = os.path.join(srv.errdir, srv.name + ".stderr")
    wait_for(lambda: b"Listening on" in readf(errpath), timeout, 0.02)
    r, err = fetch(port, "/") if req is None else req()
    th.join(timeout + 2)
    return res.get("started", False), r, err


def p_activate():
    if not need("activate: systemd-socket-activate", "systemd-socket-activate"):
        return
    d = mkdir(os.path.join(WORK, "activate"))
    for n in (1, 2):
        ports = [free_port() for _ in range(n)]
        wrap = ["systemd-socket-activate"] + ssa_env_args()
        for p in ports:
            wrap += ["-l", "%s:%d" % (HOST, p)]
        label = "activate (%d socket%s)" % (n, "s" if n > 1 else "")
        srv = Server([HTTPD, "-r", WWW, "-l", "off", "-g", "2"], name="activate%d" % n, wrap=wrap,
                     errdir=d)
        try:
            started, r, err = activate(srv, ports[0])
            if not ok(started, "%s: the server is exec'd at the first connection and says it "
                      "listens" % label, srv.error):
                continue
            ok(is200(r, INDEX), "%s: the connection that started it is answered 200" % label,
               short(r, err))
            said = sorted(int(x) for x in re.findall(r"listening on 127\.0\.0\.1 port (\d+)",
                                                     srv.stderr_text()))
            ok(said == sorted(ports), "%s: one start-up line per socket, on the ports systemd "
               "bound (%s)" % (label, ports), srv.stderr_text()[-400:])
            comm = (ht.read_stat(srv.pid) or {}).get("comm")
            ok(comm and comm.startswith("httpd"), "%s: systemd-socket-activate exec'd the server "
               "(same pid, comm %s)" % (label, comm))
            try:
                fl = ht.fds(srv.pid)
            except ht.ProcError as e:
                fl = {"error": str(e)}
            socks = [fl.get(3 + i, "") for i in range(n)]
            ok(all(s.startswith("socket:") for s in socks),
               "%s: descriptors 3..%d are the inherited sockets" % (label, 2 + n), fl)
            nsock = sum(1 for v in fl.values() if isinstance(v, str) and v.startswith("socket:"))
            ok(nsock == n, "%s: the server holds exactly those %d sockets (binds none of its own)"
               % (label, n), fl)
            for p in ports:
                r, err = fetch(p, "/")
                ok(is200(r, INDEX), "%s: port %d serves 200" % (label, p), short(r, err))
            rc = srv.stop(wait=5)
            ok(rc == 0, "%s: SIGTERM -> exit 0" % label, "rc %r; %s" % (rc, srv.stderr_text()[-300:]))
        finally:
            srv.stop()
    # LISTEN_FDS that names no listening socket: refused; one for another pid: ignored
    r = subprocess.run(["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" -a 127.0.0.1 -p 0 -l off '
                        '-r "$1" 3< /dev/null', HTTPD, WWW], capture_output=True, timeout=10,
                       stdin=subprocess.DEVNULL)
    ok(r.returncode == 1 and b"LISTEN_FDS" in r.stderr, "activate: LISTEN_FDS naming a descriptor "
       "that is no listening socket: exit 1, said so", "rc %d: %r" % (r.returncode, r.stderr[-300:]))
    env = dict(os.environ, LISTEN_PID="1", LISTEN_FDS="1")
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", "off", "-g", "2"), name="activate-other",
                 env=env)
    try:
        started = srv.start()
        r, err = fetch(srv.port, "/") if started else (None, srv.error)
        ok(started and is200(r, INDEX), "activate: LISTEN_PID of another process is ignored: "
           "the server binds -p itself and serves", short(r, err))
    finally:
        srv.stop()


# ---------------------------------------------------------------- inetd

def p_inetd():
    d = mkdir(os.path.join(WORK, "inetd"))
    r = subprocess.run([HTTPD, "-i", "-l", "-", "-r", WWW], capture_output=True, timeout=10,
                       stdin=subprocess.DEVNULL)
    ok(r.returncode == 2 and b"stdout" in r.stderr, "inetd: -i -l - is refused (exit 2): stdout "
       "is the connection", "rc %d: %r" % (r.returncode, r.stderr[-200:]))
    if need("inetd: systemd-socket-activate --inetd", "systemd-socket-activate"):
        inetd_ssa(d)
    if need("inetd: behind socat", "socat"):
        for logged in (False, True):
            inetd_socat(d, logged)


def two_on_one(port, label, then_close=True):
    """Two requests on one connection, then (optionally) a third with close.
    -> (responses, all bytes received, connection still open after the 2nd,
    closed after the last, extra bytes)."""
    c = Conn(port, timeout=5)
    stream = b""
    res = []
    try:
        for path in ("/", "/a.txt"):
            c.send(request_bytes(path, close=False))
            r = c.read_response(timeout=5)
            res.append(r)
            if r is not None:
                stream += r.raw()
        still_open = not c.wait_closed(0.5)[0]
        closed, extra = False, b""
        if then_close:
            c.send(request_bytes("/", close=True))
            r = c.read_response(timeout=5)
            res.append(r)
            if r is not None:
                stream += r.raw()
            closed, extra = c.wait_closed(3.0)
        return res, stream + extra, still_open, closed, extra
    finally:
        c.close()


A_TXT = b"a text\n"


def inetd_ssa(d):
    port = free_port()
    errp = os.path.join(d, "ssa-inetd.stderr")
    cmd = (["systemd-socket-activate", "--inetd", "-a"] + ssa_env_args() +
           ["-l", "%s:%d" % (HOST, port), HTTPD, "-i", "-r", WWW, "-g", "2"])
    p = track(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=open(errp, "wb"), close_fds=True))
    try:
        if not ok(wait_for(lambda: b"Listening on" in readf(errp), 5, 0.02),
                  "inetd (systemd-socket-activate --inetd): listening", readf(errp)[-300:]):
            return
        c = Conn(port, timeout=5)
        try:
            c.send(request_bytes("/", close=False))
            r1 = c.read_response(timeout=5)
            inst = wait_for(lambda: [k for k in ht.children(p.pid, must_exist=False)
                                     if k["state"] not in ("Z", "X")], 2.0)
            fl = ht.fds(inst[0]["pid"]) if inst else {}
            ok(fl.get(0, "").startswith("socket:") and fl.get(0) == fl.get(1),
               "inetd (ssa): the instance has the connection as descriptors 0 and 1",
               "instances %s fds %s" % (inst, fl))
            comm = inst[0]["comm"] if inst else None
            ok(comm and comm.startswith("httpd"), "inetd (ssa): the instance is httpd -i (%s)" % comm)
            c.send(request_bytes("/a.txt", close=False))
            r2 = c.read_response(timeout=5)
            ok(is200(r1, INDEX) and is200(r2, A_TXT) and r1.h("connection") is None,
               "inetd (ssa): two requests on one connection, both 200 (keep-alive)",
               "%s / %s" % (short(r1), short(r2)))
            ok(not c.wait_closed(0.5)[0], "inetd (ssa): the connection stays open after them")
            c.send(request_bytes("/", close=True))
            r3 = c.read_response(timeout=5)
            closed, extra = c.wait_closed(3.0)
            ok(is200(r3, INDEX) and closed and extra == b"", "inetd (ssa): a third with "
               "Connection: close is answered, then the connection closes with nothing more",
               "%s closed %s extra %r" % (short(r3), closed, extra[:200]))
        finally:
            c.close()
        died = wait_for(lambda: re.search(rb"Child \d+ died with code (\d+)", readf(errp)), 3.0)
        ok(died and died.group(1) == b"0", "inetd (ssa): the instance exits 0 after its connection",
           readf(errp)[-400:])
    finally:
        stop_popen(p)


def inetd_socat(d, logged):
    port = free_port()
    log = os.path.join(d, "socat-access.log")
    tag = "with -l FILE" if logged else "no -l"
    errp = os.path.join(d, "socat-%s.stderr" % ("log" if logged else "nolog"))
    exe = "%s -i -r %s -g 2%s" % (HTTPD, WWW, (" -l " + log) if logged else "")
    p = track(subprocess.Popen(["socat", "TCP-LISTEN:%d,bind=%s,reuseaddr,fork" % (port, HOST),
                                "EXEC:" + exe], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=open(errp, "wb"), close_fds=True))
    try:
        if not ok(wait_for(lambda: listening(port), 5, 0.02), "inetd (socat, %s): socat listens"
                  % tag, readf(errp)[-300:]):
            return
        try:
            res, stream, still_open, closed, extra = two_on_one(port, tag)
        except (ht.ProtoError, OSError) as e:
            ok(False, "inetd (socat, %s): keep-alive exchange" % tag, e)
            return
        ok(len(res) == 3 and is200(res[0], INDEX) and is200(res[1], A_TXT) and is200(res[2], INDEX)
           and res[0].h("connection") is None and still_open,
           "inetd (socat, %s): two requests on one connection both 200, the connection kept open, "
           "a third (close) answered" % tag, "%s open %s" % (res, still_open))
        ok(closed and extra == b"", "inetd (socat, %s): nothing but the responses in the stream, "
           "then the close" % tag, "closed %s extra %r" % (closed, extra[:300]))
        ok(b'"GET /' not in stream and b"HTTP/1.1\" 200" not in stream,
           "inetd (socat, %s): no access log line in the HTTP stream" % tag, ht.esc(stream, 400))
        if logged:
            got = wait_for(lambda: len(lines_of(log)) >= 3, 2.0)
            ls = lines_of(log)
            ok(got and len(ls) == 3 and '"GET /a.txt HTTP/1.1" 200' in ls[1],
               "inetd (socat, -l FILE): the 3 requests are in the log file", ls)
    finally:
        stop_popen(p)


# ---------------------------------------------------------------- static binary, PID 1

ORPHANS_SH = b"""#!/bin/sh
# leaves two orphans: one in the script's process group (killed with it once
# the response is done), one in a session of its own that outlives the script
sleep 1 > /dev/null 2>&1 &
setsid sleep 1 > /dev/null 2>&1 < /dev/null &
sleep 0.1
printf 'Content-Type: text/plain\\r\\n\\r\\norphans left\\n'
"""
STATIC_CGI_C = b"""#include <stdio.h>
int main(void)
{
  fputs("Content-Type: text/plain\\r\\n\\r\\nstatic cgi\\n", stdout);
  return 0;
}
"""
STATIC = {}                     # "httpd": the static binary, "cgi": a static CGI program


def dockerfile_build_cmd(text):
    """The RUN command of contrib/Dockerfile that runs musl-gcc (continuations joined)."""
    joined = re.sub(r"\\\n", " ", text)
    for line in joined.splitlines():
        m = re.match(r"^\s*RUN\s+(.*)$", line)
        if m and "musl-gcc" in m.group(1):
            return m.group(1).strip()
    return None


def p_static():
    df = os.path.join(REPO, "contrib", "Dockerfile")
    text = readf(df, "r")
    if not ok(text, "static: contrib/Dockerfile exists"):
        return
    cmd = dockerfile_build_cmd(text)
    ok(cmd and "musl-gcc -static -O2 -o httpd httpd.c" in cmd and "musl-tools" in text,
       "static: the Dockerfile builds with Debian's musl-tools: %s" % cmd)
    ok(re.search(r"^FROM scratch", text, re.M) and re.search(r'^ENTRYPOINT \["/httpd"', text, re.M),
       "static: the image is FROM scratch with /httpd as its entry point")
    if not cmd or not need("static: the musl build", "musl-gcc"):
        return
    bd = mkdir(os.path.join(WORK, "static"))
    for f in ("httpd.c", "httpd.h"):
        shutil.copy(os.path.join(REPO, f), bd)
    t = time.monotonic()
    r = subprocess.run(["sh", "-c", cmd], cwd=bd, capture_output=True, timeout=300)
    binp = os.path.join(bd, "httpd")
    if not ok(r.returncode == 0 and os.path.isfile(binp), "static: the Dockerfile's command "
              "builds it (%.1f s): %s" % (time.monotonic() - t, cmd),
              (r.stdout + r.stderr).decode("latin-1")[-1500:]):
        return
    size = os.path.getsize(binp)
    diag("static: the static binary is %d bytes (%.0f KiB)" % (size, size / 1024.0))
    ok(0 < size < 2 * 1024 * 1024, "static: size of the static binary: %d bytes" % size)
    checks = []
    if ht.have("readelf"):
        rh = subprocess.run(["readelf", "-lW", binp], capture_output=True, timeout=30)
        out = rh.stdout.decode("latin-1")
        checks.append(rh.returncode == 0 and "INTERP" not in out and "interpreter" not in out
                      and "LOAD" in out)
        ok(checks[-1], "static: readelf -l: no program interpreter (no INTERP header)", out[-800:])
        rd = subprocess.run(["readelf", "-dW", binp], capture_output=True, timeout=30)
        ok("NEEDED" not in rd.stdout.decode("latin-1"), "static: readelf -d: no shared library "
           "needed", rd.stdout[-400:])
    if ht.have("file"):
        rf = subprocess.run(["file", "-b", binp], capture_output=True, timeout=30)
        ok(b"statically linked" in rf.stdout, "static: file says statically linked", rf.stdout)
    if ht.have("ldd"):
        rl = subprocess.run(["ldd", binp], capture_output=True, timeout=30)
        ok(rl.returncode != 0 or b"not a dynamic executable" in rl.stdout + rl.stderr
           or b"statically linked" in rl.stdout + rl.stderr,
           "static: ldd finds no dynamic dependency", rl.stdout + rl.stderr)
    STATIC["httpd"] = binp
    cgi_c = os.path.join(bd, "cgi.c")
    writef(cgi_c, STATIC_CGI_C)
    rc = subprocess.run(["musl-gcc", "-static", "-O2", "-o", os.path.join(bd, "static.cgi"), cgi_c],
                        capture_output=True, timeout=120)
    if rc.returncode == 0:
        STATIC["cgi"] = os.path.join(bd, "static.cgi")
    if not need("static: as PID 1 (unshare)", "unshare", "setsid", root=True):
        return
    static_pid1(binp)
    static_scratch(binp)


class Sampler(threading.Thread):
    """Records the `sleep` processes whose parent is pid (adopted orphans)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.seen, self.errors = pid, set(), 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                for p in ht.children(self.pid, must_exist=False):
                    if p["comm"] == "sleep":
                        self.seen.add(p["pid"])
            except ht.ProcError:
                self.errors += 1
            self.halt.wait(0.01)


def static_pid1(binp):
    www = mkdir(os.path.join(WORK, "www-static"))
    writef(os.path.join(www, "index.html"), INDEX)
    mkdir(os.path.join(www, "cgi-bin"))
    writef(os.path.join(www, "cgi-bin", "orphans.sh"), ORPHANS_SH, 0o755)
    srv = Server([binp, "-a", HOST, "-p", "0", "-r", www, "-x", "/cgi-bin/", "-C", "0", "-g", "2",
                  "-l", "off"], name="static-pid1", wrap=UNSHARE, pid_from_child=True)
    sampler = None
    try:
        if not ok(srv.start(), "static pid1: the static binary starts under unshare", srv.error):
            return
        ns = (proc_status(srv.pid) or {}).get("NSpid")
        ok(ns and ns[-1] == "1", "static pid1: it is PID 1 of its namespace (NSpid %s)" % ns)
        sampler = Sampler(srv.pid)
        sampler.start()
        res = [fetch(srv.port, "/cgi-bin/orphans.sh") for _ in range(4)]
        ok(all(is200(r, b"orphans left\n") for r, _ in res),
           "static pid1: 4 CGI requests whose script leaves orphans all 200",
           [short(r, e) for r, e in res])
        r, err = fetch(srv.port, "/")
        ok(is200(r, INDEX), "static pid1: serves a file", short(r, err))
        time.sleep(1.3)                 # the orphans' second

        def clean():
            tree = ht.descendants(srv.pid)
            return not [p for p in tree if p["state"] == "Z" or p["comm"] == "sleep"]
        v, err = ht.poll(clean, 3.0)
        sampler.halt.set()
        sampler.join(2)
        try:
            left = [(p["pid"], p["comm"], p["state"]) for p in ht.descendants(srv.pid)]
        except ht.ProcError as e:
            left = str(e)
        ok(len(sampler.seen) >= 2, "static pid1: the orphans were adopted by PID 1 (%d sleep "
           "processes seen as its children, of 4)" % len(sampler.seen),
           "sampler errors %d" % sampler.errors)
        ok(v, "static pid1: every orphan reaped: no zombie, no sleep left, within 3 s",
           "left: %s %s" % (left, err or ""))
        ok(srv.alive(), "static pid1: still running")
        t = time.monotonic()
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(4.0)
        ok(rc == 0, "static pid1: SIGTERM -> exit 0 (%.2f s)" % (time.monotonic() - t),
           "rc %r; %s" % (rc, srv.stderr_text()[-300:]))
    finally:
        if sampler:
            sampler.halt.set()
        srv.stop()


def static_scratch(binp):
    rootfs = mkdir(os.path.join(WORK, "scratch"))
    shutil.copy(binp, os.path.join(rootfs, "httpd"))
    os.chmod(os.path.join(rootfs, "httpd"), 0o755)
    mkdir(os.path.join(rootfs, "www"))
    writef(os.path.join(rootfs, "www", "index.html"), INDEX)
    if not ht.have("chroot"):
        skip("static: an empty root", "chroot not installed")
        return
    srv = Server(["/httpd", "-a", HOST, "-p", "0", "-r", "/www", "-l", "off", "-g", "2"],
                 name="static-scratch", wrap=["unshare", "--pid", "--fork", "--kill-child", "chroot",
                                               rootfs], pid_from_child=True)
    try:
        started = srv.start()
        r, err = fetch(srv.port, "/") if started else (None, srv.error)
        ok(started and is200(r, INDEX), "static: in an empty root (no libc, no passwd file, as "
           "FROM scratch) it serves 200", short(r, err))
        ok("as 65534 (uid 65534, gid 65534)" in srv.stderr_text(),
           "static: ... as uid 65534 (no passwd file to name nobody)", srv.stderr_text()[-300:])
        st = proc_status(srv.pid) if started else None
        good, why = creds_ok(st, 65534, 65534)
        ok(good, "static: ... and /proc says uid and gid 65534, no capability", why)
        srv.signal(signal.SIGTERM)
        ok(srv.wait_exit(4.0) == 0, "static: in the empty root SIGTERM -> exit 0")
    finally:
        srv.stop()


# ---------------------------------------------------------------- privileges

def first_child(srv, timeout=2.0):
    kids = wait_for(lambda: [k for k in ht.children(srv.pid, must_exist=False)
                             if k["state"] not in ("Z", "X")], timeout)
    return kids or []


def p_privileges():
    if not need("privileges", root=True) or NOBODY is None:
        if NOBODY is None:
            skip("privileges", "no user nobody")
        return
    uid, gid = NOBODY.pw_uid, NOBODY.pw_gid
    # -u nobody, fork mode: the parent and a child
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-u", "nobody", "-l", "off", "-g", "2"),
                 name="priv-u")
    holder = None
    try:
        if ok(srv.start(), "privileges -u nobody: starts", srv.error):
            ok("as nobody (uid %d, gid %d)" % (uid, gid) in srv.stderr_text(),
               "privileges -u nobody: the start-up line says as nobody (uid %d, gid %d)" % (uid, gid),
               srv.stderr_text()[-300:])
            good, why = creds_ok(proc_status(srv.pid), uid, gid)
            ok(good, "privileges -u nobody: the parent's uids, gids and groups are nobody's, no "
               "capability (/proc/PID/status)", why)
            holder = Conn(srv.port)
            kids = first_child(srv)
            good, why = creds_ok(proc_status(kids[0]["pid"]) if kids else None, uid, gid)
            ok(kids and good, "privileges -u nobody: a child's too", why)
            r, err = fetch(srv.port, "/secret.txt")
            ok(r is not None and r.status == 403 and SECRET not in r.body,
               "privileges: a file of mode 600 owned by root is 403", short(r, err))
            r, err = fetch(srv.port, "/")
            ok(is200(r, INDEX), "privileges: a world-readable file beside it is 200", short(r, err))
    finally:
        if holder:
            holder.close()
        srv.stop()
    # prefork
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-u", "nobody", "-w", "2", "-l", "off", "-g", "2"),
                 name="priv-w")
    try:
        if ok(srv.start(), "privileges -u nobody -w 2: starts", srv.error):
            ws = wait_for(lambda: len(first_child(srv, 0.1)) == 2 and first_child(srv, 0.1), 2.0) or []
            good = len(ws) == 2
            why = "workers %s" % ws
            for w in ws:
                g, wy = creds_ok(proc_status(w["pid"]), uid, gid)
                good &= g
                why += "; %s" % wy
            ok(good, "privileges -u nobody -w 2: both workers have nobody's uids, gids and groups",
               why)
    finally:
        srv.stop()
    # -u USER:GROUP
    other = pick_group(exclude=gid)
    if other is not None:
        srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-u", "nobody:%s" % other.gr_name, "-l", "off",
                                   "-g", "2"), name="priv-ug")
        try:
            if ok(srv.start(), "privileges -u nobody:%s: starts" % other.gr_name, srv.error):
                good, why = creds_ok(proc_status(srv.pid), uid, other.gr_gid)
                ok(good, "privileges -u nobody:%s: gid %d, groups only it" % (other.gr_name,
                                                                             other.gr_gid), why)
        finally:
            srv.stop()
    r = subprocess.run([HTTPD, "-a", HOST, "-p", "0", "-u", "no-such-user-ops", "-l", "off"],
                       capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
    ok(r.returncode == 2 and b"unknown user" in r.stderr, "privileges: -u of an unknown user: "
       "exit 2, said so", "rc %d %r" % (r.returncode, r.stderr[-200:]))
    # no -u, as root
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", "off", "-g", "2"), name="priv-default")
    try:
        if ok(srv.start(), "privileges (root, no -u, root owns the document root): starts",
              srv.error):
            st = proc_status(srv.pid)
            ok(st and st["Uid"][0] != 0 and st["Uid"] == [uid] * 4,
               "privileges (root, no -u): not root: nobody (uid %d)" % uid, st)
            ok(re.search(r"listening on \S+ port \d+ as nobody \(uid %d, gid %d\)" % (uid, gid),
                         srv.stderr_text()), "privileges (root, no -u): the start-up line names "
               "nobody", srv.stderr_text()[-300:])
    finally:
        srv.stop()
    owner = pick_user()
    if owner is None:
        skip("privileges: a document root owned by a user", "no system user besides root and nobody")
        return
    www2 = mkdir(os.path.join(WORK, "www-owned"), 0o755, (owner.pw_uid, owner.pw_gid))
    writef(os.path.join(www2, "index.html"), INDEX)
    srv = Server(ht.httpd_argv(HTTPD, "-r", www2, "-l", "off", "-g", "2"), name="priv-owner")
    try:
        if ok(srv.start(), "privileges (root, no -u, %s owns the document root): starts"
              % owner.pw_name, srv.error):
            good, why = creds_ok(proc_status(srv.pid), owner.pw_uid, owner.pw_gid)
            ok(good, "privileges (root, no -u): becomes the document root's owner %s (uid %d)"
               % (owner.pw_name, owner.pw_uid), why)
            ok("as %s (uid %d, gid %d)" % (owner.pw_name, owner.pw_uid, owner.pw_gid)
               in srv.stderr_text(), "privileges (root, no -u): the start-up line names %s"
               % owner.pw_name, srv.stderr_text()[-300:])
            r, err = fetch(srv.port, "/")
            ok(is200(r, INDEX), "privileges (root, no -u, owner %s): serves" % owner.pw_name,
               short(r, err))
    finally:
        srv.stop()


def pick_user():
    for name in ("daemon", "bin", "sys", "www-data", "mail"):
        try:
            p = pwd.getpwnam(name)
        except KeyError:
            continue
        if p.pw_uid not in (0, NOBODY.pw_uid if NOBODY else 65534):
            return p
    return None


def pick_group(exclude):
    for name in ("daemon", "bin", "sys", "adm", "users"):
        try:
            g = grp.getgrnam(name)
        except KeyError:
            continue
        if g.gr_gid not in (0, exclude):
            return g
    return None


# ---------------------------------------------------------------- chroot

def no_leak_env():
    """LeakSanitizer cannot run inside a chroot without /proc."""
    if not SAN:
        return None
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    return env


def p_chroot():
    if not need("chroot", root=True):
        return
    jail = mkdir(os.path.join(WORK, "jail"))
    jw = mkdir(os.path.join(jail, "www"))
    writef(os.path.join(jw, "index.html"), b"jail index\n")
    writef(os.path.join(jail, "above-www.txt"), OUTSIDE)
    writef(os.path.join(WORK, "outside.txt"), OUTSIDE)
    os.symlink(os.path.join(WORK, "outside.txt"), os.path.join(jw, "abs.txt"))
    os.symlink("../../outside.txt", os.path.join(jw, "rel.txt"))
    os.symlink("../above-www.txt", os.path.join(jw, "up.txt"))
    os.symlink("/", os.path.join(jw, "rootlink"))
    srv = Server(ht.httpd_argv(HTTPD, "-j", jail, "-r", "www", "-l", "off", "-g", "2"),
                 name="chroot", env=no_leak_env())
    try:
        if not ok(srv.start(), "chroot: --chroot DIR -r www starts", srv.error):
            return
        try:
            root = os.readlink("/proc/%d/root" % srv.pid)
        except OSError as e:
            root = str(e)
        ok(root == jail, "chroot: the server's root directory is DIR (%s)" % root)
        r, err = fetch(srv.port, "/")
        ok(is200(r, b"jail index\n"), "chroot: serves the document root inside it", short(r, err))
        bad = []
        for path in ("/abs.txt", "/rel.txt", "/up.txt", "/rootlink/etc/passwd",
                     "/../above-www.txt", "/%2e%2e/above-www.txt", "/..%2fabove-www.txt",
                     "/%2e%2e%2f%2e%2e%2foutside.txt"):
            r, err = fetch(srv.port, path)
            if r is None or r.status not in (400, 403, 404) or OUTSIDE in r.body or b"root:" in r.body:
                bad.append((path, short(r, err)))
        ok(not bad, "chroot: 8 symlinks and paths leading out of the document root or the chroot "
           "reach nothing (400/403/404)", bad)
        # SIGUSR2 in a chroot: the binary is out of reach; the old server goes on
        srv.signal(signal.SIGUSR2)
        said = stderr_has(srv, r"SIGUSR2: .*(goes on|no upgrade)", 12.0)
        r, err = fetch(srv.port, "/")
        ok(said and srv.alive() and is200(r, b"jail index\n"), "chroot: SIGUSR2 cannot upgrade "
           "inside the chroot: the old server says so and goes on serving",
           "%s; %s" % (srv.stderr_text()[-300:], short(r, err)))
    finally:
        srv.stop()
    chroot_cgi()


def chroot_cgi():
    jail = mkdir(os.path.join(WORK, "jail-cgi"))
    jw = mkdir(os.path.join(jail, "www"))
    cb = mkdir(os.path.join(jw, "cgi-bin"))
    writef(os.path.join(cb, "t.sh"), b"#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nsh\\n'\n",
           0o755)
    if STATIC.get("cgi"):
        shutil.copy(STATIC["cgi"], os.path.join(cb, "static.cgi"))
        os.chmod(os.path.join(cb, "static.cgi"), 0o755)
    line = r"cannot start CGI script /cgi-bin/t\.sh: .*interpreter"

    def run(label):
        srv = Server(ht.httpd_argv(HTTPD, "-j", jail, "-r", "www", "-x", "/cgi-bin/", "-s", "-g", "2",
                                   "-l", os.path.join(WORK, "jail-cgi-%s.log" % label.split()[0])),
                     name="chroot-cgi-" + label.split()[0], env=no_leak_env())
        try:
            if not ok(srv.start(), "chroot cgi (%s): starts" % label, srv.error):
                return
            r, err = fetch(srv.port, "/cgi-bin/t.sh")
            ok(r is not None and r.status == 500, "chroot cgi (%s): a script whose interpreter is "
               "not in the chroot: 500" % label, short(r, err))
            ok(stderr_has(srv, line, 1.5), "chroot cgi (%s): stderr says the script cannot start, "
               "its interpreter missing" % label,
               "stderr: %r; log: %r" % (srv.stderr_text()[-300:],
                                        readf(os.path.join(WORK, "jail-cgi-%s.log"
                                                           % label.split()[0]))[-200:]))
            if STATIC.get("cgi"):
                r, err = fetch(srv.port, "/cgi-bin/static.cgi")
                ok(is200(r, b"static cgi\n"), "chroot cgi (%s): a static CGI program (needs nothing "
                   "from the chroot) runs: GET 200" % label, short(r, err))
                r, err = fetch(srv.port, "/cgi-bin/static.cgi", method="POST", body=b"x=1")
                ok(is200(r, b"static cgi\n"), "chroot cgi (%s): ... POST with a body 200" % label,
                   short(r, err))
        finally:
            srv.stop()
    run("bare: no /dev")
    try:
        mkdir(os.path.join(jail, "dev"))
        os.mknod(os.path.join(jail, "dev", "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chmod(os.path.join(jail, "dev", "null"), 0o666)
    except OSError as e:
        skip("chroot cgi (with /dev/null)", "cannot mknod /dev/null in the chroot: %s" % e)
        return
    run("with /dev/null")


# ---------------------------------------------------------------- SIGHUP

CLF_RE = re.compile(r'^\S+ - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "[^"]*" \d{3} (\d+|-)$')


class Requester(threading.Thread):
    """Sequential Connection: close requests until stopped; counts the answered ones."""

    def __init__(self, port, path="/"):
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.answered = self.failed = 0
        self.halt = threading.Event()
        self.errors = []

    def run(self):
        while not self.halt.is_set():
            r, err = fetch(self.port, self.path)
            if is200(r):
                self.answered += 1
            else:
                self.failed += 1
                self.errors.append(short(r, err))
            time.sleep(0.005)


def p_hup():
    for label, extra in (("fork", []), ("prefork -w 2", ["-w", "2"])):
        hup_case(label, extra)
    if IS_ROOT:
        hup_root_file()


def hup_case(label, extra):
    owner = (NOBODY.pw_uid, NOBODY.pw_gid) if IS_ROOT and NOBODY else None
    d = mkdir(os.path.join(WORK, "hup-" + label.split()[0]), 0o755, owner)
    log = os.path.join(d, "access.log")
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", log, "-g", "2", "-C", "0") + extra,
                 name="hup-" + label.split()[0])
    rq = None
    keep = None
    try:
        if not ok(srv.start(), "hup %s: starts" % label, srv.error):
            return
        keep = Conn(srv.port)
        keep.send(request_bytes("/?keepalive-before", close=False))
        k1 = keep.read_response()
        rq = Requester(srv.port)
        rq.start()
        time.sleep(0.5)
        os.rename(log, log + ".1")
        srv.signal(signal.SIGHUP)
        made = wait_for(lambda: os.path.exists(log), 2.0, 0.01)
        ok(made, "hup %s: SIGHUP after the rename: the server opens a new file of the old name"
           % label, srv.stderr_text()[-300:])
        time.sleep(0.2)
        keep.send(request_bytes("/?keepalive-after", close=False))
        k2 = keep.read_response()
        time.sleep(0.5)
        rq.halt.set()
        rq.join(5)
        r, err = fetch(srv.port, "/?after-hup-marker")
        more = [fetch(srv.port, "/?after-%d" % i)[0] for i in range(10)]
        total = rq.answered + 1 + 10 + sum(1 for x in (k1, k2) if is200(x))
        ok(rq.failed == 0 and is200(r) and all(is200(x) for x in more) and is200(k1) and is200(k2),
           "hup %s: every request around the HUP answered 200 (%d)" % (label, total),
           rq.errors[:5])

        def lines():
            return lines_of(log + ".1") + lines_of(log)
        wait_for(lambda: len(lines()) >= total, 2.0)
        old, new = lines_of(log + ".1"), lines_of(log)
        ok(len(old) + len(new) == total, "hup %s: no line lost: %d in the old file + %d in the new "
           "= %d requests" % (label, len(old), len(new), total), "%d lines for %d requests"
           % (len(old) + len(new), total))
        ok(old and new, "hup %s: lines on both sides of the HUP" % label)
        ok(any("after-hup-marker" in l for l in new) and not any("after-hup-marker" in l for l in old),
           "hup %s: the next request after the HUP is in the new file" % label,
           "new: %s" % new[-3:])
        ok(sum(1 for l in new if "/?after-" in l and "marker" not in l) == 10,
           "hup %s: and the 10 after it (every %s reopened)" % (label,
                                                               "worker" if extra else "child"),
           "old file's tail %s" % old[-3:])
        ok(all(CLF_RE.match(l) for l in old + new), "hup %s: every line whole (CLF)" % label,
           [l for l in old + new if not CLF_RE.match(l)][:3])
        ok("cannot reopen" not in srv.stderr_text(), "hup %s: no reopen failure on stderr" % label,
           srv.stderr_text()[-300:])
    finally:
        if rq:
            rq.halt.set()
        if keep:
            keep.close()
        srv.stop()


def hup_root_file():
    """The deployment: root starts the server with -l in a root-owned directory;
    it opens the file, then drops to nobody; logrotate's create makes the new
    file with the old one's owner and mode, then HUP."""
    d = mkdir(os.path.join(WORK, "hup-root"))
    log = os.path.join(d, "access.log")
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", log, "-g", "2"), name="hup-root")
    try:
        if not ok(srv.start(), "hup as root: starts", srv.error):
            return
        r, err = fetch(srv.port, "/?before")
        st = os.stat(log)
        diag("hup as root: the log file was created %o uid %d gid %d; the server runs as uid %s"
             % (st.st_mode & 0o7777, st.st_uid, st.st_gid, (proc_status(srv.pid) or {}).get("Uid")))
        os.rename(log, log + ".1")
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_EXCL, st.st_mode & 0o7777)
        os.fchown(fd, st.st_uid, st.st_gid)
        os.close(fd)
        srv.signal(signal.SIGHUP)
        time.sleep(0.5)
        r2, err2 = fetch(srv.port, "/?after-rotation")
        wait_for(lambda: any("after-rotation" in l for l in lines_of(log) + lines_of(log + ".1")), 2.0)
        ok(any("after-rotation" in l for l in lines_of(log)),
           "hup as root (-l in a root-owned directory, logrotate's create: the new file gets the "
           "old one's owner and mode): the next request is in the new file",
           "new %s; old %s; stderr %r" % (lines_of(log), lines_of(log + ".1"),
                                          srv.stderr_text()[-300:]))
        ok("cannot reopen" not in srv.stderr_text(), "hup as root: no 'cannot reopen the log' on "
           "stderr", srv.stderr_text()[-300:])
    finally:
        srv.stop()


# ---------------------------------------------------------------- log formats

COMBINED_RE = re.compile(r'^(\S+) - - \[[^\]]+\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) '
                         r'"((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"(?: (LOG:[\d,]+|-))?$')


def ipv6_ok():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def p_formats():
    d = mkdir(os.path.join(WORK, "formats"))
    log = os.path.join(d, "combined.log")
    v6 = ipv6_ok()
    argv = [HTTPD, "-p", "0", "-r", WWW, "-f", "combined", "-s", "-l", log, "-g", "2"]
    if not v6:
        argv[1:1] = ["-a", HOST]
    srv = Server(argv, name="formats")
    try:
        if not ok(srv.start(), "formats: -f combined -s starts", srv.error):
            return
        if v6:
            ok(srv.addr == "*", "formats: no -a: the server binds all addresses, dual-stack (%s)"
               % srv.addr)
        fetch(srv.port, "/", headers=[("Referer", "http://ref.example/x?y=1"),
                                      ("User-Agent", "ops-agent/1.0 (test)")])
        fetch(srv.port, "/missing")
        fetch(srv.port, "/", headers=[("User-Agent", 'quote"inside')])
        c = Conn(srv.port)
        c.send(b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            c.read_response()
        except ht.ProtoError:
            pass
        c.close()
        n = 4
        if v6:
            fetch(srv.port, "/", host="::1")
            n += 1
        wait_for(lambda: len(lines_of(log)) >= n, 2.0)
        ls = lines_of(log)
        ok(len(ls) == n, "formats: one line per request (%d)" % n, ls)
        ms = [COMBINED_RE.match(l) for l in ls]
        ok(all(m and m.group(7) for m in ms), "formats: every line is combined format with the "
           "-s field at its end", [l for l, m in zip(ls, ms) if not (m and m.group(7))])
        if len(ls) < n or not all(ms):
            return
        m = ms[0]
        ok(m.group(5) == "http://ref.example/x?y=1" and m.group(6) == "ops-agent/1.0 (test)"
           and m.group(7) == "-" and m.group(3) == "200",
           "formats: combined: the Referer and User-Agent fields, and -s ends a 200 in -", ls[0])
        ok(ms[1].group(3) == "404" and ms[1].group(5) == "-" and ms[1].group(6) == "-"
           and ms[1].group(7).startswith("LOG:"), "formats: a 404 without the fields: \"-\" \"-\" "
           "LOG:N", ls[1])
        ok('quote"inside' not in ls[2] and "quote" in ms[2].group(6),
           "formats: a double quote in the User-Agent is escaped (the line still parses)", ls[2])
        ok(ms[3].group(3) == "400" and re.match(r"LOG:\d+$", ms[3].group(7)),
           "formats: a 400 ends in its rejection site LOG:N", ls[3])
        ok(all(m.group(1) == "127.0.0.1" for m in ms[:4]),
           "formats: an IPv4 client of the %s server is logged as plain 127.0.0.1 (not "
           "::ffff:127.0.0.1)" % ("[::]" if v6 else "0.0.0.0"), [m.group(1) for m in ms])
        if v6:
            ok(ms[4].group(1) == "::1", "formats: an IPv6 client as ::1", ls[4])
        else:
            skip("formats: IPv4 client of a [::] server", "no IPv6 on this machine")
    finally:
        srv.stop()
    # the parent's own lines (503 per address) carry the format too
    log2 = os.path.join(d, "busy.log")
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-C", "1", "-f", "combined", "-s", "-l", log2,
                               "-g", "2", "-q"), name="formats-busy")
    hold = None
    try:
        if ok(srv.start(), "formats: -C 1 -f combined -s starts", srv.error):
            hold = Conn(srv.port)
            hold.send(request_bytes("/", close=False))
            hold.read_response()
            r, err = fetch(srv.port, "/")
            ok(r is not None and r.status == 503, "formats: a second connection of the address "
               "(-C 1) is 503", short(r, err))
            wait_for(lambda: any(" 503 " in l for l in lines_of(log2)), 2.0)
            busy = [l for l in lines_of(log2) if " 503 " in l]
            ok(busy and COMBINED_RE.match(busy[0]) and busy[0].endswith(" LOG:701"),
               "formats: the parent's 503 line is combined too and ends in LOG:701", busy)
    finally:
        if hold:
            hold.close()
        srv.stop()
    # the default: CLF, nothing after the size
    log3 = os.path.join(d, "clf.log")
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", log3, "-g", "2"), name="formats-clf")
    try:
        if ok(srv.start(), "formats: default format starts", srv.error):
            fetch(srv.port, "/", headers=[("Referer", "http://r/"), ("User-Agent", "ua")])
            wait_for(lambda: lines_of(log3), 2.0)
            ls = lines_of(log3)
            ok(len(ls) == 1 and re.match(r'^127\.0\.0\.1 - - \[[^\]]+\] "GET / HTTP/1\.1" 200 %d$'
                                         % len(INDEX), ls[0]),
               "formats: the default is CLF: nothing after the size (no fields, no site)", ls)
    finally:
        srv.stop()


# ---------------------------------------------------------------- events

def p_events():
    if not need("events", "prlimit"):
        return
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", "off", "-C", "0", "-c", "64", "-g", "2"),
                 name="events", wrap=["prlimit", "--core=0"] + san_env("handle_segv=0"))
    conns = []
    try:
        if not ok(srv.start(), "events: starts", srv.error):
            return
        for _ in range(11):
            conns.append(Conn(srv.port))
        kids = wait_for(lambda: len(first_child(srv, 0.05)) == 11 and first_child(srv, 0.05), 3.0)
        if not ok(kids, "events: 11 idle connections -> 11 children (setup)",
                  "children %s" % first_child(srv, 0.1)):
            return
        pids = [k["pid"] for k in kids]
        t0 = time.monotonic()
        for p in pids[:10]:
            os.kill(p, signal.SIGSEGV)
        gone = wait_for(lambda: not any(ht.read_stat(p) for p in pids[:10]), 0.9, 0.01)
        ok(gone and time.monotonic() - t0 < 0.9, "events: 10 children killed by SIGSEGV within "
           "%.2f s are reaped (setup)" % (time.monotonic() - t0))
        first = stderr_has(srv, r"killed by signal 11", 0.5)
        lines = [l for l in srv.stderr_text().splitlines() if "killed by signal" in l]
        ok(first and len(lines) == 1 and
           re.match(r"^httpd: child (\d+) killed by signal 11$", lines[0]) and
           int(re.match(r"^httpd: child (\d+)", lines[0]).group(1)) in pids[:10],
           "events: the first crash is said at once (\"httpd: child PID killed by signal 11\"), "
           "the 9 others within the second are held back", lines)
        time.sleep(max(0.0, t0 + 1.15 - time.monotonic()))
        os.kill(pids[10], signal.SIGSEGV)
        stderr_has(srv, r"\[\d+ more\]", 1.0)
        lines = [l for l in srv.stderr_text().splitlines() if "killed by signal" in l]
        more = [int(x) for l in lines for x in re.findall(r"\[(\d+) more\]", l)]
        ok(2 <= len(lines) <= 3, "events: 11 crashes in 1.2 s: %d lines (2-3)" % len(lines), lines)
        ok(more and re.search(r"child %d killed by signal 11 \[\d+ more\]$" % pids[10], lines[-1]),
           "events: the next one after the second says how many were held back (\"[N more]\")",
           lines)
        ok(len(lines) + sum(more) == 11, "events: lines + held back = 11 crashes (%d + %d)"
           % (len(lines), sum(more)), lines)
        r, err = fetch(srv.port, "/")
        ok(srv.alive() and is200(r, INDEX), "events: the server still serves", short(r, err))
    finally:
        for c in conns:
            c.close()
        srv.stop()


# ---------------------------------------------------------------- upgrade

B2 = {}


def other_build():
    """Another build of httpd.c (plain cc -O1), to copy over the running binary."""
    if "path" in B2:
        return B2["path"]
    B2["path"] = None
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    out = os.path.join(WORK, "httpd-other-build")
    r = subprocess.run([cc, "-O1", "-o", out, os.path.join(REPO, "httpd.c")], capture_output=True,
                       timeout=300)
    if r.returncode == 0:
        B2["path"] = out
    else:
        diag("cannot build another httpd: %s" % r.stderr[-500:])
    return B2["path"]


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def parse_wrk(out):
    m = re.search(r"(\d+) requests in ([\d.]+)s", out)
    se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    nx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (int(m.group(1)) if m else None,
            tuple(int(x) for x in se.groups()) if se else (0, 0, 0, 0),
            int(nx.group(1)) if nx else 0)


def p_upgrade():
    if not need("upgrade under wrk", "wrk"):
        return
    b2 = other_build()
    for label, extra in (("fork", []), ("prefork -w 2", ["-w", "2"])):
        upgrade_case(label, extra, b2)
    if IS_ROOT and NOBODY:
        upgrade_root_log()


def new_server_pid(srv, timeout):
    m = stderr_has(srv, r"SIGUSR2: new server (\d+) serves", timeout)
    return int(m.group(1)) if m else None


def upgrade_case(label, extra, b2):
    d = mkdir(os.path.join(WORK, "upgrade-" + label.split()[0]))
    exe = os.path.join(d, "httpd")
    shutil.copy(HTTPD, exe)
    os.chmod(exe, 0o755)
    srv = Server([exe, "-a", HOST, "-p", "0", "-r", WWW, "-l", "off", "-g", "5", "-C", "0"] + extra,
                 name="upgrade-" + label.split()[0], errdir=d)
    wrk = None
    newpid = None
    try:
        if not ok(srv.start(), "upgrade %s: starts" % label, srv.error):
            return
        old_ino = os.stat(exe).st_ino
        ok(os.stat("/proc/%d/exe" % srv.pid).st_ino == old_ino,
           "upgrade %s: /proc/PID/exe of the old server is the file it was started from (control)"
           % label)
        wout = os.path.join(d, "wrk.out")
        wrk = track(subprocess.Popen(["wrk", "-t1", "-c16", "-d6", "http://%s:%d/index.html"
                                      % (HOST, srv.port)], stdout=open(wout, "wb"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        time.sleep(2.0)
        if b2:
            tmp = exe + ".new"
            shutil.copy(b2, tmp)
            os.chmod(tmp, 0o755)
            os.rename(tmp, exe)                 # mv: a new file under the old name
        new_ino = os.stat(exe).st_ino
        t = time.monotonic()
        srv.signal(signal.SIGUSR2)
        newpid = new_server_pid(srv, 12.0)
        if newpid:
            track(newpid)
        ok(newpid, "upgrade %s: SIGUSR2: a new server comes up (%.2f s)" % (label,
                                                                             time.monotonic() - t),
           srv.stderr_text()[-500:])
        try:
            wrk.wait(20)
        except subprocess.TimeoutExpired:
            wrk.kill()
            wrk.wait(3)
        out = readf(wout, "r")
        n, sock, non2xx = parse_wrk(out)
        diag("upgrade %s: wrk: %s requests, socket errors %s, non-2xx %d" % (label, n, sock, non2xx))
        ok(wrk.returncode == 0 and n and n > 1000, "upgrade %s: wrk -t1 -c16 -d6 ran (%s requests)"
           % (label, n), out[-800:])
        ok(sock == (0, 0, 0, 0), "upgrade %s: wrk saw no socket error across the upgrade "
           "(connect, read, write, timeout: %s)" % (label, sock), out[-800:])
        ok(non2xx == 0, "upgrade %s: wrk saw no non-2xx response (%d)" % (label, non2xx), out[-800:])
        rc = srv.wait_exit(10.0)
        ok(rc == 0, "upgrade %s: the old parent drains and exits 0" % label,
           "rc %r; %s" % (rc, srv.stderr_text()[-300:]))
        ok(ht.read_stat(srv.pid) is None, "upgrade %s: the old parent pid %d is gone" % (label,
                                                                                        srv.pid))
        if not newpid:
            return
        alive = ht.read_stat(newpid)
        r, err = fetch(srv.port, "/")
        ok(alive and alive["state"] not in ("Z", "X") and is200(r, INDEX),
           "upgrade %s: the new server (pid %d) serves on the same port" % (label, newpid),
           short(r, err))
        try:
            st = os.stat("/proc/%d/exe" % newpid)
            same = st.st_ino == new_ino
            digest = sha("/proc/%d/exe" % newpid)
        except OSError as e:
            same, digest = False, str(e)
        if b2:
            ok(same and new_ino != old_ino and digest == sha(b2),
               "upgrade %s: the new server runs the new file (the other build moved over the "
               "binary; inode and sha256)" % label, "inode %s/%s/%s" % (old_ino, new_ino, digest))
        else:
            skip("upgrade %s: the binary replaced" % label, "no C compiler for another build")
        if extra:
            ws = wait_for(lambda: len([k for k in ht.children(newpid, must_exist=False)
                                       if k["state"] not in ("Z", "X")]) == 2, 2.0)
            ok(ws, "upgrade %s: the new server has its 2 workers" % label)
        os.kill(newpid, signal.SIGTERM)
        rc = wait_pid(newpid, 10.0)
        ok(rc == 0 or (not SUBREAPER and rc == "gone (not our child)"),
           "upgrade %s: the new server exits 0 on SIGTERM (rc %r)" % (label, rc))
    finally:
        if wrk and wrk.poll() is None:
            wrk.kill()
            wrk.wait(3)
        srv.stop()
        if newpid and ht.read_stat(newpid) is not None:
            kill_tree(newpid)
            wait_pid(newpid, 2.0)


def upgrade_root_log():
    """As root: the new server is started by a parent that is no longer root,
    so what root did at the first start must not be needed again."""
    upgrade_simple("as root with -l FILE (the server dropped to nobody)", log=True)
    upgrade_simple("as root with -u nobody", ["-u", "nobody"])


def upgrade_simple(label, args=(), log=False):
    tag = re.sub(r"[^a-z0-9]+", "-", label)[:40]
    d = mkdir(os.path.join(WORK, "upgrade-" + tag))
    logp = os.path.join(d, "access.log")
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", logp if log else "off", "-g", "2") + list(args),
                 name="upgrade-" + tag, errdir=d)
    newpid = None
    try:
        if not ok(srv.start(), "upgrade %s: starts" % label, srv.error):
            return
        fetch(srv.port, "/?before")
        srv.signal(signal.SIGUSR2)
        stderr_has(srv, r"SIGUSR2: (new server|the new server did not)", 12.0)
        newpid = new_server_pid(srv, 0.1)
        if newpid:
            track(newpid)
        ok(newpid, "upgrade %s: the new server comes up" % label, srv.stderr_text()[-400:])
        r, err = fetch(srv.port, "/?after")
        ok(is200(r, INDEX), "upgrade %s: the port serves afterwards" % label, short(r, err))
        if newpid and log:
            wait_for(lambda: any("?after" in l for l in lines_of(logp)), 2.0)
            ok(any("?after" in l for l in lines_of(logp)), "upgrade %s: the new server logs to the "
               "file" % label, lines_of(logp))
        if newpid:
            good, why = creds_ok(proc_status(newpid), NOBODY.pw_uid, NOBODY.pw_gid)
            ok(good, "upgrade %s: the new server runs as nobody too" % label, why)
    finally:
        # the new server first: the old one's stop() would kill it as its child
        if newpid and ht.read_stat(newpid) is not None:
            os.kill(newpid, signal.SIGTERM)
            if wait_pid(newpid, 5.0) is None:
                kill_tree(newpid)
        srv.stop()


# ---------------------------------------------------------------- last call

BIG = 32 << 20                  # /big.bin, sparse: a response long in flight


def p_lastcall():
    for label, extra, sig in (("fork, SIGUSR2", [], signal.SIGUSR2),
                              ("prefork -w 2, SIGUSR2", ["-w", "2"], signal.SIGUSR2),
                              ("fork, SIGTERM", [], signal.SIGTERM),
                              ("prefork -w 2, SIGTERM", ["-w", "2"], signal.SIGTERM)):
        inflight_case(label, extra, sig)


def inflight_case(label, extra, sig):
    """A keep-alive response in flight when the server is told to stop: its
    head said nothing of a close, so the next request on that connection must
    be answered (the last call, with Connection: close), not met with EOF."""
    tag = re.sub(r"[^a-z0-9]+", "-", label)
    log = os.path.join(WORK, "lastcall-%s.log" % tag)
    if IS_ROOT and NOBODY:
        writef(log, b"")
        os.chown(log, NOBODY.pw_uid, NOBODY.pw_gid)
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", log, "-s", "-g", "10", "-C", "0") + extra,
                 name="lastcall-" + tag)
    s = None
    newpid = None
    try:
        if not ok(srv.start(), "last call (%s): starts" % label, srv.error):
            return
        # the client reads nothing while the signal comes: the response (far
        # larger than the socket buffers) is in flight, its writer blocked
        s = socket.socket()
        s.settimeout(10)
        s.connect((HOST, srv.port))
        s.sendall(request_bytes("/big.bin", close=False))
        data = b""
        while b"\r\n\r\n" not in data:
            d = s.recv(65536)
            if not d:
                break
            data += d
        head = data.split(b"\r\n\r\n")[0]
        if not ok(head.startswith(b"HTTP/1.1 200") and b"connection:" not in head.lower(),
                  "last call (%s): a %d MiB response starts, keep-alive (setup)" % (label, BIG >> 20),
                  ht.esc(head, 300)):
            return
        srv.signal(sig)
        if sig == signal.SIGUSR2:
            newpid = new_server_pid(srv, 12.0)
            if newpid:
                track(newpid)
        time.sleep(0.3)
        need = len(head) + 4 + BIG
        while len(data) < need:
            d = s.recv(1 << 20)
            if not d:
                break
            data += d
        ok(len(data) >= need, "last call (%s): the response in flight is delivered whole" % label,
           "%d of %d bytes; log %s; stderr %r" % (len(data) - len(head) - 4, BIG, lines_of(log)[-2:],
                                                  srv.stderr_text()[-400:]))
        s.sendall(request_bytes("/", close=False))
        data2, eof, r = data[need:], False, None
        end = time.monotonic() + 4
        while time.monotonic() < end:
            try:
                r = ht.parse_response(data2, eof=eof)
            except ht.ProtoError:
                r = None
                break
            if (r is not None and r.complete) or eof:
                break
            s.settimeout(max(0.1, end - time.monotonic()))
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                d = b""
            if not d:
                eof = True
            data2 += d
        ok(r is not None and r.complete and r.status == 200 and
           (r.h("connection") or "").lower() == "close",
           "last call (%s): the next request on that connection is answered, with Connection: "
           "close (not met with EOF)" % label,
           "got %r (eof %s); log: %s" % (data2[:200], eof, lines_of(log)[-2:]))
    finally:
        if s:
            s.close()
        if newpid and ht.read_stat(newpid) is not None:
            os.kill(newpid, signal.SIGTERM)
            if wait_pid(newpid, 8.0) is None:
                kill_tree(newpid)
        srv.stop()


# ---------------------------------------------------------------- status

STATUS_NAMES = ["httpd_uptime_seconds", "httpd_prefork_workers", "httpd_connections_accepted_total",
                "httpd_requests_total", "httpd_children_reaped_total", "httpd_children_crashed_total",
                "httpd_busy_fork_failed_total", "httpd_busy_per_address_total",
                "httpd_busy_backlog_total", "httpd_emfile_pauses_total",
                "httpd_workers_replaced_total", "httpd_upgrades_total"]


def metrics(body):
    res = {}
    for line in body.decode("latin-1").splitlines():
        m = re.match(r"^([a-z_]+) (\d+)$", line)
        if m:
            res[m.group(1)] = int(m.group(2))
    return res


def p_status():
    for label, extra in (("fork", []), ("prefork -w 2", ["-w", "2"])):
        status_case(label, extra)
    status_remote()


def status_case(label, extra):
    srv = Server(ht.httpd_argv(HTTPD, "-r", WWW, "-l", "off", "--status", "/status", "-g", "2",
                               "-C", "0") + extra, name="status-" + label.split()[0])
    try:
        if not ok(srv.start(), "status %s: starts" % label, srv.error):
            return
        t0 = time.monotonic()
        r, err = fetch(srv.port, "/status")
        if not ok(is200(r) and (r.h("content-type") or "").startswith("text/plain; version=0.0.4"),
                  "status %s: GET /status is 200 text/plain; version=0.0.4 (Prometheus)" % label,
                  short(r, err)):
            return
        m1 = metrics(r.body)
        live = "httpd_live_workers" if extra else "httpd_live_children"
        miss = [n for n in STATUS_NAMES + [live] if n not in m1]
        ok(not miss and r.body.startswith(b"# httpd "), "status %s: every counter is there (%d), "
           "after a # comment line" % (label, len(STATUS_NAMES) + 1), "missing %s: %r"
           % (miss, r.body[:600]))
        k = 7
        res = [fetch(srv.port, "/a.txt")[0] for _ in range(k)]
        ok(all(is200(x, A_TXT) for x in res), "status %s: %d requests (setup)" % (label, k))
        time.sleep(0.3)
        r2, err = fetch(srv.port, "/status")
        m2 = metrics(r2.body) if is200(r2) else {}
        dr = m2.get("httpd_requests_total", -1) - m1.get("httpd_requests_total", 0)
        da = (m2.get("httpd_connections_accepted_total", -1) -
              m1.get("httpd_connections_accepted_total", 0))
        ok(dr == k + 1, "status %s: requests_total grew by the %d requests (+1, the status page) = "
           "%d" % (label, k, dr), "%s -> %s" % (m1, m2))
        ok(da == k + 1, "status %s: connections_accepted_total grew by %d" % (label, da))
        if extra:
            ok(m2.get("httpd_prefork_workers") == 2 and m2.get("httpd_live_workers") == 2,
               "status %s: 2 workers, 2 live" % label, m2)
        else:
            dreap = m2.get("httpd_children_reaped_total", -1) - m1.get("httpd_children_reaped_total",
                                                                        0)
            ok(dreap >= k and m2.get("httpd_live_children", 0) >= 1,
               "status %s: children_reaped_total grew by >= %d (%d), a live child (the one "
               "answering)" % (label, k, dreap), m2)
        up = m2.get("httpd_uptime_seconds", -1)
        ok(0 <= up <= time.monotonic() - t0 + 3 and m2.get("httpd_children_crashed_total") == 0
           and m2.get("httpd_upgrades_total") == 0, "status %s: uptime %d s plausible, nothing "
           "crashed, no upgrade" % (label, up), m2)
        h, err = fetch(srv.port, "/status", method="HEAD")
        ok(h is not None and h.status == 200 and h.body == b"", "status %s: HEAD 200" % label,
           short(h, err))
        p, err = fetch(srv.port, "/status", method="POST", body=b"x")
        ok(p is not None and p.status == 405 and "GET" in (p.h("allow") or ""),
           "status %s: POST 405 with Allow" % label, short(p, err))
    finally:
        srv.stop()


NS_CLIENT = r"""
import socket, sys
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.settimeout(5)
s.bind((host, 0))
s.connect((host, port))
s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode())
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
sys.stdout.buffer.write(data)
"""


def ns_fetch(pid, host, port, path):
    """A request from inside pid's network namespace, from source address host."""
    try:
        r = subprocess.run(["nsenter", "-t", str(pid), "-n", sys.executable, "-c", NS_CLIENT, host,
                            str(port), path], capture_output=True, timeout=15)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    if r.returncode != 0:
        return None, r.stderr.decode("latin-1")[-300:]
    try:
        return ht.parse_response(r.stdout, eof=True), None
    except ht.ProtoError as e:
        return None, str(e)


def status_remote():
    if not need("status: a non-loopback client (in a network namespace of our own)", "unshare",
                "nsenter", "ip", root=True):
        return
    for any_ in (False, True):
        log = os.path.join(WORK, "status-remote-%d.log" % any_)
        srv = Server([HTTPD, "-a", "0.0.0.0", "-p", "0", "-r", WWW, "-l", log, "--status", "/status",
                      "-g", "2"] + (["--status-any"] if any_ else []),
                     name="status-remote-%d" % any_, wrap=["unshare", "--net", "--"],
                     shell_prefix="ip link set lo up && ip addr add %s/32 dev lo && " % NS_ADDR)
        tag = "--status-any" if any_ else "--status"
        try:
            if not ok(srv.start(), "status %s: starts in a network namespace of its own, on "
                      "0.0.0.0" % tag, srv.error):
                continue
            r, err = ns_fetch(srv.pid, HOST, srv.port, "/status")
            ok(is200(r) and b"httpd_requests_total" in r.body, "status %s: a loopback client "
               "gets 200" % tag, short(r, err))
            r, err = ns_fetch(srv.pid, NS_ADDR, srv.port, "/index.html")
            ok(is200(r, INDEX), "status %s: a client from %s gets files (control)" % (tag, NS_ADDR),
               short(r, err))
            r, err = ns_fetch(srv.pid, NS_ADDR, srv.port, "/status")
            if any_:
                ok(is200(r) and b"httpd_requests_total" in r.body, "status --status-any: the client "
                   "from %s gets the page" % NS_ADDR, short(r, err))
            else:
                ok(r is not None and r.status == 404 and b"httpd_" not in r.body,
                   "status --status: the client from %s gets 404 (loopback only)" % NS_ADDR,
                   short(r, err))
            wait_for(lambda: len(lines_of(log)) >= 3, 2.0)
            peers = [l.split()[0] for l in lines_of(log)]
            ok(peers[-2:] == [NS_ADDR, NS_ADDR], "status %s: the server saw those clients as %s "
               "(not loopback)" % (tag, NS_ADDR), peers)
        finally:
            srv.stop()


# ---------------------------------------------------------------- reuseport

def p_reuseport():
    wa = mkdir(os.path.join(WORK, "www-a"))
    wb = mkdir(os.path.join(WORK, "www-b"))
    writef(os.path.join(wa, "index.html"), b"server A\n")
    writef(os.path.join(wb, "index.html"), b"server B\n")
    a = Server(ht.httpd_argv(HTTPD, "-r", wa, "-l", "off", "--reuseport", "-g", "2"), name="reuse-a")
    b = None
    try:
        if not ok(a.start(), "reuseport: the first server starts", a.error):
            return
        b = Server([HTTPD, "-a", HOST, "-p", str(a.port), "-r", wb, "-l", "off", "--reuseport", "-g",
                    "2"], name="reuse-b")
        if not ok(b.start(), "reuseport: a second one with --reuseport starts on the same port (%d)"
                  % a.port, b.error):
            return
        seen = {}
        for _ in range(200):
            r, _ = fetch(a.port, "/")
            if r is not None:
                seen[r.body] = seen.get(r.body, 0) + 1
            if len(seen) >= 2:
                break
        ok(seen.get(b"server A\n") and seen.get(b"server B\n"),
           "reuseport: both serve: the connections are spread over the two (%s)"
           % {k.decode().strip(): v for k, v in seen.items()})
        for tag, argv in (("without --reuseport", []), ):
            r = subprocess.run([HTTPD, "-a", HOST, "-p", str(a.port), "-r", wb, "-l", "off"] + argv,
                               capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
            ok(r.returncode == 1 and b"Address already in use" in r.stderr,
               "reuseport: a third one %s cannot bind the port: exit 1, said so" % tag,
               "rc %d %r" % (r.returncode, r.stderr[-200:]))
    finally:
        if b:
            b.stop()
        a.stop()
    c = Server(ht.httpd_argv(HTTPD, "-r", wa, "-l", "off", "-g", "2"), name="reuse-c")
    try:
        if ok(c.start(), "reuseport: a server without --reuseport starts", c.error):
            r = subprocess.run([HTTPD, "-a", HOST, "-p", str(c.port), "-r", wb, "-l", "off",
                                "--reuseport"], capture_output=True, timeout=10,
                               stdin=subprocess.DEVNULL)
            ok(r.returncode == 1 and b"Address already in use" in r.stderr,
               "reuseport: then one with --reuseport cannot join it: exit 1 (both must ask)",
               "rc %d %r" % (r.returncode, r.stderr[-200:]))
    finally:
        c.stop()


# ---------------------------------------------------------------- main

def setup():
    global WORK, WWW
    WORK = tempfile.mkdtemp(prefix="httpd-ops-")
    os.chmod(WORK, 0o755)
    WWW = mkdir(os.path.join(WORK, "www"))
    writef(os.path.join(WWW, "index.html"), INDEX)
    writef(os.path.join(WWW, "a.txt"), A_TXT)
    writef(os.path.join(WWW, "secret.txt"), SECRET, 0o600)
    with open(os.path.join(WWW, "big.bin"), "wb") as f:
        f.truncate(BIG)
    os.chmod(os.path.join(WWW, "big.bin"), 0o644)


def watchdog():
    ok(False, "ops.py finished within its %d s budget (watchdog fired)" % BUDGET)
    try:
        kill_everything()
    finally:
        sys.stdout.flush()
        os._exit(0)


PARTS = [("units", p_units), ("manpage", p_manpage), ("activate", p_activate), ("inetd", p_inetd),
         ("static", p_static), ("privileges", p_privileges), ("chroot", p_chroot), ("hup", p_hup),
         ("formats", p_formats), ("events", p_events), ("upgrade", p_upgrade),
         ("lastcall", p_lastcall),
         ("status", p_status), ("reuseport", p_reuseport)]


def main():
    t0 = time.monotonic()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    if not os.access(HTTPD, os.X_OK):
        ok(False, "ops: server binary %s exists and is executable" % HTTPD)
        ht.finish("ops", t0)
        return
    setup()
    diag("ops: HTTPD=%s, work dir %s, %s" % (HTTPD, WORK, "root" if IS_ROOT else "not root"))
    wd = threading.Timer(BUDGET, watchdog)
    wd.daemon = True
    wd.start()
    global SUBREAPER
    SUBREAPER = set_subreaper(True)
    if not SUBREAPER:
        diag("ops: cannot become a subreaper: an upgraded server's exit status is not seen")
    try:
        for name, fn in PARTS:
            if ONLY and name not in ONLY:
                continue
            t = time.monotonic()
            try:
                fn()
            except Exception:
                ok(False, "%s: ran to its end without an exception" % name, traceback.format_exc())
            reap_adopted()
            diag("%s: %.1f s" % (name, time.monotonic() - t))
    finally:
        wd.cancel()
        kill_everything()
        shutil.rmtree(WORK, ignore_errors=True)
    ht.finish("ops", t0)


if __name__ == "__main__":
    main()
