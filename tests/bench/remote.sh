#!/bin/sh
# Remote delivery benchmark (issue 4, "Benchmark"): a full queue drained to
# a remote server, postern against Postfix, same load, same sink, same run.
#
#   Load: N messages (default 2000; BENCH_QUICK=1: 300) of 2 KB, one
#   recipient each, u<i>@d<k>.test with k = 1..20 in turn: 20 recipient
#   domains.  The "remote server" is Postfix's smtp-sink on
#   127.0.0.1:BENCH_REMOTE_PORT (default 12625), dumping every transaction
#   into a file (-d), a fresh sink and dump directory per server.
#
#   postern: ./install into a scratch home; control/smtproutes sends each
#   d<k>.test to [127.0.0.1]:PORT; concurrencyremote 20, concurrencyperdomain
#   5.  The N messages are injected with HOME/bin/sendmail while nothing
#   runs (postern-send stopped: the queue fills, nothing leaves).  Then
#   postern-start, and the clock runs from its start until the sink holds N
#   messages and queue/mess is empty.
#
#   Postfix: a scratch instance (postfix -c DIR, its own main.cf and
#   master.cf, queue and data directories under the scratch directory; no
#   smtpd, no chroot, nothing read from /etc/postfix) with transport_maps
#   sending d<k>.test to smtp:[127.0.0.1]:PORT and 20 SMTP client
#   processes to that destination (default_destination_concurrency_limit and
#   the smtp maxproc, as postern's 20 jobs).  It runs with its queue
#   manager disabled (master_service_disable = qmgr.unix) while the N
#   messages go in through its own sendmail (postdrop -> pickup -> cleanup
#   -> incoming/, with in_flow_delay 0): Postfix's queue is full, nothing
#   leaves.  Then `postfix stop`, the line goes, and the clock runs from
#   `postfix start` until the sink holds N messages and
#   incoming/active/deferred/maildrop are empty.
#
#   The clock also notes when the first message reached the sink: the
#   start-up cost (`postfix start` runs postfix-script's checks: about
#   0.3 s on an idle 2-CPU machine, 2 s on a loaded one; postern-start
#   tens of milliseconds).  Two rates: messages / seconds from start to
#   empty queue, and from the first delivery to empty queue (the drain
#   rate, start-up left out).
#
#   Both: every dump must hold the message's last line, and N distinct
#   recipients must have arrived (nothing lost, nothing twice).
#
#   BENCH_ROUNDS rounds (default 3; BENCH_QUICK=1: 1), postern and Postfix
#   alternating, each round with a fresh injection; the medians are the
#   result.  A full run takes two to four minutes (longer on a loaded
#   machine; BENCH_REMOTE_TIMEOUT, default 120 s, bounds each drain).
#
# Prints a markdown table and writes it to tests/bench/remote-results.md
# (BENCH_REMOTE_OUT=FILE elsewhere).  Run as root after `make all`:
#   sh tests/bench/remote.sh
# Never touches /etc/postfix, a running system Postfix or port 25; stops
# only what it started, by pid.  Not part of `make test`.
set -u
POSTERN_SRC=$(cd "$(dirname "$0")/../.." && pwd -P)
export POSTERN_SRC
. "$POSTERN_SRC/tests/lib.sh"
PY=/usr/bin/python3
N=${BENCH_N:-2000}
ROUNDS=${BENCH_ROUNDS:-3}
if [ "${BENCH_QUICK:-0}" = 1 ]; then N=${BENCH_N:-300}; ROUNDS=${BENCH_ROUNDS:-1}; fi
DOMAINS=20
CONC=20
PERDOMAIN=5
PORT=${BENCH_REMOTE_PORT:-12625}
OUT=${BENCH_REMOTE_OUT:-$POSTERN_SRC/tests/bench/remote-results.md}
TIMEOUT=${BENCH_REMOTE_TIMEOUT:-120}
SINKBIN=/usr/sbin/smtp-sink

[ "$(id -u)" = 0 ] || bail "run as root (./install and postfix need it)"
for p in postern-queue postern-inject postern-start postern-send postern-rspawn postern-remote postern-lspawn postern-clean; do
	[ -x "$POSTERN_BUILD/bin/$p" ] || bail "no $POSTERN_BUILD/bin/$p: build first (make all)"
