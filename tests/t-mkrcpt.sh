#!/bin/sh
# postern-mkrcpt run by hand on a scratch home (POSTERN_HOME): the keys of
# a user's dot files and of virtual mailboxes; runs that overlap are
# serialized and each installs a whole table; a home root cannot read
# fails the run and keeps the old table.  The password database is the
# machine's (other tests add and remove users meanwhile), so the checks
# look at this test's own keys and at the table's shape, never at the
# whole table.
. "$(dirname "$0")/lib.sh"
scratch_init

MK=$POSTERN_BUILD/bin/postern-mkrcpt
[ -x "$MK" ] || bail "no $MK: build first"
H=$SCRATCH/home
T=$H/users/rcpt.cdb
mkdir -p "$H/control" "$H/alias" "$H/users" || bail "mkdir"
echo 1000 > "$H/control/minuid"
export POSTERN_HOME=$H
U=ptmkr$$ # unique: tests of other sessions make users too
make_user "$U" || bail "make_user $U"
touch "$SCRATCH/users/$U/.postern-ext" || bail "dot file"
# Enough virtual mailboxes that writing the table takes a while.
i=0
while [ $i -lt 3000 ]; do mkdir -p "$H/vmail/example.org/box$i"; i=$((i + 1)); done

# cdb_keys FILE: the keys of a whole, well-formed cdb, one a line (NUL as
# '|'); exits 1 if any record or hash table lies outside the file, or the
# hash tables do not count exactly the records there are.
cdb_keys() {
	/usr/bin/python3 - "$1" << 'PYEOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
if len(d) < 2048:
    sys.exit(1)
tabs = [struct.unpack_from('<II', d, 8 * i) for i in range(256)]
end = min(p for p, n in tabs)
slots = sum(n for p, n in tabs) // 2
if any(p + 8 * n > len(d) for p, n in tabs):
    sys.exit(1)
pos, keys = 2048, []
while pos < end:
    kl, dl = struct.unpack_from('<II', d, pos)
    if pos + 8 + kl + dl > end:
        sys.exit(1)
    keys.append(d[pos + 8:pos + 8 + kl].replace(b'\0', b'|').decode('latin-1'))
    pos += 8 + kl + dl
if pos != end or len(keys) != slots:
    sys.exit(1)
print('\n'.join(keys))
PYEOF
}
# whole FILE: a whole table with this test's keys, owned and moded as the first run's
whole() {
	cdb_keys "$1" > "$SCRATCH/keys" &&
		grep -qx "U$U" "$SCRATCH/keys" && grep -qx "E$U|ext" "$SCRATCH/keys" &&
		[ "$(grep -c '^Vexample.org/box' "$SCRATCH/keys")" -eq 3000 ] &&
		[ "$(stat -c '%U:%G %a' "$1")" = "$OWNER" ]
}

"$MK" 2> "$SCRATCH/err"
check "a run exits 0" test "$?" -eq 0
OWNER=$(stat -c '%U:%G %a' "$T")
check "the table holds the user, its dot file and the 3000 virtual mailboxes" whole "$T"
check "no temporary file left" test ! -e "$T.tmp"

# Overlapping runs: each waits for the one before it.
flock "$H/users" sleep 2 &
lockpid=$!
sleep 0.3
start=$(date +%s%N)
"$MK" 2> "$SCRATCH/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
wait "$lockpid"
check "a run waits while users/ is locked (${ms} ms), then exits 0" test "$rc" -eq 0 -a "$ms" -ge 1000

bad=0
i=0
while [ $i -lt 50 ]; do
	"$MK" 2> "$SCRATCH/err1" &
	p1=$!
	"$MK" 2> "$SCRATCH/err2" &
	p2=$!
	wait "$p1"; r1=$?
	wait "$p2"; r2=$?
	if [ "$r1" -ne 0 ] || [ "$r2" -ne 0 ] || ! whole "$T" || [ -e "$T.tmp" ]; then
		bad=$((bad + 1))
		[ "$bad" -gt 1 ] || diag "pair $i: exits $r1 $r2: $(cat "$SCRATCH/err1" "$SCRATCH/err2")"
	fi
	i=$((i + 1))
done
check "50 pairs of overlapping runs: both exit 0, a whole table each time ($bad bad)" test "$bad" -eq 0

