#!/bin/sh
# End to end: a real s6-svscan runs postern-start from the installed service
# directory; mail goes in through the installed sendmail, run by a local test
# user; it must come out byte for byte (apart from the trace headers
# Return-Path, Delivered-To and Received, which must come first) in the right
# Maildirs, owned by the right users, mode 0600: a user-ext address, an alias
# (postmaster, forwarded), root (the alias user's own Maildir), a forward, a
# program delivery, a virtual mailbox, a plain user; and an unknown user
# gives an RFC 3464 DSN in the sender's Maildir.  Python's email and mailbox
# modules and neomutt (none written here) read the result.  The queue is
# empty afterwards and the log has key=value lines.
. "$(dirname "$0")/lib.sh"
scratch_init
PY=/usr/bin/python3

need_built postern-queue postern-inject postern-start postern-send postern-lspawn postern-clean postern-local
install_home || bail "./install into $SCRATCH/home"
ok "installed into a scratch home"

D=test.example
V=virt.example
# User names unique to this run (pt + pid): two runs at once must not
# delete each other's users.
S=$$
PALICE=pt${S}alice PBOB=pt${S}bob PCAROL=pt${S}carol PDAVE=pt${S}dave PERIN=pt${S}erin PFRANK=pt${S}frank
export PALICE PBOB PCAROL PDAVE PERIN PFRANK
# $PALICE sends and has .postern-lists; $PBOB forwards to $PCAROL;
# $PDAVE has a program; postmaster is forwarded to $PERIN; $PFRANK is plain.
for u in $PALICE $PBOB $PCAROL $PDAVE $PERIN $PFRANK; do
	make_user "$u" || bail "make_user $u"
done
U=$SCRATCH/users
rm -rf "$U/$PBOB/Maildir" # bob only forwards: a delivery to his Maildir would fail

printf '%s\n' "$D" > "$PHOME/control/me"
printf '%s\n' "$D" > "$PHOME/control/locals"
printf '%s\n' "$V" > "$PHOME/control/virtualdomains"
# the lingering section below: a postern-local waits 5 s for more, one that
# hangs is killed after 4 s, and a deferred message is retried at once
echo 5 > "$PHOME/control/lingerlocal"
echo 4 > "$PHOME/control/timeoutlocal"
echo 1 > "$PHOME/control/retrymin"
echo 2 > "$PHOME/control/retrymax"

dotfile() { # USER NAME CONTENT
	printf '%s\n' "$3" > "$U/$1/$2" && chown "$1:$1" "$U/$1/$2" && chmod 644 "$U/$1/$2"
}
maildir_make "$U/$PALICE/Maildir-lists" $PALICE:$PALICE || bail "Maildir-lists"
dotfile $PALICE .postern-lists ./Maildir-lists/ || bail "alice's .postern-lists"
dotfile $PBOB .postern "&$PCAROL@$D" || bail "bob's .postern"
dotfile $PDAVE .postern-prog "|$U/$PDAVE/deliver-prog" || bail "dave's .postern-prog"
# The program's environment is clean, so absolute paths.  It writes under a
# temporary name and renames, so the test never reads half a file.
cat > "$U/$PDAVE/deliver-prog" << EOF || bail "dave's program"
#!/bin/sh
umask 077
/bin/cat > $U/$PDAVE/prog.tmp || exit 111
/usr/bin/id -u > $U/$PDAVE/prog.uid || exit 111
/bin/mv $U/$PDAVE/prog.tmp $U/$PDAVE/prog.out || exit 111
exit 0
EOF
chown $PDAVE:$PDAVE "$U/$PDAVE/deliver-prog" && chmod 755 "$U/$PDAVE/deliver-prog" || bail "chmod deliver-prog"
# postmaster's alias file is root's (./install wrote it); point it at erin.
printf '&%s@%s\n' "$PERIN" "$D" > "$PHOME/alias/.postern-postmaster" || bail "alias/.postern-postmaster"
VBOX=$PHOME/vmail/$V/box/Maildir
mkdir -p "$PHOME/vmail/$V/box" && maildir_make "$VBOX" &&
	chown -R postern-vmail:postern-nofiles "$PHOME/vmail/$V" && chmod 700 "$PHOME/vmail/$V" "$PHOME/vmail/$V/box" ||
	bail "virtual mailbox $VBOX"
