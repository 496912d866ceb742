"""tests/httpdtest.py -- what every Python test suite of httpd shares.

A suite (tests/e2e.py, tests/api.py, tests/lineage.py, and later tests/cgi.py,
tests/race.py, tests/soak.py, ...) starts with

    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import httpdtest as ht

and is listed in SUITES in tests/run.sh (a listed suite that is missing fails).

Output protocol (TAP-like; tests/run.sh counts the lines)
    ok(cond, desc, why=None) -> bool
        prints "ok - desc" or "not ok - desc" (newlines in desc become
        spaces), then, on failure, `why` as "#   ..." lines.  Thread-safe.
    diag(msg)                  "# ..." lines (not counted)
    emit(line)                 one raw line; "ok - "/"not ok - " lines are counted
    counts() -> (passed, failed)
    Buffer(name)               .ok(cond, desc, diag=None)/.diag()/.skip() collected
                               and printed in one go by .flush(): concurrent
                               cases print in order
    skip(what, why)            "# SKIPPED what: why", or, when CI=true,
                               "not ok - what: skipped in CI (why)"
    have(cmd) -> bool          cmd is on PATH
    finish(name, t0=None)      "# name: N ok, M not ok, T s"; a suite that made no
                               assertion at all gets one "not ok" line
    Suites print their lines and exit 0; tests/run.sh counts a non-zero exit,
    and a run with no ok/not ok line at all, as failures.

Servers
    Server(argv, name=None, wrap=(), cwd=None, stdout=None, errdir=None,
           pid_from_child=False, shell_prefix=None, stop_wait=None,
           new_session=False, env=None)
        argv[0] is the binary (made absolute), the rest its arguments; for httpd
        pass "-p 0" (httpd_argv() does: -a 127.0.0.1 -p 0), for a vendored
        program whatever makes it listen on port 0.  wrap: an argv prefix
        (setpriv, prlimit, unshare ...).  stdout: None (/dev/null), a file
        descriptor, or a path (appended to).  stderr always goes to a file.
        pid_from_child: the server is the child of the wrapper (unshare --fork).
        shell_prefix: sh code run before `exec` of the server (inherited
        children etc.).
      .start(timeout=5.0) -> bool   waits for the line
            "PROG: listening on ADDR port N" on stderr; sets .port, .addr,
            .pid, .start_time; on failure .error says why (start_or_raise()
            raises RuntimeError instead)
      .alive(), .signal(sig), .wait_exit(timeout) -> rc or None,
      .remember_children(), .stderr_bytes(), .stderr_text()
      .stop(wait=None, until=None) -> exit status, or "killed"
            SIGTERM, wait (default: the -g grace + 5 s), then SIGKILL to its
            children, itself and its wrapper; children seen earlier that still
            run are killed too.  Call it in a finally.
    kill_all()                  SIGKILL whatever every Server started still has
                                running (for watchdogs and final cleanups)
    httpd_argv(binary, *args)   [binary, "-a", "127.0.0.1", "-p", "0", *args]
    binary(var, default)        absolute path from $var (HTTPD, HELLO) or default

Raw HTTP/1.1 client
    Conn(port, host="127.0.0.1", timeout=5.0, hard=None)
        .send(data) -> bool, .read_response(head=False, timeout=5.0) -> Resp or
        None (EOF before the first byte), .wait_closed(timeout) ->
        (closed, extra_bytes), .close(), .s (the socket), .buf (unread bytes).
        Bodies: Content-Length, chunked (trailers read and dropped), or
        close-delimited; no body for HEAD (head=True), 1xx, 204, 304.
        hard: a time.monotonic() value no wait extends past.
        Raises ProtoError on a malformed or truncated response or a timeout.
    parse_response(data, eof=False, head=False) -> Resp or None
        the same parser on bytes already read: None while the head is
        incomplete; Resp.complete tells whether the body is all there
        (a close-delimited body only once eof); Resp.size is the number of
        bytes of data it spans.  Raises ProtoError on a malformed head.
    ProtoError; esc(bytes_or_str, n=70): a printable, shortened form
    Resp: .version, .status, .reason, .headers [(name, value)], .body, .head
        (bytes up to and including the empty line), .status_line, .complete,
        .size; .h(name, default=None) (first value, case-insensitive),
        .hall(name), .raw()

Processes, from /proc (every function raises ProcError when /proc cannot be
read, lists no process at all, or does not show the process asked about: a
check built on them can never pass because nothing was seen)
    PROC                        "/proc" (every function takes proc= too)
    read_stat(pid) -> dict(pid, comm, state, ppid, utime, stime, start) or None
    proc_table() -> [stat], children(pid), descendants(pid)
    zombies(pid, tree=False), live_children(pid, tree=False)
    count_zombies(pid, tree=False), count_live(pid, tree=False)
    fds(pid) -> {fd: target}, fd_count(pid), tree_fd_count(pid)
    cpu_seconds(pid), running(pid, start), uid_tasks(uid), kill_quietly(pid, sig)
    poll(pred, timeout) -> (last value, last exception); wait_for(pred, timeout)
    settle(pid, idle_fds=None, timeout=2.0) -> [(passed, what, why)]: no zombie
        children, no live children, descriptors back to idle_fds
    settle_checks(pid, label, idle_fds=None, timeout=2.0): the same as ok() lines
    ChildSampler(pid): a thread sampling the live children (.max_live,
        .samples, .errors); .verdict(cap) -> (passed, why) fails if a sample
        could not be taken or no child was ever seen
    PlantedTree(): a helper process with one live child and one child that
        exited and was never reaped (a zombie): the positive control that
        shows the checks above can fail
"""
import errno
import glob
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

