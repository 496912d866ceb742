#!/usr/bin/env python3
"""tests/lineage.py -- the classic traps of a fork-per-connection server.

Scenarios
  controls positive controls: the zombie, live-children and descriptor checks
          and the child sampler fail on a planted tree (a live child and an
          unreaped, exited one), on a vanished process, and on a /proc that
          cannot be read or lists nothing (tests/httpdtest.py).
  1/2/10  bursts of 128 and 500 simultaneous clients (-c 600) and 100 clients
          over a cap of 16 (-c 16): every client answered, the cap is honoured,
          no zombies, no lingering children, no leaked descriptors, the parent
          survives the SIGCHLD flood.
  3       RLIMIT_NPROC (as an unused unprivileged uid): fork fails -> 503, never a reset or a
          hang; the server survives and serves again; no zombies.
  4       RLIMIT_NOFILE (unprivileged uid): 100 clients with --nofile=32; then an
          induced EMFILE (the server's limit lowered with prlimit(2)): accept
          must pause instead of spinning, and resume when descriptors return.
  5       slowloris against -T 2: 408 and close, normal clients unaffected.
  6       SIGTERM drain: an in-flight download completes, new connections are
          not served, exit 0 within grace; idle keep-alive connections are
          dropped at once; stuck children are killed after grace.
  7       SIGINT is SIGTERM.
  8       PID 1 in a PID namespace (unshare): serves, reaps unknown children
          it did not fork, keeps its child count right, exits 0 on SIGTERM.
  9       SIGPIPE never kills: clients that reset mid-download; an access log
          on a broken stdout pipe does not kill children between keep-alive
          requests.
  crash   the parent SIGKILLed while a child lives: the port must refuse
          connections (children do not keep the listening socket).

Protocol: one `ok - ...` / `not ok - ...` line per assertion, `# ...`
diagnostics, exit status 0 always, bounded time everywhere (a watchdog ends the
program, after killing every process it started, if the budget runs out).
Server binary: $HTTPD (default ./httpd). nproc, nofile and pid1 need root and
setpriv/prlimit/unshare: without them they are SKIPPED (a failure when CI=true).
"""
import errno
import hashlib
import os
import re
import resource
import select
import selectors
import shutil
import signal
import socket
import struct
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpdtest as ht  # noqa: E402
from httpdtest import ok, diag, wait_for, read_stat, cpu_seconds, running, uid_tasks, kill_quietly  # noqa: E402,F401

HTTPD = os.path.abspath(os.environ.get('HTTPD', './httpd'))
BUDGET = 175.0                 # seconds for the whole file
T_START = time.monotonic()
HOST = '127.0.0.1'
INDEX_BODY = b'<!doctype html><title>lineage</title><p>lineage index ok</p>\n'
BIG_NAME = 'big.bin'
BIG_BLOCK = bytes(range(256)) * 4096            # 1 MiB
BIG_MB = 50
BIG_SIZE = len(BIG_BLOCK) * BIG_MB
_strays = set()                # (pid, starttime) of processes to kill at the end


def elapsed():
    return time.monotonic() - T_START


# ---------------------------------------------------------------- /proc
# (tests/httpdtest.py: each raises ht.ProcError when /proc cannot be read or
# does not show the process, so a check built on them cannot pass by accident)

def children_of(pid):
    return ht.children(pid)


def zombies_of(pid):
    return ht.zombies(pid)


def live_children_of(pid):
    return ht.live_children(pid)


def fd_list(pid):
    return ht.fds(pid)


def fd_count(pid):
    return ht.fd_count(pid)


# ---------------------------------------------------------------- server

class Server(ht.Server):
    """One httpd process on 127.0.0.1, port 0, docroot ROOT, log LOG, plus ARGS.
    wrap: argv prefix (prlimit/setpriv/unshare...).  For unshare the server is
    the child of the wrapper process (pid_from_child).  start() raises on failure."""

    def __init__(self, name, args, root, wrap=(), binary=None, pid_from_child=False,
                 shell_prefix=None, stop_wait=None, log='/dev/null', stdout=None):
        super().__init__(ht.httpd_argv(binary or HTTPD, '-r', root, '-l', log, *args),
                         name=name, wrap=wrap, stdout=stdout, errdir=None,
                         pid_from_child=pid_from_child, shell_prefix=shell_prefix,
                         stop_wait=stop_wait, new_session=True)
        self.root = root

    def start(self, timeout=5.0):
        return self.start_or_raise(timeout)

    def remember_children(self):
        kids = super().remember_children()
        for pid, st in kids.items():
            _strays.add((pid, st))
        return kids


def kill_everything():
    ht.kill_all()
    for pid, st in list(_strays):
        if running(pid, st):
            kill_quietly(pid)


def watchdog():
    ok(False, 'lineage.py finished within its %d s budget (watchdog fired)' % BUDGET)
    try:
        kill_everything()
        if WORK:
            shutil.rmtree(WORK, ignore_errors=True)
    finally:
        sys.stdout.flush()
        os._exit(0)


# ---------------------------------------------------------------- client side

def parse_response(data):
    """-> dict(status, headers, body, complete, head, size) or None when no full
    head (ht.parse_response; a malformed head gives status None, not complete)."""
    try:
        r = ht.parse_response(data)
    except ht.ProtoError as e:
        return {'status': None, 'headers': {}, 'body': b'', 'complete': False,
                'head': 'unparsable: %s' % e, 'size': len(data)}
    if r is None:
        return None
    headers = {}
    for k, v in r.headers:
        headers.setdefault(k.strip().lower(), v)
    return {'status': r.status, 'headers': headers, 'body': r.body, 'complete': r.complete,
            'head': r.status_line, 'size': r.size}


class Result:
    def __init__(self, data, err, eof, t):
        self.data = data
        self.err = err
        self.eof = eof
        self.t = t
        r = parse_response(data)
        self.status = r['status'] if r else None
        self.headers = r['headers'] if r else {}
        self.body = r['body'] if r else b''
        self.complete = bool(r and r['complete'])

    def short(self):
        return 'status=%s complete=%s eof=%s err=%s bytes=%d' % (
            self.status, self.complete, self.eof, self.err, len(self.data))


def summarize(results, limit=12):
    buckets = {}
    for r in results:
        k = (r.status, r.complete, r.eof, r.err)
        buckets[k] = buckets.get(k, 0) + 1
    lines = ['%4d x status=%s complete=%s eof=%s err=%s' % (n, k[0], k[1], k[2], k[3])
             for k, n in sorted(buckets.items(), key=lambda kv: -kv[1])]
    return '\n'.join(lines[:limit])


