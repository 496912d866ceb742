#!/bin/sh
# examples/cgi-bin/hello.sh -- a CGI/1.1 script in POSIX sh.
#
#   mkdir -p www/cgi-bin && cp examples/cgi-bin/hello.sh www/cgi-bin/
#   chmod 755 www/cgi-bin/hello.sh          # executable, not group/other-writable
#   ./httpd -x /cgi-bin/
#   curl 'http://localhost:8888/cgi-bin/hello.sh/extra?name=world'
#   curl --data 'some body' http://localhost:8888/cgi-bin/hello.sh
#
# The header block ends with an empty line; bare LF line ends are fine.  The
# body is on stdin, CONTENT_LENGTH bytes of it (the variable is set only when
# there is a body).  Without a Content-Length the server streams the output
# (chunked in HTTP/1.1).  Text/plain: nothing from the request is ever
# interpreted as HTML.
printf 'Content-Type: text/plain; charset=utf-8\n\n'
echo 'Hello from sh'
echo "method: $REQUEST_METHOD"
echo "path_info: ${PATH_INFO-}"
echo "query: $QUERY_STRING"
if [ -n "${CONTENT_LENGTH-}" ]; then
  n=$(head -c "$CONTENT_LENGTH" | wc -c)
else
  n=0
fi
echo "body bytes: $((n))"