done
[ -x "$SINKBIN" ] || bail "no $SINKBIN: sh tests/deps.sh bench (package postfix)"
# SO_REUSEADDR: the last run's connections in TIME_WAIT do not count, a
# listener does.
$PY -c "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $PORT)); s.listen()" 2> /dev/null ||
	bail "port $PORT on 127.0.0.1 is taken (BENCH_REMOTE_PORT=... picks another)"
scratch_init
spread "$SCRATCH" # each round's sink directory, postern's home and Postfix's in groups of their own

# --- the load: one 2 KB message, N (sender, recipient) pairs ---
{
	printf 'From: bench@sender.test\nTo: bench recipients:;\nSubject: remote delivery benchmark\n'
	printf 'Message-ID: <remote-bench@sender.test>\nDate: Thu, 1 Jan 2026 00:00:00 +0000\n\n'
	i=0
	while [ $i -lt 26 ]; do
		printf 'line %02d of the remote delivery benchmark body, 72 bytes with padding.\n' $i
		i=$((i + 1))
	done
	printf 'end-of-bench-message\n'
} > "$SCRATCH/msg"
diag "message: $(wc -c < "$SCRATCH/msg") bytes, $N messages, $DOMAINS domains, sink 127.0.0.1:$PORT"

# inject.py CMD...: runs "CMD -f bench@sender.test u<i>@d<k>.test" N times,
# 4 at once, the message on stdin; prints how long it took.
cat > "$SCRATCH/inject.py" << 'PYEOF'
import subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
n, domains, msg, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
data = open(msg, 'rb').read()
def one(i):
    r = subprocess.run(cmd + ['-f', 'bench@sender.test', 'u%d@d%d.test' % (i, i % domains + 1)],
                       input=data, capture_output=True)
    if r.returncode != 0:
        raise SystemExit('inject %d: exit %d: %s' % (i, r.returncode, r.stderr.decode(errors='replace')))
t = time.time()
with ThreadPoolExecutor(4) as ex:
    list(ex.map(one, range(n)))
print('%.1f' % (time.time() - t))
PYEOF

# wait.py T0 TIMEOUT SINKDIR N QUEUEDIR...: polls every 20 ms until SINKDIR
# holds N files and no QUEUEDIR (recursively) holds a file; prints
# "FIRST SINK EMPTY": seconds from T0 (a time.time() value) until the first
# message reached the sink, all of them did, and the queue was empty.
cat > "$SCRATCH/wait.py" << 'PYEOF'
import os, sys, time
t0, timeout, sink, n, queues = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5:]
def queued():
    c = 0
    for q in queues:
        for _, _, files in os.walk(q):
            c += len(files)
    return c
t_first = t_sink = t_empty = None
while True:
    now = time.time()
    if t_sink is None:
        with os.scandir(sink) as it:
            c = sum(1 for _ in it)
        if c > 0 and t_first is None:
            t_first = now
        if c >= n:
            t_sink = now
    if t_sink is not None and queued() == 0:
        t_empty = now
        break
    if now - t0 > timeout:
        with os.scandir(sink) as it:
            print('timeout after %.0f s: sink holds %d of %d, %d still queued'
                  % (now - t0, sum(1 for _ in it), n, queued()), file=sys.stderr)
        sys.exit(1)
    time.sleep(0.02)
print('%.3f %.3f %.3f' % (t_first - t0, t_sink - t0, t_empty - t0))
PYEOF
now() { $PY -c 'import time; print("%.6f" % time.time())'; }

SINK_PID=
sink_start() { # DIR: a fresh smtp-sink dumping into DIR
	mkdir -p "$1" && chown nobody "$1" || return 1
	"$SINKBIN" -u nobody -h sink.remote.test -d "$1/m." "127.0.0.1:$PORT" 256 \
		> "$1.log" 2>&1 < /dev/null &
	SINK_PID=$!
	s_i=0
	until $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1).close()" 2> /dev/null; do
		s_i=$((s_i + 1))
		[ $s_i -lt 100 ] && kill -0 "$SINK_PID" 2> /dev/null || { diag "smtp-sink: $(cat "$1.log")"; return 1; }
		sleep 0.1
	done
}
sink_stop() {
	[ -n "$SINK_PID" ] || return 0
	kill "$SINK_PID" 2> /dev/null
	wait "$SINK_PID" 2> /dev/null
	SINK_PID=
}
on_cleanup sink_stop

