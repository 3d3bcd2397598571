#!/usr/bin/env bash
# A self-signed certificate for a LAN trial over HTTPS/WSS (browsers need a secure context for
# cameras anywhere but localhost). Usage: scripts/self-signed-cert.sh HOST_OR_IP [OUT_DIR]
# Then: SFU_TLS_CERT=OUT_DIR/cert.pem SFU_TLS_KEY=OUT_DIR/key.pem SFU_HTTP_HOST=0.0.0.0 npm start
# Each browser shows a warning once; accept it (or import cert.pem as trusted on school devices).
set -euo pipefail
host=${1:?usage: $0 HOST_OR_IP [OUT_DIR]}
out=${2:-config/tls}
mkdir -p "$out"
if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then san="IP:$host"; else san="DNS:$host"; fi
openssl req -x509 -newkey rsa:2048 -sha256 -days 90 -nodes \
  -keyout "$out/key.pem" -out "$out/cert.pem" -subj "/CN=$host" \
  -addext "subjectAltName=$san,DNS:localhost,IP:127.0.0.1" 2>/dev/null
chmod 600 "$out/key.pem"
echo "wrote $out/cert.pem and $out/key.pem (valid 90 days, for $host)"
