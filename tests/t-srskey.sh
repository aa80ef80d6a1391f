#!/bin/sh
# postern-srskey and the SRS key's place in the install (doc/srs.md):
# ./install makes secret/srs/key once, postern-srs's alone (0600),
# and keeps it at the next install; `new` puts a new key first and keeps
# the old ones after it (at most 8), `drop` keeps the first alone; a
# malformed file is left for a person; the keys are never printed.
. "$(dirname "$0")/lib.sh"
scratch_init
need_built postern-srskey
install_home || bail "install"
K=$PHOME/secret/srs/key
SK=$PHOME/bin/postern-srskey
O=$(grep -v '^#' "$POSTERN_SRC/conf-users" | sed -n 14p):$(grep -v '^#' "$POSTERN_SRC/conf-groups" | sed -n 2p)

keys() { grep -v '^#' "$K"; }
nkeys() { keys | wc -l; }
wellformed() { [ "$(keys | grep -cvx '[0-9a-f]\{32\}')" -eq 0 ] && [ "$(nkeys)" -ge 1 ]; }

check "./install made secret/srs, $O's, 0700" \
	test "$(stat -c '%U:%G %a' "$PHOME/secret/srs")" = "$O 700"
check "... and the key in it, $O's, 0600" test "$(stat -c '%U:%G %a' "$K")" = "$O 600"
check "one key of 32 hex digits, after a comment" sh -c '[ "$(grep -cvx "[0-9a-f]\{32\}" "$1")" -eq 1 ] && head -n 1 "$1" | grep -q "^#" && [ "$(grep -cx "[0-9a-f]\{32\}" "$1")" -eq 1 ]' - "$K"
check "control/srsdomain is installed commented out (SRS off)" \
	sh -c '[ -f "$1" ] && ! grep -v "^#" "$1" | grep -q .' - "$PHOME/control/srsdomain"
first=$(keys)

"$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD" > "$SCRATCH/install2.log" 2>&1
check "a second install succeeds" test "$?" -eq 0
check "... and keeps the key" test "$(keys)" = "$first"
"$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD" --check > "$SCRATCH/check.log" 2>&1
check "./install --check finds nothing wrong" test "$?" -eq 0

out=$("$SK" 2>&1)
check "postern-srskey with a key file: kept, exit 0" sh -c '[ "$1" -eq 0 ] && printf "%s\n" "$2" | grep -q "kept .*keys=1"' - "$?" "$out"
check "... and the key unchanged" test "$(keys)" = "$first"
check "it never prints a key" sh -c '! printf "%s\n" "$1" | grep -q "$2"' - "$out" "$first"

chmod 0640 "$K" && chown root:root "$K"
out=$("$SK" 2>&1)
check "a key file left as an older postern had it (root's, 0640): mended, kept" \
	sh -c '[ "$1" -eq 0 ] && printf "%s\n" "$2" | grep -q "kept .*mended=" && [ "$(stat -c "%U:%G %a" "$3")" = "$4 600" ]' - "$?" "$out" "$K" "$O"
check "... and the key unchanged" test "$(keys)" = "$first"
out=$("$SK" new 2>&1)
check "new: exit 0, two keys" sh -c '[ "$1" -eq 0 ] && printf "%s\n" "$2" | grep -q "new .*keys=2"' - "$?" "$out"
keys > "$SCRATCH/k"
check "... the old key second, a new one first" \
	sh -c '[ "$(sed -n 2p "$1")" = "$2" ] && [ "$(sed -n 1p "$1")" != "$2" ]' - "$SCRATCH/k" "$first"
check "... still $O's, 0600, and well formed" \
	sh -c '[ "$(stat -c "%U:%G %a" "$1")" = "$2 600" ]' - "$K" "$O"
check "... no temporary file left" test ! -e "$K.tmp"
wellformed
check "... every line well formed" test "$?" -eq 0

i=0
while [ $i -lt 8 ]; do "$SK" new 2> /dev/null || break; i=$((i + 1)); done
check "eight more: the file holds 8 keys, the first one gone" \
	sh -c '[ "$(grep -cx "[0-9a-f]\{32\}" "$1")" -eq 8 ] && ! grep -qx "$2" "$1"' - "$K" "$first"
