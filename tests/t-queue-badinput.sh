#!/bin/sh
# postern-queue fed good and bad input directly (as root, not setuid, with
# POSTERN_HOME pointing at a scratch queue).  Every failure must exit with
# qmail-queue's code and leave nothing in mess/ and nothing in tmp/.
. "$(dirname "$0")/lib.sh"
scratch_init

QQ=$POSTERN_BUILD/bin/postern-queue
[ -x "$QQ" ] || bail "no $QQ: build first"
H=$SCRATCH/home
Q=$H/queue
mkdir -p "$Q/tmp" "$Q/mess" "$Q/lock" "$H/control" "$SCRATCH/in" || bail "mkdir"
chmod 750 "$Q" "$Q/lock" && chmod 2700 "$Q/tmp" && chmod 2750 "$Q/mess" && mkfifo -m 640 "$Q/lock/trigger" || bail "layout"
export POSTERN_HOME=$H
IN=$SCRATCH/in

nmess() { find "$Q/mess" -type f | wc -l; }
ntmp() { find "$Q/tmp" -type f | wc -l; }

# expect DESC CODE MESSAGEFILE ENVFILE: a failure that leaves no trace
expect() {
	before=$(nmess)
	"$QQ" < "$3" 1< "$4" 2> "$SCRATCH/err"
	rc=$?
	if [ "$rc" -eq "$2" ] && [ "$(nmess)" -eq "$before" ] && [ "$(ntmp)" -eq 0 ] && [ -s "$SCRATCH/err" ]; then
		ok "$1: exit $2, queue unchanged, says why"
	else
		not_ok "$1: exit $rc (want $2), mess/ $before -> $(nmess), tmp/ $(ntmp)"
		diag "$(cat "$SCRATCH/err")"
	fi
}

# A message with CRLF, a NUL, non-ASCII bytes and no final newline: the
# queue stores exactly what it is given.
printf 'Subject: t\r\nX: \001\377\n\nbody\000line\r\n.\nlast' > "$IN/msg"
printf 'Fsender@example.org\000Ta@example.net\000Tb@[192.0.2.1]\000\000' > "$IN/env"

# 1. the good case, with a scheduler listening on the trigger
timeout 10 cat "$Q/lock/trigger" > "$SCRATCH/trigger" &
reader=$!
sleep 0.2
"$QQ" < "$IN/msg" 1< "$IN/env" 2> "$SCRATCH/err"
rc=$?
wait "$reader"
check "good message: exit 0, nothing on stderr" test "$rc" -eq 0 -a ! -s "$SCRATCH/err"
id=$(cd "$Q/mess" && ls | grep -v '\.env$')
check "one message and its envelope in mess/" test "$(nmess)" -eq 2 -a -f "$Q/mess/$id.env"
check "tmp/ is empty" test "$(ntmp)" -eq 0
check "id has the documented shape" sh -c "echo '$id' | grep -Eq '^[0-9]+\\.[0-9]{6}P[0-9]+R[0-9a-f]{16}\$'"
check "first line is the Received line" sh -c "head -n 1 '$Q/mess/$id' | grep -Eq '^Received: \\(postern-queue id $id invoked by uid 0\\); (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} \\+0000\$'"
check "message byte-exact after the Received line" sh -c "tail -n +2 '$Q/mess/$id' | cmp -s - '$IN/msg'"
check "ID.env equals the envelope" cmp -s "$Q/mess/$id.env" "$IN/env"
check "files are 0640" test "$(stat -c %a "$Q/mess/$id")" = 640 -a "$(stat -c %a "$Q/mess/$id.env")" = 640
check "trigger carried the id" test "$(cat "$SCRATCH/trigger")" = "$id"

# 1b. the same message from a pipe, as postern-smtpd and postern-inject
# give it (postern-queue splices a pipe into the file), 300 KB of it so
# that it takes several moves: byte-exact too
{ cat "$IN/msg"; head -c 300000 /dev/urandom; } > "$IN/msgbig"
before=$(nmess)
cat "$IN/msgbig" | "$QQ" 1< "$IN/env" 2> "$SCRATCH/err"
rc=$?
id2=$(cd "$Q/mess" && ls -t | grep -v '\.env$' | grep -v "^$id\$" | head -n 1)
check "from a pipe: exit 0, committed" test "$rc" -eq 0 -a "$(nmess)" -eq $((before + 2))
check "from a pipe: byte-exact after the Received line (300 KB)" sh -c "tail -n +2 '$Q/mess/$id2' | cmp -s - '$IN/msgbig'"
rm -f "$Q/mess/$id2" "$Q/mess/$id2.env"

# 2. no scheduler on the trigger: still committed, still exit 0
"$QQ" < "$IN/msg" 1< "$IN/env" 2> "$SCRATCH/err"
check "no trigger reader: exit 0" test "$?" -eq 0 -a "$(nmess)" -eq 4 -a ! -s "$SCRATCH/err"
check "null sender accepted" sh -c "printf 'F\\000Tpostmaster@example.org\\000\\000' > '$IN/e0' && '$QQ' < '$IN/msg' 1< '$IN/e0' && test \$(find '$Q/mess' -type f | wc -l) -eq 6"