def request(port, raw=b'GET / HTTP/1.0\r\n\r\n', timeout=5.0, until_eof=True, eof_grace=2.0):
    """One request on a fresh connection. Reads until EOF (until_eof) or until
    the response is complete by Content-Length."""
    t0 = time.monotonic()
    data, err, eof = b'', None, False
    try:
        s = socket.create_connection((HOST, port), timeout=timeout)
    except OSError as e:
        return Result(b'', 'connect: %s' % (e.strerror or e), False, time.monotonic() - t0)
    try:
        s.settimeout(timeout)
        s.sendall(raw)
        end = t0 + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                err = 'timeout' if not data else 'timeout (no EOF)'
                break
            s.settimeout(left)
            try:
                d = s.recv(65536)
            except socket.timeout:
                err = 'timeout' if not data else 'timeout (no EOF)'
                break
            if not d:
                eof = True
                break
            data += d
            r = parse_response(data)
            if r and r['complete']:
                if not until_eof:
                    break
                end = min(end, time.monotonic() + eof_grace)   # now only EOF is missing
    except OSError as e:
        err = '%s' % (e.strerror or e)
    finally:
        s.close()
    return Result(data, err, eof, time.monotonic() - t0)


def good_index(r):
    return r.status == 200 and r.complete and r.body == INDEX_BODY


REQ10 = b'GET / HTTP/1.0\r\n\r\n'
REQ11_CLOSE = b'GET / HTTP/1.1\r\nHost: lineage\r\nConnection: close\r\n\r\n'


def burst(port, n, req=REQ10, timeout=20.0, pause=0.0, preread=False, eof_grace=2.0):
    """n clients at once, from one thread: open all n connections first, then
    (after pause) send req on each and read each response until EOF.
    preread: a client that already has bytes (an answer before its request,
    e.g. a 503 from a failed fork) does not send its request."""
    sel = selectors.DefaultSelector()
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    cl = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        c = {'s': s, 'data': b'', 'err': None, 'eof': False, 'st': 'connecting', 't': None}
        rc = s.connect_ex((HOST, port))
        if rc in (0, errno.EINPROGRESS):
            sel.register(s, selectors.EVENT_WRITE, c)
        else:
            c['err'], c['st'] = 'connect: ' + os.strerror(rc), 'done'
        cl.append(c)
    pending = sum(1 for c in cl if c['st'] == 'connecting')
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=min(0.5, max(0.0, deadline - time.monotonic()))):
            c = key.data
            sel.unregister(c['s'])
            pending -= 1
            e = c['s'].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e:
                c['err'], c['st'] = 'connect: ' + os.strerror(e), 'done'
            else:
                c['st'] = 'connected'
    for c in cl:
        if c['st'] == 'connecting':
            sel.unregister(c['s'])
            c['err'], c['st'] = 'connect: timeout', 'done'
    if pause:
        time.sleep(pause)
    reading = 0
    for c in cl:
        if c['st'] != 'connected':
            continue
        early = False
        if preread:
            try:
                d = c['s'].recv(65536)
                if d:
                    c['data'] += d
                    early = True
                else:
                    c['eof'], c['st'] = True, 'done'
                    continue
            except BlockingIOError:
                pass
            except OSError as e:
                c['err'], c['st'] = 'recv: ' + (e.strerror or str(e)), 'done'
                continue
        if not early:
            try:
                sent = c['s'].send(req)
                if sent != len(req):
                    c['err'] = 'send: short'
            except OSError as e:
                c['err'] = 'send: ' + (e.strerror or str(e))
        c['st'] = 'reading'
        sel.register(c['s'], selectors.EVENT_READ, c)
        reading += 1
    waiting_eof = {}            # client index -> when its response was complete
    while reading and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=min(0.25, max(0.0, deadline - time.monotonic()))):
            c = key.data
            try:
                d = c['s'].recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                c['err'] = 'recv: ' + (e.strerror or str(e))
                d = None
            if d:
                c['data'] += d
                if 'done_at' not in c:
                    r = parse_response(c['data'])
                    if r and r['complete']:
                        c['done_at'] = time.monotonic()
                        waiting_eof[id(c)] = c
                continue
            if d == b'':
                c['eof'] = True
            c['st'] = 'done'
            c['t'] = time.monotonic() - t0
            waiting_eof.pop(id(c), None)
            sel.unregister(c['s'])
            reading -= 1
        now = time.monotonic()
        for k, c in list(waiting_eof.items()):
            if now - c['done_at'] > eof_grace:      # answered, but never closed
                c['err'] = (c['err'] + '; ' if c['err'] else '') + 'no EOF %gs after the response' % eof_grace
                c['st'] = 'done'
                c['t'] = now - t0
                del waiting_eof[k]
                sel.unregister(c['s'])
                reading -= 1
    res = []
    for c in cl:
        if c['st'] == 'reading':
            c['err'] = (c['err'] + '; ' if c['err'] else '') + 'timeout'
        try:
            c['s'].close()
        except OSError:
            pass
        res.append(Result(c['data'], c['err'], c['eof'], c['t']))
    sel.close()
    return res


ChildSampler = ht.ChildSampler


def settle_checks(srv, label, idle_fds=None, timeout=2.0):
    """No zombies, no live children, descriptors back to idle: each within
    timeout (ht.settle_checks: fails when /proc cannot show them)."""
    return ht.settle_checks(srv.pid, label, idle_fds, timeout)


def port_refuses(port):
    try:
        s = socket.create_connection((HOST, port), timeout=1)
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    s.close()
    return False


# ---------------------------------------------------------------- setup

def setup_docroot():
    root = os.path.join(WORK, 'www')
    os.mkdir(root)
    os.chmod(root, 0o755)
    p = os.path.join(root, 'index.html')
    with open(p, 'wb') as f:
        f.write(INDEX_BODY)
    os.chmod(p, 0o644)
    p = os.path.join(root, BIG_NAME)
    with open(p, 'wb') as f:
        for _ in range(BIG_MB):
            f.write(BIG_BLOCK)
    os.chmod(p, 0o644)
    return root


def nobody_binary():
    """A copy of the server that an unprivileged uid can surely execute."""
    p = os.path.join(WORK, 'httpd-nobody')
    if not os.path.exists(p):
        shutil.copy(HTTPD, p)
        os.chmod(p, 0o755)
    return p


def pick_uid():
    """An unprivileged uid used by nobody else on this machine.  RLIMIT_NPROC
    counts every process of the real uid machine-wide (other test programs may
    run servers as nobody at the same time), so `nobody` would make the fork
    failures of the nproc scenario depend on unrelated processes."""
    import pwd
    uid = 40000 + os.getpid() % 20000
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if uid_tasks(uid) == 0:
                return uid
        uid += 1


TEST_UID = None
NOBODY_WRAP = []          # filled in by main(): setpriv to TEST_UID


def run_scenario(name, fn):
    if elapsed() > BUDGET - 10:
        ok(False, '%s: skipped, time budget exhausted' % name)
        return
    t = time.monotonic()
    diag('--- %s (t=%.1fs)' % (name, elapsed()))
    try:
        fn()
    except Exception as e:
        import traceback
        ok(False, '%s: scenario ran to completion' % name,
           ''.join(traceback.format_exception(type(e), e, e.__traceback__))[-1500:])
    diag('--- %s took %.1fs' % (name, time.monotonic() - t))


# ---------------------------------------------------------------- scenarios

