#!/bin/sh
# tests/cgi-apps/echo.sh -- the request body back, with what the server said
# about it (CONTENT_LENGTH, CONTENT_TYPE; "unset" when absent).  It reads
# to EOF (cat); with QUERY_STRING "exact", CONTENT_LENGTH bytes (head -c).
printf 'Content-Type: application/octet-stream\nX-Content-Length: %s\nX-Content-Type: %s\n\n' \
  "${CONTENT_LENGTH-unset}" "${CONTENT_TYPE-unset}"
if [ "$QUERY_STRING" = exact ]; then
  exec head -c "${CONTENT_LENGTH:-0}"
fi
exec cat
