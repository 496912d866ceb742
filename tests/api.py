#!/usr/bin/env python3
"""tests/api.py -- the public API end to end, through examples/hello.c.

A C handler vendored with -DHTTPD_NO_MAIN: request bodies read with
httpd_read_body (Content-Length, chunked, 100-continue), streamed responses
(chunked for HTTP/1.1, close-delimited for 1.0), and the static handler as a
fallback.  Prints one "ok - ..." / "not ok - ..." line per assertion."""
import os, shutil, socket, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpdtest as ht  # noqa: E402

HELLO = ht.binary("HELLO", "build/default/hello")
ok = ht.ok


def conn(port):
    return ht.Conn(port)


def read_response(c, head_only=False):
    """Reads one response from Conn c; returns (status, headers dict, body).
    Raises EOFError on EOF before the head or inside the body."""
    try:
        r = c.read_response(head=head_only)
    except ht.ProtoError as e:
        raise EOFError(str(e))
    if r is None:
        raise EOFError("closed before head: %r" % c.buf[:200])
    return r.status, {k.lower(): v for k, v in r.headers}, r.body


def closed(c, timeout=3):
    c.s.settimeout(timeout)
    try:
        while True:
            d = c.s.recv(65536)
            if not d:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def request(port, raw):
    c = conn(port)
    try:
        c.send(raw)
        return read_response(c)
    finally:
        c.close()


def main():
    tmp = tempfile.mkdtemp()
    os.mkdir(os.path.join(tmp, "www"))
    with open(os.path.join(tmp, "www", "f.txt"), "w") as f:
        f.write("static file\n")
    srv = ht.Server([HELLO, "0"], name="hello", cwd=tmp)
    if not ok(srv.start(), "hello starts and prints \"hello: listening on 127.0.0.1 port N\"",
              srv.error):
        srv.stop()
        ht.finish("api")
        return 0
    port = srv.port
    try:
        st, h, body = request(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        ok(st == 200 and body == b"Hello, world!\n", "a C handler answers through httpd_respond")
        ok(h.get("server", "").startswith("httpd/") and "date" in h, "Server and Date added by the server")
        st, h, body = request(port, b"GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        ok(st == 200 and body == b"static file\n", "httpd_static works as a fallback handler")

        st, h, body = request(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc123")
        ok(st == 200 and body == b"abc123", "Content-Length body read with httpd_read_body")

        data = os.urandom(40000)
        chunks = b""
        i = 0
        for n in (1, 15, 4096, 10000, 25888):
            chunks += b"%x;ext=\"q\\\"s\"\r\n" % n + data[i:i + n] + b"\r\n"
            i += n
        raw = (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
               chunks + b"0\r\nX-Trailer: yes\r\n\r\n")
        st, h, body = request(port, raw)
        ok(st == 200 and body == data, "chunked body with extensions and trailers decoded exactly")

        # the same body sent one byte at a time across many reads
        s = conn(port)
        for k in range(0, len(raw[:300])):
            s.send(raw[k:k + 1])
        s.send(raw[300:])
        st, h, body = read_response(s)
        s.close()
        ok(st == 200 and body == data, "chunked body trickled across reads decoded exactly")

        # pipelined: a chunked POST then a GET, in one send
        s = conn(port)
        s.send(raw + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        st1, _, b1 = read_response(s)
        st2, _, b2 = read_response(s)
        s.close()
        ok(st1 == 200 and b1 == data and st2 == 200 and b2 == b"Hello, world!\n",
           "a pipelined request after a chunked body is answered in order")

        # Expect: 100-continue: the interim response comes before we send the body
        s = conn(port)
        s.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        st, _, _ = read_response(s)
        ok(st == 100, "Expect: 100-continue gets 100 Continue before the body is sent")
        s.send(b"hello")
        st, _, body = read_response(s)
        ok(st == 200 and body == b"hello", "the final response follows the 100 Continue")
        s.close()

        # Expect: 100-continue on a route that never reads the body: final status, then close
        s = conn(port)
        s.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        st, h, _ = read_response(s)
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
            s.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + bad)
            if what == "chunk data shorter than its size":
                s.s.shutdown(socket.SHUT_WR)       # EOF in the middle of the body
            try:
                st, h, body = read_response(s)
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
        s.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + big)
        st, h, _ = read_response(s)
        ok(st == 413 and h.get("connection") == "close", "handler error HTTPD_EBODYLARGE answered 413 with close")
        s.close()

        # streamed responses
        st, h, body = request(port, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        ok(st == 200 and h.get("transfer-encoding") == "chunked" and "content-length" not in h and
           body == b"".join(b"line %d\n" % i for i in range(10)), "length -1 streams chunked in HTTP/1.1")
        s = conn(port)
        s.send(b"GET /stream HTTP/1.0\r\n\r\n")
        st, h, body = read_response(s)
        ok(st == 200 and "transfer-encoding" not in h and h.get("connection") == "close" and
           body == b"".join(b"line %d\n" % i for i in range(10)), "length -1 is close-delimited in HTTP/1.0")
        s.close()
        s = conn(port)
        s.send(b"HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        st, h, body = read_response(s, head_only=True)   # HEAD: no body, whatever the framing
        ok(st == 200 and h.get("transfer-encoding") == "chunked",
           "HEAD of a streamed response announces its framing")
        buf = s.buf
        s.s.settimeout(5)
        try:
            while b"Hello, world!" not in buf:
                d = s.s.recv(65536)
                if not d:
                    break
                buf += d
        except socket.timeout:
            pass
        ok(b"0\r\n\r\n" not in buf.split(b"HTTP/1.1 200")[0] and b"Hello, world!" in buf,
           "HEAD of a streamed response sends no chunk, and the next request is answered")
        s.close()

        st, h, body = request(port, b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
        ok(st == 500 and body == b"500 Internal Server Error\n" and h.get("connection") == "close",
           "a handler returning -1 gets a 500 (not an empty reply)")
        s = conn(port)
        s.send(b"GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        st1, h1, b1 = read_response(s)
        st2, _, b2 = read_response(s)
        s.close()
        ok(st1 == 204 and "content-length" not in h1 and h1.get("x-ok") == "yes" and
           st2 == 200 and b2 == b"Hello, world!\n",
           "framing fields refused to handlers; 204 with a length keeps the connection framed")

        # keep-alive after a handler response; the server is still up
        s = conn(port)
        for i in range(3):
            s.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
            time.sleep(0.05)
            s.send(b"x%d!" % i)
            st, _, body = read_response(s)
            ok(st == 200 and body == b"x%d!" % i, "keep-alive request %d with a body sent after the head" % i)
        s.close()
        ok(srv.alive(), "the server process is alive after all of the above")
    finally:
        rc = srv.stop(wait=15)
        ok(rc == 0, "hello (httpd_serve) exits 0 on SIGTERM (rc=%s)" % rc)
        shutil.rmtree(tmp, ignore_errors=True)
    ht.finish("api")
    return 0


if __name__ == "__main__":
    sys.exit(main())
