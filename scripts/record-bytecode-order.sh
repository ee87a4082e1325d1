#!/bin/sh
# Records scripts/bytecode-order/<command>.order: which bytecode dist/runts runs for create,
# start, state, exec, kill and delete of a busybox container (Bun's BUN_BYTECODE_ORDER_OUT).
# scripts/bundle.ts lays that bytecode out first. Profiles match functions by a hash of their
# syntax, so an old one still applies to changed code; record again after large changes:
#   sudo sh scripts/record-bytecode-order.sh && sh scripts/build.sh
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "record-bytecode-order: must run as root (it runs a container)" >&2
  exit 1
fi
sh scripts/ensure-apt.sh /bin/busybox:busybox-static
[ -x dist/runts ] || sh scripts/build.sh
out=$(pwd)/scripts/bytecode-order
tmp=$(mktemp -d /tmp/runts-order.XXXXXX)
runts=$tmp/runts
cp dist/runts "$runts"
root=$tmp/state
id=record-order-$$
trap '"$runts" --root "$root" delete --force "$id" >/dev/null 2>&1 || :; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bundle/rootfs/bin" "$out"
cp /bin/busybox "$tmp/bundle/rootfs/bin/"
for app in sh sleep true; do ln -s busybox "$tmp/bundle/rootfs/bin/$app"; done
(cd "$tmp/bundle" && "$runts" spec)
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sleep", "100"/' "$tmp/bundle/config.json"

record() {
  cmd=$1
  shift
  BUN_BYTECODE_ORDER_OUT=$out/$cmd.order "$runts" --root "$root" "$@" </dev/null >/dev/null
}
record create create --bundle "$tmp/bundle" "$id"
record start start "$id"
record state state "$id"
record exec exec "$id" /bin/true
record kill kill "$id" KILL
while [ "$("$runts" --root "$root" state "$id" | grep -c '"stopped"')" = 0 ]; do sleep 0.01; done
record delete delete "$id"
chmod 644 "$out"/*.order
echo "record-bytecode-order: wrote $(ls "$out" | tr '\n' ' ')"
