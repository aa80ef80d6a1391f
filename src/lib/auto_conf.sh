#!/bin/sh
# Writes auto_conf.c from conf-home, conf-users and conf-groups (run by make).
set -eu
nusers=14; ngroups=2
q() { printf '"%s"' "$1"; }
check() { # name: only [a-z0-9_-], as useradd wants
	case "$1" in ''|*[!a-z0-9_-]*) echo "auto_conf.sh: bad name '$1' in $2" >&2; exit 1;; esac
}
# Each role its own user, each group its own name: a user named twice
# (postern-submit = postern-smtpd) would give port 25's postern-smtpd
# postern-auth's checks; a group named twice (postern = postern-nofiles)
# would let it read the queue.  ./install refuses the same.
seen=' '
distinct() { # name file
	case "$seen" in *" $1 "*) echo "auto_conf.sh: $2: '$1' is named twice; every role needs a name of its own" >&2; exit 1;; esac
	seen="$seen$1 "
}
home=$(head -n 1 conf-home)
case "$home" in /*) ;; *) echo "auto_conf.sh: conf-home must be absolute" >&2; exit 1;; esac
case "$home" in *'"'*|*'\'*) echo "auto_conf.sh: bad conf-home" >&2; exit 1;; esac
echo '#include "conf.h"'
echo "const char *const conf_home = $(q "$home");"
printf 'const char *const conf_users[USER_COUNT] = {'
n=0
for u in $(grep -v '^#' conf-users | head -n $nusers); do check "$u" conf-users; distinct "$u" conf-users; [ $n -gt 0 ] && printf ','; q "$u"; n=$((n+1)); done
[ $n -eq $nusers ] || { echo "auto_conf.sh: conf-users needs $nusers names" >&2; exit 1; }
echo '};'
printf 'const char *const conf_groups[GROUP_COUNT] = {'
n=0; seen=' '
for g in $(grep -v '^#' conf-groups | head -n $ngroups); do check "$g" conf-groups; distinct "$g" conf-groups; [ $n -gt 0 ] && printf ','; q "$g"; n=$((n+1)); done
[ $n -eq $ngroups ] || { echo "auto_conf.sh: conf-groups needs $ngroups names" >&2; exit 1; }
echo '};'
