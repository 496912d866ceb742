#!/bin/sh
# tests/cgi-apps/respond.sh -- one response header block per QUERY_STRING
# (tests/cgi.py, "response parsing").  SCRIPTBYTES marks what must never
# reach the client when the block is refused.
case $QUERY_STRING in
  status201) printf 'Status: 201 Made Up Reason\nContent-Type: text/plain\n\ncreated\n' ;;
  status404) printf 'Status: 404 Gone Fishing\nContent-Type: text/plain\n\nthe script own 404\n' ;;
  status99) printf 'Status: 99\nContent-Type: text/plain\n\nSCRIPTBYTES\n' ;;
  status600) printf 'Status: 600\nContent-Type: text/plain\n\nSCRIPTBYTES\n' ;;
  statusabc) printf 'Status: abc\nContent-Type: text/plain\n\nSCRIPTBYTES\n' ;;
  status304) printf 'Status: 304 Not Modified\nETag: "x"\n\nSCRIPTBYTES\n' ;;
  status204body) printf 'Status: 204\nContent-Type: text/plain\n\nSCRIPTBYTES\n' ;;
  statusonly) printf 'Status: 204\n\n' ;;
  dupstatus) printf 'Status: 200\nStatus: 201\nContent-Type: text/plain\n\nSCRIPTBYTES\n' ;;
  ctype) printf 'Content-Type: text/x-test; charset=utf-8\n\nct\n' ;;
  crlf) printf 'Content-Type: text/plain\r\nX-Crlf: yes\r\n\r\ncrlf body\n' ;;
  lf) printf 'Content-Type: text/plain\nX-Lf: yes\n\nlf body\n' ;;
  mixed) printf 'Content-Type: text/plain\r\nX-Lf: yes\n\r\nmixed body\n' ;;
  emptyval) printf 'Content-Type: text/plain\nX-Empty:\nX-Spaces:   padded   \n\nempty value\n' ;;
  nospace) printf 'Content-Type:text/plain\nX-Tight:tight\n\nno space\n' ;;
  lowercase) printf 'status: 202\ncontent-type: text/x-lower\ncontent-length: 6\n\nlower\n' ;;
  fields40) i=0
            while [ $i -lt 40 ]; do printf 'X-Field-%02d: value %d\n' $i $i; i=$((i + 1)); done
            printf 'Content-Type: text/plain\n\nforty\n' ;;
  duplocation) printf 'Location: /static.txt\nLocation: /index.html\n\nSCRIPTBYTES\n' ;;
  local-withbody) printf 'Location: /static.txt\nContent-Type: text/html\n\nSCRIPTBYTES\n' ;;
  setcookies) printf 'Content-Type: text/plain\nSet-Cookie: a=1\nSet-Cookie: b=2\n\ncookies\n' ;;
  local-static) printf 'Location: /static.txt\n\n' ;;
  local-script) printf 'Location: /cgi-bin/env.sh/via?from=redirect\n\n' ;;
  local-noexec) printf 'Location: /cgi%%2Dbin/noexec.sh\n\n' ;;
  local-traversal) printf 'Location: /../../etc/passwd\n\n' ;;
  local-missing) printf 'Location: /no-such-file.txt\n\n' ;;
  loop) printf 'Location: /cgi-bin/respond.sh?loop\n\n' ;;
  absolute) printf 'Location: http://example.test/elsewhere?a=1\n\n' ;;
  absolute301) printf 'Status: 301 Moved\nLocation: https://example.test/x\n\n' ;;
  path303) printf 'Status: 303 See Other\nLocation: /static.txt\n\n' ;;
  badlocation) printf 'Location: relative/path\n\nSCRIPTBYTES\n' ;;
  cl) printf 'Content-Type: text/plain\nContent-Length: 6\n\nhello\n' ;;
  clshort) printf 'Content-Type: text/plain\nContent-Length: 3\n\nhelSCRIPTBYTES' ;;
  cllong) printf 'Content-Type: text/plain\nContent-Length: 100\n\nhello' ;;
  clbad) printf 'Content-Type: text/plain\nContent-Length: 12abc\n\nstreamed\n' ;;
  nocl) printf 'Content-Type: text/plain\n\nno length\n' ;;
  barecr) printf 'Content-Type: text/plain\rX-Evil: 1\n\nSCRIPTBYTES\n' ;;
  fold) printf 'Content-Type: text/plain\nX-Fold: a\n  SCRIPTBYTES\n\nSCRIPTBYTES\n' ;;
  nul) printf 'Content-Type: text/pl\000ainSCRIPTBYTES\n\nSCRIPTBYTES\n' ;;
  crinject) printf 'Content-Type: text/plain\nX-A: a\rSet-Cookie: SCRIPTBYTES=1\r\n\r\nSCRIPTBYTES\n' ;;
  ctl) printf 'Content-Type: text/plain\nX-A: a\001SCRIPTBYTES\n\nSCRIPTBYTES\n' ;;
  del) printf 'Content-Type: text/plain\nX-A: a\177SCRIPTBYTES\n\nSCRIPTBYTES\n' ;;
  split) printf 'Content-Type: text/plain\nHTTP/1.1 200 SCRIPTBYTES\n\nSCRIPTBYTES\n' ;;
  spacecolon) printf 'Content-Type : text/plain\n\nSCRIPTBYTES\n' ;;
  nohead) printf 'SCRIPTBYTES: no header block, just text\n' ;;
  notext) printf 'SCRIPTBYTES no header block\n\nmore SCRIPTBYTES\n' ;;
  noblank) printf 'Content-Type: text/plain\nX-A: SCRIPTBYTES\n' ;;
  unterminated) printf 'Content-Type: text/plain\nX-A: SCRIPTBYTES' ;;
  empty) ;;
  onlyother) printf 'X-Only: SCRIPTBYTES\n\nSCRIPTBYTES\n' ;;
  hugehead) printf 'Content-Type: text/plain\nX-Big: '
            head -c 9000 /dev/zero | tr '\0' S
            printf '\n\nSCRIPTBYTES\n' ;;
  hop) printf 'Connection: close\nTransfer-Encoding: chunked\nKeep-Alive: timeout=99\nUpgrade: h2c\n'
       printf 'Proxy-Connection: close\nTE: trailers\nTrailer: X-T\nDate: Thu, 01 Jan 1970 00:00:00 GMT\n'
       printf 'Server: evil/1.0\nContent-Type: text/plain\nX-Kept: yes\n\nhop body\n' ;;
  hopcl) printf 'Connection: close\nKeep-Alive: timeout=99\nContent-Length: 9\nContent-Type: text/plain\n\nhop body\n' ;;
  slow) printf 'Content-Type: text/plain\n\nfirst\n'
        sleep 1
        printf 'second\n' ;;
  splithead) # the header block in pieces, a CRLF split between two writes
    printf 'Content-'
    sleep 0.2
    printf 'Type: text/plain\r'
    sleep 0.2
    printf '\nX-Split: yes\n'
    sleep 0.1
    printf '\nsplit body\n' ;;
  big) printf 'Content-Type: application/octet-stream\nX-Ppid: %s\n\n' "$PPID"
       # 10 MiB: 655360 lines of 16 bytes
       yes 0123456789abcde | head -c 10485760 ;;
  ppid) printf 'Content-Type: text/plain\nContent-Length: 3\nX-Ppid: %s\n\nok\n' "$PPID" ;;
  *) printf 'Status: 400 Unknown Case\nContent-Type: text/plain\n\nunknown case\n' ;;
esac