[ -d "$PHOME/alias/Maildir/new" ] || bail "./install made no $PHOME/alias/Maildir"

svscan_start
if svc_wait_up postern-send 20; then
	ok "s6-svscan started the installed postern-send service, and it is up"
else
	not_ok "postern-send service up within 20 s"
	diag "$(s6-svstat "$PHOME/service/postern-send" 2>&1)"
	diag "$(tail -n 20 "$PHOME/log/send/current" 2>&1)"
	done_testing
fi

# The message: every header postern-inject would add is already there, so
# it must arrive unchanged.  Body bytes a careless mailer mangles: a lone
# dot (sent with -i), "From " at a line start, trailing blanks, a tab, UTF-8.
M1=$SCRATCH/msg1
SUBJ1="postern e2e: one message, many recipients $$"
cat > "$M1" << EOF
From: Alice <$PALICE@$D>
To: $PALICE-lists@$D, $PBOB@$D, $PDAVE-prog@$D, postmaster@$D,
 root@$D, $PFRANK@$D, box@$V, nosuchuser@$D
Subject: $SUBJ1
Date: Mon, 01 Dec 2025 10:00:00 +0000
Message-ID: <e2e-one.$$@$D>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hello,
.
From here on, a line that mbox would quote.
trailing blanks   
	a tab
Grüße aus dem Test.
.. two dots
EOF
M2=$SCRATCH/msg2
SUBJ2="postern e2e: second, recipients from the header (-t) $$"
cat > "$M2" << EOF
From: $PALICE@$D
To: Frank <$PFRANK@$D>
Subject: $SUBJ2
Date: Mon, 01 Dec 2025 10:01:00 +0000
Message-ID: <e2e-two.$$@$D>

second body
EOF
chmod 644 "$M1" "$M2"

as_alice() { setpriv --reuid=$PALICE --regid=$PALICE --init-groups "$@"; }
as_alice "$PHOME/bin/sendmail" -i -f "$PALICE@$D" "$PALICE-lists@$D" "$PBOB@$D" "$PDAVE-prog@$D" \
	"postmaster@$D" "root@$D" "$PFRANK@$D" "box@$V" "nosuchuser@$D" < "$M1" > "$SCRATCH/inject1.out" 2>&1
rc=$?
check "sendmail (as $PALICE, 8 recipients) exits 0 (got $rc: $(cat "$SCRATCH/inject1.out"))" [ "$rc" -eq 0 ]
as_alice "$PHOME/bin/sendmail" -t -f "$PALICE@$D" < "$M2" > "$SCRATCH/inject2.out" 2>&1
rc=$?
check "sendmail -t exits 0 (got $rc: $(cat "$SCRATCH/inject2.out"))" [ "$rc" -eq 0 ]

