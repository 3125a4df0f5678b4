#!/bin/sh
# Install what ipcspec needs on Debian 12, or print the exact command when we
# are not root. Quiet and fast when everything is present.
set -eu
PKGS="make gcc libcriterion-dev libfiu-dev fiu-utils clang llvm libclang-rt-14-dev valgrind libck-dev libnng-dev libisal-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "ipcspec: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "ipcspec: missing packages:$missing"
	echo "run: sudo apt-get update && sudo apt-get install -y$missing"
	exit 1
fi
