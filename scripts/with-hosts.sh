#!/usr/bin/env bash
# with-hosts.sh MODE CMD [ARG...] - run CMD with another /etc/hosts, the rest of the machine
# unchanged.
#
# MODE says what `localhost` resolves to:
#   debian   ::1 first, then 127.0.0.1: Debian's default /etc/hosts (127.0.0.1 and ::1 both
#            named localhost; getaddrinfo sorts ::1 first)
#   ipv4     127.0.0.1 only
#   ipv6     ::1 only
#   FILE     that hosts file as it is
#   host     the machine's own /etc/hosts (CMD is run directly)
# The other names of the machine's /etc/hosts are kept in every mode.
#
# CMD runs in a private mount namespace (unshare -m) in which the hosts file is bind-mounted
# over /etc/hosts: every process CMD starts (servers included) sees it, nothing outside does,
# and the mount goes when the last of them ends, so there is nothing to undo. Needs root
# (unshare); ::1 must exist on the loopback interface for the modes that name it.
set -euo pipefail

me=with-hosts.sh
[ $# -ge 2 ] || { echo "usage: $me debian|ipv4|ipv6|host|FILE CMD [ARG...]" >&2; exit 2; }
mode=$1
shift

hosts_for() {
  case "$1" in
    debian)
      printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
      printf 'ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n'
      ;;
    ipv4) printf '127.0.0.1\tlocalhost\n' ;;
    ipv6) printf '::1\tlocalhost ip6-localhost ip6-loopback\n' ;;
  esac
  # The machine's lines that do not name localhost (its own name, other hosts).
  grep -vE '(^|[[:space:]])(localhost|ip6-localhost|ip6-loopback)([[:space:]]|$)' /etc/hosts || true
}

case "$mode" in
  host | '') exec "$@" ;;
  debian | ipv4 | ipv6) ;;
  *) [ -f "$mode" ] || { echo "$me: '$mode' is not debian, ipv4, ipv6, host or a hosts file" >&2; exit 2; } ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "$me: a private /etc/hosts needs root (unshare -m): run as root" >&2; exit 2; }
if [ "$mode" != ipv4 ] && [ ! -f "$mode" ] &&
  ! python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  echo "$me: this machine has no ::1 (IPv6 loopback), which mode $mode needs" >&2
  exit 2
fi

# The file lives as long as the namespace needs it: it is removed once mounted (the mount
# keeps it), so an interrupted run leaves nothing behind. Run inside another with-hosts.sh
# (a test of hosts.bats under `make check HOSTS=...`), the outer file is unmounted first:
# a deleted file cannot be mounted over.
file=$(mktemp /tmp/dbm-hosts.XXXXXX)
if [ -f "$mode" ]; then cat "$mode" >"$file"; else hosts_for "$mode" >"$file"; fi
chmod 644 "$file"
exec unshare --mount --propagation private -- /bin/sh -ec '
  case "$(findmnt -n -o FSROOT /etc/hosts 2>/dev/null)" in
    */dbm-hosts.*) umount /etc/hosts ;;
  esac
  mount --bind "$1" /etc/hosts || { rm -f "$1"; exit 2; }
  rm -f "$1"
  shift
  exec "$@"' sh "$file" "$@"
