#!/bin/sh
# Usage: ensure-apt.sh CHECK:PACKAGE ...
# Installs each Debian PACKAGE whose CHECK path does not exist. Only root can install;
# anyone else gets a clear message naming what is missing. Package scripts may not start
# daemons (containerd, docker): a temporary policy-rc.d refuses every start while apt runs.
set -eu
missing=""
for pair in "$@"; do
  path=${pair%%:*}; pkg=${pair#*:}
  [ -e "$path" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "runts: missing Debian packages:$missing (install them as root)" >&2
  exit 1
fi
echo "runts: installing Debian packages:$missing" >&2
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  trap 'rm -f "$policy"' EXIT
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