def s_controls():
    """0: positive controls.  The zero-zombie, zero-live-children and idle
    descriptor checks of every scenario below (settle_checks), and the child
    sampler of the cap check, must be able to fail: on a planted tree (a helper
    process with a live child and an exited, unreaped one), on a process that
    does not exist, and when /proc cannot be read or lists nothing."""
    with ht.PlantedTree() as t:
        z = [p['pid'] for p in zombies_of(t.pid)]
        ok(z == [t.zombie], 'controls: the zombie count finds a planted zombie (a child that exited, never reaped)',
           'planted %d, found %s' % (t.zombie, z))
        live = [p['pid'] for p in live_children_of(t.pid)]
        ok(live == [t.live], 'controls: the live-children count finds the planted live child',
           'planted %d, found %s' % (t.live, live))
        n = fd_count(t.pid)
        res = ht.settle(t.pid, idle_fds=n - 1, timeout=0.3)
        ok(len(res) == 3 and not any(r[0] for r in res),
           'controls: settle_checks fails on the planted tree (zombie, live child, a descriptor over idle)', res)
        sampler = ChildSampler(t.pid, interval=0.01)
        sampler.start()
        time.sleep(0.2)
        mx = sampler.finish()
        passed, why = sampler.verdict(0)
        ok(mx == 1 and sampler.errors == 0 and not passed,
           'controls: the child sampler sees the live child, and the cap check fails above its cap (%s)' % why)
        gone = t.pid
    res = ht.settle(gone, idle_fds=0, timeout=0.3)
    ok(not any(r[0] for r in res), 'controls: settle_checks fails for a server process that is gone', res)
    res = ht.settle(os.getpid(), timeout=0.3)
    ok(all(r[0] for r in res), 'controls: settle_checks passes on a process without children (this one)', res)
    empty = os.path.join(WORK, 'empty-proc')
    os.mkdir(empty)
    for bad, what in ((os.path.join(WORK, 'no-such-proc'), 'cannot be read'),
                      (empty, 'lists no process at all')):
        res = ht.settle(os.getpid(), idle_fds=fd_count(os.getpid()), timeout=0.3, proc=bad)
        ok(len(res) == 3 and not any(r[0] for r in res),
           'controls: the zombie, live-children and descriptor checks fail when /proc %s' % what, res)
        sampler = ChildSampler(os.getpid(), interval=0.01, proc=bad)
        sampler.start()
        time.sleep(0.1)
        sampler.finish()
        ok(not sampler.verdict(16)[0], 'controls: the cap check fails when /proc %s (%s)'
           % (what, sampler.verdict(16)[1]))


def s_bursts():
    """1, 2, 10: 128 and 500 simultaneous clients with -c 600."""
    srv = Server('burst', ['-c', '600', '-C', '0', '-g', '2', '-t', '5', '-T', '5'], ROOT)
    try:
        srv.start()
        time.sleep(0.3)
        idle = fd_count(srv.pid)
        diag('burst server pid %d port %d, idle descriptors %d: %s'
             % (srv.pid, srv.port, idle, sorted(fd_list(srv.pid).items())))
        for n, req in ((128, REQ10), (500, REQ10), (500, REQ11_CLOSE)):
            sampler = ChildSampler(srv.pid)
            sampler.start()
            t = time.monotonic()
            res = burst(srv.port, n, req, timeout=20)
            dt = time.monotonic() - t
            mx = sampler.finish()
            good = sum(1 for r in res if good_index(r))
            diag('burst %d: %.2fs, %d good, max live children seen %d' % (n, dt, good, mx))
            ok(good == n, 'burst %d: all %d simultaneous %s clients got 200 with the index body'
               % (n, n, 'HTTP/1.0' if req == REQ10 else 'HTTP/1.1 Connection: close'), summarize(res))
            ok(all(r.eof and not r.err for r in res if good_index(r)),
               'burst %d: every answered connection was closed cleanly (EOF, no reset)' % n,
               summarize(res))
            ok(srv.alive(), 'burst %d: server still running after the burst (SIGCHLD flood, EINTR)' % n)
            settle_checks(srv, 'burst %d' % n, idle_fds=idle)
        r = request(srv.port, REQ10)
        ok(good_index(r), 'bursts: a fresh request after all bursts gets 200', r.short())
    finally:
        srv.stop()

    # the cap: 100 clients, -c 16: the ones above the cap wait and are answered later
    srv = Server('cap16', ['-c', '16', '-C', '0', '-g', '2', '-t', '5', '-T', '10'], ROOT)
    try:
        srv.start()
        time.sleep(0.3)
        idle = fd_count(srv.pid)
        sampler = ChildSampler(srv.pid, interval=0.005)
        sampler.start()
        # connect all 100, then wait: 16 children block reading their heads
        # while 84 connections wait in the backlog; then all send.
        res = burst(srv.port, 100, REQ10, timeout=20, pause=0.5)
        mx = sampler.finish()
        good = sum(1 for r in res if good_index(r))
        ok(good == 100, 'cap 16: all 100 simultaneous clients got 200 (the ones above the cap after others finished)',
           summarize(res))
        passed, why = sampler.verdict(16)
        ok(passed, 'cap 16: never more than 16 live children (max seen %d in %d samples)'
           % (mx, sampler.samples), why)
        diag('cap 16: max live children seen %d in %d samples' % (mx, sampler.samples))
        ok(srv.alive(), 'cap 16: server still running')
        settle_checks(srv, 'cap 16', idle_fds=idle)
        # silent connections at the cap: pressure (3/4 of the cap) cuts a
        # head that has not come to 1 s, so 16 of them cannot hold the pool
        holders = []
        try:
            for _ in range(16):
                holders.append(socket.create_connection((HOST, srv.port), timeout=4))
            full = wait_for(lambda: len(live_children_of(srv.pid)) == 16, 2.0)
            ok(full, 'cap 16: 16 silent connections -> 16 live children',
               'live: %d' % len(live_children_of(srv.pid)))
            t0 = time.monotonic()
            r = request(srv.port, REQ10, timeout=6)
            ok(good_index(r) and time.monotonic() - t0 < 3.0,
               'cap 16: a 17th client is served within 3 s although 16 silent connections '
               'held every child (pressure)', r.short() + ' t=%.2f' % (time.monotonic() - t0))
            cut = 0
            for h in holders:
                try:
                    h.settimeout(3)
                    data = h.recv(4096)
                    cut += data.startswith(b'HTTP/1.1 408 ')
                except OSError:
                    pass
            ok(cut == 16, 'cap 16: the silent connections were answered 408 (%d of 16)' % cut)
        finally:
            for h in holders:
                h.close()
        settle_checks(srv, 'cap 16 after silent holders', timeout=3.0)
        # busy children hold the 16 slots (slow readers of a large file, which
        # pressure does not cut): the 17th waits in the backlog, without a busy
        # loop in the parent, and is served once a slot frees
        holders = []
        try:
            for _ in range(16):
                h = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                h.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                h.settimeout(4)
                h.connect((HOST, srv.port))
                h.sendall(b'GET /' + BIG_NAME.encode() + b' HTTP/1.1\r\nHost: x\r\n\r\n')
                holders.append(h)
            full = wait_for(lambda: len(live_children_of(srv.pid)) == 16, 2.0)
            ok(full, 'cap 16: 16 slow readers -> 16 live children',
               'live: %d' % len(live_children_of(srv.pid)))
            got = {}

            def late():
                got['r'] = request(srv.port, REQ10, timeout=6)
            th = threading.Thread(target=late, daemon=True)
            th.start()
            time.sleep(0.3)
            c0 = cpu_seconds(srv.pid)
            time.sleep(1.0)
            c1 = cpu_seconds(srv.pid)
            used = (c1 - c0) if (c0 is not None and c1 is not None) else -1
            ok(0 <= used < 0.3, 'cap 16: no busy loop at the cap while a client waits in the backlog '
               '(CPU %.2f s in 1 s, limit 0.3)' % used)
            ok(th.is_alive() and len(live_children_of(srv.pid)) <= 16,
               'cap 16: the 17th client is not served while 16 children are busy',
               'done early: %s; live %d' % (got.get('r') and got['r'].short(),
                                            len(live_children_of(srv.pid))))
            h = holders.pop()              # a reset: the child's write fails, it exits
            h.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            h.close()
            th.join(6)
            r = got.get('r')
            ok(r is not None and good_index(r) and r.t < 3.5,
               'cap 16: the 17th client is served once a slot frees',
               r.short() + ' t=%.2f' % r.t if r else 'no result')
        finally:
            for h in holders:
                h.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                h.close()
        settle_checks(srv, 'cap 16 after busy holders', timeout=3.0)
    finally:
        srv.stop()


