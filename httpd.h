/*
** httpd.h -- public API of httpd, a strict, forking HTTP/1.1 server in one C file.
**
** This header is the manual of the API: what is not declared here is not API.
** Build the server:            cc -O2 -o httpd httpd.c
** Vendor it into a program:    cc -DHTTPD_NO_MAIN -c httpd.c   (and include this file)
**
** Contents
**   1. Version
**   2. Limits (compile-time; each has its own HTTP status when exceeded)
**   3. Error codes (one list: code, HTTP status, message)
**   4. The pure parser: request head, chunked body, request-target -> path
**   5. Handlers and the connection API (used inside a forked child)
**   6. The server: configuration, listen, serve
**
** Return convention: functions return a value >= 0 on success and a negative
** HTTPD_E* code on failure; httpd_strerror() names a code, httpd_status() maps
** it to the HTTP status the server answers with.
*/
#ifndef HTTPD_H
#define HTTPD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== 1. VERSION ==== */
#define HTTPD_VERSION        "0.1.0"
#define HTTPD_VERSION_NUMBER 1000     /* X*1000000 + Y*1000 + Z */

/* Returns HTTPD_VERSION_NUMBER of the compiled library (not of this header). */
int httpd_version(void);

/* ==== 2. LIMITS ==== */
/* Longest request line accepted; a longer one is answered 414. */
#ifndef HTTPD_MAX_LINE
#define HTTPD_MAX_LINE 8192
#endif
/* Largest request head (request line + header fields + final CRLF); 431 beyond. */
#ifndef HTTPD_MAX_HEAD
#define HTTPD_MAX_HEAD 32768
#endif
/* Most header fields in one request (and in one trailer section); 431 beyond.
** Changes the layout of struct httpd_request: build every unit with one value. */
#ifndef HTTPD_MAX_HEADERS
#define HTTPD_MAX_HEADERS 128
#endif
/* Longest chunk-size line (size + extensions + CRLF) in a chunked body; 400 beyond. */
#ifndef HTTPD_MAX_CHUNK_LINE
#define HTTPD_MAX_CHUNK_LINE 1024
#endif
/* Largest trailer section of a chunked body; 431 beyond. */
#ifndef HTTPD_MAX_TRAILER
#define HTTPD_MAX_TRAILER 8192
#endif
/* Largest request path after decoding (bytes); 414 beyond. */
#ifndef HTTPD_MAX_PATH
#define HTTPD_MAX_PATH 8192
#endif

/* ==== 3. ERROR CODES ==== */
/*   X(NAME, code, HTTP status, message)
** The code is returned as HTTPD_E<NAME>; the status is what a client is sent. */
#define HTTPD_ERRORS(X) \
  X(INCOMPLETE,  -1,   0, "incomplete input: more bytes needed") \
  X(BADLINE,     -2, 400, "malformed request line") \
  X(BADHEADER,   -3, 400, "malformed header field") \
  X(BADHOST,     -4, 400, "missing, repeated or invalid Host") \
  X(BADLENGTH,   -5, 400, "invalid Content-Length") \
  X(BADCODING,   -6, 400, "invalid Transfer-Encoding") \
  X(BADCHUNK,    -7, 400, "malformed chunked body") \
  X(BADPATH,     -8, 400, "invalid or unsafe request path") \
  X(BADVERSION,  -9, 400, "malformed HTTP version") \
  X(URILONG,    -10, 414, "request line or path too long") \
  X(HEADLARGE,  -11, 431, "request head or trailers too large") \
  X(BODYLARGE,  -12, 413, "request body too large") \
  X(METHOD,     -13, 501, "method not implemented") \
  X(CODING,     -14, 501, "transfer coding not implemented") \
  X(VERSION,    -15, 505, "HTTP version not supported") \
  X(EXPECT,     -16, 417, "expectation not supported") \
  X(TIMEOUT,    -17, 408, "request timed out") \
  X(IO,         -18, 500, "I/O error") \
  X(INVAL,      -19, 500, "invalid argument or state") \
  X(NOFORK,     -20, 503, "cannot fork: server busy") \
  X(SYS,        -21, 500, "system call failed") \
  X(HANDLER,    -22, 500, "handler failed") \
  X(NOTFOUND,   -23, 404, "not found") \
  X(FORBIDDEN,  -24, 403, "forbidden") \
  X(STOPPED,    -25, 503, "server stopping or shedding load") \
  X(BADGATEWAY, -26, 502, "malformed response from a CGI script") \
  X(GWTIMEOUT,  -27, 504, "CGI script timed out") \
  X(BUSY,       -28, 503, "too many connections from this address")

