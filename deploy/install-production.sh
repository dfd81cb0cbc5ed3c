#!/usr/bin/env bash
# The image's file tree: every service with its production dependencies, and nothing else.
#   deploy/install-production.sh OUT [pnpm options, e.g. --offline]
# Run after `pnpm install` and `pnpm build`. deploy/Dockerfile runs it, and test/e2e/image.test.ts runs
# the same script into a temporary folder and starts every service from there alone.
set -euo pipefail
out=$1
shift
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# @lomi/all-in-one depends on every service and on @lomi/db (the migration CLI), so one deploy
# holds each of them and each dependency once. `pnpm deploy` copies the workspace packages in
# (injected, with their dist/) and installs their production dependencies from the lockfile,
# where `pnpm prune --prod` left the services' node_modules empty. CI=true: no TTY prompts.
CI=true pnpm --filter @lomi/all-in-one deploy --prod --config.inject-workspace-packages=true "$@" "$out"

# uWebSockets.js ships binaries for 18 platforms and Node ABIs (92 MB) and a JS fallback that the
# gateway refuses to use (services/gateway/src/uws.ts): keep the one this Node loads.
native="uws_$(node -p 'process.platform + "_" + process.arch + "_" + process.versions.modules').node"
uws=$(find "$out/node_modules/.pnpm" -maxdepth 4 -type d -name uws-js-unofficial -path '*@trufflesuite*')
[ -f "$uws/binaries/$native" ] || { echo "install-production: no $native in $uws/binaries (see README, Deployment: runtime)" >&2; exit 1; }
find "$uws/binaries" "$uws/dist" -name 'uws_*.node' ! -path "$uws/binaries/$native" -delete

# What only building needed: TypeScript sources and build state, the lockfile copy.
rm -rf "$out/src" "$out/pnpm-lock.yaml" "$out"/node_modules/.pnpm/@lomi+*/node_modules/@lomi/*/src
find "$out" -name '*.tsbuildinfo' -delete
