#!/bin/sh
# tests/deps.sh [demo|bench]: installs the Debian packages postern's build,
# tests and demo need (and, for bench, postfix to compare against), only when
# one is missing, so a second run is quick.  Debian 12; run as root.
set -eu
me=tests/deps.sh
# openssl makes tests/t-starttls.py's certificate; swaks --tls needs Net::SSLeay
# libsodium-dev: argon2id for postern-auth and postern-passwd (doc/pop3.md)
pkgs="build-essential gcc make musl-dev libbearssl-dev libsodium-dev s6
swaks libnet-ssleay-perl openssl neomutt python3 python3-aiosmtpd curl tinycdb clang libclang-rt-14-dev
iproute2 procps util-linux passwd"
case ${1:-test} in
# postfix for smtp-source, the SMTP load generator tests/t-smtp-e2e.sh uses
# unbound: the test DNS server of tests/t-remote.sh, t-dane.sh and t-dnsbl.py (started by the tests only)
# ldnsutils: ldns-signzone signs tests/t-dane.sh's zone (DNSSEC), drill asks it
# strace: tests/t-listen.py holds the listener's reads to open a signal race
# python3-dkim (with python3-nacl for Ed25519) and Mail::DKIM (with CryptX):
# two verifiers written by others for tests/t-dkim.py; python3-cryptography
# checks postern-dkim's RSA signatures in tests/t-dkimkeys.py
# python3-spf ships the openspf.org suite for RFC 7208 that tests/t-spf-suite.py runs
# (with python3-yaml to read it), and is the second opinion tests/t-spf.py asks
# dovecot-imapd: tests/t-deliver.sh runs its imap binary on stdin and stdout
# (no daemon, no port) to read what postern-local delivered, ,S= and ,W= and all
# python3-authres: an RFC 8601 parser written by others, which reads every
# Authentication-Results field tests/t-dmarc.py gets (dkim, spf and dmarc clauses)
test) pkgs="$pkgs postfix dovecot-imapd unbound ldnsutils strace python3-dkim python3-nacl python3-dnspython python3-yaml python3-spf python3-cryptography python3-authres libmail-dkim-perl libcryptx-perl libnet-dns-perl" ;;
# bench: strace for the syscall counts; OpenSMTPD conflicts with postfix as a
# package, so tests/bench/peers.sh fetches its .deb (apt-get download) and
# runs it unpacked in a private mount namespace, never installed.
# python3-dkim, python3-nacl and ldnsutils' drill: tests/bench/dkimverify.py's
# signatures and its wait for unbound
bench) pkgs="$pkgs postfix unbound strace python3-dkim python3-nacl ldnsutils" ;;
demo) ;;
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
*" postfix "* | *" unbound "* | *" dovecot-imapd "*)
	# Tools for the tests and the benchmark, never services of this machine:
	# postfix must neither be configured as its mailer nor started (it would
	# take port 25), unbound must not start as its resolver, dovecot must
	# not take ports 143 and 993.  "No
	# configuration" leaves postfix unconfigured; a policy-rc.d that forbids
	# every service start covers the package scripts.  The tests and
	# tests/bench start their own instances in scratch directories.
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
