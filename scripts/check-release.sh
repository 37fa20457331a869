#!/usr/bin/env bash
# Checks a GoReleaser dist/ (make release-snapshot): every archive and
# package is in SHA256SUMS and verifies; each archive holds the binary,
# README.md and LICENSE; every binary is static (CGO_ENABLED=0, no ELF
# interpreter) and stamped; the linux/amd64 binary runs here and the
# linux/arm64 one under qemu-user, both printing the stamped version and
# commit; the Homebrew cask, the Scoop manifest and the deb/rpm packages exist
# and name the archives' checksums.
#
#   scripts/check-release.sh [dist]
set -euo pipefail
dist="$(cd "${1:-dist}" && pwd)"
QEMU_ARM64="${QEMU_ARM64:-qemu-aarch64-static}"
fail() { echo "check-release: FAIL: $*" >&2; exit 1; }
ok() { echo "check-release: ok   $*"; }

[ -f "$dist/metadata.json" ] || fail "$dist/metadata.json missing: run make release-snapshot"
version="$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' "$dist/metadata.json" | head -n1)"
commit="$(sed -n 's/.*"commit":"\([^"]*\)".*/\1/p' "$dist/metadata.json" | head -n1)"
[ -n "$version" ] && [ -n "$commit" ] || fail "no version/commit in metadata.json"
ok "version $version, commit $commit"

cd "$dist"
[ -f SHA256SUMS ] || fail "SHA256SUMS missing"
sha256sum --quiet --strict -c SHA256SUMS || fail "SHA256SUMS does not verify"
ok "SHA256SUMS: $(wc -l < SHA256SUMS) files verify"

platforms="darwin_arm64 darwin_amd64 linux_amd64 linux_arm64 windows_amd64"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for p in $platforms; do
  ext=tar.gz; exe=mnemo
  case "$p" in windows_*) ext=zip; exe=mnemo.exe ;; esac
  a="mnemo_${version}_${p}.${ext}"
  [ -f "$a" ] || fail "archive $a missing"
  grep -qE "^[0-9a-f]{64}  ${a//./\\.}\$" SHA256SUMS || fail "$a not in SHA256SUMS"
  mkdir -p "$tmp/$p"
  if [ "$ext" = zip ]; then
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$a" "$tmp/$p"
  else
    tar -xzf "$a" -C "$tmp/$p"
  fi
  for f in "$exe" README.md LICENSE; do [ -f "$tmp/$p/$f" ] || fail "$a lacks $f"; done
  info="$(go version -m "$tmp/$p/$exe")" || fail "$a: $exe is not a Go binary"
  grep -qE $'^\tbuild\tCGO_ENABLED=0$' <<<"$info" || fail "$a: not built with CGO_ENABLED=0"
  # -trimpath keeps -ldflags out of the build info: look in the binary.
  grep -aqF -- "$version" "$tmp/$p/$exe" || fail "$a: version $version not stamped"
  grep -aqF -- "$commit" "$tmp/$p/$exe" || fail "$a: commit $commit not stamped"
  if grep -qE $'^\tbuild\tGOEXPERIMENT=.+' <<<"$info"; then fail "$a: built with a GOEXPERIMENT"; fi
  case "$p" in linux_*)
    if readelf -lW "$tmp/$p/$exe" | grep -q 'Requesting program interpreter'; then fail "$a: dynamically linked"; fi ;;
  esac
  ok "$a: $exe + README.md + LICENSE, static, stamped"
done

run_version() { # name, command...
  local name="$1"; shift
  local out
  out="$(MNEMO_HOME="$tmp/home" "$@" version)" || fail "$name: mnemo version failed"
  head -n1 <<<"$out" | grep -qx "mnemo $version" || fail "$name: first line is $(head -n1 <<<"$out"), want mnemo $version"
  grep -qE "^commit +$commit\$" <<<"$out" || fail "$name: commit line missing"
  grep -qE "^date +[0-9]{4}-" <<<"$out" || fail "$name: date line missing"
  grep -qE "^CGO_ENABLED +0\$" <<<"$out" || fail "$name: CGO_ENABLED is not 0"
  ok "$name runs: $(head -n1 <<<"$out"), $(grep -E '^go ' <<<"$out" | tr -s ' ')"
}
if [ "$(uname -m)" = x86_64 ]; then
  run_version linux/amd64 "$tmp/linux_amd64/mnemo"
fi
if command -v "$QEMU_ARM64" >/dev/null 2>&1; then
  run_version "linux/arm64 (qemu-user)" "$QEMU_ARM64" "$tmp/linux_arm64/mnemo"
else
  fail "$QEMU_ARM64 not found: cannot run the linux/arm64 binary"
fi

# Homebrew cask and Scoop manifest: generated, and pointing at these archives.
cask="$(ls homebrew/Casks/mnemo.rb 2>/dev/null || find . -path ./npm -prune -o -name mnemo.rb -print | head -n1)"
[ -n "$cask" ] && [ -f "$cask" ] || fail "Homebrew cask mnemo.rb not generated"
for p in darwin_arm64 darwin_amd64 linux_amd64 linux_arm64; do
  sum="$(grep -E "  mnemo_${version}_${p}\.tar\.gz\$" SHA256SUMS | cut -d' ' -f1)"
  grep -q "$sum" "$cask" || fail "$cask lacks the checksum of $p"
done
ruby_ok=""
if command -v ruby >/dev/null 2>&1; then ruby -c "$cask" >/dev/null || fail "$cask is not valid Ruby"; ruby_ok=", valid Ruby"; fi
ok "Homebrew cask $cask names all four archives' checksums$ruby_ok"
scoop="$(find . -path ./npm -prune -o -name mnemo.json -print | head -n1)"
[ -n "$scoop" ] || fail "Scoop manifest mnemo.json not generated"
python3 - "$scoop" "$(grep -E "  mnemo_${version}_windows_amd64\.zip\$" SHA256SUMS | cut -d' ' -f1)" "$version" <<'EOF' || fail "Scoop manifest $scoop is wrong"
import json, sys
m = json.load(open(sys.argv[1]))
a = m["architecture"]["64bit"]
assert a["hash"] == sys.argv[2], (a["hash"], sys.argv[2])
assert a["url"].endswith(f"mnemo_{sys.argv[3]}_windows_amd64.zip"), a["url"]
assert "mnemo.exe" in json.dumps(a.get("bin", m.get("bin"))), m
assert m["version"] == sys.argv[3], m["version"]
EOF
ok "Scoop manifest $scoop: version, URL and hash of the windows zip"

# deb/rpm (nfpm): present, listed, and holding /usr/bin/mnemo.
for ext in deb rpm; do
  for arch in amd64 arm64; do
    f="mnemo_${version}_linux_${arch}.${ext}"
    [ -f "$f" ] || fail "$f missing"
    grep -q "  ${f}\$" SHA256SUMS || fail "$f not in SHA256SUMS"
  done
done
if command -v dpkg-deb >/dev/null 2>&1; then
  listing="$(dpkg-deb -c "mnemo_${version}_linux_amd64.deb")" || fail "dpkg-deb cannot read the deb"
  grep -q ' \./usr/bin/mnemo$' <<<"$listing" || fail "deb lacks /usr/bin/mnemo"
  ok "deb/rpm for amd64 and arm64; the deb installs /usr/bin/mnemo"
else
  ok "deb/rpm for amd64 and arm64"
fi
echo "check-release: all checks passed for $dist"
