#!/bin/sh
# tests/fuzz.sh [short|long]: builds the libFuzzer targets in tests/fuzz/
# with clang (-fsanitize=fuzzer,address,undefined) and runs each: every file
# in tests/fuzz/regress-NAME/ once (crashes found before, kept as regression
# tests), then fuzzing from the seeds in tests/fuzz/corpus-NAME/ for 5 s
# (short, `make test` through tests/t-fuzz.sh) or 600 s (long, `make fuzz`;
# POSTERN_FUZZ_SECONDS overrides).  A crash leaves its input in
# $B/fuzz/crash-NAME-*: copy it into regress-NAME/ when fixed.
# POSTERN_FUZZ_JOBS targets (2) are built and run at once.  Output: TAP lines.
set -u
cd "$(dirname "$0")/.." || exit 111
mode=${1:-short}
case $mode in
short) secs=${POSTERN_FUZZ_SECONDS:-5} ;;
long) secs=${POSTERN_FUZZ_SECONDS:-600} ;;
*) echo "usage: tests/fuzz.sh [short|long]" >&2; exit 100 ;;
esac
B=${B:-build-fuzz}
out=$B/fuzz
mkdir -p "$out" || exit 111
jobs=${POSTERN_FUZZ_JOBS:-2}
# Each target is built and run as a job of its own, $jobs at a time (the
# fuzzing is one process on one core); a job's TAP lines go to
# $out/NAME.tap unnumbered and are numbered in order at the end.
t() { if [ "$1" = ok ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }

names=
running=
job() { # NAME SOURCES...
	names="$names $1"
	( build "$@" && run "$1" ) > "$out/$1.tap" 2>&1 &
	running="$running $!"
	# shellcheck disable=SC2086
	set -- $running
	if [ $# -ge "$jobs" ]; then
		wait "$1"
		shift
		running="$*"
	fi
}

if ! command -v clang > /dev/null 2>&1; then
	echo "not ok 1 - clang is not installed (tests/deps.sh)"
	exit 1
fi
CF="-g -O1 -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc/lib"

# target NAME: sources
build() {
	name=$1; shift
	# shellcheck disable=SC2086
	if clang $CF -Isrc/postern-smtpd -o "$out/$name" "$@" > "$out/$name.build.log" 2>&1; then
		t ok "fuzz target $name builds"
	else
		sed 's/^/# /' "$out/$name.build.log"
		t fail "fuzz target $name builds"
		return 1
	fi
}

run() {
	name=$1
	corpus=$out/corpus-$name
	mkdir -p "$corpus"
	cp tests/fuzz/corpus-"$name"/* "$corpus"/ 2> /dev/null
	if [ -d tests/fuzz/regress-"$name" ] && [ -n "$(ls tests/fuzz/regress-"$name")" ]; then
		if "$out/$name" tests/fuzz/regress-"$name"/* > "$out/$name.regress.log" 2>&1; then
			t ok "$name: regression inputs pass"
		else
			tail -30 "$out/$name.regress.log" | sed 's/^/# /'
			t fail "$name: regression inputs pass"
		fi
	fi
	if "$out/$name" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$out/crash-$name-" "$corpus" > "$out/$name.log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$out/$name.log" | tail -1)
		t ok "$name: fuzzed ${secs}s without a crash (${runs:-?})"
	else
		tail -40 "$out/$name.log" | sed 's/^/# /'
		t fail "$name: fuzzing found a crash (input in $out/crash-$name-*)"
	fi
}

job auth_request tests/fuzz/auth_request.c src/postern-auth/request.c src/lib/loginname.c src/lib/remoteip.c \
	-Isrc
job auth_throttle tests/fuzz/auth_throttle.c src/lib/file.c src/lib/io.c src/lib/str.c src/lib/fmt.c \
	src/lib/ipkey.c -Isrc
job pspawn_record tests/fuzz/pspawn_record.c src/postern-pspawn/record.c src/lib/loginname.c \
	src/lib/remoteip.c -Isrc
job pop3_parse tests/fuzz/pop3_parse.c src/postern-pop3d/command.c src/lib/base64.c src/lib/loginname.c \
	src/lib/case.c -Isrc
job smtpd_parse tests/fuzz/smtpd_parse.c src/postern-smtpd/parse.c src/postern-smtpd/sasl.c src/lib/base64.c \
	src/lib/loginname.c src/lib/addr.c src/lib/case.c src/lib/str.c src/lib/fmt.c src/lib/utf8.c \
	src/lib/esmtpdsn.c src/lib/envelope.c
job local_identity tests/fuzz/local_identity.c src/lib/identity.c src/lib/ids.c -Isrc
job local_dotfile tests/fuzz/local_dotfile.c src/postern-local/dotfile.c src/lib/addr.c src/lib/case.c \
	src/lib/str.c src/lib/fmt.c -Isrc
job local_linger tests/fuzz/local_linger.c src/postern-local/linger.c src/lib/netstring.c src/lib/io.c src/lib/fmt.c \
	src/lib/str.c -Isrc
job local_forward tests/fuzz/local_forward.c src/postern-local/forward.c src/postern-local/copy.c \
	src/postern-local/dotfile.c src/lib/envelope.c src/lib/esmtpdsn.c src/lib/addr.c src/lib/case.c src/lib/str.c \
	src/lib/fmt.c src/lib/io.c src/lib/log.c src/lib/die.c src/lib/utf8.c -Isrc
job lspawn_parse tests/fuzz/lspawn_parse.c src/postern-lspawn/spawn.c src/lib/netstring.c src/lib/io.c \
	src/lib/addr.c src/lib/envelope.c src/lib/esmtpdsn.c src/lib/fmt.c src/lib/uniq.c src/lib/username.c \
	src/lib/str.c src/lib/case.c src/lib/rand.c -Isrc
job rspawn_parse tests/fuzz/rspawn_parse.c src/postern-rspawn/rules.c src/lib/netstring.c src/lib/io.c \
	src/lib/addr.c src/lib/envelope.c src/lib/esmtpdsn.c src/lib/fmt.c src/lib/uniq.c src/lib/str.c src/lib/case.c \
	src/lib/rand.c -Isrc
job inject_header tests/fuzz/inject_header.c src/postern-inject/header.c src/postern-inject/line.c \
	src/postern-inject/addrlist.c src/lib/authres.c src/lib/case.c src/lib/io.c src/lib/str.c src/lib/fmt.c src/lib/die.c src/lib/log.c -Isrc
job inject_addrlist tests/fuzz/inject_addrlist.c src/postern-inject/addrlist.c src/lib/str.c src/lib/fmt.c -Isrc
job remote_parse tests/fuzz/remote_parse.c src/postern-remote/dns.c src/postern-remote/reply.c src/lib/rand.c \
	src/lib/str.c src/lib/io.c src/lib/fmt.c src/lib/tlsa.c -Isrc -lresolv
job queue_envelope tests/fuzz/queue_envelope.c src/postern-queue/envelope_in.c src/lib/envelope.c src/lib/esmtpdsn.c \
	src/lib/addr.c src/lib/case.c src/lib/str.c src/lib/io.c src/lib/fmt.c -Isrc
job listen_rules tests/fuzz/listen_rules.c src/postern-listen/rules.c src/lib/str.c src/lib/fmt.c -Isrc
job dkim_parse tests/fuzz/dkim_parse.c src/lib/dkim.c src/lib/idna.c src/lib/utf8.c src/lib/dkimcanon.c src/lib/case.c src/lib/str.c src/lib/fmt.c
job dkim_verify tests/fuzz/dkim_verify.c src/lib/dkimverify.c src/lib/taglist.c src/lib/authres.c src/lib/dkim.c src/lib/idna.c src/lib/utf8.c src/lib/dkimcanon.c src/lib/case.c \
	src/lib/str.c src/lib/fmt.c src/lib/base64.c
job dmarc tests/fuzz/dmarc.c src/lib/dmarc.c src/lib/taglist.c src/lib/dkim.c src/lib/idna.c src/lib/utf8.c src/lib/dkimcanon.c src/lib/case.c src/lib/str.c src/lib/fmt.c
job tlsd_request tests/fuzz/tlsd_request.c src/postern-tlsd/request.c src/lib/fdpass.c src/lib/servername.c \
	src/lib/tlsa.c src/lib/str.c src/lib/fmt.c -Isrc
job smtpd_dns tests/fuzz/smtpd_dns.c src/lib/dnswire.c src/lib/fmt.c src/postern-smtpd/dnsblwire.c -Isrc/postern-smtpd
job smtpd_spf tests/fuzz/smtpd_spf.c src/postern-smtpd/spf.c src/lib/dnswire.c src/lib/fmt.c src/lib/case.c
job quota tests/fuzz/quota.c src/lib/quota.c src/lib/case.c src/lib/str.c src/lib/fmt.c
job esmtpdsn tests/fuzz/esmtpdsn.c src/lib/esmtpdsn.c src/lib/case.c src/lib/str.c src/lib/fmt.c
job srs tests/fuzz/srs.c src/lib/srs.c src/lib/siphash.c src/lib/addr.c src/lib/envelope.c src/lib/esmtpdsn.c \
	src/lib/case.c src/lib/str.c src/lib/fmt.c
job srsd_answer tests/fuzz/srsd_answer.c src/postern-srs/answer.c src/lib/srsfiles.c src/lib/srs.c src/lib/siphash.c \
	src/lib/addr.c src/lib/envelope.c src/lib/esmtpdsn.c src/lib/case.c src/lib/str.c src/lib/fmt.c src/lib/file.c \
	src/lib/io.c src/lib/home.c src/lib/die.c src/lib/log.c -Isrc
job authres tests/fuzz/authres.c src/lib/authres.c src/lib/case.c src/lib/str.c src/lib/fmt.c
job pem tests/fuzz/pem.c src/lib/pem.c src/lib/base64.c src/lib/str.c src/lib/die.c src/lib/log.c \
	src/lib/fmt.c -lbearssl
job mtasts tests/fuzz/mtasts.c src/lib/mtasts.c src/lib/case.c src/lib/str.c src/lib/fmt.c
job tlsrpt tests/fuzz/tlsrpt.c src/lib/tlsrpt_rec.c src/lib/tlsrpt_txt.c src/lib/tlsrpt_conf.c src/lib/json.c \
	src/lib/str.c src/lib/fmt.c
job idna tests/fuzz/idna.c src/lib/idna.c src/lib/utf8.c src/lib/str.c src/lib/fmt.c
wait
for name in $names; do cat "$out/$name.tap"; done | awk '
	/^ok - / { n++; sub(/^ok - /, ""); print "ok " n " - " $0; next }
	/^not ok - / { n++; f++; sub(/^not ok - /, ""); print "not ok " n " - " $0; next }
	{ print }
	END { print "# " n " tests, " f + 0 " failed"; exit f > 0 }'