CI = os.environ.get("CI", "") == "true"
HOST = "127.0.0.1"
PROC = "/proc"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# ---------------------------------------------------------------- output

_lock = threading.RLock()
_counts = {"ok": 0, "not ok": 0}


def emit(line):
    """Writes one line; counts it if it is an ok / not ok line."""
    with _lock:
        if line.startswith("ok - ") or line == "ok":
            _counts["ok"] += 1
        elif line.startswith("not ok - ") or line == "not ok":
            _counts["not ok"] += 1
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _desc(desc):
    return str(desc).replace("\r", " ").replace("\n", " ")


def _why_lines(why, limit=None):
    lines = str(why).splitlines() or [""]
    return ["#   " + l for l in (lines[:limit] if limit else lines)]


def ok(cond, desc, why=None):
    """One assertion: prints ok/not ok, and `why` under a failure."""
    cond = bool(cond)
    with _lock:
        emit(("ok - " if cond else "not ok - ") + _desc(desc))
        if not cond and why is not None:
            for l in _why_lines(why):
                emit(l)
    return cond


def diag(msg):
    with _lock:
        for l in str(msg).splitlines() or [""]:
            emit("# " + l)


def counts():
    """(passed, failed) so far."""
    with _lock:
        return _counts["ok"], _counts["not ok"]


class Buffer:
    """Assertions of one concurrent case, printed together by flush()."""

    def __init__(self, name):
        self.name = name
        self.lines = []

    def ok(self, cond, desc, diag=None):
        cond = bool(cond)
        self.lines.append(("ok - " if cond else "not ok - ") + _desc(desc))
        if not cond and diag is not None:
            self.lines.extend(_why_lines(diag, 12))
        return cond

    def diag(self, msg):
        for l in str(msg).splitlines():
            self.lines.append("# " + l)

    def skip(self, what, why):
        if CI:
            self.ok(False, "%s: skipped in CI (%s)" % (what, why))
        else:
            self.lines.append("# SKIPPED %s: %s" % (what, why))

    def flush(self):
        with _lock:
            for l in self.lines:
                emit(l)
        self.lines = []


def skip(what, why):
    """A test not run: a diagnostic locally, a failure in CI (CI=true)."""
    if CI:
        ok(False, "%s: skipped in CI (%s)" % (what, why))
    else:
        emit("# SKIPPED %s: %s" % (what, why))


def have(cmd):
    return shutil.which(cmd) is not None


