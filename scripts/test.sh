#!/usr/bin/env bash
# The whole suite: typecheck, lint, then every vitest file (unit, integration, browser end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "[test] typecheck"; npx tsc --noEmit -p tsconfig.json
echo "[test] lint"; npx eslint .
echo "[test] vitest"; npx vitest run "$@"
