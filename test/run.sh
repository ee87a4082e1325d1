#!/bin/sh
# The project's test command (`npm test`).
#
#   sh test/run.sh                      unit + integration tests here, then test/v2 in a
#                                       pure cgroup v2 qemu guest (shared/vm/run-in-vm.sh)
#   sh test/run.sh test/integration/x   only those paths on this host (no guest run)
#   sh test/run.sh -t 'name regex'      everything, with extra `bun test` flags
#   RUNTS_SKIP_VM=1 sh test/run.sh      host suites only (for quick local runs; CI runs both)
#
# Test files run one after another (no --parallel), tests one at a time
# (--max-concurrency=1): integration tests start real containers as root.
# The last line printed is always "N passed, N failed" (", N skipped" when N > 0); the exit
# status is non-zero if anything failed or no test ran.
set -u
cd "$(dirname "$0")/.." || exit 1

sh scripts/ensure-apt.sh /bin/busybox:busybox-static /usr/sbin/runc:runc /sbin/ip:iproute2 \
  /usr/bin/gcc:gcc /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev /usr/bin/unshare:util-linux /usr/bin/newuidmap:uidmap \
  /usr/lib/x86_64-linux-gnu/libseccomp.so.2:libseccomp2 /usr/share/containers/seccomp.json:golang-github-containers-common || {
  echo "0 passed, 1 failed"
  exit 1
}

if [ ! -x dist/runts ]; then
  echo "runts: dist/runts is missing, building it" >&2
  if ! sh scripts/build.sh; then
    echo "runts: build failed" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

work=$(mktemp -d /tmp/runts-test-run.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

vm=1
if [ $# -eq 0 ]; then
  set -- test/unit test/integration
else
  case "$1" in
    -*) set -- test/unit test/integration "$@" ;;
    *) vm=0 ;;
  esac
fi
[ "${RUNTS_SKIP_VM:-}" = 1 ] && vm=0

pass=0 failed=0 skipped=0

# suite NAME CMD...: runs a bun test command, shows its output, adds its counts.
suite() {
  name=$1
  shift
  {
    "$@" 2>&1
    echo $? >"$work/$name.rc"
  } | tee "$work/$name.log"
  rc=$(cat "$work/$name.rc" 2>/dev/null || echo 1)
  sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$work/$name.log" >"$work/$name.plain"
  # Last " N word" summary line for each word, 0 if absent.
  count() {
    awk -v w="$1" '$0 ~ "^ *[0-9]+ " w "$" { n = $1 } END { print n + 0 }' "$work/$name.plain"
  }
  p=$(count pass)
  f=$(($(count fail) + $(count error)))
  s=$(($(count skip) + $(count todo)))
  if [ $((p + f)) -eq 0 ]; then
    echo "runts: $name: no test ran (exit status $rc)" >&2
    f=1
  elif [ "$rc" != 0 ] && [ "$f" -eq 0 ]; then
    echo "runts: $name: bun test exited with status $rc without reporting a failure; counting it as one" >&2
    f=1
  fi
  echo "runts: $name: $p passed, $f failed" >&2
  pass=$((pass + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

suite host node_modules/.bin/bun test --timeout=120000 --max-concurrency=1 "$@"

if [ "$vm" = 1 ]; then
  # Cgroup v2 behaviour is tested on a real pure-v2 kernel: this host's cgroups are hybrid.
  suite cgroup-v2 bash ../shared/vm/run-in-vm.sh --timeout 1500 --mem 3G -- \
    node_modules/.bin/bun test --timeout=300000 --max-concurrency=1 test/v2
fi

summary="$pass passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