/* Codes run from -1 down to HTTPD_ELAST without a gap. */
enum httpd_error {
#define HTTPD__ENUM(name, code, status, msg) HTTPD_E##name = code,
#define HTTPD__COUNT(name, code, status, msg) + 1
  HTTPD_ERRORS(HTTPD__ENUM)
  HTTPD_ELAST = -(0 HTTPD_ERRORS(HTTPD__COUNT))
#undef HTTPD__COUNT
#undef HTTPD__ENUM
};

/* Message for an error code (never NULL; "success" for codes >= 0, "unknown
** error" for other negative codes). */
const char *httpd_strerror(int code);
/* HTTP status for an error code (0 for INCOMPLETE, 200 for codes >= 0, 500 for
** unknown negative codes). */
int httpd_status(int code);
/* Reason phrase for an HTTP status ("Unknown" for unknown statuses). */
const char *httpd_reason(int status);

/* ==== 4. THE PURE PARSER ==== */
/* Nothing in this section does I/O, allocates, or touches global state.
** Every string it returns is a view (pointer + length) into the caller's
** input buffer: valid while that buffer is unchanged. */
struct httpd_str {
  const char *p;
  size_t n;
};

struct httpd_header {
  struct httpd_str name;   /* a token; case as sent */
  struct httpd_str value;  /* leading and trailing OWS removed; no CR, LF, NUL */
};

enum httpd_method {
  HTTPD_GET = 1, HTTPD_HEAD, HTTPD_POST, HTTPD_PUT, HTTPD_DELETE,
  HTTPD_OPTIONS, HTTPD_TRACE, HTTPD_PATCH
};

enum httpd_body {
  HTTPD_BODY_NONE = 0,     /* no body: next byte starts the next request */
  HTTPD_BODY_LENGTH,       /* content_length bytes follow */
  HTTPD_BODY_CHUNKED       /* chunked coding follows: see httpd_chunked_parse */
};

struct httpd_request {
  int method;                 /* enum httpd_method */
  int minor;                  /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
  struct httpd_str method_str;
  struct httpd_str target;    /* request-target as sent */
  struct httpd_str path;      /* path part (percent-encoded); n == 0 means "/" */
  struct httpd_str query;     /* after '?', without it; p == NULL if no '?' */
  struct httpd_str host;      /* Host field, or the authority of an absolute-form
                                 target; p == NULL if neither */
  int body;                   /* enum httpd_body */
  uint64_t content_length;    /* valid when body == HTTPD_BODY_LENGTH */
  int keep_alive;             /* 1 if the connection may serve another request */
  int expect_continue;        /* 1 if "Expect: 100-continue" came with a body (1.1) */
  size_t head_len;            /* bytes of the head, final CRLF included */
  int site;                   /* on failure: the rejection site, the number after
                                 "LOG:" in httpd.c (also written to the access log) */
  size_t nheaders;
  struct httpd_header headers[HTTPD_MAX_HEADERS];
};