check "every key differs" test "$(keys | sort -u | wc -l)" -eq 8
top=$(keys | head -n 1)
out=$("$SK" drop 2>&1)
check "drop: exit 0, 7 forgotten" sh -c '[ "$1" -eq 0 ] && printf "%s\n" "$2" | grep -q "dropped .*keys=1 forgotten=7"' - "$?" "$out"
check "... the first key alone is left" test "$(keys)" = "$top"

printf 'not a key\n' > "$K"
out=$("$SK" new 2>&1)
check "a malformed file: exit 111, named" sh -c '[ "$1" -eq 111 ] && printf "%s\n" "$2" | grep -q "malformed"' - "$?" "$out"
check "... and left as it is" test "$(cat "$K")" = "not a key"
rm -f "$K"
out=$("$SK" drop 2>&1)
check "drop without a key file: exit 111" sh -c '[ "$1" -eq 111 ] && printf "%s\n" "$2" | grep -q "does not exist"' - "$?" "$out"
"$SK" 2> /dev/null
check "postern-srskey without a key file makes one" sh -c '[ "$?" -eq 0 ] && [ -f "$1" ]' - "$K"
wellformed
check "... well formed" test "$?" -eq 0
out=$("$SK" bogus 2>&1)
check "a bad argument: exit 100, usage" sh -c '[ "$1" -eq 100 ] && printf "%s\n" "$2" | grep -q "usage"' - "$?" "$out"
check "postern-srskey is root's alone (0700)" test "$(stat -c '%U %a' "$SK")" = "root 700"
check "nobody may read the key" sh -c '! s6-setuidgid nobody cat "$1" > /dev/null 2>&1' - "$K"

# secret/srs/ is postern-srs's: what it puts at key must not have root
# read, chown or wait on anything (postern-srskey works as postern-srs,
# and as root touches only a regular file root owns with one link)
mv "$K" "$SCRATCH/key.saved" || bail "mv the key aside"
printf '%s\n' 00112233445566778899aabbccddeeff > "$SCRATCH/rootfile" && chmod 0600 "$SCRATCH/rootfile"
ln "$SCRATCH/rootfile" "$K" 2> /dev/null || cp "$SCRATCH/rootfile" "$K"
if [ "$(stat -c %h "$K")" -eq 2 ]; then
	out=$("$SK" 2>&1)
	check "a hard link to one of root's files at key: refused, left as it is" \
		sh -c '[ "$1" -eq 111 ] && printf "%s\n" "$2" | grep -q "another link"' - "$?" "$out"
	check "  root's file still root's, 0600" test "$(stat -c '%U %a' "$SCRATCH/rootfile")" = "root 600"
else
	ok "a hard link to one of root's files: skipped (not one file system)"
	ok "  skipped"
fi
rm -f "$K"
ln -s "$SCRATCH/rootfile" "$K"
out=$("$SK" new 2>&1)
check "a symlink at key to a file of root's keys: refused (exit $?)" sh -c '[ "$1" -eq 111 ]' - "$?"
check "  its keys not taken into a key file" sh -c '! [ -f "$1" ] || [ -L "$1" ]' - "$K"
check "  root's file untouched" test "$(stat -c '%U %a' "$SCRATCH/rootfile")" = "root 600"
rm -f "$K"
mkfifo "$K" && chown postern-srs "$K"
out=$(timeout 20 "$SK" 2>&1)
check "a FIFO at key: refused at once, not waited on (exit $?)" sh -c '[ "$1" -eq 111 ] && printf "%s\n" "$2" | grep -q "not a regular file"' - "$?" "$out"
rm -f "$K"
mv "$SCRATCH/key.saved" "$K" || bail "the key back"
s6-setuidgid postern-srs flock "$(dirname "$K")" sleep 20 &
LOCKER=$!
on_cleanup "kill $LOCKER 2> /dev/null"
sleep 1
t0=$(date +%s)
out=$("$SK" new 2>&1)
rc=$?
check "secret/srs/ held locked: postern-srskey gives up after 10 s, exit 111 ($rc, $(($(date +%s) - t0)) s)" \
	sh -c '[ "$1" -eq 111 ] && printf "%s\n" "$2" | grep -q "stayed locked"' - "$rc" "$out"
kill "$LOCKER" 2> /dev/null
done_testing
