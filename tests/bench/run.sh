#!/bin/sh
# make bench: local injection to Maildir delivery, against the file system's
# fsync floor, in one run on one file system.
#
#   1. A scratch install (tests/lib.sh) runs under its own s6-svscan.
#   2. BENCH_MESSAGES (2000) messages of 2 KB go in through the installed
#      sendmail, from BENCH_SENDERS (4) parallel senders, to one local user;
#      the clock runs from the first injection to the newest file in the
#      user's Maildir/new (its mtime) once all are there.
#   3. fsync-floor.c on the same file system: write 2 KB, fsync, rename into
#      another directory, fsync that directory, with 1 and 2 threads.
#   4. With strace, the fsyncs per message of postern-queue (injection) and
#      of the delivery side (postern-send, -lspawn, -local, -clean).
# Prints a markdown table and writes it to tests/bench/results.md (the
# latest numbers, committed: see that file's header).
set -u
POSTERN_SRC=$(cd "$(dirname "$0")/../.." && pwd -P)
export POSTERN_SRC
. "$POSTERN_SRC/tests/lib.sh"
scratch_init
PY=/usr/bin/python3
N=${BENCH_MESSAGES:-2000}
P=${BENCH_SENDERS:-4}
SIZE=2048
OUT=$POSTERN_SRC/tests/bench/results.md

for p in postern-queue postern-inject postern-start postern-send postern-lspawn postern-clean postern-local; do
	[ -x "$POSTERN_BUILD/bin/$p" ] || bail "no $POSTERN_BUILD/bin/$p: build first (make all)"
done
install_home || bail "./install into $SCRATCH/home"
D=bench.example
printf '%s\n' "$D" > "$PHOME/control/me"
printf '%s\n' "$D" > "$PHOME/control/locals"
UB=pt$$bench
make_user "$UB" || bail "make_user $UB"
MD=$SCRATCH/users/$UB/Maildir
cc -O2 -pthread -o "$SCRATCH/fsync-floor" "$POSTERN_SRC/tests/bench/fsync-floor.c" || bail "cc fsync-floor.c"

