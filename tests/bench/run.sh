#!/bin/sh
# make bench: postern side by side with Postfix and OpenSMTPD, on the same
# machine in the same run, and against the file system's fsync floor.
#
#   1. Three servers, each in a scratch directory on a high loopback port,
#      each delivering bench.example to its own test user's ~/Maildir:
#      postern (./install --home, under its own s6-svscan), Postfix
#      (postfix -c DIR) and OpenSMTPD (smtpd -d -f CONF in a private mount
#      namespace); see tests/bench/peers.sh.  A peer that cannot be set up
#      is left out with a line saying why; postern never is.
#   2. tests/bench/bench.py runs the workloads (SMTP with smtp-source at 1, 10
#      and 50 connections, 1 KB and 100 KB; sendmail with 4 parallel
#      senders; a held backlog released; one-at-a-time latency; memory;
#      the fsync floor; strace
#      counts), alternating the servers run by run, and writes the table to
#      tests/bench/results.md (and prints it).
# BENCH_QUICK=1: N=300, one run each, for a check in a minute or two.
# BENCH_PEERS="postfix opensmtpd" (the default) chooses the peers; empty:
# postern alone (to compare two builds of postern, POSTERN_BUILD=...).
# Never part of `make test`.
set -u
POSTERN_SRC=$(cd "$(dirname "$0")/../.." && pwd -P)
export POSTERN_SRC
. "$POSTERN_SRC/tests/lib.sh"
. "$POSTERN_SRC/tests/bench/peers.sh"
scratch_init
PY=/usr/bin/python3
OUT=${BENCH_OUT:-$POSTERN_SRC/tests/bench/results.md}
D=bench.example
P_PORT=${BENCH_PORT:-12525}
PF_PORT=$((P_PORT + 1))
OS_PORT=$((P_PORT + 2))

for p in postern-queue postern-inject postern-start postern-send postern-lspawn postern-clean postern-local postern-smtpd postern-mkrcpt; do
	[ -x "$POSTERN_BUILD/bin/$p" ] || bail "no $POSTERN_BUILD/bin/$p: build first (make all)"
done
[ -x /usr/sbin/smtp-source ] || bail "no /usr/sbin/smtp-source: sh tests/deps.sh bench"
for port in $P_PORT $PF_PORT $OS_PORT; do
	$PY -c "import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $port))" 2> /dev/null ||
		bail "port $port on 127.0.0.1 is taken (BENCH_PORT=... picks three others)"
done
bench_scratch || bail "the scratch directory"

# postern
pt_setup postern "$SCRATCH/home" "$P_PORT" ptbpostern "$D" || bail "postern set-up"
ok "postern listens on 127.0.0.1:$P_PORT"
SERVERS=$PT_ENTRY
make_user ptbpostfix || bail "make_user ptbpostfix"
make_user ptbsmtpd || bail "make_user ptbsmtpd"

PEERS=${BENCH_PEERS-postfix opensmtpd}
want() { case " $PEERS " in *" $1 "*) return 0 ;; esac; diag "$1 left out (BENCH_PEERS)"; return 1; }

# Postfix
if want postfix; then
	if pf_setup "$PF_PORT" "$D" && pf_start && listening "$PF_PORT"; then
		ok "Postfix listens on 127.0.0.1:$PF_PORT (postfix -c $PF_CONF)"
		SERVERS="$SERVERS postfix=$PF_PORT,$SCRATCH/users/ptbpostfix/Maildir/new,ptbpostfix@$D,$PF_PID,$SCRATCH/postfix/inject,$SCRATCH/postfix/ctl"
	else
		diag "Postfix left out: not installed (sh tests/deps.sh bench) or did not start"
	fi
fi

# OpenSMTPD
if want opensmtpd; then
	if os_setup "$OS_PORT" "$D" && os_start && listening "$OS_PORT"; then
		ok "OpenSMTPD listens on 127.0.0.1:$OS_PORT (own mount namespace, spool $OS_DIR/spool)"
		SERVERS="$SERVERS opensmtpd=$OS_PORT,$SCRATCH/users/ptbsmtpd/Maildir/new,ptbsmtpd@$D,$OS_PID,$OS_DIR/inject,$OS_DIR/ctl"
	else
		diag "OpenSMTPD left out: no opensmtpd .deb, no unshare/nsenter, or it did not start"
	fi
fi

# shellcheck disable=SC2086
if $PY "$POSTERN_SRC/tests/bench/bench.py" "$OUT" "$SCRATCH/fsync-floor" "$SCRATCH/floor/d" $SERVERS; then
	ok "benchmark ran; table in $OUT"
else
	not_ok "bench.py failed"
fi
done_testing
