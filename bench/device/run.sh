#!/usr/bin/env bash
# Runs bench scenarios on a bare machine from the bundle bench/device/bundle.sh made: no Node,
# no npm, no network needed; bash, coreutils (timeout, sha256sum) and tar with xz (or python3)
# suffice. Run from the repository root (the bundle is .devbundle/sfu-bench.tar.xz):
#
#   bash bench/device/run.sh cores --workers 1,2,4,8 --from-best + fanout --steps 10,100
#
# Scenarios are separated by a lone `+`; each gets its own flags (see bench/<scenario>.ts).
# It unpacks the bundle to $DEV_DIR (default /tmp/sfu-bench), prints the machine's facts, raises
# the limits that matter where it may (open files, socket buffers, the loopback backlog, the local
# port range; failures are ignored), checks that every binary finds its libraries and that a
# mediasoup worker starts, then runs the scenarios one after the other in the unpacked run tree,
# all within $TIME_LIMIT seconds (default 540; what is left is each scenario's timeout). After each
# scenario, bench/results/ goes to $OUT/results/ (a run cut short keeps what it saved: the
# ramps save after every step); everything printed goes to $OUT/run.log too. OUT defaults to
# ./device-out. Exit status: 0 when every scenario finished, 1 otherwise, 2 when nothing could run.
set -uo pipefail
t0=$(date +%s)
TIME_LIMIT=${TIME_LIMIT:-540}
deadline=$((t0 + TIME_LIMIT))
root=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-./device-out}
mkdir -p "$OUT/results"
OUT=$(cd "$OUT" && pwd)
BUNDLE=${BUNDLE:-$root/.devbundle/sfu-bench.tar.xz}
# Where it unpacks: /tmp, unless /tmp is mounted noexec or has less than ~400 MB free (then
# beside the bundle).
if [ -z "${DEV_DIR:-}" ]; then
  DEV_DIR=/tmp/sfu-bench
  tmp_free=$(df -Pk /tmp 2>/dev/null | awk 'NR == 2 { print $4 }')
  if awk '$2 == "/tmp" && $4 ~ /(^|,)noexec(,|$)/ { found = 1 } END { exit !found }' /proc/mounts 2>/dev/null ||
    { [ -n "$tmp_free" ] && [ "$tmp_free" -lt 400000 ] 2>/dev/null; }; then
    DEV_DIR=$(dirname "$BUNDLE")/run
  fi
fi
exec > >(tee -a "$OUT/run.log") 2>&1
log() { echo "[device $(date -u +%T) +$(($(date +%s) - t0))s] $*"; }
fact() { echo "\$ $*"; timeout 10 "$@" 2>&1 | head -40 || true; }

