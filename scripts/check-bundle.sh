#!/usr/bin/env bash
# `wrangler deploy --dry-run` (offline) and a gzip size budget for the Worker bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx wrangler deploy --dry-run --outdir dist >/dev/null
limit=$((1024 * 1024))
size=$(cat dist/*.js | gzip -9 | wc -c)
echo "gzip bundle: ${size} bytes (limit ${limit})"
[ "$size" -le "$limit" ] || { echo "bundle over 1 MiB gzip"; exit 1; }
