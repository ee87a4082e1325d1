#!/bin/sh
# Builds everything `npm ci` needs: the static C helper, the precompiled JSON-schema
# validators and the single-file Bun executable dist/runts.
set -eu
cd "$(dirname "$0")/.."
# libnftables1: runts's networking makes its bridge's nftables table through it.
sh scripts/ensure-apt.sh /usr/bin/gcc:gcc /usr/bin/make:make \
  /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev /usr/lib/x86_64-linux-gnu/libnftables.so.1:libnftables1
make -s -C native
node_modules/.bin/bun scripts/build-validators.ts
mkdir -p dist
node_modules/.bin/bun scripts/bundle.ts
echo "runts: built dist/runts"
