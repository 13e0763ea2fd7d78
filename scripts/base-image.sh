#!/usr/bin/env bash
# base-image.sh - make the Dockerfile's base image locally when it is missing.
#
#   scripts/base-image.sh          ensure docker.io/library/debian:bookworm-slim exists
#
# Where no registry serves base images, the image is built from Debian's archive with
# debootstrap (minbase variant) and imported into containers/storage, which buildah and
# podman share. It is trimmed the way Debian's slim images are (no docs, man pages or
# locales; apt keeps no package lists or archives). Nothing is done when the image exists;
# the root filesystem tarball is cached, so after the storage is wiped the image is
# re-imported in seconds instead of bootstrapped again.
#
# Environment: DBM_BASE_IMAGE (image name), DEBIAN_MIRROR (archive URL),
# DBM_CACHE_DIR (tarball cache, default ${XDG_CACHE_HOME:-~/.cache}/db-migrate).
set -euo pipefail

image=${DBM_BASE_IMAGE:-docker.io/library/debian:bookworm-slim}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${DBM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/db-migrate}
tarball=$cache/debian-bookworm-slim-rootfs.tar

if podman image exists "$image" 2>/dev/null; then
  exit 0
fi

for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || {
    echo "base-image.sh: '$tool' is missing" >&2
    echo "hint: run scripts/deps.sh container" >&2
    exit 2
  }
done

import() {
  podman import --quiet --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" "$image" >/dev/null
  echo "base-image.sh: imported $image from $tarball" >&2
}

if [ -s "$tarball" ]; then
  import
  exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "base-image.sh: debootstrap needs root" >&2; exit 2; }
mkdir -p "$cache"
work=$(mktemp -d "$cache/rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

echo "base-image.sh: bootstrapping Debian bookworm from $mirror (a few minutes, once)" >&2
start=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}

# The trimming Debian's slim images apply, so later apt-get installs stay small too.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
cat >"$root/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
Acquire::Languages "none";
EOF
cat >"$root/etc/apt/apt.conf.d/docker-gzip-indexes" <<'EOF'
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
EOF
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
find "$root/usr/share/doc" -mindepth 2 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
  "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/* "$root"/tmp/* \
  "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
# No host identity in the image.
: >"$root/etc/hostname"
rm -f "$root/etc/resolv.conf"

tar --numeric-owner -C "$root" -cf "$tarball.part" .
mv "$tarball.part" "$tarball"
import
echo "base-image.sh: done in $(($(date +%s) - start))s" >&2
