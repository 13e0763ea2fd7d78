#!/usr/bin/env bash
# fresh-root-check.sh [--keep] [--rebootstrap] [REPO [BRANCH]] - a new user's first run, in a
# fresh Debian 12 root: clone, then exactly the README's two commands.
#
# In a new debootstrap --variant=minbase root of bookworm, with the host's Debian apt sources,
# resolver and local certificate authorities, and Debian's default /etc/hosts (localhost as 127.0.0.1 and ::1, as the
# installer writes it), it installs git and make (what the README asks of a machine), runs
# `git clone --branch BRANCH REPO` in root's home, then `make demo` and `make check` in the
# clone, in a clean environment (HOME=/root, no LANG), and times each. Nothing is done by
# hand in between.
#
#   REPO     the repository to clone (default: the main checkout of this one)
#   BRANCH   its branch (default: the branch checked out here)
#   --keep   keep the root afterwards (printed); by default it is deleted
#   --rebootstrap  debootstrap again instead of unpacking the cached pristine root
#
# The pristine root (debootstrap's output, before anything is changed in it) is cached as
# a tarball in $DBM_FRESH_ROOTS (default /var/cache/db-migrate/fresh-root); every run
# unpacks it into a new directory, so each run starts from a clean root. REPO is bound
# read-only into the root at the same path.
#
# Mounts: the root on itself, /proc, /sys, /dev (with /dev/pts and /dev/shm) and REPO are
# mounted in the root in a private mount namespace (unshare -m), unmounted at the end of the
# run, and gone with the namespace anyway: the host never sees them. The root is deleted only when nothing is
# mounted in it and no process runs in it.
#
# Output: the run's log in $DBM_FRESH_ROOTS/last.log; the last lines are the times and
# results, e.g. "make demo: 0 (95s)" and "make check: 0 (1302s) total: N passed, ...".
# Exit status 0 when both commands succeeded. Needs root and Debian's archive.
set -euo pipefail

me=fresh-root-check.sh
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${DBM_FRESH_ROOTS:-/var/cache/db-migrate/fresh-root}
keep=0
rebootstrap=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --rebootstrap) rebootstrap=1 ;;
    -*) echo "usage: $me [--keep] [--rebootstrap] [REPO [BRANCH]]" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
repo=${1:-$(dirname "$(git -C "$here" rev-parse --path-format=absolute --git-common-dir)")}
branch=${2:-$(git -C "$here" rev-parse --abbrev-ref HEAD)}

