#!/usr/bin/env bash
# Packs what the load-test scenarios need at run time on a bare x86-64 Linux machine (no Node, no
# npm, no network, not Debian: only coreutils, tar, xz or python3, bash) into .devbundle/:
#   bin/node                 this machine's Node (stripped)
#   lib/                     the shared libraries Node, the mediasoup worker and the load generator
#                            link, from ldd, glibc's own (libc, libm, libdl, libpthread, librt,
#                            ld-linux) left to the target; libstdc++ and libgcc_s in lib/cxx/
#   app/                     a run tree: package.json, dist/ (the server), the node_modules the
#                            server and the scenarios import (bench/device/deps.mjs) with the
#                            mediasoup worker (stripped), bench/.build/ (every scenario, bundled,
#                            and the load generator), bench/run.mjs, bench/loadgen/ (its stamp check)
#   etc/openssl.cnf          empty: the Debian OpenSSL the worker and generator carry reads no config
#                            of the target's
#   MANIFEST                 what was packed, from which commit, the newest glibc symbol it needs
# as .devbundle/sfu-bench.tar.xz (+ .sha256). bench/device/run.sh unpacks and runs it there.
#
# Usage: bash bench/device/bundle.sh [--no-build]
#   builds first (node scripts/build.mjs, the load generator, node bench/run.mjs --build: every
#   bench/*.ts); --no-build packs what is already built. Prints the bundle's size last.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
log() { echo "[bundle] $*" >&2; }
build=1
[ "${1:-}" = "--no-build" ] && build=0

out=$root/.devbundle
stage=$(mktemp -d "${TMPDIR:-/tmp}/sfu-bundle.XXXXXX")
trap 'rm -rf "$stage"' EXIT
top=$stage/sfu-bench
mkdir -p "$top/bin" "$top/lib" "$top/etc" "$top/app/bench/loadgen" "$out"

node_bin=$(readlink -f "$(command -v node)")
case "$("$node_bin" -v)" in v20.*) ;; *) log "node is $("$node_bin" -v), expected v20"; exit 1 ;; esac

if [ "$build" = 1 ]; then
  log "building dist/ (node scripts/build.mjs)"
  node scripts/build.mjs
  log "building the load generator"
  bash bench/loadgen/build.sh >/dev/null
  log "bundling every bench scenario (node bench/run.mjs --build)"
  if ! node bench/run.mjs --build >/dev/null; then
    log "WARNING: some scenarios did not build (above); their bench/.build/*.mjs, if any, are older"
  fi
fi
for f in dist/server/main.js bench/.build/cores.mjs bench/.build/loadgen bench/.build/loadgen.stamp; do
  [ -e "$f" ] || { log "$f is missing: run without --no-build"; exit 1; }
done

# Node, stripped of its debug information (98 MB -> ~90 MB before compression).
strip --strip-all -o "$top/bin/node" "$node_bin" 2>/dev/null || cp "$node_bin" "$top/bin/node"
chmod 755 "$top/bin/node"

# The run tree.
cp package.json "$top/app/"
cp -a dist "$top/app/dist"
find "$top/app/dist" -name '*.map' -delete
cp -a bench/.build "$top/app/bench/.build"
cp bench/run.mjs "$top/app/bench/"
cp bench/loadgen/build.sh bench/loadgen/loadgen.c "$top/app/bench/loadgen/"

# node_modules: the packages that are imported at run time, without types, maps and docs; the
# mediasoup package without its worker's sources, only the built binary (stripped).
deps=$(node bench/device/deps.mjs)
echo "$deps" | grep -qx node_modules/mediasoup || { log "deps.mjs did not find mediasoup"; exit 1; }
while read -r d; do
  [ -n "$d" ] || continue
  mkdir -p "$top/app/$(dirname "$d")"
  if [ "$d" = node_modules/mediasoup ]; then
    mkdir -p "$top/app/$d"
    cp -a "$d/package.json" "$d/node" "$top/app/$d/"
    [ -d "$d/node_modules" ] && cp -a "$d/node_modules" "$top/app/$d/"
  else
    cp -a "$d" "$top/app/$d"
  fi
