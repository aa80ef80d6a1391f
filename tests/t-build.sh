#!/bin/sh
# The built programs, as files: every one a PIE with full RELRO, a
# non-executable stack and the stack protector; none linked with libsodium
# but the two that hash passwords (postern-auth, postern-passwd) and the two
# that hold or make DKIM's Ed25519 keys (postern-dkim, postern-dkimkey), and the
# one that checks Ed25519 signatures (postern-dkimverify, static: glibc's); and,
# unless conf-musl says none, postern-smtpd, postern-queue, postern-local,
# postern-listen, postern-popup and postern-pop3d static and free of glibc (doc/performance.md, step 5;
# SECURITY names what musl costs).  Reads only $POSTERN_BUILD/bin.
. "$(dirname "$0")/lib.sh"

command -v readelf > /dev/null 2>&1 || bail "readelf is not installed (binutils)"
B=$POSTERN_BUILD/bin
[ -x "$B/postern-smtpd" ] || bail "no $B/postern-smtpd: build first (make all)"
MUSL=$(sed -n 1p "$POSTERN_SRC/conf-musl")

for f in "$B"/*; do
	p=$(basename "$f")
	[ -L "$f" ] && continue
	check "$p: a position-independent executable" sh -c "readelf -hW '$f' | grep -q 'Type:.*DYN'"
	check "$p: full RELRO (GNU_RELRO and BIND_NOW)" sh -c \
		"readelf -lW '$f' | grep -q GNU_RELRO && readelf -dW '$f' | grep -Eq 'BIND_NOW|FLAGS.*NOW'"
	check "$p: the stack is not executable" sh -c "readelf -lW '$f' | grep GNU_STACK | grep -qv RWE"
	check "$p: built with the stack protector" sh -c "readelf -sW '$f' | grep -q __stack_chk_fail"
	case $p in
	postern-auth|postern-passwd)
		check "$p: linked with libsodium (argon2id)" sh -c "readelf -dW '$f' | grep -q 'NEEDED.*libsodium'" ;;
	postern-dkim|postern-dkimkey)
		check "$p: linked with libsodium (Ed25519)" sh -c "readelf -dW '$f' | grep -q 'NEEDED.*libsodium'" ;;
	postern-dkimverify)
		check "$p: static, libsodium's Ed25519 inside" sh -c "! readelf -lW '$f' | grep -q INTERP &&
			! readelf -dW '$f' | grep -q NEEDED && readelf -sW '$f' | grep -q crypto_sign_ed25519_verify_detached" ;;
	*) check "$p: libsodium is not linked" sh -c "! readelf -dW '$f' | grep -q 'NEEDED.*libsodium'" ;;
	esac
done

for p in postern-smtpd postern-queue postern-local postern-listen postern-popup postern-pop3d; do
	f=$B/$p
	check "$p: static (no program interpreter, no shared library)" sh -c \
		"! readelf -lW '$f' | grep -q INTERP && ! readelf -dW '$f' | grep -q NEEDED"
	if [ "$MUSL" = none ]; then
		diag "$p: conf-musl says none, so glibc is expected"
	else
		check "$p: linked with musl, not glibc (no GLIBC_ strings)" sh -c "! grep -aq 'GLIBC_' '$f'"
	fi
done

# every program has its man page (the standard of README)
for d in src/postern-*; do
	p=${d#src/}
	check "$p: has a man page" [ -f "doc/$p.8" ]
done
done_testing
