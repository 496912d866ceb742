#!/bin/sh
# tests/deps.sh -- what the suite needs, from the one list tests/deps.txt.
#
#   sh tests/deps.sh missing   the missing packages, one a line
#   sh tests/deps.sh report    "# missing: PKG (...): what is skipped" lines
#   sh tests/deps.sh install   apt-get update + install of the packages of the
#                              list that are missing (root, Debian): `make deps`
#                              and .ci/run
#   sh tests/deps.sh auto      `make check`: nothing when all is there; as root
#                              install what is missing; otherwise report what
#                              is missing and which tests are skipped.
#                              Exit 1 only if an install was tried and failed.
set -u
cd "$(dirname "$0")/.."
LIST=tests/deps.txt

# the lines of the list: PKG PROBE NEEDS...
entries() { grep -v -E '^[[:space:]]*(#|$)' "$LIST"; }
packages() { entries | awk '{print $1}'; }

# present PROBE: every comma-separated command is on PATH / path glob matches
present() {
  _ifs=$IFS
  IFS=,
  for _p in $1; do
    IFS=$_ifs
    case $_p in
      /*) # shellcheck disable=SC2086
          set -- $_p
          [ -e "$1" ] || return 1 ;;
      *) command -v "$_p" > /dev/null 2>&1 || return 1 ;;
    esac
    IFS=,
  done
  IFS=$_ifs
  return 0
}

missing() {
  entries | while read -r pkg probe needs; do
    present "$probe" || echo "$pkg"
  done
}

report() {
  entries | while read -r pkg probe needs; do
    present "$probe" || echo "# missing: $pkg (no $probe): skipped or failing without it: $needs"
  done
}

install() {
  if [ "$(id -u)" != 0 ]; then
    echo "make deps: needs root to apt-get install (sudo make deps); missing now:"
    report
    return 1
  fi
  if ! command -v apt-get > /dev/null 2>&1; then
    echo "make deps: no apt-get (not Debian): install by hand: $(packages | tr '\n' ' ')"
    return 1
  fi
  want=$(missing | tr '\n' ' ')
  if [ -z "$want" ]; then
    echo "# make deps: every package of $LIST is installed; nothing to do"
    return 0
  fi
  echo "# make deps: apt-get update; apt-get install $want"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $want || return 1
  left=$(missing)
  if [ -n "$left" ]; then
    echo "make deps: installed, but still missing:"
    report
    return 1
  fi
  echo "# make deps: every package of $LIST is installed"
}

auto() {
  left=$(missing)
  if [ -z "$left" ]; then
    echo "# deps: every package of $LIST is installed"
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then
    echo "# deps: missing $(echo $left): running make deps (apt-get, as root)"
    log=$(mktemp)
    if install > "$log" 2>&1; then
      tail -1 "$log"
      rm -f "$log"
      return 0
    fi
    sed 's/^/# deps: /' "$log" | tail -20
    rm -f "$log"
    echo "# deps: make deps failed; the tests below that need these are skipped or fail:"
    report
    return 1
  fi
  echo "# deps: not root (or not Debian), so nothing is installed; run 'sudo make deps'."
  echo "# deps: missing, and what is skipped or fails without it:"
  report
  return 0
}

case ${1:-} in
  missing) missing ;;
  report) report ;;
  install) install ;;
  auto) auto ;;
  *) echo "usage: sh tests/deps.sh missing|report|install|auto" >&2; exit 2 ;;
esac
