#!/usr/bin/env python3
"""postern-pspawn on its own (doc/pop3.md, "postern-auth to postern-pspawn"
and "postern-pspawn to postern-pop3d"): a scratch HOME with bin/postern-pspawn
and, as bin/postern-pop3d, a small C program compiled here that records,
before anything else, its argv, environment, /proc/self/status, open
descriptors, session and working directory, then greets on fd 1 and
answers each line of fd 0 (`exit N` ends it with N).  This script plays
postern-auth: an AF_UNIX SOCK_SEQPACKET client that sends U records with
descriptors, one end of a socket pair or pipes whose other ends it keeps.
A real user (pt-pspawn, with a supplementary group) is made with useradd
and removed at the end; root, daemon (uid 1) and a user whose group is
root's are refused.  Checks the exact start of postern-pop3d, every
refusal with Z, every malformed record closed unanswered with its
descriptors, the unserved uid, the silent client, control/concurrencypop3,
control/concurrencypop3peruser and control/minuid read at each request,
the roster HOME/users/pop3 (names, comments, edits, and every kind of file
it refuses), a request whose sender has closed, control/timeoutpop3session
(a 5 s wait: the least it takes), SIGHUP, the end lines, SIGTERM.
Run as root (a client runs as nobody)."""
import os, pwd, grp, re, shutil, signal, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_test
from service_test import sanitized, send_while_stopped
from smtptest import BUILD, set_control
from tap import check, done, wait_for

PSPAWN = os.path.join(BUILD, 'bin', 'postern-pspawn')
USER, GROUP, USER0, VMAIL = 'pt-pspawn', 'pt-pspawn-g', 'pt-pspawn-0', 'postern-vmail'
made_vmail = []
D = tempfile.mkdtemp(prefix='postern-test.')
os.chmod(D, 0o755)
for sub in ('bin', 'control', 'run/pspawn', 'out', 'users', 'vmail/virt.test/box', 'vmail/a.sub.test/x'):
    os.makedirs(os.path.join(D, sub))
    os.chmod(os.path.join(D, sub), 0o755)
for sub in ('run', 'vmail', 'vmail/virt.test', 'vmail/a.sub.test'):
    os.chmod(os.path.join(D, sub), 0o755)
with open(os.path.join(D, 'vmail', 'virt.test', 'file'), 'w') as f:
    f.write('not a mailbox\n')
# a copy, not a link: HOME is found from /proc/self/exe, which resolves links
shutil.copy(PSPAWN, os.path.join(D, 'bin', 'postern-pspawn'))
BIN = os.path.join(D, 'bin', 'postern-pspawn')
POP3D = os.path.join(D, 'bin', 'postern-pop3d')
SOCK = os.path.join(D, 'run', 'pspawn', 'socket')
OUT = os.path.join(D, 'out')
ENV = dict(os.environ)
ENV.pop('POSTERN_HOME', None)

FAKE = r'''
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
extern char **environ;
static char status[65536], fds[65536];
int main(int argc, char **argv)
{
	char path[4096], tmp[4200], cwd[4096], buf[4096], line[4096];
	size_t fl = 0, ll = 0;
	ssize_t n;
	int fd, i;
	struct dirent *e;
	DIR *d;
	FILE *f;

	/* first: who it is and what it has, as it was at exec */
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	n = read(fd, status, sizeof status - 1);
	status[n > 0 ? n : 0] = 0;
	close(fd);
	d = opendir("/proc/self/fd");
	while ((e = readdir(d))) {
		char l[300], t[4096];
		ssize_t m;
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		snprintf(l, sizeof l, "/proc/self/fd/%s", e->d_name);
		m = readlink(l, t, sizeof t - 1);
		t[m > 0 ? m : 0] = 0;
		fl += (size_t)snprintf(fds + fl, sizeof fds - fl, "fd %s %s\n", e->d_name, t);
	}
	closedir(d);
	if (!getcwd(cwd, sizeof cwd))
		strcpy(cwd, "?");
	snprintf(path, sizeof path, "@OUT@/%d.rec", (int)getpid());
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "we");
	fprintf(f, "argc %d\n", argc);
	for (i = 0; i < argc; i++)
		fprintf(f, "argv %s\n", argv[i]);
	for (i = 0; environ[i]; i++)
		fprintf(f, "env %s\n", environ[i]);
	fputs(fds, f);
	fprintf(f, "pid %d\nppid %d\nsid %d\npgid %d\ncwd %s\n", (int)getpid(), (int)getppid(),
	        (int)getsid(0), (int)getpgid(0), cwd);
	for (char *p = strtok(status, "\n"); p; p = strtok(0, "\n"))
		fprintf(f, "status %s\n", p);
	fclose(f);
	rename(tmp, path);
	/* then the session: a greeting, an answer to each line */
	write(1, "+OK fake pop3d\r\n", 16);
	while ((n = read(0, buf, sizeof buf)) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof line - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = 0;
			ll = 0;
			if (strncmp(line, "exit ", 5) == 0)
				_exit(atoi(line + 5));
			{
				char r[4200];
				int rl = snprintf(r, sizeof r, "+OK got %s\r\n", line);
				write(1, r, (size_t)rl);
			}
		}
	}
	return 0;
}
'''