/* Parses a request head from buf[0..len).
** Returns the length of the head (> 0) when it is complete and valid, and
** fills *req; HTTPD_EINCOMPLETE when buf holds a valid prefix of a head (call
** again with more bytes: parsing starts over, so the buffer may move); another
** negative code when the input can never become a valid head.  A malformed
** line fails as soon as its CRLF has arrived (a bad request line before the
** header section; an over-long line or head even before its CRLF); the rules
** that relate fields (Host, Content-Length, Transfer-Encoding, Connection,
** Expect) are applied when the head is complete.
** Policy (strict RFC 9112): lines end in CRLF, never a bare CR or LF; empty
** lines before the request line are skipped; exactly one SP separates the three
** parts of the request line; header names are tokens, followed directly by
** ':'; no obs-fold; values hold no control characters but HTAB; Content-Length
** is 1*DIGIT below 2^63, repeated only with the same value, never beside
** Transfer-Encoding; Transfer-Encoding is refused in HTTP/1.0 and must end in
** a single "chunked"; HTTP/1.1 needs exactly one valid Host. */
int httpd_parse_request(const char *buf, size_t len, struct httpd_request *req);

/* Finds the first header field named `name` (case-insensitive).
** Returns a pointer into req->headers, or NULL. */
const struct httpd_header *httpd_find_header(const struct httpd_request *req,
                                             const char *name);

/* Incremental decoder of the chunked transfer coding.  Zero it before the
** first call (or call httpd_chunked_init). */
struct httpd_chunked {
  int state;                  /* private */
  uint64_t remaining;         /* bytes left in the current chunk */
  uint64_t total;             /* body bytes decoded so far */
  size_t trailer_len;         /* trailer bytes seen so far */
  size_t ntrailers;           /* trailer fields seen so far */
  int site;                   /* on failure: the rejection site (see httpd_request) */
};

void httpd_chunked_init(struct httpd_chunked *ch);

/* Consumes chunked framing from in[0..len) and at most one run of body data.
** On success returns the number of bytes consumed (0 .. len) and sets
** *data and *ndata to the body bytes found (a view into `in`, *ndata may be 0).
** Returns 0 with *ndata == 0 when a complete line is needed and absent: call
** again with the unconsumed bytes followed by more input.  Call until
** httpd_chunked_done() is true; the bytes after the last consumed one belong to
** the next request.  Negative return: HTTPD_EBADCHUNK (framing), HTTPD_EHEADLARGE
** (trailers too large), HTTPD_EBADHEADER (malformed trailer field).
** Policy: chunk-size is 1*HEXDIG (no sign, prefix or space; at most 16 digits),
** extensions follow RFC 9112 7.1.1, lines end in CRLF, data is followed by CRLF,
** trailer fields follow the header field rules and are discarded. */
long httpd_chunked_parse(struct httpd_chunked *ch, const char *in, size_t len,
                         const char **data, size_t *ndata);

/* True once the last chunk and the trailer section have been consumed. */
int httpd_chunked_done(const struct httpd_chunked *ch);

/* Turns a request path (percent-encoded, starting with '/', or empty for "/")
** into a safe relative path in out[0..cap): no leading '/', segments separated by
** single '/', no "." or ".." segment, a trailing '/' kept when the path had one
** ("" is the root).  Returns the length written (NUL-terminated, so cap must
** exceed it), or HTTPD_EBADPATH (bad percent-escape; decoded NUL, control
** character or '/'; ".." above the root; not starting with '/'), or
** HTTPD_EURILONG when the path does not fit in out (or HTTPD_MAX_PATH) as it is
** decoded: dot-segments take no room, but a segment that a later ".." removes
** does.
** Idempotent: normalizing "/" + the result, with each '%' in it written as
** "%25", gives the result unchanged. */
int httpd_path_normalize(const char *path, size_t n, char *out, size_t cap);

