#!/bin/sh
# postern-inject (and its sendmail and mailq names) feeding the build's real
# postern-queue in a scratch home: headers added when missing and kept when
# present, -t with Bcc removed, -f, -F, -i, -N -R -V (DSN), bad addresses, mailq.
. "$(dirname "$0")/lib.sh"
scratch_init

need_built postern-queue postern-inject postern-qstat
H=$SCRATCH/home
Q=$H/queue
mkdir -p "$H/bin" "$H/control" "$Q/tmp" "$Q/mess" "$Q/info" "$Q/lock" "$SCRATCH/in" || bail "mkdir"
chmod 755 "$H" "$H/bin" "$H/control"
chmod 750 "$Q" "$Q/lock" && chmod 2700 "$Q/tmp" "$Q/info" && chmod 2750 "$Q/mess" || bail "chmod"
for p in postern-queue postern-inject postern-qstat; do cp "$POSTERN_BUILD/bin/$p" "$H/bin/" || bail "cp"; done
ln -s postern-inject "$H/bin/sendmail" && ln -s postern-inject "$H/bin/mailq" || bail "ln"
echo mail.example.org > "$H/control/me"
echo example.org > "$H/control/defaultdomain"
export POSTERN_HOME=$H
SM=$H/bin/sendmail
IN=$SCRATCH/in
ME=$(id -un)

