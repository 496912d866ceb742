#!/usr/bin/env python3
"""tests/prefork.py -- the lineage traps (tests/lineage.py) for the prefork mode (-w N).

In prefork mode the parent only forks N workers and keeps them alive; each
worker accepts on the shared listening socket and holds its idle keep-alive
connections (and new ones whose head has not all arrived) in a poll set.  The
traps of the fork model take other shapes here: "no live children" becomes
"exactly the N workers", a crash or a retirement must be followed by a
replacement, EMFILE hits the workers (who accept) and not the parent, a fork
failure hits only a replacement.

Scenarios
  controls  the checks below fail on a planted tree (a zombie, one live child
            where two are expected, a descriptor over idle in the parent and
            in the child), on a vanished process; the descriptor-leak check
            fails on the parent itself (it holds the self-pipe); the CPU check
            sees a busy loop.
  bursts    128 and 500 simultaneous clients (HTTP/1.0 and HTTP/1.1
            Connection: close) with -w 2: all 200; afterwards no zombies,
            descriptors of the parent and of each worker back to idle within
            2 s, exactly the same two workers alive.
  cap       -w 2 -c 32: 100 clients all answered, no worker ever holds more
            than 16 connections; 32 silent connections, or 32 idle keep-alive
            ones, at the cap do not keep a 33rd client waiting for -T or -t
            (the fork mode's pressure point).
  idle      2 workers holding 25 idle keep-alive connections each (the other
            stopped while each gets its 25): a new client is served within
            0.5 s, and each idle connection still is afterwards.
  slowloris 20 clients trickling a byte every 0.5 s, 10 into each worker: other
            clients are served within 0.5 s meanwhile; each is cut at -T 2
            with 408.
  crash     kill -SEGV a worker: a new pid replaces it (2 workers again within
            2 s), stderr says "worker PID killed by signal 11", the server keeps
            serving; again for a replacement that dies young.
  retire    --worker-connections 20: a client doing 100 sequential Connection:
            close requests sees 100 x 200 while workers retire and are replaced;
            then 8 such clients at once (200 requests) see 200 x 200.
  drain     SIGTERM during a 50 MB download: it completes byte-exact, an idle
            keep-alive connection is closed (no bytes), new ones are not
            served, exit 0 within the grace period, no worker left, the port
            closed; a download nobody reads is killed after -g 1.
  nofile    prlimit --nofile=32, unprivileged: 100 clients all served; with
            the workers' limits lowered to their lowest free descriptor,
            queued clients do not make a worker spin on EMFILE (CPU bounded)
            and are served once the limit is back; with every descriptor taken
            by silent connections that then leave one by one, queued clients
            get 200, not a 503 for want of a descriptor to open the file.
  nproc     prlimit --nproc (unprivileged uid, room for the server and two
            workers): a killed worker whose replacement cannot be forked (its
            slot taken) does not crash the parent, which does not spin either;
            the other worker serves; the replacement comes once a slot frees.
  pid1      the server as PID 1 of a PID namespace (unshare), -w 2: serves,
            reaps the orphans it adopted without mistaking them for workers,
            exits 0 on SIGTERM.
  sigint    SIGINT is SIGTERM: exit 0 with an idle keep-alive connection, no
            worker left, the port closed.
  orphaned  the parent SIGKILLed: the workers exit too, the port refuses
            connections (fork mode: children never hold the listening socket).
  sigpipe   clients that reset mid-download, and an access log on a broken
            stdout pipe, kill no worker (same pids, no crash line, 200s).
  leaks     a worker holds exactly the parent's descriptors minus the
            self-pipe: the listening socket is its only socket; also a
            replacement forked after traffic, and a worker after traffic.

Protocol as in tests/lineage.py (whose client helpers this file uses): one
`ok - ...` / `not ok - ...` line per assertion, exit status 0, a watchdog that
kills everything it started if the budget runs out.  Server binary: $HTTPD;
PREFORK_ONLY=name,name runs only those scenarios (a development aid).
nofile, nproc and pid1 need root and prlimit/setpriv/unshare: without them
they are SKIPPED (a failure when CI=true).
"""
import hashlib
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpdtest as ht  # noqa: E402
import lineage as lin  # noqa: E402
from httpdtest import ok, diag, wait_for, read_stat, cpu_seconds, running, uid_tasks, kill_quietly  # noqa: E402
from lineage import (burst, request, good_index, summarize, parse_response, slowloris_client,  # noqa: E402
                     REQ10, REQ11_CLOSE, INDEX_BODY, BIG_NAME, BIG_BLOCK, BIG_MB, BIG_SIZE,
                     HOST, UNSHARE, NO_LEAK_CHECK, nspid, probe_not_served, port_refuses)

HTTPD = lin.HTTPD
BUDGET = 150.0                 # seconds for the whole file (ASan: 2-3x the plain run)
T_START = time.monotonic()
REQ11_KEEP = b'GET / HTTP/1.1\r\nHost: prefork\r\n\r\n'
WORK = ROOT = None
TEST_UID = None
NOBODY_WRAP = []
_helpers = []                  # Popen objects of helper processes, killed at the end
ONLY = [x for x in os.environ.get('PREFORK_ONLY', '').split(',') if x]   # a development aid


def elapsed():
    return time.monotonic() - T_START


class Server(lin.Server):
    """lineage's Server (children remembered and killed at the end)."""


# ---------------------------------------------------------------- the workers

def workers_of(pid):
    """The live children of the server (its workers), sorted; ProcError if /proc
    cannot show them."""
    return sorted(p['pid'] for p in ht.live_children(pid))


def wait_workers(pid, n, timeout=2.0, without=()):
    """Waits until pid has exactly n live children none of which is in
    `without`; -> their pids, or None."""
    def check():
        ws = workers_of(pid)
        return ws if len(ws) == n and not set(ws) & set(without) else None
    return wait_for(check, timeout, 0.05)


def sockets_of(pid):
    return sorted(t for t in ht.fds(pid).values() if t.startswith('socket:'))


