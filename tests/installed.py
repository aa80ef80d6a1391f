"""What the Python tests that run a whole installed postern share
(tests/t-pop3.py, tests/t-submission.py): ./install into a scratch home,
real Unix users and virtual mailboxes, the real services under an
s6-svscan of the test's own, their processes and the users they run as,
their logs, and the cleanup.  Run as root."""
import grp, os, pwd, re, shutil, subprocess, tempfile
from smtptest import BUILD, SRC, set_control
from tap import check, wait_for


def run(*args, data=None, env=None):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def ids(pid):
    """(real, effective, saved, fs uids), (the same gids), the
    supplementary gids of pid, from /proc/PID/status"""
    f = {}
    for line in open('/proc/%d/status' % pid):
        k, _, v = line.partition(':')
        f[k] = v.split()
    return [int(x) for x in f['Uid']], [int(x) for x in f['Gid']], [int(x) for x in f['Groups']]


def runs_as(pid, user, groups=()):
    """pid's every uid is user's, every gid its primary group's, and it
    has the groups named in groups and no other (its primary one aside)"""
    pw = pwd.getpwnam(user)
    u, g, sup = ids(pid)
    want = {grp.getgrnam(n).gr_gid for n in groups}
    return u == [pw.pw_uid] * 4 and g == [pw.pw_gid] * 4 and set(sup) - {pw.pw_gid} == want


class Installed:
    """A scratch directory /tmp/postern-test.* (0755): the home in home/,
    the test users' homes in users/."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='postern-test.', dir='/tmp')
        os.chmod(self.dir, 0o755)
        self.home = os.path.join(self.dir, 'home')
        self.users = os.path.join(self.dir, 'users')
        os.makedirs(self.users, mode=0o755)
        os.chmod(self.users, 0o755)
        self.names = []
        self.svscan = None

    def install(self, what):
        """./install into the home, then ./install --check (two checks;
        what: the layout the second speaks of)"""
        r = run(os.path.join(SRC, 'install'), '--home', self.home, '--build', BUILD)
        check(r.returncode == 0, './install into a scratch home')
        if r.returncode:
            print('# ' + r.stderr.decode(errors='replace').replace('\n', '\n# '))
        check(run(os.path.join(SRC, 'install'), '--home', self.home, '--build', BUILD, '--check').returncode == 0,
              './install --check is happy with ' + what)

    def ctl(self, name, value):
        set_control(os.path.join(self.home, 'control'), name, value)

    def prog(self, name, *args, data=None):
        """run the installed HOME/bin/name"""
        return run(os.path.join(self.home, 'bin', name), *args, data=data)

    def make_user(self, name):
        """a real Unix user with its home and ~/Maildir under users/;
        removed again by cleanup()"""
        if run('getent', 'passwd', name).returncode == 0:
            run('userdel', name)
        r = run('useradd', '--create-home', '--home-dir', os.path.join(self.users, name), '--shell', '/bin/sh',
                '--user-group', name)
        self.names.append(name)
        pw = pwd.getpwnam(name)
        for sub in ('', '/tmp', '/new', '/cur'):
            os.makedirs(os.path.join(pw.pw_dir, 'Maildir' + sub), exist_ok=True)
            os.chown(os.path.join(pw.pw_dir, 'Maildir' + sub), pw.pw_uid, pw.pw_gid)
            os.chmod(os.path.join(pw.pw_dir, 'Maildir' + sub), 0o700)
        return r.returncode == 0

    def vmail(self, domain, local):
        """the virtual mailbox local@domain, postern-vmail's (0700): its
        directory HOME/vmail/DOMAIN/LOCAL"""
        box = os.path.join(self.home, 'vmail', domain, local)
        vm = pwd.getpwnam('postern-vmail')
        dirs = [os.path.join(self.home, 'vmail', domain)] + [box + s for s in
                                                             ('', '/Maildir', '/Maildir/tmp', '/Maildir/new', '/Maildir/cur')]
        for d in dirs:
            os.makedirs(d, exist_ok=True)
            os.chown(d, vm.pw_uid, vm.pw_gid)
            os.chmod(d, 0o700)
        return box

    def start(self, *prefix):
        """s6-svscan on HOME/service, run through prefix (e.g. ip netns exec NS)"""
        self.svscan = subprocess.Popen(list(prefix) + ['s6-svscan', os.path.join(self.home, 'service')],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                       start_new_session=True)

    def svc_up(self, name, secs=30):
        """up, and ready if it says when (s6-svstat, polled: a service that
        restarts once on its way up is still waited for)"""
        d = os.path.join(self.home, 'service', name)
        want = 'true true' if os.path.exists(os.path.join(d, 'notification-fd')) else 'true'
        fields = 'up,ready' if want == 'true true' else 'up'
        return wait_for(lambda: run('s6-svstat', '-o', fields, d).stdout.decode().strip() == want, secs)

    def procs(self, name):
        """{pid: (parent pid, argv)} of the processes called name (their
        comm) with an argument in this home: this install's, not another's"""
        found = {}
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            try:
                if open('/proc/%s/comm' % d).read().strip() != name:
                    continue
                argv = open('/proc/%s/cmdline' % d, 'rb').read().decode(errors='replace').split('\0')[:-1]
                ppid = int(open('/proc/%s/stat' % d).read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if any(a.startswith(self.home + '/') for a in argv):
                found[int(d)] = (ppid, argv)
        return found

    def logtext(self, name):
        try:
            return open(os.path.join(self.home, 'log', name, 'current'), errors='replace').read()
        except OSError:
            return ''

    def logged(self, name, pattern, secs=5):
        return wait_for(lambda: re.search(pattern, self.logtext(name)) is not None, secs)

    def all_logs(self):
        return ''.join(self.logtext(n) for n in os.listdir(os.path.join(self.home, 'log')))

    def cleanup(self):
        """s6-svscan and its services stopped, the users removed, the
        scratch directory too (unless POSTERN_KEEP)"""
        if self.svscan:
            run('s6-svscanctl', '-t', os.path.join(self.home, 'service'))
            try:
                self.svscan.wait(30)
            except subprocess.TimeoutExpired:
                self.svscan.kill()
        for n in self.names:
            run('userdel', n)
        if not os.environ.get('POSTERN_KEEP'):
            shutil.rmtree(self.dir, ignore_errors=True)
