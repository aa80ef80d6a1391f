"""Test harness for postern-smtpd (used by tests/t-smtp*.py and, through
`python3 tests/smtptest.py start|stop`, by tests/t-smtp*.sh).

A scratch home (mktemp -d under /tmp, 0755) gets postern-smtpd, postern-mkrcpt
and a stub postern-queue that records each message and envelope in
HOME/stub/ID.msg and ID.env (exit code from HOME/stub-exit, default 0;
HOME/stub-reply, if present, is written back on its fd 1, where the real
one sends the queue id it committed).
postern-listen runs postern-smtpd on 127.0.0.1 (a free port) as user
postern-smtpd (or nobody if it does not exist), with rules in DIR/tcp.smtp:
127.0.0.1 is a RELAYCLIENT, every other address (127.0.0.2, ...) is not.
Control files are read per connection, so tests change them between
connections."""
import os, pwd, re, shutil, signal, socket, subprocess, sys, tempfile, time

SRC = os.environ.get('POSTERN_SRC') or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get('POSTERN_BUILD') or os.path.join(SRC, 'build')
if not os.path.isabs(BUILD):
    BUILD = os.path.join(SRC, BUILD)

STUB = r'''#!/bin/sh
# stub postern-queue: records message (fd 0) and envelope (fd 1)
d=$(dirname "$0")/../stub
n=$(date +%s%N).$$
cat > "$d/tmp.$n.msg" || exit 54
cat <&1 > "$d/tmp.$n.env" || exit 54
if [ ! -s "$d/tmp.$n.env" ]; then rm -f "$d/tmp.$n.msg" "$d/tmp.$n.env"; exit 91; fi
# HOME/stub-reply, if any, goes back on fd 1 as the real one sends its queue id
[ -f "$d/../stub-reply" ] && cat "$d/../stub-reply" >&1 2>/dev/null
x=$(cat "$d/../stub-exit" 2>/dev/null || echo 0)
[ "$x" = 0 ] || { rm -f "$d/tmp.$n.msg" "$d/tmp.$n.env"; exit "$x"; }
mv "$d/tmp.$n.msg" "$d/$n.msg" && mv "$d/tmp.$n.env" "$d/$n.env" || exit 53
exit 0
'''

def set_control(cdir, name, value, newline=True):
    """cdir/name (a control directory's file) holds value, with a newline
    after it unless newline is False, mode 0644; value None removes it."""
    p = os.path.join(cdir, name)
    if value is None:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
        return
    with open(p, 'w') as f:
        f.write(value + '\n' if newline else value)
    os.chmod(p, 0o644)

def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p

def smtpd_user():
    for name in ('postern-smtpd', 'nobody'):
        try:
            pw = pwd.getpwnam(name)
            return name, pw.pw_uid, pw.pw_gid
        except KeyError:
            pass
    raise SystemExit('no postern-smtpd or nobody user')