def finish(name, t0=None):
    """The closing diagnostic; a suite without a single assertion fails."""
    p, f = counts()
    if p + f == 0:
        ok(False, "%s: made at least one assertion" % name)
        p, f = counts()
    took = "" if t0 is None else ", %.1fs" % (time.monotonic() - t0)
    diag("%s: %d ok, %d not ok%s" % (name, p, f, took))


# ---------------------------------------------------------------- /proc

class ProcError(Exception):
    """/proc could not be read, or does not show a process that must exist."""


def read_stat(pid, proc=None):
    """The fields of /proc/PID/stat we use, or None if there is no such process."""
    try:
        with open("%s/%s/stat" % (proc or PROC, pid), "rb") as f:
            data = f.read().decode("latin-1")
    except OSError:
        return None
    lp, rp = data.find("("), data.rfind(")")
    if lp < 0 or rp < 0:
        return None
    f = data[rp + 2:].split()
    try:
        return {"pid": int(pid), "comm": data[lp + 1:rp], "state": f[0],
                "ppid": int(f[1]), "utime": int(f[11]), "stime": int(f[12]),
                "start": int(f[19])}
    except (IndexError, ValueError):
        return None


def proc_table(proc=None):
    """Every process; ProcError if /proc cannot be listed or shows none, not even us."""
    proc = proc or PROC
    try:
        names = os.listdir(proc)
    except OSError as e:
        raise ProcError("cannot list %s: %s" % (proc, e.strerror or e))
    res = []
    for d in names:
        if d.isdigit():
            s = read_stat(d, proc)
            if s:
                res.append(s)
    if not res:
        raise ProcError("%s lists no process at all" % proc)
    if proc == PROC and not any(p["pid"] == os.getpid() for p in res):
        raise ProcError("%s does not show this test process (%d)" % (proc, os.getpid()))
    return res


def _table_with(pid, proc):
    table = proc_table(proc)
    if not any(p["pid"] == pid for p in table):
        raise ProcError("process %d not found in %s" % (pid, proc or PROC))
    return table


def children(pid, proc=None, must_exist=True):
    """Direct children of pid (every state).  must_exist: ProcError if pid is gone."""
    table = _table_with(pid, proc) if must_exist else proc_table(proc)
    return [p for p in table if p["ppid"] == pid]


def descendants(pid, proc=None):
    table = _table_with(pid, proc)
    kids, todo = [], [pid]
    while todo:
        cur = todo.pop()
        for p in table:
            if p["ppid"] == cur:
                kids.append(p)
                todo.append(p["pid"])
    return kids


def _set(pid, tree, proc):
    return descendants(pid, proc) if tree else children(pid, proc)


def zombies(pid, tree=False, proc=None):
    return [p for p in _set(pid, tree, proc) if p["state"] == "Z"]


def live_children(pid, tree=False, proc=None):
    return [p for p in _set(pid, tree, proc) if p["state"] not in ("Z", "X")]


def count_zombies(pid, tree=False, proc=None):
    return len(zombies(pid, tree, proc))


def count_live(pid, tree=False, proc=None):
    return len(live_children(pid, tree, proc))


def fds(pid, proc=None):
    """{fd: link target} of pid; ProcError if they cannot be read."""
    d = "%s/%d/fd" % (proc or PROC, pid)
    try:
        names = os.listdir(d)
    except OSError as e:
        raise ProcError("cannot list %s: %s" % (d, e.strerror or e))
    res = {}
    for fd in names:
        try:
            res[int(fd)] = os.readlink("%s/%s" % (d, fd))
        except OSError:
            res[int(fd)] = "?"
    return res


def fd_count(pid, proc=None):
    d = "%s/%d/fd" % (proc or PROC, pid)
    try:
        return len(os.listdir(d))
    except OSError as e:
        raise ProcError("cannot list %s: %s" % (d, e.strerror or e))


def tree_fd_count(pid, proc=None):
    """Descriptors of pid and all its live descendants."""
    return fd_count(pid, proc) + sum(fd_count(p["pid"], proc)
                                     for p in descendants(pid, proc) if p["state"] != "Z")