# One 2 KB message per sender (headers + body = SIZE bytes); the serial goes
# in the Subject so every message differs.
mkmsg() { # SENDER-NUMBER
	$PY - "$1" "$SIZE" "$UB@$D" << 'PYEOF'
import sys
k, size, rcpt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
head = f'From: bench{k}@bench.example\nTo: {rcpt}\nSubject: bench sender {k}\nDate: Mon, 01 Dec 2025 10:00:00 +0000\nMessage-ID: <bench-{k}@bench.example>\n\n'
line = 'The quick brown fox jumps over the lazy dog, again and again and again.\n'
body = (line * (size // len(line) + 1))[: size - len(head) - 1] + '\n'
sys.stdout.write(head + body)
PYEOF
}
k=0
while [ "$k" -lt "$P" ]; do mkmsg "$k" > "$SCRATCH/msg.$k"; k=$((k + 1)); done
msgsize=$(wc -c < "$SCRATCH/msg.0")

svscan_start
svc_wait_up postern-send 20 || bail "postern-send service up within 20 s"
# Warm up (page cache, first fork of each program), then empty the Maildir.
"$PHOME/bin/sendmail" "$UB@$D" < "$SCRATCH/msg.0" || bail "warm-up injection"
wait_files "$MD/new" 1 20 || bail "warm-up message delivered"
rm -f "$MD"/new/*

sender() { # K COUNT
	i=0
	while [ "$i" -lt "$2" ]; do
		"$PHOME/bin/sendmail" -f "bench$1@$D" "$UB@$D" < "$SCRATCH/msg.$1" || echo "$1 $i" >> "$SCRATCH/inject.fail"
		i=$((i + 1))
	done
}
now() { $PY -c 'import time; print("%.6f" % time.time())'; }
per=$((N / P))
N=$((per * P))
T0=$(now)
pids=
k=0
while [ "$k" -lt "$P" ]; do sender "$k" "$per" & pids="$pids $!"; k=$((k + 1)); done
for p in $pids; do wait "$p"; done
T1=$(now)
wait_files "$MD/new" "$N" 600 || bail "all $N messages in $MD/new within 600 s (got $(count_files "$MD/new"))"
T2=$($PY -c 'import os, sys
d = sys.argv[1]
print("%.6f" % max(os.stat(os.path.join(d, f)).st_mtime_ns / 1e9 for f in os.listdir(d)))' "$MD/new")
failed=0
[ ! -f "$SCRATCH/inject.fail" ] || failed=$(wc -l < "$SCRATCH/inject.fail")

# The fsync floor on the same file system as the queue and the Maildirs.
FL=$SCRATCH/floor
mkdir -p "$FL"
floor1=$("$SCRATCH/fsync-floor" "$FL" 1 2000 | sed -n 's/.*per_second=//p')
floor2=$("$SCRATCH/fsync-floor" "$FL" 2 1000 | sed -n 's/.*per_second=//p')

# fsyncs per message, counted by strace on a small run: postern-queue
# (through sendmail), and the delivery set (send, lspawn and what it forks,
# clean) attached by pid.
SN=20
fs_q=- fs_d=- ren_q=- ren_d=-
if command -v strace > /dev/null 2>&1; then
	rm -f "$MD"/new/*
	dp=$(tree_procs | awk '$2 == "postern-send" || $2 == "postern-lspawn" || $2 == "postern-clean" { printf " -p %s", $1 }')
	strace -f -qq -e trace=fsync,fdatasync,rename,renameat,renameat2,link,linkat -o "$SCRATCH/strace.d" $dp 2> /dev/null &
	spid=$!
	sleep 1
	i=0
	: > "$SCRATCH/strace.q"
	while [ "$i" -lt "$SN" ]; do
		strace -f -qq -e trace=fsync,fdatasync,rename,renameat,renameat2,link,linkat -o "$SCRATCH/strace.q.$i" \
			"$PHOME/bin/sendmail" "$UB@$D" < "$SCRATCH/msg.0" 2> /dev/null
		cat "$SCRATCH/strace.q.$i" >> "$SCRATCH/strace.q"
		i=$((i + 1))
	done
	wait_files "$MD/new" "$SN" 60
	sleep 1
	kill "$spid" 2> /dev/null
	wait "$spid" 2> /dev/null
	cnt() { # FILE REGEX: calls that returned 0, per message
		$PY -c 'import re, sys
n = sum(1 for l in open(sys.argv[1]) if re.search(sys.argv[2], l) and re.search(r"= 0$", l.strip()))
print("%.1f" % (n / int(sys.argv[3])))' "$1" "$2" "$SN"
	}
	fs_q=$(cnt "$SCRATCH/strace.q" '(^|\s)f(data)?sync[( ]')
	fs_d=$(cnt "$SCRATCH/strace.d" '(^|\s)f(data)?sync[( ]')
	ren_q=$(cnt "$SCRATCH/strace.q" '(^|\s)(rename|renameat2?|linkat|link)[( ]')
	ren_d=$(cnt "$SCRATCH/strace.d" '(^|\s)(rename|renameat2?|linkat|link)[( ]')
fi

$PY - "$T0" "$T1" "$T2" "$N" "$P" "$msgsize" "$floor1" "$floor2" "$failed" "$fs_q" "$fs_d" "$ren_q" "$ren_d" "$SN" "$OUT" << 'PYEOF'
import os, platform, subprocess, sys, time
t0, t1, t2 = (float(x) for x in sys.argv[1:4])
n, p, size = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
f1, f2 = float(sys.argv[7]), float(sys.argv[8])
failed = sys.argv[9]
fs_q, fs_d, ren_q, ren_d, sn, out = sys.argv[10:16]
rate = n / (t2 - t0)
inj = n / (t1 - t0)
fstype = subprocess.run(['df', '--output=fstype', '/tmp'], capture_output=True, text=True).stdout.split()[-1]
dev = subprocess.run(['df', '--output=source', '/tmp'], capture_output=True, text=True).stdout.split()[-1]
cpus = os.cpu_count()
table = f"""# postern benchmark: local injection to Maildir delivery

Latest numbers from `make bench` (tests/bench/run.sh), committed so that
doc/performance.md and reviews can point at them; rerun to refresh.
Machine: {platform.node()}, {cpus} CPUs, Linux {platform.release()}, /tmp on {dev} ({fstype}).
Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.

| measure | value |
|---|---|
| messages (size) | {n} ({size} bytes each), {p} parallel `sendmail` senders, 1 local recipient |
| injection failures | {failed} |
| first injection to last file in Maildir/new | {t2 - t0:.2f} s |
| **delivered messages/second** | **{rate:.0f}** |
| injection alone (all senders done) | {t1 - t0:.2f} s, {inj:.0f} messages/s |
| fsync floor, 1 thread (write 2 KB + fsync + rename + fsync dir) | {f1:.0f} cycles/s |
| fsync floor, 2 threads | {f2:.0f} cycles/s |
| **ratio messages/s : floor (1 thread)** | **{rate / f1:.2f}** |
| ratio messages/s : floor (2 threads) | {rate / f2:.2f} |
| fsync+fdatasync per message, injection (postern-queue), strace, {sn} messages | {fs_q} |
| fsync+fdatasync per message, delivery (send, lspawn, local, clean) | {fs_d} |
| renames+links per message, injection / delivery | {ren_q} / {ren_d} |
"""
sys.stdout.write(table)
with open(out, 'w') as f:
    f.write(table)
PYEOF
ok "benchmark ran; table in $OUT"
done_testing
