#!/bin/sh
# tests/cgi-apps/env.sh -- what a script sees (tests/cgi.py, "environment"):
# its environment, working directory, descriptors (its own, a child's and a
# grandchild's), signal state and process group, in "--section" blocks.
printf 'Content-Type: text/plain\n\n'
echo '--argc'
echo "$#"
echo '--env'
env
echo '--cwd'
pwd -P
echo '--fd-self'
ls -l "/proc/$$/fd"
echo '--fd-child'
ls -l /proc/self/fd
echo '--fd-grandchild'
sh -c 'ls -l /proc/self/fd; :'
echo '--status-self'
# read by the shell itself (a builtin, no fork): its own state, not a child's
while read -r line; do echo "$line"; done < "/proc/$$/status"
echo '--status-child'
cat /proc/self/status
echo '--stat-self'
cat "/proc/$$/stat"
echo
echo '--stdin'
ls -l /proc/self/fd/0
echo '--end'
