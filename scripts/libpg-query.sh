#!/usr/bin/env bash
# libpg-query.sh - the libpg_query that db-migrate is built with, prepared once per machine.
#
#   scripts/libpg-query.sh      print the directory holding include/ and lib/libpg_query.a,
#                               preparing it first when it is missing
#
# The SQL checks must accept what the newest supported PostgreSQL accepts, so db-migrate is
# built with libpg_query 18 (PostgreSQL 18's grammar), not Debian 12's libpg-query-dev (15).
# It is Debian's own build, libpg-query-dev 18.0.0-3 from forky, fetched from Debian's archive
# and checked against the pinned SHA-256 below; once that version has left the archive (a suite
# keeps only its current one), forky's current 18.x, checked against forky's signed index,
# and the same probes below. Debian's archive serves the binary package;
# the source tarball is not served by every mirror. Its static library, built with a newer
# glibc than Debian 12's 2.36, references two functions that glibc gained in 2.38
# (strlcpy, and __isoc23_strtoul, which only differs from strtoul by reading a 0b prefix in
# base 0 or 2, never used there: the scanner calls it in base 10); libpg-query-compat.c
# defines them and is added to the archive, so every link (make, the Dockerfile, CI, the
# test helpers) uses the same self-contained library and grammar.
#
# The result is kept in $DBM_CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/db-migrate),
# shared by every clone and run; it is prepared in a temporary directory and renamed when
# complete, so an interrupted run leaves nothing half made. Messages go to stderr; stdout
# holds only the directory. Environment: DEBIAN_MIRROR (archive URL), DBM_CACHE_DIR.
set -euo pipefail

version=18.0.0-3
arch=amd64
sha256=ac892ed12440b2372dc8b34a97efbe44a3a473bcf345ecc8cf40f52b36ee9abb
deb=libpg-query-dev_${version}_${arch}.deb
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${DBM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/db-migrate}
dir=$cache/libpg_query-$version # named for the pin, even when forky has moved on
here=$(cd "$(dirname "$0")" && pwd)

if [ -f "$dir/.installed" ]; then
  echo "$dir"
  exit 0
fi

fail() {
  echo "libpg-query.sh: $1" >&2
  echo "hint: $2" >&2
  exit 2
}

host_arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
[ "$host_arch" = "$arch" ] ||
  fail "no pinned libpg_query 18 for architecture '$host_arch'" \
    "add its package's SHA-256 to scripts/libpg-query.sh (only $arch is pinned)"

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.libpg_query.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The version the suite carries now, when the pinned one has left the archive (a suite
# keeps only its current version): apt fetches forky's signed index into a private state
# directory, and `apt-get download` checks the package against it. Only an 18.x is taken;
# the probe below still checks that it links and reads 18's grammar.
fetch_current() {
  local a="$tmp/apt"
  mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
  echo "deb [arch=$arch] $mirror forky main" >"$a/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$a/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o Dir::State::status=/dev/null
    -o APT::Sandbox::User=root -o Acquire::Check-Valid-Until=false)
  apt-get "${opts[@]}" update >"$tmp/update.log" 2>&1 || {
    cat "$tmp/update.log" >&2
    return 1
  }
  version=$(apt-cache "${opts[@]}" show libpg-query-dev 2>/dev/null | sed -n 's/^Version: //p' | head -1)
  case $version in
  18.*) ;;
  *) echo "libpg-query.sh: forky carries libpg-query-dev '${version:-none}', not 18" >&2; return 1 ;;
  esac
  (cd "$tmp" && apt-get "${opts[@]}" download "libpg-query-dev=$version") >"$tmp/download.log" 2>&1 || {
    cat "$tmp/download.log" >&2
    return 1
  }
  deb=$(cd "$tmp" && ls libpg-query-dev_*.deb)
}

echo "libpg-query.sh: fetching $deb" >&2
url=$mirror/pool/main/libp/libpg-query/$deb
# apt's own downloader: present wherever apt is, and it checks the hash.
if /usr/lib/apt/apt-helper -o APT::Sandbox::User=root download-file "$url" "$tmp/$deb" \
  "SHA256:$sha256" >/dev/null 2>"$tmp/fetch.log"; then
  echo "$sha256  $tmp/$deb" | sha256sum --check --quiet >&2 ||
    fail "'$deb' does not match its pinned SHA-256" "fetch it again; if it persists, the mirror is wrong"
else
  echo "libpg-query.sh: $deb is not in the archive any more; taking forky's current 18.x" >&2
  fetch_current || fail "could not fetch libpg-query-dev 18 from '$mirror'" \
    "check that Debian's archive is reachable (DEBIAN_MIRROR), or pin the new version here"
  echo "libpg-query.sh: fetched $deb (verified against forky's signed index)" >&2
fi

dpkg-deb -x "$tmp/$deb" "$tmp/root"
mkdir -p "$tmp/out/lib"
mv "$tmp/root/usr/include" "$tmp/out/include"
mv "$tmp/root/usr/lib/x86_64-linux-gnu/libpg_query.a" "$tmp/out/lib/libpg_query.a"
${CC:-cc} -std=c11 -O2 -fPIC -Wall -Wextra -Werror -c -o "$tmp/compat.o" "$here/libpg-query-compat.c"
ar rs "$tmp/out/lib/libpg_query.a" "$tmp/compat.o" 2>/dev/null
cp "$tmp/root/usr/share/doc/libpg-query-dev/copyright" "$tmp/out/copyright"

# The library links on this machine and parses PostgreSQL 18's grammar (an unaliased
# subquery in FROM is accepted from 16 on).
cat >"$tmp/probe.c" <<'EOF'
#include <pg_query.h>
#include <stdio.h>
int main(void)
{
    PgQueryParseResult r = pg_query_parse("SELECT * FROM (SELECT 1)");
    int bad = r.error != NULL;
    if (bad)
        fprintf(stderr, "%s\n", r.error->message);
    pg_query_free_parse_result(r);
    return bad;
}
EOF
${CC:-cc} -std=c11 -I"$tmp/out/include" -o "$tmp/probe" "$tmp/probe.c" "$tmp/out/lib/libpg_query.a" ||
  fail "libpg_query $version does not link on this machine" "see the linker's message above"
"$tmp/probe" || fail "libpg_query $version does not parse PostgreSQL 18's grammar" "see above"

echo "$version" >"$tmp/out/VERSION"
touch "$tmp/out/.installed"
rm -rf "$dir"
mv "$tmp/out" "$dir"
echo "libpg-query.sh: libpg_query $version ready in $dir" >&2
echo "$dir"
