#!/usr/bin/env python3
"""The symlink race: a local user who can rename entries inside the document
root swaps a directory for a symlink (renameat2(RENAME_EXCHANGE)) in a loop
while a keep-alive client asks for /dir/file.  Not one byte from outside the
root, and no dotfile, may ever be served.

The server runs unprivileged (nobody); the swapper runs as the owner of the
root.  Output: ok / not ok lines.  Environment: HTTPD (the binary),
RACE_SECONDS (default 3).
"""
import ctypes
import ctypes.util
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HTTPD = os.path.abspath(os.environ.get("HTTPD", "./httpd"))
SECONDS = float(os.environ.get("RACE_SECONDS", "3"))
INSIDE = b"INSIDE-FILE-ok\n"
OUTSIDE = b"OUTSIDE-SECRET-5c1e\n"
HIDDEN = b"HIDDEN-DOTFILE-9a2b\n"
RENAME_EXCHANGE = 2
COUNTS = [0, 0]


def ok(cond, desc):
    COUNTS[0 if cond else 1] += 1
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    return cond


def start(root):
    args = [HTTPD, "-a", "127.0.0.1", "-p", "0", "-r", root, "-l", "/dev/null", "-t", "5"]
    pre = []
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        pre = ["setpriv", "--reuid", str(nobody.pw_uid), "--regid", str(nobody.pw_gid),
               "--clear-groups", "--"]
    p = subprocess.Popen(pre + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line = p.stderr.readline().decode()
    m = re.search(r"port (\d+)", line)
    if not m:
        p.kill()
        p.wait()
        raise RuntimeError("server did not start: " + line)
    return p, int(m.group(1))


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def swapper(root, pairs, seconds):
    """Child process: RENAME_EXCHANGE each pair back and forth until time is up."""
    pid = os.fork()
    if pid != 0:
        return pid
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        fn = libc.renameat2
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        dfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            for a, b in pairs:
                fn(dfd, a.encode(), dfd, b.encode(), RENAME_EXCHANGE)
                n += 1
        os._exit(0 if n > 0 else 1)
    except BaseException:
        os._exit(2)


def hammer(port, paths, seconds):
    """Pipelined keep-alive GETs for `seconds`; returns (responses, bodies seen)."""
    req = b"".join(b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % p.encode() for p in paths) * 20
    nreq = len(paths) * 20
    end = time.monotonic() + seconds
    responses = 0
    leaked = {"outside": 0, "hidden": 0}
    statuses = {}
    while time.monotonic() < end:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(req)
            buf = b""
            got = 0
            while got < nreq:
                data = s.recv(262144)
                if not data:
                    break
                buf += data
                # count complete responses (every response carries Content-Length)
                while True:
                    h = buf.find(b"\r\n\r\n")
                    if h < 0:
                        break
                    head = buf[:h].decode("latin-1")
                    m = re.search(r"(?im)^content-length: *(\d+)", head)
                    n = int(m.group(1)) if m else 0
                    if len(buf) < h + 4 + n:
                        break
                    body = buf[h + 4:h + 4 + n]
                    st = head.split(" ", 2)[1]
                    statuses[st] = statuses.get(st, 0) + 1
                    if OUTSIDE.strip() in body:
                        leaked["outside"] += 1
                    if HIDDEN.strip() in body:
                        leaked["hidden"] += 1
                    buf = buf[h + 4 + n:]
                    got += 1
            responses += got
            if OUTSIDE.strip() in buf:
                leaked["outside"] += 1
            if HIDDEN.strip() in buf:
                leaked["hidden"] += 1
        finally:
            s.close()
    return responses, leaked, statuses


def main():
    top = tempfile.mkdtemp(prefix="httpd-race-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "root")
    outside = os.path.join(top, "outside")
    for d in (root, outside, os.path.join(root, "dir"), os.path.join(root, ".hidden")):
        os.mkdir(d, 0o755)
    for path, data in ((os.path.join(root, "dir", "file"), INSIDE),
                       (os.path.join(outside, "file"), OUTSIDE),
                       (os.path.join(root, ".hidden", "file"), HIDDEN)):
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
    os.symlink("../outside", os.path.join(root, "out"))    # leads out of the root
    os.symlink(".hidden", os.path.join(root, "dot"))        # leads to a dotfile
    os.mkdir(os.path.join(root, "dir2"), 0o755)
    with open(os.path.join(root, "dir2", "file"), "wb") as f:
        f.write(INSIDE)
    os.chmod(os.path.join(root, "dir2", "file"), 0o644)
    p, port = start(root)
    try:
        # control: the symlinks themselves are refused, the real file served
        r, leaked, st = hammer(port, ["dir/file", "out/file", "dot/file"], 0.01)
        ok(r >= 3 and st.get("200", 0) >= 1 and leaked == {"outside": 0, "hidden": 0},
           "control: /dir/file served, /out/file and /dot/file refused (%s)" % st)
        pid = swapper(root, [("dir", "out"), ("dir2", "dot")], SECONDS)
        r, leaked, st = hammer(port, ["dir/file", "dir2/file"], SECONDS)
        _, wst = os.waitpid(pid, 0)
        ok(os.WIFEXITED(wst) and os.WEXITSTATUS(wst) == 0, "the swapper ran renameat2 in a loop")
        ok(r > 1000, "%d responses during %.1f s of swapping (%s)" % (r, SECONDS, st))
        ok(st.get("200", 0) > 0 and st.get("404", 0) > 0,
           "the race was live: some requests found the file, some a refused symlink")
        ok(leaked["outside"] == 0, "zero responses from outside the root (%d)" % leaked["outside"])
        ok(leaked["hidden"] == 0, "zero dotfile responses (%d)" % leaked["hidden"])
    finally:
        stop(p)
        shutil.rmtree(top, ignore_errors=True)
    print("# race: %d passed, %d failed" % tuple(COUNTS))


if __name__ == "__main__":
    main()
