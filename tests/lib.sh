# Shared helpers for postern's integration tests: `. "$POSTERN_SRC/tests/lib.sh"`
# (or `. "$(dirname "$0")/lib.sh"`).  POSIX sh.  Tests run as root, install
# into a scratch directory, and only ever stop processes they started, by pid.
#
#   scratch_init              SCRATCH=/tmp/postern-test.XXXXXX (0755); cleanup on exit
#   spread DIR                the benchmarks: DIR's subdirectories in block groups of their own
#   install_home              ./install --home $SCRATCH/home --build $POSTERN_BUILD; PHOME=...
#   outbound_tls_home         install_home for postern-remote's TLS tests: no postern-send or
#                             postern-smtpd service, me client.test, short timeouts, and
#                             $POSTERN_REMOTE_BUILD's postern-remote when that is set
#   svscan_start              s6-svscan on $PHOME/service in the background (SVSCAN_PID)
#   svc_wait_up NAME [SECS]   until service NAME is up (and ready, if it notifies)
#   svscan_stop               s6-svscanctl -t, then wait for that pid; after 30 s, kill -9
#                             every process left running inside $SCRATCH (by pid)
#   make_user NAME            a real Unix user "pt..." with a home and ~/Maildir under $SCRATCH
#   maildir_make DIR [OWNER]  DIR/tmp, DIR/new, DIR/cur, 0700
#   wait_files DIR N [SECS]   until DIR holds at least N files (0 ok, 1 timeout)
#   ok DESC / not_ok DESC     one TAP line each; check DESC CMD... runs CMD
#                             (check DESC quietly CMD... hides CMD's output)
#   diag TEXT                 "# TEXT"
#   done_testing              prints the totals as a comment; exits 1 if anything failed
#   on_cleanup 'CMD'          run CMD at exit too (before the scratch dir goes)
#   tree_procs [NAME]         "PID NAME PPID" of processes below $SVSCAN_PID (all, or NAME's)
#   wait_for SECONDS CMD...   poll until CMD succeeds
#   unbound_conf DIR IP ACL RECORD...  DIR/unbound.conf: a test DNS on IP:53 for
#                             clients in ACL, answering for test. with the
#                             RECORDs ("name. A 10.0.0.1") and nothing else
#   inject SENDER RCPT...     message on stdin straight into $PHOME/bin/postern-queue
#   stop_start                end the postern-start a test ran by hand ($START_PID),
#                             within 30 s or fail; its status in STOP_RC
#   catches_term PID NAME     PID has exec'd NAME, and NAME has its SIGTERM handler