# sink_verify DIR: every dump complete, N distinct recipients
sink_verify() {
	v_files=$(find "$1" -type f | wc -l)
	v_whole=$(grep -l -x 'end-of-bench-message' "$1"/* 2> /dev/null | wc -l)
	v_rcpts=$(grep -h -i '^X-Rcpt-Args: *<\?u[0-9]*@d[0-9]*\.test' "$1"/* 2> /dev/null | sort -u | wc -l)
	[ "$v_files" -eq "$N" ] && [ "$v_whole" -eq "$N" ] && [ "$v_rcpts" -eq "$N" ] && return 0
	diag "sink $1: $v_files dumps, $v_whole complete, $v_rcpts distinct recipients (want $N each)"
	return 1
}

rate() { $PY -c "import sys; print('%.0f' % ($N / float(sys.argv[1])))" "$1"; }

# ===================== postern =====================
install_home || bail "./install into $SCRATCH/home"
C=$PHOME/control
printf 'bench.test\n' > "$C/me"
printf 'bench.test\n' > "$C/locals"
printf '%s\n' $CONC > "$C/concurrencyremote"
printf '%s\n' $PERDOMAIN > "$C/concurrencyperdomain"
k=1
: > "$C/smtproutes"
while [ $k -le $DOMAINS ]; do
	printf 'd%d.test:[127.0.0.1]:%s\n' $k "$PORT" >> "$C/smtproutes"
	k=$((k + 1))
done
START_PID=
start_stop() {
	[ -n "$START_PID" ] || return 0
	t_stop_child "$START_PID"
	START_PID=
}
on_cleanup start_stop

P_ALL= # one "FIRST SINK EMPTY" line per round
postern_round() { # ROUND
	secs=$($PY "$SCRATCH/inject.py" "$N" $DOMAINS "$SCRATCH/msg" "$PHOME/bin/sendmail" -i) ||
		bail "postern: injecting $N messages with $PHOME/bin/sendmail"
	queued=$(find "$PHOME/queue/mess" -type f -name '*.env' | wc -l)
	check "postern round $1: $N messages queued with sendmail in $secs s, postern-send not running ($queued committed in queue/mess)" [ "$queued" -eq "$N" ]
	sink_start "$SCRATCH/sink-postern-$1" || bail "smtp-sink on 127.0.0.1:$PORT"
	log=$SCRATCH/postern-$1.log
	T0=$(now)
	"$PHOME/bin/postern-start" > "$log" 2>&1 < /dev/null &
	START_PID=$!
	if res=$($PY "$SCRATCH/wait.py" "$T0" "$TIMEOUT" "$SCRATCH/sink-postern-$1" "$N" "$PHOME/queue/mess" 2> "$SCRATCH/wait.err"); then
		ok "postern round $1: queue drained to the sink (seconds to first at sink, all at sink, empty queue: $res)"
		P_ALL="$P_ALL$res
"
	else
		not_ok "postern round $1: queue drained to the sink: $(cat "$SCRATCH/wait.err")"
		diag "$(grep -v 'status=delivered' "$log" | tail -5)"
	fi
	start_stop
	sink_stop
	check "postern round $1: every message arrived once and whole" sink_verify "$SCRATCH/sink-postern-$1"
	n_ok=$(grep -c 'postern-remote: attempt .*status=delivered' "$log")
	check "postern round $1: $N delivered attempts logged ($n_ok), none deferred" sh -c \
		"[ $n_ok -eq $N ] && ! grep -q 'status=deferred' '$log'"
}

# ===================== Postfix =====================
PF_PID=
PFD=$SCRATCH/postfix
pf_stop() {
	[ -n "$PF_PID" ] || return 0
	postfix -c "$PFD/etc" stop > /dev/null 2>&1
	t_wait_gone "$PF_PID" 20 || kill -9 "$PF_PID" 2> /dev/null
	PF_PID=
}
pf_start() { # [qmgr]: postfix start, with its queue manager only if asked
	if [ "${1:-}" = qmgr ]; then d=; else d=qmgr.unix; fi
	postconf -c "$PFD/etc" -e "master_service_disable = $d" || return 1
	rm -f "$PFD/queue/pid/master.pid"
	postfix -c "$PFD/etc" start > "$PFD/start.log" 2>&1 || {
		diag "postfix start: $(cat "$PFD/start.log"; tail -5 "$PFD/maillog" 2> /dev/null)"
		return 1
	}
	[ -s "$PFD/queue/pid/master.pid" ] || return 1
	PF_PID=$(tr -d ' \n' < "$PFD/queue/pid/master.pid")
}
pf_setup() {
	command -v postfix > /dev/null 2>&1 && [ -f /usr/share/postfix/master.cf.dist ] || return 1
	mkdir -p "$PFD/etc" "$PFD/queue" "$PFD/data" && chmod 755 "$PFD" "$PFD/queue" &&
		chown postfix "$PFD/data" || return 1
	k=1
	: > "$PFD/etc/transport"
	while [ $k -le $DOMAINS ]; do
		printf 'd%d.test smtp:[127.0.0.1]:%s\n' $k "$PORT" >> "$PFD/etc/transport"
		k=$((k + 1))
	done
	cat > "$PFD/etc/main.cf" << EOF
# written by postern tests/bench/remote.sh: a scratch instance, no smtpd
compatibility_level = 3.6
queue_directory = $PFD/queue
data_directory = $PFD/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.test
mydomain = bench.test
myorigin = bench.test
mydestination =
local_transport = error:no local delivery in this benchmark
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
transport_maps = texthash:$PFD/etc/transport
default_destination_concurrency_limit = $CONC
smtp_tls_security_level = none
biff = no
maillog_file = $PFD/maillog
maillog_file_prefixes = $SCRATCH
# While mail goes in, qmgr is off (master_service_disable = qmgr.unix), so
# no flow-control tokens come back: pickup would wait a second per message
# (it still warns that public/qmgr is missing, harmlessly).
in_flow_delay = 0
EOF
	# The package's master.cf: no smtpd (nothing listens), no chroot (the
	# scratch queue has no copies of /etc files), $CONC smtp clients.
	awk -v conc="$CONC" '/^#/ || /^[ \t]/ || NF < 8 { print; next }
		$1 == "smtp" && $2 == "inet" { next }
		$1 == "smtp" && $2 == "unix" { $7 = conc }
		{ $5 = "n"; print }' /usr/share/postfix/master.cf.dist > "$PFD/etc/master.cf"
	on_cleanup pf_stop
	pf_start
}
# complete queue files: Postfix sets the owner-execute bit when one is whole
pf_incoming() { find "$PFD/queue/incoming" -type f -perm -u+x | wc -l; }
pf_ready() {
	[ "$(pf_incoming)" -eq "$N" ] && [ "$(count_files "$PFD/queue/maildrop")" -eq 0 ]
}

F_ALL=
postfix_round() { # ROUND: Postfix is running without qmgr
	secs=$($PY "$SCRATCH/inject.py" "$N" $DOMAINS "$SCRATCH/msg" /usr/sbin/sendmail -C "$PFD/etc" -i) ||
		bail "Postfix: injecting $N messages with sendmail -C $PFD/etc"
	s_i=0
	until pf_ready; do
		s_i=$((s_i + 1)); [ $s_i -lt 600 ] || break; sleep 0.1
	done
	check "Postfix round $1: $N messages queued with sendmail in $secs s, qmgr not running ($(pf_incoming) in incoming/)" pf_ready
	sink_start "$SCRATCH/sink-postfix-$1" || bail "smtp-sink on 127.0.0.1:$PORT"
	# Stopped, then started with its queue manager: the clock includes
	# `postfix start` (its checks, master, qmgr's first scan of incoming/),
	# as postern's includes postern-start.  (A reload that enables qmgr in
	# the running master is slower: 1.5 s more before the first delivery.)
	pf_stop
	T0=$(now)
	pf_start qmgr || diag "postfix start with qmgr failed"
	if res=$($PY "$SCRATCH/wait.py" "$T0" "$TIMEOUT" "$SCRATCH/sink-postfix-$1" "$N" \
		"$PFD/queue/incoming" "$PFD/queue/active" "$PFD/queue/deferred" "$PFD/queue/maildrop" 2> "$SCRATCH/wait.err"); then
		ok "Postfix round $1: queue drained to the sink (seconds to first at sink, all at sink, empty queue: $res)"
		F_ALL="$F_ALL$res
"
	else
		not_ok "Postfix round $1: queue drained to the sink: $(cat "$SCRATCH/wait.err")"
		diag "$(grep -v 'status=sent' "$PFD/maillog" | tail -5)"
	fi
	pf_stop
	sink_stop
	mv "$PFD/maillog" "$PFD/maillog.$1"
	check "Postfix round $1: every message arrived once and whole" sink_verify "$SCRATCH/sink-postfix-$1"
	n_ok=$(grep -c 'status=sent' "$PFD/maillog.$1")
	check "Postfix round $1: $N status=sent logged ($n_ok), none deferred" sh -c \
		"[ $n_ok -eq $N ] && ! grep -q 'status=deferred' '$PFD/maillog.$1'"
	# A delivery on a cached connection is logged with conn_use=N.
	diag "Postfix round $1: $(grep 'status=sent' "$PFD/maillog.$1" | grep -vc 'conn_use=') SMTP connections for $N messages (its connection cache; postern-remote carries up to 32 waiting messages of a domain over one connection)"
	[ "$1" -eq "$ROUNDS" ] || pf_start || bail "postfix start without qmgr"
}

HAVE_PF=
if pf_setup; then
	HAVE_PF=1
	ok "Postfix: scratch instance running without qmgr (postfix -c $PFD/etc, $(postconf -h -d mail_version))"
else
	diag "Postfix left out: not installed (sh tests/deps.sh bench) or its scratch instance did not start"
fi

# Rounds alternate, so a neighbour's load on the machine hits both alike.
r=1
while [ $r -le "$ROUNDS" ]; do
	postern_round $r
	[ -z "$HAVE_PF" ] || postfix_round $r
	r=$((r + 1))
done

# ===================== results =====================
# summary.py N P_ALL F_ALL: one table row per round, then the medians
cat > "$SCRATCH/summary.py" << 'PYEOF'
import statistics, sys
n = int(sys.argv[1])
runs = [[tuple(map(float, l.split())) for l in a.splitlines() if l.strip()] for a in sys.argv[2:4]]
names = ['postern', sys.argv[4]]
total = lambda r: n / r[2]                 # start to empty queue
drain = lambda r: (n - 1) / (r[2] - r[0])  # first delivery to empty queue
for name, rs in zip(names, runs):
    for i, r in enumerate(rs, 1):
        print('| %s | %d | %.0f | %.0f | %.3f | %.3f | %.3f |' % (name, i, total(r), drain(r), r[0], r[1], r[2]))
print()
print('| medians | postern msg/s | Postfix msg/s | postern / Postfix |')
print('|---|---:|---:|---:|')
for what, f in (('start to empty queue', total), ('first delivery to empty queue', drain)):
    p, q = (statistics.median(map(f, rs)) if rs else None for rs in runs)
    print('| %s | %s | %s | %s |' % (what, '%.0f' % p if p else '-', '%.0f' % q if q else '-',
                                    '%.2f' % (p / q) if p and q else '-'))
PYEOF
{
	echo "Remote delivery: $N messages of $(wc -c < "$SCRATCH/msg") bytes, one recipient each, $DOMAINS domains, to smtp-sink on 127.0.0.1, queue full at start, $CONC connections at most; $ROUNDS round(s) each, alternating. Clock from postern-start / \`postfix start\`; \"first to empty\" leaves out start-up (the time to the first message at the sink)."
	echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), $(uname -sr), /tmp on $(df -PT /tmp | awk 'NR == 2 {print $2}'), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "| server | round | msg/s start to empty | msg/s first to empty | s to first at sink | s to all at sink | s to empty queue |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	$PY "$SCRATCH/summary.py" "$N" "$P_ALL" "$F_ALL" "Postfix $(postconf -h -d mail_version 2> /dev/null)"
} > "$SCRATCH/results.md"
cat "$SCRATCH/results.md"
cp "$SCRATCH/results.md" "$OUT" || diag "could not write $OUT"
done_testing