def cpu_seconds(pid, proc=None):
    s = read_stat(pid, proc)
    return None if s is None else (s["utime"] + s["stime"]) / CLK_TCK


def running(pid, start, proc=None):
    """True if (pid, start) still exists and is not a zombie."""
    s = read_stat(pid, proc)
    return bool(s and s["start"] == start and s["state"] not in ("Z", "X"))


def uid_tasks(uid, proc=None):
    """Tasks (threads included) whose real uid is uid: what RLIMIT_NPROC counts."""
    proc = proc or PROC
    try:
        names = os.listdir(proc)
    except OSError as e:
        raise ProcError("cannot list %s: %s" % (proc, e.strerror or e))
    n = 0
    for d in names:
        if not d.isdigit():
            continue
        try:
            with open("%s/%s/status" % (proc, d)) as f:
                txt = f.read()
        except OSError:
            continue
        m = re.search(r"^Uid:\s+(\d+)", txt, re.M)
        t = re.search(r"^Threads:\s+(\d+)", txt, re.M)
        if m and int(m.group(1)) == uid:
            n += int(t.group(1)) if t else 1
    return n


def kill_quietly(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def poll(pred, timeout, interval=0.1):
    """Calls pred() until it returns something true or timeout passes.
    -> (its last value, the exception of the last call or None); a call that
    raises counts as false."""
    end = time.monotonic() + timeout
    while True:
        err = None
        try:
            v = pred()
        except Exception as e:           # ProcError, a process vanished mid-scan ...
            v, err = False, e
        if v or time.monotonic() >= end:
            return v, err
        time.sleep(interval)


def wait_for(pred, timeout, interval=0.1):
    """poll() without the exception: its last value."""
    return poll(pred, timeout, interval)[0]


def _err(e):
    return "%s: %s" % (type(e).__name__, e)


def settle(pid, idle_fds=None, timeout=2.0, proc=None):
    """No zombie children, no live children, descriptors back to idle_fds: each
    within timeout.  -> [(passed, what, why)]; a /proc that cannot be read, or a
    pid that is not there, is a failure of each."""
    res = []
    v, err = poll(lambda: count_zombies(pid, proc=proc) == 0, timeout)
    if err:
        why = "cannot count zombies: " + _err(err)
    else:
        try:
            why = "zombies: %s" % [(p["pid"], p["comm"]) for p in zombies(pid, proc=proc)][:10]
        except ProcError as e:
            why = _err(e)
    res.append((bool(v), "no zombie children of the server within %g s" % timeout, why))
    v, err = poll(lambda: count_live(pid, proc=proc) == 0, timeout)
    if err:
        why = "cannot count live children: " + _err(err)
    else:
        try:
            why = "live children: %d" % count_live(pid, proc=proc)
        except ProcError as e:
            why = _err(e)
    res.append((bool(v), "live children back to 0 within %g s" % timeout, why))
    if idle_fds is not None:
        v, err = poll(lambda: fd_count(pid, proc) == idle_fds, timeout)
        try:
            fl = sorted(fds(pid, proc).items())
            why = "idle %d, now %d; last ones: %s" % (idle_fds, len(fl), fl[-8:])
        except ProcError as e:
            why = "cannot read fds: %s" % _err(e)
        if err:
            why = "cannot count fds: %s; %s" % (_err(err), why)
        res.append((bool(v), "server descriptors back to the idle count (%d) within %g s"
                    % (idle_fds, timeout), why))
    return res


def settle_checks(pid, label, idle_fds=None, timeout=2.0, proc=None):
    """settle() as ok lines "LABEL: ..."; -> True if all passed."""
    good = True
    for passed, what, why in settle(pid, idle_fds, timeout, proc):
        good &= ok(passed, "%s: %s" % (label, what), None if passed else why)
    return good


class ChildSampler(threading.Thread):
    """Samples the number of live (non-zombie) children of pid until finish()."""

    def __init__(self, pid, interval=0.02, proc=None):
        super().__init__(daemon=True)
        self.pid, self.interval, self.proc = pid, interval, proc
        self.max_live = 0
        self.samples = 0
        self.errors = 0
        self.last_error = None
        self._stop_evt = threading.Event()

    def run(self):
        while not self._stop_evt.is_set():
            try:
                n = count_live(self.pid, proc=self.proc)
                self.max_live = max(self.max_live, n)
                self.samples += 1
            except Exception as e:
                self.errors += 1
                self.last_error = e
            self._stop_evt.wait(self.interval)

    def finish(self):
        self._stop_evt.set()
        self.join(5)
        return self.max_live

    def verdict(self, cap):
        """(passed, why): never more than cap live children, every sample
        taken, and at least one child seen (a load was running)."""
        if self.errors:
            return False, "%d of %d samples failed: %s" % (
                self.errors, self.errors + self.samples, _err(self.last_error))
        if self.samples == 0:
            return False, "no sample taken"
        if self.max_live == 0:
            return False, "no live child seen in %d samples" % self.samples
        if self.max_live > cap:
            return False, "max live children %d > %d" % (self.max_live, cap)
        return True, None


_PLANT = r"""
import os, signal, sys, time
z = os.fork()
if z == 0:
    os._exit(0)                     # exits at once; never reaped while we live
r, w = os.pipe()
live = os.fork()
if live == 0:
    os.close(w)
    os.read(r, 1)                   # until the parent closes its end
    os._exit(0)
os.close(r)
def done(*a):
    os.close(w)
    for p in (live, z):
        try:
            os.waitpid(p, 0)
        except OSError:
            pass
    os._exit(0)
signal.signal(signal.SIGTERM, done)
sys.stdout.write("%d %d\n" % (z, live))
sys.stdout.flush()
while True:
    signal.pause()
"""


class PlantedTree:
    """A helper process with one live child (.live) and one zombie child
    (.zombie): the positive control of the zombie / live-children / descriptor
    checks.  Use as a context manager; leaving it reaps both children."""

    def __init__(self, timeout=5.0):
        self.proc = subprocess.Popen([sys.executable, "-c", _PLANT], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, close_fds=True)
        self.pid = self.proc.pid
        line = self.proc.stdout.readline().split()
        if len(line) != 2:
            self.close()
            raise RuntimeError("planted tree helper did not start")
        self.zombie, self.live = int(line[0]), int(line[1])
        # the zombie exists once its exit is complete
        if not wait_for(lambda: (read_stat(self.zombie) or {}).get("state") == "Z", timeout, 0.02):
            self.close()
            raise RuntimeError("planted child %d did not become a zombie" % self.zombie)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                kill_quietly(self.live)
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- servers

_servers = []
_servers_lock = threading.Lock()
READY_RE = re.compile(rb"^[\w.+-]+: listening on (\S+) port (\d+)(?: [^\n]*)?$", re.M)


def binary(var, default):
    return os.path.abspath(os.environ.get(var, default))


def httpd_argv(bin_path, *args):
    return [bin_path, "-a", HOST, "-p", "0"] + list(args)


class Server:
    """One server process (see the module docstring)."""

    def __init__(self, argv, name=None, wrap=(), cwd=None, stdout=None, errdir=None,
                 pid_from_child=False, shell_prefix=None, stop_wait=None, new_session=False,
                 env=None):
        self.argv = [os.path.abspath(argv[0])] + list(argv[1:])
        self.name = name or os.path.basename(argv[0])
        self.wrap = list(wrap)
        self.cwd = cwd
        self.stdout = stdout
        self.errdir = errdir
        self.pid_from_child = pid_from_child
        self.shell_prefix = shell_prefix
        self.stop_wait = stop_wait
        self.new_session = new_session
        self.env = env
        self.proc = self.pid = self.port = self.addr = self.start_time = None
        self.rc = None
        self.error = None
        self.errpath = None
        self._own_errpath = False
        self._err_cache = None
        self.known_children = {}
        self.grace = 10
        for i, a in enumerate(self.argv):
            if a in ("-g", "--grace") and i + 1 < len(self.argv):
                try:
                    self.grace = int(self.argv[i + 1])
                except ValueError:
                    pass
            elif a.startswith("--grace="):
                try:
                    self.grace = int(a.split("=", 1)[1])
                except ValueError:
                    pass
        server_argv = list(self.argv)
        if shell_prefix is not None:
            server_argv = ["sh", "-c", shell_prefix + ' exec "$0" "$@"'] + server_argv
        self.cmd = self.wrap + server_argv

    def start(self, timeout=5.0):
        """Starts the process and waits for its "listening on ADDR port N" line."""
        if self.errdir:
            self.errpath = os.path.join(self.errdir, self.name + ".stderr")
        else:
            fd, self.errpath = tempfile.mkstemp(prefix="httpdtest-%s-" % self.name, suffix=".stderr")
            os.close(fd)
            self._own_errpath = True
        errf = open(self.errpath, "wb")
        outf = None
        if self.stdout is None:
            out = subprocess.DEVNULL
        elif isinstance(self.stdout, int):
            out = self.stdout
        else:
            outf = out = open(self.stdout, "ab")
        with _servers_lock:
            _servers.append(self)
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=errf,
                                         cwd=self.cwd, close_fds=True,
                                         start_new_session=self.new_session, env=self.env)
        except OSError as e:
            self.error = "cannot run %s: %s" % (self.cmd[0], e)
            return False
        finally:
            errf.close()
            if outf:
                outf.close()
        end = time.monotonic() + timeout
        while True:
            m = READY_RE.search(self.stderr_bytes())
            if m:
                self.addr = m.group(1).decode("latin-1")
                self.port = int(m.group(2))
                break
            if self.proc.poll() is not None or time.monotonic() >= end:
                self.error = ('%s: no "listening on ADDR port N" line on stderr within %g s '
                              "(exit %r); stderr: %r; cmd: %s"
                              % (self.name, timeout, self.proc.poll(), self.stderr_text()[-500:],
                                 " ".join(self.cmd)))
                return False
            time.sleep(0.02)
        if self.pid_from_child:
            kids = wait_for(lambda: children(self.proc.pid), 2.0, 0.02)
            if not kids:
                self.error = "%s: wrapper %d has no child" % (self.name, self.proc.pid)
                return False
            self.pid = kids[0]["pid"]
        else:
            self.pid = self.proc.pid
        s = read_stat(self.pid)
        self.start_time = s["start"] if s else None
        return True

    def start_or_raise(self, timeout=5.0):
        if not Server.start(self, timeout):
            raise RuntimeError(self.error)
        return self

    def stderr_bytes(self):
        if self._err_cache is not None:
            return self._err_cache
        try:
            with open(self.errpath, "rb") as f:
                return f.read()
        except (OSError, TypeError):
            return b""

    def stderr_text(self):
        return self.stderr_bytes().decode("latin-1")

    def alive(self):
        if self.proc is None:
            return False
        if self.pid_from_child:
            return self.start_time is not None and running(self.pid, self.start_time)
        return self.proc.poll() is None

    def remember_children(self):
        """Records the current children (killed at stop() if they outlive the server)."""
        try:
            for p in children(self.pid, must_exist=False):
                self.known_children[p["pid"]] = p["start"]
        except ProcError:
            pass
        return dict(self.known_children)

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait_exit(self, timeout):
        """Waits for the (wrapper) process; -> its exit status, or None."""
        try:
            self.rc = self.proc.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return None
        return self.rc

    def stop(self, wait=None, until=None):
        """SIGTERM, wait, SIGKILL fallback. -> exit status, or "killed"."""
        if self.proc is None:
            return None
        if until is not None:
            wait = max(0.3, until - time.monotonic())
        if wait is None:
            wait = self.grace + 5 if self.stop_wait is None else self.stop_wait
        rc = None
        try:
            if self.pid is not None and self.alive():
                self.remember_children()
            if self.proc.poll() is None:
                if self.pid is not None and self.alive():
                    kill_quietly(self.pid, signal.SIGTERM)
                else:
                    kill_quietly(self.proc.pid, signal.SIGTERM)
                if self.wait_exit(wait) is None:
                    diag("%s: did not exit within %g s of SIGTERM, sending SIGKILL" % (self.name, wait))
                    self.remember_children()
                    for pid in self.known_children:
                        kill_quietly(pid)
                    if self.pid is not None:
                        kill_quietly(self.pid)
                    kill_quietly(self.proc.pid)
                    self.wait_exit(5)
                    rc = "killed"
            if rc is None:
                rc = self.proc.returncode
            for pid, st in list(self.known_children.items()):
                if running(pid, st):
                    kill_quietly(pid)
        finally:
            if self._own_errpath and self._err_cache is None:
                self._err_cache = self.stderr_bytes()
                try:
                    os.unlink(self.errpath)
                except OSError:
                    pass
        self.rc = rc
        return rc