done <<<"$deps"
# Nested node_modules copied with their parent hold packages the scan did not ask for: drop those.
find "$top/app/node_modules" -mindepth 2 -type d -name node_modules | while read -r nm; do
  for p in "$nm"/* "$nm"/@*/*; do
    [ -d "$p" ] || continue
    case "$(basename "$p")" in @*) continue ;; esac
    rel=${p#"$top/app/"}
    echo "$deps" | grep -qx "$rel" || rm -rf "$p"
  done
done
find "$top/app/node_modules" \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' -o -name '*.markdown' \) -type f -delete
find "$top/app/node_modules" -depth -type d \( -name test -o -name tests -o -name __tests__ -o -name docs -o -name example -o -name examples -o -name benchmarks \) -prune -exec rm -rf {} +
worker=node_modules/mediasoup/worker/out/Release/mediasoup-worker
mkdir -p "$top/app/$(dirname "$worker")"
strip --strip-all -o "$top/app/$worker" "$worker" 2>/dev/null || cp "$worker" "$top/app/$worker"
chmod 755 "$top/app/$worker"

# Shared libraries: what ldd resolves for the three binaries, minus glibc's own.
: >"$stage/libs"
for bin in "$node_bin" "$worker" bench/.build/loadgen; do
  ldd "$bin" | awk '/=> \// { print $1, $3 }' >>"$stage/libs"
  if ldd "$bin" | grep -q 'not found'; then log "$bin: a library is not found here"; exit 1; fi
done
sort -u "$stage/libs" | while read -r soname path; do
  case "$soname" in
    libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | libresolv.so.* | libutil.so.* | ld-linux*) continue ;;
  esac
  # libstdc++ and libgcc_s (GCC 12) want glibc 2.36: apart, so that run.sh can prefer the
  # target's own on an older glibc (Ubuntu 22.04, RHEL 9), where its GCC 11+ ones serve.
  case "$soname" in
    libstdc++.so.* | libgcc_s.so.*) mkdir -p "$top/lib/cxx" && cp -L "$path" "$top/lib/cxx/$soname" ;;
    *) cp -L "$path" "$top/lib/$soname" ;;
  esac
done
: >"$top/etc/openssl.cnf"

# The newest glibc symbol version any shipped binary or library needs.
glibc_of() { for f in "$@"; do objdump -T "$f" 2>/dev/null; done | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -t. -k1,1n -k2,2n -k3,3n -u | tail -1; }
glibc=$(glibc_of "$top/bin/node" "$top/app/$worker" "$top/app/bench/.build/loadgen" "$top"/lib/*.so*)
glibc_cxx=$(glibc_of "$top"/lib/cxx/*)
{
  echo "built: $(date -u +%FT%TZ) on $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -m)"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!.devbundle' || echo ' (+ uncommitted changes)')"
  echo "node: $("$node_bin" -v)"
  echo "mediasoup: $(node -p "require('./node_modules/mediasoup/package.json').version")"
  echo "glibc-min: $glibc"
  echo "glibc-min-cxx: $glibc_cxx"
  echo "glibcxx-min: $(for f in "$top/bin/node" "$top/app/$worker"; do objdump -T "$f"; done | grep -o 'GLIBCXX_[0-9][0-9.]*' | sed 's/GLIBCXX_//' | sort -t. -k1,1n -k2,2n -k3,3n -u | tail -1)"
  echo "scenarios: $(cd bench/.build && ls ./*.mjs | sed 's|^\./||; s|\.mjs$||' | tr '\n' ' ')"
  echo "libs: $(cd "$top/lib" && ls ./*.so* cxx/* | sed 's|^\./||' | tr '\n' ' ')"
} >"$top/MANIFEST"
cat "$top/MANIFEST" >&2

log "compressing (xz -9)"
rm -f "$out"/sfu-bench.tar.xz "$out"/sfu-bench.tar.xz.sha256
tar -C "$stage" --owner=0 --group=0 -cf - sfu-bench | xz -9 -T2 >"$out/sfu-bench.tar.xz.tmp"
mv "$out/sfu-bench.tar.xz.tmp" "$out/sfu-bench.tar.xz"
(cd "$out" && sha256sum sfu-bench.tar.xz >sfu-bench.tar.xz.sha256)
cp "$top/MANIFEST" "$out/MANIFEST"
bytes=$(stat -c %s "$out/sfu-bench.tar.xz")
log "unpacked: $(du -sh "$top" | cut -f1); node_modules: $(du -sh "$top/app/node_modules" | cut -f1); lib: $(du -sh "$top/lib" | cut -f1)"
if [ "$bytes" -gt $((60 * 1024 * 1024)) ]; then
  log "the bundle is $((bytes / 1024 / 1024)) MiB: over 60 MiB, too big to carry"
  exit 1
fi
echo "$out/sfu-bench.tar.xz: $bytes bytes ($(awk "BEGIN { printf \"%.1f\", $bytes / 1048576 }") MiB)"
