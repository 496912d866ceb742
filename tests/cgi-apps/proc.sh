#!/bin/sh
# tests/cgi-apps/proc.sh -- process behaviours (tests/cgi.py, "process").
# QUERY_STRING is MODE&TAG; the script writes "PID PGID" and the pids of the
# children it starts to $PIDDIR/TAG.* (PIDDIR comes from --cgi-env).
mode=${QUERY_STRING%%&*}
tag=${QUERY_STRING#*&}
pgid=$(cut -d' ' -f5 "/proc/$$/stat")
echo "$$ $pgid" > "$PIDDIR/$tag.script"
case $mode in
  chatty)   # output until killed, a grandchild in its group
    sleep 300 > /dev/null 2>&1 &
    echo $! > "$PIDDIR/$tag.child"
    printf 'Content-Type: text/plain\n\n'
    while :; do echo "line of output"; sleep 0.05; done ;;
  silent)   # some output, then silence (a grandchild waits too)
    sleep 300 > /dev/null 2>&1 &
    echo $! > "$PIDDIR/$tag.child"
    printf 'Content-Type: text/plain\n\nstarted\n'
    sleep 300 ;;
  mute)     # nothing at all
    sleep 300 > /dev/null 2>&1 &
    echo $! > "$PIDDIR/$tag.child"
    sleep 300 ;;
  daemon)   # a grandchild that keeps stdout open, in the script's group
    sleep 30 &
    echo $! > "$PIDDIR/$tag.child"
    printf 'Content-Type: text/plain\n\nbye\n' ;;
  setsid)   # a grandchild in a session of its own that keeps stdout open
    setsid sleep 30 &
    echo $! > "$PIDDIR/$tag.child"
    printf 'Content-Type: text/plain\n\nbye\n' ;;
  closeout) # closes its stdout, then lingers
    printf 'Content-Type: text/plain\n\nclosed\n'
    exec >&-
    sleep 300 ;;
  dribble)  # a line every 0.5 s for 3 s: never silent for long
    printf 'Content-Type: text/plain\n\n'
    for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 0.5; done ;;
  readall)  # reads all of its body (CONTENT_LENGTH bytes) before it answers
    n=$(head -c "$CONTENT_LENGTH" | wc -c)
    printf 'Content-Type: text/plain\n\nread %s\n' $((n)) ;;
  stderr)   # 10 MB on stderr before any output
    head -c 10000000 /dev/zero | tr '\0' E >&2
    printf 'Content-Type: text/plain\n\nstderr done\n' ;;
  stderrmark)
    echo "stderr-marker-$tag" >&2
    printf 'Content-Type: text/plain\n\nmarked\n' ;;
  bigfirst) # 2 MiB of output before it reads its input (CONTENT_LENGTH bytes)
    printf 'Content-Type: application/octet-stream\n\n'
    head -c 2097152 /dev/zero
    head -c "$CONTENT_LENGTH" | wc -c | tr -d ' ' ;;
  noread)   # never reads its input
    printf 'Content-Type: text/plain\nContent-Length: 8\n\nignored\n' ;;
  *) printf 'Status: 400 Unknown Mode\nContent-Type: text/plain\n\nunknown mode\n' ;;
esac