# 3. bad envelopes
printf 'Fsender@example.org\000Ta@exam' > "$IN/trunc"
expect "truncated envelope" 54 "$IN/msg" "$IN/trunc"
printf 'Fsender@example.org\000Ta@example.net\000' > "$IN/nofinal"
expect "missing final NUL" 54 "$IN/msg" "$IN/nofinal"
: > "$IN/empty"
expect "empty envelope" 54 "$IN/msg" "$IN/empty"
printf 'Fsender@example.org\000\000' > "$IN/norcpt"
expect "empty recipient list" 91 "$IN/msg" "$IN/norcpt"
head -c 5000 /dev/urandom | tr 'F' 'x' > "$IN/garbage"
expect "garbage bytes" 91 "$IN/msg" "$IN/garbage"
printf '\377\376\000\001\000\000' > "$IN/garbage2"
expect "garbage with NULs" 91 "$IN/msg" "$IN/garbage2"
printf 'Fsender@example.org\000Xa@example.net\000\000' > "$IN/badletter"
expect "unknown record letter" 91 "$IN/msg" "$IN/badletter"
printf 'Fsender@example.org\000Tnodomain\000\000' > "$IN/baddr"
expect "recipient without domain" 91 "$IN/msg" "$IN/baddr"
printf 'Fsender@example.org\000Ta@example.net\000Tb\nX@example.net\000\000' > "$IN/nl"
expect "newline inside an address" 91 "$IN/msg" "$IN/nl"
printf 'Fbad sender@example.org\000Ta@example.net\000\000' > "$IN/badsender"
expect "bad sender" 91 "$IN/msg" "$IN/badsender"
{ printf 'F'; head -c 1001 /dev/zero | tr '\0' a; printf '@example.org\000Ta@example.net\000\000'; } > "$IN/longsender"
expect "sender over 1000 bytes" 11 "$IN/msg" "$IN/longsender"
# the DSN records (doc/dsn.md): judged by envelope_parse, refused whole
printf 'Fsender@example.org\000Ta@example.net\000NNEVER\000\000' > "$IN/dsnlast"
expect "NOTIFY record with no recipient after it" 91 "$IN/msg" "$IN/dsnlast"
printf 'Fsender@example.org\000Ndelay\000Ta@example.net\000\000' > "$IN/dsncase"
expect "NOTIFY record not in canonical form" 91 "$IN/msg" "$IN/dsncase"
printf 'Fsender@example.org\000Ta@example.net\000RFULL\000\000' > "$IN/dsnret"
expect "RET record after a recipient" 91 "$IN/msg" "$IN/dsnret"
printf 'Fsender@example.org\000Ea=b\000Ta@example.net\000\000' > "$IN/dsnenvid"
expect "ENVID record not xtext" 91 "$IN/msg" "$IN/dsnenvid"
{ printf 'Fsender@example.org\000Orfc822;'; head -c 2000 /dev/zero | tr '\0' a; printf '\000Ta@example.net\000\000'; } > "$IN/dsnlong"
expect "ORCPT record of 2,000 bytes" 11 "$IN/msg" "$IN/dsnlong"

# 4. a 4 MB address through a pipe: refused after about ADDR_MAX bytes,
# without postern-queue reading (or the writer managing to write) 4 MB.
before=$(nmess)
/usr/bin/python3 -c '
import os, sys
w = 0
try:
    os.write(1, b"Fsender@example.org\0Ta")
    chunk = b"a" * 65536
    for i in range(64):
        w += os.write(1, chunk)
except BrokenPipeError:
    pass
open(sys.argv[1], "w").write(str(w))
' "$SCRATCH/written" | "$QQ" 3<&0 < "$IN/msg" 1<&3 3<&- 2> "$SCRATCH/err"
rc=$?
check "4 MB address: exit 11" test "$rc" -eq 11
check "4 MB address: queue unchanged" test "$(nmess)" -eq "$before" -a "$(ntmp)" -eq 0
check "4 MB address: not read whole (writer stopped after $(cat "$SCRATCH/written") bytes)" test "$(cat "$SCRATCH/written")" -lt 4194304

# 5. closed descriptors
before=$(nmess)
"$QQ" < "$IN/msg" 1>&- 2> "$SCRATCH/err"
rc=$?
check "closed fd 1: exit 54, queue unchanged" test "$rc" -eq 54 -a "$(nmess)" -eq "$before" -a "$(ntmp)" -eq 0
"$QQ" 0<&- 1< "$IN/env" 2> "$SCRATCH/err"
rc=$?
check "closed fd 0: exit 54, queue unchanged" test "$rc" -eq 54 -a "$(nmess)" -eq "$before" -a "$(ntmp)" -eq 0
"$QQ" < "$IN/msg" 1< "$IN/env" 2>&-
rc=$?
check "closed fd 2: still exit 0, no message text lost to it" sh -c "test $rc -eq 0 && test \$(find '$Q/mess' -type f | wc -l) -eq $((before + 2))"

