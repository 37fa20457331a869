#!/bin/sh
# Installs mnemo's static binary from a release: picks the archive for this
# OS and CPU, checks it against the release's SHA256SUMS, and puts `mnemo` in
# ~/.local/bin (or --dir). Never needs root; changes nothing else.
#
#   curl -fsSL https://raw.githubusercontent.com/mnemo-mcp/mnemo/main/scripts/install.sh | sh
#   sh install.sh --dir ~/bin --version v0.3.0
#
# Options (or environment variables):
#   --dir DIR         where to put mnemo                (MNEMO_INSTALL_DIR, default ~/.local/bin)
#   --version TAG     a release tag such as v0.3.0      (MNEMO_VERSION, default the latest release)
#   --base-url URL    where the archives and SHA256SUMS are (MNEMO_BASE_URL; overrides --version)
#   --os OS, --arch ARCH   install another platform's build (darwin|linux, amd64|arm64)
# Windows: use npm (npm i -g @mnemo-mcp/mnemo), Scoop or the zip from the release page.
set -eu

REPO_URL="https://github.com/mnemo-mcp/mnemo"
dir="${MNEMO_INSTALL_DIR:-}"
version="${MNEMO_VERSION:-}"
base_url="${MNEMO_BASE_URL:-}"
os=""
arch=""

say() { printf '%s\n' "mnemo-install: $*" >&2; }
die() { say "error: $*"; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || die "--dir needs a value"; dir="$2"; shift 2 ;;
    --dir=*) dir="${1#*=}"; shift ;;
    --version) [ $# -ge 2 ] || die "--version needs a value"; version="$2"; shift 2 ;;
    --version=*) version="${1#*=}"; shift ;;
    --base-url) [ $# -ge 2 ] || die "--base-url needs a value"; base_url="$2"; shift 2 ;;
    --base-url=*) base_url="${1#*=}"; shift ;;
    --os) [ $# -ge 2 ] || die "--os needs a value"; os="$2"; shift 2 ;;
    --arch) [ $# -ge 2 ] || die "--arch needs a value"; arch="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

if [ -z "$dir" ]; then
  [ -n "${HOME:-}" ] || die "HOME is not set; choose a directory with --dir"
  dir="$HOME/.local/bin"
fi
if [ -z "$base_url" ]; then
  if [ -n "$version" ]; then
    case "$version" in v*) ;; *) version="v$version" ;; esac
    base_url="$REPO_URL/releases/download/$version"
  else
    base_url="$REPO_URL/releases/latest/download"
  fi
fi
base_url="${base_url%/}"

if [ -z "$os" ]; then
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW*|MSYS*|CYGWIN*|Windows_NT) die "on Windows install with npm (npm i -g @mnemo-mcp/mnemo), Scoop, or the zip from $REPO_URL/releases" ;;
    *) die "no mnemo build for $(uname -s); build from source: CGO_ENABLED=0 go install github.com/mnemo-mcp/mnemo/cmd/mnemo@latest" ;;
  esac
fi
if [ -z "$arch" ]; then
  case "$(uname -m)" in
    x86_64|amd64) arch=amd64 ;;
    aarch64|arm64) arch=arm64 ;;
    *) die "no mnemo build for CPU $(uname -m); build from source: CGO_ENABLED=0 go install github.com/mnemo-mcp/mnemo/cmd/mnemo@latest" ;;
  esac
  # An x86_64 shell under Rosetta on Apple Silicon: take the native build.
  if [ "$os" = darwin ] && [ "$arch" = amd64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
    arch=arm64
  fi
fi
case "$os/$arch" in
  linux/amd64|linux/arm64|darwin/amd64|darwin/arm64) ;;
  *) die "no mnemo build for $os/$arch" ;;
esac

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --proto '=https,http,file' --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "need curl or wget to download"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
elif command -v openssl >/dev/null 2>&1; then
  sha256() { openssl dgst -sha256 -r "$1" | cut -d' ' -f1; }
else
  die "need sha256sum, shasum or openssl to verify the download"
fi

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t mnemo-install)"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

say "downloading $base_url/SHA256SUMS"
fetch "$base_url/SHA256SUMS" "$tmp/SHA256SUMS" || die "cannot download $base_url/SHA256SUMS"
# The archive's name carries the version (mnemo_<version>_<os>_<arch>.tar.gz):
# take it from the checksum list rather than guessing it.
line="$(grep -E "^[0-9a-f]{64}  mnemo_[^ /]+_${os}_${arch}\.tar\.gz\$" "$tmp/SHA256SUMS" | head -n 1 || true)"
[ -n "$line" ] || die "no archive for $os/$arch listed in $base_url/SHA256SUMS"
want="${line%% *}"
archive="${line##* }"

say "downloading $archive"
fetch "$base_url/$archive" "$tmp/$archive" || die "cannot download $base_url/$archive"
got="$(sha256 "$tmp/$archive")"
[ "$got" = "$want" ] || die "checksum mismatch for $archive: SHA256SUMS says $want, the download is $got; nothing installed"
say "checksum verified ($want)"

mkdir "$tmp/x"
tar -xzf "$tmp/$archive" -C "$tmp/x" mnemo || die "$archive holds no mnemo binary"
[ -f "$tmp/x/mnemo" ] || die "$archive holds no mnemo binary"
chmod 755 "$tmp/x/mnemo"

mkdir -p "$dir" || die "cannot create $dir; choose another with --dir"
# Copy next to the target, then rename: a running mnemo keeps its old file
# and nobody ever sees a half-written binary.
cp "$tmp/x/mnemo" "$dir/.mnemo.new.$$" || die "cannot write to $dir; choose another with --dir"
mv -f "$dir/.mnemo.new.$$" "$dir/mnemo" || { rm -f "$dir/.mnemo.new.$$"; die "cannot install $dir/mnemo"; }
say "installed $dir/mnemo (${archive%.tar.gz})"

case ":${PATH:-}:" in
  *":$dir:"*) ;;
  *) say "note: $dir is not on your PATH; add it, e.g.: export PATH=\"$dir:\$PATH\"" ;;
esac
say "next: mnemo install   (registers mnemo with Claude Code), then mnemo doctor"