/* Parses the header block a CGI script printed (RFC 3875 section 6) from
** buf[0..len).  Returns the length of the block, its empty line included
** (> 0), when it is complete and valid, and fills *r; HTTPD_EINCOMPLETE when
** buf holds a valid prefix of one; HTTPD_EBADGATEWAY (r->site says why) when
** it can never become one.  Views point into buf.
** Policy: lines end in LF or CRLF, never a bare CR; field names are tokens
** followed directly by ':'; values hold no control character but HTAB (no
** NUL, no CR, no LF: nothing a script prints can add a field or a response);
** no obs-fold; at most HTTPD_MAX_CGI_HEAD bytes and HTTPD_MAX_HEADERS fields
** passed on.  Status is 3 digits in 200..599 (its reason phrase is dropped);
** Location is an absolute path (a local redirect, r->redirect == 1, unless a
** Status comes with it) or an absolute URI (a client redirect, 302 unless a
** Status says otherwise); one of Status, Location, Content-Type must be
** there, none repeated.  Content-Length is kept when valid and single, else
** dropped (content_length -1: the body streams).  Connection,
** Transfer-Encoding, Keep-Alive, Upgrade, TE, Trailer, Proxy-Connection, Date
** and Server are dropped: framing and those are the server's. */
#ifndef HTTPD_MAX_CGI_HEAD
#define HTTPD_MAX_CGI_HEAD 8192
#endif
struct httpd_cgi_response {
  int status;                  /* 200..599 */
  int redirect;                /* 0 none, 1 local (re-dispatch as GET), 2 the client's */
  int64_t content_length;      /* -1: none, or not valid */
  struct httpd_str location;   /* p == NULL if none */
  struct httpd_str content_type;  /* p == NULL if none */
  size_t head_len;
  size_t nheaders;             /* the other fields, to pass to the client */
  struct httpd_header headers[HTTPD_MAX_HEADERS];
  int site;                    /* on failure: the rejection site (6xx) */
};
int httpd_cgi_parse(const char *buf, size_t len, struct httpd_cgi_response *r);

/* ==== 5. HANDLERS AND THE CONNECTION API ==== */
/* A handler runs once per request in the process that owns the connection:
** a forked child (fork mode: one per connection, it exits after), a prefork
** worker (which serves many connections, one request at a time), or the
** calling process (httpd_serve_conn).  It answers with httpd_respond(), or
** with httpd_header()* + httpd_begin() + httpd_write()/httpd_sendfile()* +
** httpd_end(); then returns 0.  To fail, it returns a negative code: if
** nothing was sent yet the server answers httpd_status(code) with a fixed
** page (HTTPD_EHANDLER for the handler's own failure: 500; a code without a
** status of its own, HTTPD_EINCOMPLETE included, is 500 as well) and closes
** the connection; after a partial response the connection is closed, so the
** client sees the response cut.  A handler that returns 0 without answering
** gets a 500.  For HEAD requests and 204/304 responses the body functions
** send nothing (the bytes still count against Content-Length).
** Lifetimes: `req` and every view in it (its strings point into the
** connection's input buffer) and `c` are valid during the call only; the
** request body is read through c, and whatever the handler leaves unread is
** consumed by the server (within idle_timeout) or the connection closes.
** A handler may fork and wait for its own children (the server's SIGCHLD
** handler stays installed in a fork-mode child: it only sets a flag, and
** interrupted calls are restarted), but it must not leave the process (the
** server's exit is _exit(), so buffered stdio of a child process is lost). */
struct httpd_conn;
typedef int httpd_handler(struct httpd_conn *c, const struct httpd_request *req,
                          void *arg);

/* Adds a response header field for the next httpd_begin/httpd_respond.
** Returns 0, or HTTPD_EINVAL: name empty or not a token, value holding CR,
** LF, NUL or another control but HTAB (no injection), called after
** httpd_begin, the field one of those the server owns (Content-Length,
** Transfer-Encoding, Connection, Keep-Alive, Date, Server), or the fields
** over their budget (HTTPD_MAX_RESP_FIELDS bytes in all, 8704 by default:
** what a CGI header block may pass on).
** name and value are copied. */
int httpd_header(struct httpd_conn *c, const char *name, const char *value);

