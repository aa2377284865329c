#!/usr/bin/env bash
# Build infragen for one target and package it for a release:
#   dist/infragen-<target>/infragen[.exe]        the binary
#   dist/infragen-<target>.tar.gz (.zip on Windows) and its .sha256
# Used by .github/workflows/release.yml on every platform, by the Dockerfile's build stage
# (Linux musl, inside rust:alpine) and by .ci/run (host target, dev profile) so the commands
# the release depends on are exercised on every CI run.
#
# Usage: scripts/build-static.sh TARGET [PROFILE]     PROFILE: release (default) or dev
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: scripts/build-static.sh TARGET [release|dev]}
profile=${2:-release}
case "$profile" in
  release) dir=release ;;
  dev) dir=debug ;;
  *) echo "profile must be release or dev, not $profile" >&2; exit 2 ;;
esac

# Static binaries: musl links statically by default; Windows needs the C runtime linked in.
case "$target" in
  *-windows-msvc) export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"; exe=.exe ;;
  *) exe= ;;
esac

# The host's own target builds into target/<profile>, where `cargo test` already built it.
host=$(rustc -vV | sed -n 's/^host: //p')
if [ "$target" = "$host" ]; then
  cargo build --locked --profile "$profile" --bin infragen
  out="target/$dir"
else
  cargo build --locked --profile "$profile" --target "$target" --bin infragen
  out="target/$target/$dir"
fi

name="infragen-$target"
stage="dist/$name"
rm -rf "$stage"
mkdir -p "$stage"
cp "$out/infragen$exe" "$stage/"
cp README.md "$stage/"

# The binary must run and report its version (a cross-built binary that cannot run here is
# skipped: the release runs each target on its own runner).
if "$stage/infragen$exe" --version >/dev/null 2>&1; then
  "$stage/infragen$exe" --version
fi

cd dist
case "$target" in
  *-windows-*)
    archive="$name.zip"
    rm -f "$archive"
    if command -v 7z >/dev/null 2>&1; then
      7z a -tzip "$archive" "$name" >/dev/null
    else
      python3 -c 'import shutil, sys; shutil.make_archive(sys.argv[1], "zip", ".", sys.argv[1])' "$name"
    fi
    ;;
  *)
    archive="$name.tar.gz"
    tar -czf "$archive" "$name"
    ;;
esac
if command -v sha256sum >/dev/null 2>&1; then
  sha256sum "$archive" >"$archive.sha256"
else
  shasum -a 256 "$archive" >"$archive.sha256"
fi
cat "$archive.sha256"