def fresh_200(srv, tries=10):
    """A request once the server has no children left; a 503 is retried a few
    times (100 ms apart) with a diagnostic of who holds the uid's process slots."""
    wait_for(lambda: not live_children_of(srv.pid), 3.0)
    for i in range(tries):
        r = request(srv.port, REQ11_CLOSE)
        if r.status != 503:
            break
        diag('nproc: fresh request got 503 (try %d); tasks of uid %d: %d; server children: %d'
             % (i + 1, TEST_UID, uid_tasks(TEST_UID), len(children_of(srv.pid))))
        time.sleep(0.1)
    return r


# At RLIMIT_NPROC, LeakSanitizer cannot create the thread it needs at exit and
# reports a fatal error instead of leaks; the ASan and UBSan checks stay on.
NO_LEAK_CHECK = (['env', 'ASAN_OPTIONS=%s:detect_leaks=0' % os.environ['ASAN_OPTIONS']]
                 if os.environ.get('ASAN_OPTIONS') else [])


def s_nproc():
    """3: RLIMIT_NPROC, unprivileged uid: fork failures -> 503."""
    existing = uid_tasks(TEST_UID)
    limit = existing + 5
    diag('nproc: %d tasks of uid %d exist; --nproc=%d (server + at most %d children)'
         % (existing, TEST_UID, limit, limit - existing - 1))
    srv = Server('nproc', ['-c', '256', '-g', '2', '-t', '5', '-T', '5'], ROOT,
                 wrap=['prlimit', '--nproc=%d' % limit] + NOBODY_WRAP + NO_LEAK_CHECK,
                 binary=nobody_binary())
    try:
        srv.start()
        time.sleep(0.2)
        st = open('/proc/%d/status' % srv.pid).read()
        ok(re.search(r'^Uid:\s+%d\b' % TEST_UID, st, re.M) is not None,
           'nproc: server runs as an unprivileged uid (setup)')
        # round A: all 50 connect first; the first few children block reading
        # their heads, so later forks must fail; then send the requests.
        res = burst(srv.port, 50, REQ11_CLOSE, timeout=20, pause=0.5, preread=True)
        st = [r.status for r in res]
        okset = all(r.complete and r.status in (200, 503) for r in res)
        ok(okset, 'nproc: all 50 clients (connected at once) got a complete 200 or 503 (no reset, no hang)',
           summarize(res))
        n503, n200 = st.count(503), st.count(200)
        diag('nproc round A: %d x 200, %d x 503' % (n200, n503))
        ok(n503 >= 1, 'nproc: fork failures were answered 503 (%d of 50)' % n503, summarize(res))
        ok(n200 >= 1, 'nproc: the children that could be forked served 200 (%d of 50)' % n200,
           summarize(res))
        bad503 = [r for r in res if r.status == 503 and not (
            r.headers.get('connection', '').lower() == 'close'
            and r.headers.get('content-type', '').startswith('text/plain')
            and re.match(rb'^503 [^\r\n]*\n$', r.body))]
        ok(not bad503 and n503, 'nproc: 503 responses carry Connection: close, text/plain and the "503 ...\\n" body',
           bad503[0].data[:400].decode('latin-1') if bad503 else None)
        resets = sum(1 for r in res if r.err)
        if resets:
            diag('nproc round A: %d connections ended with an error after the response: %s'
                 % (resets, sorted(set(r.err for r in res if r.err))))
        ok(srv.alive(), 'nproc: server still running after fork failures')
        settle_checks(srv, 'nproc round A', timeout=6.0)
        r = fresh_200(srv)
        ok(good_index(r), 'nproc: after the children exit, a fresh request gets 200', r.short())

        # round B: 50 clients that send at once (the 503 may race the request bytes)
        wait_for(lambda: not live_children_of(srv.pid), 3.0)
        res = burst(srv.port, 50, REQ11_CLOSE, timeout=20)
        st = [r.status for r in res]
        diag('nproc round B: %d x 200, %d x 503' % (st.count(200), st.count(503)))
        ok(all(r.complete and r.status in (200, 503) for r in res),
           'nproc: 50 clients sending at once each got a complete 200 or 503', summarize(res))
        ok(all(not r.err for r in res),
           'nproc: no connection was reset or timed out (a 503 is not lost to an RST)', summarize(res))
        ok(srv.alive(), 'nproc: server still running after round B')
        settle_checks(srv, 'nproc round B', timeout=6.0)
        r = fresh_200(srv)
        ok(good_index(r), 'nproc: a fresh request after round B gets 200', r.short())
    finally:
        srv.stop()


