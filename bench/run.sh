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
# runc and crun are the references; /usr/bin/time measures peak RSS. In the qemu guest
# (no network) they come from the host, where bench/vm.sh installed them.
sh scripts/ensure-apt.sh /bin/busybox:busybox-static /usr/sbin/runc:runc /usr/bin/crun:crun /usr/bin/time:time
if [ ! -x "${RUNTS_BIN:-dist/runts}" ]; then
  echo "bench: ${RUNTS_BIN:-dist/runts} is missing; build it first: sh scripts/build.sh" >&2
  exit 1
fi
exec node_modules/.bin/bun bench/bench.ts "$@"