def settle(pid, n, idle_parent=None, idle_worker=None, timeout=2.0, same=None):
    """The prefork form of ht.settle: no zombie children; exactly n live
    children (the same pids as `same` when given); the parent's descriptors
    back to idle_parent and each worker's to idle_worker; each within timeout.
    -> [(passed, what, why)]; a /proc that cannot show them fails each."""
    res = []
    v, err = ht.poll(lambda: ht.count_zombies(pid) == 0, timeout)
    why = 'cannot count zombies: %s' % err if err else None
    if not v and not err:
        try:
            why = 'zombies: %s' % [(p['pid'], p['comm']) for p in ht.zombies(pid)][:10]
        except ht.ProcError as e:
            why = str(e)
    res.append((bool(v), 'no zombie children within %g s' % timeout, why))

    def count_ok():
        ws = workers_of(pid)
        return len(ws) == n and (same is None or ws == sorted(same))
    v, err = ht.poll(count_ok, timeout)
    try:
        why = 'live children %s, expected %s' % (workers_of(pid), sorted(same) if same else n)
    except ht.ProcError as e:
        why = str(e)
    if err:
        why = 'cannot list the workers: %s; %s' % (err, why)
    res.append((bool(v), 'exactly %d workers alive within %g s%s'
                % (n, timeout, ' (the same pids)' if same else ''), why))
    if idle_parent is not None:
        v, err = ht.poll(lambda: ht.fd_count(pid) == idle_parent, timeout)
        try:
            why = 'idle %d, now %s' % (idle_parent, sorted(ht.fds(pid).items()))
        except ht.ProcError as e:
            why = str(e)
        res.append((bool(v), "the parent's descriptors back to idle (%d) within %g s"
                    % (idle_parent, timeout), why))
    if idle_worker is not None:
        def workers_idle():
            ws = workers_of(pid)
            return bool(ws) and all(ht.fd_count(w) == idle_worker for w in ws)
        v, err = ht.poll(workers_idle, timeout)
        try:
            why = 'idle %d, now %s' % (idle_worker, [(w, ht.fd_count(w), sockets_of(w)[:6])
                                                     for w in workers_of(pid)])
        except ht.ProcError as e:
            why = str(e)
        if err:
            why = 'cannot count: %s; %s' % (err, why)
        res.append((bool(v), "each worker's descriptors back to idle (%d) within %g s"
                    % (idle_worker, timeout), why))
    return res


def settle_checks(srv, label, n, idle_parent=None, idle_worker=None, timeout=2.0, same=None):
    good = True
    for passed, what, why in settle(srv.pid, n, idle_parent, idle_worker, timeout, same):
        good &= ok(passed, '%s: %s' % (label, what), None if passed else why)
    return good


def leak_check(parent, worker):
    """(passed, why): worker holds exactly the parent's descriptors minus its
    self-pipe and the write end of its life pipe (the parent holds two pipes,
    the self-pipe first; a worker keeps only the life pipe's read end, whose
    closing tells it the parent died), same numbers, same targets; the parent
    holds exactly one socket (the listener), so that is the worker's only one."""
    p = ht.fds(parent)
    w = ht.fds(worker)
    want = {fd: t for fd, t in p.items() if not t.startswith('pipe:')}
    pipes = sorted(fd for fd, t in p.items() if t.startswith('pipe:'))
    if len(pipes) == 4:                # self-pipe pair, then the life pipe pair
        want[pipes[2]] = p[pipes[2]]
    psock = [t for t in p.values() if t.startswith('socket:')]
    wsock = [t for t in w.values() if t.startswith('socket:')]
    if len(psock) != 1:
        return False, 'the parent holds %d sockets, not just the listener: %s' % (len(psock), sorted(p.items()))
    if wsock != psock:
        return False, 'worker sockets %s, the listener is %s' % (wsock, psock)
    if w != want:
        extra = sorted(set(w.items()) - set(want.items()))
        missing = sorted(set(want.items()) - set(w.items()))
        return False, 'worker %d: extra %s, missing %s (parent %s)' % (worker, extra, missing, sorted(p.items()))
    return True, None


def cpu_of(pids):
    """Sum of the CPU seconds of pids; None if one cannot be read."""
    total = 0.0
    for p in pids:
        c = cpu_seconds(p)
        if c is None:
            return None
        total += c
    return total


def cpu_in(pids, seconds):
    """CPU seconds pids used in the next `seconds`, or None."""
    c0 = cpu_of(pids)
    time.sleep(seconds)
    c1 = cpu_of(pids)
    return None if c0 is None or c1 is None else c1 - c0


class WorkerSampler(threading.Thread):
    """Samples the server's workers: every pid seen, the most at once, and per
    worker the most client connections it held (sockets minus the listener)."""

    def __init__(self, pid, interval=0.02, conns=False):
        super().__init__(daemon=True)
        self.pid, self.interval, self.conns = pid, interval, conns
        self.seen = set()
        self.max_workers = 0
        self.max_conns = 0
        self.samples = self.errors = 0
        self.last_error = None
        self._stop_evt = threading.Event()

    def run(self):
        while not self._stop_evt.is_set():
            try:
                ws = workers_of(self.pid)
                self.seen.update(ws)
                self.max_workers = max(self.max_workers, len(ws))
                if self.conns:
                    for w in ws:
                        try:
                            self.max_conns = max(self.max_conns, len(sockets_of(w)) - 1)
                        except ht.ProcError:
                            pass          # it exited between the two reads
                self.samples += 1
            except Exception as e:
                self.errors += 1
                self.last_error = e
            self._stop_evt.wait(self.interval)

    def finish(self):
        self._stop_evt.set()
        self.join(5)
        return self


def start_prefork(srv, n=2, label=None):
    """Starts srv and waits for its n workers; -> (idle parent fds, idle worker
    fds, worker pids).  Raises if they do not come."""
    srv.start()
    ws = wait_workers(srv.pid, n, 3.0)
    if not ws:
        raise RuntimeError('%s: %d workers did not start within 3 s (children: %s)'
                           % (label or srv.name, n, ht.children(srv.pid, must_exist=False)))
    time.sleep(0.2)
    counts = [ht.fd_count(w) for w in ws]
    if len(set(counts)) != 1:
        raise RuntimeError('%s: workers at rest hold different descriptor counts %s: %s'
                           % (label or srv.name, counts, [sorted(ht.fds(w).items()) for w in ws]))
    srv.remember_children()
    return ht.fd_count(srv.pid), counts[0], ws


