#!/usr/bin/env python3
"""tests/soak.py -- a soak test: the server under a mixed load of about 500
concurrent clients for SOAK_SECONDS, then checked for leftovers.

The server runs unprivileged (setpriv to nobody when root) in fork mode with
    -c 1024 -C 8 -t 2 -T 4 -m 20000 -n 200 -L 5 -g 2 -s
on a docroot holding small files, a 1 MiB file and a 50 MiB file.  Clients
connect over loopback from several source addresses (bound before connect):

  normal clients, two to an address of 127.0.1.x / 127.0.2.x (so that none
  comes near the per-address cap -C):
    keepalive  many requests per connection (some until the server closes:
               -n and -L), now and then a short pause (< -t)
    bulk       downloads of the 50 MiB file at 6 MiB/s, one after the other on
               a connection: each outlasts -L, the server must close after
               one of them and say so in its head (Connection: close)
    close      one request per connection, Connection: close
    pipeline   2..8 requests in one write, responses checked in order
    paced      the 50 MiB file read at 20 times the minimum rate (-m)
    abort      reads part of the 1 MiB file, then closes
    reset      SO_LINGER 0 and close, mid-request or mid-response
  the attacker, all from ONE address (127.0.0.66):
    slowloris  a header byte every 2 s, many connections
    slowread   the 50 MiB file read 1 KB a second
    silent     connects and never sends
    probe      every 4 s a burst of 3 * -C fresh silent connections

Assertions
  - every normal request is answered 200 with the right body, throughout
    (one line per client kind; failures counted by kind, samples printed).
    A paced reader is cut when the server closes its side (seen in `ss`)
    while more is still to come than its buffers can hold.  Not failures:
    a kept-alive connection the server closed after an answer that said
    Connection: close (the rest is sent again), or after -t of idleness by
    the kernel's clock (TCP_INFO: our own loop was late); and a cut, an EOF
    or a timeout while our own loop had stalled for -t - 0.5 s or more
    (a client that reads nothing for -t may be cut).  Both are counted.
  - the attacker address never holds more than -C of the server's children
    (server side: its ESTABLISHED connections owned by a child, `ss -p`),
    and beyond -C its fresh connections get 503 with Retry-After quickly
    (client side: the probes; the first one, before the other attackers
    start, must see exactly -C connections held);
  - a slowloris connection is cut (408 or close) within -T plus a margin, a
    silent one closed within -T plus a margin, a 1 KB/s reader cut within
    -t + (its receive buffer + 64 KiB) / -m plus a margin (times less the
    stall of our own loop they include);
  - the pool stays below the pressure mark, so nothing is shed for it;
  - afterwards: no zombies, no live children within 3 s, the parent's
    descriptors back to their idle count, its VmRSS at most 256 KiB over
    the baseline, no child killed by a signal, and the server still answers.
  Figures as "# " lines: connections, requests answered, failures by kind,
  max live children, zombies seen, parent RSS before/after, cut times, the
  access log's statuses and rejection sites.

Environment: HTTPD (default ./httpd), SOAK_SECONDS (default 20), SOAK_SCALE
(a factor on the number of clients; default 1, and 0.5 when the binary
carries AddressSanitizer).  The load runs in a few processes (this file with
--worker), each an asyncio loop; the whole run is bounded by SOAK_SECONDS
plus about 15 s (a watchdog kills everything at SOAK_SECONDS + 60 s).
Output: ok / not ok lines (tests/httpdtest.py), exit status 0.
"""
import asyncio
import contextvars
import errno
import json
import os
import random
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
from httpdtest import ok, diag  # noqa: E402

HOST = "127.0.0.1"
ATTACKER = "127.0.0.66"
CAP = 1024              # -c: far above the load, so the pool never presses
PER_ADDR = 8            # -C
IDLE = 2                # -t
HEADT = 4               # -T
MIN_RATE = 20000        # -m
MAX_REQ = 200           # -n
LIFETIME = 5            # -L
GRACE = 2               # -g
PACED_RATE = 20 * MIN_RATE
BULK_RATE = 6 << 20     # a bulk download of the 50 MiB file lasts 8 s, longer than -L
SLOW_STEP = 1024        # a slow reader reads this much a second
RSS_SLACK = 256         # KiB the parent may grow by
SMALL_FILES = 16
SMALL = b"small file ok\n"
BIG_SIZE = 50 << 20
MID_SIZE = 1 << 20
PATTERN = bytes(range(256)) * 4096 * 2          # 2 MiB of the big file's pattern
IP_BIND_ADDRESS_NO_PORT = 24
ATTACK_KINDS = ("slowloris", "slowread", "silent")


def small_body(i):
    return ("small file %02d: %s\n" % (i, "abcdefghijklmnopqrstuvwxyz"[:i + 5])).encode()


def big_ok(off, data):
    """data is the big file's content at offset off (its byte i is i % 256)."""
    o = off % 256
    i = 0
    while i < len(data):
        n = min(len(data) - i, len(PATTERN) - 256)
        if data[i:i + n] != PATTERN[(o + i) % 256:(o + i) % 256 + n]:
            return False
        i += n
    return True


# ====================================================================== worker
# One process of the load: an asyncio loop with its share of the clients.
# Its config arrives as JSON in argv, its result leaves as JSON on stdout.

class Timeout(Exception):
    pass


class Deadline:
    """`with Deadline(loop, at):` cancels the task at `at` (monotonic) and
    turns that cancellation into Timeout."""

    def __init__(self, loop, at):
        self.loop, self.at = loop, at

    def __enter__(self):
        self.task = asyncio.current_task()
        self.fired = False
        self.h = self.loop.call_at(self.loop.time() + max(0.0, self.at - time.monotonic()), self._fire)
        return self

    def _fire(self):
        self.fired = True
        self.task.cancel()

    def __exit__(self, et, e, tb):
        self.h.cancel()
        if self.fired and et is asyncio.CancelledError:
            if hasattr(self.task, "uncancel"):
                self.task.uncancel()
            raise Timeout()
        return False


OP_START = contextvars.ContextVar("op_start", default=None)   # per task: the request's start
STALL_EXCUSE = IDLE - 0.5   # a stall of the client's own loop this long excuses a cut


def tcp_quiet(s):
    """Seconds since data last arrived on s (TCP_INFO tcpi_last_data_recv,
    the kernel's clock: our own loop's delays do not count), or None."""
    try:
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        return struct.unpack_from("I", info, 52)[0] / 1000.0
    except (OSError, struct.error, AttributeError):
        return None


def _wake(fut):
    if not fut.done():
        fut.set_result(None)


class Fail(Exception):
    """A normal request not answered as it should be: kind, detail.
    window: (from, to) in which a stall of our own loop would explain it
    (default: the request's start until now); excusable=False: nothing
    excuses it."""

    def __init__(self, kind, detail, window=None, excusable=True):
        super().__init__(kind, detail)
        self.kind, self.detail = kind, detail
        self.window, self.excusable = window, excusable


