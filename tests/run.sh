#!/bin/sh
# The test driver behind `make test` (which builds build/ and build-asan/
# first): every unit test in build-asan/units/ (the sanitizer build), then
# every tests/t-*.sh and tests/t-*.py in sorted order, each under a timeout,
# then those of ASAN_INTEGRATION once more with build-asan's programs,
# with POSTERN_SRC (the repository) and POSTERN_BUILD (the build whose
# programs get installed) exported.  Each output is saved in the log
# directory and printed.
#
# Two streams run side by side after the units, sharing the work: the
# first goes through the tests in order, the second begins with t-fuzz.sh
# and the sanitizer runs and then takes the tests from the end, until the
# two meet (its output is printed when the first is done).  Most of a
# test's time is spent waiting (on fsync, on a timeout it checks, on a
# service starting), so two at a time take a little over half the time of
# one after the other.  The tests are written to share a machine: each
# has its own scratch directory, free ports, network namespaces, and
# users named after it or its pid; what they look for in /proc is under
# their own home.  The one thing two runs of the same test would share,
# its users, is kept apart by a lock per test name: the second waits.
#
# TAP lines are counted: "ok ..." passed, "not ok ..." failed; a test that
# exits non-zero without a "not ok" line, or prints no TAP line at all,
# counts as one failure.  The last line is "N passed, N failed"; the exit
# status is 1 if anything failed.
#
# Environment: POSTERN_BUILD (default build), POSTERN_ASAN_BUILD (default
# build-asan), POSTERN_TEST_TIMEOUT (seconds per test, default 600),
# POSTERN_TEST_LOGS (default $POSTERN_BUILD/test-logs), POSTERN_TEST_JOBS
# (2: the two streams at once; 1: one stream, everything in turn), and
# POSTERN_TESTS: names to run (e.g. "t-install.sh lib_str"), default all.
set -u
cd "$(dirname "$0")/.." || exit 111
POSTERN_SRC=$(pwd -P)
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$POSTERN_SRC" "$1" ;; esac; }
POSTERN_BUILD=$(abs "${POSTERN_BUILD:-build}")
ASAN_BUILD=$(abs "${POSTERN_ASAN_BUILD:-build-asan}")
TIMEOUT=${POSTERN_TEST_TIMEOUT:-600}
JOBS=${POSTERN_TEST_JOBS:-2}
LOGS=$(abs "${POSTERN_TEST_LOGS:-$POSTERN_BUILD/test-logs}")
export POSTERN_SRC POSTERN_BUILD
# Sanitizers: any report is fatal, and names the line.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

ASAN_INTEGRATION="t-listen.py t-dnsbl.py t-spf.py t-lspawn.py t-smtp.py t-smtp-srs.py t-smtp-auth.py t-starttls.py t-tls.py t-keys.py t-local.sh t-inject.sh t-queue-badinput.sh t-popup.py t-auth.py t-pspawn.py t-pop3d.py t-dkimkeys.py t-dkimsign.py t-dkimverify.py t-dmarc.py t-srsd.py"
began=$(date +%s)
rm -rf "$LOGS" && mkdir -p "$LOGS" || { echo "run.sh: cannot create $LOGS" >&2; exit 111; }
passed=0
failed=0
failures=

wanted() {
	[ -n "${POSTERN_TESTS:-}" ] || return 0
	for w in $POSTERN_TESTS; do [ "$w" = "$1" ] && return 0; done
	return 1
}

# run_one NAME LOG CMD...: under the lock of NAME's test (its name without
# " (asan)"); the time printed is the run's own, the wait for the lock is
# left out.
run_one() {
	name=$1 log=$2
	shift 2
	echo "=== $name"
	lock=$LOGS/.lock.$(printf '%s' "${name%% *}" | tr / _)
	exec 9> "$lock" && flock 9 || { echo "run.sh: cannot lock $lock" >&2; exit 111; }
	start=$(date +%s)
	timeout -k 10 "$TIMEOUT" "$@" < /dev/null > "$log" 2>&1 9>&-
	rc=$?
	secs=$(($(date +%s) - start))
	exec 9>&-
	cat "$log"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok' "$log")
	extra=
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		extra="timed out after ${TIMEOUT}s"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		extra="exited $rc without a failing test line"
	elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		extra="printed no test lines"
	fi
	if [ -n "$extra" ]; then
		echo "not ok - $name $extra" | tee -a "$log"
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -eq 0 ] || failures="$failures $name"
	echo "--- $name: $p passed, $f failed, exit $rc, ${secs}s"
}

