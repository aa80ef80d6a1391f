#!/bin/sh
# control/queuefree, on a queue that lives on a small file system of its
# own (a tmpfs of 24 MB mounted over HOME/queue in a mount namespace of
# this test): postern-smtpd refuses MAIL with 452 4.3.1 when the room left
# would fall under it (a SIZE= that does not fit, a disk filled by
# something else, too few inodes), takes mail again once room is back,
# and delivers what it took; postern-queue refuses a commit, from
# sendmail too, that would leave under half of it, and leaves nothing
# behind.  doc/queue.md, "Free space".
if [ -z "${T_MNTNS:-}" ]; then
	if unshare -m --propagation private true 2> /dev/null; then
		T_MNTNS=1 exec unshare -m --propagation private sh "$0" "$@"
	fi
	echo "ok 1 # SKIP no mount namespace here (unshare -m) to give the queue a file system of its own"
	echo "1 passed, 0 failed"
	exit 0
fi
. "$(dirname "$0")/lib.sh"
scratch_init
PY=/usr/bin/python3
MB=1048576

need_built postern-smtpd postern-mkrcpt postern-queue postern-send postern-local postern-inject
install_home || bail "./install into $SCRATCH/home"
Q=$PHOME/queue
D=qf.example
make_user ptqfree || bail "make_user ptqfree"
A=$SCRATCH/users/ptqfree/Maildir
smtp_home "$D"
printf '%s\n' $((12 * MB)) > "$PHOME/control/queuefree"
"$PHOME/bin/postern-mkrcpt" 2> "$SCRATCH/mkrcpt.log" || bail "postern-mkrcpt: $(cat "$SCRATCH/mkrcpt.log")"

# the queue, as ./install made it, moved onto a tmpfs of 24 MB and 4,000 inodes
cp -a "$Q" "$SCRATCH/queue.made" || bail "copy of the queue"
mount -t tmpfs -o size=24m,nr_inodes=4000 postern-test-queue "$Q" || bail "mount a tmpfs on $Q"
on_cleanup 'umount -l "$Q"'
cp -a "$SCRATCH/queue.made/." "$Q/" && chown --reference="$SCRATCH/queue.made" "$Q" &&
	chmod --reference="$SCRATCH/queue.made" "$Q" || bail "the queue onto the tmpfs"
ok "the queue on a tmpfs of its own: $(df -k "$Q" | awk 'NR == 2 { print $4 }') KB free"

svscan_start
svc_wait_up postern-send 30 || bail "postern-send did not come up"
svc_wait_up postern-smtpd 30 || bail "postern-smtpd did not come up"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" ||
	bail "nothing listens on 127.0.0.1:$PORT"

# smtp SIZE SUBJECT: MAIL (with SIZE=SIZE unless it is 0), RCPT, DATA;
# prints the MAIL reply's code and text, and the DATA reply's code
smtp() {
	$PY - "$PORT" "$D" "$1" "$2" <<'PYEOF'
import smtplib, sys
port, dom, size, subject = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
with smtplib.SMTP('127.0.0.1', port, timeout=30) as s:
    s.ehlo('client.test')
    code, text = s.mail('sender@remote.example', ['SIZE=%d' % size] if size else [])
    out = '%d %s' % (code, text.decode())
    if code == 250:
        s.rcpt('ptqfree@' + dom)
        code, _ = s.data(('Subject: %s\r\n\r\nroom enough\r\n' % subject).encode())
        out += ' / %d' % code
    print(out)
PYEOF
}
delivered() { wait_for 20 sh -c "grep -ls 'Subject: $1\$' '$A/new/'* > /dev/null"; }
freekb() { df -k "$Q" | awk 'NR == 2 { print $4 }'; }
mess_count() { find "$Q/mess" -type f | wc -l; }
log_has() { grep -q "$1" "$PHOME/log/smtpd/current" 2> /dev/null; }

r=$(smtp 1000 small)
check "room enough (12 MB kept, 1 KB declared): 250 at MAIL, 250 after DATA ($r)" [ "${r%% *}" = 250 ] && [ "${r##* }" = 250 ]
check "... and delivered" delivered small

r=$(smtp $((13 * MB)) toobig)
check "SIZE=13 MB with 12 MB to keep on a 24 MB disk: 452 4.3.1 at MAIL ($r)" sh -c "echo '$r' | grep -q '^452 4.3.1 insufficient system storage'"
check "... logged as queue_full with the room and the size" wait_for 5 log_has "queue_full ip=127.0.0.1 free=[0-9]* inodes=[0-9]* queuefree=$((12 * MB)) size=$((13 * MB))"
r=$(smtp $((10 * MB)) fits)
check "SIZE=10 MB fits: 250 ($r)" [ "${r%% *}" = 250 ]

# something else fills the disk: 7 MB left, 12 MB to keep
head -c $((17 * MB)) /dev/zero > "$Q/filler" || bail "filler"
r=$(smtp 0 nosize)
check "the disk filled under the reserve ($(freekb) KB free): 452 4.3.1 even without SIZE= ($r)" sh -c "echo '$r' | grep -q '^452 4.3.1'"
n0=$(mess_count)
printf 'Subject: by sendmail\n\nhi\n' | "$PHOME/bin/postern-inject" "ptqfree@$D" 2> "$SCRATCH/inject.err"
rc=$?
check "sendmail with 7 MB left, over half the reserve: postern-queue commits it (exit $rc)" [ "$rc" -eq 0 ]
check "... and it is delivered" delivered 'by sendmail'

head -c $((2 * MB)) /dev/zero >> "$Q/filler" || bail "filler"
n0=$(mess_count)
printf 'Subject: refused\n\nhi\n' | "$PHOME/bin/postern-inject" "ptqfree@$D" 2> "$SCRATCH/inject.err"
rc=$?
check "sendmail with $(freekb) KB left, under half the reserve: refused, a temporary failure (exit $rc)" [ "$rc" -eq 111 ]
check "... saying why ($(cat "$SCRATCH/inject.err"))" grep -q "nearly full" "$SCRATCH/inject.err"
check "... and nothing of it is left in the queue" [ "$(mess_count)" -eq "$n0" ] && [ -z "$(find "$Q/tmp" -type f)" ]

rm -f "$Q/filler"
r=$(smtp 1000 again)
check "the filler gone: 250 again ($r)" [ "${r%% *}" = 250 ] && [ "${r##* }" = 250 ]
check "... delivered" delivered again

# inodes: 4,000 on the tmpfs; use all but 900
i=0 n=$(( $(df -i "$Q" | awk 'NR == 2 { print $4 }') - 900 ))
mkdir "$Q/inodes" || bail "mkdir"
while [ "$i" -lt "$n" ]; do : > "$Q/inodes/$i" || break; i=$((i + 1)); done
r=$(smtp 1000 inodes)
check "$(df -i "$Q" | awk 'NR == 2 { print $4 }') inodes left, under 1,000: 452 4.3.1 ($r)" sh -c "echo '$r' | grep -q '^452 4.3.1'"
rm -rf "$Q/inodes"

echo 0 > "$PHOME/control/queuefree"
head -c $((20 * MB)) /dev/zero > "$Q/filler" || bail "filler"
r=$(smtp 1000 unchecked)
check "control/queuefree 0: not checked, 250 with $(freekb) KB free ($r)" [ "${r%% *}" = 250 ] && [ "${r##* }" = 250 ]
rm -f "$Q/filler"
check "no sanitizer report" sh -c "! grep -qE 'AddressSanitizer|runtime error' '$PHOME'/log/*/current"
done_testing