# 6. message size limit (control/databytes, plus 64 KB for trace headers)
echo 1000 > "$H/control/databytes"
head -c 70000 /dev/zero | tr '\0' x > "$IN/big"
expect "message over control/databytes" 31 "$IN/big" "$IN/env"
before=$(nmess)
cat "$IN/big" | "$QQ" 1< "$IN/env" 2> "$SCRATCH/err"
rc=$?
check "message over control/databytes from a pipe: exit 31, queue unchanged" test "$rc" -eq 31 -a "$(nmess)" -eq "$before" -a "$(ntmp)" -eq 0
before=$(nmess)
head -c 60000 /dev/zero | tr '\0' x > "$IN/fits"
"$QQ" < "$IN/fits" 1< "$IN/env" 2> "$SCRATCH/err"
check "message within databytes + allowance: exit 0" test "$?" -eq 0 -a "$(nmess)" -eq $((before + 2))
echo junk > "$H/control/databytes"
expect "malformed control/databytes" 55 "$IN/msg" "$IN/env"
rm -f "$H/control/databytes"

# 7. the queue directory must be ours and not writable by others
chmod 770 "$Q"
expect "group-writable queue/" 62 "$IN/msg" "$IN/env"
chmod 750 "$Q"
chown nobody "$Q/mess"
expect "queue/mess owned by someone else" 62 "$IN/msg" "$IN/env"
chown root "$Q/mess"
mv "$Q/tmp" "$Q/tmp.real" && ln -s tmp.real "$Q/tmp"
expect "queue/tmp a symlink" 62 "$IN/msg" "$IN/env"
rm "$Q/tmp" && mv "$Q/tmp.real" "$Q/tmp"
POSTERN_HOME=$SCRATCH/nowhere "$QQ" < "$IN/msg" 1< "$IN/env" 2> /dev/null
check "no queue at all: exit 62" test "$?" -eq 62

# 7b. A caller that blocks SIGALRM before the exec (the mask survives it,
# setuid or not) and then sends half an envelope and waits: postern-queue's
# own time limit must still work, so it unblocks the signal.  SIGALRM sent
# while it waits ends it as the limit would: 52, nothing left.
before=$(nmess)
/usr/bin/python3 - "$QQ" "$IN/msg" > "$SCRATCH/alrm" 2>&1 << 'PYEOF'
import os, signal, subprocess, sys, time
r, w = os.pipe()
p = subprocess.Popen([sys.argv[1]], stdin=open(sys.argv[2], 'rb'), stdout=r, stderr=subprocess.DEVNULL,
                     preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM}))
os.close(r)
os.write(w, b'Fa@b.example\0')
time.sleep(0.5)
with open('/proc/%d/status' % p.pid) as f:
    blk = int([l for l in f if l.startswith('SigBlk:')][0].split()[1], 16)
os.kill(p.pid, signal.SIGALRM)
try:
    rc = p.wait(5)
except subprocess.TimeoutExpired:
    p.kill()
    p.wait()
    rc = 'still running'
print((blk >> (signal.SIGALRM - 1)) & 1, rc)
PYEOF
check "SIGALRM blocked by the caller: unblocked while reading ($(cat "$SCRATCH/alrm"))" \
	[ "$(cut -d' ' -f1 "$SCRATCH/alrm")" = 0 ]
check "and a SIGALRM then ends it: 52, queue unchanged" \
	[ "$(cut -d' ' -f2- "$SCRATCH/alrm")" = 52 -a "$(nmess)" -eq "$before" -a "$(ntmp)" -eq 0 ]

# 8. an envelope with every DSN record is stored as given
before=$(nmess)
printf 'Fsender@example.org\000RHDRS\000Eq+2B1\000NSUCCESS,FAILURE\000Orfc822;a+2Bb@example.net\000Ta+b@example.net\000Tc@example.net\000\000' > "$IN/dsnenv"
"$QQ" < "$IN/msg" 1< "$IN/dsnenv" 2> "$SCRATCH/err"
check "envelope with DSN records: exit 0" test "$?" -eq 0 -a "$(nmess)" -eq $((before + 2))
id=$(cd "$Q/mess" && ls -t | grep '\.env$' | head -n 1)
check "and its ID.env equals it byte for byte" cmp -s "$Q/mess/$id" "$IN/dsnenv"

# 9. still works after all that
before=$(nmess)
"$QQ" < "$IN/msg" 1< "$IN/env" 2> "$SCRATCH/err"
check "good message after the failures: exit 0" test "$?" -eq 0 -a "$(nmess)" -eq $((before + 2)) -a "$(ntmp)" -eq 0
check "every committed message has its envelope" sh -c "cd '$Q/mess' && for f in \$(ls | grep -v '\\.env\$'); do test -f \$f.env || exit 1; done"

done_testing