# Wait for every destination (60 s in all), then check them all in one go.
want() { # DIR N: 0 when DIR holds N files
	[ "$(count_files "$1")" -ge "$2" ]
}
all_there() {
	want "$U/$PALICE/Maildir-lists/new" 1 && want "$U/$PCAROL/Maildir/new" 1 &&
		want "$U/$PERIN/Maildir/new" 1 && want "$PHOME/alias/Maildir/new" 1 &&
		want "$U/$PFRANK/Maildir/new" 2 && want "$VBOX/new" 1 &&
		want "$U/$PALICE/Maildir/new" 1 && [ -f "$U/$PDAVE/prog.out" ]
}
i=0
until all_there || [ "$i" -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
check "every destination got its mail within 60 s (waited $((i / 10)) s)" all_there
all_there || diag "$(cd "$SCRATCH" && find users home/alias/Maildir home/vmail -path '*/new/*' -o -name prog.out)"
# Extra copies arrive late, if they arrive: give them a moment.
sleep 1

# Queue empty: mess/ (and tmp/, info/) hold nothing once all is delivered.
i=0
while [ "$(find "$PHOME/queue/mess" -type f | wc -l)" -gt 0 ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
n=$(find "$PHOME/queue/mess" -type f | wc -l)
check "queue/mess is empty after delivery ($n files left)" [ "$n" -eq 0 ]
[ "$n" -eq 0 ] || diag "$(ls -la "$PHOME/queue/mess")"
check "queue/tmp is empty" [ "$(find "$PHOME/queue/tmp" -type f | wc -l)" -eq 0 ]
i=0
while [ "$(find "$PHOME/queue/info" -type f ! -name ".p*" | wc -l)" -gt 0 ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "queue/info is empty" [ "$(find "$PHOME/queue/info" -type f ! -name ".p*" | wc -l)" -eq 0 ]
check "finished queue files went to the pools, emptied ($(find "$PHOME/queue/pool" -type f | wc -l) in pool/, $(find "$PHOME/queue/info" -name ".p*" | wc -l) in info/)" \
	sh -c '[ "$(find "$1/queue/pool" -type f | wc -l)" -gt 0 ] && [ "$(find "$1/queue/info" -name ".p*" | wc -l)" -gt 0 ]' - "$PHOME"
check "every pooled file is empty and its owner's" pool_clean

# The byte-level checks, in Python (its email and mailbox modules are the
# independent readers).  Each line of the spec: NAME|WHERE|OWNER|RCPT|SUBJECT
# where WHERE is a Maildir or a file; the Python prints PASS/FAIL lines.
cat > "$SCRATCH/spec" << EOF
user-ext ($PALICE-lists)|$U/$PALICE/Maildir-lists|$PALICE|$PALICE-lists@$D|$SUBJ1
forward ($PBOB -> $PCAROL)|$U/$PCAROL/Maildir|$PCAROL|$PCAROL@$D|$SUBJ1
alias (postmaster -> $PERIN)|$U/$PERIN/Maildir|$PERIN|$PERIN@$D|$SUBJ1
alias (root -> alias Maildir)|$PHOME/alias/Maildir|postern-alias|root@$D|$SUBJ1
plain user ($PFRANK)|$U/$PFRANK/Maildir|$PFRANK|$PFRANK@$D|$SUBJ1
virtual mailbox (box@$V)|$VBOX|postern-vmail|box@$V|$SUBJ1
program delivery ($PDAVE-prog)|$U/$PDAVE/prog.out|$PDAVE|$PDAVE-prog@$D|$SUBJ1
EOF
$PY - "$SCRATCH/spec" "$M1" "$M2" "$U" "$D" "$SUBJ2" > "$SCRATCH/results" 2>&1 << 'PYEOF'
import email, email.policy, mailbox, os, pwd, re, stat, sys
spec, m1, m2, users, dom, subj2 = sys.argv[1:7]
PALICE, PBOB, PCAROL, PDAVE, PERIN, PFRANK = (os.environ['P' + n] for n in ('ALICE', 'BOB', 'CAROL', 'DAVE', 'ERIN', 'FRANK'))
orig1 = open(m1, 'rb').read()
orig2 = open(m2, 'rb').read()
def res(ok, what):
    print(('PASS ' if ok else 'FAIL ') + what.replace('\n', ' '))
TRACE = re.compile(rb'^(return-path|delivered-to|received):', re.I)
def split_trace(data):
    """The leading trace headers (unfolded) and the rest of the bytes."""
    lines = data.split(b'\n')
    trace = []
    i = 0
    while i < len(lines) and TRACE.match(lines[i]):
        h = lines[i]
        i += 1
        while i < len(lines) and lines[i][:1] in (b' ', b'\t'):
            h += b' ' + lines[i].strip()
            i += 1
        trace.append(h.decode('latin-1'))
    return trace, b'\n'.join(lines[i:])
def dt(trace):
    return [t.split(':', 1)[1].strip().lower() for t in trace if t.lower().startswith('delivered-to:')]
def rp(trace):
    return [t.split(':', 1)[1].strip() for t in trace if t.lower().startswith('return-path:')]
def newfiles(md):
    d = os.path.join(md, 'new')
    return sorted(os.path.join(d, f) for f in os.listdir(d) if not f.startswith('.'))
def owner_mode(path, owner, what):
    st = os.lstat(path)
    res(stat.S_ISREG(st.st_mode), f'{what}: {path} is a regular file')
    try:
        want = pwd.getpwnam(owner).pw_uid
    except KeyError:
        want = -1
    res(st.st_uid == want, f'{what}: owned by {owner} (uid {st.st_uid}, want {want})')
    res(stat.S_IMODE(st.st_mode) == 0o600, f'{what}: mode 0600 (got {stat.S_IMODE(st.st_mode):04o})')
def check_copy(data, what, rcpt, sender=None, orig=orig1):
    sender = sender or '<' + PALICE + '@' + dom + '>'
    trace, rest = split_trace(data)
    res(rest == orig, f'{what}: byte-exact after the trace headers ({len(rest)} vs {len(orig)} bytes)')
    if rest != orig:
        sys.stderr.write(f'--- {what} got:\n' + data.decode('utf-8', 'replace') + '--- end\n')
    res(rcpt.lower() in dt(trace), f'{what}: a Delivered-To: {rcpt} (trace: {trace!r})')
    res(len(rp(trace)) == 1 and rp(trace)[0] == sender, f'{what}: Return-Path: {sender} (got {rp(trace)!r})')
    res(any(t.lower().startswith('received:') for t in trace), f'{what}: a Received line from postern-queue')
    m = email.message_from_bytes(data, policy=email.policy.default)
    return m

for line in open(spec, encoding='utf-8'):
    what, where, owner, rcpt, subj = line.rstrip('\n').split('|')
    if os.path.isdir(where):
        files = newfiles(where)
        res(len(files) >= 1, f'{what}: a file in {where}/new')
        if not files:
            continue
        mine = []
        for f in files:
            tr, rest = split_trace(open(f, 'rb').read())
            if rcpt.lower() in dt(tr) and rest == orig1:
                mine.append(f)
        res(len(mine) == 1, f'{what}: exactly one copy of the message ({len(mine)} of {len(files)} files)')
        f = mine[0] if mine else files[0]
        check_copy(open(f, 'rb').read(), what, rcpt)
        owner_mode(f, owner, what)
        name = os.path.basename(f)
        m = re.match(r'^[0-9]+\.[A-Za-z0-9_.-]+,S=([0-9]+),W=([0-9]+)$', name)
        res(m is not None and ':' not in name and '/' not in name and int(m.group(1)) == os.path.getsize(f),
            f'{what}: a Maildir file name, ,S= its size, ,W= ({name})')
        res(len(os.listdir(os.path.join(where, 'tmp'))) == 0, f'{what}: {where}/tmp is empty')
        # Python's mailbox.Maildir reads it.
        mb = mailbox.Maildir(where, factory=None, create=False)
        subjects = [str(mb[k]['subject']) for k in mb.keys()]
        res(subj in subjects, f'{what}: mailbox.Maildir reads it ({len(subjects)} messages, subjects {subjects!r})')
    elif not os.path.exists(where):
        res(False, f'{what}: {where} exists')
    else:
        data = open(where, 'rb').read()
        check_copy(data, what, rcpt)
        st = os.lstat(where)
        res(st.st_uid == pwd.getpwnam(owner).pw_uid, f'{what}: the program ran as {owner} (file uid {st.st_uid})')
        uidf = os.path.join(os.path.dirname(where), 'prog.uid')
        got = open(uidf).read().strip() if os.path.exists(uidf) else '?'
        res(got == str(pwd.getpwnam(owner).pw_uid), f'{what}: id -u in the program says {got}')

# The forwarded copy and the postmaster copy carry the hop before.
for what, md, first in (('forward', PCAROL + '', PBOB + '@' + dom), ('postmaster', PERIN + '', 'postmaster@' + dom)):
    fs = newfiles(os.path.join(users, md, 'Maildir'))
    if fs:
        tr, _ = split_trace(open(fs[0], 'rb').read())
        res(first in dt(tr), f'{what}: the copy also has Delivered-To: {first} (trace: {dt(tr)!r})')
        res(sum(1 for t in tr if t.lower().startswith('received:')) >= 2, f'{what}: two Received lines (queued twice)')

# {PFRANK}: the -t message too.
fs = newfiles(os.path.join(users, PFRANK + '', 'Maildir'))
second = [f for f in fs if split_trace(open(f, 'rb').read())[1] == orig2]
res(len(second) == 1, f'-t message: exactly one byte-exact copy in {PFRANK}/Maildir ({len(second)})')
res(len(fs) == 2, f'{PFRANK}/Maildir holds exactly 2 messages ({len(fs)})')

# The DSN.
fs = newfiles(os.path.join(users, PALICE + '', 'Maildir'))
res(len(fs) == 1, f'DSN: exactly one message in the sender\'s Maildir ({len(fs)})')
if fs:
    raw = open(fs[0], 'rb').read()
    owner_mode(fs[0], PALICE + '', 'DSN')
    tr, _ = split_trace(raw)
    res(rp(tr) == ['<>'], f'DSN: sent with the null sender, Return-Path: <> (got {rp(tr)!r})')
    res((PALICE + '@' + dom) in dt(tr), f'DSN: delivered to the sender {PALICE}@{dom}')
    m = email.message_from_bytes(raw, policy=email.policy.default)
    res(m.get_content_type() == 'multipart/report', f'DSN: multipart/report (got {m.get_content_type()})')
    res(m.get_param('report-type') == 'delivery-status', f'DSN: report-type=delivery-status (got {m.get_param("report-type")})')
    res(not m.defects, f'DSN: the parser found no defects ({m.defects!r})')
    ds = [p for p in m.walk() if p.get_content_type() == 'message/delivery-status']
    res(len(ds) == 1, f'DSN: one message/delivery-status part ({len(ds)})')
    failed, others = [], []
    if ds:
        blocks = ds[0].get_payload()
        res(isinstance(blocks, list) and len(blocks) >= 2, f'DSN: per-message block and per-recipient block(s) ({len(blocks) if isinstance(blocks, list) else blocks!r})')
        if isinstance(blocks, list) and blocks:
            res(blocks[0].get('Reporting-MTA') is not None, 'DSN: Reporting-MTA in the per-message block')
            for b in blocks[1:]:
                fr = str(b.get('Final-Recipient', '')).lower()
                act = str(b.get('Action', '')).lower()
                st = str(b.get('Status', ''))
                (failed if act == 'failed' else others).append((fr, act, st))
    want = 'nosuchuser@' + dom
    hit = [x for x in failed if x[0].replace(' ', '').endswith(';' + want) and x[2].startswith('5.')]
    res(len(hit) == 1, f'DSN: Final-Recipient rfc822;{want}, Action: failed, Status 5.x.x ({failed!r})')
    res(len(failed) == 1, f'DSN: nobody else is reported as failed ({failed!r})')
    # The returned message or its headers are attached.
    ret = [p for p in m.walk() if p.get_content_type() in ('message/rfc822', 'text/rfc822-headers')]
    res(len(ret) == 1, f'DSN: the original (message/rfc822 or text/rfc822-headers) is attached ({len(ret)})')
    res(('e2e-one.' in raw.decode('latin-1')), 'DSN: it names the original Message-ID')
    mb = mailbox.Maildir(os.path.join(users, PALICE + '', 'Maildir'), factory=None, create=False)
    res(len(mb) == 1, f'DSN: mailbox.Maildir reads the sender\'s Maildir ({len(mb)} message)')
PYEOF
while read -r st what; do
	case $st in
	PASS) ok "$what" ;;
	FAIL) not_ok "$what" ;;
	*) diag "$st $what" ;;
	esac
