#!/usr/bin/env bash
# Builds mediasoup's C++ worker for the installed mediasoup package against Debian's libraries,
# with the patches in ./patches and libsrtp on OpenSSL, and installs it where mediasoup looks
# (node_modules/mediasoup/worker/out/Release/mediasoup-worker).
#
# Why not mediasoup's own postinstall: it downloads a prebuilt binary or meson wraps from GitHub,
# and neither is reachable here. Meson uses a subprojects/<dir> folder when it already exists, so
# each wrap gets a small shim project (./shims) exposing the system library instead.
#
# The result is cached outside the checkout (CI clones afresh), keyed by mediasoup's version and the
# contents of everything in this folder. Usage: build-worker.sh [mediasoup package dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ms_dir=${1:-$(cd "$here/../.." && pwd)/node_modules/mediasoup}
cache_root=${SFU_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/classroom-sfu}
log() { echo "[build-worker] $*"; }

[ -f "$ms_dir/package.json" ] || { echo "[build-worker] mediasoup not installed at $ms_dir: run npm install first" >&2; exit 1; }
version=$(node -p "require('$ms_dir/package.json').version")
# What decides the binary: the mediasoup version, the meson options, the patches, the shims and the
# libsrtp build. (This script's own logging does not, so editing it does not force a rebuild.)
meson_opts=(--wrap-mode=nodownload --buildtype=release -Db_ndebug=true -Dms_disable_liburing=true)
key=$( { echo "$version ${meson_opts[*]}"; find "$here/patches" "$here/patches-libsrtp" "$here/shims" "$here/build-libsrtp.sh" -type f \
  | LC_ALL=C sort | xargs cat; } | sha256sum | cut -c1-16)
cached="$cache_root/mediasoup-worker/$version-$key/mediasoup-worker"
dest="$ms_dir/worker/out/Release/mediasoup-worker"

if [ ! -x "$cached" ]; then
  log "no cached worker for mediasoup $version (key $key): building, about 2-4 minutes"
  work=$(mktemp -d "${TMPDIR:-/tmp}/ms-worker.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  bash "$here/build-libsrtp.sh" "$work/srtp" "$work"

  log "preparing worker source"
  cp -r "$ms_dir/worker" "$work/worker"
  rm -rf "$work/worker/out"
  for p in "$here"/patches/*.patch; do
    log "applying $(basename "$p")"
    patch -d "$work/worker" -p1 --forward --quiet <"$p"
  done
  for wrap in "$work"/worker/subprojects/*.wrap; do
    name=$(basename "$wrap" .wrap)
    dir=$(sed -n 's/^directory *= *//p' "$wrap")
    [ -d "$here/shims/$name" ] || continue # wingetopt: Windows only
    mkdir -p "$work/worker/subprojects/$dir"
    cp "$here/shims/$name"/* "$work/worker/subprojects/$dir/"
  done

  log "meson setup"
  export PKG_CONFIG_PATH="$work/srtp/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  (cd "$work/worker" && meson setup "${meson_opts[@]}" build) >"$work/meson.log" 2>&1 || { tail -40 "$work/meson.log" >&2; exit 1; }
  # The FlatBuffers headers first: otherwise libwebrtc objects race their generation.
  log "generating FlatBuffers headers"
  ninja -C "$work/worker/build" fbs/FBS >"$work/ninja.log" 2>&1 || { tail -40 "$work/ninja.log" >&2; exit 1; }
  log "compiling mediasoup-worker (progress every 25 objects)"
  ninja -C "$work/worker/build" mediasoup-worker 2>&1 | tee -a "$work/ninja.log" \
    | awk '/^\[[0-9]+\/[0-9]+\]/ { s=$1; gsub(/[][]/, "", s); split(s, a, "/"); n=a[1]+0; if (n % 25 == 0 || n == a[2]+0) { print "[build-worker]   " a[1] "/" a[2]; fflush() } }'
  [ "${PIPESTATUS[0]}" -eq 0 ] || { tail -40 "$work/ninja.log" >&2; exit 1; }
  bin="$work/worker/build/mediasoup-worker"
  if ldd "$bin" | grep -q 'libsrtp2\.so'; then
    echo "[build-worker] the worker links a shared libsrtp2, not the OpenSSL build" >&2; exit 1
  fi
  mkdir -p "$(dirname "$cached")"
  cp "$bin" "$cached.tmp" && mv "$cached.tmp" "$cached" # atomic for concurrent runs
  log "cached at $cached"
fi

if ! cmp -s "$cached" "$dest" 2>/dev/null; then
  mkdir -p "$(dirname "$dest")"
  cp "$cached" "$dest.tmp" && mv "$dest.tmp" "$dest"
fi
log "worker ready: $dest"