/* Formats the status line and the header fields (sent with the first body
** bytes, or by httpd_end).  length >= 0 sets Content-Length; length < 0
** streams the body: chunked for HTTP/1.1, close-delimited for 1.0 (the
** connection then closes).  Date, Server and Connection are the server's;
** for 204 and 304 no framing field is sent.  Returns 0, or HTTPD_EINVAL
** (already begun, status outside 200..999). */
int httpd_begin(struct httpd_conn *c, int status, int64_t length);
/* Sends body bytes (after httpd_begin).  Returns 0, HTTPD_EINVAL (not begun,
** ended, or more bytes than the announced length: the connection then
** closes), or HTTPD_EIO (the client is gone or slower than the minimum
** rate; the connection closes).  Each write waits at most idle_timeout for
** the client. */
int httpd_write(struct httpd_conn *c, const void *p, size_t n);
/* Sends n bytes of file fd from offset off: up to 16 KiB read and sent with
** the head in one writev, more with sendfile(2) where there is one.
** fd stays the caller's.  Returns as httpd_write. */
int httpd_sendfile(struct httpd_conn *c, int fd, int64_t off, int64_t n);
/* Finishes the response (sends a head not sent yet; ends a chunked body).
** Returns 0, HTTPD_EIO, or HTTPD_EINVAL (not begun, ended twice, or fewer
** bytes than the announced length: the connection then closes; for HEAD,
** 204 and 304, where no body is sent, the count is not held against it). */
int httpd_end(struct httpd_conn *c);
/* A whole response in one call (head and body in one writev); type may be
** NULL.  Returns as the calls it makes. */
int httpd_respond(struct httpd_conn *c, int status, const char *type,
                  const void *body, size_t n);

/* Reads up to cap (> 0) bytes of the request body, decoded from chunked if
** need be.  Sends "100 Continue" first if the client waits for it.  Returns
** the number of bytes read, 0 at the end of the body (or when there is none),
** or a negative code, the same on every later call: HTTPD_EBODYLARGE beyond
** max_body (a chunked body as soon as a chunk-size line says so),
** HTTPD_ETIMEOUT (idle_timeout without a byte, or slower than min_rate on
** average), HTTPD_EIO (the client closed), HTTPD_EBADCHUNK / HTTPD_EBADHEADER
** / HTTPD_EHEADLARGE (chunked framing or trailers).  Returning the code from
** the handler makes the server answer its status. */
long httpd_read_body(struct httpd_conn *c, void *buf, size_t cap);

/* A handler that answers with the server's counters as plain text that
** Prometheus can scrape (uptime, live children or workers, connections,
** requests, reaped and crashed children, the 503s by cause, EMFILE pauses,
** workers replaced, upgrades).  GET and HEAD; 404 where there is no server
** (httpd_serve_conn).  It restricts nothing itself: the caller decides who
** may see it (the command line: loopback clients only, unless told). */
int httpd_server_status(struct httpd_conn *c, const struct httpd_request *req, void *arg);

/* The client's address as text ("127.0.0.1", "::1"; an IPv4-mapped address
** as plain IPv4).  Valid while the connection lasts. */
const char *httpd_peer(const struct httpd_conn *c);

/* A document root, opened once (before httpd_serve, so that every child
** inherits it): a directory descriptor and the directory's resolved path.
** Every file the handlers serve is opened relative to the descriptor and
** beneath it (on Linux by openat2(RESOLVE_BENEATH)), so neither "..", nor a
** symlink leading out, nor a rename racing the lookup reaches a file outside. */
#ifndef HTTPD_ROOT_CACHE
#define HTTPD_ROOT_CACHE 8       /* files httpd_static keeps open, per process */
#endif
struct httpd_root {
  int fd;                  /* O_DIRECTORY descriptor, close-on-exec; -1 when closed */
  char *path;              /* realpath(3) of the directory (malloc'ed) */
  size_t len;              /* strlen(path), 0 for "/" */
  struct {                 /* private: httpd_static's open files, each reused for a
                              second (a keep-alive client asking again), then
                              looked up anew */
    int fd;
    int64_t at;
    const char *type;
    char rel[120];
  } cache[HTTPD_ROOT_CACHE];
};