def sh(*cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def drop(name, lookup=pwd.getpwnam, command='userdel'):
    """a user (or with grp.getgrnam, 'groupdel', a group) removed if it exists"""
    try:
        lookup(name)
    except KeyError:
        return
    sh(command, name)


def drop_user(name):
    drop(name)


def drop_group(name):
    drop(name, grp.getgrnam, 'groupdel')


def Server(*args, preexec=None):
    """postern-pspawn -d FD ARGS, started and waited for (tests/service_test.py)"""
    return service_test.Server([BIN] + list(args), D, ENV, preexec=preexec)


def ask(rec, fds, timeout=10):
    """sends one record with fds; the answer (b'' when closed unanswered)"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    s.connect(SOCK)
    try:
        socket.send_fds(s, [rec], fds)
        return s.recv(1000)
    except socket.timeout:
        return None
    except (BrokenPipeError, ConnectionResetError):
        return b''  # closed before the record went: an unserved uid is not read
    finally:
        s.close()


def record(user, ip='127.0.0.1'):
    return b'U' + user.encode() + b'\0' + ip.encode() + b'\0'


class Session:
    """a request over one end of a socket pair (both fds the same socket);
    .answer, and .a, our end, to talk to the postern-pop3d that has the other"""

    def __init__(self, user=USER, ip='127.0.0.1', rec=None):
        self.a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.a.settimeout(10)
        self.answer = ask(rec if rec is not None else record(user, ip), [b.fileno(), b.fileno()])
        b.close()

    def orphaned(self):
        """our end sees EOF at once: nobody else holds the other end"""
        try:
            self.a.settimeout(3)
            return self.a.recv(100) == b''
        except OSError:
            return False

    def line(self):
        data = b''
        while not data.endswith(b'\n'):
            c = self.a.recv(1)
            if not c:
                break
            data += c
        return data

    def close(self):
        self.a.close()


def started():
    """the postern-pop3ds that recorded themselves, once every one of those
    logged as started has"""
    def recs():
        return sorted(f for f in os.listdir(OUT) if f.endswith('.rec'))
    if servers:
        wait_for(lambda: len(recs()) >= servers[-1].log().count(' start user='), 10)
    return recs()


def parse_rec(pid):
    r = {'argv': [], 'env': [], 'fd': {}, 'status': {}}
    path = os.path.join(OUT, '%d.rec' % pid)
    if not wait_for(lambda: os.path.exists(path), 10):
        return None
    with open(path, errors='replace') as f:
        for ln in f.read().split('\n'):
            k, _, v = ln.partition(' ')
            if k in ('argv', 'env'):
                r[k].append(v)
            elif k == 'fd':
                n, _, t = v.partition(' ')
                r['fd'][int(n)] = t
            elif k == 'status':
                sk, _, sv = v.partition(':')
                r['status'][sk] = sv.strip()
            elif k:
                r[k] = v
    return r


def start_pid(srv, n):
    """the pid of the n-th start line (0-based), once logged"""
    def pids():
        return [int(m) for m in re.findall(r'start user=\S+ uid=\d+ ip=\S* pid=(\d+)', srv.log())]
    wait_for(lambda: len(pids()) > n, 10)
    p = pids()
    return p[n] if len(p) > n else None


def end_status(srv, pid):
    m = [None]

    def find():
        m[0] = re.search(r'end user=(\S+) pid=%d status=(\S+) seconds=\d+' % pid, srv.log())
        return m[0] is not None
    wait_for(find, 10)
    return m[0] and (m[0].group(1), m[0].group(2))


def control(name, value):
    """the values here carry their own newline, or none on purpose"""
    set_control(os.path.join(D, 'control'), name, value, newline=False)


ROSTER = os.path.join(D, 'users', 'pop3')
LONGEST = 'a' * 64 + '@' + ('b' * 63 + '.') * 2 + 'c' * 62  # 64 + 1 + 190 bytes
NAMES = [USER, USER0, 'root', 'daemon', 'ptnosuchuser', 'NoSuchUser_x', 'box@virt.test', 'x@a.sub.test',
         'nobox@virt.test', 'file@virt.test', 'box@other.test', 'box@sub.test', 'a' * 64, LONGEST]


def roster(text=None, names=NAMES, mode=0o600, uid=0):
    """HOME/users/pop3, root's 0600 unless asked otherwise; text None: the names"""
    if text is None:
        text = '# the POP3 roster\n\n' + ''.join(n + '\n' for n in names)
    tmp = ROSTER + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.chown(tmp, uid, uid)
    os.chmod(tmp, mode)
    os.rename(tmp, ROSTER)


def as_nobody(fn):
    """fn() in a child process as nobody; its boolean result"""
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            ok = fn()
        finally:
            os._exit(0 if ok else 1)
    _, st = os.waitpid(pid, 0)
    return os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0


servers = []
try:
    # The fake postern-pop3d and the users.
    with open(os.path.join(D, 'fake.c'), 'w') as f:
        f.write(FAKE.replace('@OUT@', OUT))
    cc = sh('cc', '-O', '-w', '-o', POP3D, os.path.join(D, 'fake.c'))
    if not check(cc.returncode == 0, 'the fake postern-pop3d compiles'):
        print('# ' + cc.stdout.decode(errors='replace'))
    for u in (USER, USER0):
        drop_user(u)
    drop_group(GROUP)
    drop_group(USER)
    made = [sh('groupadd', GROUP),
            sh('useradd', '--no-create-home', '--home-dir', os.path.join(D, 'users', USER), '--shell', '/bin/sh',
               '--user-group', '-G', GROUP, USER),
            sh('useradd', '--no-create-home', '--home-dir', os.path.join(D, 'users', USER0), '--shell', '/bin/sh',
               '-g', '0', USER0)]
    # postern-vmail (conf-users) is ./install's; made here if it is missing,
    # and then removed at the end
    try:
        pwd.getpwnam(VMAIL)
    except KeyError:
        made.append(sh('useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell',
                       '/usr/sbin/nologin', '--user-group', VMAIL))
        made_vmail.append(VMAIL)
    check(all(m.returncode == 0 for m in made), 'test users made: %s (also in %s), %s (group root), %s' %
          (USER, GROUP, USER0, VMAIL))
    PW = pwd.getpwnam(USER)
    GROUPS = os.getgrouplist(USER, PW.pw_gid)
    XGID = grp.getgrnam(GROUP).gr_gid

    # Usage and set-up refusals.
    for args, what in ((['-x'], 'an unknown option'), (['-d', '2'], '-d 2'), (['-d', 'x'], '-d x'),
                       (['-u', 'abc'], '-u abc'), (['-u', '-1'], '-u -1'), (['arg'], 'an argument')):
        r = subprocess.run([BIN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=10)
        check(r.returncode == 100 and b'usage: postern-pspawn' in r.stderr, 'usage error exits 100: %s' % what)
    r = subprocess.run([BIN, '-u', '0'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=10,
                       preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
    check(r.returncode == 100 and b'must run as root' in r.stderr,
          'refuses to run as anyone but root: exit 100 (%d %r)' % (r.returncode, r.stderr[:100]))
    try:
        pwd.getpwnam('postern-auth')
        have_auth = True
    except KeyError:
        have_auth = False
    if not have_auth:
        r = subprocess.run([BIN], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=10)
        check(r.returncode == 111 and b'unknown user postern-auth' in r.stderr,
              'without -u it serves postern-auth: without that user it exits 111 (%r)' % r.stderr[:100])
    for bad in ('0\n', '10001\n', 'many\n'):
        control('concurrencypop3', bad)
        r = subprocess.run([BIN, '-u', '0'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=10)
        check(r.returncode == 111 and b'control/concurrencypop3' in r.stderr,
              'control/concurrencypop3 %r stops the start: exit 111 naming it' % bad)
    control('concurrencypop3', None)
    control('minuid', 'x\n')
    r = subprocess.run([BIN, '-u', '0'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=10)
    check(r.returncode == 111 and b'control/minuid' in r.stderr, 'a malformed control/minuid stops the start')
    control('minuid', None)
    for name, bads in (('concurrencypop3peruser', ('0\n', '10001\n', 'x\n')),
                       ('timeoutpop3session', ('4\n', '604801\n', '1h\n'))):
        for bad in bads:
            control(name, bad)
            r = subprocess.run([BIN, '-u', '0'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=10)
            check(r.returncode == 111 and b'control/' + name.encode() in r.stderr,
                  'control/%s %r stops the start: exit 111 naming it' % (name, bad))
        control(name, None)

    # The service, serving this script (root) as -u 0 does.
    roster()
    srv = Server('-u', '0')
    servers.append(srv)
    check(srv.ready, 'ready: a newline on the notification fd once listening')
    check(re.search(r'ready socket=\S+/run/pspawn/socket minuid=1000 concurrencypop3=50 concurrencypop3peruser=4 '
                    r'timeoutpop3session=10800\n', srv.log()),
          'logs ready with its socket and settings')
    check(os.stat(SOCK).st_mode & 0o777 == 0o666, 'the socket is 0666: SO_PEERCRED decides')
    base = srv.nfds()  # idle: its stdio, the self-pipe, the socket
    my_sid = os.getsid(srv.p.pid)
    with open('/proc/%d/status' % srv.p.pid) as f:
        check(re.search(r'^Uid:\s+0\s+0\s+0\s+0$', f.read(), re.M), 'it runs as root')
    err_target = os.readlink('/proc/%d/fd/2' % srv.p.pid)

    # 1. A good request, over a socket pair.
    s = Session()
    check(s.answer == b'K', 'a good request is answered K (%r)' % s.answer)
    check(s.line() == b'+OK fake pop3d\r\n', 'postern-pop3d has the client: its greeting arrives')
    pid = start_pid(srv, 0)
    rec = parse_rec(pid) if pid else None
    check(rec is not None, 'it started and recorded itself (pid %s)' % pid)
    rec = rec or {'argv': [], 'env': [], 'fd': {}, 'status': {}}
    check(rec['argv'] == ['postern-pop3d'] and rec.get('argc') == '1', 'argv is exactly postern-pop3d (%r)' % rec['argv'])
    ident = '%d:%d:%s' % (PW.pw_uid, PW.pw_gid, ','.join(str(g) for g in GROUPS))
    want_env = sorted(['POSTERN_IDENTITY=' + ident, 'USER=' + USER, 'HOME=' + PW.pw_dir, 'TCPREMOTEIP=127.0.0.1',
                       'POSTERN_HOME=' + D, 'PATH=/usr/bin:/bin'])
    check(sorted(rec['env']) == want_env, 'the environment is exactly the six variables (%r)' % rec['env'])
    check(XGID in GROUPS and PW.pw_gid in GROUPS and 'POSTERN_IDENTITY=' + ident in rec['env'],
          'POSTERN_IDENTITY is UID:GID:GROUPS, the supplementary group and the gid in them (%s)' % ident)
    check(re.fullmatch(r'0\s+0\s+0\s+0', rec['status'].get('Uid', '')) and
          re.fullmatch(r'0\s+0\s+0\s+0', rec['status'].get('Gid', '')),
          'started as root: it becomes the user itself (Uid %r)' % rec['status'].get('Uid'))
    check(sorted(rec['fd']) == [0, 1, 2], 'exactly fds 0, 1 and 2 are open (%r)' % rec['fd'])
    sock_t = rec['fd'].get(0, '')
    check(sock_t.startswith('socket:') and rec['fd'].get(1) == sock_t, 'fds 0 and 1 are the socket sent (%s)' % sock_t)
    check(rec['fd'].get(2) == err_target, 'fd 2 is postern-pspawn\'s stderr (%s)' % rec['fd'].get(2))
    # glibc's posix_spawn leaves its two internal signals (32 and 33, which
    # no program can set or catch through glibc) ignored in every child:
    # postern-pspawn has them at their default, and cannot ask for that
    def sigs(key, internal=0x180000000):
        return int(rec['status'].get(key, 'f'), 16) & ~internal
    check(sigs('SigBlk') == 0 and sigs('SigIgn') == 0,
          'no signal blocked or ignored (%s %s)' % (rec['status'].get('SigBlk'), rec['status'].get('SigIgn')))
    check(rec.get('sid') == str(pid) and rec.get('pgid') == str(pid) and int(rec.get('sid', 0)) != my_sid,
          'in a session of its own (sid %s)' % rec.get('sid'))
    check(rec.get('ppid') == str(srv.p.pid) and rec.get('cwd') == '/', 'a child of postern-pspawn, in /')
    check(re.search(r'start user=%s uid=%d ip=127\.0\.0\.1 pid=%d' % (USER, PW.pw_uid, pid), srv.log()),
          'logs start user= uid= ip= pid=')
    s.a.sendall(b'hello\n')
    check(s.line() == b'+OK got hello\r\n', 'and the session goes both ways')
    s.a.sendall(b'exit 3\n')
    check(end_status(srv, pid) == (USER, 'exit:3'), 'its end is logged: end user= pid= status=exit:3')
    s.close()

    # 2. Two pipes: fd 0 is the first descriptor, fd 1 the second.
    r0, w0 = os.pipe()
    r1, w1 = os.pipe()
    ans = ask(record(USER, '2001:db8::1'), [r0, w1])
    os.close(r0)
    os.close(w1)
    check(ans == b'K', 'a request with two pipes: K')
    rf = os.fdopen(r1, 'rb')
    check(rf.readline() == b'+OK fake pop3d\r\n', 'the greeting comes out of the second descriptor')
    os.write(w0, b'pipes\n')
    check(rf.readline() == b'+OK got pipes\r\n', 'what goes into the first is what it reads')
    pid = start_pid(srv, 1)
    rec = parse_rec(pid) or {'env': []}
    check('TCPREMOTEIP=2001:db8::1' in rec['env'], 'TCPREMOTEIP is the request\'s')
    os.close(w0)
    check(end_status(srv, pid) == (USER, 'exit:0'), 'at EOF it exits 0: status=exit:0')
    rf.close()

    # 3. An empty REMOTEIP, and a session killed by a signal.
    s = Session(ip='')
    check(s.answer == b'K' and s.line() == b'+OK fake pop3d\r\n', 'an empty REMOTEIP is taken')
    pid = start_pid(srv, 2)
    rec = parse_rec(pid) or {'env': []}
    check('TCPREMOTEIP=' in rec['env'], 'and TCPREMOTEIP is empty')
    os.kill(pid, signal.SIGKILL)
    check(end_status(srv, pid) == (USER, 'signal:9'), 'a session killed: status=signal:9')
    s.close()

    # 4. Refused users: Z and a reason, nothing started, no descriptor kept.
    def refused(user, want, desc):
        before = started()
        s = Session(user)
        ok = s.answer is not None and s.answer[:1] == b'Z' and want in s.answer.decode('latin-1')
        printable = s.answer is not None and 2 <= len(s.answer) <= 201 and all(0x20 <= c < 0x7f for c in s.answer)
        check(ok and printable, '%s: Z %s (%r)' % (desc, want, s.answer))
        check(s.orphaned() and started() == before, '... nothing started, its descriptors closed')
        s.close()
    refused('ptnosuchuser', 'no such user', 'an unknown user')
    refused('NoSuchUser_x', 'no such user', 'an unknown user with capitals and _')
    refused('root', 'root', 'root')
    refused('daemon', 'minuid', 'daemon (uid 1)')
    refused(USER0, 'gid 0', 'a user whose group is root\'s')
    sh('usermod', '-g', GROUP, '-a', '-G', 'root', USER0)
    refused(USER0, 'group 0', 'a user in group root')
    check(re.search(r'refused user=root ip=127\.0\.0\.1 why=', srv.log()), 'refusals logged: refused user= ip= why=')

    # 4b. The roster, HOME/users/pop3: root's list of the names a session
    # may start for, read again when it changes.
    check(re.search(r'roster lines=16 users=14 malformed=0\n', srv.log()),
          'the roster is read once: roster lines= users= malformed= (comments and blank lines skipped)')
    roster(names=[n for n in NAMES if n != USER] + ['# ' + USER])
    refused(USER, 'not a POP3 user', 'a user not on the roster (a comment naming it does not count)')
    check(wait_for(lambda: re.search(r'refused user=%s ip=\S* why="not a POP3 user"' % USER, srv.log()), 5),
          '... logged')
    roster(names=NAMES + ['bad name', '.dot', USER.upper() + '@Virt.Test'])
    s = Session()
    check(s.answer == b'K', 'back on the roster, with malformed lines beside it: K')
    s.a.sendall(b'exit 0\n')
    s.close()
    check(re.search(r'roster_line line=17 why="not a login name"\n', srv.log()) and
          re.search(r'roster lines=19 users=14 malformed=3\n', srv.log()), 'each malformed line logged and skipped')
    # an edit in place of the same size: USER's line becomes another name
    roster()
    ino = os.stat(ROSTER).st_ino
    with open(ROSTER, 'r+') as f:
        text = f.read()
        f.seek(0)
        f.write(text.replace('\n' + USER + '\n', '\n' + USER[:-1] + 'X\n'))
    refused(USER, 'not a POP3 user', 'an edit in place of the same size is seen (inode %s kept: %s)'
            % (ino, os.stat(ROSTER).st_ino == ino))
    roster()
    os.unlink(ROSTER)
    refused(USER, 'not a POP3 user (there is no users/pop3)', 'no roster: nobody')
    for what, want, make in (
            ('owned by nobody', "not root's", lambda: roster(uid=65534)),
            ('mode 0620', 'group or others', lambda: roster(mode=0o620)),
            ('mode 0602', 'group or others', lambda: roster(mode=0o602)),
            ('a symlink to a good roster', 'users/pop3 is a symbolic link',
             lambda: (roster(), os.rename(ROSTER, ROSTER + '.real'), os.symlink(ROSTER + '.real', ROSTER))),
            ('a hard link', 'more than one link', lambda: (roster(), os.link(ROSTER, ROSTER + '.link'))),
            ('a directory', 'not a regular file', lambda: os.mkdir(ROSTER)),
            ('over 1 MB', 'over 1 MB', lambda: roster(''.join(NAMES[0] + '\n' for _ in range(1024 * 1024 // 10 + 1))))):
        for p_ in (ROSTER + '.real', ROSTER + '.link'):
            if os.path.lexists(p_):
                os.unlink(p_)
        if os.path.isdir(ROSTER) and not os.path.islink(ROSTER):
            os.rmdir(ROSTER)
        elif os.path.lexists(ROSTER):
            os.unlink(ROSTER)
        make()
        refused(USER, want, 'a roster %s: every login refused' % what)
    for p_ in (ROSTER + '.real', ROSTER + '.link'):
        if os.path.lexists(p_):
            os.unlink(p_)
    os.unlink(ROSTER)
    roster(mode=0o640)
    s = Session()
    check(s.answer == b'K', 'a roster of mode 0640 (readable by its group, not writable): K')
    s.a.sendall(b'exit 0\n')
    s.close()
    roster()

    # 5. control/minuid and control/concurrencypop3 at each request; SIGHUP.
    control('minuid', '%d\n' % (PW.pw_uid + 1))
    refused(USER, 'minuid', 'control/minuid raised above the user, no restart')
    control('minuid', 'oops\n')
    refused(USER, 'control/minuid', 'control/minuid malformed while running')
    control('minuid', '%d\n' % PW.pw_uid)
    s = Session()
    check(s.answer == b'K', 'control/minuid at the user\'s uid: K again')
    s.a.sendall(b'exit 0\n')
    s.close()
    control('minuid', None)
    srv.p.send_signal(signal.SIGHUP)
    time.sleep(0.2)
    s = Session()
    check(srv.p.poll() is None and s.answer == b'K', 'SIGHUP does not end it, and it serves on')
    s.a.sendall(b'exit 0\n')
    s.close()
    control('concurrencypop3', '0\n')
    refused(USER, 'concurrencypop3', 'control/concurrencypop3 0 while running')
    control('concurrencypop3', '2\n')
    wait_for(lambda: srv.log().count(' end user=') == 5, 10)
    s1, s2 = Session(), Session()
    check(s1.answer == b'K' and s2.answer == b'K', 'control/concurrencypop3 2: two sessions')
    refused(USER, 'too many POP3 sessions', 'a third')
    n_end = srv.log().count(' end user=')
    s1.a.sendall(b'exit 0\n')
    wait_for(lambda: srv.log().count(' end user=') > n_end, 10)
    s3 = Session()
    check(s3.answer == b'K', 'once one has ended, a new one is taken')
    for x in (s2, s3):
        x.a.sendall(b'exit 0\n')
        x.close()
    s1.close()
    control('concurrencypop3', None)

    # 5b. Virtual mailboxes: LOCAL@DOMAIN, postern-vmail on HOME/vmail/DOMAIN/LOCAL.
    VM = pwd.getpwnam(VMAIL)
    refused('box@virt.test', 'no such virtual domain', 'a virtual name without control/virtualdomains')
    control('virtualdomains', '# virtual\nvirt.test\n.sub.test\n')
    for login, box in (('box@virt.test', 'virt.test/box'), ('x@a.sub.test', 'a.sub.test/x')):
        s = Session(login)
        check(s.answer == b'K' and s.line() == b'+OK fake pop3d\r\n', 'a virtual mailbox, %s: K' % login)
        pid = start_pid(srv, srv.log().count(' start user=') - 1)
        rec = parse_rec(pid) or {'env': []}
        vident = '%d:%d:%s' % (VM.pw_uid, VM.pw_gid, ','.join(str(g) for g in os.getgrouplist(VMAIL, VM.pw_gid)))
        want = sorted(['POSTERN_IDENTITY=' + vident, 'USER=' + login, 'HOME=' + os.path.join(D, 'vmail', box),
                       'TCPREMOTEIP=127.0.0.1', 'POSTERN_HOME=' + D, 'PATH=/usr/bin:/bin'])
        check(sorted(rec['env']) == want, '... as postern-vmail, USER the name, HOME its mailbox (%r)' % rec['env'])
        check(re.search(r'start user=%s uid=%d ' % (re.escape(login), VM.pw_uid), srv.log()), '... logged')
        s.a.sendall(b'exit 0\n')
        check(end_status(srv, pid) == (login, 'exit:0'), '... and its end')
        s.close()
    refused('nobox@virt.test', 'no such mailbox', 'a virtual mailbox that does not exist')
    refused('file@virt.test', 'no such mailbox', 'a virtual mailbox that is a file')
    refused('box@other.test', 'no such virtual domain', 'a domain not in control/virtualdomains')
    refused('box@sub.test', 'no such virtual domain', 'the domain of a .sub.test line itself')

    # 5c. control/concurrencypop3peruser: counted by login name, at each request.
    wait_for(lambda: srv.log().count(' end user=') == srv.log().count(' start user='), 10)
    for bad in ('0\n', '10001\n', 'four\n'):
        control('concurrencypop3peruser', bad)
        refused(USER, 'control/concurrencypop3peruser', 'control/concurrencypop3peruser %r while running' % bad)
    control('concurrencypop3peruser', None)
    for bad in ('4\n', '604801\n', 'x\n'):
        control('timeoutpop3session', bad)
        refused(USER, 'control/timeoutpop3session', 'control/timeoutpop3session %r while running' % bad)
    control('timeoutpop3session', None)
    control('concurrencypop3peruser', '2\n')
    mine = [Session(), Session()]
    check(all(x.answer == b'K' for x in mine), 'control/concurrencypop3peruser 2: two sessions for %s' % USER)
    refused(USER, 'too many POP3 sessions for this user', 'a third for the same user')
    check(wait_for(lambda: re.search(r'refused user=%s ip=\S* why="too many POP3 sessions for this user"' % USER,
                                     srv.log()), 5), '... logged')
    others = [Session('box@virt.test'), Session('box@virt.test')]
    check(all(x.answer == b'K' for x in others), 'another login name still gets its two')
    refused('box@virt.test', 'too many POP3 sessions for this user', 'and no third')
    n_end = srv.log().count(' end user=')
    mine[0].a.sendall(b'exit 0\n')
    wait_for(lambda: srv.log().count(' end user=') > n_end, 10)
    mine[0].close()
    mine[0] = Session()
    check(mine[0].answer == b'K', 'once one of the user\'s has ended, the user gets one again')
    control('concurrencypop3peruser', None)
    x = Session()
    check(x.answer == b'K', 'the default is 4: a third for the user without the file')
    for y in mine + others + [x]:
        y.a.sendall(b'exit 0\n')
        y.close()
    wait_for(lambda: srv.log().count(' end user=') == srv.log().count(' start user='), 10)
    control('virtualdomains', None)

    # 6. No postern-pop3d to start.
    os.rename(POP3D, POP3D + '.away')
    refused(USER, 'unable to start postern-pop3d', 'no HOME/bin/postern-pop3d')
    os.rename(POP3D + '.away', POP3D)
    check('warning: unable to start ' in srv.log(), 'and says so in its log')

    # 7. Malformed requests: closed with no answer and nothing started; the
    # descriptors are closed (our end sees EOF) and pspawn keeps none.
    wait_for(lambda: srv.log().count(' end user=') == srv.log().count(' start user='), 10)
    u = USER.encode()
    LONGEST = LONGEST.encode()
    bad = [
        (b'', 'an empty record'),
        (b'X' + u + b'\0' + b'1.2.3.4\0', 'an unknown type'),
        (b'u' + u + b'\0' + b'1.2.3.4\0', 'a lower-case type'),
        (b'U' + u, 'no NUL at all'),
        (b'U' + u + b'\0', 'no REMOTEIP'),
        (b'U' + u + b'\0' + b'1.2.3.4', 'REMOTEIP without its NUL'),
        (b'U' + u + b'\0' + b'1.2.3.4\0' + b'x\0', 'a third field'),
        (b'U' + u + b'\0' + b'1.2.3.4\0\0', 'an empty third field'),
        (b'U\0' + b'1.2.3.4\0', 'an empty USER'),
        (b'U.' + u + b'\0' + b'1.2.3.4\0', 'USER starting with .'),
        (b'U-' + u + b'\0' + b'1.2.3.4\0', 'USER starting with -'),
        (b'Upt/pspawn\0' + b'1.2.3.4\0', 'USER with /'),
        (b'Upt pspawn\0' + b'1.2.3.4\0', 'USER with a blank'),
        (b'Upt\xe9\0' + b'1.2.3.4\0', 'USER with a byte over 127'),
        (b'Upt\npspawn\0' + b'1.2.3.4\0', 'USER with a newline'),
        (b'U' + b'a' * 65 + b'\0' + b'1.2.3.4\0', 'USER of 65 bytes'),
        (b'U' + u + b'\0' + b'1' * 46 + b'\0', 'REMOTEIP of 46 bytes'),
        (b'U' + u + b'\0' + b'1.2.3.g\0', 'REMOTEIP with g'),
        (b'U' + u + b'\0' + b'1.2.3.4 \0', 'REMOTEIP with a blank'),
        (b'U' + u + b'\0' + b'::1/128\0', 'REMOTEIP with /'),
        (b'U' + LONGEST + b'\0' + b'1' * 45 + b'\0' + b'x' * 18, 'a record of 321 bytes'),
        (b'U' + LONGEST + b'c\0' + b'1.2.3.4\0', 'USER of 256 bytes (a domain of 191)'),
        (b'UBox@virt.test\0' + b'1.2.3.4\0', 'a virtual name with a capital'),
        (b'Ub@x@virt.test\0' + b'1.2.3.4\0', 'a virtual name with two @'),
        (b'U.b@virt.test\0' + b'1.2.3.4\0', 'a virtual LOCAL starting with .'),
        (b'Ub/x@virt.test\0' + b'1.2.3.4\0', 'a virtual LOCAL with /'),
        (b'U' + b'b' * 65 + b'@virt.test\0' + b'1.2.3.4\0', 'a virtual LOCAL of 65 bytes'),
        (b'Ubox@.virt.test\0' + b'1.2.3.4\0', 'a DOMAIN starting with .'),
        (b'Ubox@virt..test\0' + b'1.2.3.4\0', 'a DOMAIN with ..'),
        (b'Ubox@virt.test.\0' + b'1.2.3.4\0', 'a DOMAIN ending with .'),
        (b'Ubox@-virt.test\0' + b'1.2.3.4\0', 'a DOMAIN label starting with -'),
        (b'Ubox@virt/test\0' + b'1.2.3.4\0', 'a DOMAIN with /'),
        (b'Ubox@\0' + b'1.2.3.4\0', 'an empty DOMAIN'),
        (b'U@virt.test\0' + b'1.2.3.4\0', 'an empty LOCAL'),
        (b'U' + u + b'\0' + b'1.2.3.4\0' + b'x' * 2000, 'a record of 2 KB'),
    ]
    for rec_, desc in bad:
        before = started()
        s = Session(rec=rec_)
        check(s.answer == b'' and s.orphaned() and started() == before,
              'malformed, %s: closed unanswered, descriptors closed, nothing started (%r)' % (desc, s.answer))
        s.close()
    # the longest well-formed records: a Unix name of 64, a virtual one of 255
    s = Session(rec=b'U' + b'a' * 64 + b'\0' + b'f' * 45 + b'\0')
    check(s.answer == b'Zno such user', 'USER of 64 and REMOTEIP of 45 bytes are well formed: Z no such user (%r)' % s.answer)
    s.close()
    s = Session(rec=b'U' + LONGEST + b'\0' + b'f' * 45 + b'\0')
    check(s.answer == b'Zno such virtual domain', 'a record of 303 bytes, USER of 255: well formed, Z (%r)' % s.answer)
    s.close()
    for nfds in (0, 1, 3, 9):
        before = started()
        pairs = [socket.socketpair() for _ in range(nfds)]
        ans = ask(record(USER), [b.fileno() for _, b in pairs])
        for _, b in pairs:
            b.close()
        gone = True
        for a, _ in pairs:
            a.settimeout(3)
            try:
                gone = gone and a.recv(10) == b''
            except OSError:
                gone = False
            a.close()
        check(ans == b'' and gone and started() == before,
              'a good record with %d descriptors: closed unanswered, every descriptor closed (%r)' % (nfds, ans))
    check(wait_for(lambda: srv.nfds() == base, 5), 'postern-pspawn holds no more descriptors than when it started (%d, %d)' %
          (base, srv.nfds()))
    check(re.search(r'dropped uid=0 why="malformed request: [a-zA-Z ]+"', srv.log()), 'logs dropped uid= why=')

    # 8. A peer whose uid is not served: closed unread.
    time.sleep(1.1)  # past the second of the lines above: this one is logged
    before = started()

    def unserved():
        a, b = socket.socketpair()
        ans = ask(record(USER), [b.fileno(), b.fileno()])
        b.close()
        a.settimeout(3)
        return ans == b'' and a.recv(10) == b''
    check(as_nobody(unserved) and started() == before, 'a client running as nobody: closed unanswered, nothing started')
    check(re.search(r'dropped uid=65534 why="uid not served"', srv.log()), 'logged with its uid')

    # 9. Refusal lines that cannot be answered are at most 5 a second.
    time.sleep(1.1)
    n0 = srv.log().count(' dropped ')
    t0 = time.time()
    for i in range(30):
        Session(rec=b'garbage').close()
    took = time.time() - t0
    n1 = srv.log().count(' dropped ')
    check(n1 - n0 <= 5 * (int(took) + 2), 'a loop of 30 malformed records logs at most 5 lines a second (%d in %.1f s)' %
          (n1 - n0, took))
    time.sleep(1.1)
    Session(rec=b'garbage').close()
    check(wait_for(lambda: 'not_logged_before=' in srv.log(), 3), 'the next line says how many were left out')

    # 10. A silent client does not hold up the service, and is closed in time.
    q = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    q.connect(SOCK)
    t0 = time.time()
    s = Session()
    check(s.answer == b'K' and time.time() - t0 < 2, 'a request beside a silent connection is served at once')
    s.a.sendall(b'exit 0\n')
    s.close()
    q.settimeout(10)
    try:
        got = q.recv(10)
    except socket.timeout:
        got = None
    took = time.time() - t0
    check(got == b'' and 4 <= took <= 8, 'the silent one is closed after 5 s, unanswered (%r after %.1f s)' % (got, took))
    q.close()
    check(re.search(r'dropped uid=0 why="no request within 5 s"', srv.log()), 'and logged')

    check(wait_for(lambda: srv.nfds() == base, 5), 'after all of it, no more descriptors than at its start (%d, %d)' %
          (base, srv.nfds()))

    # 10a. A request whose sender has closed: postern-auth gave up waiting
    # and postern-popup kept the client, so nothing may start.  The service
    # is stopped while the record is sent and the connection closed, so
    # that it finds both when it goes on.
    before = started()
    mark = len(srv.log())
    a_, b_ = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    send_while_stopped(srv, SOCK, record(USER, '192.0.2.7'), [b_.fileno(), b_.fileno()])
    b_.close()
    check(wait_for(lambda: 'skipped user=%s ip=192.0.2.7 why="postern-auth closed the connection before the start"'
                   % USER in srv.log()[mark:], 10), 'a request from a closed connection is skipped, and logged')
    a_.settimeout(3)
    try:
        gone = a_.recv(100) == b''
    except OSError:
        gone = False
    a_.close()
    check(gone and started() == before, '... nothing started, its descriptors closed')
    s = Session()
    check(s.answer == b'K', 'the next request is served')
    s.a.sendall(b'exit 0\n')
    s.close()
    wait_for(lambda: srv.log().count(' end user=') == srv.log().count(' start user='), 10)

    # 10b. control/timeoutpop3session: a session that old is SIGKILLed, a
    # stopped one too; the poll of the idle loop wakes for it; SIGHUP
    # brings a lower value to the sessions running.  5 s is the least.
    control('timeoutpop3session', 'oops\n')
    srv.p.send_signal(signal.SIGHUP)
    check(wait_for(lambda: 'warning: SIGHUP: control/timeoutpop3session is not a number' in srv.log(), 5)
          and srv.p.poll() is None, 'SIGHUP with a bad control/timeoutpop3session: a warning, and it goes on')
    control('timeoutpop3session', None)
    a_ = Session()
    t_a = time.time()
    check(a_.answer == b'K' and a_.line() == b'+OK fake pop3d\r\n', 'a session started under the default lifetime (3 hours)')
    pid_a = start_pid(srv, srv.log().count(' start user=') - 1)
    control('timeoutpop3session', '5\n')
    srv.p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    b_ = Session()
    t_b = time.time()
    check(b_.answer == b'K' and b_.line() == b'+OK fake pop3d\r\n', 'control/timeoutpop3session 5, SIGHUP, and another session')
    pid_b = start_pid(srv, srv.log().count(' start user=') - 1)
    os.kill(pid_b, signal.SIGSTOP)
    check(wait_for(lambda: open('/proc/%d/stat' % pid_b).read().split(')')[-1].split()[0] == 'T', 5),
          'the second is stopped (as its user may stop it)')
    a_.a.sendall(b'alive\n')
    check(a_.line() == b'+OK got alive\r\n', 'the first still answers at 0 s')
    def killed(pid):
        return re.search(r'killed user=%s pid=%d seconds=(\d+)\n' % (USER, pid), srv.log())
    check(wait_for(lambda: killed(pid_a), 15), 'the first, started before SIGHUP, is killed: killed user= pid= seconds=')
    took_a = time.time() - t_a
    check(wait_for(lambda: killed(pid_b), 5), 'the stopped one is killed too')
    took_b = time.time() - t_b
    check(4 <= took_a <= 8 and 4 <= took_b <= 8 and all(5 <= int(killed(p).group(1)) <= 6 for p in (pid_a, pid_b)),
          'each at 5 s of age, with nothing else to wake the service (%.1f s, %.1f s)' % (took_a, took_b))
    check(end_status(srv, pid_a) == (USER, 'signal:9') and end_status(srv, pid_b) == (USER, 'signal:9'),
          'both end with status=signal:9, by SIGKILL')
    check(a_.orphaned() and b_.orphaned(), 'their clients see the connection close')
    check(srv.log().count('killed user=') == 2, 'each killed once, logged once')
    a_.close()
    b_.close()
    control('timeoutpop3session', None)

    # 11. SIGTERM: exit 0, the socket removed, sessions go on.
    s = Session()
    check(s.answer == b'K' and s.line() == b'+OK fake pop3d\r\n', 'one more session')
    pid = start_pid(srv, srv.log().count(' start user=') - 1)
    code = srv.stop()
    check(code == 0 and not os.path.exists(SOCK), 'SIGTERM: exits 0 and removes its socket (%s)' % code)
    s.a.sendall(b'still\n')
    check(s.line() == b'+OK got still\r\n', 'the session started goes on without it')
    s.a.sendall(b'exit 0\n')
    s.close()
    check(wait_for(lambda: not os.path.exists('/proc/%d' % pid) or
                   open('/proc/%d/stat' % pid).read().split(')')[-1].split()[0] == 'Z', 5), 'and ends')
    log = srv.log()
    check(not sanitized(log), 'no sanitizer report')
    if sanitized(log):
        print('# ' + log[:3000].replace('\n', '\n# '))
finally:
    for srv_ in servers:
        if srv_.p.poll() is None:
            srv_.p.kill()
            srv_.p.wait()
    for u in [USER, USER0] + made_vmail:
        drop_user(u)
    drop_group(GROUP)
    drop_group(USER)
    if os.environ.get('POSTERN_KEEP'):
        print('# kept %s' % D)
    else:
        shutil.rmtree(D, ignore_errors=True)

done()