done < "$SCRATCH/results"
grep -q '^PASS' "$SCRATCH/results" || not_ok "the Python checks ran"

# neomutt reads the Maildirs: in batch (on a pty, as it wants one), it tags
# every message and pipes each one (pipe_split) to a small script that
# appends the message's Subject to a file; the test counts the lines.
printf '#!/bin/sh\nsed -n "/^\\$/q; s/^Subject: //p" >> "$NM_OUT"\n' > "$SCRATCH/nm-pipe"
chmod 755 "$SCRATCH/nm-pipe"
# Without ~/Mail, neomutt's first question ("create it?") eats the keys.
mkdir -p "$SCRATCH/Mail"
neomutt_count() { # MAILDIR OUT-FILE: prints the count and subjects of what neomutt piped
	rm -f "$2"
	NM_OUT=$2 HOME=$SCRATCH TERM=xterm timeout 20 script -qec "neomutt -n -F /dev/null -f '$1' \
-e 'set wait_key=no pipe_split=yes pipe_decode=no' \
-e 'push \"<tag-pattern>~A<enter><tag-prefix><pipe-message>$SCRATCH/nm-pipe<enter><exit>\"'" /dev/null \
		< /dev/null > "$SCRATCH/neomutt.tty" 2>&1
	if [ -f "$2" ]; then
		echo "$(wc -l < "$2") $(sort "$2" | tr '\n' '|')"
	else
		echo "0 neomutt piped nothing"
	fi
}
if command -v neomutt > /dev/null 2>&1 && command -v script > /dev/null 2>&1; then
	out=$(neomutt_count "$U/$PFRANK/Maildir" "$SCRATCH/frank.nm")
	check "neomutt reads $PFRANK's Maildir: 2 messages ($out)" sh -c 'case $1 in "2 "*) true ;; *) false ;; esac' - "$out"
	check "neomutt sees both subjects" sh -c 'case $1 in *"$2"*"$3"*|*"$3"*"$2"*) true ;; *) false ;; esac' - "$out" "$SUBJ1" "$SUBJ2"
	out=$(neomutt_count "$VBOX" "$SCRATCH/vbox.nm")
	check "neomutt reads the virtual mailbox: 1 message ($out)" sh -c 'case $1 in "1 "*) true ;; *) false ;; esac' - "$out"
	out=$(neomutt_count "$U/$PALICE/Maildir" "$SCRATCH/dsn.nm")
	check "neomutt reads the DSN in $PALICE's Maildir ($out)" sh -c 'case $1 in "1 "*) true ;; *) false ;; esac' - "$out"
