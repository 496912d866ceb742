/* tests/cgi-apps/tiny.c -- the smallest fast script, for the bursts of
** tests/cgi.py (cc -O2 -o tiny.cgi tiny.c). */
#include <string.h>
#include <unistd.h>

int
main(void)
{
  static const char out[] = "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\ntiny\n";
  return write(1, out, sizeof out - 1) == (ssize_t)(sizeof out - 1) ? 0 : 1;
}