def s_nofile():
    """4: RLIMIT_NOFILE: no spinning on EMFILE, accept resumes."""
    srv = Server('nofile', ['-c', '256', '-g', '2', '-t', '10', '-T', '10'], ROOT,
                 wrap=['prlimit', '--nofile=32'] + NOBODY_WRAP, binary=nobody_binary())
    try:
        srv.start()
        time.sleep(0.3)
        idle = fd_list(srv.pid)
        diag('nofile: server pid %d, idle fds %s' % (srv.pid, sorted(idle.items())))
        res = burst(srv.port, 100, REQ10, timeout=10)
        n200 = sum(1 for r in res if good_index(r))
        diag('nofile --nofile=32: %d of 100 clients got 200' % n200)
        ok(all(r.complete and r.status in (200, 503) for r in res),
           'nofile: all 100 clients got a complete 200 or 503 within 10 s', summarize(res))
        ok(n200 >= 90, 'nofile: most clients (>= 90 of 100) got 200 (got %d)' % n200, summarize(res))
        ok(srv.alive(), 'nofile: server still running after 100 clients under --nofile=32')
        settle_checks(srv, 'nofile', idle_fds=len(idle), timeout=3.0)

    finally:
        srv.stop()

    # Induced EMFILE: lower the running server's soft limit to its lowest free
    # descriptor number, so that every accept() fails with EMFILE while clients
    # wait in the backlog.  prlimit(2) on another process needs the same uid
    # (or CAP_SYS_RESOURCE, which a container may lack): this server runs as root.
    srv = Server('emfile', ['-c', '256', '-g', '2', '-t', '10', '-T', '10', '-u', 'root'], ROOT,
                 wrap=['prlimit', '--nofile=32'])
    try:
        srv.start()
        time.sleep(0.3)
        idle = fd_list(srv.pid)
        r = request(srv.port, REQ10)
        ok(good_index(r), 'emfile: serves 200 before the limit is lowered (setup)', r.short())
        settle_checks(srv, 'emfile before', idle_fds=len(idle), timeout=2.0)
        fds = set(fd_list(srv.pid))
        lowest_free = min(set(range(len(fds) + 1)) - fds)
        soft, hard = resource.prlimit(srv.pid, resource.RLIMIT_NOFILE)
        diag('emfile: server pid %d fds %s; limit %d/%d, lowering the soft limit to %d'
             % (srv.pid, sorted(fds), soft, hard, lowest_free))
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (lowest_free, hard))
        holder = {}
        try:
            def clients():
                holder['res'] = burst(srv.port, 20, REQ10, timeout=12)
            th = threading.Thread(target=clients, daemon=True)
            th.start()
            time.sleep(0.5)     # clients are queued; accept() keeps failing
            c0 = cpu_seconds(srv.pid)
            time.sleep(2.0)
            c1 = cpu_seconds(srv.pid)
            used = (c1 - c0) if (c0 is not None and c1 is not None) else None
            diag('emfile: server used %s s of CPU in 2 s while accept() fails with EMFILE' % used)
            ok(used is not None and used < 0.5,
               'emfile: no busy loop on EMFILE (CPU %.2f s in a 2 s window, limit 0.5)'
               % (used if used is not None else -1))
            ok(srv.alive(), 'emfile: server survives accept() failing with EMFILE')
            ok(th.is_alive(), 'emfile: no client answered while no descriptor is free (setup sanity)')
        finally:
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (soft, hard))
        t = time.monotonic()
        th.join(12)
        res = holder.get('res') or []
        n200 = sum(1 for r in res if good_index(r))
        ok(n200 == 20, 'emfile: accept resumes when descriptors are free again: all 20 queued clients got 200 (%d, %.1fs)'
           % (n200, time.monotonic() - t), summarize(res))
        r = request(srv.port, REQ10)
        ok(good_index(r), 'emfile: a fresh request after EMFILE gets 200', r.short())
        settle_checks(srv, 'emfile after', idle_fds=len(idle), timeout=3.0)
    finally:
        srv.stop()


def slowloris_client(port, resbox, key, duration=6.0):
    """Sends an incomplete head, then one header byte every 0.5 s; records
    when the first response byte and EOF arrive."""
    rec = {'data': b'', 'first': None, 'eof': None, 'err': None, 'sent': 0}
    resbox[key] = rec
    try:
        s = socket.create_connection((HOST, port), timeout=3)
    except OSError as e:
        rec['err'] = 'connect: %s' % e
        return
    t0 = time.monotonic()
    trickle = b'X-Slow: ' + b'a' * 200
    nxt = t0 + 0.5
    try:
        s.sendall(b'GET / HTTP/1.1\r\nHost: lineage\r\n')
        while time.monotonic() - t0 < duration:
            wait = max(0.0, nxt - time.monotonic()) if not rec['data'] else duration
            wait = min(wait, duration - (time.monotonic() - t0))
            r, _, _ = select.select([s], [], [], max(0.0, wait))
            if r:
                try:
                    d = s.recv(65536)
                except OSError as e:
                    rec['err'] = 'recv: %s' % (e.strerror or e)
                    break
                if not d:
                    rec['eof'] = time.monotonic() - t0
                    break
                if rec['first'] is None:
                    rec['first'] = time.monotonic() - t0
                rec['data'] += d
                continue
            if not rec['data'] and time.monotonic() >= nxt:
                try:
                    s.send(trickle[rec['sent']:rec['sent'] + 1])
                    rec['sent'] += 1
                except OSError as e:
                    rec['err'] = 'send: %s' % (e.strerror or e)
                    # the answer may already be queued: keep reading
                nxt += 0.5
    finally:
        s.close()


def check_slowloris(rec, label):
    r = parse_response(rec['data'])
    st = r['status'] if r else None
    ok(st == 408 and rec['first'] is not None and rec['first'] <= 5.0,
       '%s: slowloris client got 408 within 5 s' % label,
       'status %s first byte at %s s, err %s, data %r' % (st, rec['first'], rec['err'], rec['data'][:200]))
    ok(rec['first'] is not None and rec['first'] >= 1.5,
       '%s: 408 not sent before the -T 2 head deadline (at %s s)' % (label, rec['first'] and round(rec['first'], 2)))
    ok(rec['eof'] is not None and rec['eof'] <= 5.5 and bool(r and r['complete']),
       '%s: connection closed after the 408' % label,
       'eof at %s, err %s, complete %s' % (rec['eof'], rec['err'], bool(r and r['complete'])))


def s_slowloris():
    """5: slowloris vs -T 2."""
    srv = Server('slowloris', ['-c', '64', '-g', '2', '-t', '10', '-T', '2'], ROOT)
    try:
        srv.start()
        box = {}
        th = threading.Thread(target=slowloris_client, args=(srv.port, box, 0), daemon=True)
        th.start()
        time.sleep(1.0)
        r = request(srv.port, REQ10, timeout=3)
        ok(good_index(r) and r.t < 1.0, 'slowloris: a normal client is served promptly during the attack (%.3f s)'
           % r.t, r.short())
        th.join(8)
        check_slowloris(box.get(0, {'data': b'', 'first': None, 'eof': None, 'err': 'no result'}),
                        'slowloris x1')

        box = {}
        ths = [threading.Thread(target=slowloris_client, args=(srv.port, box, i), daemon=True)
               for i in range(20)]
        for t in ths:
            t.start()
        lat = []
        for _ in range(3):
            time.sleep(0.5)
            r = request(srv.port, REQ10, timeout=3)
            lat.append((good_index(r), round(r.t, 3), r.short()))
        ok(all(g and t < 1.0 for g, t, _ in lat),
           'slowloris: 20 slowloris clients do not delay normal clients (3 requests each < 1 s)', lat)
        for t in ths:
            t.join(8)
        recs = [box.get(i) for i in range(20)]
        n408 = sum(1 for rec in recs if rec and (parse_response(rec['data']) or {}).get('status') == 408
                   and rec['first'] is not None and 1.5 <= rec['first'] <= 5.0
                   and rec['eof'] is not None)
        ok(n408 == 20, 'slowloris x20: all 20 got 408 between 1.5 and 5 s and were closed (%d)' % n408,
           [(rec['first'], rec['eof'], rec['err'], rec['data'][:40]) for rec in recs if rec][:5])
        ok(srv.alive(), 'slowloris: server still running')
        settle_checks(srv, 'slowloris', timeout=3.0)
    finally:
        srv.stop()


