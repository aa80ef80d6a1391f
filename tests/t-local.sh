#!/bin/sh
# postern-local run directly (as postern-lspawn would: as the recipient, in
# the home, the message on fd 0, a clean environment) by throwaway users:
# Maildir delivery, dot files, programs, forwards, extensions, loops,
# virtual mailboxes and aliases.
. "$(dirname "$0")/lib.sh"
scratch_init

LOCAL=$POSTERN_BUILD/bin/postern-local
[ -x "$LOCAL" ] || bail "no $LOCAL: build first"

# A scratch install home: control/, a stub postern-queue that keeps what it
# is given, vmail/ and alias/.
INST=$SCRATCH/inst
mkdir -p "$INST/control" "$INST/bin" "$INST/fwd" "$INST/vmail" "$INST/alias" "$SCRATCH/msg" || bail "mkdir"
chmod 755 "$INST" "$INST/control" "$INST/bin"
chmod 1777 "$INST/fwd"
cat > "$INST/bin/postern-queue" << 'EOF'
#!/bin/sh
# stub: message from fd 0, envelope from fd 1, as postern-queue reads them
d=/X/fwd
n=$$
/bin/cat > "$d/msg.$n" || exit 54
/bin/cat 0<&1 > "$d/env.$n" || exit 54
[ -f "$d/refuse" ] && exit 31
exit 0
EOF
sed -i "s|/X/fwd|$INST/fwd|" "$INST/bin/postern-queue"
chmod 755 "$INST/bin/postern-queue"

for u in ptla ptlb ptlv ptlal ptld; do make_user "$u" || bail "make_user $u"; done
HA=$SCRATCH/users/ptla
HB=$SCRATCH/users/ptlb
HV=$INST/vmail
HAL=$INST/alias
chown ptlv:ptlv "$HV"
chown ptlal:ptlal "$HAL"
chmod 700 "$HV" "$HAL"
rm -rf "$HB/Maildir" # ptlb has no Maildir: a temporary failure

QID=1764423956.000123P42R9f3a1c2e7b6d5a40
SENDER=alice@sender.example