def kill_all():
    """SIGKILL everything any Server started and still has running."""
    with _servers_lock:
        servers = list(_servers)
    for s in servers:
        try:
            if s.pid and s.start_time is not None and running(s.pid, s.start_time):
                for p in children(s.pid, must_exist=False):
                    kill_quietly(p["pid"])
                kill_quietly(s.pid)
            for pid, st in list(s.known_children.items()):
                if running(pid, st):
                    kill_quietly(pid)
            if s.proc and s.proc.poll() is None:      # not yet waited: the pid is ours
                kill_quietly(s.proc.pid)
                s.proc.wait(2)
        except Exception:
            pass


# ---------------------------------------------------------------- HTTP client

class ProtoError(Exception):
    pass


def esc(b, n=70):
    if isinstance(b, bytes):
        b = b.decode("latin-1")
    s = b.encode("unicode_escape").decode("ascii")
    return s if len(s) <= n else s[:n] + "..."


class Resp:
    def __init__(self, version, status, reason, headers, body, head):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.body, self.head = headers, body, head
        self.complete = False
        self.size = len(head)

    @property
    def status_line(self):
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")

    def h(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def hall(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def raw(self):
        return self.head + self.body

    def __repr__(self):
        return "<%d %s %s body=%s>" % (self.status, self.reason, esc(self.head, 400), esc(self.body, 80))


_STATUS_RE = re.compile(rb"^HTTP/(\d\.\d) (\d\d\d)(?: (.*))?$")


def _parse_head(hd):
    """hd: the head without its final CRLF CRLF -> Resp (no body yet)."""
    lines = hd.split(b"\r\n")
    m = _STATUS_RE.match(lines[0])
    if not m:
        raise ProtoError("bad status line %r" % esc(lines[0], 200))
    headers = []
    for l in lines[1:]:
        if b":" not in l:
            raise ProtoError("bad header line %r" % esc(l))
        k, v = l.split(b":", 1)
        headers.append((k.decode("latin-1"), v.strip(b" \t").decode("latin-1")))
    return Resp(m.group(1).decode(), int(m.group(2)), (m.group(3) or b"").decode("latin-1"),
                headers, b"", hd + b"\r\n\r\n")


def _bodyless(r, head):
    return head or 100 <= r.status < 200 or r.status in (204, 304)


def _chunked(r):
    return (r.h("transfer-encoding") or "").lower().endswith("chunked")


def _content_length(r):
    v = r.h("content-length")
    if v is None:
        return None
    if not v.isdigit():
        raise ProtoError("bad Content-Length %r" % esc(v))
    return int(v)


def parse_response(data, eof=False, head=False):
    """One response from the start of data (bytes already read); see the docstring."""
    i = data.find(b"\r\n\r\n")
    if i < 0:
        if eof and data:
            raise ProtoError("EOF inside response head: %r" % esc(data, 200))
        return None
    r = _parse_head(data[:i])
    pos = i + 4
    if _bodyless(r, head):
        r.complete = True
    elif _chunked(r):
        body = b""
        while True:
            j = data.find(b"\r\n", pos)
            if j < 0:
                break
            try:
                size = int(data[pos:j].split(b";")[0].strip(), 16)
            except ValueError:
                raise ProtoError("bad chunk size line %r" % esc(data[pos:j]))
            if size == 0:
                k = pos = j + 2
                while True:                      # trailers up to the empty line
                    e = data.find(b"\r\n", k)
                    if e < 0:
                        break
                    if e == k:
                        pos, r.complete = e + 2, True
                        break
                    k = e + 2
                break
            if len(data) < j + 2 + size + 2:
                break
            body += data[j + 2:j + 2 + size]
            pos = j + 2 + size + 2
        r.body = body
    else:
        n = _content_length(r)
        if n is not None:
            r.body = data[pos:pos + n]
            r.complete = len(r.body) == n
            pos += len(r.body)
        else:                                    # close-delimited
            r.body = data[pos:]
            r.complete = eof
            pos = len(data)
    r.size = pos
    return r


class Conn:
    """A raw client connection with a response reader (see the docstring)."""

    RECV_TIMEOUT = 5.0          # the longest silence within one response

    def __init__(self, port, host=HOST, timeout=5.0, hard=None):
        self.hard = hard
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.settimeout(self._clamp(timeout))
        try:
            self.s.connect((host, port))
        except OSError:
            self.s.close()
            raise
        self.buf = b""
        self.eof = False
        self.send_error = None

    def _clamp(self, t):
        if self.hard is None:
            return t
        return max(0.2, min(t, self.hard - time.monotonic()))

    def send(self, data):
        try:
            self.s.sendall(data)
            return True
        except OSError as e:
            self.send_error = e
            return False

    def _recv(self, deadline):
        if self.hard is not None:
            deadline = min(deadline, self.hard)
        rem = deadline - time.monotonic()
        if rem <= 0:
            raise socket.timeout("deadline")
        self.s.settimeout(min(rem, self.RECV_TIMEOUT))
        try:
            d = self.s.recv(262144)
        except (ConnectionResetError, ConnectionAbortedError):
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def _need(self, n, deadline):
        while len(self.buf) < n:
            if self.eof or not self._recv(deadline):
                raise ProtoError("EOF inside body (have %d of %d bytes)" % (len(self.buf), n))

    def _line(self, deadline):
        while b"\r\n" not in self.buf:
            if self.eof or not self._recv(deadline):
                raise ProtoError("EOF inside chunked body")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_response(self, head=False, timeout=5.0):
        """Next response, or None on EOF before its first byte."""
        deadline = time.monotonic() + timeout
        try:
            while b"\r\n\r\n" not in self.buf:
                if self.eof or not self._recv(deadline):
                    break
        except socket.timeout:
            raise ProtoError("timeout waiting for response head (have %r)" % esc(self.buf, 200))
        if b"\r\n\r\n" not in self.buf:
            if not self.buf:
                return None
            raise ProtoError("EOF inside response head: %r" % esc(self.buf, 200))
        hd, self.buf = self.buf.split(b"\r\n\r\n", 1)
        r = _parse_head(hd)
        try:
            if _bodyless(r, head):
                pass
            elif _chunked(r):
                body = b""
                while True:
                    line = self._line(deadline)
                    try:
                        size = int(line.split(b";")[0].strip(), 16)
                    except ValueError:
                        raise ProtoError("bad chunk size line %r" % esc(line))
                    if size == 0:
                        while self._line(deadline) != b"":
                            pass
                        break
                    self._need(size + 2, deadline)
                    body += self.buf[:size]
                    self.buf = self.buf[size + 2:]
                r.body = body
            elif _content_length(r) is not None:
                n = _content_length(r)
                self._need(n, deadline)
                r.body, self.buf = self.buf[:n], self.buf[n:]
            else:
                while not self.eof and self._recv(deadline):
                    pass
                r.body, self.buf = self.buf, b""
        except socket.timeout:
            raise ProtoError("timeout inside response body of %r" % r)
        r.complete = True
        r.size = len(r.head) + len(r.body)
        return r

    def wait_closed(self, timeout=2.0):
        """(closed, extra): closed if the peer closed (FIN or RST) within timeout;
        extra = any bytes received that were not consumed as a response."""
        deadline = time.monotonic() + timeout
        extra = self.buf
        self.buf = b""
        while True:
            if self.eof:
                return True, extra
            try:
                self._recv(deadline)
            except socket.timeout:
                return False, extra
            except OSError:
                return True, extra
            extra += self.buf
            self.buf = b""

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass
