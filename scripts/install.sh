#!/bin/sh
# Installs rbic from a release: detects the platform, downloads the tarball and its checksum (or
# takes a local file or a URL), verifies the sha256 — a mismatch installs nothing — and puts
# `rbic` in ~/.local/bin (or PREFIX/bin). Running it again with the same release changes nothing.
#
#   curl -fsSL https://github.com/your-org/rbic/raw/main/scripts/install.sh | sh
#   sh install.sh [--version 0.4.0] [--prefix DIR] [--from FILE|URL] [--sha256 HASH]
#
#   --version V   the release to install (default: the latest release)
#   --prefix DIR  install to DIR/bin (default: ~/.local)
#   --from X      a release tarball, a local file or a URL, instead of downloading by version;
#                 its checksum is X.sha256 beside it unless --sha256 gives it
#   --sha256 H    the expected sha256 of the tarball
# Environment: RBIC_REPO (default your-org/rbic), the GitHub repository releases come from;
# RBIC_DOWNLOAD_BASE (default https://github.com/RBIC_REPO/releases/download), a mirror laid out
# the same way: BASE/vVERSION/rbic-VERSION-PLATFORM.tar.gz and its .sha256.
# Exit: 0 installed (or already installed), 1 refused (checksum, a binary that does not run here),
# 2 bad usage, 3 no download tool, an unsupported platform or a failed download.
set -eu

repo="${RBIC_REPO:-your-org/rbic}"
version=""
prefix="${HOME:?HOME is not set}/.local"
from=""
expected=""

say() { printf '%s\n' "$*"; }
fail() {
  code="$1"
  shift
  printf 'rbic install: %s\n' "$*" >&2
  exit "$code"
}
usage() {
  if [ -f "$0" ]; then sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; else say "usage: sh install.sh [--version V] [--prefix DIR] [--from FILE|URL] [--sha256 HASH]"; fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --version | --prefix | --from | --sha256)
      [ $# -ge 2 ] || fail 2 "$1 needs a value"
      case "$1" in
        --version) version="${2#v}" ;;
        --prefix) prefix="$2" ;;
        --from) from="$2" ;;
        --sha256) expected="$2" ;;
      esac
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) fail 2 "unknown argument \`$1\` (see --help)" ;;
  esac
done

platform() {
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=macos ;;
    *) fail 3 "no release for $(uname -s): build from source (README)" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) if [ "$os" = macos ]; then arch=arm64; else arch=aarch64; fi ;;
    *) fail 3 "no release for $(uname -m): build from source (README)" ;;
  esac
  printf '%s-%s\n' "$os" "$arch"
}

# download URL FILE: curl or wget; file:// URLs too (curl).
download() {
  if command -v curl > /dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1" || fail 3 "could not download $1"
  elif command -v wget > /dev/null 2>&1; then
    wget -q -O "$2" "$1" || fail 3 "could not download $1"
  else
    fail 3 "neither curl nor wget is installed"
  fi
}

sha256() {
  if command -v sha256sum > /dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum > /dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl > /dev/null 2>&1; then
    openssl dgst -sha256 "$1" | sed 's/.*= *//'
  else
    fail 3 "no sha256 tool (sha256sum, shasum or openssl)"
  fi
}

latest() {
  command -v curl > /dev/null 2>&1 || fail 3 "finding the latest release needs curl; pass --version"
  # GitHub redirects releases/latest to releases/tag/vX.Y.Z.
  url=$(curl -fsSLI -o /dev/null -w '%{url_effective}' "https://github.com/$repo/releases/latest") ||
    fail 3 "could not find the latest release of $repo; pass --version"
  tag="${url##*/}"
  case "$tag" in
    v[0-9]*) printf '%s\n' "${tag#v}" ;;
    *) fail 3 "could not find the latest release of $repo (got $url); pass --version" ;;
  esac
}

work=$(mktemp -d 2> /dev/null || mktemp -d -t rbic-install)
trap 'rm -rf "$work"' EXIT INT TERM

if [ -z "$from" ]; then
  [ -n "$version" ] || version=$(latest)
  name="rbic-$version-$(platform)"
  from="${RBIC_DOWNLOAD_BASE:-https://github.com/$repo/releases/download}/v$version/$name.tar.gz"
fi

tarball="$work/rbic.tar.gz"
case "$from" in
  *://*)
    download "$from" "$tarball"
    [ -n "$expected" ] || {
      download "$from.sha256" "$work/sha256"
      expected=$(cut -d ' ' -f 1 < "$work/sha256")
    }
    ;;
  *)
    [ -f "$from" ] || fail 2 "no such file: $from"
    cp "$from" "$tarball"
    if [ -z "$expected" ]; then
      [ -f "$from.sha256" ] || fail 1 "no checksum for $from: $from.sha256 is missing (or pass --sha256 HASH); nothing installed"
      expected=$(cut -d ' ' -f 1 < "$from.sha256")
    fi
    ;;
esac

actual=$(sha256 "$tarball")
if [ "$actual" != "$expected" ]; then
  fail 1 "checksum mismatch for $from: expected $expected, got $actual; nothing installed"
fi

mkdir "$work/x"
tar -xzf "$tarball" -C "$work/x" || fail 1 "$from is not a release tarball; nothing installed"
binary=$(find "$work/x" -type f -name rbic | head -n 1)
[ -n "$binary" ] || fail 1 "$from holds no rbic binary; nothing installed"
chmod 755 "$binary"
said=$("$binary" --version 2>&1) || fail 1 "the rbic in $from does not run on this machine: $said; nothing installed"

bin="$prefix/bin"
target="$bin/rbic"
if [ -f "$target" ] && cmp -s "$binary" "$target"; then
  say "$said is already installed at $target"
else
  mkdir -p "$bin"
  # Copy beside the target, then rename: a running rbic keeps its file, and an interrupted
  # install never leaves half a binary.
  cp "$binary" "$target.installing.$$"
  chmod 755 "$target.installing.$$"
  mv -f "$target.installing.$$" "$target"
  say "installed $said at $target"
fi

case ":${PATH:-}:" in
  *":$bin:"*) ;;
  *)
    say "$bin is not on your PATH; add this line to your shell's profile (.profile, .bashrc or"
    say ".zshrc in your home directory), then open a new shell:"
    say "  export PATH=\"$bin:\$PATH\""
    ;;
esac