# deliver USER MODE HOME EXT RECIPIENT MSGFILE [MAILPARAMS RCPTPARAMS]: runs
# postern-local as USER; sets RC and OUT (its stdout); stderr goes to
# $SCRATCH/err.
deliver() {
	OUT=$(cd "$3" && setpriv --reuid="$1" --regid="$1" --init-groups \
		env -i POSTERN_HOME="$INST" "$LOCAL" "$2" "$1" "$3" "$4" "$5" "$SENDER" "$QID" "${7-}" "${8-}" \
		< "$6" 2> "$SCRATCH/err")
	RC=$?
}
as() { u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
newest() { ls -t "$1" 2> /dev/null | head -1; }
# expected FILE RCPT MSG: the trace lines postern-local adds, then MSG
expected() {
	{ printf 'Return-Path: <%s>\nDelivered-To: %s\n' "$SENDER" "$2"; cat "$3"; } > "$1"
}
t() { eval "$1"; } # t 'SHELL CONDITION': for check
lines() { printf '%s\n' "$1" | wc -l; }

M=$SCRATCH/msg/plain
printf 'Received: from x by y\nSubject: test one\nFrom: alice@sender.example\n\nbody line 1\n\nbody line 3 with trailing space \n\tand a tab\n' > "$M"

# 1: plain Maildir delivery
deliver ptla user "$HA" "" ptla@example.org "$M"
check "plain delivery exits 0" [ "$RC" -eq 0 ]
check "one line of text, with 2.0.0 ($OUT)" sh -c '[ "$(printf "%s\n" "$1" | wc -l)" -eq 1 ] && case $1 in 2.0.0\ *) true;; *) false;; esac' - "$OUT"
check "one file in Maildir/new" [ "$(count_files "$HA/Maildir/new")" -eq 1 ]
check "Maildir/tmp is empty" [ "$(count_files "$HA/Maildir/tmp")" -eq 0 ]
F=$HA/Maildir/new/$(newest "$HA/Maildir/new")
expected "$SCRATCH/exp1" ptla@example.org "$M"
check "the file is Return-Path, Delivered-To, then the message byte for byte" cmp -s "$F" "$SCRATCH/exp1"
check "the file is ptla's, mode 600" [ "$(stat -c '%U %a' "$F")" = "ptla 600" ]
# pop3_name_ok FILE: the file's last line ends in LF, and its name ends in
# ,S=<its size>,W=<its size with CRLF line ends: a bare LF as CRLF, a CRLF
# kept>, with no other ',' and no ':'
pop3_name_ok() {
	/usr/bin/python3 - "$1" << 'EOF'
import os, re, sys
p = sys.argv[1]
data = open(p, 'rb').read()
w = len(re.sub(rb'(?<!\r)\n', b'\r\n', data))
if not data.endswith(b'\n'):
    sys.exit(1)
n = os.path.basename(p)
want = ',S=%d,W=%d' % (len(data), w)
sys.exit(0 if n.endswith(want) and n.count(',') == 2 and ':' not in n else 1)
EOF
}
check "the name carries ,S=size,W=POP3 size (${F##*/})" pop3_name_ok "$F"
MC=$SCRATCH/msg/crlf
printf 'Subject: crlf\r\n\r\nbody\r\nbare\rcr\r\nand a bare LF\nlast line, no LF' > "$MC"
deliver ptla user "$HA" "" ptla@example.org "$MC"
F=$HA/Maildir/new/$(newest "$HA/Maildir/new")
expected "$SCRATCH/expc" ptla@example.org "$MC" && echo >> "$SCRATCH/expc"
check "CRLF lines, a bare CR and no last LF: delivered byte for byte, a LF added to end the last line ($RC)" \
	sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' - "$RC" "$F" "$SCRATCH/expc"
check "and its ,S= and ,W= count it with CRLF line ends (${F##*/})" pop3_name_ok "$F"
check "the log line names the file as it is in new/ (quoted: it holds '=')" grep -qF "file=\"${F##*/}\"" "$SCRATCH/err"
rm -f "$F"
# 1b: 3 MB, so the copy runs in more than one piece (the Maildir copy is
# read and written, 64 KB at a time, to count it)
MB=$SCRATCH/msg/big
{ cat "$M"; head -c 3000000 /dev/urandom | od -An -v -tx1 | head -c 3000000; echo; } > "$MB"
deliver ptla user "$HA" "" ptla@example.org "$MB"
F=$HA/Maildir/new/$(newest "$HA/Maildir/new")
expected "$SCRATCH/exp1b" ptla@example.org "$MB"
check "a 3 MB message: delivered byte for byte ($RC)" sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' - "$RC" "$F" "$SCRATCH/exp1b"
check "and named with its sizes" pop3_name_ok "$F"
rm -f "$F"
F=$HA/Maildir/new/$(newest "$HA/Maildir/new")
check "the file name is a Maildir name (time.MusecPpidRrand.host)" \
	sh -c 'case ${1##*/} in [0-9]*.M[0-9]*P[0-9]*R[0-9a-f]*.*) true;; *) false;; esac' - "$F"
check "a log line on stderr with the queue id" grep -q "delivery qid=$QID to=ptla@example.org status=delivered" "$SCRATCH/err"

# 2: .postern with two Maildirs
maildir_make "$HA/Other" ptla:ptla
printf '# two copies\n./Maildir/\n\n./Other/\n' > "$HA/.postern"
chown ptla:ptla "$HA/.postern"; chmod 644 "$HA/.postern"
deliver ptla user "$HA" "" ptla@example.org "$M"
check ".postern with two Maildirs exits 0 ($OUT)" [ "$RC" -eq 0 ]
check "both Maildirs got a copy" t '[ "$(count_files "$HA/Maildir/new")" -eq 2 ] && [ "$(count_files "$HA/Other/new")" -eq 1 ]'
check "the second copy is byte-exact too" cmp -s "$HA/Other/new/$(newest "$HA/Other/new")" "$SCRATCH/exp1"

# 3: group-writable .postern: a temporary failure, nothing delivered
chmod 664 "$HA/.postern"
deliver ptla user "$HA" "" ptla@example.org "$M"
check "group-writable .postern: 111 with 4.7.0 ($OUT)" sh -c '[ "$1" -eq 111 ] && case $2 in 4.7.0*writable*) true;; *) false;; esac' - "$RC" "$OUT"
chmod 644 "$HA/.postern"
chown root:root "$HA/.postern"
deliver ptla user "$HA" "" ptla@example.org "$M"
check "a root-owned .postern is accepted" [ "$RC" -eq 0 ]
rm -f "$HA/.postern"

# 4: program delivery: environment and stdin
cat > "$HA/.postern-prog" << 'EOF'
|env > ./prog.env; cat > ./prog.msg; echo program ran
EOF
chown ptla:ptla "$HA/.postern-prog"
deliver ptla user "$HA" prog ptla-prog@example.org "$M"
check "program delivery exits 0 ($OUT)" [ "$RC" -eq 0 ]
expected "$SCRATCH/exp4" ptla-prog@example.org "$M"
check "the program read trace lines and message on stdin" cmp -s "$HA/prog.msg" "$SCRATCH/exp4"
check "the program ran as ptla" [ "$(stat -c %U "$HA/prog.msg")" = ptla ]
for kv in "SENDER=$SENDER" "RECIPIENT=ptla-prog@example.org" "USER=ptla" "HOME=$HA" "LOCAL=ptla-prog" \
	"EXT=prog" "HOST=example.org" "DTLINE=Delivered-To: ptla-prog@example.org" \
	"RPLINE=Return-Path: <$SENDER>" "QID=$QID" "PATH=/usr/bin:/bin"; do
	check "program environment has $kv" grep -qxF "$kv" "$HA/prog.env"
done
check "program environment has nothing else (no POSTERN_HOME)" sh -c '! grep -q "^POSTERN_HOME=" "$1"' - "$HA/prog.env"

# 5: program exit codes
maildir_make "$HA/After" ptla:ptla
printf '|echo "5.2.1 go away"; exit 100\n./After/\n' > "$HA/.postern-perm"
printf '|echo busy; exit 75\n' > "$HA/.postern-temp"
printf '|exit 99\n./After/\n' > "$HA/.postern-stop"
printf '|exit 64\n' > "$HA/.postern-ex64"
chown ptla:ptla "$HA"/.postern-*
deliver ptla user "$HA" perm ptla-perm@example.org "$M"
check "program exit 100: 100, its own text ($OUT)" t '[ "$RC" -eq 100 ] && [ "$OUT" = "5.2.1 go away" ]'
check "program exit 100 stops the delivery" [ "$(count_files "$HA/After/new")" -eq 0 ]
deliver ptla user "$HA" temp ptla-temp@example.org "$M"
check "program exit 75: 111, text says so ($OUT)" t '[ "$RC" -eq 111 ] && [ "$OUT" = "4.3.0 program exited 75: busy" ]'
deliver ptla user "$HA" stop ptla-stop@example.org "$M"
check "program exit 99: delivered, and the rest of the file ignored" t '[ "$RC" -eq 0 ] && [ "$(count_files "$HA/After/new")" -eq 0 ]'
deliver ptla user "$HA" ex64 ptla-ex64@example.org "$M"
check "program exit 64 is permanent" [ "$RC" -eq 100 ]

# 6: a program that times out: the whole group is killed
echo 2 > "$INST/control/programtimeout"
printf '|sleep 60 & echo $! > ./slow.pid; wait\n' > "$HA/.postern-slow"
chown ptla:ptla "$HA/.postern-slow"
t0=$(date +%s)
deliver ptla user "$HA" slow ptla-slow@example.org "$M"
t1=$(date +%s)
check "timed-out program: 111, 4.3.0 program timed out ($OUT)" \
	sh -c '[ "$1" -eq 111 ] && case $2 in "4.3.0 program timed out"*) true;; *) false;; esac' - "$RC" "$OUT"
check "the timeout took about 2 s ($((t1 - t0)) s)" t '[ $((t1 - t0)) -ge 2 ] && [ $((t1 - t0)) -le 6 ]'
sleep 0.2
# gone, or a zombie waiting for an init that does not reap at once
check "the program's background child was killed with its group" \
	sh -c 's=$(ps -o stat= -p "$(cat "$1")"); [ -z "$s" ] || [ "${s#Z}" != "$s" ]' - "$HA/slow.pid"
# A program that exits 0 and leaves behind a process that keeps its
# output pipe full: the exit is the result, the rest is not waited for
# (before, the pipe was read until programtimeout and the message failed
# with "timed out", to be delivered again at every retry).
printf '|yes chatter & yes chatter & yes chatter & echo $! > ./chatty.pid; exit 0\n' > "$HA/.postern-chatty"
chown ptla:ptla "$HA/.postern-chatty"
t0=$(date +%s)
deliver ptla user "$HA" chatty ptla-chatty@example.org "$M"
t1=$(date +%s)
check "a program that exits 0 leaving a chatty child: delivered ($RC: $OUT)" [ "$RC" -eq 0 ]
check "soon after its exit, not at programtimeout ($((t1 - t0)) s)" [ $((t1 - t0)) -lt 2 ]
check "the chatty child ends when its pipe closes (SIGPIPE)" wait_for 5 \
	sh -c 's=$(ps -o stat= -p "$(cat "$1")"); [ -z "$s" ] || [ "${s#Z}" != "$s" ]' - "$HA/chatty.pid"
rm -f "$INST/control/programtimeout"

# 7: forwards: one postern-queue run for all of them, original sender kept
printf '&fwd1@example.net\nfwd2@example.net\n./Maildir/\n' > "$HA/.postern-fwd"
chown ptla:ptla "$HA/.postern-fwd"
before=$(count_files "$HA/Maildir/new")
deliver ptla user "$HA" fwd ptla-fwd@example.org "$M"
check "forward delivery exits 0 ($OUT)" [ "$RC" -eq 0 ]
check "postern-queue ran once" [ "$(ls "$INST/fwd" | grep -c '^env\.')" -eq 1 ]
printf 'F%s\0S\0Tfwd1@example.net\0Tfwd2@example.net\0\0' "$SENDER" > "$SCRATCH/exp7env"
check "its envelope: F<original sender>, S (a forwarded copy, doc/srs.md), T for each forward, final NUL" \
	cmp -s "$INST/fwd/env."* "$SCRATCH/exp7env"
check "  the S record comes right after F" sh -c 'tr "\000" "\n" < "$1" | sed -n 2p | grep -qx S' - "$(ls "$INST/fwd/env."*)"
{ printf 'Delivered-To: ptla-fwd@example.org\n'; cat "$M"; } > "$SCRATCH/exp7msg"
check "its message: Delivered-To, then the message (no Return-Path)" cmp -s "$INST/fwd/msg."* "$SCRATCH/exp7msg"
check "the Maildir line in the same file delivered too" [ "$(count_files "$HA/Maildir/new")" -eq $((before + 1)) ]
touch "$INST/fwd/refuse"
deliver ptla user "$HA" fwd ptla-fwd@example.org "$M"
check "postern-queue exit 31: permanent ($OUT)" [ "$RC" -eq 100 ]
rm -f "$INST/fwd/"*
printf '&not an address\n' > "$HA/.postern-badfwd"
chown ptla:ptla "$HA/.postern-badfwd"
deliver ptla user "$HA" badfwd ptla-badfwd@example.org "$M"
check "bad forward line: 111, bad forward address in .postern-badfwd ($OUT)" \
	sh -c '[ "$1" -eq 111 ] && case $2 in "4.7.0 bad forward address in .postern-badfwd line 1") true;; *) false;; esac' - "$RC" "$OUT"
check "nothing was forwarded" [ "$(count_files "$INST/fwd")" -eq 0 ]

# 8: user-ext: .postern-EXT, the -default search, lower-casing
maildir_make "$HA/ExtBox" ptla:ptla
maildir_make "$HA/ListBox" ptla:ptla
maildir_make "$HA/DefBox" ptla:ptla
printf './ExtBox/\n' > "$HA/.postern-ext"
printf './ListBox/\n|echo "$DEFAULT" > ./list.default\n' > "$HA/.postern-list-default"
printf './DefBox/\n|echo "$DEFAULT" > ./def.default\n' > "$HA/.postern-default"
chown ptla:ptla "$HA"/.postern-*
deliver ptla user "$HA" EXT ptla-EXT@example.org "$M"
check "ext EXT (lower-cased) goes to .postern-ext" t '[ "$RC" -eq 0 ] && [ "$(count_files "$HA/ExtBox/new")" -eq 1 ]'
deliver ptla user "$HA" list-foo-bar ptla-list-foo-bar@example.org "$M"
check "ext list-foo-bar goes to .postern-list-default" t '[ "$RC" -eq 0 ] && [ "$(count_files "$HA/ListBox/new")" -eq 1 ]'
check "DEFAULT is foo-bar there" [ "$(cat "$HA/list.default")" = foo-bar ]
deliver ptla user "$HA" other ptla-other@example.org "$M"
check "ext other goes to .postern-default" t '[ "$RC" -eq 0 ] && [ "$(count_files "$HA/DefBox/new")" -eq 1 ]'
check "DEFAULT is other there" [ "$(cat "$HA/def.default")" = other ]
deliver ptla user "$HA" ../x ptla-x@example.org "$M"
check "ext with '/' refused: 100 ($OUT)" [ "$RC" -eq 100 ]
deliver ptla user "$HA" .x ptla-x@example.org "$M"
check "ext starting with '.' refused: 100" [ "$RC" -eq 100 ]

# 9: unknown ext (no .postern-default): permanent; missing Maildir: temporary
deliver ptlb user "$HB" nosuch ptlb-nosuch@example.org "$M"
check "unknown ext: 100, 5.1.1 no such address ($OUT)" t '[ "$RC" -eq 100 ] && [ "$OUT" = "5.1.1 no such address" ]'
deliver ptlb user "$HB" "" ptlb@example.org "$M"
check "missing Maildir: 111, 4.2.1 Maildir missing ($OUT)" \
	sh -c '[ "$1" -eq 111 ] && case $2 in "4.2.1 Maildir missing"*) true;; *) false;; esac' - "$RC" "$OUT"
printf './mbox\n' > "$HB/.postern"
chown ptlb:ptlb "$HB/.postern"
deliver ptlb user "$HB" "" ptlb@example.org "$M"
check "mbox line: 111, says mbox is not supported ($OUT)" \
	sh -c '[ "$1" -eq 111 ] && case $2 in 4.7.0\ mbox*) true;; *) false;; esac' - "$RC" "$OUT"
printf '# discard everything\n' > "$HB/.postern"
deliver ptlb user "$HB" "" ptlb@example.org "$M"
check "comments-only .postern: delivered nowhere, exit 0 ($OUT)" t '[ "$RC" -eq 0 ] && [ ! -e "$HB/Maildir" ]'
: > "$HB/.postern"
maildir_make "$HB/Maildir" ptlb:ptlb
deliver ptlb user "$HB" "" ptlb@example.org "$M"
check "empty .postern: the default delivery, ./Maildir/" t '[ "$RC" -eq 0 ] && [ "$(count_files "$HB/Maildir/new")" -eq 1 ]'
rm -f "$HB/.postern"
maildir_make "$HB/Alt" ptlb:ptlb
printf '# the admin default\n./Alt/\n' > "$INST/control/defaultdelivery"
deliver ptlb user "$HB" "" ptlb@example.org "$M"
check "control/defaultdelivery names another default" t '[ "$RC" -eq 0 ] && [ "$(count_files "$HB/Alt/new")" -eq 1 ]'
rm -f "$INST/control/defaultdelivery"

# 10: loop detection
L=$SCRATCH/msg/loop
printf 'Received: from a\nDelivered-To: PTLA@example.org\nSubject: loop\n\nbody\n' > "$L"
before=$(count_files "$HA/Maildir/new")
deliver ptla user "$HA" "" ptla@example.org "$L"
check "Delivered-To already there: 100, 5.4.6 ($OUT)" \
	sh -c '[ "$1" -eq 100 ] && case $2 in "5.4.6 mail loop"*) true;; *) false;; esac' - "$RC" "$OUT"
check "nothing delivered in a loop" [ "$(count_files "$HA/Maildir/new")" -eq "$before" ]
printf 'Subject: x\n\nDelivered-To: ptla@example.org\n' > "$L"
deliver ptla user "$HA" "" ptla@example.org "$L"
check "Delivered-To in the body is not a loop" [ "$RC" -eq 0 ]
i=0; : > "$L"; while [ $i -lt 101 ]; do echo "Received: hop $i" >> "$L"; i=$((i + 1)); done
printf '\nbody\n' >> "$L"
deliver ptla user "$HA" "" ptla@example.org "$L"
check "101 Received lines: 100, too many hops ($OUT)" [ "$RC" -eq 100 ]

# 11: virtual mailboxes
maildir_make "$HV/example.com/joe/Maildir" ptlv:ptlv
chown ptlv:ptlv "$HV/example.com"
deliver ptlv virtual "$HV" joe joe@example.com "$M"
check "virtual joe@example.com delivered ($OUT)" t '[ "$RC" -eq 0 ] && [ "$(count_files "$HV/example.com/joe/Maildir/new")" -eq 1 ]'
expected "$SCRATCH/exp11" joe@example.com "$M"
check "virtual copy byte-exact" cmp -s "$HV/example.com/joe/Maildir/new/$(newest "$HV/example.com/joe/Maildir/new")" "$SCRATCH/exp11"
deliver ptlv virtual "$HV" Joe-Tag Joe-Tag@Example.COM "$M"
check "Joe-Tag@Example.COM falls back to joe" t '[ "$RC" -eq 0 ] && [ "$(count_files "$HV/example.com/joe/Maildir/new")" -eq 2 ]'
deliver ptlv virtual "$HV" nobody nobody@example.com "$M"
check "unknown virtual mailbox: 100, 5.1.1 no such mailbox ($OUT)" t '[ "$RC" -eq 100 ] && [ "$OUT" = "5.1.1 no such mailbox" ]'
deliver ptlv virtual "$HV" joe joe@other.example "$M"
check "unknown virtual domain: 100" [ "$RC" -eq 100 ]
mkdir -p "$HV/example.com/ann" "$HV/example.com/bob"
maildir_make "$HV/example.com/ann/Inbox" ptlv:ptlv
printf './Inbox/\n' > "$HV/example.com/ann/.postern"
chown -R ptlv:ptlv "$HV/example.com/ann" "$HV/example.com/bob"
deliver ptlv virtual "$HV" ann ann@example.com "$M"
check "virtual mailbox with its own .postern ($OUT)" t '[ "$RC" -eq 0 ] && [ "$(count_files "$HV/example.com/ann/Inbox/new")" -eq 1 ]'
deliver ptlv virtual "$HV" bob bob@example.com "$M"
check "virtual mailbox without a Maildir: 111 ($OUT)" t '[ "$RC" -eq 111 ]'
deliver ptlv virtual "$HV" ..joe ..joe@example.com "$M"
check "virtual local part starting with '.': 100 ($OUT)" [ "$RC" -eq 100 ]

# 12: alias mode
maildir_make "$HAL/Maildir" ptlal:ptlal
printf './Maildir/\n' > "$HAL/.postern-postmaster"
chown ptlal:ptlal "$HAL/.postern-postmaster"
deliver ptlal alias "$HAL" postmaster postmaster@example.org "$M"
check "alias postmaster delivered ($OUT)" t '[ "$RC" -eq 0 ] && [ "$(count_files "$HAL/Maildir/new")" -eq 1 ]'
expected "$SCRATCH/exp12" postmaster@example.org "$M"
check "alias copy byte-exact" cmp -s "$HAL/Maildir/new/$(newest "$HAL/Maildir/new")" "$SCRATCH/exp12"
deliver ptlal alias "$HAL" nosuchname nosuchname@example.org "$M"
check "unknown alias: 100, 5.1.1 no mailbox here by that name ($OUT)" \
	t '[ "$RC" -eq 100 ] && [ "$OUT" = "5.1.1 no mailbox here by that name" ]'

# 13: bad invocations
OUT=$(setpriv --reuid=ptla --regid=ptla --init-groups env -i "$LOCAL" user ptla "$HA" < "$M" 2> /dev/null); RC=$?
# a bad argument is lspawn's or the install's fault (an old lspawn after
# ./install), never the message's: 111, so that it is tried again
check "wrong argument count: 111, one line ($OUT)" t '[ "$RC" -eq 111 ] && [ "$(lines "$OUT")" -eq 1 ]'
OUT=$(setpriv --reuid=ptla --regid=ptla --init-groups env -i "$LOCAL" user ptla "$HA" "" ptla@example.org "$SENDER" "../q" "" "" < "$M" 2> /dev/null); RC=$?
check "bad queue id: 111" [ "$RC" -eq 111 ]
OUT=$(setpriv --reuid=ptla --regid=ptla --init-groups env -i "$LOCAL" user ptla "$HA" "" "ptla@example.org
x" "$SENDER" "$QID" "" "" < "$M" 2> /dev/null); RC=$?
check "recipient with a newline: 111" [ "$RC" -eq 111 ]
OUT=$(setpriv --reuid=ptla --regid=ptla --init-groups env -i "$LOCAL" user ptla relative "" ptla@example.org "$SENDER" "$QID" "" "" < "$M" 2> /dev/null); RC=$?
check "relative home: 111" [ "$RC" -eq 111 ]
OUT=$(cd "$HA" && printf 'x\n' | setpriv --reuid=ptla --regid=ptla --init-groups env -i POSTERN_HOME="$INST" "$LOCAL" user ptla "$HA" "" ptla@example.org "$SENDER" "$QID" "" "" 2> /dev/null); RC=$?
check "message on a pipe instead of a file: 111" [ "$RC" -eq 111 ]

# 14: -b, a batch as postern-lspawn starts it: message k on fd 3 + k, one
# result line each ("K text", "D text", "Z text"), in order, exit 0
M2=$SCRATCH/msg/second
printf 'Subject: two\n\nthe second message\n' > "$M2"
MLOOP=$SCRATCH/msg/loop
printf 'Delivered-To: ptla@example.org\nSubject: loop\n\nbody\n' > "$MLOOP"
n0=$(count_files "$HA/Maildir/new")
batch_run() { # USER HOME ARGS...: postern-local -b as USER in HOME; the caller's fds 3.. pass through
	u=$1 h=$2
	shift 2
	OUT=$(cd "$h" && setpriv --reuid="$u" --regid="$u" --init-groups \
		env -i POSTERN_HOME="$INST" "$LOCAL" -b "$@" < /dev/null 2> "$SCRATCH/err")
	RC=$?
}
batch_run ptla "$HA" user ptla "$HA" \
	"" ptla@example.org "$SENDER" "$QID" "" "" \
	"" ptla@example.org "$SENDER" "$QID" "" "" \
	"" ptla@example.org "$SENDER" "$QID" "" "" 3< "$M" 4< "$MLOOP" 5< "$M2"
check "batch of three: exit 0 ($RC)" [ "$RC" -eq 0 ]
check "batch of three: results K, D, K in order ($OUT)" [ "$(printf '%s\n' "$OUT" | cut -c1-2 | tr -d '\n')" = "K D K " ]
check "batch of three: the D is the second message's own reason" \
	sh -c 'printf "%s\n" "$1" | sed -n 2p | grep -q "^D 5.4.6 mail loop"' - "$OUT"
check "batch of three: two copies more in Maildir/new" [ "$(count_files "$HA/Maildir/new")" -eq $((n0 + 2)) ]
expected "$SCRATCH/exp14" ptla@example.org "$M2"
check "batch of three: the third copy is the third message, byte for byte" \
	sh -c 'for f in "$1"/*; do cmp -s "$f" "$2" && exit 0; done; exit 1' - "$HA/Maildir/new" "$SCRATCH/exp14"
check "batch of three: a log line per message" [ "$(grep -c "delivery qid=$QID" "$SCRATCH/err")" -eq 3 ]

# a batch's Maildir copies are answered after one fsync of new/ for them
# all: three messages, three file fsyncs and one of the directory
n0=$(count_files "$HA/Maildir/new")
OUT=$(cd "$HA" && strace -f -qq -y -e trace=fsync -o "$SCRATCH/fsyncs" setpriv --reuid=ptla --regid=ptla --init-groups \
	env -i POSTERN_HOME="$INST" "$LOCAL" -b user ptla "$HA" \
	"" ptla@example.org "$SENDER" "$QID" "" "" \
	"" ptla@example.org "$SENDER" "$QID" "" "" \
	"" ptla@example.org "$SENDER" "$QID" "" "" 3< "$M" 4< "$M2" 5< "$M" 2> "$SCRATCH/err")
check "batch of three to one Maildir: K K K ($OUT)" [ "$(printf '%s\n' "$OUT" | cut -c1-2 | tr -d '\n')" = "K K K " ]
check "  three copies more in new/" [ "$(count_files "$HA/Maildir/new")" -eq $((n0 + 3)) ]
check "  four fsyncs, not six ($(grep -c 'fsync(' "$SCRATCH/fsyncs"))" [ "$(grep -c 'fsync(' "$SCRATCH/fsyncs")" -eq 4 ]
check "  three of files in tmp/, then the one of new/ ($(sed 's/^[0-9]* *//' "$SCRATCH/fsyncs" | tr '\n' ' '))" \
	sh -c '[ "$(grep -c "Maildir/tmp/.*= 0\$" "$1")" -eq 3 ] && grep "fsync(" "$1" | tail -1 | grep -q "Maildir/new>) = 0\$"' - "$SCRATCH/fsyncs"
check "  the log has a delivery line for each" [ "$(grep -c "delivery qid=$QID" "$SCRATCH/err")" -eq 3 ]

printf '|readlink /proc/$$/fd/* > ./fds.txt; exit 0\n' > "$HA/.postern-fds"
chown ptla:ptla "$HA/.postern-fds"
batch_run ptla "$HA" user ptla "$HA" \
	"" ptla@example.org "$SENDER" "$QID" "" "" \
	fds ptla-fds@example.org "$SENDER" "$QID" "" "" 3< "$M" 4< "$M2"
check "batch with a program: both delivered ($OUT)" [ "$(printf '%s\n' "$OUT" | cut -c1 | tr -d '\n')" = KK ]
check "the program holds no message file of the batch (fds: $(tr '\n' ' ' < "$HA/fds.txt"))" \
	sh -c '[ -s "$1" ] && ! grep -q "$2" "$1"' - "$HA/fds.txt" "$SCRATCH/msg/"

batch_run ptla "$HA" user ptla "$HA" \
	"" ptla@example.org "$SENDER" "$QID" "" "" \
	"" ptla@example.org "$SENDER" "$QID" "" "" 3< "$M" 4<&-
check "batch with a message's fd missing: 111, a Z line for each ($OUT)" \
	t '[ "$RC" -eq 111 ] && [ "$(printf "%s\n" "$OUT" | grep -c "^Z 4.3.0 ")" -eq 2 ] && [ "$(lines "$OUT")" -eq 2 ]'
batch_run ptla "$HA" user ptla "$HA" "" ptla@example.org "$SENDER" 3< "$M"
check "batch with a message's arguments cut short: 111, one Z line ($OUT)" \
	t '[ "$RC" -eq 111 ] && [ "$(lines "$OUT")" -eq 1 ] && case $OUT in Z\ 4.3.5\ usage*) true;; *) false;; esac'
# what an lspawn from before DSN, still running after ./install, gives the
# new postern-local: four fields a message.  Every message is Z (tried
# again after the restart), none D (bounced)
batch_run ptla "$HA" user ptla "$HA" \
	"" ptla@example.org "$SENDER" "$QID" \
	"" ptla@example.org "$SENDER" "$QID" \
	"" ptla@example.org "$SENDER" "$QID" 3< "$M" 4< "$M" 5< "$M"
check "three messages in the old four-field form: no D, nothing delivered ($(printf '%s' "$OUT" | cut -c1 | tr -d '\n'))" \
	t '! printf "%s\n" "$OUT" | grep -q "^[DKHX]"'
OUT=$(cd "$HA" && env -i POSTERN_HOME="$INST" "$LOCAL" -b user ptla "$HA" \
	"" ptla@example.org "$SENDER" "$QID" "" "" "" ptla@example.org "$SENDER" "$QID" "" "" 3< "$M" 4< "$M" 2> /dev/null); RC=$?
check "batch started as root without an identity: 111, a Z line for each ($OUT)" \
	t '[ "$RC" -eq 111 ] && [ "$(printf "%s\n" "$OUT" | grep -c "^Z 4.3.0 started as root")" -eq 2 ]'

# 14b: the DSN request through a forward (doc/dsn.md, "Forwards", RFC
# 3461 5.2.7): one forward alone carries it on (H), several destinations
# are an expansion (X) whose copies lose SUCCESS
printf '&one@example.net\n' > "$HA/.postern-one"
chown ptla:ptla "$HA/.postern-one"
fwdenv() { # the envelope the stub postern-queue kept, NULs as |
	tr '\000' '|' < "$(ls "$INST/fwd/env."* | head -1)"
}
rm -f "$INST/fwd/"*
batch_run ptla "$HA" user ptla "$HA" one ptla-one@example.org "$SENDER" "$QID" "RET=HDRS ENVID=id+2B1" \
	"NOTIFY=SUCCESS,DELAY ORCPT=rfc822;orig+40x.example" 3< "$M"
check "one forward alone: H, handed on ($OUT)" t 'case $OUT in "H 2.0.0 delivered: 0 maildir, 0 program, 1 forward"*) true;; *) false;; esac'
check "  its copy carries RET, ENVID, NOTIFY and ORCPT on as given ($(fwdenv))" \
	[ "$(fwdenv)" = "F$SENDER|RHDRS|Eid+2B1|S|NSUCCESS,DELAY|Orfc822;orig+40x.example|Tone@example.net||" ]
rm -f "$INST/fwd/"*
batch_run ptla "$HA" user ptla "$HA" one "a+b=c@example.org" "$SENDER" "$QID" "" "NOTIFY=SUCCESS" 3< "$M"
check "  without an ORCPT, one naming the address it came to, in xtext ($(fwdenv))" \
	[ "$(fwdenv)" = "F$SENDER|S|NSUCCESS|Orfc822;a+2Bb+3Dc@example.org|Tone@example.net||" ]
rm -f "$INST/fwd/"*
n0=$(count_files "$HA/Maildir/new")
batch_run ptla "$HA" user ptla "$HA" fwd ptla-fwd@example.org "$SENDER" "$QID" "ENVID=e1" \
	"NOTIFY=SUCCESS,FAILURE" 3< "$M"
check "two forwards and a Maildir: X, expanded ($OUT)" t 'case $OUT in "X 2.0.0 delivered: 1 maildir, 0 program, 2 forward"*) true;; *) false;; esac'
check "  the copies' NOTIFY without SUCCESS, ENVID kept, each with the ORCPT ($(fwdenv))" \
	[ "$(fwdenv)" = "F$SENDER|Ee1|S|NFAILURE|Orfc822;ptla-fwd@example.org|Tfwd1@example.net|NFAILURE|Orfc822;ptla-fwd@example.org|Tfwd2@example.net||" ]
check "  and the Maildir copy is there" [ "$(count_files "$HA/Maildir/new")" -eq $((n0 + 1)) ]
rm -f "$INST/fwd/"*
batch_run ptla "$HA" user ptla "$HA" fwd ptla-fwd@example.org "$SENDER" "$QID" "" "NOTIFY=SUCCESS" 3< "$M"
check "  NOTIFY=SUCCESS alone becomes NEVER for the copies ($(fwdenv))" \
	t 'case $(fwdenv) in *"|NNEVER|Orfc822;ptla-fwd@example.org|Tfwd1@example.net|NNEVER|"*) true;; *) false;; esac'
rm -f "$INST/fwd/"*
batch_run ptla "$HA" user ptla "$HA" "" ptla@example.org "$SENDER" "$QID" "RET=FULL" "NOTIFY=SUCCESS" \
	one ptla-one@example.org "$SENDER" "$QID" "" "NOTIFY=NEVER" 3< "$M" 4< "$M"
check "a Maildir alone is K, a forward in the same batch H ($(printf '%s' "$OUT" | cut -c1 | tr -d '\n'))" \
	[ "$(printf '%s\n' "$OUT" | cut -c1 | tr -d '\n')" = KH ]
check "  NOTIFY=NEVER goes on as NEVER ($(fwdenv))" [ "$(fwdenv)" = "F$SENDER|S|NNEVER|Orfc822;ptla-one@example.org|Tone@example.net||" ]
rm -f "$INST/fwd/"*
batch_run ptla "$HA" user ptla "$HA" one ptla-one@example.org "$SENDER" "$QID" "" "NOTIFY=success" \
	one ptla-one@example.org "$SENDER" "$QID" "RET=FULL
MAIL FROM:<x@y>" "" 3< "$M" 4< "$M"
check "DSN parameters not as postern-send writes them: Z 4.3.5, nothing queued ($OUT)" \
	t '[ "$(printf "%s\n" "$OUT" | grep -c "^Z 4.3.5 bad DSN parameters")" -eq 2 ] && [ "$(count_files "$INST/fwd")" -eq 0 ]'

# 15: -l, lingering: after its batch postern-local says R and takes more
# batches of the same user over the socket on its fd 0 (tests/linger.py
# plays postern-lspawn)
n0=$(count_files "$HA/Maildir/new")
rm -f "$HA/fds.txt"
printf '|sleep 2; exit 0\n' > "$HA/.postern-slow"
chown ptla:ptla "$HA/.postern-slow"
/usr/bin/python3 "$(dirname "$0")/linger.py" "$LOCAL" "$INST" "$HA" ptla "$SENDER" "$QID" "$M" "$MLOOP" "$SCRATCH/linger" \
	|| not_ok "linger.py ran ($?)"
fact() { sed -n "s/^$1 //p" "$SCRATCH/linger"; }
check "linger: the first batch's line, then R ($(fact first))" t 'case $(fact first) in "['"'"'K 2.0.0 delivered: 1 maildir"*) true;; *) false;; esac'
check "linger: its command line keeps the mode and user ($(fact cmdline_keeps_mode_user))" [ "$(fact cmdline_keeps_mode_user)" = True ]
check "linger: but names no recipient, sender or queue id, which any local user could read ($(fact cmdline_names_message))" \
	[ "$(fact cmdline_names_message)" = False ]
check "linger: a second batch over the socket, K then D, then R ($(fact second))" \
	t 'case $(fact second) in "['"'"'K 2.0.0"*"'"'"'D 5.4.6 mail loop"*) true;; *) false;; esac'
check "linger: while it delivers it holds the message's file ($(fact fds_while_busy): $(fact slow))" [ "$(fact fds_while_busy)" = 1 ]
check "linger: while it waits it holds no message file ($(fact fds_after_two))" [ "$(fact fds_after_two)" = 0 ]
check "linger: a message's file is let go before its line, in any batch ($(fact fds_after_first_of_two))" \
	sh -c '[ "$(echo "$1" | cut -d" " -f1-2)" = "1 K" ]' - "$(fact fds_after_first_of_two)"
check "linger: a program in a later batch ($(fact third))" t 'case $(fact third) in "['"'"'K 2.0.0 delivered: 0 maildir, 1 program"*) true;; *) false;; esac'
check "linger: the program held neither the socket nor a message file ($(tr '\n' ' ' < "$HA/fds.txt"))" \
	sh -c '[ -s "$1" ] && ! grep -q -e "$2" -e socket: "$1"' - "$HA/fds.txt" "$SCRATCH/msg/"
check "linger: 400 batches more, one process, all K $(fact stream_broke_at)" \
	t '[ -z "$(fact stream_broke_at)" ] && [ "$(fact alive_after_stream)" = True ]'
if sanitized_build; then
	# ASan's quarantine holds freed memory back on purpose; its leak
	# check at exit stands in for this one there
	ok "linger: its memory does not grow with the messages # SKIP sanitizer build (RSS +$(fact stream_rss_growth_kb) KB)"
else
	check "linger: its memory does not grow with the messages (RSS +$(fact stream_rss_growth_kb) KB from the 50th to the 400th)" \
		[ "$(fact stream_rss_growth_kb)" -le 8 ]
fi
check "linger: a group-writable dot file is refused with Z, three times ($(fact refused_lines))" \
	t '[ "$(fact refused_lines | grep -o "Z 4.7.0 .postern-refused is group or world writable" | wc -l)" -eq 3 ]'
check "linger: and no fd is left behind by a refusal ($(fact fds_growth_after_refusals) more)" [ "$(fact fds_growth_after_refusals)" = 0 ]
check "linger: every copy is in Maildir/new (1 + 1 + 1 + 400 + 1 + 1 more)" [ "$(count_files "$HA/Maildir/new")" -eq $((n0 + 405)) ]
check "linger: a record that is not 6n fields ends it, 111 ($(fact malformed_rc))" [ "$(fact malformed_rc)" = 111 ]
check "linger: more fields than fds ends it, 111 ($(fact fd_count_mismatch_rc))" [ "$(fact fd_count_mismatch_rc)" = 111 ]
check "linger: and says why in the log" grep -q "fatal: malformed request from postern-lspawn" "$SCRATCH/linger.err"
check "linger: EOF on the socket (lspawn wants no more): exit 0 ($(fact eof_rc))" [ "$(fact eof_rc)" = 0 ]

# Dovecot, the IMAP server most Maildirs are read through, trusts ,W= as
# the message's size without reading the file: messages of every ending
# delivered to ptld's Maildir must all read back whole, at the size their
# names say (tests/dovecot_read.py).
MR=$SCRATCH/msg/endings
printf 'Subject: ends in a bare CR\n\nbody\r' > "$MR.cr"
printf 'Subject: CRLF throughout\r\n\r\nline\r\n' > "$MR.crlf"
printf 'Subject: no body at all\n' > "$MR.nobody"
printf 'Subject: 8bit \303\251t\303\251\n\n\000nul and \377\n\n\n' > "$MR.8bit"
for m in "$M" "$MC" "$MR.cr" "$MR.crlf" "$MR.nobody" "$MR.8bit" "$MB"; do
	deliver ptld user "$SCRATCH/users/ptld" "" ptld@example.org "$m"
	[ "$RC" -eq 0 ] || diag "delivery of $m to ptld: $RC $OUT"
done
check "seven messages of every ending in ptld's Maildir" [ "$(count_files "$SCRATCH/users/ptld/Maildir/new")" -eq 7 ]
for f in "$SCRATCH/users/ptld/Maildir/new/"*; do
	pop3_name_ok "$f" || not_ok "ptld's ${f##*/}: ended with LF, named with its sizes"
done
out=$(/usr/bin/python3 "$POSTERN_SRC/tests/dovecot_read.py" "$SCRATCH/users/ptld/Maildir" ptld 2>&1)
rc=$?
if [ $rc -eq 77 ]; then
	not_ok "Dovecot's imap installed (tests/deps.sh installs dovecot-imapd): $out"
else
	check "Dovecot reads them all over IMAP, RFC822.SIZE = ,W= = BODY[], names kept ($(echo "$out" | tr '\n' ' '))" [ $rc -eq 0 ]
fi

done_testing
