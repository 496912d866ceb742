#!/bin/sh
# tests/cgi-apps/echo.sh -- the request body back, with what the server said
# about it (CONTENT_LENGTH, CONTENT_TYPE; "unset" when absent).
printf 'Content-Type: application/octet-stream\nX-Content-Length: %s\nX-Content-Type: %s\n\n' \
  "${CONTENT_LENGTH-unset}" "${CONTENT_TYPE-unset}"
exec cat
