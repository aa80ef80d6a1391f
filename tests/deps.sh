#!/bin/sh
# tests/deps.sh [demo|bench]: installs the Debian packages postern's build,
# tests and demo need (and, for bench, postfix to compare against), only when
# one is missing, so a second run is quick.  Debian 12; run as root.
set -eu
me=tests/deps.sh
pkgs="build-essential gcc make libsodium-dev libbearssl-dev s6 ucspi-tcp-ipv6
swaks neomutt python3 python3-aiosmtpd curl tinycdb clang libclang-rt-14-dev
iproute2 procps util-linux passwd"
case ${1:-test} in
test|demo) ;;
bench) pkgs="$pkgs postfix" ;;
*) echo "usage: $me [demo|bench]" >&2; exit 100 ;;
esac

installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2> /dev/null | grep -q '^ii'; }
missing=
for p in $pkgs; do installed "$p" || missing="$missing $p"; done
[ -n "$missing" ] || exit 0

echo "$me: installing:$missing"
if ! command -v apt-get > /dev/null 2>&1; then
	echo "$me: no apt-get here: install these packages by hand:$missing" >&2
	exit 111
fi
if [ "$(id -u)" != 0 ]; then
	echo "$me: must be root to install:$missing" >&2
	exit 111
fi
export DEBIAN_FRONTEND=noninteractive

case " $missing " in
*" postfix "*)
	# For the benchmark only: postfix must neither be configured as this
	# machine's mailer nor started (it would take port 25).  "No
	# configuration" leaves it unconfigured; a policy-rc.d that forbids every
	# service start covers the package scripts.  tests/bench starts its own
	# postfix instance in a scratch directory.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# written by postern tests/deps.sh while installing postfix\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	;;
esac

apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing

still=
for p in $missing; do installed "$p" || still="$still $p"; done
if [ -n "$still" ]; then
	echo "$me: still missing:$still" >&2
	exit 111
fi
echo "$me: done"