fresh() { rm -f "$Q"/mess/* "$Q"/info/*; }
nmess() { find "$Q/mess" -type f | wc -l; }
msg() { f=$(cd "$Q/mess" && ls | grep -v '\.env$' | head -n 1); tail -n +2 "$Q/mess/$f"; }
env_() { f=$(cd "$Q/mess" && ls | grep '\.env$' | head -n 1); tr '\0' '|' < "$Q/mess/$f"; }
hdr() { msg | sed '/^$/q' | grep -ci "^$1:"; }
body_() { msg | sed '1,/^$/d'; }
in_msg() { msg | grep -qiE "$1"; }               # ERE, any case
in_head() { msg | sed '/^$/q' | grep -qE "$1"; } # ERE, in the header section

# 1. missing headers are added
fresh
printf 'Subject: one\n\nbody\n' | "$SM" someone@example.net 2> "$SCRATCH/err"
check "sendmail exits 0 silently" test "$?" -eq 0 -a ! -s "$SCRATCH/err"
check "one message queued" test "$(nmess)" -eq 2
check "Date added" sh -c "[ \$(printf '%s' \"\$(cat)\" | grep -Ec '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]+ [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \\+0000\$') -eq 1 ]" << EOF2
$(msg)
EOF2
check "Message-ID added, random hex at control/me" sh -c "msg_=\"\$(cat)\"; printf '%s\n' \"\$msg_\" | grep -Eq '^Message-ID: <[0-9a-f]{32}@mail\\.example\\.org>\$'" << EOF2
$(msg)
EOF2
check "From added: the user at control/me" sh -c "msg_=\"\$(cat)\"; printf '%s\n' \"\$msg_\" | grep -Eq '^From: (\"[^\"]*\" )?<$ME@mail\\.example\\.org>\$'" << EOF2
$(msg)
EOF2
check "envelope: user's sender, the recipient" test "$(env_)" = "F$ME@mail.example.org|Tsomeone@example.net||"
check "body kept" test "$(msg | tail -n 1)" = body

# 2. present headers are kept, byte for byte
fresh
printf 'From: Me <me@example.com>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\nSubject: two\n\nbody\n' > "$IN/full"
"$SM" a@example.net < "$IN/full"
check "complete header kept byte-exact" sh -c "test \"\$(cat)\" = \"\$(cat '$IN/full')\"" << EOF2
$(msg)
EOF2
check "no second Date, Message-ID or From" test "$(hdr date)$(hdr message-id)$(hdr from)" = 111
fresh
printf 'fROM: me@example.com\nSubject: x\n\nb\n' | "$SM" a@example.net
check "header names match in any case" test "$(hdr from)" = 1

# 3. -t: recipients from To, Cc, Bcc; Bcc removed; arguments added
fresh
printf 'To: "Doe, J" <j@example.net>, bob\r\nCc: c@example.net (a comment)\r\nBcc: hidden@example.net,\r\n\tsecret@example.net\r\nSubject: t\r\n\r\nbody\r\n' | "$SM" -t extra@example.net
check "-t: exit 0" test "$?" -eq 0
check "-t: envelope from To, Cc, Bcc, args; unqualified qualified by defaultdomain" \
	test "$(env_)" = "F$ME@mail.example.org|Textra@example.net|Tj@example.net|Tbob@example.org|Tc@example.net|Thidden@example.net|Tsecret@example.net||"
check "-t: Bcc and its continuation removed" sh -c "! printf '%s\n' \"\$(cat)\" | grep -qiE '^bcc:|secret@'" << EOF2
$(msg)
EOF2
check "-t: To and Cc kept" test "$(hdr to)$(hdr cc)" = 11
check "CRLF became LF" sh -c "! printf '%s' \"\$(cat)\" | grep -q \"\$(printf '\\r')\"" << EOF2
$(msg)
EOF2
# Obsolete syntax (RFC 5322, 4.5.3): blanks between the name and the colon.
fresh
printf 'To: a@example.net\nBcc : s@example.net\nCc\t: c@example.net\nSubject: obs\n\nbody\n' | "$SM" -t
check "-t: 'Bcc :' and 'Cc<TAB>:' are fields: their addresses are recipients" \
	test "$?" -eq 0 -a "$(env_)" = "F$ME@mail.example.org|Ta@example.net|Ts@example.net|Tc@example.net||"
check "'Bcc :' removed, the fields after it still in the header" \
	eval "! in_msg 's@example' && in_head '^Subject: obs' && test \"\$(body_)\" = body"
fresh
printf 'Subject: obs\nBcc : s@example.net\nX-After: 1\n\nbody\n' | "$SM" a@example.net
check "without -t too, 'Bcc :' removed and the header goes on" eval "! in_msg 's@example' && in_head '^X-After: 1'"
fresh
printf 'Subject: obs\nFrom : me@example.com\nDate : Mon, 1 Jan 2024 00:00:00 +0000\n\nbody\n' | "$SM" a@example.net
check "after a field, 'From :' and 'Date :' count as present: none added" test "$(hdr from)$(hdr date)" = 00
# Text without a header often starts like old-syntax fields: it stays body.
fresh
printf 'Date : Friday, room 4\nFrom : the team\nSee you there\n' | "$SM" a@example.net
check "text starting 'Date : ...' with no header: all of it is body, Date and From added" \
	test "$(body_)" = "$(printf 'Date : Friday, room 4\nFrom : the team\nSee you there')" -a "$(hdr from)$(hdr date)" = 11
fresh
printf 'processor\t: 0\nvendor_id\t: GenuineIntel\n' | "$SM" a@example.net
check "'processor<TAB>: 0' (/proc/cpuinfo piped in): body, nothing lost" \
	test "$(body_)" = "$(printf 'processor\t: 0\nvendor_id\t: GenuineIntel')"
fresh
printf 'Bcc : s@example.net\nSubject: first\n\nbody\n' | "$SM" a@example.net
check "a first line 'Bcc : x' is still a Bcc field, removed" eval "! in_msg 's@example' && in_head '^Subject: first'"
fresh
printf 'Bcc x: s@example.net\nSubject: s\n\nbody\n' | "$SM" a@example.net
check "a blank inside a name is no field: the body starts there" test "$(body_ | head -n 1)" = "Bcc x: s@example.net"

# Resent- fields: Resent-Bcc removed like Bcc; with -t a message that has
# Resent- fields goes to Resent-To, -Cc, -Bcc only (RFC 5322, 3.6.6).
fresh
printf 'To: orig@example.net\nResent-From: me@example.com\nResent-To: r@example.net\nResent-Bcc: rb@example.net,\n rb2@example.net\nresent-bcc : rb3@example.net\nSubject: r\n\nbody\n' | "$SM" -t
check "-t with Resent- fields: recipients from Resent-To and Resent-Bcc, not To" \
	test "$?" -eq 0 -a "$(env_)" = "F$ME@mail.example.org|Tr@example.net|Trb@example.net|Trb2@example.net|Trb3@example.net||"
check "Resent-Bcc (and its continuation) removed; To and Resent-To kept" \
	eval "! in_msg '^resent-bcc|rb[0-9]*@' && in_head '^To: orig@' && in_head '^Resent-To: r@'"
fresh
printf 'Resent-Bcc: rb@example.net\nSubject: r\n\nbody\n' | "$SM" a@example.net
check "without -t, Resent-Bcc removed" eval "! in_msg 'rb@'"
fresh
printf 'To: orig@example.net\nResent-Date: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody\n' | "$SM" -t 2> "$SCRATCH/err"
check "-t, Resent- fields but no Resent- recipient: exit 100, the original To not used" \
	test "$?" -eq 100 -a "$(nmess)" -eq 0 -a -s "$SCRATCH/err"
fresh
printf 'Subject: nobody\n\nbody\n' | "$SM" -t 2> "$SCRATCH/err"
check "-t with no recipients: exit 100, nothing queued" test "$?" -eq 100 -a "$(nmess)" -eq 0 -a -s "$SCRATCH/err"
printf 'To: undisclosed-recipients:;\n\nbody\n' | "$SM" -t 2> /dev/null
check "-t with an empty group only: exit 100" test "$?" -eq 100 -a "$(nmess)" -eq 0

# 4. -f and -F
fresh
printf 'Subject: f\n\nbody\n' | "$SM" -f list-bounces@example.com -F 'List "Robot"' a@example.net
check "-f sets the envelope sender" test "$(env_)" = "Flist-bounces@example.com|Ta@example.net||"
check "-f and -F make the missing From" sh -c "printf '%s\n' \"\$(cat)\" | grep -qx 'From: \"List \\\\\"Robot\\\\\"\" <list-bounces@example.com>'" << EOF2
$(msg)
EOF2
fresh
printf 'Subject: f\n\nbody\n' | "$SM" -f '<>' a@example.net
check "-f '<>' is the null sender" test "$(env_)" = "F|Ta@example.net||"
fresh
printf 'Subject: f\n\nbody\n' | "$SM" -fme a@example.net
check "-fADDR in one word, qualified" test "$(env_)" = "Fme@mail.example.org|Ta@example.net||"

# 5. bad addresses: exit 100, a message, nothing queued
fresh
for a in 'a b@example.net' 'x@' '@example.net' 'x@exa_mple.net' "x@$(head -c 1200 /dev/zero | tr '\0' a).net"; do
	printf 'Subject: bad\n\nbody\n' | "$SM" "$a" 2> "$SCRATCH/err"
	rc=$?
	check "bad recipient refused: exit 100 ($(printf '%.30s' "$a"))" test "$rc" -eq 100 -a "$(nmess)" -eq 0 -a -s "$SCRATCH/err"
done
printf 'Subject: bad\n\nbody\n' | "$SM" -f 'bad sender' a@example.net 2> "$SCRATCH/err"
check "bad -f refused: exit 100" test "$?" -eq 100 -a "$(nmess)" -eq 0
printf 'To: ok@example.net, "x y"@ z@\n\nbody\n' | "$SM" -t 2> "$SCRATCH/err"
check "bad To address with -t refused: exit 100" test "$?" -eq 100 -a "$(nmess)" -eq 0
check "the message names the bad address" grep -q 'bad recipient address' "$SCRATCH/err"
printf 'To: shown@example.net\000hidden@example.net\n\nbody\n' | "$SM" -t 2> "$SCRATCH/err"
check "a NUL byte in To with -t: exit 100, nothing queued (it would add a recipient the header hides)" \
	test "$?" -eq 100 -a "$(nmess)" -eq 0 -a -s "$SCRATCH/err"

# 6. -i / -oi: a lone dot
fresh
printf 'Subject: dot\n\nline1\n.\nline2\n' | "$SM" a@example.net
check "without -i a lone '.' ends the message" test "$(msg | tail -n 1)" = line1
fresh
printf 'Subject: dot\n\nline1\n.\nline2\n' | "$SM" -i a@example.net
check "-i: the lone '.' is kept" test "$(msg | tail -n 2 | tr '\n' ' ')" = ". line2 "
fresh
printf 'Subject: dot\n\nline1\n.\r\nline2\n' | "$SM" -oi a@example.net
check "-oi: same as -i" test "$(msg | tail -n 2 | tr '\n' ' ')" = ". line2 "
fresh
printf 'Subject: dot\n\n..two\n' | "$SM" a@example.net
check "no dot unstuffing" test "$(msg | tail -n 1)" = "..two"
# A body line of exactly 64 KB, then ".": line.c hands it over in two
# chunks, and the ".\n" tail is not a line of its own.
for end in LF CRLF; do
	nl='\n'
	[ "$end" = LF ] || nl='\r\n'
	fresh
	{ printf 'Subject: dot\n\n'; head -c 65536 /dev/zero | tr '\0' A; printf ".${nl}after$nl.${nl}ignored$nl"; } |
		"$SM" a@example.net
	check "a '.' ending a 64 KB line ($end) does not end the message" \
		test "$?" -eq 0 -a "$(msg | sed '1,/^$/d' | head -n 1 | wc -c)" -eq 65538 -a "$(msg | tail -n 1)" = after
done
fresh
{ printf 'Subject: dot\n\n'; head -c 131072 /dev/zero | tr '\0' A; printf '.\nafter\n'; } | "$SM" a@example.net
check "a '.' ending a 128 KB line (two whole chunks before it) does not end the message" \
	test "$(msg | tail -n 1)" = after
fresh
{ printf 'Subject: dot\n\n'; head -c 65536 /dev/zero | tr '\0' A; printf '\n.\nignored\n'; } | "$SM" a@example.net
check "a lone '.' right after a 64 KB line still ends the message" \
	test "$(msg | tail -n 1 | wc -c)" -eq 65537

# 7. header edge cases and limits
fresh
printf 'just a body line\nmore\n' | "$SM" a@example.net
check "no header section: headers added, blank line, body" sh -c "test \"\$(cat)\" = \"\$(printf 'just a body line\nmore')\"" << EOF2
$(msg | sed '1,/^$/d')
EOF2
fresh
{ printf 'Subject: '; head -c 70000 /dev/zero | tr '\0' x; printf '\n\nbody\n'; } | "$SM" a@example.net 2> /dev/null
check "header line over 64 KB: exit 100" test "$?" -eq 100 -a "$(nmess)" -eq 0
fresh
{ head -c 70000 /dev/zero | tr '\0' x; printf '\nSubject: not a header\n'; } | "$SM" a@example.net
check "no header, first line over 64 KB: it is body, passed whole" \
	test "$?" -eq 0 -a "$(msg | sed '1,/^$/d' | head -n 1 | wc -c)" -eq 70001 -a "$(msg | tail -n 1)" = "Subject: not a header"
fresh
{ printf 'Subject: s\n'; head -c 70000 /dev/zero | tr '\0' x; printf ': x\n\nbody\n'; } | "$SM" a@example.net
check "a 70 KB line with no colon in its first 64 KB ends the header too" \
	test "$?" -eq 0 -a "$(msg | sed '1,/^$/d' | head -n 1 | wc -c)" -eq 70004 -a "$(hdr subject)" = 1
fresh
{ printf 'Subject: s\n '; head -c 70000 /dev/zero | tr '\0' x; printf '\n\nbody\n'; } | "$SM" a@example.net 2> /dev/null
check "a continuation line over 64 KB: exit 100" test "$?" -eq 100 -a "$(nmess)" -eq 0
{ i=0; while [ $i -lt 10001 ]; do echo "X-H: $i"; i=$((i + 1)); done; printf '\nbody\n'; } | "$SM" a@example.net 2> /dev/null
check "more than 10000 header lines: exit 100" test "$?" -eq 100 -a "$(nmess)" -eq 0
{ printf 'Subject: long body line\n\n'; head -c 200000 /dev/zero | tr '\0' y; printf '\r\nend\r\n'; } | "$SM" a@example.net
check "200 KB body line passes whole, CRLF converted" test "$(msg | sed '1,/^$/d' | head -n 1 | wc -c)" -eq 200001 -a "$(msg | tail -n 1)" = end

fresh
{ printf 'Subject: boundary\n\n'; head -c 65535 /dev/zero | tr '\0' y; printf '\r\nend\r\n'; } | "$SM" a@example.net
check "CRLF split across a 64 KB chunk boundary still becomes LF" test "$(msg | sed '1,/^$/d' | head -n 1 | tr -d y | od -An -c | tr -d ' ')" = '\n'
fresh
{ printf 'Subject: boundary\n\n'; head -c 65535 /dev/zero | tr '\0' y; printf '\rz\nend\n'; } | "$SM" a@example.net
check "a bare CR at a chunk boundary is kept" test "$(msg | sed '1,/^$/d' | head -n 1 | tr -d y | od -An -c | tr -d ' ')" = '\rz\n'

# 7b. Authentication-Results naming this host (control/me): a local user
# must not be able to speak for the host to other local users' readers
fresh
printf 'Authentication-Results: MAIL.example.org; dkim=pass header.d=bank.example\nAuthentication-Results:\n (c) mail.example.org.; spf=pass\nAuthentication-Results: other.example; dkim=pass\nSubject: ar\n\nbody\n' |
	"$SM" a@example.net
check "forged Authentication-Results naming control/me dropped (any case, folded, the root's dot), another host's kept" \
	sh -c "[ \$(printf '%s' \"\$(cat)\" | grep -c '^Authentication-Results:') -eq 1 ] && ! printf '%s' \"\$(cat)\" | grep -qi 'bank.example'" << EOF2
$(msg | sed '/^$/q')
EOF2
check "... the kept one is other.example's" in_head '^Authentication-Results: other\.example; dkim=pass$'

# 8. options
printf 'x\n' | "$SM" -Z a@example.net 2> "$SCRATCH/err"
check "unknown option: exit 100" test "$?" -eq 100 -a -s "$SCRATCH/err"
printf 'x\n' | "$SM" -bx a@example.net 2> /dev/null
check "unknown mode -bx: exit 100" test "$?" -eq 100
fresh
printf 'Subject: o\n\nb\n' | "$SM" -oem -odb -v -Am -B 8BITMIME -i a@example.net
check "habitual options accepted and ignored" test "$?" -eq 0 -a "$(nmess)" -eq 2 -a "$(env_)" = "F$ME@mail.example.org|Ta@example.net||"

# 8b. DSN (doc/dsn.md): -N, -R, -V become the envelope's N, R and E records
fresh
printf 'Subject: d\n\nb\n' | "$SM" -N delay,Success -R full -V "my id+1=2 $(printf '\303\251')" a@example.net b@example.net
check "-N -R -V: exit 0, R and E (xtext) after F, N (canonical) before every T" \
	test "$?" -eq 0 -a "$(env_)" = "F$ME@mail.example.org|RFULL|Emy+20id+2B1+3D2+20+C3+A9|NSUCCESS,DELAY|Ta@example.net|NSUCCESS,DELAY|Tb@example.net||"
fresh
printf 'To: c@example.net\nSubject: d\n\nb\n' | "$SM" -t -Nnever -RHDRS a@example.net
check "-Nnever -RHDRS (attached, any case) with -t: NEVER on the header's recipients too, no E" \
	test "$?" -eq 0 -a "$(env_)" = "F$ME@mail.example.org|RHDRS|NNEVER|Ta@example.net|NNEVER|Tc@example.net||"
fresh
printf 'Subject: d\n\nb\n' | "$SM" -N FAILURE,delay,success a@example.net
check "-N alone: every word, in the canonical order; no R or E" \
	test "$?" -eq 0 -a "$(env_)" = "F$ME@mail.example.org|NSUCCESS,FAILURE,DELAY|Ta@example.net||"
fresh
v100=$(printf '%0100d' 0)
printf 'Subject: d\n\nb\n' | "$SM" -V "$v100" a@example.net
check "-V of 100 bytes: exit 0, E alone" test "$?" -eq 0 -a "$(env_)" = "F$ME@mail.example.org|E$v100|Ta@example.net||"
fresh
for bad in "-N never,success" "-N success,success" "-N" "-N ''" "-N sometimes" "-R body" "-R ''" "-V ''" \
	"-V ${v100}1" "-V '$(printf '%034d' 0 | tr 0 ' ')'"; do
	eval "printf 'Subject: d\n\nb\n' | \"\$SM\" $bad a@example.net" > /dev/null 2> "$SCRATCH/err"
	rc=$?
	check "bad DSN option ($(printf '%.20s' "$bad")): exit 100, says why, nothing queued" \
		test "$rc" -eq 100 -a "$(nmess)" -eq 0 -a -s "$SCRATCH/err"
done
printf 'x\n' | "$SM" -V "${v100}1" a@example.net 2> "$SCRATCH/err"
check "-V over 100 bytes: the message says so" grep -q 'fatal: -V is longer than 100 bytes written as xtext' "$SCRATCH/err"
printf 'x\n' | "$SM" -N never,delay a@example.net 2> "$SCRATCH/err"
check "-N never,delay: the message says what -N takes" grep -q 'fatal: -N takes never, or success, failure and delay' "$SCRATCH/err"
"$SM" -bs < /dev/null 2> "$SCRATCH/err"
rc=$?
if [ -x "$H/bin/postern-smtpd" ]; then ok "-bs (postern-smtpd present)"; else
	check "-bs without postern-smtpd: exit 111 with a message" test "$rc" -eq 111 -a -s "$SCRATCH/err"; fi

# 9. postern-queue's refusals are mapped
fresh
chmod 770 "$Q"
printf 'Subject: q\n\nb\n' | "$SM" a@example.net 2> "$SCRATCH/err"
rc=$?
chmod 750 "$Q"
check "queue problem: exit 111 and says so" test "$rc" -eq 111 -a "$(nmess)" -eq 0
check "queue problem message names postern-queue" grep -q 'postern-queue refused the message: problem with the queue directory' "$SCRATCH/err"

# 10. mailq / -bp / postern-qstat
fresh
printf 'Subject: q\n\nb\n' | "$SM" a@example.net b@example.net
id=$(cd "$Q/mess" && ls | grep -v '\.env$')
printf 'K 0\nZ 1 3 2000000000 connection refused\n' > "$Q/info/$id"
"$H/bin/mailq" > "$SCRATCH/mailq" 2>&1
check "mailq: exit 0" test "$?" -eq 0
check "mailq: lists the id and sender" grep -q "^$id .* bytes\$" "$SCRATCH/mailq"
check "mailq: a delivered recipient" grep -qx '  to <a@example.net> delivered' "$SCRATCH/mailq"
check "mailq: a deferred one with its reason" grep -q '^  to <b@example.net> pending, 3 tries, next .*: connection refused$' "$SCRATCH/mailq"
check "mailq: the count" grep -qx '1 message in the queue' "$SCRATCH/mailq"
# what a client asked of DSN is shown where it asked it, and only there
fresh
printf 'Subject: q\n\nb\n' | "$SM" -N never -R hdrs -V 'id 7' a@example.net
"$H/bin/mailq" > "$SCRATCH/mailq" 2>&1
check "mailq: DSN's RET and ENVID after the sender" grep -q '^  from <.*> (ret HDRS, envid id+207)$' "$SCRATCH/mailq"
check "mailq: NOTIFY after the recipient" grep -qx '  to <a@example.net> pending (notify NEVER)' "$SCRATCH/mailq"
"$SM" -bp > "$SCRATCH/bp" 2>&1
check "sendmail -bp is mailq" cmp -s "$SCRATCH/mailq" "$SCRATCH/bp"
setpriv --reuid=65534 --regid=65534 --clear-groups "$H/bin/mailq" > /dev/null 2> "$SCRATCH/err"
check "mailq as a user outside group postern: exit 111" test "$?" -eq 111
check "... saying it cannot read the queue" grep -q 'cannot read the queue' "$SCRATCH/err"

done_testing