# A home root cannot read (root-squashed NFS, a container without
# CAP_DAC_READ_SEARCH; here, the capabilities taken away): a table without
# the user's dot files would turn their mail into 550s, so the run fails
# and the old table stays.
chmod 700 "$SCRATCH/users/$U" || bail "chmod"
cp -p "$T" "$SCRATCH/old.cdb" || bail "cp"
setpriv --bounding-set -dac_read_search,-dac_override -- "$MK" 2> "$SCRATCH/err"
rc=$?
check "an unreadable home: exit 111" test "$rc" -eq 111
check "... a warning names the user, the home and the error" \
	grep -q "warning: unable to read the home of $U, $SCRATCH/users/$U: Permission denied" "$SCRATCH/err"
check "... and the old table stays" cmp -s "$T" "$SCRATCH/old.cdb"
[ "$rc" -eq 111 ] || diag "$(cat "$SCRATCH/err")"
chmod 755 "$SCRATCH/users/$U" || bail "chmod"

# The same for a virtual domain kept as INSTALL says (postern-vmail's,
# 0700): without it every mailbox of the domain would get 550.
chown nobody "$H/vmail/example.org" && chmod 700 "$H/vmail/example.org" || bail "vmail domain"
setpriv --bounding-set -dac_read_search,-dac_override -- "$MK" 2> "$SCRATCH/err"
rc=$?
check "an unreadable virtual domain: exit 111" test "$rc" -eq 111
check "... a warning names it" grep -q "warning: unable to read the virtual domain $H/vmail/example.org: Permission denied" "$SCRATCH/err"
check "... and the old table stays" cmp -s "$T" "$SCRATCH/old.cdb"
[ "$rc" -eq 111 ] || diag "$(cat "$SCRATCH/err")"
chown root "$H/vmail/example.org" && chmod 755 "$H/vmail/example.org" || bail "vmail domain"

# The table's group is that of postern-smtpd and postern-submit, which must
# be one group: each listener runs its sessions with its primary group
# alone.  Two groups are faked with a password file of our own, bind-mounted
# over /etc/passwd in a mount namespace of the run alone (the machine's
# users, which other tests change meanwhile, are untouched).
SMTPD=$(grep -v '^#' "$POSTERN_SRC/conf-users" | sed -n 3p)
SUBMIT=$(grep -v '^#' "$POSTERN_SRC/conf-users" | sed -n 12p)
# fake_gids GID-OF-SMTPD GID-OF-SUBMIT CMD...: CMD with those two users so
fake_gids() {
	grep -v "^$SMTPD:\|^$SUBMIT:" /etc/passwd > "$SCRATCH/passwd" &&
		printf '%s:x:4000000001:%s::/nonexistent:/usr/sbin/nologin\n%s:x:4000000002:%s::/nonexistent:/usr/sbin/nologin\n' \
			"$SMTPD" "$1" "$SUBMIT" "$2" >> "$SCRATCH/passwd" || return 111
	shift 2
	unshare -m sh -c 'mount --bind "$1" /etc/passwd && shift && exec "$@"' - "$SCRATCH/passwd" "$@"
}
if ! unshare -m sh -c 'mount --bind /etc/passwd /etc/passwd' 2> /dev/null; then
	ok "# SKIP two primary groups: no mount namespace here (unshare -m) to fake them in"
else
	cp -p "$T" "$SCRATCH/old.cdb" || bail "cp"
	fake_gids 4000000010 4000000011 "$MK" 2> "$SCRATCH/err"
	rc=$?
	check "$SUBMIT's primary group not $SMTPD's: exit 111" test "$rc" -eq 111
	check "... the error names both gids and the table" grep -q \
		"fatal: the primary group of $SUBMIT (gid 4000000011) is not that of $SMTPD (gid 4000000010), so one of them could not read $T: .*the table is not replaced" \
		"$SCRATCH/err"
	check "... and the old table stays" cmp -s "$T" "$SCRATCH/old.cdb"
	[ "$rc" -eq 111 ] || diag "$(cat "$SCRATCH/err")"
	fake_gids 4000000010 4000000010 "$MK" 2> "$SCRATCH/err"
	rc=$?
	check "one primary group for both: exit 0, the table root's in that group, 0640" \
		test "$rc" -eq 0 -a "$(stat -c '%u:%g %a' "$T")" = "0:4000000010 640"
	[ "$rc" -eq 0 ] || diag "$(cat "$SCRATCH/err")"
fi

done_testing