if [ $# -eq 0 ]; then
  echo "usage: bash bench/device/run.sh <scenario> [flags...] [+ <scenario> [flags...]]..."
  exit 2
fi

# Processes started from the bundle that are still alive (a scenario that was cut off: its
# server, workers and generators), by their executable's path.
sweep() {
  local p exe killed=""
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case "$exe" in "$DEV_DIR"/*) kill -9 "${p#/proc/}" 2>/dev/null && killed="$killed ${p#/proc/}" ;; esac
  done
  [ -z "$killed" ] || log "killed leftover processes:$killed"
}

log "=== machine ==="
fact nproc
fact uname -a
fact cat /etc/os-release
if command -v lscpu >/dev/null; then
  fact lscpu
else
  grep -m1 'model name' /proc/cpuinfo || true
fi
if command -v free >/dev/null; then fact free -g; else grep -E 'MemTotal|MemAvailable' /proc/meminfo || true; fi
fact /lib64/ld-linux-x86-64.so.2 --version
cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null | sed 's/^/cpu0 governor: /' || true
cat /sys/fs/cgroup/cpu.max 2>/dev/null | sed 's/^/cgroup cpu.max: /' || true
echo "user: $(id -u), cwd: $PWD, OUT: $OUT, time limit: ${TIME_LIMIT}s"

log "=== limits ==="
ulimit -Hn 1048576 2>/dev/null || ulimit -Hn 524288 2>/dev/null || true
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
echo "open files: $(ulimit -Sn) (hard $(ulimit -Hn))"
# Kernel settings: raised only where lower, and put back as they were when this script ends (so
# that a trial run on a shared machine leaves it as it found it). DEVICE_SYSCTL=0: not touched.
restore=()
raise() { # /proc/sys path, value
  local f=/proc/sys/$1 cur
  cur=$(cat "$f" 2>/dev/null) || { echo "$1: not readable"; return; }
  if [ "${DEVICE_SYSCTL:-1}" = 0 ]; then
    echo "$1: $cur (left as it is: DEVICE_SYSCTL=0)"
  elif [ "$(echo "$cur" | awk '{ print $1 }')" -lt "$(echo "$2" | awk '{ print $1 }')" ] 2>/dev/null || { [ "$1" = net/ipv4/ip_local_port_range ] && [ "$cur" != "$2" ]; }; then
    if echo "$2" >"$f" 2>/dev/null; then
      echo "$1: $cur -> $2"
      restore+=("$f=$cur")
    else
      echo "$1: $cur (not writable)"
    fi
  else
    echo "$1: $cur"
  fi
}
put_back() {
  local r
  for r in ${restore[@]+"${restore[@]}"}; do echo "${r#*=}" >"${r%%=*}" 2>/dev/null || true; done
}
trap put_back EXIT
raise net/core/rmem_max 8388608
raise net/core/wmem_max 8388608
raise net/core/netdev_max_backlog 10000
raise net/core/somaxconn 4096
# Only upwards: the scenarios' servers listen on fixed ports below 32768, and a range reaching down
# there let one step's client sockets hold the next step's port (seen: spread's RTC port, EADDRINUSE).
raise net/ipv4/ip_local_port_range "32768 65535"

log "=== bundle ==="
[ -f "$BUNDLE" ] || { log "no bundle at $BUNDLE: run bash bench/device/bundle.sh first (and carry .devbundle)"; exit 2; }
if [ -f "$BUNDLE.sha256" ] && command -v sha256sum >/dev/null; then
  (cd "$(dirname "$BUNDLE")" && sha256sum -c "$(basename "$BUNDLE").sha256") || { log "the bundle is damaged"; exit 2; }
fi
sweep
rm -rf "$DEV_DIR"
mkdir -p "$(dirname "$DEV_DIR")"
tmp=$(mktemp -d "$(dirname "$DEV_DIR")/sfu-unpack.XXXXXX")
if [ "${DEVICE_UNPACK:-}" != python ] && command -v xz >/dev/null && timeout 120 tar -C "$tmp" -xJf "$BUNDLE"; then
  :
elif command -v python3 >/dev/null && timeout 180 python3 -c '
import sys, tarfile
kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2], **kw)' "$BUNDLE" "$tmp"; then
  :
else
  log "could not unpack $BUNDLE (neither tar -J with xz nor python3's lzma worked)"
  exit 2
fi
mv "$tmp/sfu-bench" "$DEV_DIR" && rmdir "$tmp"
log "unpacked to $DEV_DIR ($(du -sh "$DEV_DIR" | cut -f1))"
cat "$DEV_DIR/MANIFEST"

# glibc: the bundle leaves it to the target. Its libstdc++/libgcc_s (Debian 12's GCC 12) want
# glibc 2.36; on an older glibc the target's own are used if it has them.
ver() { printf '%s\n' "$1" | awk -F. '{ printf "%d%03d\n", $1, $2 }'; }
glibc=$(/lib64/ld-linux-x86-64.so.2 --version 2>/dev/null | head -1 | grep -o '[0-9]\+\.[0-9]\+\.\?$' | sed 's/\.$//')
need=$(sed -n 's/^glibc-min: //p' "$DEV_DIR/MANIFEST")
need_cxx=$(sed -n 's/^glibc-min-cxx: //p' "$DEV_DIR/MANIFEST")
libpath=$DEV_DIR/lib
if [ -z "$glibc" ]; then
  log "glibc version unknown (no /lib64/ld-linux-x86-64.so.2?): trying anyway"
  libpath=$libpath:$DEV_DIR/lib/cxx
elif [ "$(ver "$glibc")" -lt "$(ver "$need")" ]; then
  log "glibc $glibc here; the bundle needs $need (worker, generator, OpenSSL): this will fail"
elif [ -n "$need_cxx" ] && [ "$(ver "$glibc")" -lt "$(ver "$need_cxx")" ]; then
  log "glibc $glibc < $need_cxx: using this system's libstdc++/libgcc_s instead of the bundle's"
else
  libpath=$libpath:$DEV_DIR/lib/cxx
fi
export LD_LIBRARY_PATH=$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH=$DEV_DIR/bin:$PATH
# The Debian OpenSSL in lib/ would otherwise read /usr/lib/ssl/openssl.cnf, whatever that is here.
export OPENSSL_CONF=$DEV_DIR/etc/openssl.cnf
unset NODE_OPTIONS NODE_PATH MEDIASOUP_WORKER_BIN

app=$DEV_DIR/app
worker=$app/node_modules/mediasoup/worker/out/Release/mediasoup-worker
bad=0
for bin in "$DEV_DIR/bin/node" "$worker" "$app/bench/.build/loadgen"; do
  list=$(/lib64/ld-linux-x86-64.so.2 --list "$bin" 2>&1) || bad=1
  if echo "$list" | grep -q 'not found'; then bad=1; fi
  echo "libraries of ${bin#"$DEV_DIR"/}:"
  echo "$list" | awk '/=>/ { print "  " $1 " => " $3 }'
done
[ "$bad" = 0 ] || { log "a library is missing (above)"; exit 2; }
[ "$(command -v node)" = "$DEV_DIR/bin/node" ] || { log "node on PATH is $(command -v node), not the bundle's"; exit 2; }
log "node $(node -v) at $(command -v node)"
timeout 20 "$app/bench/.build/loadgen" --selftest >/dev/null && log "load generator: SRTP self-test ok" || { log "load generator self-test failed"; exit 2; }
(cd "$app" && timeout 30 node --input-type=module -e "
  import * as ms from 'mediasoup';
  const w = await ms.createWorker({ logLevel: 'warn' });
  const r = await w.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
  console.log('mediasoup ' + ms.version + ': a worker started (pid ' + w.pid + '), router ' + r.id.slice(0, 8));
  w.close();
") || { log "a mediasoup worker does not start"; exit 2; }

# The scenarios: split the arguments at each lone '+'.
runs=()
cur=""
for a in "$@"; do
  if [ "$a" = "+" ]; then
    [ -n "$cur" ] && runs+=("$cur")
    cur=""
  else
    cur="$cur $(printf '%q' "$a")"
  fi
done
[ -n "$cur" ] && runs+=("$cur")

status=0
[ ${#runs[@]} -gt 0 ] || { log "no scenario given"; exit 2; }
for r in "${runs[@]}"; do
  eval "set -- $r"
  name=$1
  shift
  left=$((deadline - $(date +%s) - 15))
  if [ "$left" -lt 30 ]; then
    log "=== $name: skipped, ${left}s left of ${TIME_LIMIT}s ==="
    status=1
    continue
  fi
  if [ ! -f "$app/bench/.build/$name.mjs" ]; then
    log "=== $name: not in the bundle (scenarios: $(sed -n 's/^scenarios: //p' "$DEV_DIR/MANIFEST")) ==="
    status=1
    continue
  fi
  log "=== $name $* (timeout ${left}s) ==="
  (cd "$app" && timeout -k 10 "$left" node bench/run.mjs "$name" "$@" </dev/null)
  rc=$?
  sweep
  cp -a "$app/bench/results/." "$OUT/results/" 2>/dev/null || true
  case $rc in
    0) log "=== $name: done ===" ;;
    124 | 137) log "=== $name: cut off at its timeout (${left}s); results saved so far are in $OUT/results ==="; status=1 ;;
    *) log "=== $name: failed (exit $rc) ==="; status=1 ;;
  esac
done

log "=== results in $OUT ==="
ls -la "$OUT" "$OUT/results" 2>/dev/null || true
log "finished in $(($(date +%s) - t0))s, status $status"
exit $status
