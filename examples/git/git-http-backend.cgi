#!/bin/sh
# examples/git/git-http-backend.cgi -- serve git repositories over "smart"
# HTTP (clone, fetch and push) with httpd and git's own CGI program,
# git http-backend.  See examples/git/README.md.
#
#   mkdir -p www/cgi-bin /srv/git
#   cp examples/git/git-http-backend.cgi www/cgi-bin/git && chmod 755 www/cgi-bin/git
#   git clone --bare some/repo /srv/git/repo.git
#   chown -R nobody:nogroup /srv/git      # the server's user must own what it writes
#   ./httpd -x /cgi-bin/ -b 104857600     # -b: the largest push, in bytes
#   git clone http://localhost:8888/cgi-bin/git/repo.git
#
# The repositories live under GIT_PROJECT_ROOT: the default below, or the
# server's `--cgi-env GIT_PROJECT_ROOT=/path` (httpd passes nothing else of
# its own environment).  The URL path after the script, PATH_INFO, names the
# repository and the git endpoint in it.
: "${GIT_PROJECT_ROOT:=/srv/git}"
export GIT_PROJECT_ROOT
# every repository under the root is served, without a git-daemon-export-ok file
export GIT_HTTP_EXPORT_ALL=1
# Push (receive-pack) without authentication: httpd authenticates nobody, so
# git would refuse pushes without this.  Anyone who reaches the server can
# push: delete these lines for a read-only mirror, or keep the server on a
# trusted network.  (GIT_CONFIG_COUNT needs git 2.31 or later.)
export GIT_CONFIG_COUNT=1
export GIT_CONFIG_KEY_0=http.receivepack
export GIT_CONFIG_VALUE_0=true
exec git http-backend