die() {
  echo "$me: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts)"
git -C "$repo" rev-parse --verify -q "refs/heads/$branch" >/dev/null ||
  die "$repo has no branch '$branch'"
command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"

mkdir -p "$cache"
log=$cache/last.log
: >"$log"
tarball=$cache/bookworm-minbase.tar
mirror=$(grep -hoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/debian.sources \
  /etc/apt/sources.list 2>/dev/null | grep -v security | head -1 | tr -d ' ') || true
mirror=${mirror:-http://deb.debian.org/debian}

say() { echo "$me: $*" | tee -a "$log" >&2; }

# The same checks as pg-root.sh's safe_rm: nothing mounted below DIR, no process rooted in it.
safe_rm() {
  local dir=$1 p r
  [ -e "$dir" ] || return 0
  findmnt -rn -o TARGET | grep -qE "^$(printf '%s' "$dir" | sed 's/[.[\*^$]/\\&/g')(/|$)" &&
    die "$dir has something mounted in it (findmnt -R $dir): not deleting it"
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    case "$r" in "$dir" | "$dir"/*) die "$dir is in use by pid ${p#/proc/}: not deleting it" ;; esac
  done
  rm -rf --one-file-system "$dir"
}

t0=$(date +%s)
if [ "$rebootstrap" = 1 ] || [ ! -s "$tarball" ]; then
  say "debootstrap --variant=minbase bookworm (cached as $tarball for the next runs)"
  tmp=$(mktemp -d "$cache/.bootstrap.XXXXXX")
  unshare --mount --propagation private -- debootstrap --variant=minbase bookworm "$tmp" \
    "$mirror" >>"$log" 2>&1 || { safe_rm "$tmp"; die "debootstrap failed (see $log)"; }
  tar -C "$tmp" --numeric-owner -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
  safe_rm "$tmp"
fi
root=$(mktemp -d "$cache/root.XXXXXX")
tar -C "$root" --numeric-owner -xf "$tarball"
# The root directory itself: mktemp's 0700 would keep every user but root out of it.
chmod 755 "$root"
say "fresh root $root ($(($(date +%s) - t0))s)"

# What a Debian 12 machine has that a debootstrap root lacks: the archive's sources (the
# host's), a resolver, an /etc/hosts as the installer writes it, the site's certificate
# authorities if any.
cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
rm -f "$root/etc/apt/sources.list"
# The host's view of its archive's Release dates (a mirror or snapshot may lag the clock).
for f in /etc/apt/apt.conf.d/*; do
  grep -qs 'Check-Valid-Until\|Check-Date' "$f" &&
    grep -h 'Check-Valid-Until\|Check-Date' "$f" >>"$root/etc/apt/apt.conf.d/90archive-dates"
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The machine's own certificate authorities (a site's TLS proxy, say): a machine on this
# network has them; ca-certificates adds them to the store when apt installs it.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
cat >"$root/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	$(hostname)
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF
mkdir -p "$root$repo"

# The user's session: root's shell in the new root, with the environment a login gives.
cat >"$root/root/first-run.sh" <<EOF
#!/bin/sh
# A new user's first run, as the README tells it.
export DEBIAN_FRONTEND=noninteractive
set -e
apt-get update -q
apt-get install -y -q git make
cd /root
git clone --branch '$branch' '$repo' db-migrate
cd db-migrate
git log -1 --format='commit %H %s'
set +e
s=\$(date +%s)
make demo
echo "== make demo: \$? (\$((\$(date +%s) - s))s)"
s=\$(date +%s)
make check
echo "== make check: \$? (\$((\$(date +%s) - s))s)"
EOF
chmod 755 "$root/root/first-run.sh"

say "in the root: apt-get install git make; git clone --branch $branch $repo; make demo; make check"
t1=$(date +%s)
set +e
unshare --mount --propagation private -- /bin/sh -c '
  r=$1; repo=$2
  # The root is a mount point, as a machine'"'"'s / is: containers/storage (podman import,
  # buildah) remounts / when it unpacks a layer.
  mount --bind "$r" "$r" &&
  mount -t proc proc "$r/proc" &&
  mount --rbind /sys "$r/sys" &&
  mount --rbind /dev "$r/dev" &&
  mount --bind -o ro "$repo" "$r$repo" || exit 90
  chroot "$r" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/sh \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
    /root/first-run.sh
  rc=$?
  # Servers a failed run left behind would keep the namespace (and its mounts) alive.
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$r" ] && [ "${p#/proc/}" != $$ ] &&
      kill -9 "${p#/proc/}" 2>/dev/null
  done
  umount -R "$r" 2>/dev/null
  exit $rc' sh "$root" "$repo" 2>&1 | tee -a "$log" | grep -E '^(== |commit |deps.sh|total: |E: )'
status=${PIPESTATUS[0]}
set -e
[ "$status" -ne 90 ] || die "could not mount /proc, /sys or /dev in $root"

demo=$(sed -n 's/^== make demo: //p' "$log" | tail -1) || true
check=$(sed -n 's/^== make check: //p' "$log" | tail -1) || true
total=$(grep -E '^total: [0-9]+ passed' "$log" | tail -1) || true
if [ "$keep" = 1 ]; then
  say "root kept: $root (delete it with: rm -rf --one-file-system $root, once nothing runs in it)"
else
  safe_rm "$root"
fi
echo "fresh root: $(($(date +%s) - t0))s, of which the user's session $(($(date +%s) - t1))s"
echo "make demo: ${demo:-not run}"
echo "make check: ${check:-not run} ${total}"
[ "${demo%% *}" = 0 ] && [ "${check%% *}" = 0 ]
