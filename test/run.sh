#!/bin/sh
# The project's test command (`npm test`).
#
#   sh test/run.sh                      all of test/unit and test/integration
#   sh test/run.sh test/integration/x   only those paths/filters (first argument not a flag)
#   sh test/run.sh -t 'name regex'      everything, with extra `bun test` flags
#
# Test files run one after another in one process (no --parallel), tests one at a time
# (--max-concurrency=1): integration tests start real containers as root.
# The last line printed is always "N passed, N failed" (", N skipped" when N > 0); the exit
# status is non-zero if anything failed or no test ran.
set -u
cd "$(dirname "$0")/.." || exit 1

sh scripts/ensure-apt.sh /bin/busybox:busybox-static /usr/sbin/runc:runc /sbin/ip:iproute2 \
  /usr/bin/gcc:gcc /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev /usr/bin/unshare:util-linux || {
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

if [ $# -eq 0 ]; then
  set -- test/unit test/integration
else
  case "$1" in
    -*) set -- test/unit test/integration "$@" ;;
  esac
fi

# Console output goes to the terminal as it comes, and to a log that we parse; junit XML is a
# second opinion (it misses errors between tests, so the console summary wins when present).
{
  node_modules/.bin/bun test --timeout=120000 --max-concurrency=1 \
    --reporter=junit --reporter-outfile="$work/junit.xml" "$@" 2>&1
  echo $? >"$work/rc"
} | tee "$work/log"

rc=$(cat "$work/rc" 2>/dev/null || echo 1)
sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$work/log" >"$work/plain"

# Last " N word" summary line for each word, 0 if absent.
count() {
  awk -v w="$1" '$0 ~ "^ *[0-9]+ " w "$" { n = $1 } END { print n + 0 }' "$work/plain"
}
pass=$(count pass)
fail=$(count fail)
errs=$(count error)
skip=$(count skip)
todo=$(count todo)
failed=$((fail + errs))
skipped=$((skip + todo))

if ! grep -Eq '^ *[0-9]+ (pass|fail)$' "$work/plain" && [ -s "$work/junit.xml" ]; then
  # No console summary (crash?): fall back to the junit totals.
  attr() {
    sed -n 's/.*<testsuites [^>]*'"$1"'="\([0-9]*\)".*/\1/p' "$work/junit.xml" | head -n 1
  }
  tests=$(attr tests); failed=$(attr failures); skipped=$(attr skipped)
  tests=${tests:-0}; failed=${failed:-0}; skipped=${skipped:-0}
  pass=$((tests - failed - skipped))
fi

status=0
if [ $((pass + failed)) -eq 0 ]; then
  echo "runts: no test ran" >&2
  status=1
elif [ "$rc" != 0 ] && [ "$failed" -eq 0 ]; then
  echo "runts: bun test exited with status $rc without reporting a failure; counting it as one" >&2
  failed=1
fi
[ "$failed" -gt 0 ] && status=1

summary="$pass passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
exit $status
