#!/bin/sh
# `npm run demo`: runs a busybox container in the foreground with `runts run`, then takes
# a second container through create, state, start, ps, kill, state and delete.
# Needs root. Everything lives in a temporary directory (bundles and the --root state
# directory) that is removed on exit; the exit status is 0 only if every step worked.
set -u
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "runts demo: must run as root (containers need namespaces, mounts and cgroups); try: sudo npm run demo" >&2
  exit 1
fi

fail() {
  echo "runts demo: FAILED: $*" >&2
  exit 1
}
header() {
  printf '\n=== %s\n' "$*"
}

if [ ! -x dist/runts ]; then
  echo "runts demo: dist/runts is missing, building it" >&2
  sh scripts/build.sh || fail "sh scripts/build.sh"
fi
sh scripts/ensure-apt.sh /bin/busybox:busybox-static || fail "installing busybox-static"

runts=$repo/dist/runts
tmp=$(mktemp -d /tmp/runts-demo.XXXXXX) || fail "mktemp -d"
root=$tmp/state
run_id=demo-$$
life_id=demo-lifecycle-$$

cleanup() {
  for id in "$run_id" "$life_id"; do
    "$runts" --root "$root" delete --force "$id" >/dev/null 2>&1 || :
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One root filesystem for both containers: static busybox plus a symlink per applet.
rootfs=$tmp/rootfs
mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp" "$rootfs/etc" ||
  fail "mkdir rootfs"
cp /bin/busybox "$rootfs/bin/busybox" || fail "copy /bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet" || fail "symlink $applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$rootfs/etc/passwd"
echo "root:x:0:" >"$rootfs/etc/group"

# make_bundle DIR HOSTNAME ARGS...: DIR/config.json from `runts spec`, without a terminal,
# with HOSTNAME, the shared rootfs and ARGS as the process's command line.
make_bundle() {
  dir=$1
  mkdir -p "$dir" || fail "mkdir $dir"
  "$runts" spec --bundle "$dir" || fail "runts spec --bundle $dir"
  shift
  node -e '
    const fs = require("fs");
    const [file, rootfs, hostPath, hostname, ...args] = process.argv.slice(1);
    const c = JSON.parse(fs.readFileSync(file, "utf8"));
    c.process.terminal = false;
    c.process.args = args;
    c.process.env.push("HOST_PATH=" + hostPath);
    c.hostname = hostname;
    c.root.path = rootfs;
    fs.writeFileSync(file, JSON.stringify(c, null, 2) + "\n");
  ' -- "$dir/config.json" "$rootfs" "$repo" "$@" || fail "editing $dir/config.json"
}

# Runs in the container. HOST_PATH is this repository's path on the host.
script='
echo "hostname: $(hostname)"
echo "pid $$"
id
echo "own mounts (mount point, source):"
cat /proc/self/mountinfo | awk "{print \"  \" \$5, \$9}"
echo "ls /:"
ls /
test -e "$HOST_PATH" && echo "host $HOST_PATH visible" || echo "host $HOST_PATH not visible"
'
make_bundle "$tmp/demo" runts-demo sh -c "$script"
make_bundle "$tmp/sleep" runts-lifecycle sleep 60

# --- runts run, in the foreground -------------------------------------------------------
[ -e "$repo/package.json" ] || fail "$repo/package.json is not there on the host"
header "runts run $run_id: a shell script inside a busybox container (hostname, pid, id, mounts, ls /, host files)"
{
  "$runts" --root "$root" run --bundle "$tmp/demo" "$run_id" </dev/null 2>&1
  echo $? >"$tmp/run.rc"
} | tee "$tmp/run.out"
rc=$(cat "$tmp/run.rc" 2>/dev/null || echo missing)
[ "$rc" = 0 ] || fail "runts run exited with status $rc"
grep -qx "hostname: runts-demo" "$tmp/run.out" || fail "the container's hostname is not runts-demo"
grep -qx "pid 1" "$tmp/run.out" || fail "the container's shell is not pid 1"
grep -qx "host $repo not visible" "$tmp/run.out" || fail "the host's $repo is visible in the container"
echo "--- runts run exited 0; the container was deleted on exit"

# --- lifecycle --------------------------------------------------------------------------
r() {
  "$runts" --root "$root" "$@"
}
# expect_status STATUS: shows `runts state` as one line and checks the status.
expect_status() {
  out=$(r state "$life_id") || fail "runts state $life_id"
  status=$(printf '%s\n' "$out" | sed -n 's/^ *"status": *"\([a-z]*\)".*/\1/p')
  pid=$(printf '%s\n' "$out" | sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p')
  echo "status: $status, pid: $pid"
  [ "$status" = "$1" ] || fail "expected status $1, got '$status'"
}

header "runts create --bundle <bundle> $life_id: sets up a container running 'sleep 60'; it waits for start"
# The container's stdio goes to a file so that it never holds on to this script's output.
r create --bundle "$tmp/sleep" "$life_id" </dev/null >"$tmp/lifecycle.log" 2>&1 ||
  { cat "$tmp/lifecycle.log" >&2; fail "runts create"; }
echo "created"

header "runts state $life_id"
r state "$life_id" || fail "runts state"
expect_status created

header "runts start $life_id, then runts state"
r start "$life_id" || fail "runts start"
expect_status running
init_pid=$pid

header "runts list"
r list || fail "runts list"

header "runts ps $life_id (host pids of the container's processes)"
if command -v ps >/dev/null 2>&1; then
  r ps "$life_id" || fail "runts ps"
fi
pids=$(r ps --format json "$life_id") || fail "runts ps --format json"
echo "ps --format json: $pids"
case "$pids" in
  "[$init_pid]" | "[$init_pid,"* | *",$init_pid]" | *",$init_pid,"*) ;;
  *) fail "runts ps does not list the init pid $init_pid" ;;
esac

header "runts kill $life_id KILL, then runts state"
r kill "$life_id" KILL || fail "runts kill"
i=0
while r state "$life_id" | grep -q '"status": *"running"'; do
  i=$((i + 1))
  [ $i -lt 50 ] || break
  sleep 0.1
done
expect_status stopped

header "runts delete $life_id, then runts state (must fail: the container is gone)"
r delete "$life_id" || fail "runts delete"
if r state "$life_id" >/dev/null 2>&1; then
  fail "runts state still finds $life_id after delete"
fi
echo "deleted"

printf '\nrunts demo: all steps worked\n'
exit 0
