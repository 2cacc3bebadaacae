#!/bin/sh
# Install what vstore needs to build and test on Debian 12 (bookworm).
# Runs apt-get as root, or through sudo when run as a user.
set -eu
pkgs="meson ninja-build pkg-config gcc libc6-dev libgit2-dev liblmdb-dev lmdb-utils \
libuv1-dev libjansson-dev libssl-dev libcmocka-dev git python3 xenstore-utils libxen-dev xen-utils-4.17 \
libldns-dev bind9-dnsutils graphviz"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all build and test packages are installed"
	exit 0
fi
echo "install-deps: installing$missing"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