def probe_not_served(port):
    """A connection attempt: None if it was refused/not answered within 1 s,
    else a description of the answer."""
    try:
        s = socket.create_connection((HOST, port), timeout=1)
    except OSError:
        return None
    try:
        s.settimeout(1.0)
        try:
            s.sendall(REQ10)
            d = s.recv(4096)
        except socket.timeout:
            return None
        except OSError:
            return None
        if not d:
            return None
        return 'answered: %r' % d[:60]
    finally:
        s.close()


def s_drain():
    """6: SIGTERM drain, idle keep-alive at shutdown, stuck children."""
    expect_md5 = hashlib.md5(BIG_BLOCK * BIG_MB).hexdigest()
    # case 1: an in-flight download survives SIGTERM; new connections are not served
    srv = Server('drain', ['-c', '64', '-g', '5', '-t', '10', '-T', '10'], ROOT)
    s = None
    try:
        srv.start()
        s = socket.create_connection((HOST, srv.port), timeout=10)
        s.sendall(b'GET /' + BIG_NAME.encode() + b' HTTP/1.0\r\n\r\n')
        buf = b''
        while b'\r\n\r\n' not in buf or len(buf) < buf.find(b'\r\n\r\n') + 4 + 8192:
            d = s.recv(8192)
            if not d:
                break
            buf += d
        r = parse_response(buf)
        cl = int(r['headers'].get('content-length', -1)) if r else -1
        ok(r is not None and r['status'] == 200 and cl == BIG_SIZE,
           'drain: big download starts (200, Content-Length %d)' % BIG_SIZE,
           r and (r['head'], r['headers']))
        time.sleep(0.2)
        kids = srv.remember_children()
        try:
            lsock = set(v for v in fd_list(srv.pid).values() if v.startswith('socket:'))
            for k in kids:
                shared = lsock & set(fd_list(k).values())
                diag('drain: child %d %s the listening socket %s' % (
                    k, 'still holds' if shared else 'has closed', sorted(lsock)))
        except OSError:
            pass
        t_term = time.monotonic()
        srv.signal(signal.SIGTERM)
        time.sleep(0.3)
        verdict = 'never probed'
        while True:
            v = probe_not_served(srv.port)
            if v is None:
                verdict = None
                break
            verdict = v
            if time.monotonic() - t_term > 1.3:
                break
            time.sleep(0.1)
        ok(verdict is None, 'drain: after SIGTERM new connections are refused or not answered', verdict)
        ok(srv.alive(), 'drain: the server waits for its busy child (still running %.1fs after SIGTERM, grace 5)'
           % (time.monotonic() - t_term))
        h = hashlib.md5()
        body = buf[buf.find(b'\r\n\r\n') + 4:]
        got = len(body)
        h.update(body)
        s.settimeout(10)
        err = None
        try:
            while True:
                d = s.recv(1 << 20)
                if not d:
                    break
                got += len(d)
                h.update(d)
        except OSError as e:
            err = str(e)
        t_done = time.monotonic() - t_term
        ok(got == BIG_SIZE and h.hexdigest() == expect_md5,
           'drain: the in-flight download completes after SIGTERM (%d of %d bytes, %.1fs after SIGTERM)'
           % (got, BIG_SIZE, t_done), 'error: %s' % err)
        rc = srv.wait_exit(5 + 2 - (time.monotonic() - t_term))
        t_exit = time.monotonic() - t_term
        ok(rc == 0, 'drain: server exits 0 within grace+2 s of SIGTERM (rc=%s, %.1fs)' % (rc, t_exit))
        left = [p for p, st in kids.items() if running(p, st)]
        ok(kids and not left, 'drain: no child left running after the server exited (children seen: %d)'
           % len(kids), left)
    finally:
        if s:
            s.close()
        srv.stop()

    # case 2: an idle keep-alive connection does not hold up shutdown
    srv = Server('drain-idle', ['-c', '64', '-g', '10', '-t', '30', '-T', '30'], ROOT, stop_wait=4)
    s = None
    try:
        srv.start()
        s = socket.create_connection((HOST, srv.port), timeout=5)
        s.sendall(b'GET / HTTP/1.1\r\nHost: lineage\r\n\r\n')
        buf = b''
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
            rr = parse_response(buf)
            if rr and rr['complete']:
                break
        rr = parse_response(buf)
        ok(rr and rr['status'] == 200 and rr['body'] == INDEX_BODY,
           'drain-idle: keep-alive request answered 200 (setup)', buf[:200])
        time.sleep(0.3)
        kids = srv.remember_children()
        ok(len(kids) == 1, 'drain-idle: one child holds the idle keep-alive connection (setup, %d)' % len(kids))
        t_term = time.monotonic()
        srv.signal(signal.SIGTERM)
        s.settimeout(3.5)
        extra, cerr = b'', None
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                extra += d
        except OSError as e:
            cerr = str(e)
        t_close = time.monotonic() - t_term
        ok(cerr is None and t_close <= 3.0 and not extra,
           'drain-idle: the idle keep-alive connection is closed (no bytes) within 3 s of SIGTERM (%.2fs)'
           % t_close, 'err %s extra %r' % (cerr, extra[:100]))
        rc = srv.wait_exit(3.0 - (time.monotonic() - t_term))
        ok(rc == 0, 'drain-idle: server with an idle keep-alive connection exits 0 within 3 s of SIGTERM (-g 10; rc=%s, %.2fs)'
           % (rc, time.monotonic() - t_term))
    finally:
        if s:
            s.close()
        srv.stop()

    # case 3: stuck children are killed after the grace period
    srv = Server('drain-stuck', ['-c', '64', '-g', '1', '-t', '30', '-T', '30'], ROOT, stop_wait=4)
    socks = []
    try:
        srv.start()
        a = socket.create_connection((HOST, srv.port), timeout=5)
        socks.append(a)
        a.sendall(b'GET / HTTP/1.1\r\nHost: lin')          # half a head, never more
        b = socket.socket()
        b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        b.settimeout(5)
        b.connect((HOST, srv.port))
        socks.append(b)
        b.sendall(b'GET /' + BIG_NAME.encode() + b' HTTP/1.0\r\n\r\n')   # never read
        ok(wait_for(lambda: len(live_children_of(srv.pid)) == 2, 2.0),
           'drain-stuck: two stuck children (half head; unread download) (setup)',
           'live %d' % len(live_children_of(srv.pid)))
        time.sleep(0.3)
        kids = srv.remember_children()
        t_term = time.monotonic()
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(3.5)
        t_exit = time.monotonic() - t_term
        ok(rc == 0, 'drain-stuck: server exits 0 within ~3 s with -g 1 despite stuck children (rc=%s, %.2fs)'
           % (rc, t_exit))
        gone = wait_for(lambda: not [p for p, st in kids.items() if running(p, st)], 1.0)
        ok(gone and kids, 'drain-stuck: the stuck children are gone after the server exits (%s)'
           % sorted(kids), [read_stat(p) for p in kids])
        zomb = [p for p, st in kids.items() if (read_stat(p) or {}).get('state') == 'Z'
                and read_stat(p)['start'] == st]
        if zomb:
            diag('drain-stuck: children left as zombies (reparented, not reaped by the server): %s' % zomb)
    finally:
        for x in socks:
            x.close()
        srv.stop()


