#!/bin/sh
# bench/need-pico.sh -- makes sure picohttpparser is there for bench/parse.c:
# Debian's libh2o-evloop0.13 exports phr_parse_request.  Installs it with
# apt-get when it is missing and we are root; otherwise says how.
if ldconfig -p 2>/dev/null | grep -q 'libh2o-evloop\.so\.0\.13 '; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "bench: installing libh2o-evloop0.13 (picohttpparser) with apt-get"
  apt-get install -y libh2o-evloop0.13 >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y libh2o-evloop0.13 >/dev/null; } ||
    { echo "bench: apt-get install libh2o-evloop0.13 failed" >&2; exit 1; }
  exit 0
fi
echo "bench: picohttpparser is missing: apt-get install libh2o-evloop0.13 (as root)" >&2
exit 1
