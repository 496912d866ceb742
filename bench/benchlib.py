#!/usr/bin/env python3
"""benchlib.py -- the python half of bench/run.sh (stdlib only).

Subcommands (run.sh calls them; each is usable alone):
  freeport                      print a free TCP port on 127.0.0.1
  waitport PORT SECONDS         exit 0 once 127.0.0.1:PORT accepts a connection
  tree PID                      print PID and its live descendants, one a line
  cell OPTIONS                  one wrk run against one server, with sampling;
                                appends one JSON line to --out
  report FILE [--mode M]        print one table per scenario from the JSON lines

Process accounting (see bench/README.md):
  - the tree of a server is its root PID and every descendant, found through
    /proc/PID/task/PID/children (main threads only: none of the servers here
    forks from another thread);
  - CPU = sum over the live tree of utime+stime+cutime+cstime: a child that
    exited and was reaped is in its parent's cutime/cstime, a live or zombie one
    in its own utime/stime, so nothing is counted twice once the tree is quiet
    (run.sh snapshots before a run and after the tree has settled);
  - procs: live (non-zombie) processes in the tree, max of samples every 100 ms;
  - zombies: children in state Z, max of samples every 50 ms;
  - PSS: /proc/PID/smaps_rollup, every 500 ms: the root, and the largest of the
    other live processes (a forked child, an nginx worker, a CGI).
"""
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- /proc

def _read(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 65536)
    except OSError:
        return None
    finally:
        os.close(fd)


def children(pid):
    data = _read(f"/proc/{pid}/task/{pid}/children")
    if not data:
        return []
    return [int(x) for x in data.split()]


def stat(pid):
    """(state, utime+stime, cutime+cstime) in clock ticks, or None if gone."""
    data = _read(f"/proc/{pid}/stat")
    if not data:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    # rest[0] is field 3 (state); field n is rest[n - 3]
    return (rest[0].decode(), int(rest[11]) + int(rest[12]),
            int(rest[13]) + int(rest[14]))