def s_crash():
    """Parent killed with SIGKILL while a child serves an idle keep-alive
    connection: the children must not hold the listening socket, or the port
    stays open (and blocks a restart) after the parent is gone."""
    srv = Server('crash', ['-c', '64', '-g', '2', '-t', '30', '-T', '30'], ROOT, stop_wait=3)
    s = None
    try:
        srv.start()
        s = socket.create_connection((HOST, srv.port), timeout=5)
        s.sendall(b'GET / HTTP/1.1\r\nHost: lineage\r\n\r\n')
        buf = b''
        while not (parse_response(buf) or {}).get('complete'):
            d = s.recv(65536)
            if not d:
                break
            buf += d
        kids = wait_for(lambda: live_children_of(srv.pid), 1.0) or []
        srv.remember_children()
        ok(len(kids) == 1, 'crash: one child holds an idle keep-alive connection (setup)')
        os.kill(srv.pid, signal.SIGKILL)
        srv.wait_exit(3)
        alive_kids = [p['pid'] for p in kids if running(p['pid'], p['start'])]
        diag('crash: parent SIGKILLed; children still running: %s' % alive_kids)
        ok(port_refuses(srv.port),
           'crash: once the parent is gone the port refuses connections (children do not hold the listening socket)')
        if alive_kids:
            # the orphaned child still finishes its keep-alive connection normally
            s.sendall(b'GET / HTTP/1.1\r\nHost: lineage\r\nConnection: close\r\n\r\n')
            s.settimeout(3)
            buf = b''
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
            except OSError:
                pass
            r = parse_response(buf)
            diag('crash: the orphaned child answered its next request: %s'
                 % (r and r['status'] == 200 and r['complete']))
    finally:
        if s:
            s.close()
        srv.stop()


def s_sigint():
    """7: SIGINT behaves like SIGTERM."""
    srv = Server('sigint', ['-c', '64', '-g', '2', '-t', '10', '-T', '10'], ROOT)
    s = None
    try:
        srv.start()
        r = request(srv.port, REQ10)
        ok(good_index(r), 'sigint: serves 200 (setup)', r.short())
        # an in-flight download must also survive SIGINT
        s = socket.create_connection((HOST, srv.port), timeout=5)
        s.sendall(b'GET /' + BIG_NAME.encode() + b' HTTP/1.0\r\n\r\n')
        first = b''
        while b'\r\n\r\n' not in first:
            d = s.recv(65536)
            if not d:
                break
            first += d
        t = time.monotonic()
        srv.signal(signal.SIGINT)
        time.sleep(0.2)
        got = len(first) - (first.find(b'\r\n\r\n') + 4)
        s.settimeout(5)
        try:
            while True:
                d = s.recv(1 << 20)
                if not d:
                    break
                got += len(d)
        except OSError:
            pass
        ok(got == BIG_SIZE, 'sigint: in-flight download completes after SIGINT (%d of %d bytes)'
           % (got, BIG_SIZE))
        rc = srv.wait_exit(4.0 - (time.monotonic() - t))
        ok(rc == 0, 'sigint: server exits 0 after SIGINT (rc=%s, %.2fs)' % (rc, time.monotonic() - t))
        ok(port_refuses(srv.port), 'sigint: the port is closed after exit')
    finally:
        if s:
            s.close()
        srv.stop()