class OnlyWorker:
    """with OnlyWorker(ws, w): the other workers are stopped (SIGSTOP), so
    that connections made meanwhile go to w; they continue (SIGCONT) after."""

    def __init__(self, ws, w):
        self.others = [x for x in ws if x != w]

    def __enter__(self):
        for x in self.others:
            os.kill(x, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        for x in self.others:
            kill_quietly(x, signal.SIGCONT)


def conns_of(w):
    return len(sockets_of(w)) - 1


def stderr_lines(srv, pattern):
    return re.findall(pattern, srv.stderr_text(), re.M)


def no_worker_trouble(srv, label):
    bad = stderr_lines(srv, r'^httpd: worker .*$')
    ok(not bad, '%s: no worker crashed or failed (stderr)' % label, bad[:5])


def nobody_binary():
    """A copy of the server that an unprivileged uid can surely execute."""
    p = os.path.join(WORK, 'httpd-nobody')
    if not os.path.exists(p):
        shutil.copy(HTTPD, p)
        os.chmod(p, 0o755)
    return p


def sanitizer_env(*extra):
    """An `env` argv prefix that appends options to ASAN_OPTIONS and
    UBSAN_OPTIONS when the suite runs on a sanitized build, else []."""
    if not os.environ.get('ASAN_OPTIONS') and not os.environ.get('UBSAN_OPTIONS'):
        return []
    out = ['env']
    for var in ('ASAN_OPTIONS', 'UBSAN_OPTIONS'):
        cur = os.environ.get(var, '')
        out.append('%s=%s' % (var, ':'.join([x for x in [cur] + list(extra) if x])))
    return out


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


def keepalive_conn(port, timeout=5.0):
    """A connection that made one keep-alive request and read its 200; -> the
    ht.Conn, or raises."""
    c = ht.Conn(port, timeout=timeout)
    c.send(REQ11_KEEP)
    r = c.read_response(timeout=timeout)
    if r is None or r.status != 200 or r.body != INDEX_BODY:
        c.close()
        raise RuntimeError('keep-alive setup request: %r' % r)
    return c


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
    """The checks below can fail."""
    with ht.PlantedTree() as t:
        time.sleep(0.2)                # the live child closes its copy of the pipe first
        res = settle(t.pid, 2, ht.fd_count(t.pid) - 1, ht.fd_count(t.live) - 1, timeout=0.1)
        ok(len(res) == 4 and not any(r[0] for r in res),
           'controls: the prefork settle check fails on a planted tree (a zombie, 1 live child '
           'where 2 are expected, a descriptor over idle in the parent and in the child)', res)
        res = settle(t.pid, 1, timeout=0.1, same=[t.live + 100000])
        ok(not res[1][0], 'controls: the worker check fails when the live child is not the expected pid', res)
        gone = t.pid
    res = settle(gone, 0, 0, 0, timeout=0.1)
    ok(len(res) == 4 and not any(r[0] for r in res),
       'controls: the prefork settle check fails for a server process that is gone', res)
    spin = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
    _helpers.append(spin)
    try:
        time.sleep(0.1)
        used = cpu_in([spin.pid], 1.0)
        ok(used is not None and used > 0.15,
           'controls: the CPU check sees a busy loop (%.2f s of CPU in 1 s, even on a loaded machine > 0.15)'
           % (used if used is not None else -1))
    finally:
        spin.kill()
        spin.wait(5)
    ok(cpu_of([gone]) is None, 'controls: the CPU check fails for a process that is gone')


def s_bursts():
    """128 and 500 simultaneous clients with -w 2."""
    srv = Server('burst', ['-w', '2', '-c', '600', '-C', '0', '-g', '2', '-t', '5', '-T', '5'], ROOT)
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        diag('burst: parent %d (%d fds), workers %s (%d fds each)' % (srv.pid, idle_p, ws, idle_w))
        for n, req in ((128, REQ10), (500, REQ10), (500, REQ11_CLOSE)):
            t = time.monotonic()
            res = burst(srv.port, n, req, timeout=20)
            dt = time.monotonic() - t
            good = sum(1 for r in res if good_index(r))
            diag('burst %d: %.2fs, %d good' % (n, dt, good))
            ok(good == n, 'burst %d -w 2: all %d simultaneous %s clients got 200 with the index body'
               % (n, n, 'HTTP/1.0' if req == REQ10 else 'HTTP/1.1 Connection: close'), summarize(res))
            ok(all(r.eof and not r.err for r in res if good_index(r)),
               'burst %d -w 2: every answered connection was closed cleanly (EOF, no reset)' % n,
               summarize(res))
            ok(srv.alive(), 'burst %d -w 2: server still running' % n)
            settle_checks(srv, 'burst %d -w 2' % n, 2, idle_p, idle_w, same=ws)
        no_worker_trouble(srv, 'bursts -w 2')
    finally:
        srv.stop()


def s_cap():
    """-c 32 over 2 workers: at most 16 connections each."""
    srv = Server('cap', ['-w', '2', '-c', '32', '-C', '0', '-g', '2', '-t', '5', '-T', '10'], ROOT)
    holders = []
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        sampler = WorkerSampler(srv.pid, interval=0.005, conns=True)
        sampler.start()
        res = burst(srv.port, 100, REQ10, timeout=20, pause=0.5)
        sampler.finish()
        good = sum(1 for r in res if good_index(r))
        ok(good == 100, 'cap -w 2 -c 32: all 100 simultaneous clients got 200 (those over the cap later)',
           summarize(res))
        ok(sampler.errors == 0 and sampler.samples > 0 and 0 < sampler.max_conns <= 16,
           'cap -w 2 -c 32: no worker ever held more than 16 connections (max seen %d in %d samples)'
           % (sampler.max_conns, sampler.samples),
           'errors %d (%s)' % (sampler.errors, sampler.last_error))
        settle_checks(srv, 'cap -w 2 -c 32', 2, idle_p, idle_w, same=ws)
        # 32 silent connections fill both workers' sets; a 33rd client must
        # not wait for their -T 10 (fork mode: pressure cuts them to 1 s)
        for _ in range(32):
            holders.append(socket.create_connection((HOST, srv.port), timeout=4))
        full = wait_for(lambda: sum(len(sockets_of(w)) - 1 for w in workers_of(srv.pid)) == 32, 2.0)
        ok(full, 'cap -w 2 -c 32: 32 silent connections held by the workers (setup)',
           [(w, len(sockets_of(w)) - 1) for w in workers_of(srv.pid)])
        t0 = time.monotonic()
        r = request(srv.port, REQ10, timeout=6)
        ok(good_index(r) and time.monotonic() - t0 < 3.0,
           'cap -w 2 -c 32: a 33rd client is served within 3 s although 32 silent connections '
           'fill every worker (-T 10)', r.short() + ' t=%.2f' % (time.monotonic() - t0))
        for h in holders:
            h.close()
        holders = []
        settle_checks(srv, 'cap -w 2 -c 32 after silent holders', 2, idle_p, idle_w, timeout=3.0, same=ws)
        # the same with 32 idle keep-alive connections (-t 5): the fork mode
        # closes an idle keep-alive connection at once under pressure
        for _ in range(32):
            holders.append(keepalive_conn(srv.port))
        diag('cap: 32 keep-alive connections made a request each; held per worker: %s'
             % [(w, len(sockets_of(w)) - 1) for w in workers_of(srv.pid)])
        t0 = time.monotonic()
        r = request(srv.port, REQ10, timeout=4)
        ok(good_index(r) and time.monotonic() - t0 < 3.0,
           'cap -w 2 -c 32: a 33rd client is served within 3 s although 32 idle keep-alive connections '
           'fill every worker (-t 5)', r.short() + ' t=%.2f' % (time.monotonic() - t0))
        for h in holders:
            h.close()
        holders = []
        settle_checks(srv, 'cap -w 2 -c 32 after keep-alive holders', 2, idle_p, idle_w, timeout=3.0, same=ws)
    finally:
        for h in holders:
            h.close()
        srv.stop()


def s_idle():
    """Every worker holds idle keep-alive connections: a new client is served at once."""
    srv = Server('idle', ['-w', '2', '-c', '256', '-C', '0', '-g', '2', '-t', '10', '-T', '10'], ROOT)
    conns = []
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        for w in ws:                   # 25 to each worker
            with OnlyWorker(ws, w):
                for _ in range(25):
                    conns.append(keepalive_conn(srv.port))
        held = wait_for(lambda: [conns_of(w) for w in ws] == [25, 25] and [25, 25], 2.0)
        ok(held, 'idle: 50 idle keep-alive connections, 25 held by each worker (setup: %s)'
           % [conns_of(w) for w in ws])
        lat = []
        for _ in range(5):
            r = request(srv.port, REQ10, timeout=3)
            lat.append((good_index(r), round(r.t, 3), r.short()))
        ok(all(g and t < 0.5 for g, t, _ in lat),
           'idle: while both workers hold 50 idle keep-alive connections, new clients are served '
           'within 0.5 s (5 requests)', lat)
        bad = []
        for i, c in enumerate(conns):
            try:
                c.send(REQ11_KEEP)
                r = c.read_response(timeout=3)
                if r is None or r.status != 200 or r.body != INDEX_BODY:
                    bad.append((i, r))
            except (OSError, ht.ProtoError) as e:
                bad.append((i, e))
        ok(not bad, 'idle: each of the 50 idle keep-alive connections is served its second request',
           bad[:5])
        for c in conns:
            c.close()
        conns = []
        settle_checks(srv, 'idle', 2, idle_p, idle_w, same=ws)
    finally:
        for c in conns:
            c.close()
        srv.stop()


def s_slowloris():
    """Slowloris clients in both workers' poll sets, -T 2."""
    srv = Server('slowloris', ['-w', '2', '-c', '256', '-C', '0', '-g', '2', '-t', '10', '-T', '2'], ROOT)
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        box = {}
        ths = []
        for j, w in enumerate(ws):     # 10 to each worker
            with OnlyWorker(ws, w):
                for i in range(10):
                    th = threading.Thread(target=slowloris_client, args=(srv.port, box, 10 * j + i), daemon=True)
                    th.start()
                    ths.append(th)
                wait_for(lambda: conns_of(w) == 10, 1.0, 0.02)
        held = [conns_of(w) for w in ws]
        ok(held == [10, 10], 'slowloris: 20 slowloris connections, 10 held by each worker (setup: %s)' % held)
        lat = []
        for _ in range(5):
            time.sleep(0.2)
            r = request(srv.port, REQ10, timeout=3)
            lat.append((good_index(r), round(r.t, 3), r.short()))
        ok(all(g and t < 0.5 for g, t, _ in lat),
           'slowloris: while 20 slowloris clients trickle into both workers, other clients are '
           'served within 0.5 s (5 requests)', lat)
        for t in ths:
            t.join(8)
        recs = [box.get(i) for i in range(20)]
        n408 = sum(1 for rec in recs if rec and (parse_response(rec['data']) or {}).get('status') == 408
                   and rec['first'] is not None and 1.5 <= rec['first'] <= 5.0
                   and rec['eof'] is not None)
        ok(n408 == 20, 'slowloris -w 2: all 20 got 408 between 1.5 and 5 s (-T 2) and were closed (%d)'
           % n408, [(rec['first'], rec['eof'], rec['err'], rec['data'][:40]) for rec in recs if rec][:5])
        ok(srv.alive(), 'slowloris -w 2: server still running')
        settle_checks(srv, 'slowloris -w 2', 2, idle_p, idle_w, timeout=3.0, same=ws)
    finally:
        srv.stop()


def s_crash():
    """kill -SEGV a worker: replaced, logged, still serving."""
    # no core file; under ASan the signal must kill, not be reported
    srv = Server('crash', ['-w', '2', '-c', '256', '-C', '0', '-g', '2', '-t', '5', '-T', '5'], ROOT,
                 wrap=['prlimit', '--core=0'] + sanitizer_env('handle_segv=0'))
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        r = request(srv.port, REQ10)
        ok(good_index(r), 'crash: serves 200 (setup)', r.short())
        victim, other = ws
        gone = [victim]
        for round_ in ('a worker', 'its replacement, at once (dying young)'):
            t = time.monotonic()
            os.kill(victim, signal.SIGSEGV)
            now = wait_workers(srv.pid, 2, 2.5, without=gone)
            dt = time.monotonic() - t
            ok(now is not None and other in now and dt < 2.0,
               'crash: %s killed by SIGSEGV is replaced by a new pid, 2 workers again within 2 s '
               '(%.2f s)' % (round_, dt), 'workers %s, killed %s' % (workers_of(srv.pid), gone))
            line = 'httpd: worker %d killed by signal %d' % (victim, signal.SIGSEGV)
            logged = wait_for(lambda: line in srv.stderr_text(), 1.0)
            ok(logged, 'crash: stderr says "%s"' % line, srv.stderr_text()[-500:])
            res = [request(srv.port, REQ10) for _ in range(20)]
            ok(all(good_index(x) for x in res), 'crash: 20 requests after the crash of %s all got 200'
               % round_, summarize(res))
            srv.remember_children()
            if not now:
                break
            victim = [w for w in now if w != other][0]
            gone.append(victim)
        ok(srv.alive(), 'crash: server still running after two worker crashes')
        settle_checks(srv, 'crash', 2, idle_p, idle_w)
    finally:
        srv.stop()


def sequential(port, n, out, key, watch=None):
    """n Connection: close requests one after another; out[key] = results.
    watch: a server pid whose workers are read after each request (-> out[key, 'seen'])."""
    res, seen, errors = [], set(), []
    for _ in range(n):
        res.append(request(port, REQ11_CLOSE, timeout=5))
        if watch is not None:
            try:
                seen.update(workers_of(watch))
            except ht.ProcError as e:
                errors.append(e)
    out[key] = res
    out[key, 'seen'] = seen, errors


def s_retire():
    """--worker-connections 20: workers retire and are replaced, no request lost."""
    srv = Server('retire', ['-w', '2', '--worker-connections', '20', '-c', '256', '-C', '0',
                            '-g', '2', '-t', '5', '-T', '5'], ROOT)
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        out = {}
        sequential(srv.port, 100, out, 0, watch=srv.pid)
        res = out[0]
        seen, errors = out[0, 'seen']
        good = sum(1 for r in res if good_index(r))
        new = sorted(seen - set(ws))
        diag('retire: %d workers seen (%d new)' % (len(seen), len(new)))
        ok(good == 100, 'retire: a client doing 100 sequential Connection: close requests got 100 x 200 '
           '(%d) while workers retired' % good, summarize(res))
        ok(not errors and len(new) >= 3,
           'retire: workers retired after 20 connections and were replaced (%d new pids, read after each '
           'of the 100 connections)' % len(new), 'errors %s; now %s' % (errors[:3], workers_of(srv.pid)))
        no_worker_trouble(srv, 'retire')
        settle_checks(srv, 'retire', 2, idle_p, idle_w)
        srv.remember_children()
        # 8 clients at once: a retiring worker may hold accepted connections
        out = {}
        ths = [threading.Thread(target=sequential, args=(srv.port, 25, out, i, srv.pid if i == 0 else None),
                                daemon=True) for i in range(8)]
        before = set(workers_of(srv.pid))
        t = time.monotonic()
        for th in ths:
            th.start()
        for th in ths:
            th.join(30)
        res = [r for i in range(8) for r in out.get(i, [])]
        good = sum(1 for r in res if good_index(r))
        ok(good == 200, 'retire: 8 concurrent clients doing 25 sequential Connection: close requests each '
           'got 200 x 200 (%d, %.2f s) while workers retired' % (good, time.monotonic() - t), summarize(res))
        seen, errors = out.get((0, 'seen'), (set(), ['no result']))
        ok(not errors and len(seen - before) >= 3,
           'retire: workers retired and were replaced during the concurrent clients (%d new pids)'
           % len(seen - before), errors[:3])
        no_worker_trouble(srv, 'retire, concurrent')
        settle_checks(srv, 'retire, concurrent', 2, idle_p, idle_w)
    finally:
        srv.stop()


def s_drain():
    """SIGTERM during a 50 MB download; then a download nobody reads and -g 1."""
    expect_md5 = hashlib.md5(BIG_BLOCK * BIG_MB).hexdigest()
    srv = Server('drain', ['-w', '2', '-c', '64', '-C', '0', '-g', '5', '-t', '10', '-T', '10'], ROOT,
                 stop_wait=3)
    s = idle = None
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        idle = keepalive_conn(srv.port)
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
           'drain -w 2: the 50 MB download starts (200, Content-Length %d)' % BIG_SIZE,
           r and (r['head'], r['headers']))
        kids = srv.remember_children()
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
        ok(verdict is None, 'drain -w 2: after SIGTERM new connections are refused or not answered', verdict)
        ok(srv.alive(), 'drain -w 2: the server waits for the download (still running %.1f s after SIGTERM, -g 5)'
           % (time.monotonic() - t_term))
        h = hashlib.md5()
        body = buf[buf.find(b'\r\n\r\n') + 4:]
        got = len(body)
        h.update(body)
        s.settimeout(5)
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
        ok(got == BIG_SIZE and h.hexdigest() == expect_md5 and t_done < 5,
           'drain -w 2: the download in progress completes byte-exact after SIGTERM, within the grace '
           'period (%d of %d bytes, %.1f s after SIGTERM)' % (got, BIG_SIZE, t_done), 'error: %s' % err)
        closed, extra = idle.wait_closed(max(0.1, 5.0 - (time.monotonic() - t_term)))
        ok(closed and not extra, 'drain -w 2: an idle keep-alive connection is closed (no bytes) within the '
           'grace period (%.1f s after SIGTERM)' % (time.monotonic() - t_term),
           'closed %s, extra %r' % (closed, extra[:100]))
        rc = srv.wait_exit(5 + 2 - (time.monotonic() - t_term))
        t_exit = time.monotonic() - t_term
        ok(rc == 0, 'drain -w 2: server exits 0 within grace+2 s of SIGTERM (rc=%s, %.1f s)' % (rc, t_exit))
        left = wait_for(lambda: not [p for p, st in kids.items() if running(p, st)], 1.0)
        ok(len(kids) >= 2 and left, 'drain -w 2: no worker left running after the server exited (%s)'
           % sorted(kids), [read_stat(p) for p in kids])
        ok(port_refuses(srv.port), 'drain -w 2: the port refuses connections after exit')
    finally:
        for x in (s, idle):
            if x:
                x.close()
        srv.stop()

    srv = Server('drain-stuck', ['-w', '2', '-c', '64', '-C', '0', '-g', '1', '-t', '30', '-T', '30'],
                 ROOT, stop_wait=4)
    b = None
    try:
        start_prefork(srv)
        b = socket.socket()
        b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        b.settimeout(5)
        b.connect((HOST, srv.port))
        b.sendall(b'GET /' + BIG_NAME.encode() + b' HTTP/1.0\r\n\r\n')   # never read
        started = b.recv(100).startswith(b'HTTP/1.1 200')
        ok(started, 'drain-stuck -w 2: an unread download is under way (setup)')
        time.sleep(0.3)
        kids = srv.remember_children()
        t_term = time.monotonic()
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(3.5)
        ok(rc == 0, 'drain-stuck -w 2: server exits 0 within 3.5 s with -g 1 despite the stuck worker '
           '(rc=%s, %.2f s)' % (rc, time.monotonic() - t_term))
        gone = wait_for(lambda: not [p for p, st in kids.items() if running(p, st)], 1.0)
        ok(gone and len(kids) >= 2, 'drain-stuck -w 2: the workers are gone after the server exits (%s)'
           % sorted(kids), [read_stat(p) for p in kids])
    finally:
        if b:
            b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            b.close()
        srv.stop()