: "${POSTERN_SRC:=$(cd "$(dirname "$0")/.." && pwd -P)}"
: "${POSTERN_BUILD:=$POSTERN_SRC/build}"
case $POSTERN_BUILD in /*) ;; *) POSTERN_BUILD=$POSTERN_SRC/$POSTERN_BUILD ;; esac
export POSTERN_SRC POSTERN_BUILD

T_N=0
T_FAILED=0
SCRATCH=
PHOME=
SVSCAN_PID=
T_USERS=
T_CLEANUP=

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
quietly() { "$@" > /dev/null 2>&1; } # check "..." quietly CMD: CMD's output hidden
check() { # check DESC CMD...: ok if CMD exits 0
	t_desc=$1; shift
	if "$@"; then ok "$t_desc"; else not_ok "$t_desc"; fi
}
done_testing() {
	echo "# $T_N tests, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ] || exit 1
	[ "$T_N" -gt 0 ] || { echo "not ok - no tests ran"; exit 1; }
	exit 0
}
bail() { not_ok "$*"; done_testing; }
# A sanitizer build (make asan) links its programs against libasan.
sanitized_build() { ldd "$POSTERN_BUILD/bin/postern-local" 2> /dev/null | grep -q libasan; }
# USER PID [mem]: PID is running, and USER cannot read its /proc environ
# (nor, with "mem", its memory): it is undumpable (ptrace's read mode).
sealed_from() {
	[ -n "$2" ] && [ -d "/proc/$2" ] && ! s6-setuidgid "$1" cat "/proc/$2/environ" > /dev/null 2>&1 &&
		{ [ "${3:-}" != mem ] || ! s6-setuidgid "$1" head -c 1 "/proc/$2/mem" > /dev/null 2>&1; }
}
# USER: USER can read the environ of an ordinary process of its own, so
# that sealed_from tests the flag and not something else
reads_own() { s6-setuidgid "$1" sh -c 'sleep 2 & cat "/proc/$!/environ"' > /dev/null 2>&1; }

on_cleanup() { T_CLEANUP="$T_CLEANUP
$1"; }

# netns_pair TAG NET CLIENT NAMESERVER SERVER...: two network namespaces of
# this test on a veth pair, gone at cleanup: NC, where the program under
# test runs, at NET.CLIENT, its /etc/netns resolv.conf naming NAMESERVER;
# NS, the servers', at NET.SERVER for each SERVER (all /24).  Sets NC, NS,
# VA and VB (the veth ends in NC and NS, for addresses of other kinds).
# ncrun/nsrun run a command in NC/NS; ncbg/nsbg the same in the background,
# with $! the command itself (ip netns exec execs it), so that the cleanup
# can kill it by pid, where `nsrun ... &` would give a subshell's.
netns_pair() {
	np_net=$2 np_client=$3 np_ns=$4
	NC=${1}c$$ NS=${1}s$$ VA=${1}a$$ VB=${1}b$$
	shift 4
	ip netns add "$NC" || bail "ip netns add (network namespaces unavailable here)"
	on_cleanup 'ip netns del $NC 2>/dev/null; ip netns del $NS 2>/dev/null; rm -rf /etc/netns/$NC'
	ip netns add "$NS" || bail "ip netns add"
	ip link add "$VA" type veth peer name "$VB" || bail "veth pair"
	ip link set "$VA" netns "$NC" && ip link set "$VB" netns "$NS" || bail "veth into namespaces"
	ip -n "$NC" addr add "$np_net.$np_client/24" dev "$VA" || bail "address $np_net.$np_client"
	for np_a in "$@"; do
		ip -n "$NS" addr add "$np_net.$np_a/24" dev "$VB" || bail "address $np_net.$np_a"
	done
	for np_n in "$NC" "$NS"; do ip -n "$np_n" link set lo up; done
	ip -n "$NC" link set "$VA" up && ip -n "$NS" link set "$VB" up || bail "links up"
	mkdir -p "/etc/netns/$NC" &&
		printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$np_ns" > "/etc/netns/$NC/resolv.conf" ||
		bail "/etc/netns/$NC/resolv.conf"
}
ncrun() { ip netns exec "$NC" "$@"; }
nsrun() { ip netns exec "$NS" "$@"; }
ncbg() { ip netns exec "$NC" "$@" & }
nsbg() { ip netns exec "$NS" "$@" & }

t_cleanup() {
	t_rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$T_CLEANUP" ] && eval "$T_CLEANUP"
	svscan_stop
	for u in $T_USERS; do userdel "$u" 2> /dev/null; done
	if [ -n "$SCRATCH" ] && [ -d "$SCRATCH" ]; then
		if [ -n "${POSTERN_KEEP:-}" ]; then
			echo "# kept $SCRATCH (POSTERN_KEEP)"
		else
			rm -rf -- "$SCRATCH"
		fi
	fi
	exit "$t_rc"
}

scratch_init() {
	SCRATCH=$(mktemp -d /tmp/postern-test.XXXXXX) || { echo "not ok - mktemp"; exit 1; }
	chmod 755 "$SCRATCH"
	trap t_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

# Each server's directories in block groups of their own: on ext4 without a
# journal, making a file scans past every inode freed in its group in the
# last minutes, so one server's deletions (Postfix's queue files, a
# previous round's sink files) would be charged to the next server's new
# files (doc/performance.md, "Inode allocation").  The subdirectories of a
# TOPDIR directory are spread over the disk.  BENCH_SPREAD=0: all in one
# place, as before 2026-11-29.
spread() { # DIR
	[ "${BENCH_SPREAD:-1}" = 0 ] && return 0
	chattr +T "$1" 2> /dev/null || diag "chattr +T $1: not ext2/3/4; the servers' files may share block groups"
}

need_built() { # PROGRAM...: the test bails unless each is built
	for t_p; do
		[ -x "$POSTERN_BUILD/bin/$t_p" ] || bail "no $POSTERN_BUILD/bin/$t_p: build first (make all)"
	done
}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# smtp_home DOMAIN: the installed home's port-25 service on a free port
# (PORT) of 127.0.0.1 alone, for DOMAIN (control/me and control/locals)
smtp_home() {
	PORT=$(free_port)
	printf '%s\n' "$1" > "$PHOME/control/me" && printf '%s\n' "$1" > "$PHOME/control/locals" &&
		printf '127.0.0.1\n' > "$PHOME/control/smtpip" && printf 'none\n' > "$PHOME/control/smtpip6" &&
		printf '%s\n' "$PORT" > "$PHOME/control/smtpport" || bail "smtp_home: control files"
}

install_home() { # [extra ./install arguments]
	PHOME=$SCRATCH/home
	"$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD" "$@" > "$SCRATCH/install.log" 2>&1
	t_rc=$?
	[ "$t_rc" -eq 0 ] || { diag "./install failed:"; diag "$(cat "$SCRATCH/install.log")"; }
	# The POP3 and mail submission listeners would bind this machine's
	# ports 110, 995, 587 and 465 (on 127.0.0.1 and ::1): a test that
	# wants one sets its port and removes the down file.
	[ "$t_rc" -ne 0 ] || for t_s in pop3 pop3s submission smtps; do
		touch "$PHOME/service/postern-$t_s/down"
	done
	return "$t_rc"
}

outbound_tls_home() {
	install_home || return 1
	if [ -n "${POSTERN_REMOTE_BUILD:-}" ]; then
		install -m 0711 "$POSTERN_REMOTE_BUILD/bin/postern-remote" "$PHOME/bin/postern-remote" || return 1
	fi
	for t_s in postern-send postern-smtpd; do rm -rf "${PHOME:?}/service/$t_s"; done
	echo client.test > "$PHOME/control/me"
	echo 3 > "$PHOME/control/timeoutconnect"
	echo 10 > "$PHOME/control/timeoutremote"
}

# outbound_tls_start: s6-svscan on the home outbound_tls_home made, and
# postern-keys and postern-tlsd up (the test bails, with their logs, if
# not); one check says so.
outbound_tls_start() {
	svscan_start
	svc_wait_up postern-keys 30 || bail "postern-keys did not come up: $(cat "$PHOME/log/keys/current" 2> /dev/null)"
	svc_wait_up postern-tlsd 30 || bail "postern-tlsd did not come up: $(cat "$PHOME/log/tlsd/current" 2> /dev/null)"
	ok "postern-tlsd and postern-keys run under s6"
}

svscan_start() {
	# Its output goes to a file: a daemon holding the test's stdout would keep
	# tests/run.sh waiting.
	s6-svscan "$PHOME/service" > "$SCRATCH/svscan.log" 2>&1 < /dev/null &
	SVSCAN_PID=$!
}

svc_wait_up() { # NAME [SECONDS]
	t_dir=$PHOME/service/$1
	t_secs=${2:-20}
	t_i=0
	# s6-supervise holds its lock (s6-svok) a moment before it writes
	# supervise/status, which s6-svwait reads and fails without
	until s6-svok "$t_dir" 2> /dev/null && [ -f "$t_dir/supervise/status" ]; do
		t_i=$((t_i + 1))
		[ "$t_i" -le $((t_secs * 10)) ] || return 1
		sleep 0.1
	done
	if [ -f "$t_dir/notification-fd" ]; then
		s6-svwait -U -t $((t_secs * 1000)) "$t_dir"
	else
		s6-svwait -u -t $((t_secs * 1000)) "$t_dir"
	fi
}

t_stop_child() { # PID: TERM, up to 20 s to go, then KILL; reaped (a child of this shell)
	kill "$1" 2> /dev/null
	t_wait_gone "$1" 20 || kill -9 "$1" 2> /dev/null
	wait "$1" 2> /dev/null
}
t_wait_gone() { # PID SECONDS
	t_i=0
	while kill -0 "$1" 2> /dev/null; do
		t_i=$((t_i + 1))
		[ "$t_i" -le $(($2 * 10)) ] || return 1
		sleep 0.1
	done
	return 0
}

# Every process whose program or working directory is inside $SCRATCH was
# started by this test (the scratch name is unique): supervisors, loggers,
# postern's programs, deliveries running in a test user's home.
t_our_pids() {
	for t_p in /proc/[0-9]*; do
		t_pid=${t_p#/proc/}
		[ "$t_pid" = "$$" ] && continue
		for t_l in exe cwd; do
			case $(readlink "$t_p/$t_l" 2> /dev/null) in
			"$SCRATCH"/*) echo "$t_pid"; break ;;
			esac
		done
	done
}

svscan_stop() {
	[ -n "$SVSCAN_PID" ] || return 0
	s6-svscanctl -t "$PHOME/service" 2> /dev/null
	if ! t_wait_gone "$SVSCAN_PID" 30; then
		# Something kept a logger's pipe open (a child that outlived its
		# service): kill what is left of this test, by pid.
		echo "# s6-svscan $SVSCAN_PID did not stop in 30 s: killing the processes left in $SCRATCH"
		for t_pid in $(t_our_pids); do
			echo "#   kill -9 $t_pid $(tr '\0' ' ' < "/proc/$t_pid/cmdline" 2> /dev/null)"
			kill -9 "$t_pid" 2> /dev/null
		done
		t_wait_gone "$SVSCAN_PID" 10 || kill -9 "$SVSCAN_PID" 2> /dev/null
	fi
	wait "$SVSCAN_PID" 2> /dev/null
	SVSCAN_PID=
	# A process that ignored its TERM and lost its supervisor would write
	# into the next test's scratch directory; none may outlive the test.
	t_left=$(t_our_pids)
	if [ -n "$t_left" ]; then
		echo "# processes left behind in $SCRATCH: $(echo $t_left)"
		for t_pid in $t_left; do kill -9 "$t_pid" 2> /dev/null; done
	fi
}

maildir_make() { # DIR [OWNER[:GROUP]]
	mkdir -p "$1/tmp" "$1/new" "$1/cur" || return 1
	chmod 700 "$1" "$1/tmp" "$1/new" "$1/cur" || return 1
	[ -z "${2:-}" ] || chown -R "$2" "$1"
}

make_user() { # NAME: a real user with uid >= 1000, home $SCRATCH/users/NAME
	case $1 in
	pt[a-z0-9]*) ;;
	*) echo "# make_user: test user names start with 'pt' ($1)"; return 1 ;;
	esac
	# A user left behind by a test that was killed: it was ours.
	if getent passwd "$1" > /dev/null; then userdel "$1" 2> /dev/null; fi
	mkdir -p "$SCRATCH/users" && chmod 755 "$SCRATCH/users" || return 1
	useradd --create-home --home-dir "$SCRATCH/users/$1" --shell /bin/sh \
		--user-group "$1" 2> "$SCRATCH/useradd.err" || {
		diag "useradd $1: $(cat "$SCRATCH/useradd.err")"; return 1; }
	T_USERS="$T_USERS $1"
	maildir_make "$SCRATCH/users/$1/Maildir" "$1:$1"
}

count_files() { # DIR: number of files in it (0 if missing)
	[ -d "$1" ] || { echo 0; return; }
	find "$1" -mindepth 1 -maxdepth 1 -type f | wc -l
}

wait_files() { # DIR N [SECONDS]
	t_i=0
	t_secs=${3:-20}
	while [ "$(count_files "$1")" -lt "$2" ]; do
		t_i=$((t_i + 1))
		[ "$t_i" -le $((t_secs * 10)) ] || return 1
		sleep 0.1
	done
	return 0
}

tree_procs() { # [NAME]: "PID NAME PPID" for each process below $SVSCAN_PID (only
	# those called NAME, by /proc/PID/status Name:, if given).  Walks the
	# tree this test started: never matches a process elsewhere by name.
	[ -n "$SVSCAN_PID" ] || return 0
	/usr/bin/python3 - "$SVSCAN_PID" "${1:-}" << 'PYEOF'
import os, sys
root, want = int(sys.argv[1]), sys.argv[2]
kids, name, ppid = {}, {}, {}
for p in os.listdir('/proc'):
    if not p.isdigit():
        continue
    try:
        st = dict(l.split(':', 1) for l in open('/proc/%s/status' % p).read().splitlines() if ':' in l)
    except OSError:
        continue
    name[int(p)] = st['Name'].strip()
    ppid[int(p)] = int(st['PPid'])
    kids.setdefault(int(st['PPid']), []).append(int(p))
todo = list(kids.get(root, []))
while todo:
    p = todo.pop()
    todo.extend(kids.get(p, []))
    if not want or name[p] == want:
        print(p, name[p], ppid[p])
PYEOF
}

# Helpers for tests that run postern-start by hand (START_PID) and queue
# messages straight through the installed postern-queue.
unbound_conf() { # DIR IP ACL RECORD...: run it with unbound -d -c DIR/unbound.conf
	u_d=$1 u_ip=$2 u_acl=$3
	shift 3
	{
		printf 'server:\n\tinterface: %s\n\tport: 53\n\tdo-ip6: no\n\taccess-control: %s allow\n' "$u_ip" "$u_acl"
		printf '\tusername: ""\n\tchroot: ""\n\tdirectory: "%s"\n\tpidfile: "%s/unbound.pid"\n' "$u_d" "$u_d"
		printf '\tdo-daemonize: no\n\tuse-syslog: no\n\tlogfile: "%s/unbound.log"\n' "$u_d"
		printf '\tmodule-config: "iterator"\n\tlocal-zone: "test." static\n'
		for u_r in "$@"; do printf '\tlocal-data: "%s"\n' "$u_r"; done
		printf 'remote-control:\n\tcontrol-enable: no\n'
	} > "$u_d/unbound.conf"
}

wait_for() { # SECONDS CMD...: until CMD succeeds, polling every 0.1 s
	w_s=$1; shift; w_i=0
	until "$@"; do
		w_i=$((w_i + 1)); [ "$w_i" -le $((w_s * 10)) ] || return 1; sleep 0.1
	done
}
pool_clean() { # the pools of emptied files (doc/queue.md): every file empty, owned as it should be
	[ -z "$(find "$PHOME/queue/pool" "$PHOME/queue/info" -maxdepth 1 -type f \( -path "*/pool/*" -o -name ".p*" \) -size +0c)" ] &&
		[ -z "$(find "$PHOME/queue/pool" -maxdepth 1 -type f ! -user postern-queue)" ] &&
		[ -z "$(find "$PHOME/queue/info" -maxdepth 1 -type f -name ".p*" ! -user postern-send)" ]
}
inject() { # SENDER RCPT... ; message on stdin
	cat > "$SCRATCH/msg"
	printf 'F%s\0' "$1" > "$SCRATCH/env"; shift
	for r; do printf 'T%s\0' "$r" >> "$SCRATCH/env"; done
	printf '\0' >> "$SCRATCH/env"
	"$PHOME/bin/postern-queue" < "$SCRATCH/msg" 1< "$SCRATCH/env"
}
# PID NAME: PID is NAME and has a SIGTERM handler of its own (SigCgt's
# bit 15).  A background job is at first a forked copy of this shell,
# whose 'trap ... TERM' takes a SIGTERM and then execs NAME without it: a
# test that stops what it just started waits for this first.
catches_term() {
	[ "$(cat "/proc/$1/comm" 2> /dev/null)" = "$2" ] || return 1
	ct_mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2> /dev/null)
	ct_mask=${ct_mask%???}
	case ${ct_mask#"${ct_mask%?}"} in [4567cdefCDEF]) return 0 ;; esac
	return 1
}
# SIGTERM to $START_PID, and wait for its set to stop; its status in
# STOP_RC.  postern-start kills what has not stopped 10 s after its
# SIGTERM, so 30 s is a hang: shown (its processes, the tail of $LOG if
# the test has one), ended and failed here, rather than spending the
# whole test's timeout.
stop_start() {
	STOP_RC=
	[ -n "$START_PID" ] || return 0
	kill "$START_PID" 2> /dev/null
	if ! wait_for 30 sh -c "[ ! -e /proc/$START_PID ] || grep -q '^[0-9]* ([^)]*) Z' /proc/$START_PID/stat"; then
		diag "postern-start ($START_PID) still runs 30 s after its SIGTERM:"
		diag "$(ps -eo pid,ppid,stat,wchan:24,etimes,args | grep '[p]ostern')"
		[ -z "${LOG:-}" ] || diag "$(tail -n 20 "$LOG")"
		kill -9 "$START_PID"
		not_ok "postern-start ($START_PID) stops within 30 s of its SIGTERM"
	fi
	wait "$START_PID" 2> /dev/null
	STOP_RC=$?
	START_PID=
}
