#!/usr/bin/env bash
# Builds the load generator (bench/loadgen/loadgen.c) into bench/.build/loadgen, only when the
# source or this script changed since the last build. Needs gcc and OpenSSL 3's headers
# (Debian: libssl-dev). Prints the binary's path last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/.." && pwd)/.build
bin=$out/loadgen
log() { echo "[loadgen build] $*" >&2; }
mkdir -p "$out"
cflags=(-O2 -g -Wall -Wextra -std=gnu11)
stamp=$(cat "$here/loadgen.c" "$0" | sha256sum | cut -c1-16)
if [ -x "$bin" ] && [ "$(cat "$out/loadgen.stamp" 2>/dev/null)" = "$stamp" ]; then
  log "up to date"
  echo "$bin"
  exit 0
fi
command -v gcc >/dev/null || { log "gcc is missing (apt-get install build-essential)"; exit 1; }
[ -f /usr/include/openssl/ssl.h ] || { log "OpenSSL headers are missing (apt-get install libssl-dev)"; exit 1; }
log "compiling loadgen.c"
gcc "${cflags[@]}" -pthread -o "$bin.tmp" "$here/loadgen.c" -lssl -lcrypto -lm
"$bin.tmp" --selftest >/dev/null || { log "SRTP self-test failed"; exit 1; }
mv "$bin.tmp" "$bin"
echo "$stamp" >"$out/loadgen.stamp"
log "built $bin (SRTP self-test ok)"
echo "$bin"