class Server:
    def __init__(self, maxconn=40, dir=None, port=None, extra_control=None, args=(), listen_args=()):
        """args: postern-smtpd's; listen_args: more of postern-listen's (-G)"""
        self.dir = dir or tempfile.mkdtemp(prefix='postern-test.', dir='/tmp')
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.home = h = os.path.join(self.dir, 'home')
        for d in ('bin', 'control', 'stub', 'alias', 'vmail/virt.example/alice', 'users'):
            os.makedirs(os.path.join(h, d), exist_ok=True)
        os.chmod(h, 0o755)
        os.chmod(os.path.join(h, 'stub'), 0o777)
        for p in ('postern-smtpd', 'postern-mkrcpt'):
            shutil.copy(os.path.join(BUILD, 'bin', p), os.path.join(h, 'bin', p))
        self.write('bin/postern-queue', STUB, 0o755)
        ctl = {'me': 'example.org', 'locals': 'example.org\nlocalhost',
               'virtualdomains': 'virt.example', 'minuid': '65534', 'maxperip': '50',
               'timeoutsmtpd': '20'}
        ctl.update(extra_control or {})
        self.maxperip = ctl['maxperip']
        for k, v in ctl.items():
            self.control(k, v)
        for f in ('.postern-demo', '.postern-list-default', '.postern-postmaster'):
            self.write('alias/' + f, './Maildir/\n')
        self.mkrcpt()
        self.user, self.uid, self.gid = smtpd_user()
        rules = os.path.join(self.dir, 'tcp.smtp')
        with open(rules, 'w') as f:
            f.write('127.0.0.1:allow,RELAYCLIENT=""\n:allow\n')
        self.rules = rules
        self.port = port or free_port()
        self.log = os.path.join(self.dir, 'smtpd.log')
        self.maxconn = maxconn
        self.args = list(args)
        self.listen_args = list(listen_args)
        self.proc = None

    def write(self, rel, text, mode=0o644):
        p = os.path.join(self.home, rel)
        with open(p, 'w') as f:
            f.write(text)
        os.chmod(p, mode)

    def control(self, name, value):
        set_control(os.path.join(self.home, 'control'), name, value)

    def mkrcpt(self):
        env = dict(os.environ, POSTERN_HOME=self.home)
        subprocess.run([os.path.join(self.home, 'bin', 'postern-mkrcpt')], env=env, check=True,
                       stderr=subprocess.DEVNULL)

    def start(self, prefix=(), listen='127.0.0.1'):
        """prefix: a command to run the listener through (ip netns exec NS);
        listen: postern-listen's addresses (127.0.0.1,::1 for both)"""
        logf = open(self.log, 'ab')
        self.proc = subprocess.Popen(
            list(prefix) + [os.path.join(BUILD, 'bin', 'postern-listen'), '-c', str(self.maxconn), '-b', '200',
             '-p', self.maxperip, '-m', '421 4.7.0 example.org too many connections from your address',
             '-x', self.rules, '-u', str(self.uid), '-g', str(self.gid)] + self.listen_args + [
             listen, str(self.port), os.path.join(self.home, 'bin', 'postern-smtpd')] + self.args,
            stdout=logf, stderr=logf, stdin=subprocess.DEVNULL, start_new_session=True)
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise SystemExit('postern-listen did not start')

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None

    def cleanup(self):
        self.stop()
        if not os.environ.get('POSTERN_KEEP'):
            shutil.rmtree(self.dir, ignore_errors=True)

    def stub_ids(self):
        d = os.path.join(self.home, 'stub')
        return sorted(f[:-4] for f in os.listdir(d) if f.endswith('.msg') and not f.startswith('tmp.'))

    def stub_read(self, i):
        d = os.path.join(self.home, 'stub')
        return open(os.path.join(d, i + '.msg'), 'rb').read(), open(os.path.join(d, i + '.env'), 'rb').read()

    def stub_clear(self):
        d = os.path.join(self.home, 'stub')
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))

    def logtext(self):
        return open(self.log, 'rb').read().decode('utf-8', 'replace')

    def smtpd_pid(self, c):
        """pid of the postern-smtpd serving Conn c: from the connect log line, by client port."""
        port = c.s.getsockname()[1]
        for _ in range(50):
            m = re.findall(r'connect ip=\S+ port=%d .* pid=(\d+)' % port, self.logtext())
            if m:
                return int(m[-1])
            time.sleep(0.05)
        return None

    def stubs_running(self):
        """Stub postern-queues alive anywhere (an orphan's parent is no longer its smtpd)."""
        me = os.path.join(self.home, 'bin', 'postern-queue').encode()
        n = 0
        for d in os.listdir('/proc'):
            try:
                n += d.isdigit() and me in open('/proc/%s/cmdline' % d, 'rb').read()
            except OSError:
                pass
        return n


def proc_stat(pid):
    """(state, ppid) of a process from /proc, or None when it is gone."""
    try:
        st = open('/proc/%s/stat' % pid).read()
    except OSError:
        return None
    f = st[st.rindex(')') + 2:].split()
    return f[0], int(f[1])


def children(pid):
    """Processes (zombies included) whose parent is pid: a postern-smtpd's are its postern-queues."""
    return [int(d) for d in os.listdir('/proc') if d.isdigit() and (proc_stat(d) or ('', 0))[1] == pid]


class Conn:
    """One SMTP client connection with raw access to the bytes."""
    def __init__(self, port, src='127.0.0.1', timeout=30, greet=True):
        """src: the client's address; an IPv6 one (::1) connects to ::1"""
        v6 = ':' in src
        self.s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
        self.s.settimeout(timeout)
        self.s.bind((src, 0))
        self.s.connect(('::1' if v6 else '127.0.0.1', port))
        self.buf = b''
        self.greeting = self.reply() if greet else None

    def send(self, b):
        if isinstance(b, str):
            b = b.encode()
        self.s.sendall(b)

    def line(self):
        while b'\n' not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError('connection closed: %r' % self.buf)
            self.buf += d
        l, self.buf = self.buf.split(b'\n', 1)
        return l + b'\n'

    def reply(self):
        """(code, [lines]) of one possibly multi-line reply."""
        lines = []
        while True:
            l = self.line().decode('utf-8', 'replace').rstrip('\r\n')
            lines.append(l)
            if len(l) < 4 or l[3] != '-':
                return int(l[:3]), lines

    def cmd(self, c):
        self.send(c + '\r\n')
        return self.reply()

    def closed(self, wait=5):
        """True if the server closes the connection (after any pending bytes)."""
        self.s.settimeout(wait)
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    return True
                self.buf += d
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


if __name__ == '__main__':
    # start DIR [MAXCONN] -> prints port and postern-listen pid; stop DIR PID
    if sys.argv[1] == 'start':
        os.makedirs(sys.argv[2], exist_ok=True)
        srv = Server(dir=sys.argv[2], maxconn=int(sys.argv[3]) if len(sys.argv) > 3 else 40).start()
        print(srv.port, srv.proc.pid, srv.home)
        os._exit(0)
