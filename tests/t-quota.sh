#!/bin/sh
# Maildir++ quotas end to end (doc/quota.md): control/quota names the
# quota of a Unix user's Maildir and of virtual mailboxes (by mailbox,
# by @domain, for everyone), postern-local keeps maildirsize as Courier
# and Dovecot keep it, a message that would pass the quota waits in the
# queue (4.2.2) and arrives once room is made, the count is made again
# when the definition changes or the file is torn, a Maildir++ folder
# counts in its Maildir, a maildirsize written by hand is the quota when
# control/quota is absent, and a malformed control/quota defers rather
# than guesses.
. "$(dirname "$0")/lib.sh"
scratch_init

need_built postern-queue postern-send postern-lspawn postern-local postern-qctl
install_home || bail "./install into $SCRATCH/home"
D=quota.example
V=vquota.example
U=ptq$$
make_user "$U" || bail "make_user $U"
M=$SCRATCH/users/$U/Maildir
[ -d "$M/new" ] || bail "no Maildir for $U"
printf '%s\n' "$D" > "$PHOME/control/me"
printf '%s\n' "$D" > "$PHOME/control/locals"
printf '%s\n' "$V" > "$PHOME/control/virtualdomains"
echo 1 > "$PHOME/control/retrymin"
echo 2 > "$PHOME/control/retrymax"
echo 0 > "$PHOME/control/quotawarn" # the warning has a section of its own, at the end
VS=$PHOME/vmail/$V/small/Maildir VB=$PHOME/vmail/$V/big/Maildir
for b in "$VS" "$VB"; do
	mkdir -p "$b" && maildir_make "$b" || bail "virtual mailbox $b"
done
chown -R postern-vmail:postern-nofiles "$PHOME/vmail/$V" && chmod 700 "$PHOME/vmail/$V" || bail "vmail owner"
# 4,000 bytes for the user, 2 messages for every virtual mailbox of the
# domain but big, which has no quota; 1 MB for everyone else
printf '# mailbox:quota\n%s:4000S\n@%s:2C\nbig@%s:none\n:1MS\n' "$U" "$V" "$V" > "$PHOME/control/quota"
svscan_start
svc_wait_up postern-send 20 || bail "postern-send did not come up"
LOG=$PHOME/log/send/current