/* Opens dir as a document root into *root.  Returns 0, or HTTPD_ESYS (errno
** set: the directory is missing, not a directory, or not readable); *root is
** then closed.  Resolves symlinks in dir itself once, here. */
int httpd_root_open(struct httpd_root *root, const char *dir);
/* Closes the descriptor, the cached files and frees the path (idempotent).
** httpd_static changes the cache: a root is used by one process at a time
** (each child or worker has its own copy). */
void httpd_root_close(struct httpd_root *root);

/* The built-in static file server as a handler: arg is a struct httpd_root *
** opened by httpd_root_open.  GET and HEAD; see README.md for the policy. */
int httpd_static(struct httpd_conn *c, const struct httpd_request *req, void *arg);

/* CGI/1.1 (RFC 3875) as a handler: arg is a struct httpd_cgi *.  Requests
** whose decoded path lies under `prefix` run the script found there (the
** first path segment that names a regular file; the rest is PATH_INFO);
** other requests go to httpd_static.  The script is looked up as the static
** handler looks up files (beneath the root, no dotfile); a directory, a
** missing file or a file not executable is 403/404, never its source; a
** script writable by group or others is refused (500).  With `suffix` set,
** only files ending in it are scripts and the others are served as files.
** The script runs in its own directory and process group, with the RFC 3875
** variables, the request's fields as HTTP_* (not Proxy, not Authorization
** unless pass_auth, no name holding '_'), PATH, `env`, and nothing else of
** the server's environment; descriptors 0 (the body: streamed, or a chunked
** body spooled to a temporary file first), 1 and 2 (passed on to the
** server's stderr, at most 64 KiB a run) and no other; signals default.  Its
** output meets httpd_cgi_parse; a bad header block is 502, `timeout` seconds
** of silence 504 (or a close once the response began), a failed start 500,
** a failed fork 503.  The script's process group is killed when the response
** is done, the client goes away, or the server stops; the script is reaped.
** A local redirect (Location: /path) is served as a GET of that path through
** the server's handler, at most 4 deep.  Runs in the connection's process;
** installs a SIGCHLD handler for the while. */
struct httpd_cgi {
  const struct httpd_root *root;   /* required: scripts live beneath it */
  const char *prefix;              /* e.g. "/cgi-bin/"; NULL or "/": every path */
  const char *suffix;              /* e.g. ".cgi"; NULL: every file under prefix */
  int pass_auth;                   /* 1: pass Authorization as HTTP_AUTHORIZATION */
  int timeout;                     /* seconds of silence allowed (default 30) */
  const char *const *env;          /* extra "NAME=value" strings, NULL-terminated */
};
int httpd_cgi(struct httpd_conn *c, const struct httpd_request *req, void *arg);
/* 1 if req is for the CGI handler (its decoded path under cgi->prefix). */
int httpd_cgi_match(const struct httpd_cgi *cgi, const struct httpd_request *req);

/* ==== 6. THE SERVER ==== */
/* Access log formats (httpd_config.log_format); HTTPD_LOG_SITE may be or'ed in. */
#define HTTPD_LOG_NONE      0   /* no access log (the default of a zeroed config) */
#define HTTPD_LOG_CLF       1   /* Common Log Format */
#define HTTPD_LOG_COMBINED  2   /* Combined: CLF + "Referer" "User-Agent" */
#define HTTPD_LOG_SITE      16  /* append " LOG:N", the rejection site, or " -" */

