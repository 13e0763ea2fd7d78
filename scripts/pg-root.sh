#!/usr/bin/env bash
# pg-root.sh - PostgreSQL majors other than the host's, each in a cached Debian root.
#
#   scripts/pg-root.sh prepare N...   build the roots that are missing (once; reused after)
#   scripts/pg-root.sh path N         print the root of major N
#   scripts/pg-root.sh exec N CMD...  run CMD as the postgres user inside the root of N, with
#                                     /usr/lib/postgresql/N/bin first on PATH
#   scripts/pg-root.sh remove N...    delete roots (refused while a process runs in one)
#   scripts/pg-root.sh list           the roots present, with their PostgreSQL versions
#
# Majors and the Debian suites that ship them: 13 bullseye, 17 trixie, 18 forky. 15 is the
# host's (Debian 12's postgresql-15) and needs no root: prepare accepts it and does nothing.
#
# A root is a debootstrap --variant=minbase tree with postgresql-N installed and no cluster
# created, about 0.5 GB. It is built in a temporary directory beside its final place and
# renamed when complete, under a lock, so an interrupted or concurrent prepare never leaves
# a half-built root where a run would use it; the next prepare deletes the remains. Its
# postgres user has the host's postgres uid and gid, so a data directory or a key file made
# for the host's postgres user is the root's as well.
#
# Mounts. Nothing is ever mounted in a root from the host's point of view. debootstrap, the
# package installation and every exec run in a private mount namespace of their own
# (unshare -m), in which /dev, /proc and /tmp are bind-mounted into the root. The mounts live
# exactly as long as the processes in that namespace: a server started with pg_ctl keeps its
# namespace (and its /proc and /dev) until it stops, and then the kernel drops them. So no
# step unmounts, parallel suites need no count of users, an interrupted run leaves nothing
# mounted, and deleting a root cannot reach the host's /dev, /proc or /tmp through it.
# /tmp is shared so that paths under /tmp (the harness's data directories, certificates,
# sockets) are the same inside the root and out.
#
# Environment: DBM_PG_ROOTS (where roots live, default /var/cache/db-migrate/pg-roots),
# DEBIAN_MIRROR (archive URL, default the host's, else http://deb.debian.org/debian).
# Needs root (debootstrap, chroot, mounts); debootstrap is installed with apt-get if missing.
set -euo pipefail

roots=${DBM_PG_ROOTS:-/var/cache/db-migrate/pg-roots}
me=pg-root.sh

die() {
  echo "$me: $*" >&2
  exit 1
}

suite_of() {
  case "$1" in
    13) echo bullseye ;;
    17) echo trixie ;;
    18) echo forky ;;
    *) die "no Debian suite known for PostgreSQL '$1' (13, 15, 17 or 18)" ;;
  esac
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL $1 runs in a chroot, which needs root: run as root"
}