def tree(root):
    """[root, descendants...] (zombies included), breadth first."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children(pid))
    return out


def pss_kib(pid):
    data = _read(f"/proc/{pid}/smaps_rollup")
    if not data:
        return None
    m = re.search(rb"^Pss:\s+(\d+) kB", data, re.M)
    return int(m.group(1)) if m else None


def cpu_ticks(root):
    total = 0
    for pid in tree(root):
        st = stat(pid)
        if st:
            total += st[1] + st[2]
    return total


def live_count(root):
    """(live non-zombie processes in the tree, zombies in the tree)."""
    live = zomb = 0
    for pid in tree(root):
        st = stat(pid)
        if st is None:
            continue
        if st[0] in ("Z", "X"):
            zomb += 1
        else:
            live += 1
    return live, zomb


class Sampler(threading.Thread):
    """Samples a server tree until stop(): zombies among the root's children
    every 50 ms, live processes in the tree every 100 ms, PSS every 500 ms."""

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root = root
        self.halt = threading.Event()
        self.procs_max = 0
        self.zombies_max = 0
        self.parent_pss = None
        self.child_pss = None
        self.samples = 0

    def run(self):
        tick = 0
        next_t = time.monotonic()
        while not self.halt.is_set():
            root = self.root
            if tick % 2 == 0:            # every 100 ms: the whole tree
                pids = tree(root)
                live = []
                zomb = 0
                for pid in pids:
                    st = stat(pid)
                    if st is None:
                        continue
                    if st[0] in ("Z", "X"):
                        zomb += 1
                    else:
                        live.append(pid)
                self.procs_max = max(self.procs_max, len(live))
                self.zombies_max = max(self.zombies_max, zomb)
                if tick % 10 == 0:       # every 500 ms: memory
                    p = pss_kib(root)
                    if p is not None:
                        self.parent_pss = max(self.parent_pss or 0, p)
                    for pid in live:
                        if pid == root:
                            continue
                        p = pss_kib(pid)
                        if p is not None:
                            self.child_pss = max(self.child_pss or 0, p)
            else:                        # every 50 ms: zombies among the children
                zomb = 0
                for pid in children(root):
                    st = stat(pid)
                    if st is not None and st[0] in ("Z", "X"):
                        zomb += 1
                self.zombies_max = max(self.zombies_max, zomb)
            self.samples += 1
            tick += 1
            next_t += 0.05
            delay = next_t - time.monotonic()
            if delay > 0:
                self.halt.wait(delay)
            else:
                next_t = time.monotonic()

    def stop(self):
        self.halt.set()
        self.join()


# ---------------------------------------------------------------- wrk

_TIME = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_BIN = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}


def parse_wrk(text):
    """Requests/sec, Transfer/sec (MiB/s), p99 (ms), requests, errors."""
    r = {"rps": None, "mibps": None, "p99_ms": None, "requests": None,
         "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"^Transfer/sec:\s+([\d.]+)([KMGT]?)B", text, re.M)
    if m:
        r["mibps"] = float(m.group(1)) * _BIN[m.group(2)] / 1024 ** 2
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    if m:
        r["p99_ms"] = float(m.group(1)) * _TIME[m.group(2)]
    m = re.search(r"^\s+(\d+) requests in ", text, re.M)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        for k, v in zip(("connect", "read", "write", "timeout"), m.groups()):
            r["errors"][k] = int(v)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r["errors"]["non2xx"] = int(m.group(1))
    return r


# ---------------------------------------------------------------- cell

def settle(root, base_live, limit=5.0):
    """Waits until the tree is back to base_live processes and has no zombie
    (a forking server's children exit when wrk closes their connections)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        live, zomb = live_count(root)
        if live <= base_live and zomb == 0:
            return True
        time.sleep(0.02)
    return False


def cmd_cell(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="benchlib.py cell")
    ap.add_argument("--out", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--title", default="")
    ap.add_argument("--server", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--conns", type=int, required=True)
    ap.add_argument("--duration", type=int, required=True)
    ap.add_argument("--run", type=int, default=1)
    ap.add_argument("--close", action="store_true", help="wrk -H 'Connection: close'")
    ap.add_argument("--wrk-cpu", default=None, help="taskset -c for wrk (and the sampler)")
    ap.add_argument("--warmup", action="store_true", help="run wrk, record nothing")
    a = ap.parse_args(argv)

    if a.wrk_cpu is not None:
        os.sched_setaffinity(0, {int(c) for c in a.wrk_cpu.split(",")})
    wrk = ["wrk", "-t1", f"-c{a.conns}", f"-d{a.duration}s", "--latency"]
    if a.close:
        wrk += ["-H", "Connection: close"]
    wrk.append(a.url)
    if a.wrk_cpu is not None:
        wrk = ["taskset", "-c", a.wrk_cpu] + wrk

    if os.path.exists(f"/proc/{a.pid}") is False:
        print(f"bench: {a.server}: process {a.pid} is gone", file=sys.stderr)
        return 1
    if a.warmup:
        subprocess.run(wrk, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=a.duration + 30)
        return 0

    base_live, _ = live_count(a.pid)
    settle(a.pid, base_live, 2.0)
    base_live, _ = live_count(a.pid)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    rc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = cpu_ticks(a.pid)
    sampler = Sampler(a.pid)
    sampler.start()
    t0 = time.monotonic()
    try:
        p = subprocess.run(wrk, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=a.duration + 60)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        rc = -1
    wall = time.monotonic() - t0
    rc1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler.stop()
    settled = settle(a.pid, base_live)
    cpu1 = cpu_ticks(a.pid)
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    alive = os.path.exists(f"/proc/{a.pid}")

    w = parse_wrk(out)
    rec = {
        "scenario": a.scenario, "title": a.title, "server": a.server, "run": a.run,
        "conns": a.conns, "duration": a.duration, "close": a.close,
        "wrk_rc": rc, "alive": alive, "settled": settled,
        **w,
        "cpu_s": (cpu1 - cpu0) / CLK_TCK,
        "cpu_us_per_req": ((cpu1 - cpu0) / CLK_TCK * 1e6 / w["requests"]
                           if w["requests"] else None),
        "procs": sampler.procs_max,
        "zombies": sampler.zombies_max,
        "parent_pss_kib": sampler.parent_pss,
        "child_pss_kib": sampler.child_pss,
        "wrk_cpu_pct": 100.0 * ((rc1.ru_utime + rc1.ru_stime) -
                                (rc0.ru_utime + rc0.ru_stime)) / max(wall, 1e-9),
        "sampler_cpu_pct": 100.0 * ((ru1.ru_utime + ru1.ru_stime) -
                                    (ru0.ru_utime + ru0.ru_stime)) / max(wall, 1e-9),
    }
    if w["rps"] is None or rc != 0:
        rec["wrk_output"] = out[-2000:]
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    if rec["rps"] is None:
        print(f"bench: {a.scenario}/{a.server}: wrk gave no result (rc {rc}):\n{out[-800:]}",
              file=sys.stderr)
    if not alive:
        print(f"bench: {a.scenario}/{a.server}: the server died during the run", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- report

OURS = ("fork", "prefork")
PEERS = ("nginx", "lighttpd", "forkhello")
ORDER = OURS + PEERS


def _med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def _fmt(v, spec):
    if v is None:
        return "-"
    return format(v, spec)


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


COLS = [  # key, header, width, format
    ("rps", "req/s", 9, ".0f"),
    ("mibps", "MB/s", 8, ".1f"),
    ("p99_ms", "p99 ms", 8, ".2f"),
    ("cpu_us_per_req", "CPU us/req", 10, ".1f"),
    ("procs", "procs", 5, ".0f"),
    ("parent_pss_kib", "parent PSS KiB", 14, ".0f"),
    ("child_pss_kib", "child PSS KiB", 13, ".0f"),
    ("zombies", "zombies", 7, ".0f"),
    ("wrk_cpu_pct", "wrk CPU%", 8, ".0f"),
]
SW = 16  # width of the server column
RATIO_KEYS = ("rps", "mibps", "p99_ms", "cpu_us_per_req")


def cmd_report(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="benchlib.py report")
    ap.add_argument("file")
    ap.add_argument("--mode", default="")
    a = ap.parse_args(argv)
    recs = []
    with open(a.file) as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    scen_order, titles = [], {}
    for r in recs:
        if r["scenario"] not in titles:
            scen_order.append(r["scenario"])
            titles[r["scenario"]] = r.get("title") or r["scenario"]
    sampler = [r["sampler_cpu_pct"] for r in recs if r.get("sampler_cpu_pct") is not None]

    for sc in scen_order:
        rows = {}
        for srv in ORDER + tuple(sorted({r["server"] for r in recs} - set(ORDER))):
            runs = [r for r in recs if r["scenario"] == sc and r["server"] == srv]
            if not runs:
                continue
            row = {k: _med([r.get(k) for r in runs]) for k, *_ in COLS}
            err = {}
            for r in runs:
                for k, v in (r.get("errors") or {}).items():
                    err[k] = err.get(k, 0) + v
                if r.get("rps") is None:
                    err["norun"] = err.get("norun", 0) + 1
                if not r.get("alive", True):
                    err["died"] = err.get("died", 0) + 1
            row["errors"] = ",".join(f"{k}={v}" for k, v in err.items() if v) or "0"
            row["n"] = len(runs)
            rows[srv] = row
        nruns = max(r["n"] for r in rows.values())
        print()
        print(f"== {sc}: {titles[sc]}  ({nruns} run{'s' if nruns > 1 else ''}"
              f"{', median' if nruns > 1 else ''}) ==")
        head = f"{'server':<{SW}}" + "".join(f" {h:>{w}}" for _, h, w, _f in COLS) + "  errors"
        print(head)
        for srv, row in rows.items():
            print(f"{srv:<{SW}}" + "".join(f" {_fmt(row[k], f):>{w}}" for k, _h, w, f in COLS)
                  + f"  {row['errors']}")
        pairs = [(o, p) for o in OURS if o in rows for p in PEERS if p in rows]
        if pairs:
            for o, p in pairs:
                name = f"{o}/{p}"
                cells = []
                for k, _h, w, _f in COLS:
                    if k in RATIO_KEYS:
                        cells.append(f" {_fmt(_ratio(rows[o][k], rows[p][k]), '.2f'):>{w}}")
                    else:
                        cells.append(f" {'':>{w}}")
                print(f"{name:<{SW}}" + "".join(cells))
    if recs:
        print()
        print("ratios: ours/peer; for req/s and MB/s above 1 means ours is faster, for p99 "
              "and CPU us/req below 1 means ours is cheaper.")
        if sampler:
            print(f"sampler (python, on the client side) used {statistics.mean(sampler):.1f}% "
                  f"of a CPU on average, {max(sampler):.1f}% at most.")
    return 0


# ---------------------------------------------------------------- small ones

def cmd_freeport(argv):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
    return 0


def cmd_waitport(argv):
    port, limit = int(argv[0]), float(argv[1])
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return 0
        except OSError:
            time.sleep(0.05)
    return 1


def cmd_tree(argv):
    root = int(argv[0])
    for pid in tree(root):
        st = stat(pid)
        if st and st[0] not in ("Z", "X"):
            print(pid)
    return 0


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmds = {"cell": cmd_cell, "report": cmd_report, "freeport": cmd_freeport,
            "waitport": cmd_waitport, "tree": cmd_tree}
    fn = cmds.get(sys.argv[1])
    if fn is None:
        print(__doc__, file=sys.stderr)
        return 2
    return fn(sys.argv[2:])


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # die of SIGINT, so that run.sh (bash) sees it and runs its trap
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