else
	not_ok "neomutt (and script) installed: tests/deps.sh installs them"
fi

# Lingering (control/lingerlocal): after a delivery, $PFRANK's postern-local
# waits for more; the next messages to $PFRANK are handed to it, not to a
# new process; it exits when nothing comes for lingerlocal seconds.  One
# that its user stops is killed after timeoutlocal, and the message that
# was handed to it is delivered by a new one.
LOG=$PHOME/log/send/current
FNEW=$U/$PFRANK/Maildir/new
frank_done() { grep -c "postern-send: delivery .* to=$PFRANK@$D status=delivered" "$LOG"; }
# SUBJECT: one message to $PFRANK; waits until it is in new/ and
# postern-send has its result (so its postern-local has said it waits for
# more before the next message comes: it writes R right after the result)
to_frank() {
	n=$(count_files "$FNEW") nd=$(frank_done)
	printf 'From: %s\nTo: %s\nSubject: %s\n\nlinger\n' "$PALICE@$D" "$PFRANK@$D" "$1" |
		as_alice "$PHOME/bin/sendmail" -f "$PALICE@$D" "$PFRANK@$D" &&
		wait_for 10 sh -c '[ "$(ls "$1" | wc -l)" -gt "$2" ]' - "$FNEW" "$n" &&
		wait_for 10 sh -c '[ "$(grep -c "postern-send: delivery .* to=$1 status=delivered" "$2")" -gt "$3" ]' \
			- "$PFRANK@$D" "$LOG" "$nd" && sleep 0.05
}
frank_locals() { pgrep -u "$PFRANK" -x postern-local | tr '\n' ' '; }
syscw() { sed -n 's/^syscw: //p' "/proc/$1/io" 2> /dev/null; }
check "linger: the postern-locals of the deliveries above exit after lingerlocal (5 s)" wait_for 15 sh -c '[ -z "$(pgrep -u "$1" -x postern-local)" ]' - "$PFRANK"
to_frank "linger 1" || not_ok "linger: the first message to $PFRANK delivered"
P=$(frank_locals)
check "linger: after its delivery one postern-local of $PFRANK's waits ($P)" [ "$(echo $P | wc -w)" -eq 1 ]
P=$(echo $P)
W0=$(syscw "$P")
for i in 2 3 4 5 6; do to_frank "linger $i" || not_ok "linger: message $i to $PFRANK delivered"; done
check "linger: five more messages, still that one process and no other ($(frank_locals))" [ "$(frank_locals)" = "$P " ]
W1=$(syscw "$P")
check "linger: and it did the writing: $((W1 - W0)) write calls for five deliveries" [ $((W1 - W0)) -ge 10 ]
check "linger: it exits after lingerlocal (5 s) without mail" wait_for 15 sh -c '! kill -0 "$1" 2> /dev/null' - "$P"
to_frank "linger 7" || not_ok "linger: a message to $PFRANK delivered"
P=$(echo $(frank_locals))
kill -STOP "$P"
n=$(count_files "$FNEW")
check "linger: the postern-local stopped by its user gets the next message: not delivered yet" \
	sh -c 'printf "Subject: stopped\n\nbody\n" | setpriv --reuid="$1" --regid="$1" --init-groups "$2" "$3" && sleep 1 && [ "$(ls "$4" | wc -l)" -eq "$5" ]' \
	- "$PALICE" "$PHOME/bin/sendmail" "$PFRANK@$D" "$FNEW" "$n"