# The host's Debian archive: the first non-security URIs of its apt sources.
host_mirror() {
  [ -n "${DEBIAN_MIRROR:-}" ] && { echo "$DEBIAN_MIRROR"; return; }
  local m
  m=$(cat /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null |
    grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ') || true
  echo "${m:-http://deb.debian.org/debian}"
}

# The host's Debian apt sources with its codename replaced by SUITE (SUITE-updates and
# SUITE-security follow), on stdout.
sources_for() {
  local suite=$1 codename f
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    if [ -n "$codename" ] && [ -s "$f" ] && grep -q "\b$codename\b" "$f"; then
      grep -v '^#' "$f" | sed "s/\b$codename\b/$suite/g"
      return
    fi
  done
  local mirror
  mirror=$(host_mirror)
  cat <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# mounted_under DIR: succeed when anything is mounted at DIR or below it (in this namespace).
mounted_under() {
  findmnt -rn -o TARGET | grep -qE "^$(printf '%s' "$1" | sed 's/[.[\*^$]/\\&/g')(/|$)"
}

# user_of DIR: the first pid whose root directory is DIR or below it, if any.
user_of() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    case "$r" in "$1" | "$1"/*) echo "${p#/proc/}"; return 0 ;; esac
  done
  return 1
}

# safe_rm DIR: delete a root or a build's remains, never while something is mounted in it or
# a process runs in it.
safe_rm() {
  local dir=$1 pid
  [ -e "$dir" ] || return 0
  mounted_under "$dir" && die "$dir has something mounted in it (findmnt -R $dir): not deleting it"
  pid=$(user_of "$dir") && die "$dir is in use by pid $pid: stop its servers first"
  rm -rf --one-file-system "$dir"
}

# in_root DIR USER CMD...: CMD chrooted in DIR as USER ("uid:gid", or "" for root) in a
# private mount namespace with /dev, /proc and /tmp bound into it; the mounts go when CMD and
# its children end.
in_root() {
  local dir=$1 user=$2
  shift 2
  unshare --mount --propagation private -- /bin/sh -ec '
    r=$1; u=$2; shift 2
    mount --rbind /dev "$r/dev"
    mount --rbind /proc "$r/proc"
    mount --rbind /tmp "$r/tmp"
    [ -z "$u" ] || set -- --userspec="$u" --groups="${u#*:}" "$r" "$@"
    [ -n "$u" ] || set -- "$r" "$@"
    exec chroot "$@"' sh "$dir" "$user" "$@"
}

build() {
  local n=$1 suite dir tmp log script="" start pg_uid pg_gid
  suite=$(suite_of "$n")
  dir=$roots/$n
  log=$roots/$n.log
  start=$(date +%s)
  pg_uid=$(id -u postgres 2>/dev/null) || die "the host has no postgres user (install postgresql-15: scripts/deps.sh test)"
  pg_gid=$(id -g postgres)

  if ! command -v debootstrap >/dev/null; then
    echo "$me: installing debootstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap \
      >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap \
        >/dev/null 2>&1; } || die "could not install debootstrap with apt-get"
  fi
  # debootstrap names each suite's script; a suite newer than it knows is built like sid.
  [ -e "/usr/share/debootstrap/scripts/$suite" ] || script=/usr/share/debootstrap/scripts/sid

  local b
  for b in "$roots"/.build-"$n".*; do
    [ -e "$b" ] && safe_rm "$b"
  done
  tmp=$(mktemp -d "$roots/.build-$n.XXXXXX")
  chmod 755 "$tmp"
  echo "$me: building a Debian $suite root with postgresql-$n in $dir (about a minute, once)" >&2
  : >"$log"

  unshare --mount --propagation private -- debootstrap --variant=minbase "$suite" "$tmp" \
    "$(host_mirror)" $script >>"$log" 2>&1 ||
    die "debootstrap of $suite failed (see $log)"

  sources_for "$suite" >"$tmp/etc/apt/sources.list.d/debian.sources"
  rm -f "$tmp/etc/apt/sources.list"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  # No documentation, and no cluster made by the package: the harness makes its own.
  cat >"$tmp/etc/dpkg/dpkg.cfg.d/db-migrate" <<'EOF'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  mkdir -p "$tmp/etc/postgresql-common"
  echo 'create_main_cluster = false' >"$tmp/etc/postgresql-common/createcluster.conf"
  # The host's postgres uid and gid, before the package would pick its own.
  chroot "$tmp" getent group "$pg_gid" >/dev/null &&
    die "gid $pg_gid (the host's postgres group) is taken in the $suite root (see $tmp/etc/group)"
  chroot "$tmp" getent passwd "$pg_uid" >/dev/null &&
    die "uid $pg_uid (the host's postgres user) is taken in the $suite root (see $tmp/etc/passwd)"
  chroot "$tmp" groupadd -g "$pg_gid" postgres
  chroot "$tmp" useradd -r -u "$pg_uid" -g "$pg_gid" -d /var/lib/postgresql -s /bin/bash \
    -c 'PostgreSQL administrator' postgres

  # Testing's Release files expire within days: behind a mirror that lags (or a snapshot),
  # or with a clock ahead of it, apt would refuse them. Signatures are still checked.
  in_root "$tmp" "" /usr/bin/env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -ec '
      apt-get update -q -o Acquire::Check-Valid-Until=false
      apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold \
        postgresql-'"$n"'
      apt-get clean
      rm -rf /var/lib/apt/lists/*' >>"$log" 2>&1 ||
    die "installing postgresql-$n in the $suite root failed (see $log)"
  [ -x "$tmp/usr/lib/postgresql/$n/bin/postgres" ] ||
    die "postgresql-$n in the $suite root has no /usr/lib/postgresql/$n/bin/postgres (see $log)"

  printf 'suite=%s\npostgres=%s\nuid=%s\ngid=%s\nbuilt=%s\nseconds=%s\n' "$suite" \
    "$(chroot "$tmp" "/usr/lib/postgresql/$n/bin/postgres" --version)" "$pg_uid" "$pg_gid" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(($(date +%s) - start))" >"$tmp/.dbm-pg-root"
  mv "$tmp" "$dir"
  echo "$me: PostgreSQL $n ready in $dir ($(du -sh --one-file-system "$dir" | cut -f1), $(($(date +%s) - start))s)" >&2
}

prepare() {
  local n
  for n in "$@"; do
    [ "$n" = 15 ] && continue
    suite_of "$n" >/dev/null
    need_root "$n"
    [ -f "$roots/$n/.dbm-pg-root" ] && continue
    mkdir -p "$roots"
    # One builder per major; a second prepare waits, then finds the root made.
    (
      flock 9
      [ -f "$roots/$n/.dbm-pg-root" ] && exit 0
      # A root without its stamp is one whose build was not finished.
      [ -e "$roots/$n" ] && safe_rm "$roots/$n"
      build "$n"
    ) 9>"$roots/.$n.lock"
  done
}

root_of() {
  suite_of "$1" >/dev/null
  [ -f "$roots/$1/.dbm-pg-root" ] ||
    die "no root for PostgreSQL $1 in $roots: run scripts/pg-root.sh prepare $1"
  echo "$roots/$1"
}

# exec N CMD...: CMD as postgres in the root, with a clean environment but for PG* and TZ.
run_in() {
  local n=$1 dir uid gid v
  shift
  need_root "$n"
  dir=$(root_of "$n")
  uid=$(sed -n 's/^uid=//p' "$dir/.dbm-pg-root")
  gid=$(sed -n 's/^gid=//p' "$dir/.dbm-pg-root")
  [ "$uid" = "$(id -u postgres 2>/dev/null)" ] ||
    die "the root of PostgreSQL $n has postgres uid $uid, the host $(id -u postgres 2>/dev/null): rebuild it (scripts/pg-root.sh remove $n)"
  local envs=(PATH="/usr/lib/postgresql/$n/bin:/usr/bin:/bin" HOME=/var/lib/postgresql LANG=C.UTF-8)
  for v in $(compgen -e | grep -E '^(PG[A-Z]+|TZ)$'); do envs+=("$v=${!v}"); done
  in_root "$dir" "$uid:$gid" /usr/bin/env -i "${envs[@]}" "$@"
}

list() {
  local d
  for d in "$roots"/*/; do
    [ -f "$d.dbm-pg-root" ] || continue
    printf '%s  %s  %s\n' "$(basename "$d")" "$(sed -n 's/^postgres=//p' "$d.dbm-pg-root")" "${d%/}"
  done
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  prepare) prepare "$@" ;;
  path)
    [ $# -eq 1 ] || die "usage: pg-root.sh path N"
    root_of "$1"
    ;;
  exec)
    [ $# -ge 2 ] || die "usage: pg-root.sh exec N CMD [ARG...]"
    run_in "$@"
    ;;
  remove)
    for n in "$@"; do
      suite_of "$n" >/dev/null
      need_root "$n"
      safe_rm "$roots/$n"
      rm -f "$roots/$n.log"
    done
    ;;
  list) list ;;
  *)
    echo "usage: pg-root.sh prepare N... | path N | exec N CMD... | remove N... | list" >&2
    exit 2
    ;;
esac