/* A zeroed config means defaults; every field is optional but handler. */
struct httpd_config {
  httpd_handler *handler;      /* required */
  void *handler_arg;
  int workers;                 /* 0: fork a child per connection; N > 0: prefork,
                                  N long-lived workers accept and serve */
  int max_children;            /* fork mode: live children at most; prefork: open
                                  connections at most, over all workers (default 256) */
  int max_per_addr;            /* connections one client address may hold at once
                                  (default max_children / 2; < 0: no limit); beyond
                                  it the parent answers 503 without forking */
  int idle_timeout;            /* seconds: keep-alive idle wait, and the longest wait
                                  for any read or write to progress (default 10) */
  int head_timeout;            /* seconds: a whole request head, from the first byte;
                                  the first request's from the accept (default 10) */
  int grace;                   /* seconds children get to finish at shutdown (default 10) */
  int64_t max_body;            /* largest request body (0: 1 MiB; < 0: none allowed) */
  int min_rate;                /* bytes/s: a request body or a response slower than this
                                  on average, after idle_timeout of grace, is cut
                                  (default 1024; < 0: no minimum) */
  int max_requests;            /* requests per connection (default 1000; < 0: no limit) */
  int lifetime;                /* seconds a connection lives: after them its next
                                  answer says Connection: close (default 300; < 0:
                                  no limit) */
  int worker_connections;      /* prefork: connections a worker serves before it is
                                  replaced (default 10000; < 0: never) */
  int log_format;              /* HTTPD_LOG_* (default HTTPD_LOG_NONE) */
  int log_fd;                  /* access log descriptor, when log_format is set */
  const char *log_path;        /* if set: SIGHUP reopens this file onto log_fd */
  char *const *reexec_argv;    /* if set: SIGUSR2 starts this program (argv[0] a
                                  path) with the listening sockets passed as
                                  systemd does (LISTEN_FDS, descriptors 3..) and
                                  HTTPD_READY_FD; once it writes a byte there, this
                                  server stops accepting, drains and returns */
  int quiet;                   /* 1: no server event lines on stderr */
};

/* Opens a listening TCP socket on addr (NULL: all addresses, IPv6 and IPv4)
** and port (a number as text, NULL: "8888", "0": any free port), with a large
** backlog, close-on-exec and non-blocking.  reuseport: SO_REUSEPORT, so that
** several servers share the port.  Returns the descriptor, or HTTPD_ESYS
** (errno set).  If port_out is not NULL it receives the port bound. */
int httpd_listen(const char *addr, const char *port, int *port_out);
int httpd_listen_opt(const char *addr, const char *port, int reuseport, int *port_out);

/* Serves connections on listen_fd until SIGTERM or SIGINT: a forked child per
** connection (or prefork workers, cfg->workers); then stops accepting, gives
** children cfg->grace seconds to finish, kills the rest and returns 0.
** Process-wide effects, for the whole call: handlers for SIGCHLD, SIGTERM,
** SIGINT and SIGHUP are installed and SIGPIPE is ignored (the dispositions
** found are restored on return); waitpid(-1) reaps every child of the process,
** an embedding program's own children included, and orphans adopted as PID 1;
** children leave through _exit(), so buffered stdio of the parent is never
** flushed twice (and a child's own unflushed stdio is lost).  One httpd_serve
** at a time per process.  Returns a negative code if it cannot start
** (HTTPD_EINVAL: no handler or no socket; HTTPD_ESYS). */
int httpd_serve(const struct httpd_config *cfg, int listen_fd);
/* The same on several listening sockets at once (n >= 1), e.g. inherited
** from systemd socket activation. */
int httpd_serve_fds(const struct httpd_config *cfg, const int *fds, int n);
/* Serves the one connection on fd in the calling process, keep-alive
** included, and closes it (inetd mode).  Installs nothing but ignores SIGPIPE
** for the call.  Returns 0, or HTTPD_EINVAL. */
int httpd_serve_conn(const struct httpd_config *cfg, int fd);

#ifdef __cplusplus
}
#endif
#endif /* HTTPD_H */
