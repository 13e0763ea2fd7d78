#!/usr/bin/env bash
# deps.sh - install the Debian packages db-migrate needs to build, test or demo.
#
#   scripts/deps.sh build     compiler, libraries and headers
#   scripts/deps.sh test      build + PostgreSQL, PgBouncer, OpenSSH server, cmocka, bats, botocore,
#                             sqitch
#   scripts/deps.sh container buildah, podman and debootstrap (image build, end-to-end test)
#   scripts/deps.sh docs      PostgreSQL, cmark-gfm, headless Chromium and fonts (make docs: the
#                             README's pictures of the rendered summary)
#   scripts/deps.sh fuzz      build + clang, libFuzzer, llvm-cov (make fuzz; make check replays the
#                             saved corpus with the test build and needs neither)
#
# Packages already present are not touched; apt-get runs only when one is missing.
set -euo pipefail

build_pkgs=(gcc make pkg-config git libpq-dev libgit2-dev libcurl4-openssl-dev
  libjansson-dev libssh2-1-dev libssl-dev libexpat1-dev libyaml-dev)
test_pkgs=(postgresql-15 postgresql-client-15 openssh-server openssh-client libcmocka-dev
  bats python3 python3-botocore clang-format valgrind openssl procps iproute2 nodejs npm python3-yaml jq
  zsh mandoc pgbouncer iptables
  sqitch libdbd-pg-perl)
container_pkgs=(buildah debootstrap podman fuse-overlayfs)
docs_pkgs=(postgresql-15 postgresql-client-15 python3 cmark-gfm chromium fonts-noto-color-emoji
  fonts-dejavu-core fonts-liberation)
fuzz_pkgs=(clang-14 libfuzzer-14-dev libclang-rt-14-dev llvm-14)

want=()
for set in "$@"; do
  case "$set" in
    build) want+=("${build_pkgs[@]}") ;;
    test) want+=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
    container) want+=("${container_pkgs[@]}") ;;
    docs) want+=("${docs_pkgs[@]}") ;;
    fuzz) want+=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
    *) echo "deps.sh: unknown set '$set' (build, test, container, docs, fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  # Node.js builds from outside Debian bundle npm and conflict with Debian's package.
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