for u in "$ASAN_BUILD"/units/*; do
	[ -f "$u" ] && [ -x "$u" ] || continue
	name=units/${u##*/}
	wanted "${u##*/}" || continue
	run_one "$name" "$LOGS/unit-${u##*/}.log" "$u"
done
[ -d "$ASAN_BUILD/units" ] || echo "# no unit tests in $ASAN_BUILD/units (make asan builds them)"

# plain NAME: tests/NAME against build/.
plain() {
	t=tests/$1
	if [ ! -x "$t" ]; then
		echo "=== $1"
		echo "not ok - $1 is not executable (chmod +x it)"
		failed=$((failed + 1))
		failures="$failures $1"
		return
	fi
	run_one "$1" "$LOGS/$1.log" "./$t"
}

# Integration tests whose programs need no setuid bit and no small RSS run
# once more with the sanitizer build's programs: the listener, postern-smtpd
# (the network's parser), postern-local, sendmail and postern-queue driven
# directly.  A sanitizer report ends the program with an error status, which
# each of these tests checks; and the reports of every program that got
# this environment go to files in a directory any user may write (the
# programs run as several users), which must stay empty: a report from a
# program whose status or stderr no test looks at still fails the run.
# The tests that run the s6 services are not here: s6-softlimit's limits
# leave no room for ASan's shadow memory, and an installed postern-queue is
# setuid.
sanitized() { # NAME
	name="$1 (asan)"
	[ -x "$ASAN_BUILD/bin/postern-listen" ] || { echo "# no $ASAN_BUILD/bin: $name skipped"; return; }
	rep=$(mktemp -d /tmp/postern-asan.XXXXXX) && chmod 1777 "$rep" || { echo "run.sh: cannot make a report directory" >&2; exit 111; }
	run_one "$name" "$LOGS/$1.asan.log" env POSTERN_BUILD="$ASAN_BUILD" \
		ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$rep/asan" UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$rep/ubsan" "./tests/$1"
	if [ -n "$(ls -A "$rep")" ]; then
		for r in "$rep"/*; do sed 's/^/# /' "$r" | head -40; cp "$r" "$LOGS/$1.${r##*/}"; done
		echo "not ok - $name: sanitizer reports from its programs (copied to $LOGS)"
		failed=$((failed + 1))
		failures="$failures $name"
	fi
	rm -rf "$rep"
}

# The jobs: plain:NAME for each test, asan:NAME for each of ASAN_INTEGRATION.
plains=
for t in tests/t-*.sh tests/t-*.py; do
	[ -f "$t" ] || continue
	wanted "${t#tests/}" && plains="$plains plain:${t#tests/}"
done
sanitizeds=
for t in $ASAN_INTEGRATION; do
	wanted "$t" && sanitizeds="$sanitizeds asan:$t"
done
reversed=
for j in $plains; do reversed="$j $reversed"; done

# stream OUT JOB...: runs each job no other stream has taken (mkdir is the
# claim), and writes its counts to OUT.
stream() {
	out=$1
	shift
	passed=0 failed=0 failures=
	for j in "$@"; do
		mkdir "$LOGS/.claim.$j" 2> /dev/null || continue
		case $j in
		plain:*) plain "${j#plain:}" ;;
		asan:*) sanitized "${j#asan:}" ;;
		esac
	done
	echo "$passed $failed$failures" > "$out"
}

# The first stream goes through the tests in order; the second begins
# with the fuzz targets and the sanitizer runs and then takes the tests
# from the end, until the two meet.  Each is a subshell.
fuzz=
wanted t-fuzz.sh && fuzz=plain:t-fuzz.sh
# shellcheck disable=SC2086
if [ "$JOBS" -ge 2 ]; then
	(stream "$LOGS/.stream2" $fuzz $sanitizeds $reversed) > "$LOGS/.stream2.out" 2>&1 &
	second=$!
	(stream "$LOGS/.stream1" $plains $sanitizeds)
	wait "$second"
	cat "$LOGS/.stream2.out"
else
	(stream "$LOGS/.stream1" $plains $sanitizeds)
fi
for s in "$LOGS/.stream1" "$LOGS/.stream2"; do
	[ "$JOBS" -ge 2 ] || [ "$s" = "$LOGS/.stream1" ] || continue
	if read -r p f fl < "$s" 2> /dev/null; then
		passed=$((passed + p))
		failed=$((failed + f))
		failures="$failures${fl:+ $fl}"
	else
		echo "not ok - a stream of tests ended without its counts ($s)"
		failed=$((failed + 1))
		failures="$failures ${s##*/}"
	fi
done

echo "# logs in $LOGS; $(($(date +%s) - began)) s in all"
[ -z "$failures" ] || echo "# failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