check "linger: killed after timeoutlocal (4 s), logged" wait_for 15 grep -q "postern-lspawn: timeout pid=$P messages=1 seconds=4" "$LOG"
check "linger: and the message delivered by a new one" wait_for 15 sh -c '[ "$(ls "$1" | wc -l)" -gt "$2" ]' - "$FNEW" "$n"
check "linger: the stopped one is gone" sh -c '! kill -0 "$1" 2> /dev/null' - "$P"
# one stopped while it waits, holding no message: ended after lingerlocal,
# it never reads the end of its input, so it is killed IDLE_GRACE_MS (10 s)
# later; without that, stopped ones would pile up in lspawn for good, each
# with a slot and two fds, until nobody's mail could be delivered
wait_for 10 sh -c '[ -n "$(pgrep -u "$1" -x postern-local)" ]' - "$PFRANK"
P2=$(echo $(frank_locals))
kill -STOP $P2
check "linger: one stopped while it waits, with no message, is killed after lingerlocal and 10 s more, logged ($P2)" \
	wait_for 25 grep -q "postern-lspawn: timeout pid=$P2 messages=0 seconds=10" "$LOG"
check "linger: and gone" wait_for 5 sh -c '! kill -0 "$1" 2> /dev/null' - "$P2"

# Logs: s6-log writes HOME/log/send/current, TAI64N-stamped key=value lines.
LOG=$PHOME/log/send/current
i=0
while ! grep -q "$PFRANK@$D" "$LOG" 2> /dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "log: $LOG exists and is postern-log's" [ "$(stat -c %U "$LOG" 2> /dev/null)" = postern-log ]
check "log: lines carry a TAI64N stamp" grep -q '^@4[0-9a-f]\{23\} ' "$LOG"
check "log: key=value lines with a queue id" grep -Eq ' qid=[0-9]+\.[0-9]+P[0-9]+R[0-9a-f]+' "$LOG"
check "log: a line for $PFRANK's delivery with status=" sh -c 'grep -F "$2" "$1" | grep -q " status="' - "$LOG" "$PFRANK@$D"
check "log: the unknown user's failure is logged" grep -q "nosuchuser@$D" "$LOG"
check "log: no line without a key=value field" sh -c '! grep -v "=" "$1" | grep -q .' - "$LOG"
grep -v '=' "$LOG" | head -n 5 | while read -r l; do diag "no key=value: $l"; done

if [ "$T_FAILED" -gt 0 ]; then
	diag "log tail:"
	diag "$(tail -n 40 "$LOG" 2>&1)"
fi
done_testing