def s_nofile():
    """prlimit --nofile=32, unprivileged: EMFILE in the workers."""
    srv = Server('nofile', ['-w', '2', '-c', '256', '-C', '0', '-g', '2', '-t', '10', '-T', '10'], ROOT,
                 wrap=['prlimit', '--nofile=32'] + NOBODY_WRAP, binary=nobody_binary())
    holders = []
    holder = {}
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        st = open('/proc/%d/status' % ws[0]).read()
        lim = open('/proc/%d/limits' % ws[0]).read()
        ok(re.search(r'^Uid:\s+%d\b' % TEST_UID, st, re.M) is not None
           and re.search(r'^Max open files\s+32\s', lim, re.M) is not None,
           'nofile: the workers run as an unprivileged uid with 32 descriptors (setup)')
        res = burst(srv.port, 100, REQ10, timeout=15)
        n200 = sum(1 for r in res if good_index(r))
        ok(n200 == 100, 'nofile -w 2 --nofile=32: all 100 simultaneous clients got 200 (%d)' % n200,
           summarize(res))
        ok(srv.alive(), 'nofile -w 2: server still running after 100 clients')
        settle_checks(srv, 'nofile -w 2', 2, idle_p, idle_w, timeout=3.0, same=ws)
        # induced EMFILE: each worker's soft limit lowered to its lowest free
        # descriptor (prlimit(2) by a process of the server's uid: the test
        # may lack CAP_SYS_RESOURCE), so that every accept() fails while
        # clients wait in the backlog
        lowered = []
        try:
            for w in ws:
                fds = set(ht.fds(w))
                low = min(set(range(len(fds) + 1)) - fds)
                rc = set_nofile(w, low, 32)
                lim = open('/proc/%d/limits' % w).read()
                if rc == 0 and re.search(r'^Max open files\s+%d\s' % low, lim, re.M):
                    lowered.append(w)
            ok(lowered == ws, 'nofile: both workers\' descriptor limits lowered to their lowest free '
               'descriptor (setup; %s of %s)' % (lowered, ws))

            def clients():
                holder['res'] = burst(srv.port, 20, REQ10, timeout=15)
            th = threading.Thread(target=clients, daemon=True)
            th.start()
            time.sleep(0.5)            # they wait in the backlog: accept() fails with EMFILE
            used = cpu_in(ws, 2.0)
            diag('nofile: the workers used %s s of CPU in 2 s while accept() fails with EMFILE' % used)
            ok(used is not None and used < 0.5,
               'nofile: no busy loop on EMFILE in the workers (CPU %.2f s in a 2 s window, limit 0.5)'
               % (used if used is not None else -1))
            ok(srv.alive() and workers_of(srv.pid) == ws, 'nofile: the server and both workers survive EMFILE')
            ok(th.is_alive(), 'nofile: no queued client answered while no descriptor is free (setup sanity)')
        finally:
            for w in lowered:
                set_nofile(w, 32, 32)
        t = time.monotonic()
        th.join(15)
        res = holder.get('res') or []
        n200 = sum(1 for r in res if good_index(r))
        ok(n200 == 20, 'nofile: the workers serve again when the limit is back: all 20 queued clients got '
           '200 (%d, %.1f s)' % (n200, time.monotonic() - t), summarize(res))
        settle_checks(srv, 'nofile after induced EMFILE', 2, idle_p, idle_w, timeout=3.0, same=ws)

        # silent connections until the workers accept no more (each at its
        # descriptor limit, or short of it by a reserve it keeps); then 20
        # clients wait in the backlog while the silent ones leave one at a
        # time (every 20 ms): a worker must keep descriptors to serve with,
        # not accept into its last one and answer 503 for want of a file
        room = 2 * (32 - idle_w)

        def held():
            return sum(ht.fd_count(w) - idle_w for w in workers_of(srv.pid))
        while len(holders) < room + 1:
            holders.append(socket.create_connection((HOST, srv.port), timeout=4))
            if not wait_for(lambda: held() == len(holders), 0.5, 0.01):
                break
        accepted = held()
        ok(accepted < len(holders), 'nofile: the workers stop accepting silent connections at their '
           'descriptor limit (setup: %d of %d accepted, worker fds %s, at most %d)'
           % (accepted, len(holders), [ht.fd_count(w) for w in workers_of(srv.pid)], room))
        holder.clear()

        def clients2():
            holder['res'] = burst(srv.port, 20, REQ10, timeout=15)
        th = threading.Thread(target=clients2, daemon=True)
        th.start()
        time.sleep(0.3)
        t = time.monotonic()
        for h in holders:
            h.close()
            time.sleep(0.02)
        holders = []
        th.join(15)
        res = holder.get('res') or []
        n200 = sum(1 for r in res if good_index(r))
        ok(n200 == 20, 'nofile: as descriptors come back one by one, all 20 queued clients got 200, none a '
           '503 for want of a descriptor to open the file (%d, %.1f s)' % (n200, time.monotonic() - t),
           summarize(res))
        r = request(srv.port, REQ10)
        ok(good_index(r), 'nofile: a fresh request after EMFILE gets 200', r.short())
        settle_checks(srv, 'nofile after EMFILE', 2, idle_p, idle_w, timeout=3.0, same=ws)
    finally:
        for h in holders:
            h.close()
        srv.stop()