# msg N SIZE: a message of about SIZE bytes, subject "quota N"
msg() { printf 'Subject: quota %s\n\n' "$1"; head -c "$2" /dev/zero | tr '\0' 'x'; echo; }
in_box() { cat "$1"/new/* "$1"/cur/* 2> /dev/null | grep -q "^Subject: quota $2\$"; }
arrives() { wait_for 20 in_box "$1" "$2"; }
none_queued() { [ -z "$(find "$PHOME/queue/mess" -name '*.env')" ]; }
lastline() { tail -n 1 "$1/maildirsize"; }
size_of() { stat -c %s "$(grep -l "^Subject: quota $2\$" "$1"/new/*)"; }
count_new() { ls "$1/new" | wc -l; }
flush() { "$PHOME/bin/postern-qctl" flush > /dev/null 2>&1; }

msg 1 1000 | inject "a@remote.example" "$U@$D" || bail "inject"
check "a message under the quota arrives" arrives "$M" 1
check "maildirsize made: the definition, then the count ($(tr '\n' '|' < "$M/maildirsize"))" \
	sh -c "head -n 1 '$M/maildirsize' | grep -qx 4000S && [ \$(wc -l < '$M/maildirsize') -ge 2 ]"
check "it is the user's, 0600" [ "$(stat -c '%U %a' "$M/maildirsize")" = "$U 600" ]
s1=$(size_of "$M" 1)
msg 2 1000 | inject "a@remote.example" "$U@$D"
check "a second arrives" arrives "$M" 2
s2=$(size_of "$M" 2)
check "and its size is added as a line of its own ($(lastline "$M"); the file $s2 bytes)" [ "$(lastline "$M")" = "$s2 1" ]

echo 1 > "$PHOME/control/bouncewarn"
kill -HUP "$(tree_procs postern-send | cut -d" " -f1)"
msg 3 2500 | inject "a@remote.example" "$U@$D"
check "one that would pass 4,000 bytes is deferred: 4.2.2 mailbox over quota in the log" \
	wait_for 20 grep -q "to=$U@$D status=temporary text=\"4.2.2 mailbox over quota: ./Maildir\"" "$LOG"
check "... and its sender is warned of the delay (control/bouncewarn), a local deferral as a remote one" \
	wait_for 20 grep -q "warning qid=.* to=a@remote.example ndelayed=1" "$LOG"
echo 0 > "$PHOME/control/bouncewarn"
kill -HUP "$(tree_procs postern-send | cut -d" " -f1)"
check "... with an over_quota line naming the mailbox and the count" \
	grep -q "over_quota mailbox=$U maildir=./Maildir bytes=$((s1 + s2)) messages=2 quota_bytes=4000 quota_messages=0" "$LOG"
check "... it waits in the queue, not bounced" sh -c "[ -n \"\$(find '$PHOME/queue/mess' -name '*.env')\" ]"
msg 3x 5000 | inject "" "$U@$D"
check "a message larger than the whole quota: refused for good, 5.2.2, not left to wait" \
	wait_for 20 grep -q "to=$U@$D status=permanent text=\"5.2.2 message larger than the mailbox's quota: ./Maildir\"" "$LOG"
# the reader deletes both and says so, as Courier, Dovecot and
# postern-pop3d do
rm -f "$M"/new/*
printf -- '-%s -2\n' $((s1 + s2)) >> "$M/maildirsize"
flush
check "room made: it arrives on a retry" arrives "$M" 3
check "and the queue is empty" wait_for 10 none_queued

# a folder counts in the Maildir above it
maildir_make "$M/.Lists" "$U:$U" && touch "$M/.Lists/maildirfolder" && chown "$U:$U" "$M/.Lists/maildirfolder" ||
	bail "folder"
printf '%s\n' "./Maildir/.Lists/" > "$SCRATCH/users/$U/.postern-lists" && chown "$U:$U" "$SCRATCH/users/$U/.postern-lists"
msg 4 300 | inject "a@remote.example" "$U-lists@$D"
check "a delivery into a Maildir++ folder arrives" arrives "$M/.Lists" 4
s4=$(size_of "$M/.Lists" 4)
check "and is counted in the Maildir's maildirsize ($(lastline "$M"))" [ "$(lastline "$M")" = "$s4 1" ]
check "the folder has none of its own" [ ! -e "$M/.Lists/maildirsize" ]

# the quota changed: counted again from the files
sed -i "s/^$U:4000S\$/$U:100KS,3C/" "$PHOME/control/quota"
msg 5 100 | inject "a@remote.example" "$U@$D"
check "a new definition: a message arrives" arrives "$M" 5
s3=$(size_of "$M" 3) s5=$(size_of "$M" 5)
check "... maildirsize rewritten with the new definition and its sums, then the message ($(tr '\n' '|' < "$M/maildirsize"))" \
	[ "$(tr '\n' '|' < "$M/maildirsize")" = "102400S,3C|$((s3 + s4)) 2|$s5 1|" ]
n0=$(grep -c "over_quota mailbox=$U .* quota_messages=3 " "$LOG")
msg 6 100 | inject "a@remote.example" "$U@$D"
check "three messages is the count's limit: the fourth is deferred" \
	wait_for 20 sh -c "[ \$(grep -c 'over_quota mailbox=$U .* quota_messages=3 ' '$LOG') -gt $n0 ]"
# a torn maildirsize (a writer killed in its append): counted again
rm -f "$M"/new/* "$M"/.Lists/new/*
printf '12' >> "$M/maildirsize"
flush
check "a torn maildirsize is counted anew, and the waiting message arrives" arrives "$M" 6

# virtual mailboxes: @domain's 2 messages; big has none
for i in 7 8 9; do msg $i 10 | inject "a@remote.example" "small@$V"; done
check "... the third to small@$V over quota (@$V:2C)" wait_for 20 grep -q "over_quota mailbox=small@$V " "$LOG"
check "virtual: small holds its 2 ($(count_new "$VS"))" [ "$(count_new "$VS")" -eq 2 ]
check "... and its maildirsize is postern-vmail's" [ "$(stat -c %U "$VS/maildirsize")" = postern-vmail ]
for i in 10 11 12; do msg $i 10 | inject "a@remote.example" "big@$V"; done
check "big@$V:none: all three arrive" arrives "$VB" 12
check "... and no maildirsize is made" [ ! -e "$VB/maildirsize" ] && [ "$(count_new "$VB")" -eq 3 ]

# no control/quota: a maildirsize written by hand is the quota
rm -f "$PHOME/control/quota" "$VB"/new/* "$M"/new/*
printf '1C\n0 0\n' > "$VB/maildirsize" && chown postern-vmail "$VB/maildirsize" || bail "big's maildirsize"
msg 13 10 | inject "a@remote.example" "big@$V"
check "without control/quota, big's own maildirsize (1C) holds: one arrives" arrives "$VB" 13
# every Maildir's quota is asked before anything is delivered: a program
# line before a full Maildir does not run at each retry
RAN=$PHOME/vmail/$V/big/ran
printf '|/bin/touch %s\n./Maildir/\n' "$RAN" > "$PHOME/vmail/$V/big/.postern" &&
	chown postern-vmail "$PHOME/vmail/$V/big/.postern" || bail "big's .postern"
msg 14 10 | inject "a@remote.example" "big@$V"
check "... the next is over quota" wait_for 20 grep -q "over_quota mailbox=big@$V " "$LOG"
check "... and the program line before its Maildir did not run" [ ! -e "$RAN" ]
msg 15 10 | inject "a@remote.example" "$U@$D"
check "and the user, whose maildirsize says 102400S,3C, gets mail under it" arrives "$M" 15

# a malformed control/quota defers everything it would decide, and says which line
printf '%s:4000S\nnonsense\n' "$U" > "$PHOME/control/quota"
msg 16 10 | inject "a@remote.example" "$U@$D"
check "a malformed control/quota: deferred, 4.3.5 and the line" wait_for 20 grep -q "4.3.5 malformed control/quota: line 2" "$LOG"
echo ":none" > "$PHOME/control/quota"
flush
check "fixed (:none for all): it arrives" arrives "$M" 16

# control/quotawarn: past 50% of the quota, a warning into the mailbox,
# once a day
printf '%s:10KS\n' "$U" > "$PHOME/control/quota"
echo 50 > "$PHOME/control/quotawarn"
rm -f "$M"/new/* "$M"/cur/*
warnings() { grep -l '^Subject: Your mailbox is [0-9]*% full$' "$M"/new/* 2> /dev/null | wc -l; }
msg 17 6000 | inject "a@remote.example" "$U@$D"
check "a delivery past 50% of 10 KB arrives" arrives "$M" 17
check "... and a warning follows it into the mailbox" wait_for 10 sh -c "[ \$(grep -l '^Subject: Your mailbox is [0-9]*% full\$' '$M'/new/* 2> /dev/null | wc -l) -eq 1 ]"
W=$(grep -l '^Subject: Your mailbox is [0-9]*% full$' "$M"/new/* | head -1)
check "from MAILER-DAEMON@$D to the recipient, Auto-Submitted, saying the count and the quota" sh -c "
	grep -q '^From: Mail Delivery System <MAILER-DAEMON@$D>\$' '$W' && grep -q '^To: <$U@$D>\$' '$W' &&
	grep -q '^Auto-Submitted: auto-generated\$' '$W' && grep -q '^Return-Path: <>\$' '$W' &&
	grep -q 'its quota is 10240 bytes' '$W' && [ \$(stat -c %U '$W') = $U ]"
check "... logged as quota_warning" grep -q "quota_warning mailbox=$U maildir=./Maildir percent=[5-9][0-9] file=" "$LOG"
check "... the Maildir's quotawarn file made, and the warning counted in maildirsize" sh -c "
	[ -f '$M/quotawarn' ] && tail -n 1 '$M/maildirsize' | grep -qx \"\$(stat -c %s '$W') 1\""
msg 18 100 | inject "a@remote.example" "$U@$D"
arrives "$M" 18
check "the next delivery the same day: no second warning" [ "$(warnings)" -eq 1 ]
touch -d '2 days ago' "$M/quotawarn"
msg 19 100 | inject "a@remote.example" "$U@$D"
arrives "$M" 19
check "a day on: a second one" wait_for 10 sh -c "[ \$(grep -l '^Subject: Your mailbox is [0-9]*% full\$' '$M'/new/* | wc -l) -eq 2 ]"
check "no sanitizer report" sh -c "! grep -qE 'AddressSanitizer|runtime error' '$PHOME'/log/*/current"
done_testing