class Worker:
    def __init__(self, cfg):
        self.cfg = cfg
        self.port = cfg["port"]
        self.end = cfg["end"]
        self.loop = None
        self.mid = open(os.path.join(cfg["root"], "mid.bin"), "rb").read()
        self.files = {"/small.txt": SMALL, "/mid.bin": self.mid}
        for i in range(SMALL_FILES):
            self.files["/f/%d.txt" % i] = small_body(i)
        self.small_paths = ["/small.txt"] + ["/f/%d.txt" % i for i in range(SMALL_FILES)]
        self.st = {"connections": 0, "answered": 0, "requests_sent": 0,
                   "failures": {}, "failure_samples": {}, "abandoned": 0, "idle_race": 0,
                   "server_close": 0, "resent": 0, "aborts": 0, "resets_req": 0, "resets_resp": 0,
                   "kinds": {}, "bytes": 0,
                   "att": {"503": 0, "503_latency": [], "503_no_retry_after": 0,
                           "held": {"slowloris": 0, "slowread": 0, "silent": 0},
                           "cut": {"slowloris": [], "slowread": [], "silent": []},
                           "cut_raw": {"slowloris": [], "slowread": [], "silent": []},
                           "cut_how": {}, "slowread_bound": [], "other": [], "errors": {}, "early": [],
                           "probes": []},
                   "paced": {"started": 0, "done": 0, "bytes": 0}}
        self.st["excused"] = {}
        self.st["excused_samples"] = []
        self.st["lag_max"] = [0.0]
        self.st["long_stalls"] = []
        self.stalls = []            # (from, to): our loop did not run
        self.pending = []           # failures of normal clients, decided at the end
        self.events = []            # (what, t0, seen at, arrived at) of the attacker
        self.est = set()            # server-side ESTABLISHED peers (addr, port)
        self.est_seq = 0            # snapshots taken
        self.est_time = 0.0

    # ---- bookkeeping
    def kind(self, k, n=1):
        self.st["kinds"][k] = self.st["kinds"].get(k, 0) + n

    def fail(self, who, kind, detail, window=None, excusable=False):
        """A failure of a normal client; decided at the end (finalize), when
        every stall of our own loop is known."""
        if window is None:
            window = (OP_START.get() or time.monotonic(), time.monotonic())
        self.pending.append((who, kind, detail, window, excusable))

    def count_fail(self, who, kind, detail):
        f = self.st["failures"].setdefault(who, {})
        f[kind] = f.get(kind, 0) + 1
        samples = self.st["failure_samples"].setdefault(who, [])
        if f[kind] <= 3 and len(samples) < 8:
            samples.append("%s: %s" % (kind, detail))

    def over(self):
        return time.monotonic() >= self.end

    async def lagmon(self):
        """Records the stalls of this process's loop (a starved process, a
        busy loop): a client that did not read or write for -t may be cut
        rightly, and a measured time includes the stall."""
        while not self.over():
            t = time.monotonic()
            await asyncio.sleep(0.05)
            lag = time.monotonic() - t - 0.05
            if lag > 0.1:
                self.stalls.append((t + 0.05, t + 0.05 + lag))
                self.st["lag_max"][0] = max(self.st["lag_max"][0], round(lag, 3))
                if lag > 1.0 and len(self.st["long_stalls"]) < 10:
                    self.st["long_stalls"].append((round(t - self.cfg["start"], 1), round(lag, 2)))

    def stalled(self, a, b, longest=False):
        """Our loop's stall time within [a, b]: the total, or the longest one."""
        tot = big = 0.0
        for x, y in reversed(self.stalls):
            if y < a:
                break
            o = max(0.0, min(b, y) - max(a, x))
            tot += o
            big = max(big, o)
        return big if longest else tot

    def delay(self, t0, t):
        """How late our loop saw an event that it saw at t: the part after
        t0 of a stall that it was just coming out of."""
        for x, y in reversed(self.stalls):
            if y + 0.1 < t:
                break
            if x <= t:
                return max(0.0, min(t, y) - max(x, t0))
        return 0.0

    def finalize(self):
        """After the load: failures that a stall of our own loop explains
        are excused; measured times lose the stall they include."""
        for who, kind, detail, (a, b), excusable in self.pending:
            st = self.stalled(a, b + 0.1, longest=True)
            if excusable and st >= STALL_EXCUSE:
                e = self.st["excused"]
                e[kind] = e.get(kind, 0) + 1
                if len(self.st["excused_samples"]) < 6:
                    self.st["excused_samples"].append("[%s] %s: %s (our loop stalled %.2f s)" % (who, kind, detail, st))
            else:
                self.count_fail(who, kind, detail + ("" if st < 0.5 else " (our loop stalled %.2f s)" % st))
        a = self.st["att"]
        for what, t0, t, arrival in self.events:
            el = t - t0 - self.delay(t0, t)
            if arrival is not None and arrival >= t0:
                el = min(el, arrival - t0)
            el = round(max(0.0, el), 3)
            if what == "503":
                a["503_latency"].append(el)
            elif what.startswith("probe"):
                i = int(what[5:])
                a["probes"][i]["max_latency"] = max(a["probes"][i]["max_latency"], el)
            else:
                a["cut"][what].append(el)
                a["cut_raw"][what].append(round(t - t0, 3))
                if what != "slowread" and el < HEADT - 0.5:
                    a["early"].append("%s after %.2f s (at %.1f s of the load)" % (what, el, t0 - self.cfg["start"]))

    def event(self, what, t0, s=None):
        """Records an event seen now on a connection that began at t0 (s:
        data has just come on it, whose arrival the kernel timed)."""
        now = time.monotonic()
        q = tcp_quiet(s) if s is not None else None
        self.events.append((what, t0, now, None if q is None else now - q))

    # ---- sockets
    async def connect(self, src, rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        except OSError:
            pass
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.setblocking(False)
        try:
            s.bind((src, 0))
            with Deadline(self.loop, min(self.end + 1, time.monotonic() + 10)):
                await self.loop.sock_connect(s, (HOST, self.port))
        except BaseException:
            s.close()
            raise
        self.st["connections"] += 1
        return s

    async def recv(self, s, n=262144):
        """Up to n bytes; b"" at EOF, None on a reset.  Waits for readiness
        and reads without an await in between, so a Deadline that fires
        never loses bytes already read (as a cancelled sock_recv may)."""
        while True:
            try:
                return s.recv(n)
            except (BlockingIOError, InterruptedError):
                pass
            except (ConnectionResetError, ConnectionAbortedError):
                return None
            fut = self.loop.create_future()
            fd = s.fileno()
            self.loop.add_reader(fd, _wake, fut)
            try:
                await fut
            finally:
                self.loop.remove_reader(fd)

    async def send(self, s, data):
        await self.loop.sock_sendall(s, data)

    @staticmethod
    def rst_close(s):
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        s.close()

    async def read_head(self, s, buf):
        """Reads until a whole response head is in buf (a bytearray).
        -> (status, {lowercase name: value}, head length), or None on EOF or
        reset before the first byte.  Fail on a malformed head or EOF inside it."""
        while True:
            i = buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            d = await self.recv(s)
            if not d:
                if not buf:
                    return None
                raise Fail("eof-in-head", "%s after %r" % ("reset" if d is None else "EOF", bytes(buf[:80])))
            buf += d
        lines = bytes(buf[:i]).split(b"\r\n")
        m = re.match(rb"HTTP/1\.1 (\d\d\d) ", lines[0] + b" ")
        if not m:
            raise Fail("proto", "bad status line %r" % lines[0][:80])
        hd = {}
        for l in lines[1:]:
            k, sep, v = l.partition(b":")
            if not sep:
                raise Fail("proto", "bad header line %r" % l[:80])
            hd[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
        return int(m.group(1)), hd, i + 4

    async def read_response(self, s, buf, path):
        """One whole response to GET path from s (leftover bytes stay in buf):
        -> (status, headers, body); None when the connection ended before its
        first byte.  Raises Fail on anything malformed or truncated."""
        h = await self.read_head(s, buf)
        if h is None:
            return None
        status, hd, hl = h
        del buf[:hl]
        cl = hd.get("content-length")
        if cl is None or not cl.isdigit():
            raise Fail("proto", "%s: status %d without a Content-Length (%r)" % (path, status, hd))
        n = int(cl)
        while len(buf) < n:
            d = await self.recv(s)
            if not d:
                raise Fail("truncated", "%s: %s after %d of %d body bytes" % (
                    path, "reset" if d is None else "EOF", len(buf), n))
            buf += d
        body = bytes(buf[:n])
        del buf[:n]
        return status, hd, body

    def check(self, path, status, hd, body, who=None):
        if status != 200:
            raise Fail("status-%d" % status, "%s -> %d %r %r" % (path, status, hd, body[:60]))
        if body != self.files[path]:
            raise Fail("body", "%s: %d bytes, not the file's %d" % (path, len(body), len(self.files[path])))
        self.st["answered"] += 1
        self.st["bytes"] += len(body)
        if who:
            self.kind(who + "_answered")

    def pick(self, mid_share=0.1):
        if random.random() < mid_share:
            return "/mid.bin"
        return random.choice(self.small_paths)

    async def guarded(self, name, fn, *args):
        """Runs one client loop until the end; a Fail is counted, a Timeout
        after the end is an abandoned request, and the loop goes on.  The
        attacker's troubles are only noted: its connections may fail."""
        self.kind(name, 0)
        attacker = name in ATTACK_KINDS
        while not self.over():
            try:
                await fn(*args)
                continue
            except Fail as f:
                kind, detail, window, excusable = f.kind, f.detail, f.window, f.excusable
            except Timeout:
                if self.over():
                    self.st["abandoned"] += 1
                    continue
                kind, detail, window, excusable = "timeout", "no answer in time", None, True
            except OSError as e:
                if self.over():
                    self.st["abandoned"] += 1
                    continue
                kind, detail = "oserror-%s" % errno.errorcode.get(e.errno, e.errno), str(e)
                window, excusable = None, e.errno in (errno.ECONNRESET, errno.EPIPE)
            except Exception as e:
                kind, detail, window, excusable = "exception", repr(e), None, False
            if attacker:
                a = self.att()
                a["errors"][kind] = a["errors"].get(kind, 0) + 1
                if len(a["other"]) < 20:
                    a["other"].append("%s: %s: %s" % (name, kind, detail))
            else:
                self.fail(name, kind, "[from %s] %s" % (args[0] if args else "", detail), window, excusable)
            await asyncio.sleep(0.05)

    def op_deadline(self, seconds=15.0):
        return min(self.end, time.monotonic() + seconds)

    # ---- normal clients
    async def keepalive(self, src):
        """Many requests on one connection: up to 5..100 of them, or (one in
        three) until the server says Connection: close (-n, -L)."""
        born = time.monotonic()     # no later than the server's accept
        s = await self.connect(src)
        who = "keepalive"
        self.kind(who)
        try:
            buf = bytearray()
            limit = 10 ** 9 if random.random() < 0.33 else random.randint(5, 100)
            last = None                 # when the previous response arrived
            n = 0
            while n < limit and not self.over():
                path = self.pick()
                if last is not None and random.random() < 0.05:
                    await asyncio.sleep(random.uniform(0, 0.5))
                with Deadline(self.loop, self.op_deadline()):
                    OP_START.set(time.monotonic())
                    quiet = None if last is None else tcp_quiet(s)
                    gap = 0.0 if last is None else time.monotonic() - last
                    await self.send(s, b"GET %s HTTP/1.1\r\nHost: soak\r\n\r\n" % path.encode())
                    self.st["requests_sent"] += 1
                    r = await self.read_response(s, buf, path)
                if r is None:
                    self.reused_closed(path, n, gap, quiet, time.monotonic() - born)
                    return
                self.check(path, *r, who=who)
                last = time.monotonic()
                n += 1
                if r[1].get("connection", "").lower() == "close":
                    self.st["server_close"] += 1
                    return
        finally:
            s.close()

    def reused_closed(self, what, n, gap, quiet, age):
        """The server closed a kept-alive connection instead of answering
        request n + 1: right if it had been idle for -t (the kernel says how
        long since the last answer's bytes arrived), a failure otherwise."""
        if n == 0:
            raise Fail("closed-unanswered", "%s: the first request on a new connection: closed "
                       "without an answer" % what)
        idle = quiet if quiet is not None else gap
        if idle >= IDLE - 0.25:
            self.st["idle_race"] += 1       # we (our loop) kept it idle for -t
            return
        # The server's idle wait (-t) begins when it has written its answer,
        # which may be long before the last bytes reach a client that stalled
        # meanwhile: a stall of ours just before the request excuses it (then
        # even past -L, where the answer should have said Connection: close).
        sent = OP_START.get() or time.monotonic()
        raise Fail("closed-unanswered", "%s: request %d on a kept-alive connection (at most %.2f s old%s) "
                   "closed without an answer, %.2f s after the previous answer (no Connection: close) "
                   "arrived (-t %d)" % (what, n + 1, age, ": past -L %d" % LIFETIME if age >= LIFETIME else
                                        ", not yet -L %d" % LIFETIME, idle, IDLE),
                   window=(sent - IDLE - 1.0, sent))

    async def close_client(self, src):
        """One request with Connection: close; the server must answer, say
        close and close."""
        s = await self.connect(src)
        self.kind("close")
        try:
            path = self.pick()
            buf = bytearray()
            OP_START.set(time.monotonic())
            with Deadline(self.loop, self.op_deadline()):
                await self.send(s, b"GET %s HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n" % path.encode())
                self.st["requests_sent"] += 1
                r = await self.read_response(s, buf, path)
                if r is None:
                    raise Fail("closed-unanswered", "%s with Connection: close: closed without an answer" % path)
                self.check(path, *r, who="close")
                if r[1].get("connection", "").lower() != "close":
                    raise Fail("no-close", "%s: Connection: close asked, answer says %r" % (path, r[1].get("connection")))
                d = await self.recv(s)
                if d:
                    raise Fail("extra", "%s: %d bytes after the answer to Connection: close" % (path, len(d)))
        finally:
            s.close()

    async def pipeline(self, src):
        """Batches of 2..8 requests in one write, answers checked in order."""
        born = time.monotonic()     # no later than the server's accept
        s = await self.connect(src)
        self.kind("pipeline")
        pending = []
        try:
            buf = bytearray()
            done = 0                    # answers on this connection so far
            last = None
            for _ in range(random.randint(1, 20)):
                if self.over():
                    break
                paths = [self.pick(0.05) for _ in range(random.randint(2, 8))]
                with Deadline(self.loop, self.op_deadline(20)):
                    OP_START.set(time.monotonic())
                    quiet = None if last is None else tcp_quiet(s)
                    gap = 0.0 if last is None else time.monotonic() - last
                    await self.send(s, b"".join(b"GET %s HTTP/1.1\r\nHost: soak\r\n\r\n" % p.encode()
                                                for p in paths))
                    self.st["requests_sent"] += len(paths)
                    self.kind("pipelined", len(paths))
                    for k, path in enumerate(paths):
                        r = await self.read_response(s, buf, path)
                        if r is None and k == 0:
                            self.reused_closed("a batch of %d pipelined requests" % len(paths), done, gap, quiet,
                                               time.monotonic() - born)
                            pending = paths
                            break
                        if r is None:
                            raise Fail("closed-unanswered", "pipelined %s (%d of %d): closed without an answer"
                                       % (path, k + 1, len(paths)))
                        done += 1
                        last = time.monotonic()
                        self.check(path, *r, who="pipeline")
                        if r[1].get("connection", "").lower() == "close":
                            # the server's budget (-n, -L): the rest go again
                            self.st["server_close"] += 1
                            pending = paths[k + 1:]
                            d = await self.recv(s)
                            if d:
                                raise Fail("extra", "%d bytes after a Connection: close answer" % len(d))
                            break
                if pending:
                    break
        finally:
            s.close()
        if pending and not self.over():
            OP_START.set(time.monotonic())
            self.st["resent"] += len(pending)
            s = await self.connect(src)
            try:
                buf = bytearray()
                with Deadline(self.loop, self.op_deadline(20)):
                    await self.send(s, b"".join(b"GET %s HTTP/1.1\r\nHost: soak\r\n\r\n" % p.encode()
                                                for p in pending))
                    self.st["requests_sent"] += len(pending)
                    for path in pending:
                        r = await self.read_response(s, buf, path)
                        if r is None:
                            raise Fail("closed-unanswered", "re-sent %s: closed without an answer" % path)
                        self.check(path, *r)
            finally:
                s.close()

    async def abort(self, src):
        """Reads part of the 1 MiB file (checked), then closes."""
        s = await self.connect(src)
        self.kind("abort")
        try:
            want = random.randint(1024, 900 * 1024)
            buf = bytearray()
            OP_START.set(time.monotonic())
            with Deadline(self.loop, self.op_deadline()):
                await self.send(s, b"GET /mid.bin HTTP/1.1\r\nHost: soak\r\n\r\n")
                self.st["requests_sent"] += 1
                h = await self.read_head(s, buf)
                if h is None:
                    raise Fail("closed-unanswered", "/mid.bin (abort client): closed without an answer")
                status, hd, hl = h
                if status != 200:
                    raise Fail("status-%d" % status, "/mid.bin (abort client) -> %d %r" % (status, hd))
                del buf[:hl]
                while len(buf) < want:
                    d = await self.recv(s)
                    if not d:
                        raise Fail("truncated", "/mid.bin: %s after %d bytes (abort client, meant to read %d)"
                                   % ("reset" if d is None else "EOF", len(buf), want))
                    buf += d
            if bytes(buf[:want]) != self.mid[:want]:
                raise Fail("body", "/mid.bin: the first %d bytes differ from the file's" % want)
            self.st["aborts"] += 1
        finally:
            s.close()               # with unread data: the kernel sends a reset
        await asyncio.sleep(random.uniform(0, 0.2))

    async def reset(self, src):
        """SO_LINGER 0 and close: mid-request (part of a head sent) or
        mid-response (part of the 1 MiB or the 50 MiB file read)."""
        s = await self.connect(src)
        self.kind("reset")
        try:
            req = b"GET /mid.bin HTTP/1.1\r\nHost: soak\r\nUser-Agent: soak-reset\r\n\r\n"
            OP_START.set(time.monotonic())
            if random.random() < 0.5:
                await self.send(s, req[:random.randint(1, len(req) - 1)])
                await asyncio.sleep(random.uniform(0, 0.3))
                self.st["resets_req"] += 1
            else:
                if random.random() < 0.3:
                    req = req.replace(b"/mid.bin", b"/big.bin")
                await self.send(s, req)
                want = random.randint(1, 512 * 1024)
                got = 0
                with Deadline(self.loop, self.op_deadline()):
                    while got < want:
                        d = await self.recv(s, 65536)
                        if not d:
                            raise Fail("truncated", "reset client: %s after %d bytes" %
                                       ("reset" if d is None else "EOF", got))
                        got += len(d)
                self.st["resets_resp"] += 1
        finally:
            self.rst_close(s)
        await asyncio.sleep(random.uniform(0, 0.2))

    async def read_big(self, s, buf, t0, rate, who, src=None, lport=None, slack=None):
        """Reads the response to a GET /big.bin sent at t0, at `rate` bytes/s,
        checking its bytes (what follows it stays in buf): -> its headers, or
        None when the connection closed before its first byte.  With lport
        (in the process that takes the ss snapshots), the server closing its
        side while more than `slack` bytes are still to come is a cut."""
        with Deadline(self.loop, self.op_deadline()):
            h = await self.read_head(s, buf)
        if h is None:
            return None
        status, hd, hl = h
        if status != 200 or hd.get("content-length") != str(BIG_SIZE):
            raise Fail("status-%d" % status, "/big.bin (%s) -> %d %r" % (who, status, hd))
        del buf[:hl]
        got = 0
        seen_seq = None             # the snapshot that first showed our connection
        step = max(4096, min(262144, rate // 10))
        while got < BIG_SIZE:
            if buf:
                take = bytes(buf[:BIG_SIZE - got])
                del buf[:len(take)]
                if not big_ok(got, take):
                    raise Fail("body", "/big.bin (%s): wrong bytes at offset %d" % (who, got))
                got += len(take)
                if who == "paced":
                    self.st["paced"]["bytes"] += len(take)
                continue
            if self.over():
                raise Timeout()     # abandoned at the end
            if lport is not None:
                key = (src, lport)
                if key in self.est:
                    seen_seq = seen_seq or self.est_seq
                elif seen_seq is not None and self.est_seq > seen_seq and BIG_SIZE - got > slack:
                    raise Fail("cut", "/big.bin read at %d B/s (%d x -m %d): the server closed its side "
                               "%.1f s after the request, with %d of %d bytes read here and %d more "
                               "than its buffers can hold still to come" % (
                                   rate, rate // MIN_RATE, MIN_RATE, self.est_time - t0,
                                   got, BIG_SIZE, BIG_SIZE - got - slack),
                               window=(self.est_time - IDLE - 1.5, self.est_time))
            due = t0 + got / rate
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(min(due - now, 0.25))
                continue
            try:
                with Deadline(self.loop, min(self.end, now + 10)):
                    d = await self.recv(s, step)
            except Timeout:
                if self.over():
                    raise
                raise Fail("stalled", "/big.bin (%s): nothing for 10 s at %d of %d bytes" % (who, got, BIG_SIZE))
            if not d:
                raise Fail("truncated", "/big.bin read at %d B/s (%d x -m %d): %s after %d of %d bytes, "
                           "%.1f s after the request" % (rate, rate // MIN_RATE, MIN_RATE,
                                                        "reset" if d is None else "EOF", got,
                                                        BIG_SIZE, time.monotonic() - t0))
            buf += d
        self.st["answered"] += 1
        self.kind(who + "_answered")
        return hd

    async def paced(self, src):
        """The 50 MiB file read at PACED_RATE (20 times -m), its bytes checked;
        the server must not cut it (neither an EOF before its end, nor its
        side of the connection closed while far more than its buffers can
        hold is still to come)."""
        rcvbuf = 256 * 1024
        s = await self.connect(src, rcvbuf=rcvbuf)
        self.kind("paced")
        self.st["paced"]["started"] += 1
        try:
            t0 = time.monotonic()
            OP_START.set(t0)
            await self.send(s, b"GET /big.bin HTTP/1.1\r\nHost: soak\r\n\r\n")
            self.st["requests_sent"] += 1
            hd = await self.read_big(s, bytearray(), t0, PACED_RATE, "paced", src, s.getsockname()[1],
                                     self.cfg["wmem_max"] + 2 * rcvbuf + (1 << 20))
            if hd is None:
                raise Fail("closed-unanswered", "/big.bin (paced): closed without an answer")
            self.st["paced"]["done"] += 1
        finally:
            s.close()

    async def bulk(self, src):
        """Downloads of the 50 MiB file at BULK_RATE, one after the other on
        one connection; each takes longer than -L, so the server must close
        the connection after one of them, and say so in its head."""
        born = time.monotonic()     # no later than the server's accept
        s = await self.connect(src)
        self.kind("bulk")
        try:
            buf = bytearray()
            last = None
            n = 0
            while not self.over():
                t0 = time.monotonic()
                OP_START.set(t0)
                quiet = None if last is None else tcp_quiet(s)
                gap = 0.0 if last is None else t0 - last
                await self.send(s, b"GET /big.bin HTTP/1.1\r\nHost: soak\r\n\r\n")
                self.st["requests_sent"] += 1
                hd = await self.read_big(s, buf, t0, BULK_RATE, "bulk")
                if hd is None:
                    self.reused_closed("/big.bin", n, gap, quiet, time.monotonic() - born)
                    return
                last = time.monotonic()
                n += 1
                if hd.get("connection", "").lower() == "close":
                    self.st["server_close"] += 1
                    return
        finally:
            s.close()

    # ---- the attacker
    def att(self):
        return self.st["att"]

    @staticmethod
    def peek(s):
        """What s holds right now without waiting: bytes, b"" (EOF), None
        (reset) or False (nothing yet)."""
        try:
            return s.recv(262144)
        except (BlockingIOError, InterruptedError):
            return False
        except (ConnectionResetError, ConnectionAbortedError):
            return None

    async def att_first(self, s, t0, buf, kind):
        """After a connect: if the parent answers 503 at once, records it and
        returns True (the connection is not held)."""
        try:
            with Deadline(self.loop, min(self.end, time.monotonic() + 1.0)):
                d = await self.recv(s)
        except Timeout:
            d = self.peek(s)
            if d is False:
                return False
        if d is None or d == b"":
            self.att()["other"].append("%s: %s at once, no answer" % (kind, "reset" if d is None else "EOF"))
            return True
        buf += d
        return self.att_503(s, t0, buf)

    def att_503(self, s, t0, buf):
        if buf.startswith(b"HTTP/1.1 503 "):
            a = self.att()
            a["503"] += 1
            self.event("503", t0, s)
            if b"\r\nretry-after: 1\r\n" not in bytes(buf).lower():
                a["503_no_retry_after"] += 1
            return True
        return False

    def att_late_503(self, s, buf, t0, kind):
        """A 503 after the first second: not held after all (its latency
        shows in the figures and fails the promptness check)."""
        if not self.att_503(s, t0, buf):
            return False
        self.att()["held"][kind] -= 1
        return True

    def att_cut(self, kind, t0, how, s=None):
        """A held connection ended (s: by data, a 408)."""
        a = self.att()
        self.event(kind, t0, s)
        a["cut_how"][how] = a["cut_how"].get(how, 0) + 1

    async def slowloris(self, _src):
        s = await self.connect(ATTACKER)
        t0 = time.monotonic()
        self.kind("slowloris")
        try:
            buf = bytearray()
            await self.send(s, b"GET /small.txt HTTP/1.1\r\nHost: soak\r\n")
            if await self.att_first(s, t0, buf, "slowloris"):
                await asyncio.sleep(random.uniform(0.5, 1.5))   # Retry-After, roughly
                return
            self.att()["held"]["slowloris"] += 1
            drip = b"X-Slow-Loris: " + b"a" * 10000
            i = 0
            while not self.over():
                try:
                    with Deadline(self.loop, min(self.end, time.monotonic() + 2.0)):
                        d = await self.recv(s)
                except Timeout:
                    d = self.peek(s)
                    if d is False:
                        try:
                            await self.send(s, drip[i:i + 1])
                        except OSError:
                            self.att_cut("slowloris", t0, "send-error")
                            return
                        i += 1
                        continue
                if d:
                    buf += d
                    if self.att_late_503(s, buf, t0, "slowloris"):
                        return
                    if buf.startswith(b"HTTP/1.1 408 "):
                        self.att_cut("slowloris", t0, "408", s)
                    else:
                        self.att()["other"].append("slowloris: %r" % bytes(buf[:60]))
                        self.att_cut("slowloris", t0, "other", s)
                    return
                self.att_cut("slowloris", t0, "reset" if d is None else "close")
                return
        finally:
            s.close()

    async def silent(self, _src):
        s = await self.connect(ATTACKER)
        t0 = time.monotonic()
        self.kind("silent")
        try:
            buf = bytearray()
            if await self.att_first(s, t0, buf, "silent"):
                await asyncio.sleep(random.uniform(0.5, 1.5))
                return
            self.att()["held"]["silent"] += 1
            try:
                with Deadline(self.loop, self.end):
                    d = await self.recv(s)
            except Timeout:
                return
            if d and self.att_late_503(s, bytearray(d), t0, "silent"):
                return
            if d and not d.startswith(b"HTTP/1.1 408 "):
                self.att()["other"].append("silent: %r" % bytes(d[:60]))
            self.att_cut("silent", t0, "408" if d and d.startswith(b"HTTP/1.1 408 ") else
                         "reset" if d is None else "close" if d == b"" else "other", s if d else None)
        finally:
            s.close()

    async def slowread(self, _src):
        s = await self.connect(ATTACKER)
        t0 = time.monotonic()
        self.kind("slowread")
        lport = s.getsockname()[1]
        rcvbuf = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        # the bytes it can take in (its buffer, plus what it reads meanwhile)
        # moving at -m after the -t of grace, plus the server's 64 KiB slack
        bound = (IDLE + (rcvbuf + 65536) / MIN_RATE) / (1.0 - SLOW_STEP / MIN_RATE)
        try:
            await self.send(s, b"GET /big.bin HTTP/1.1\r\nHost: soak\r\n\r\n")
            buf = bytearray()
            try:
                with Deadline(self.loop, min(self.end, time.monotonic() + 1.0)):
                    d = await self.recv(s, SLOW_STEP)
            except Timeout:
                d = self.peek(s)
                if d is False:
                    return
            if not d:
                self.att()["other"].append("slowread: %s at once" % ("reset" if d is None else "EOF"))
                return
            buf += d
            if self.att_503(s, t0, buf):
                await asyncio.sleep(random.uniform(0.5, 1.5))
                return
            if not buf.startswith(b"HTTP/1.1 200 "):
                self.att()["other"].append("slowread: %r" % bytes(buf[:60]))
                return
            self.att()["held"]["slowread"] += 1
            self.att()["slowread_bound"].append(round(bound, 2))
            seen_seq = None
            while not self.over():
                await asyncio.sleep(1.0)
                key = (ATTACKER, lport)
                if key in self.est:
                    seen_seq = seen_seq or self.est_seq
                elif seen_seq is not None and self.est_seq > seen_seq:
                    # the server closed its side (its child is done): cut
                    a = self.att()
                    self.events.append(("slowread", t0, self.est_time, None))
                    a["cut_how"]["server-closed"] = a["cut_how"].get("server-closed", 0) + 1
                    return
                if time.monotonic() - t0 > bound + 30:
                    self.att_cut("slowread", t0, "never")
                    self.att()["other"].append("slowread: not cut after %.0f s" % (time.monotonic() - t0))
                    return
                d = await self.recv(s, SLOW_STEP)
                if not d:
                    self.att_cut("slowread", t0, "reset" if d is None else "close")
                    return
        finally:
            self.rst_close(s)       # frees what the kernel still holds for us

    async def probe(self):
        """3 * -C fresh silent connections at once: at most -C held, the
        rest answered 503 (with Retry-After) within 2 s."""
        n = 3 * PER_ADDR
        t0 = time.monotonic()
        socks = await asyncio.gather(*[self.connect(ATTACKER) for _ in range(n)], return_exceptions=True)
        socks = [x for x in socks if isinstance(x, socket.socket)]
        res = {"t": round(t0 - self.cfg["start"], 1), "n": len(socks), "503": 0, "held": 0,
               "other": 0, "max_latency": 0.0}
        idx = len(self.att()["probes"])
        self.att()["probes"].append(res)

        async def one(s):
            buf = bytearray()
            try:
                # 3 s: a held connection hears nothing before -T (4 s)
                with Deadline(self.loop, min(self.end + 1, time.monotonic() + 3.0)):
                    while b"\r\n\r\n" not in buf:
                        d = await self.recv(s)
                        if not d:
                            res["other"] += 1
                            return
                        buf += d
            except Timeout:
                d = self.peek(s)
                if not d:
                    res["held" if d is False else "other"] += 1
                    return
                buf += d
            if buf.startswith(b"HTTP/1.1 503 ") and b"\r\nretry-after: 1\r\n" in bytes(buf).lower():
                res["503"] += 1
                self.event("probe%d" % idx, t0, s)
            else:
                res["other"] += 1
        try:
            await asyncio.gather(*[one(s) for s in socks])
        finally:
            for s in socks:
                s.close()

    async def monitor(self):
        """Snapshots of the server side's ESTABLISHED connections (ss), once
        a second: how slow readers and paced readers learn that the server
        closed its end while the kernel still delivers what it had queued."""
        while not self.over():
            try:
                p = await asyncio.create_subprocess_exec(
                    "ss", "-tnH", "state", "established", "( sport = :%d )" % self.port,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
                out, _ = await p.communicate()
                if p.returncode != 0 or not out.strip():
                    await asyncio.sleep(0.5)
                    continue                # no snapshot: keep the last one
                est = set()
                for line in out.decode("latin-1").splitlines():
                    f = line.split()
                    if len(f) >= 4:
                        a, _, pt = f[3].rpartition(":")
                        if pt.isdigit():
                            est.add((a, int(pt)))
                self.est, self.est_time = est, time.monotonic()
                self.est_seq += 1
            except OSError:
                pass
            await asyncio.sleep(1.0)

    async def attacker(self):
        a = self.cfg["attack"]
        tasks = [asyncio.ensure_future(self.monitor()), asyncio.ensure_future(self.lagmon())]
        await asyncio.sleep(max(0.0, self.cfg["start"] - time.monotonic()))
        await self.probe()                      # nothing else of ours holds a slot yet
        await asyncio.sleep(0.5)
        tasks.append(asyncio.ensure_future(self.prober_rest()))
        # the first slots: some of each kind, so that each is measured
        order = [("slowread", self.slowread)] * 3 + [("slowloris", self.slowloris)] * 3 + \
                [("silent", self.silent)] * 2
        rest = [("slowread", self.slowread)] * (a["slowread"] - 3) + \
               [("slowloris", self.slowloris)] * (a["slowloris"] - 3) + \
               [("silent", self.silent)] * (a["silent"] - 2)
        for name, fn in order:
            tasks.append(asyncio.ensure_future(self.guarded(name, fn, ATTACKER)))
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
        for name, fn in rest:
            tasks.append(asyncio.ensure_future(self.guarded(name, fn, ATTACKER)))
        for name in ("paced",):
            for src in self.cfg["clients"].get(name, []):
                tasks.append(asyncio.ensure_future(self.guarded(name, self.paced, src)))
        await asyncio.gather(*tasks)

    async def prober_rest(self):
        """Probes under load: 1.5 s after the attackers start, then every 4 s."""
        await asyncio.sleep(1.5)
        while time.monotonic() + 3.5 < self.end:
            await self.probe()
            await asyncio.sleep(4.0)

    async def normal(self):
        await asyncio.sleep(max(0.0, self.cfg["start"] - time.monotonic()))
        fns = {"keepalive": self.keepalive, "bulk": self.bulk, "close": self.close_client,
               "pipeline": self.pipeline,
               "abort": self.abort, "reset": self.reset, "paced": self.paced}
        tasks = [asyncio.ensure_future(self.lagmon())]
        for name, srcs in self.cfg["clients"].items():
            for src in srcs:
                tasks.append(asyncio.ensure_future(self.guarded(name, fns[name], src)))
        await asyncio.gather(*tasks)

    def run(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.attacker() if self.cfg.get("attack") else self.normal())
        finally:
            self.loop.close()
        self.finalize()
        return self.st


def worker_main(cfg_json):
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    cfg = json.loads(cfg_json)
    random.seed(cfg["seed"])
    st = Worker(cfg).run()
    sys.stdout.write(json.dumps(st) + "\n")
    sys.stdout.flush()


# ====================================================================== main

SECONDS = float(os.environ.get("SOAK_SECONDS", "20") or 20)
HTTPD = ht.binary("HTTPD", "./httpd")
T_START = time.monotonic()
WORK = None
_workers = []


def carries_asan(path):
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def scale():
    v = os.environ.get("SOAK_SCALE", "")
    if v:
        return max(0.05, float(v)), "SOAK_SCALE"
    if carries_asan(HTTPD):
        return 0.5, "the binary carries AddressSanitizer"
    return 1.0, "default"


def vm_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
    if not m:
        raise ht.ProcError("no VmRSS for %d" % pid)
    return int(m.group(1))


def wmem_max():
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            return int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        return 4 << 20


def setup_root():
    root = os.path.join(WORK, "root")
    os.makedirs(os.path.join(root, "f"))
    with open(os.path.join(root, "small.txt"), "wb") as f:
        f.write(SMALL)
    for i in range(SMALL_FILES):
        with open(os.path.join(root, "f", "%d.txt" % i), "wb") as f:
            f.write(small_body(i))
    with open(os.path.join(root, "mid.bin"), "wb") as f:
        f.write(random.Random(20261201).randbytes(MID_SIZE) if hasattr(random.Random, "randbytes")
                else os.urandom(MID_SIZE))
    with open(os.path.join(root, "big.bin"), "wb") as f:
        for _ in range(BIG_SIZE // len(PATTERN)):
            f.write(PATTERN)
    for d, dirs, files in os.walk(root):
        os.chmod(d, 0o755)
        for n in files:
            os.chmod(os.path.join(d, n), 0o644)
    return root


def server_binary():
    """A copy an unprivileged uid can surely execute."""
    p = os.path.join(WORK, "httpd-soak")
    shutil.copy(HTTPD, p)
    os.chmod(p, 0o755)
    return p


def get(port, path, src="127.0.0.250", timeout=5.0):
    """One GET with Connection: close on a fresh connection from src:
    -> ht.Resp, or a string saying what went wrong."""
    s = socket.socket()
    try:
        s.settimeout(timeout)
        s.bind((src, 0))
        s.connect((HOST, port))
        s.sendall(b"GET %s HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n" % path.encode())
        data = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            d = s.recv(262144)
            if not d:
                break
            data += d
        r = ht.parse_response(data, eof=True)
        if r is None or not r.complete:
            return "incomplete answer: %s" % ht.esc(data, 200)
        return r
    except (OSError, ht.ProtoError) as e:
        return "%s: %s" % (type(e).__name__, e)
    finally:
        s.close()


class Sampler(threading.Thread):
    """The server's children (live, zombies) and the parent's VmRSS from
    /proc, and (ss) the attacker's ESTABLISHED connections owned by a child."""

    def __init__(self, pid, port):
        super().__init__(daemon=True)
        self.pid, self.port = pid, port
        self.max_live = self.max_zombies = self.samples = self.errors = 0
        self.att_max = self.att_samples = self.att_errors = 0
        self.att_over = []          # samples above the cap
        self.rss = []
        self.last_error = None
        self.stop_evt = threading.Event()

    def attacker_children(self):
        out = subprocess.run(["ss", "-tnpH", "state", "established",
                              "( sport = :%d and dst %s )" % (self.port, ATTACKER)],
                             capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            raise RuntimeError("ss: %s" % out.stderr.strip()[:200])
        n = 0
        for line in out.stdout.splitlines():
            pids = [int(p) for p in re.findall(r"pid=(\d+)", line)]
            if any(p != self.pid for p in pids):
                n += 1
        return n

    def run(self):
        k = 0
        while not self.stop_evt.is_set():
            try:
                kids = ht.children(self.pid)
                live = sum(1 for p in kids if p["state"] not in ("Z", "X"))
                self.max_live = max(self.max_live, live)
                self.max_zombies = max(self.max_zombies, len(kids) - live)
                self.samples += 1
                if k % 4 == 0:
                    self.rss.append((round(time.monotonic() - T_START, 1), vm_rss(self.pid)))
            except Exception as e:
                self.errors += 1
                self.last_error = e
            if k % 2 == 0:
                try:
                    n = self.attacker_children()
                    self.att_max = max(self.att_max, n)
                    self.att_samples += 1
                    if n > PER_ADDR:
                        self.att_over.append((round(time.monotonic() - T_START, 1), n))
                except Exception as e:
                    self.att_errors += 1
                    self.last_error = e
            k += 1
            self.stop_evt.wait(0.25)

    def finish(self):
        self.stop_evt.set()
        self.join(15)


def kill_workers():
    for p in _workers:
        if p.poll() is None:
            ht.kill_quietly(p.pid)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


def watchdog():
    ok(False, "soak.py finished within its budget (%.0f s; the watchdog fired)" % (SECONDS + 60))
    try:
        kill_workers()
        ht.kill_all()
        if WORK:
            shutil.rmtree(WORK, ignore_errors=True)
    finally:
        sys.stdout.flush()
        os._exit(0)


def merge(results):
    tot = {}

    def add(dst, src):
        for k, v in src.items():
            if isinstance(v, dict):
                add(dst.setdefault(k, {}), v)
            elif isinstance(v, list):
                dst.setdefault(k, []).extend(v)
            else:
                dst[k] = dst.get(k, 0) + v
    for r in results:
        add(tot, r)
    return tot


def spread(xs):
    if not xs:
        return "none"
    xs = sorted(xs)
    return "n=%d min %.2f median %.2f max %.2f s" % (len(xs), xs[0], xs[len(xs) // 2], xs[-1])


def plan(factor):
    """Client kinds and counts; normal clients two to an address."""
    def n(x):
        return max(1, int(round(x * factor)))
    normal = {"keepalive": n(155), "bulk": n(5), "close": n(80), "pipeline": n(70), "abort": n(40),
              "reset": n(40)}
    attack = {"slowloris": max(4, n(50)), "slowread": max(4, n(25)), "silent": max(3, n(25))}
    paced = n(10)
    return normal, attack, paced


def addresses():
    i = 0
    while True:
        yield "127.0.%d.%d" % (1 + i // 250, 1 + i % 250)
        i += 1


def main():
    global WORK
    if not os.access(HTTPD, os.X_OK):
        ok(False, "soak: server binary %s exists and is executable" % HTTPD)
        return
    if not ht.have("ss"):
        ht.skip("soak test (ss from iproute2 measures the server side)", "ss not installed (iproute2)")
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 8192 if hard == resource.RLIM_INFINITY else min(8192, hard)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as e:
            diag("cannot raise RLIMIT_NOFILE: %s" % e)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    factor, why = scale()
    normal, attack, npaced = plan(factor)
    total = sum(normal.values()) + sum(attack.values()) + npaced
    diag("soak: %g s, %d concurrent clients (scale %g: %s): %s; paced %d; attacker %s; "
         "+ probes of %d" % (SECONDS, total, factor, why, normal, npaced, attack, 3 * PER_ADDR))
    WORK = tempfile.mkdtemp(prefix="httpd-soak-")
    os.chmod(WORK, 0o755)
    wd = threading.Timer(SECONDS + 60, watchdog)
    wd.daemon = True
    wd.start()
    srv = None
    sampler = None
    try:
        root = setup_root()
        args = ["-r", root, "-l", "-", "-s", "-c", str(CAP), "-C", str(PER_ADDR), "-t", str(IDLE),
                "-T", str(HEADT), "-m", str(MIN_RATE), "-n", str(MAX_REQ), "-L", str(LIFETIME),
                "-g", str(GRACE)]
        wrap = []
        if os.geteuid() == 0:
            if ht.have("setpriv"):
                wrap = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
                try:
                    import grp
                    grp.getgrnam("nogroup")
                except KeyError:
                    wrap = ["setpriv", "--reuid=nobody", "--regid=nobody", "--clear-groups"]
            else:
                diag("setpriv not installed: the server runs as root")
        log = os.path.join(WORK, "access.log")
        srv = ht.Server(ht.httpd_argv(server_binary(), *args), name="soak", wrap=wrap, stdout=log,
                        new_session=True, stop_wait=GRACE + 5)
        if not ok(srv.start(), "soak: the server starts%s" % (" as nobody" if wrap else ""), srv.error):
            return
        pid, port = srv.pid, srv.port
        rss_start = vm_rss(pid)
        # warm-up: every file once, a 503 from the per-address cap, then idle
        warm = [get(port, p) for p in ["/small.txt", "/mid.bin", "/f/0.txt"]]
        held = []
        for _ in range(PER_ADDR + 2):
            s = socket.socket()
            s.bind((ATTACKER, 0))
            s.connect((HOST, port))
            held.append(s)
        time.sleep(0.3)
        for s in held:
            s.close()
        ok(all(isinstance(r, ht.Resp) and r.status == 200 for r in warm),
           "soak: warm-up requests answered 200", [str(r)[:200] for r in warm])
        ht.wait_for(lambda: ht.count_live(pid) == 0 and ht.count_zombies(pid) == 0, 3.0)
        time.sleep(1.2)                     # the 503'd connections leave the busy set
        idle_fds = ht.fd_count(pid)
        rss_before = vm_rss(pid)
        diag("parent: VmRSS %d KiB at start, %d KiB after the warm-up (the baseline); %d descriptors idle"
             % (rss_start, rss_before, idle_fds))

        # ---- the load
        start = time.monotonic() + 1.0
        end = start + SECONDS
        addr = addresses()
        procs = [{"clients": {}} for _ in range(3)]
        k = 0
        for name, cnt in normal.items():
            for i in range(cnt):
                if i % 2 == 0:
                    a = next(addr)
                procs[k % 3]["clients"].setdefault(name, []).append(a)
                k += 1
        att_cfg = {"clients": {"paced": [next(addr) for _ in range(npaced)]}, "attack": attack}
        procs.append(att_cfg)
        sampler = Sampler(pid, port)
        sampler.start()
        for i, pc in enumerate(procs):
            pc.update({"port": port, "root": root, "start": start, "end": end, "seed": 1000 + i,
                       "wmem_max": wmem_max()})
            _workers.append(subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker",
                                              json.dumps(pc)], stdout=subprocess.PIPE,
                                             stdin=subprocess.DEVNULL, close_fds=True))
        results, bad = [], []
        for p in _workers:
            try:
                out, _ = p.communicate(timeout=max(5.0, end + 15 - time.monotonic()))
                results.append(json.loads(out.decode().strip().splitlines()[-1]))
            except (subprocess.TimeoutExpired, ValueError, IndexError) as e:
                bad.append("worker %d: %s (exit %r)" % (p.pid, type(e).__name__, p.poll()))
        kill_workers()
        sampler.finish()
        load_end = time.monotonic()
        ok(not bad, "soak: every load process ran to its end and reported", bad)
        if not results:
            return
        st = merge(results)
        att = st["att"]

        # ---- figures
        fails = st.get("failures", {})
        diag("connections made %d; normal requests sent %d, answered 200 and checked %d; "
             "abandoned at the end %d" % (st["connections"], st["requests_sent"], st["answered"],
                                          st["abandoned"]))
        kinds = st["kinds"]
        diag("connections by client kind: %s" % {k: v for k, v in kinds.items()
                                                 if k != "pipelined" and not k.endswith("_answered")})
        diag("answers by client kind: %s; pipelined requests %d; kept-alive connections the server "
             "closed saying so (-n/-L) %d, requests sent again %d, idle races (idle -t by the "
             "kernel's clock) %d" % ({k[:-9]: v for k, v in kinds.items() if k.endswith("_answered")},
                                     kinds.get("pipelined", 0), st["server_close"], st["resent"],
                                     st["idle_race"]))
        diag("aborted mid-response %d, reset mid-request %d, reset mid-response %d; paced readers: "
             "%d started, %d done, %.1f MiB read" % (st["aborts"], st["resets_req"], st["resets_resp"],
                                                      st["paced"]["started"], st["paced"]["done"],
                                                      st["paced"]["bytes"] / 1048576.0))
        diag("failures by kind: %s" % (fails or "none"))
        diag("our own loops: longest stall per process %s s; failures excused by a stall of >= %.1f s "
             "(a client that did not read for -t may be cut): %s" % (
                 st["lag_max"], STALL_EXCUSE, st["excused"] or "none"))
        if st["long_stalls"]:
            diag("our own loops stalled > 1 s at (s into the load, s): %s" % sorted(st["long_stalls"])[:12])
        for l in st["excused_samples"][:4]:
            diag("  excused: " + l[:300])
        diag("attacker: 503 %d (latency %s), held: %s, cut: %s, errors: %s" % (
            att["503"], spread(att["503_latency"]), att["held"], att["cut_how"], att["errors"] or "none"))
        if att["other"]:
            diag("attacker notes: %s" % att["other"][:6])
        if att["early"]:
            diag("attacker connections held and cut before -T: %s" % att["early"][:8])
        for k in ("slowloris", "silent", "slowread"):
            diag("attacker %s cut after %s (less our stalls; as measured: max %s s)" % (
                k, spread(att["cut"][k]), max(att["cut_raw"][k]) if att["cut_raw"][k] else "-"))
        diag("max live children %d (cap %d), zombies seen at most %d at once; %d samples (%d failed)"
             % (sampler.max_live, CAP, sampler.max_zombies, sampler.samples, sampler.errors))
        diag("attacker connections held by children: at most %d (cap -C %d) in %d ss samples (%d failed)"
             % (sampler.att_max, PER_ADDR, sampler.att_samples, sampler.att_errors))

        # ---- assertions on the load
        ok(st["answered"] >= 200 * factor * max(1.0, SECONDS / 20.0) and
           all(st["kinds"].get(k, 0) > 0 for k in list(normal) + ["paced", "pipelined"]) and
           st["aborts"] > 0 and st["resets_req"] > 0 and st["resets_resp"] > 0,
           "soak: the load ran (%d normal requests answered; every client kind active)" % st["answered"],
           "kinds %s, aborts %d, resets %d/%d" % (st["kinds"], st["aborts"], st["resets_req"], st["resets_resp"]))
        for k in list(normal) + ["paced"]:
            f = fails.get(k, {})
            what = {"keepalive": "keep-alive clients", "close": "Connection: close clients",
                    "bulk": "downloads of the 50 MiB file at 6 MiB/s on a kept-alive connection",
                    "pipeline": "pipelining clients (answers in order)",
                    "abort": "clients that abort mid-response (the part they read)",
                    "reset": "clients that reset (the part they read)",
                    "paced": "readers of the 50 MiB file at 20 x -m"}[k]
            ok(not f, "soak: %s: every request answered 200 with the right body (%d failures)"
               % (what, sum(f.values())),
               "failures by kind: %s\n%s" % (f, "\n".join(st["failure_samples"].get(k, []))))
        ok(sampler.att_samples > 0 and sampler.att_errors == 0 and not sampler.att_over and
           sampler.att_max == PER_ADDR,
           "soak: the attacker address never held more than -C %d children (server side, seen at "
           "the cap: %d)" % (PER_ADDR, sampler.att_max),
           "samples %d, failed %d (%s), above the cap: %s" % (
               sampler.att_samples, sampler.att_errors, sampler.last_error, sampler.att_over[:10]))
        probes = att["probes"]
        first = probes[0] if probes else None
        ok(first is not None and first["n"] == 3 * PER_ADDR and first["held"] == PER_ADDR and
           first["503"] == first["n"] - PER_ADDR,
           "soak: the first probe (%d fresh attacker connections, nothing else of its address): "
           "exactly -C held, the rest 503 with Retry-After" % (3 * PER_ADDR), first)
        later = probes[1:]
        ok(later and all(p["held"] <= PER_ADDR and p["503"] >= p["n"] - PER_ADDR and
                         p["max_latency"] <= 2.0 for p in later),
           "soak: %d probes under load: at most -C held, the others 503 with Retry-After within 2 s"
           % len(later), later)
        lat = att["503_latency"]
        ok(att["503"] > 0 and max(lat) <= 2.0 and att["503_no_retry_after"] == 0,
           "soak: attacker connections beyond -C answered 503 with Retry-After: 1 at once "
           "(%s)" % spread(lat), "without Retry-After: %d" % att["503_no_retry_after"])
        margin = 2.0
        for k, bound in (("slowloris", HEADT + margin), ("silent", HEADT + margin)):
            cuts = att["cut"][k]
            ok(att["held"][k] > 0 and cuts and max(cuts) <= bound,
               "soak: held %s connections cut within -T %d + %.0f s (%s)" % (k, HEADT, margin, spread(cuts)),
               "held %d, cut times %s" % (att["held"][k], sorted(cuts)[-10:]))
        cuts = att["cut"]["slowread"]
        bounds = att["slowread_bound"]
        sb = (max(bounds) if bounds else 0) + margin + 1.0      # + 1 s of ss sampling
        ok(att["held"]["slowread"] > 0 and cuts and max(cuts) <= sb,
           "soak: 1 KB/s readers of the 50 MiB file cut within -t + (rcvbuf + 64 KiB) / -m + %.0f s "
           "= %.1f s (%s)" % (margin + 1.0, sb, spread(cuts)),
           "held %d, cut times %s, other: %s" % (att["held"]["slowread"], sorted(cuts)[-10:], att["other"][:5]))
        ok(sampler.errors == 0 and sampler.samples > 0 and sampler.max_live > 0 and
           sampler.max_live * 4 < CAP * 3,
           "soak: the children stayed below the pressure mark (3/4 of -c %d): at most %d live"
           % (CAP, sampler.max_live), "samples %d, failed %d (%s)" % (sampler.samples, sampler.errors,
                                                                    sampler.last_error))

        # ---- afterwards
        ht.settle_checks(pid, "soak: after the load", idle_fds=idle_fds, timeout=3.0)
        rss_after = vm_rss(pid)
        diag("parent VmRSS: %d KiB before, %d KiB after (%+d KiB); samples (s, KiB): %s" % (
            rss_before, rss_after, rss_after - rss_before, sampler.rss[::max(1, len(sampler.rss) // 12)]))
        ok(rss_after - rss_before <= RSS_SLACK,
           "soak: the parent's VmRSS stays flat (%d -> %d KiB, at most +%d)" % (rss_before, rss_after, RSS_SLACK))
        final = [(p, get(port, p, "127.0.3.1")) for p in ["/small.txt", "/mid.bin", "/f/7.txt"]]
        files = {"/small.txt": SMALL, "/f/7.txt": small_body(7)}
        with open(os.path.join(root, "mid.bin"), "rb") as f:
            files["/mid.bin"] = f.read()
        ok(all(isinstance(r, ht.Resp) and r.status == 200 and r.body == files[p] for p, r in final),
           "soak: the server still answers afterwards", [(p, str(r)[:200]) for p, r in final])
        err = srv.stderr_text()
        crashed = [l for l in err.splitlines() if "killed by signal" in l]
        ok(srv.alive() and not crashed, "soak: the server lives, no child killed by a signal",
           "alive %s; %s" % (srv.alive(), crashed[:5]))
        events = [l for l in err.splitlines() if not l.startswith("httpd: listening")]
        if events:
            diag("server stderr (%d lines), first ones:" % len(events))
            for l in events[:6]:
                diag("  " + l[:200])
        # the access log: statuses and rejection sites
        statuses, sites = {}, {}
        try:
            with open(log, "rb") as f:
                for line in f:
                    m = re.search(rb'" (\d{3}) \S+ (LOG:\S+|-)\s*$', line)
                    if m:
                        statuses[m.group(1).decode()] = statuses.get(m.group(1).decode(), 0) + 1
                        if m.group(2) != b"-":
                            sites[m.group(2).decode()] = sites.get(m.group(2).decode(), 0) + 1
        except OSError as e:
            diag("cannot read the access log: %s" % e)
        diag("access log: statuses %s; sites %s" % (dict(sorted(statuses.items())),
                                                   dict(sorted(sites.items(), key=lambda x: -x[1])[:14])))
        pressed = {k: v for k, v in sites.items() if re.search(r"\b(413|422)\b", k)}
        ok(not pressed, "soak: no pool-pressure shedding (LOG:413/422) in the access log", pressed)
        diag("load %.1f s, whole run %.1f s" % (load_end - start, time.monotonic() - T_START))
    finally:
        kill_workers()
        if sampler is not None and sampler.is_alive():
            sampler.finish()
        if srv is not None:
            rc = srv.stop()
            if rc not in (0, None):
                diag("server exit status %r" % rc)
        ht.kill_all()
        wd.cancel()
        if WORK:
            shutil.rmtree(WORK, ignore_errors=True)
    ht.finish("soak", T_START)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2])
        sys.exit(0)
    try:
        main()
    except Exception as e:          # never a non-zero exit
        import traceback
        ok(False, "soak: unexpected error %r" % e, traceback.format_exc())
    sys.stdout.flush()
    os._exit(0)