def set_nofile(pid, soft, hard):
    """prlimit --pid PID --nofile=SOFT:HARD as the test uid (the server's)."""
    return subprocess.call(NOBODY_WRAP + ['prlimit', '--pid', str(pid), '--nofile=%d:%d' % (soft, hard)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def s_nproc():
    """prlimit --nproc: a worker that cannot be replaced."""
    existing = uid_tasks(TEST_UID)
    limit = existing + 3                    # the server and 2 workers
    diag('nproc: %d tasks of uid %d exist; --nproc=%d' % (existing, TEST_UID, limit))
    srv = Server('nproc', ['-w', '2', '-c', '64', '-C', '0', '-g', '2', '-t', '5', '-T', '5'], ROOT,
                 wrap=['prlimit', '--nproc=%d' % limit] + NOBODY_WRAP + NO_LEAK_CHECK,
                 binary=nobody_binary())
    slot = None
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        st = open('/proc/%d/status' % srv.pid).read()
        ok(re.search(r'^Uid:\s+%d\b' % TEST_UID, st, re.M) is not None and uid_tasks(TEST_UID) == limit,
           'nproc: server and 2 workers run as an unprivileged uid at its process limit (setup; %d tasks)'
           % uid_tasks(TEST_UID))
        r = request(srv.port, REQ10)
        ok(good_index(r), 'nproc: serves 200 (setup)', r.short())
        # a process of the same uid takes the slot a replacement would need
        slot = subprocess.Popen(NOBODY_WRAP + ['sleep', '30'], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
        _helpers.append(slot)
        ok(wait_for(lambda: uid_tasks(TEST_UID) == limit + 1, 2.0),
           'nproc: a sleep of the same uid takes the last slot (setup; %d tasks)' % uid_tasks(TEST_UID))
        victim, other = ws
        os.kill(victim, signal.SIGKILL)
        failed = wait_for(lambda: 'fork of a worker failed' in srv.stderr_text(), 2.5)
        ok(failed, 'nproc: the replacement cannot be forked, and stderr says so', srv.stderr_text()[-500:])
        ok(srv.alive() and workers_of(srv.pid) == [other],
           'nproc: the parent survives the failed fork; the other worker lives on',
           'alive %s, workers %s' % (srv.alive(), workers_of(srv.pid)))
        used = cpu_in([srv.pid], 1.0)
        ok(used is not None and used < 0.3,
           'nproc: the parent does not spin retrying the fork (CPU %s s in 1 s, limit 0.3)' % used)
        res = [request(srv.port, REQ10) for _ in range(10)]
        res += burst(srv.port, 20, REQ10, timeout=10)
        ok(all(good_index(x) for x in res), 'nproc: the remaining worker serves: 10 sequential and 20 '
           'simultaneous clients all got 200', summarize(res))
        slot.kill()
        slot.wait(5)
        t = time.monotonic()
        now = wait_workers(srv.pid, 2, 3.0, without=[victim])
        ok(now is not None and other in now, 'nproc: once a slot frees, the replacement comes (2 workers '
           'again, %.1f s)' % (time.monotonic() - t), workers_of(srv.pid))
        srv.remember_children()
        r = request(srv.port, REQ10)
        ok(good_index(r), 'nproc: serves 200 with both workers again', r.short())
        settle_checks(srv, 'nproc', 2, idle_p, idle_w)
        t = time.monotonic()
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(4.0)
        ok(rc == 0, 'nproc: SIGTERM -> exit 0 (rc=%s, %.2f s)' % (rc, time.monotonic() - t))
    finally:
        if slot and slot.poll() is None:
            slot.kill()
            slot.wait(5)
        srv.stop()


# the sleeps the PID 1 server inherits must outlive a slow start (ASan, a
# loaded machine) so that it is seen holding them
PID1_SLEEP = 3 if os.environ.get('ASAN_OPTIONS') else 2


def s_pid1():
    """The prefork server as PID 1: serves, reaps orphans, exits 0."""
    srv = Server('pid1', ['-w', '2', '-c', '64', '-C', '0', '-g', '2', '-t', '5', '-T', '5'], ROOT,
                 wrap=UNSHARE, pid_from_child=True, shell_prefix='sleep %s & (sleep %s &); ' % (
                     PID1_SLEEP, PID1_SLEEP + 0.3))
    try:
        t0 = time.monotonic()
        srv.start()
        me = (read_stat(srv.pid) or {}).get('comm')
        ns = nspid(srv.pid)
        ok(ns is not None and ns[-1] == '1' and me != 'sh',
           'pid1 -w 2: server is PID 1 in its namespace after sh exec (setup; NSpid %s comm %s)' % (ns, me))
        sleeps = [p for p in ht.children(srv.pid) if p['comm'] == 'sleep']

        def own():
            return sorted(p['pid'] for p in ht.live_children(srv.pid) if p['comm'] != 'sleep')
        ws = wait_for(lambda: len(own()) == 2 and own(), 2.0)
        ok(ws and len(sleeps) == 2, 'pid1 -w 2: 2 workers beside 2 sleeps it did not fork (setup; workers %s, '
           'sleeps %s)' % (ws, [(p['pid'], p['state']) for p in sleeps]))
        srv.remember_children()
        r = request(srv.port, REQ10)
        ok(good_index(r), 'pid1 -w 2: serves 200 as PID 1', r.short())
        time.sleep(max(0.0, t0 + PID1_SLEEP + 1.0 - time.monotonic()))
        zs = [p for p in ht.children(srv.pid) if p['comm'] == 'sleep']
        ok(sleeps and not zs, 'pid1 -w 2: the exited sleeps (its child and the orphan it adopted) are '
           'reaped, no zombies', [(p['pid'], p['comm'], p['state']) for p in zs])
        ok(ws and own() == ws, 'pid1 -w 2: reaping them neither replaced nor added a worker (%s)' % own(),
           'before %s' % ws)
        bad = stderr_lines(srv, r'^httpd: worker .*$')
        ok(not bad, 'pid1 -w 2: no worker event on stderr for the reaped orphans', bad[:5])
        res = burst(srv.port, 50, REQ10, timeout=15)
        ok(all(good_index(x) for x in res), 'pid1 -w 2: 50 simultaneous clients all got 200', summarize(res))
        settle_checks(srv, 'pid1 -w 2', 2, same=ws or None)
        kids = srv.remember_children()
        t = time.monotonic()
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(3.0)
        ok(rc == 0, 'pid1 -w 2: SIGTERM to PID 1 -> exit 0 within 3 s (unshare rc=%s, %.2f s)'
           % (rc, time.monotonic() - t))
        left = [p for p, st in kids.items() if running(p, st)]
        ok(kids and not left, 'pid1 -w 2: no worker left running after exit', left)
    finally:
        srv.stop()


def s_sigint():
    """SIGINT is SIGTERM in prefork mode too."""
    srv = Server('sigint', ['-w', '2', '-c', '64', '-C', '0', '-g', '2', '-t', '10', '-T', '10'], ROOT,
                 stop_wait=3)
    c = None
    try:
        start_prefork(srv)
        c = keepalive_conn(srv.port)
        kids = srv.remember_children()
        t = time.monotonic()
        srv.signal(signal.SIGINT)
        rc = srv.wait_exit(3.0)
        ok(rc == 0, 'sigint -w 2: SIGINT with an idle keep-alive connection -> exit 0 within 3 s (rc=%s, %.2f s)'
           % (rc, time.monotonic() - t))
        gone = wait_for(lambda: not [p for p, st in kids.items() if running(p, st)], 1.0)
        ok(gone and len(kids) == 2, 'sigint -w 2: no worker left running (%s)' % sorted(kids))
        ok(port_refuses(srv.port), 'sigint -w 2: the port refuses connections after exit')
    finally:
        if c:
            c.close()
        srv.stop()


def s_orphaned():
    """The parent SIGKILLed: its workers must not live on holding the port."""
    srv = Server('orphaned', ['-w', '2', '-c', '64', '-C', '0', '-g', '2', '-t', '30', '-T', '30'], ROOT,
                 stop_wait=3)
    c = None
    try:
        start_prefork(srv)
        c = keepalive_conn(srv.port)
        kids = srv.remember_children()
        os.kill(srv.pid, signal.SIGKILL)
        srv.wait_exit(3)
        t = time.monotonic()
        gone = wait_for(lambda: not [p for p, st in kids.items() if running(p, st)], 3.0)
        left = [p for p, st in kids.items() if running(p, st)]
        ok(gone and len(kids) == 2, 'orphaned: once the parent is SIGKILLed its workers exit within 3 s '
           '(%s; %.1f s)' % (sorted(kids), time.monotonic() - t), 'still running: %s' % left)
        ok(port_refuses(srv.port), 'orphaned: once the parent is gone the port refuses connections '
           '(no orphaned worker keeps accepting on it)',
           'a request now gets: %s' % request(srv.port, REQ10, timeout=2).short())
    finally:
        if c:
            c.close()
        srv.stop()


def s_sigpipe():
    """Clients that reset mid-download, and a broken log pipe, kill no worker."""
    srv = Server('sigpipe', ['-w', '2', '-c', '64', '-C', '0', '-g', '2', '-t', '5', '-T', '5'], ROOT)
    rst = struct.pack('ii', 1, 0)
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        for i in range(20):
            s = socket.create_connection((HOST, srv.port), timeout=5)
            s.sendall(b'GET /' + BIG_NAME.encode() + b' HTTP/1.1\r\nHost: prefork\r\n\r\n')
            if i % 2:
                try:
                    s.recv(65536)          # the worker is mid-transfer
                except OSError:
                    pass
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, rst)
            s.close()
        r = request(srv.port, REQ10)
        ok(good_index(r), 'sigpipe -w 2: serves 200 after 20 clients reset mid-download', r.short())
        no_worker_trouble(srv, 'sigpipe -w 2')
        settle_checks(srv, 'sigpipe -w 2', 2, idle_p, idle_w, timeout=3.0, same=ws)
    finally:
        srv.stop()

    # the access log on stdout is a pipe nobody reads any more (httpd | head)
    rfd, wfd = os.pipe()
    os.close(rfd)
    srv = Server('sigpipe-log', ['-w', '2', '-c', '64', '-C', '0', '-g', '2', '-t', '5', '-T', '5'], ROOT,
                 log='-', stdout=wfd)
    c = None
    try:
        _, _, ws = start_prefork(srv)
        os.close(wfd)
        wfd = None
        c = ht.Conn(srv.port, timeout=5)
        answers = []
        for _ in range(3):
            c.send(REQ11_KEEP)
            try:
                r = c.read_response(timeout=5)
                answers.append(r and (r.status if r.body == INDEX_BODY else 'bad body'))
            except ht.ProtoError as e:
                answers.append(str(e))
                break
        ok(answers == [200, 200, 200], 'sigpipe-log -w 2: with the stdout log pipe broken, 3 keep-alive '
           'requests on one connection all get 200', answers)
        res = burst(srv.port, 20, REQ10, timeout=10)
        ok(all(good_index(x) for x in res), 'sigpipe-log -w 2: 20 more clients all get 200', summarize(res))
        c.close()
        c = None
        no_worker_trouble(srv, 'sigpipe-log -w 2')
        settle_checks(srv, 'sigpipe-log -w 2', 2, same=ws)
    finally:
        if wfd is not None:
            os.close(wfd)
        if c:
            c.close()
        srv.stop()


def s_leaks():
    """A worker holds the parent's descriptors minus the self-pipe and the life
    pipe's write end; nothing else."""
    log = os.path.join(WORK, 'leaks.log')
    srv = Server('leaks', ['-w', '2', '-c', '64', '-C', '0', '-g', '2', '-t', '5', '-T', '5'], ROOT,
                 log=log)
    conns = []
    try:
        idle_p, idle_w, ws = start_prefork(srv)
        p = ht.fds(srv.pid)
        diag('leaks: parent %d fds %s' % (srv.pid, sorted(p.items())))
        pipes = [t for t in p.values() if t.startswith('pipe:')]
        ok(len(pipes) == 4 and log in p.values(),
           'leaks: the parent holds its self-pipe, its life pipe and the log (setup; %s)'
           % sorted(p.items()))
        passed, why = leak_check(srv.pid, srv.pid)
        ok(not passed, 'leaks: controls: the check fails on a process holding the self-pipe (the parent)',
           why)
        for w in ws:
            passed, why = leak_check(srv.pid, w)
            ok(passed, 'leaks: worker %d holds the listening socket as its only socket, and otherwise '
               "exactly the parent's descriptors without the self-pipe" % w, why)
        # traffic: keep-alive connections on both workers, a burst, then quiet
        for _ in range(10):
            conns.append(keepalive_conn(srv.port))
        res = burst(srv.port, 50, REQ10, timeout=10)
        ok(all(good_index(x) for x in res), 'leaks: 50 clients got 200 (setup)', summarize(res))
        held = [ht.fd_count(w) - idle_w for w in ws]
        # a replacement forked while the others hold connections inherits none
        victim = ws[0]
        os.kill(victim, signal.SIGKILL)
        now = wait_workers(srv.pid, 2, 2.5, without=[victim])
        ok(now is not None, 'leaks: a killed worker is replaced (setup; %s)' % now)
        srv.remember_children()
        new = [w for w in (now or []) if w not in ws]
        time.sleep(0.2)
        for w in new:
            passed, why = leak_check(srv.pid, w)
            ok(passed, "leaks: a replacement forked while the other worker holds connections (%s) holds "
               "exactly the parent's descriptors without the self-pipe" % held, why)
        for c in conns:
            c.close()
        conns = []
        settle_checks(srv, 'leaks, quiet again', 2, idle_p, idle_w)
        for w in workers_of(srv.pid):
            passed, why = leak_check(srv.pid, w)
            ok(passed, "leaks: after the traffic, worker %d holds exactly the parent's descriptors "
               "without the self-pipe" % w, why)
    finally:
        for c in conns:
            c.close()
        srv.stop()


# ---------------------------------------------------------------- main

def kill_everything():
    lin.kill_everything()
    for h in _helpers:
        if h.poll() is None:
            h.kill()
            try:
                h.wait(2)
            except subprocess.TimeoutExpired:
                pass


def watchdog():
    ok(False, 'prefork.py finished within its %d s budget (watchdog fired)' % BUDGET)
    try:
        kill_everything()
        if WORK:
            shutil.rmtree(WORK, ignore_errors=True)
    finally:
        sys.stdout.flush()
        os._exit(0)


def main():
    global WORK, ROOT, TEST_UID
    if not os.access(HTTPD, os.X_OK):
        ok(False, 'prefork: server binary %s exists and is executable' % HTTPD)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as e:
            diag('cannot raise RLIMIT_NOFILE: %s' % e)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    TEST_UID = lin.pick_uid()
    NOBODY_WRAP[:] = ['setpriv', '--reuid=%d' % TEST_UID, '--regid=%d' % TEST_UID, '--clear-groups']
    diag('unprivileged scenarios run as uid/gid %d' % TEST_UID)
    WORK = tempfile.mkdtemp(prefix='prefork-')
    os.chmod(WORK, 0o755)
    wd = threading.Timer(BUDGET, watchdog)
    wd.daemon = True
    wd.start()
    try:
        ROOT = setup_docroot()
        for name, fn, needs in [('controls', s_controls, ()), ('bursts', s_bursts, ()),
                                ('cap', s_cap, ()), ('idle', s_idle, ()),
                                ('slowloris', s_slowloris, ()), ('crash', s_crash, ('prlimit',)),
                                ('retire', s_retire, ()), ('drain', s_drain, ()),
                                ('nofile', s_nofile, ('root', 'prlimit', 'setpriv')),
                                ('nproc', s_nproc, ('root', 'prlimit', 'setpriv')),
                                ('pid1', s_pid1, ('root', 'unshare')), ('sigint', s_sigint, ()),
                                ('orphaned', s_orphaned, ()), ('sigpipe', s_sigpipe, ()),
                                ('leaks', s_leaks, ())]:
            if ONLY and name not in ONLY:
                continue
            missing = [n for n in needs if (os.geteuid() != 0 if n == 'root' else not ht.have(n))]
            if missing:
                ht.skip('prefork scenario %s' % name,
                        ', '.join('not root' if n == 'root' else '%s not installed (util-linux)' % n
                                  for n in missing))
                continue
            run_scenario(name, fn)
    finally:
        kill_everything()
        wd.cancel()
        shutil.rmtree(WORK, ignore_errors=True)
    ht.finish('prefork', T_START)


if __name__ == '__main__':
    try:
        main()
    except Exception as e:          # never a non-zero exit
        ok(False, 'prefork: unexpected error %r' % e)
    sys.stdout.flush()
    os._exit(0)