def nspid(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            m = re.search(r'^NSpid:\s+(.*)$', f.read(), re.M)
        return m.group(1).split() if m else None
    except OSError:
        return None


# --mount-proc: the namespace gets its own /proc, which LeakSanitizer (make
# sanitize) reads to find the server's threads at exit.
UNSHARE = ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', '--']


def s_pid1():
    """8: the server as PID 1 of a PID namespace."""
    srv = Server('pid1', ['-C', '0', '-c', '64', '-g', '2', '-t', '5', '-T', '5'], ROOT,
                 wrap=UNSHARE, pid_from_child=True)
    try:
        srv.start()
        ns = nspid(srv.pid)
        ok(ns is not None and ns[-1] == '1', 'pid1: server is PID 1 in its namespace (setup; NSpid %s)' % ns)
        r = request(srv.port, REQ10)
        ok(good_index(r), 'pid1: serves 200 as PID 1', r.short())
        res = burst(srv.port, 50, REQ10, timeout=15)
        ok(all(good_index(x) for x in res), 'pid1: 50 simultaneous clients all got 200', summarize(res))
        settle_checks(srv, 'pid1', timeout=2.0)
        t = time.monotonic()
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(3.0)
        ok(rc == 0, 'pid1: SIGTERM to PID 1 -> exit 0 within 3 s (unshare rc=%s, %.2fs)'
           % (rc, time.monotonic() - t))
    finally:
        srv.stop()

    # Unknown children: sh forks two sleeps (one a direct child, one an orphan
    # adopted by PID 1) and then execs the server, which inherits them.  They
    # exit while the server has 2 live children of its own (-c 2): reaping them
    # must leave no zombie and must not free slots in the child count.
    srv = Server('pid1-orphans', ['-c', '2', '-C', '0', '-g', '2', '-t', '5', '-T', '6'], ROOT,
                 wrap=UNSHARE, pid_from_child=True,
                 shell_prefix='sleep 1 & (sleep 1.3 &); ')
    holders = []
    try:
        t0 = time.monotonic()
        srv.start()
        me = (read_stat(srv.pid) or {}).get('comm')
        ns = nspid(srv.pid)
        ok(ns is not None and ns[-1] == '1' and me != 'sh',
           'pid1-orphans: server is PID 1 after sh exec (setup; NSpid %s comm %s)' % (ns, me))
        sleeps = [p for p in children_of(srv.pid) if p['comm'] == 'sleep']
        diag('pid1-orphans: sleep children at start: %s' % [(p['pid'], p['state']) for p in sleeps])
        r = request(srv.port, REQ10)
        ok(good_index(r), 'pid1-orphans: serves 200 while unknown children exist', r.short())

        def own():
            return [p for p in live_children_of(srv.pid) if p['comm'] != 'sleep']
        wait_for(lambda: not own(), 1.0)
        for _ in range(2):
            holders.append(socket.create_connection((HOST, srv.port), timeout=2))
        ok(wait_for(lambda: len(own()) == 2, 1.0) and time.monotonic() - t0 < 0.9,
           'pid1-orphans: 2 idle connections -> 2 live children before the sleeps exit (setup)',
           'own children %d at %.2fs' % (len(own()), time.monotonic() - t0))
        time.sleep(max(0.0, t0 + 1.9 - time.monotonic()))
        zs = [p for p in children_of(srv.pid) if p['comm'] == 'sleep']
        ok(sleeps and not zs, 'pid1-orphans: exited children the server did not fork (%d sleeps seen at start) '
           'are reaped, no zombies' % len(sleeps), [(p['pid'], p['comm'], p['state']) for p in zs])
        ok(srv.alive(), 'pid1-orphans: server still running after reaping unknown children')
        # reaping the 2 sleeps must not have freed slots: -c 2 still holds
        for _ in range(2):
            holders.append(socket.create_connection((HOST, srv.port), timeout=2))
        time.sleep(0.7)
        n = len(own())
        ok(n <= 2, 'pid1-orphans: reaped unknown children do not free slots: -c 2 still caps live children (%d)' % n)
        for h in holders:
            h.close()
        holders = []
        settle_checks(srv, 'pid1-orphans', timeout=3.0)
        r = request(srv.port, REQ10)
        ok(good_index(r), 'pid1-orphans: serves 200 afterwards', r.short())
        t = time.monotonic()
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(3.0)
        ok(rc == 0, 'pid1-orphans: SIGTERM -> exit 0 within 3 s (rc=%s, %.2fs)' % (rc, time.monotonic() - t))
    finally:
        for h in holders:
            h.close()
        srv.stop()


def s_sigpipe():
    """9: clients that reset mid-download never kill anything."""
    srv = Server('sigpipe', ['-c', '64', '-g', '2', '-t', '5', '-T', '5'], ROOT)
    try:
        srv.start()
        time.sleep(0.2)
        idle = fd_count(srv.pid)
        linger = socket.SOL_SOCKET, socket.SO_LINGER
        import struct
        rst = struct.pack('ii', 1, 0)
        for i in range(20):
            s = socket.create_connection((HOST, srv.port), timeout=5)
            s.sendall(b'GET /' + BIG_NAME.encode() + b' HTTP/1.1\r\nHost: lineage\r\n\r\n')
            if i % 2:
                try:
                    s.recv(65536)          # the child is mid-transfer
                except OSError:
                    pass
            else:
                time.sleep(0.02)
            s.setsockopt(linger[0], linger[1], rst)
            s.close()                      # RST
        ok(srv.alive(), 'sigpipe: server alive after 20 clients reset mid-download')
        r = request(srv.port, REQ10)
        ok(good_index(r), 'sigpipe: still serving 200', r.short())
        settle_checks(srv, 'sigpipe', idle_fds=idle, timeout=3.0)
        # the same from many clients at once
        for i in range(20):
            s = socket.create_connection((HOST, srv.port), timeout=5)
            s.sendall(b'GET /' + BIG_NAME.encode() + b' HTTP/1.0\r\n\r\n')
            s.setsockopt(linger[0], linger[1], rst)
            s.close()
        ok(srv.alive(), 'sigpipe: server alive after 20 immediate resets')
        r = request(srv.port, REQ10)
        ok(good_index(r), 'sigpipe: still serving 200 after immediate resets', r.short())
        settle_checks(srv, 'sigpipe immediate', idle_fds=idle, timeout=3.0)
    finally:
        srv.stop()

    # the access log on stdout is a pipe nobody reads any more (httpd | head):
    # writing the log must not kill the child between keep-alive requests.
    rfd, wfd = os.pipe()
    os.close(rfd)
    srv = Server('sigpipe-log', ['-c', '64', '-g', '2', '-t', '5', '-T', '5'], ROOT,
                 log='-', stdout=wfd)
    s = None
    try:
        srv.start()
        os.close(wfd)
        wfd = None
        s = socket.create_connection((HOST, srv.port), timeout=5)
        answers = []
        buf = b''
        for i in range(3):
            s.sendall(b'GET / HTTP/1.1\r\nHost: lineage\r\n\r\n')
            end = time.monotonic() + 5
            r = None
            while time.monotonic() < end:
                r = parse_response(buf)
                if r and r['complete']:
                    break
                try:
                    d = s.recv(65536)
                except OSError as e:
                    answers.append('error %s' % e)
                    break
                if not d:
                    answers.append('EOF')
                    break
                buf += d
            r = parse_response(buf)
            if r and r['complete']:
                answers.append(r['status'] if r['body'] == INDEX_BODY else 'bad body')
                buf = buf[r['size']:]
            else:
                break
        ok(answers == [200, 200, 200],
           'sigpipe-log: with the stdout log pipe broken, 3 keep-alive requests on one connection all get 200',
           answers)
        res = burst(srv.port, 20, REQ10, timeout=10)
        ok(all(good_index(x) for x in res), 'sigpipe-log: 20 more clients all get 200', summarize(res))
        ok(srv.alive(), 'sigpipe-log: server alive with a broken log pipe')
        s.close()
        s = None
        settle_checks(srv, 'sigpipe-log', timeout=3.0)
    finally:
        if wfd is not None:
            os.close(wfd)
        if s:
            s.close()
        srv.stop()


# ---------------------------------------------------------------- main

def main():
    global WORK, ROOT
    if not os.access(HTTPD, os.X_OK):
        ok(False, 'lineage: server binary %s exists and is executable' % HTTPD)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as e:
            diag('cannot raise RLIMIT_NOFILE: %s' % e)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    global TEST_UID
    TEST_UID = pick_uid()
    NOBODY_WRAP[:] = ['setpriv', '--reuid=%d' % TEST_UID, '--regid=%d' % TEST_UID, '--clear-groups']
    diag('unprivileged scenarios run as uid/gid %d' % TEST_UID)
    WORK = tempfile.mkdtemp(prefix='lineage-')
    os.chmod(WORK, 0o755)
    wd = threading.Timer(BUDGET, watchdog)
    wd.daemon = True
    wd.start()
    try:
        ROOT = setup_docroot()
        # (name, function, what it needs: root and these programs)
        for name, fn, needs in [('controls', s_controls, ()), ('bursts', s_bursts, ()),
                                ('nproc', s_nproc, ('root', 'prlimit', 'setpriv')),
                                ('nofile', s_nofile, ('root', 'prlimit', 'setpriv')),
                                ('slowloris', s_slowloris, ()), ('drain', s_drain, ()),
                                ('crash', s_crash, ()), ('sigint', s_sigint, ()),
                                ('pid1', s_pid1, ('root', 'unshare')), ('sigpipe', s_sigpipe, ())]:
            missing = [n for n in needs if (os.geteuid() != 0 if n == 'root' else not ht.have(n))]
            if missing:
                ht.skip('lineage scenario %s' % name,
                        ', '.join('not root' if n == 'root' else '%s not installed (util-linux)' % n
                                  for n in missing))
                continue
            run_scenario(name, fn)
    finally:
        kill_everything()
        wd.cancel()
        shutil.rmtree(WORK, ignore_errors=True)
    ht.finish('lineage', T_START)


WORK = ROOT = None

if __name__ == '__main__':
    try:
        main()
    except Exception as e:          # never a non-zero exit
        ok(False, 'lineage: unexpected error %r' % e)
    sys.stdout.flush()
    os._exit(0)
