#!/bin/sh
# Two builds of postern side by side, in the same runs, alternated run by
# run as make bench alternates the peers: the way to tell whether a change
# makes postern faster on a machine whose speed drifts by a fifth from one
# minute to the next (doc/performance.md, "Comparing two builds").
#
#   BENCH_A=TREE BENCH_B=TREE sh tests/bench/ab.sh
#
# TREE is a postern source tree with its build in TREE/build (a git
# worktree of the older commit, built with make); each side is installed
# with its own tree's ./install.  BENCH_A defaults to this tree.  The other
# settings are run.sh's (BENCH_N, BENCH_RUNS, BENCH_CONC, BENCH_SIZES,
# BENCH_LATENCY, BENCH_PORT); the table goes to BENCH_OUT, by default
# /tmp/postern-ab.md, and is printed.  Run as root.  Never part of make test.
set -u
POSTERN_SRC=$(cd "$(dirname "$0")/../.." && pwd -P)
export POSTERN_SRC
. "$POSTERN_SRC/tests/lib.sh"
. "$POSTERN_SRC/tests/bench/peers.sh"
HERE=$POSTERN_SRC
A=${BENCH_A:-$HERE}
B=${BENCH_B:-}
[ -n "$B" ] || bail "BENCH_B=TREE: the postern source tree to compare with (built: TREE/build)"
for t in "$A" "$B"; do
	[ -x "$t/install" ] && [ -x "$t/build/bin/postern-smtpd" ] || bail "$t: not a built postern tree (make in it first)"
done
scratch_init
PY=/usr/bin/python3
D=bench.example
P_PORT=${BENCH_PORT:-12525}
bench_scratch || bail "the scratch directory"

side() { # NAME TREE HOME PORT USER
	POSTERN_SRC=$2 POSTERN_BUILD=$2/build
	pt_setup "$1" "$3" "$4" "$5" "$D"
	ab_rc=$?
	POSTERN_SRC=$HERE POSTERN_BUILD=$HERE/build
	return $ab_rc
}
side A "$A" "$SCRATCH/home-a" "$P_PORT" ptbposterna || bail "A ($A) set-up"
A_HOME=$PHOME A_PID=$SVSCAN_PID A_ENTRY=$PT_ENTRY
on_cleanup 's6-svscanctl -t "$A_HOME/service" 2> /dev/null'
ok "A: $A ($(git -C "$A" log -1 --format=%h 2> /dev/null)) on port $P_PORT"
side B "$B" "$SCRATCH/home-b" "$((P_PORT + 1))" ptbposternb || bail "B ($B) set-up"
ok "B: $B ($(git -C "$B" log -1 --format=%h 2> /dev/null)) on port $((P_PORT + 1))"

if $PY "$HERE/tests/bench/bench.py" "${BENCH_OUT:-/tmp/postern-ab.md}" "$SCRATCH/fsync-floor" "$SCRATCH/floor/d" \
	"$A_ENTRY" "$PT_ENTRY"; then
	ok "benchmark ran; table in ${BENCH_OUT:-/tmp/postern-ab.md}"
else
	not_ok "bench.py failed"
fi
# B is stopped by the clean-up on exit, A here
s6-svscanctl -t "$A_HOME/service" 2> /dev/null
t_wait_gone "$A_PID" 30 || diag "A's s6-svscan $A_PID did not stop"
wait "$A_PID" 2> /dev/null
done_testing
