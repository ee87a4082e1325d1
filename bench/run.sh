#!/bin/sh
# `npm run bench`: runts vs runc (and crun where it works), medians and ratios.
# Thin entry for bench/bench.ts; see its header for the scenarios and the BENCH_* knobs.
# Needs root and a built dist/runts (sh scripts/build.sh). bench/vm.sh runs this in the
# cgroup v2 guest. Results: stdout and bench/results/latest-<host|vm>.json.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "bench: must run as root" >&2
  exit 1
fi
if [ ! -x "${RUNTS_BIN:-dist/runts}" ]; then
  echo "bench: ${RUNTS_BIN:-dist/runts} is missing; build it first: sh scripts/build.sh" >&2
  exit 1
fi
exec node_modules/.bin/bun bench/bench.ts "$@"
