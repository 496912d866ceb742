#!/usr/bin/env python3
"""tests/api.py -- the public API end to end, through examples/hello.c.

A C handler vendored with -DHTTPD_NO_MAIN: request bodies read with
httpd_read_body (Content-Length, chunked, 100-continue), streamed responses
(chunked for HTTP/1.1, close-delimited for 1.0), and the static handler as a
fallback.  Prints one "ok - ..." / "not ok - ..." line per assertion."""
import os, re, signal, socket, subprocess, sys, tempfile, time

HELLO = os.environ.get("HELLO", "build/default/hello")
failures = 0


def ok(cond, desc):
    global failures
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    if not cond:
        failures += 1
    return cond


def start(tmp):
    err = open(os.path.join(tmp, "err"), "w+")
    p = subprocess.Popen([os.path.abspath(HELLO), "0"], cwd=tmp, stdout=subprocess.DEVNULL,
                         stderr=err)
    for _ in range(100):
        err.seek(0)
        m = re.search(r"port (\d+)", err.read())
        if m:
            return p, int(m.group(1))
        time.sleep(0.05)
    p.kill()
    p.wait()
    raise RuntimeError("hello did not start")


def conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def read_response(s, buf=b"", head_only=False):
    """Reads one response; returns (status, headers dict, body, rest)."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed before head: %r" % buf[:200])
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    if head_only or status in (100, 204, 304):
        return status, hdrs, b"", buf
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        while len(buf) < n:
            d = s.recv(65536)
            if not d:
                raise EOFError("short body")
            buf += d
        return status, hdrs, buf[:n], buf[n:]
    if hdrs.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in buf:
                buf += s.recv(65536)
            line, buf = buf.split(b"\r\n", 1)
            n = int(line.split(b";")[0], 16)
            if n == 0:
                while not buf.startswith(b"\r\n"):
                    buf += s.recv(65536)
                return status, hdrs, body, buf[2:]
            while len(buf) < n + 2:
                buf += s.recv(65536)
            body += buf[:n]
            buf = buf[n + 2:]
    while True:                       # close-delimited
        d = s.recv(65536)
        if not d:
            return status, hdrs, buf, b""
        buf += d


def closed(s, timeout=3):
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def request(port, raw):
    s = conn(port)
    s.sendall(raw)
    r = read_response(s)
    s.close()
    return r


def main():
    tmp = tempfile.mkdtemp()
    os.mkdir(os.path.join(tmp, "www"))
    with open(os.path.join(tmp, "www", "f.txt"), "w") as f:
        f.write("static file\n")
    p, port = start(tmp)
    try:
        st, h, body, _ = request(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        ok(st == 200 and body == b"Hello, world!\n", "a C handler answers through httpd_respond")
        ok(h.get("server", "").startswith("httpd/") and "date" in h, "Server and Date added by the server")
        st, h, body, _ = request(port, b"GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        ok(st == 200 and body == b"static file\n", "httpd_static works as a fallback handler")

        st, h, body, _ = request(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc123")
        ok(st == 200 and body == b"abc123", "Content-Length body read with httpd_read_body")

        data = os.urandom(40000)
        chunks = b""
        i = 0
        for n in (1, 15, 4096, 10000, 25888):
            chunks += b"%x;ext=\"q\\\"s\"\r\n" % n + data[i:i + n] + b"\r\n"
            i += n
        raw = (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
               chunks + b"0\r\nX-Trailer: yes\r\n\r\n")
        st, h, body, _ = request(port, raw)
        ok(st == 200 and body == data, "chunked body with extensions and trailers decoded exactly")

        # the same body sent one byte at a time across many reads
        s = conn(port)
        for k in range(0, len(raw[:300])):
            s.send(raw[k:k + 1])
        s.sendall(raw[300:])
        st, h, body, _ = read_response(s)
        s.close()
        ok(st == 200 and body == data, "chunked body trickled across reads decoded exactly")

        # pipelined: a chunked POST then a GET, in one send
        s = conn(port)
        s.sendall(raw + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        st1, _, b1, rest = read_response(s)
        st2, _, b2, rest = read_response(s, rest)
        s.close()
        ok(st1 == 200 and b1 == data and st2 == 200 and b2 == b"Hello, world!\n",
           "a pipelined request after a chunked body is answered in order")

        # Expect: 100-continue: the interim response comes before we send the body
        s = conn(port)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        st, _, _, rest = read_response(s)
        ok(st == 100, "Expect: 100-continue gets 100 Continue before the body is sent")
        s.sendall(b"hello")
        st, _, body, _ = read_response(s, rest)
        ok(st == 200 and body == b"hello", "the final response follows the 100 Continue")
        s.close()

        # Expect: 100-continue on a route that never reads the body: final status, then close
        s = conn(port)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        st, h, _, _ = read_response(s)
        ok(st != 100 and h.get("connection") == "close",
           "an unread 100-continue body: final status with Connection: close")
        s.close()

        # malformed chunk framing -> 400 and close
        for bad, what in ((b"5\r\nabc\r\n", "chunk data shorter than its size"),
                          (b"0x5\r\nhello\r\n0\r\n\r\n", "0x prefix"),
                          (b"5\nhello\r\n0\r\n\r\n", "bare LF after size"),
                          (b"fffffffffffffffff\r\n", "17 hex digits"),
                          (b"5\r\nhelloXX0\r\n\r\n", "no CRLF after data")):
            s = conn(port)
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + bad)
            if what == "chunk data shorter than its size":
                s.shutdown(socket.SHUT_WR)       # EOF in the middle of the body
            try:
                st, h, body, _ = read_response(s)
            except EOFError:
                st, h, body = 0, {}, b""
            if what == "chunk data shorter than its size":
                ok(st in (0, 400, 500) and closed(s), "EOF inside a chunked body: no hang, connection closed")
            else:
                ok(st == 400 and h.get("connection") == "close" and closed(s),
                   "chunked body with %s: 400 and close" % what)
            s.close()

        # chunked body over what the handler accepts -> 413
        big = b"".join(b"%x\r\n" % 8192 + b"a" * 8192 + b"\r\n" for _ in range(10)) + b"0\r\n\r\n"
        s = conn(port)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + big)
        st, h, _, _ = read_response(s)
        ok(st == 413 and h.get("connection") == "close", "handler error HTTPD_EBODYLARGE answered 413 with close")
        s.close()

        # streamed responses
        st, h, body, _ = request(port, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        ok(st == 200 and h.get("transfer-encoding") == "chunked" and "content-length" not in h and
           body == b"".join(b"line %d\n" % i for i in range(10)), "length -1 streams chunked in HTTP/1.1")
        s = conn(port)
        s.sendall(b"GET /stream HTTP/1.0\r\n\r\n")
        st, h, body, _ = read_response(s)
        ok(st == 200 and "transfer-encoding" not in h and h.get("connection") == "close" and
           body == b"".join(b"line %d\n" % i for i in range(10)), "length -1 is close-delimited in HTTP/1.0")
        s.close()
        s = conn(port)
        s.sendall(b"HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        st, h, body, rest = read_response(s, head_only=True)   # HEAD: no body, whatever the framing
        ok(st == 200 and h.get("transfer-encoding") == "chunked",
           "HEAD of a streamed response announces its framing")
        buf = rest
        s.settimeout(5)
        try:
            while b"Hello, world!" not in buf:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
        except socket.timeout:
            pass
        ok(b"0\r\n\r\n" not in buf.split(b"HTTP/1.1 200")[0] and b"Hello, world!" in buf,
           "HEAD of a streamed response sends no chunk, and the next request is answered")
        s.close()

        st, h, body, _ = request(port, b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
        ok(st == 500 and body == b"500 Internal Server Error\n" and h.get("connection") == "close",
           "a handler returning -1 gets a 500 (not an empty reply)")
        s = conn(port)
        s.sendall(b"GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        st1, h1, b1, rest = read_response(s)
        st2, _, b2, _ = read_response(s, rest)
        s.close()
        ok(st1 == 204 and "content-length" not in h1 and h1.get("x-ok") == "yes" and
           st2 == 200 and b2 == b"Hello, world!\n",
           "framing fields refused to handlers; 204 with a length keeps the connection framed")

        # keep-alive after a handler response; the server is still up
        s = conn(port)
        for i in range(3):
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
            time.sleep(0.05)
            s.sendall(b"x%d!" % i)
            st, _, body, _ = read_response(s)
            ok(st == 200 and body == b"x%d!" % i, "keep-alive request %d with a body sent after the head" % i)
        s.close()
        ok(p.poll() is None, "the server process is alive after all of the above")
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        ok(rc == 0, "hello (httpd_serve) exits 0 on SIGTERM")
    return 0


if __name__ == "__main__":
    sys.exit(main())
