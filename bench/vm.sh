#!/bin/sh
# The same benchmark inside the pure cgroup v2 qemu guest (see /work/shared/vm/README.md),
# where crun works and memory.peak exists. TCG emulation: compare only the ratios.
# BENCH_RUNS / BENCH_WARMUP / BENCH_TIMEOUT_MS / RUNTS_BIN are passed through when set.
set -eu
cd "$(dirname "$0")/.."
VM=${RUN_IN_VM_SCRIPT:-../shared/vm/run-in-vm.sh}
# The guest has no network: install the references on the host, whose / it sees.
sh scripts/ensure-apt.sh /bin/busybox:busybox-static /usr/sbin/runc:runc /usr/bin/crun:crun /usr/bin/time:time
set --
for v in BENCH_RUNS BENCH_WARMUP BENCH_TIMEOUT_MS RUNTS_BIN; do
  eval "isset=\${$v+x}"
  if [ -n "$isset" ]; then set -- "$@" --env "$v"; fi
done
exec bash "$VM" --timeout "${BENCH_VM_TIMEOUT:-900}" "$@" -- sh bench/run.sh
