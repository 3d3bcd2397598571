#!/usr/bin/env bash
# Installs whatever is missing for a profile, skipping every step already done:
#   runtime: apt packages, npm dependencies, the mediasoup worker (cached build), the bundles
#   turn:    runtime + coturn
#   test:    runtime + what the test suite needs (Chromium, coturn, redis-server, ...)
# Safe to run again and again; the second run takes seconds. Uses only bash and Node built-ins.
set -euo pipefail
profile=${1:-runtime}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
step() { echo "[setup] $*"; }
t0=$(date +%s)

# Build tools for the worker and the libraries it links against; ffmpeg for class recording.
pkgs_runtime=(ca-certificates ninja-build pkg-config g++ make patch python3 dpkg-dev
  libuv1-dev libssl-dev libusrsctp-dev libabsl-dev libflatbuffers-dev flatbuffers-compiler ffmpeg)
# Real services and tools the test suite starts by itself.
# iproute2: ip and tc, for the slow-link test (a network namespace shaped with tc).
# redis-server: the cluster tests start their own, on their own ports (test/helpers/redisServer.ts).
# firefox-esr: one browser test publishes and receives from Firefox (driven by puppeteer-core).
pkgs_test=(chromium firefox-esr fonts-liberation coturn iproute2 redis-server)
pkgs=("${pkgs_runtime[@]}")
[ "$profile" = test ] && pkgs+=("${pkgs_test[@]}")
# coturn: for `npm run coturn`, and for `npm start` when the config asks to manage it.
if [ "$profile" = turn ] || [ "${SFU_TURN_MANAGED:-}" = true ]; then pkgs+=(coturn); fi
# redis-server: for a cluster of nodes (SFU_REDIS_URL set; scripts/dev-cluster.sh runs one).
# Debian's package also starts a Redis service on 127.0.0.1:6379 where systemd runs.
if [ -n "${SFU_REDIS_URL:-}" ]; then pkgs+=(redis-server); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
meson_ok=0
if command -v meson >/dev/null && [ "$(printf '%s\n1.1.0\n' "$(meson --version)" | sort -V | head -n1)" = 1.1.0 ]; then
  meson_ok=1
fi
if [ ${#missing[@]} -gt 0 ] || [ $meson_ok = 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    want=("${missing[@]}")
    [ $meson_ok = 0 ] && want+=("meson>=1.1 (bookworm-backports)")
    echo "[setup] missing Debian packages: ${want[*]}." >&2
    echo "[setup] run 'sudo bash scripts/setup.sh $profile' once, or install them yourself." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  bash scripts/setup/apt-sources.sh
  step "apt-get update"
  apt-get update -q >/dev/null
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/sfu-apt.log 2>&1 \
      || { tail -20 /tmp/sfu-apt.log >&2; exit 1; }
  fi
  if [ $meson_ok = 0 ]; then
    step "installing meson from bookworm-backports (mediasoup needs >= 1.1)"
    apt-get install -y -q -t bookworm-backports meson >/tmp/sfu-apt.log 2>&1 \
      || { tail -20 /tmp/sfu-apt.log >&2; exit 1; }
  fi
else
  step "Debian packages: present"
fi

# npm dependencies: reinstall only when package.json or the lockfile changed since the last install.
stamp=node_modules/.sfu-installed
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  step "installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  touch "$stamp"
else
  step "npm dependencies: present"
fi

bash scripts/worker/build-worker.sh
step "bundling server and client"
node scripts/build.mjs
step "ready ($profile) in $(( $(date +%s) - t0 )) s"
