#!/usr/bin/env python3
"""postern-listen on its own, with a shell script as the program: the
privilege drop after bind, the UCSPI environment, control/tcp.smtp rules
(allow, deny, variables, most specific wins, read again when the file
changes, a broken edit kept out), -G's supplementary groups, the -c limit with the rest waiting in the
backlog, a crashed child logged, bad arguments refused, IPv6, several
addresses in one process (IPv4 and IPv6 together, one limit), and SIGTERM
ending the listener while a session goes on.  tests/t-smtp*.py and
tests/t-smtp-e2e.sh run it with postern-smtpd behind it."""
import os, pwd, shutil, signal, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import BUILD, free_port, smtpd_user
from tap import check, done, wait_for

LISTEN = os.path.join(BUILD, 'bin', 'postern-listen')


D = tempfile.mkdtemp(prefix='postern-test.')
os.chmod(D, 0o755)
USER, UID, GID = smtpd_user()
# The program: prints its identity and environment, then waits for a line
# (or "crash", which kills it with SIGSEGV; or "exit N").
PROG = os.path.join(D, 'prog')
with open(PROG, 'w') as f:
    f.write('''#!/bin/sh
echo "id $(id -u) $(id -g) $(id -G)"
sed -n 's/^Groups:[[:space:]]*/groups /p' /proc/$$/status
env | grep -E '^(TCP|PROTO|RELAYCLIENT|GREETING|SPACEY|COLONS|KEEPME)' | sort
echo end
read -r line
case $line in
crash) kill -SEGV $$ ;;
exit*) exit ${line#exit } ;;
esac
echo "bye $line"
''')
os.chmod(PROG, 0o755)
RULES = os.path.join(D, 'tcp.smtp')
procs = []


def write_rules(text):
    # a new file renamed over the old, as an editor or admin would
    with open(RULES + '.new', 'w') as f:
        f.write(text)
    os.rename(RULES + '.new', RULES)


class Listener:
    def __init__(self, args, host='127.0.0.1', env=None, port=None):
        self.port = port or (free_port6() if host == '::1' else free_port())
        self.log = os.path.join(D, 'log.%d' % self.port)
        with open(self.log, 'wb') as lf:
            self.p = subprocess.Popen([LISTEN] + args + ['-u', str(UID), '-g', str(GID), host, str(self.port), PROG],
                                      stdout=lf, stderr=lf, stdin=subprocess.DEVNULL, env=env)
        procs.append(self.p)
        self.host = host
        self.ok = wait_for(lambda: 'listen ' in self.logtext() or self.p.poll() is not None)

    def logtext(self):
        with open(self.log, 'rb') as f:
            return f.read().decode('latin-1')

    def connect(self, src='127.0.0.1', timeout=5, dst=None):
        dst = dst or self.host
        fam = socket.AF_INET6 if ':' in dst else socket.AF_INET
        s = socket.socket(fam)
        s.settimeout(timeout)
        s.bind((src, 0))
        s.connect((dst, self.port))
        return s

    def stop(self):
        # bounded: a listener that ignores SIGTERM is a failure, not a hang
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                check(False, 'SIGTERM: listener on port %d still running after 10 s' % self.port)
                self.p.kill()
                self.p.wait()


def free_port6():
    s = socket.socket(socket.AF_INET6)
    s.bind(('::1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def free_port_both():
    """a port free on 127.0.0.1 and on ::1 at once"""
    for _ in range(50):
        p = free_port()
        s = socket.socket(socket.AF_INET6)
        try:
            s.bind(('::1', p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    raise OSError('no port free on both 127.0.0.1 and ::1')


def greeting(s):
    """what the program printed before it waits: lines up to 'end'"""
    data = b''
    while not data.endswith(b'end\n'):
        try:
            b = s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            break
        if not b:
            break
        data += b
    return data.decode('latin-1')


def env_of(text):
    return dict(l.split('=', 1) for l in text.splitlines() if '=' in l)


try:
    write_rules('# test rules\n'
                '127.0.0.1:allow,RELAYCLIENT="",GREETING=hello world\n'
                '127.0.0.2:deny\n'
                '127.0.0.:allow,SPACEY=" a, b ",COLONS=a:deny\n'
                '127.0.3.0/24:deny\n'
                '127.0.3.7:allow,GREETING=exact\n'
                '127.0.4.10-20:deny\n'
                ':allow\n')
    L = Listener(['-c', '3', '-x', RULES])
    check(L.ok and L.p.poll() is None, 'starts and logs "listen" (%s)' % L.logtext().strip()[:200])
    check('rules=7' in L.logtext(), 'seven rules read')
    st = open('/proc/%d/status' % L.p.pid).read()
    uids = [l.split()[1:] for l in st.splitlines() if l.startswith(('Uid:', 'Gid:', 'Groups:'))]
    check(uids[0] == [str(UID)] * 4 and uids[1] == [str(GID)] * 4,
          'after bind it runs as %s (%d:%d), every id: %s' % (USER, UID, GID, uids[:2]))
    check(uids[2] == [str(GID)] or uids[2] == [], 'no supplementary group but its own (%s)' % uids[2])
    capeff = [l.split()[1] for l in st.splitlines() if l.startswith('CapEff:')][0]
    check(capeff == '0000000000000000', 'no capability left (CapEff %s)' % capeff)
    # A taken-over program runs with the listener's uid: it must not be able
    # to trace the listener (not dumpable after the change of ids).
    probe = subprocess.run(['setpriv', '--reuid=%d' % UID, '--regid=%d' % GID, '--clear-groups', '/usr/bin/python3', '-c',
                            'import ctypes; l = ctypes.CDLL(None, use_errno=True); '
                            'r = l.ptrace(16, %d, 0, 0); print(r, ctypes.get_errno())' % L.p.pid],
                           capture_output=True, text=True, timeout=10)
    check(probe.stdout.split() == ['-1', '1'], 'a process of the same uid cannot ptrace it (EPERM: %s)' % probe.stdout.strip())

    s = L.connect('127.0.0.1')
    g = greeting(s)
    e = env_of(g)
    check(('id %d %d' % (UID, GID)) in g, 'the program runs as the listener\'s user (%s)' % g.splitlines()[0:1])
    check(e.get('PROTO') == 'TCP' and e.get('TCPREMOTEIP') == '127.0.0.1' and
          e.get('TCPREMOTEPORT') == str(s.getsockname()[1]) and e.get('TCPLOCALIP') == '127.0.0.1' and
          e.get('TCPLOCALPORT') == str(L.port), 'UCSPI variables: PROTO, TCPREMOTEIP/PORT, TCPLOCALIP/PORT')
    check(e.get('RELAYCLIENT') == '' and e.get('GREETING') == 'hello world',
          'exact rule: RELAYCLIENT="" and an unquoted value with a space')
    s.sendall(b'x\n')
    check(s.recv(100) == b'bye x\n', 'the connection is the program\'s stdin and stdout')
    s.close()

    s = L.connect('127.0.0.2')
    check(s.recv(100) == b'', 'a denied address is closed without a word')
    s.close()
    check(wait_for(lambda: 'deny ip=127.0.0.2' in L.logtext() and 'line=3' in L.logtext()),
          'and logged with the rule\'s line')

    e = env_of(greeting(L.connect('127.0.0.9')))
    check(e.get('SPACEY') == ' a, b ' and e.get('COLONS') == 'a:deny' and 'RELAYCLIENT' not in e,
          'prefix rule: a quoted value keeps spaces and commas; ":deny" inside a value is a value')
    check(L.connect('127.0.3.8').recv(100) == b'', 'CIDR /24 deny')
    e = env_of(greeting(L.connect('127.0.3.7')))
    check(e.get('GREETING') == 'exact', 'an exact address beats the /24 it is in, whatever the order')
    check(L.connect('127.0.4.15').recv(100) == b'', 'a range denies inside it')
    e = env_of(greeting(L.connect('127.0.4.21')))
    check('TCPREMOTEIP' in e and 'GREETING' not in e, 'and not beside it (127.0.4.21 gets the default rule)')

    # Rules read again when the file changes; a broken file is kept out.
    write_rules('127.0.0.9:deny\n:allow,GREETING=v2\n')
    check(L.connect('127.0.0.9').recv(100) == b'', 'an edit applies to the next connection')
    check(wait_for(lambda: 'rules file=' in L.logtext() and 'rules=2' in L.logtext()), 'and is logged')
    write_rules('127.0.0.9:allow\nnonsense here\n')
    check(L.connect('127.0.0.9').recv(100) == b'', 'a broken edit: the rules in force stay')
    check(wait_for(lambda: 'line 2: no ":allow" or ":deny"' in L.logtext()), 'and the log says which line and why')
    write_rules('127.0.0.9:allow,TCPREMOTEIP=1.2.3.4\n')
    check(L.connect('127.0.0.9').recv(100) == b'', 'a rule that would forge TCPREMOTEIP is refused: the rules in force stay')
    check(wait_for(lambda: 'set by postern-listen' in L.logtext()), 'with a log line saying why')
    os.unlink(RULES)
    check(env_of(greeting(L.connect('127.0.0.5'))).get('GREETING') == 'v2', 'the file removed: the rules in force stay')
    write_rules(':allow\n')
    before = L.logtext().count('rules file=')
    L.p.send_signal(signal.SIGHUP)
    check(wait_for(lambda: L.logtext().count('rules file=') == before + 1) and L.p.poll() is None,
          'SIGHUP: the rules are read again at once, and the listener lives on')

    # -c 3: three sessions, the fourth waits in the backlog until one ends.
    held = [L.connect('127.0.0.%d' % (20 + i)) for i in range(3)]
    for h in held:
        greeting(h)
    w = L.connect('127.0.0.30')
    w.settimeout(0.7)
    try:
        early = w.recv(100)
    except socket.timeout:
        early = None
    check(early is None, 'at -c 3 a fourth connection waits (not refused, not served)')
    check(wait_for(lambda: 'full connections=3' in L.logtext()), 'the limit is logged')
    held[0].sendall(b'done\n')
    held[0].recv(100)
    held[0].close()
    w.settimeout(5)
    check(greeting(w).startswith('id '), 'and is served when a session ends')
    for h in held[1:] + [w]:
        h.sendall(b'x\n')
        h.close()

    # A crashed program and a failing one are logged; a clean end is not.
    s = L.connect('127.0.0.40')
    greeting(s)
    s.sendall(b'crash\n')
    s.recv(100)
    check(wait_for(lambda: 'killed pid=' in L.logtext() and 'ip=127.0.0.40 signal=11' in L.logtext()),
          'a child killed by a signal is logged with its address and signal')
    s = L.connect('127.0.0.41')
    greeting(s)
    s.sendall(b'exit 111\n')
    s.recv(100)
    check(wait_for(lambda: 'exit pid=' in L.logtext() and 'ip=127.0.0.41 status=111' in L.logtext()),
          'a non-zero exit is logged')
    check('ip=127.0.0.1 status' not in L.logtext(), 'a clean exit is not')

    # SIGTERM: listening stops, a session under way goes on.
    s = L.connect('127.0.0.50')
    greeting(s)
    L.p.terminate()
    check(L.p.wait(5) == 0, 'SIGTERM: the listener exits 0')
    s.sendall(b'still\n')
    check(s.recv(100) == b'bye still\n', 'and the session under way goes on')
    s.close()
    refused = False
    try:
        L.connect('127.0.0.1', timeout=1)
    except OSError:
        refused = True
    check(refused, 'nothing listens on the port any more')

    # Bad arguments and a port taken: exit codes and messages.
    def run(args):
        r = subprocess.run([LISTEN] + args, capture_output=True, text=True, timeout=10)
        return r.returncode, r.stderr
    rc, err = run(['-u', str(UID), '-g', str(GID), '127.0.0.1', '25'])
    check(rc == 100 and 'usage' in err, 'no program: usage, exit 100')
    rc, err = run(['-u', '0', '-g', '0', '127.0.0.1', str(free_port()), PROG])
    check(rc == 100 and 'not root' in err, '-u 0 refused: the program never runs as root (%s)' % err.strip())
    rc, err = run(['-g', str(GID), '127.0.0.1', str(free_port()), PROG])
    check(rc == 100, 'no -u: refused')
    rc, err = run(['-c', '0', '-u', str(UID), '-g', str(GID), '127.0.0.1', str(free_port()), PROG])
    check(rc == 100 and '-c' in err, '-c 0 refused')
    rc, err = run(['-u', str(UID), '-g', str(GID), '127.0.0.1', str(free_port()), 'relative/prog'])
    check(rc == 100, 'a relative program path refused')
    rc, err = run(['-u', str(UID), '-g', str(GID), 'example.org', str(free_port()), PROG])
    check(rc == 111 and 'not an IPv4 or IPv6 address' in err, 'a host name as address: 111, says why')
    rc, err = run(['-u', str(UID), '-g', str(GID), '127.0.0.1', '70000', PROG])
    check(rc == 111 and 'not a port number' in err, 'port 70000: 111, says why')
    taken = socket.socket()
    taken.bind(('127.0.0.1', 0))
    taken.listen(1)
    rc, err = run(['-u', str(UID), '-g', str(GID), '127.0.0.1', str(taken.getsockname()[1]), PROG])
    check(rc == 111 and 'unable to bind' in err, 'a port in use: 111, unable to bind (%s)' % err.strip())
    taken.close()
    with open(RULES, 'w') as f:
        f.write('127.0.0.1:allow,1BAD=x\n')
    rc, err = run(['-x', RULES, '-u', str(UID), '-g', str(GID), '127.0.0.1', str(free_port()), PROG])
    check(rc == 111 and 'line 1' in err, 'a broken rules file at start: 111, with the line (%s)' % err.strip())
    rc, err = run(['-x', os.path.join(D, 'missing'), '-u', str(UID), '-g', str(GID), '127.0.0.1', str(free_port()), PROG])
    check(rc == 111 and 'unable to read' in err, 'a missing rules file at start: 111')

    # Inherited TCP variables never reach the program; the rest of the environment does.
    env = dict(os.environ, TCPREMOTEIP='6.6.6.6', PROTO='X', KEEPME='yes')
    L2 = Listener([], env=env)
    s = L2.connect('127.0.0.1')
    e = env_of(greeting(s))
    check(e.get('TCPREMOTEIP') == '127.0.0.1' and e.get('PROTO') == 'TCP',
          'TCPREMOTEIP and PROTO from the listener\'s own environment are replaced')
    check(e.get('KEEPME') == 'yes', 'the rest of its environment is passed on')
    s.close()
    L2.stop()

    # -G: the supplementary groups, the listener's and so its programs'
    # (postern-smtpd's group postern-srs, to read the SRS key): GID and
    # the listed ones, no other; gids that name no group are fine.
    def groups_of(text):
        line = [l for l in text.splitlines() if l.startswith('groups')]
        return sorted(int(g) for g in line[0].split()[1:]) if line else None
    LG = Listener(['-G', '54321,54322'])
    st = open('/proc/%d/status' % LG.p.pid).read()
    lg = sorted(int(g) for l in st.splitlines() if l.startswith('Groups:') for g in l.split()[1:])
    check(LG.ok and lg == sorted([GID, 54321, 54322]), '-G 54321,54322: the listener has GID and those groups (%s)' % lg)
    s = LG.connect('127.0.0.1')
    g = greeting(s)
    check(groups_of(g) == sorted([GID, 54321, 54322]) and ('id %d %d' % (UID, GID)) in g,
          'and so has its program, still as UID:GID (%s)' % g.splitlines()[:2])
    s.close()
    LG.stop()
    LG = Listener(['-G', '54323'])
    s = LG.connect('127.0.0.1')
    check(groups_of(greeting(s)) == sorted([GID, 54323]), '-G with one group')
    s.close()
    LG.stop()
    for bad, why in (('', 'empty'), ('x', 'not a number'), ('12,,13', 'an empty element'), ('12,', 'a trailing comma'),
                     ('-1', 'negative'), ('4294967295', 'over the largest gid'), ('12 ', 'a blank'),
                     (','.join(str(60000 + i) for i in range(17)), '17 groups')):
        rc, err = run(['-G', bad, '-u', str(UID), '-g', str(GID), '127.0.0.1', str(free_port()), PROG])
        check(rc == 100 and '-G' in err, '-G %s: exit 100, says -G (%s)' % (why, err.strip()[:100]))
    rc, err = run(['-G', ','.join(str(60000 + i) for i in range(16)), '-u', str(UID), '-g', str(GID), '127.0.0.1', '70000', PROG])
    check(rc == 111 and 'not a port number' in err, '-G with 16 groups is taken (the port is what fails here)')
    # Not started as root: the ids must already be the ones asked for,
    # the -G groups included (it cannot take them, and will not run without)
    def as_user(groups, args):
        """the listener started as UID:GID with groups already: its Popen and log"""
        log = os.path.join(D, 'log.asuser.%s' % groups)
        with open(log, 'wb') as lf:
            p = subprocess.Popen(['setpriv', '--reuid=%d' % UID, '--regid=%d' % GID, '--groups=' + groups, LISTEN] + args +
                                 ['-u', str(UID), '-g', str(GID), '127.0.0.1', str(free_port()), PROG],
                                 stdout=lf, stderr=lf, stdin=subprocess.DEVNULL)
        procs.append(p)
        return p, lambda: open(log, 'rb').read().decode('latin-1')
    p, text = as_user('54321', ['-G', '54321,54322'])
    check(p.wait(10) == 111 and 'not already in the groups -G asks for' in text(),
          'not root, without one of the -G groups: 111, says so (%s)' % text().strip())
    p, text = as_user('54321,54322', ['-G', '54322,54321'])
    check(wait_for(lambda: 'listen ' in text() or p.poll() is not None) and p.poll() is None,
          'not root, already in the -G groups: it runs (%s)' % text().strip())
    p.terminate()
    p.wait(10)

    # -p 2: the third session from one address is refused with -m's line,
    # without a program; another address is still served; an IPv6 client
    # counts by its /64.
    L3 = Listener(['-c', '10', '-p', '2', '-m', '421 busy here'])
    check('perip=2' in L3.logtext(), '-p 2 is in the start line')
    two = [L3.connect('127.0.0.60') for _ in range(2)]
    for t in two:
        greeting(t)
    third = L3.connect('127.0.0.60')
    check(third.recv(100) == b'421 busy here\r\n' and third.recv(100) == b'',
          'a third session from one address: -m\'s line and CRLF, then closed')
    check(wait_for(lambda: 'perip ip=127.0.0.60' in L3.logtext() and 'connections=2' in L3.logtext()),
          'logged as perip, with the count')
    check(greeting(L3.connect('127.0.0.61')).startswith('id '), 'another address is served meanwhile')
    two[0].sendall(b'x\n')
    two[0].recv(100)
    two[0].close()
    check(wait_for(lambda: greeting(L3.connect('127.0.0.60')).startswith('id ')),
          'when one of its sessions ends, the address is served again')
    L3.stop()
    for t in two[1:]:
        t.close()
    rc, err = run(['-p', '2', '-m', 'bad\ttext', '-u', str(UID), '-g', str(GID), '127.0.0.1', str(free_port()), PROG])
    check(rc == 100 and 'printable' in err, '-m with a control character refused')

    # SIGTERM caught while the listener drains its signal pipe after a
    # session's SIGCHLD woke it: the flag must be looked at after the drain,
    # or the drain eats SIGTERM's byte and poll sleeps for good.  strace
    # holds each of the listener's reads for 0.4 s, so the SIGTERM sent
    # 0.1 s after the session's end lands inside the drain every time.
    # (Leak checking is off for this one: it cannot run under ptrace.)
    PIDPROG = os.path.join(D, 'prog-pid')
    with open(PIDPROG, 'w') as f:
        f.write('#!/bin/sh\necho "pid $$"\nread -r line\n')
    os.chmod(PIDPROG, 0o755)
    if shutil.which('strace'):
        port = free_port()
        with open(os.path.join(D, 'log.drain'), 'wb') as lf:
            LT = subprocess.Popen([LISTEN, '-u', str(UID), '-g', str(GID), '127.0.0.1', str(port), PIDPROG],
                                  stdout=lf, stderr=lf, stdin=subprocess.DEVNULL,
                                  env=dict(os.environ, ASAN_OPTIONS=os.environ.get('ASAN_OPTIONS', '') + ':detect_leaks=0'))
        procs.append(LT)
        wait_for(lambda: 'listen ' in open(os.path.join(D, 'log.drain'), 'rb').read().decode('latin-1'))
        s = socket.create_connection(('127.0.0.1', port), timeout=5)
        kid = int(s.recv(100).split()[1])
        # attached only now: the start of the session's program is not held
        tracer = subprocess.Popen(['strace', '-o', os.path.join(D, 'strace.drain'), '-e', 'trace=read',
                                   '-e', 'inject=read:delay_enter=400000', '-p', str(LT.pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(tracer)
        attached = b'attached' in tracer.stderr.readline()
        if attached:
            s.close()

            def gone():
                try:
                    with open('/proc/%d/stat' % kid) as f:
                        return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
                except FileNotFoundError:
                    return True
            wait_for(gone)
            time.sleep(0.1)
            LT.terminate()
            try:
                rc = LT.wait(10)
            except subprocess.TimeoutExpired:
                rc = None
            with open(os.path.join(D, 'strace.drain')) as f:
                trace = f.read()
            check(rc == 0, 'SIGTERM during the drain of the signal pipe: the listener exits 0%s'
                  % ('' if rc == 0 else ' (%s; trace: %s)' % ('still running after 10 s' if rc is None else 'exit %s' % rc,
                                                             ' | '.join(trace.splitlines()[:4]))))
        else:
            s.close()
            check(True, 'SIGTERM during the drain: skipped, strace cannot attach here')
        for q in (LT, tracer):
            if q.poll() is None:
                q.kill()
            q.wait()
    else:
        check(True, 'SIGTERM during the drain: skipped, no strace')

    # IPv6, when the machine has it.
    def have_ipv6_loopback():
        try:
            free_port6()
            return True
        except OSError:
            return False
    if have_ipv6_loopback():
        L6 = Listener([], host='::1')
        s = L6.connect('::1')
        e = env_of(greeting(s))
        check(e.get('PROTO') == 'TCP6' and e.get('TCPREMOTEIP') == '::1' and e.get('TCPLOCALIP') == '::1',
              'IPv6: PROTO=TCP6, TCPREMOTEIP=::1')
        s.close()
        L6.stop()
        L6 = Listener(['-p', '1', '-m', '421 one per /64'], host='::1')
        s = L6.connect('::1')
        greeting(s)
        # ::1 and the rest of ::/64 are one client; another /64 on
        # loopback cannot be made without configuring an address, so the
        # /64 grouping itself is tests/unit/listen_perip.c's.
        t = L6.connect('::1')
        check(t.recv(100) == b'421 one per /64\r\n', 'IPv6: -p applies (the second session of ::1 refused)')
        s.close()
        t.close()
        L6.stop()
    else:
        check(True, 'IPv6: skipped, ::1 cannot be bound on this machine')
    # Several addresses, one process: a socket each, one -c limit.  Two
    # IPv4 loopback addresses always; ::1 beside 127.0.0.1 where it is.
    LM = Listener(['-c', '1'], host='127.0.0.1,127.0.0.2')
    check(LM.ok and 'address=127.0.0.1,127.0.0.2 ' in LM.logtext(),
          'two addresses: one listener, its start line names both (%s)' % LM.logtext().strip()[:120])
    a = LM.connect('127.0.0.1', dst='127.0.0.1')
    ea = env_of(greeting(a))
    check(ea.get('TCPLOCALIP') == '127.0.0.1', 'a connection to the first address: TCPLOCALIP=127.0.0.1')
    b = LM.connect('127.0.0.1', dst='127.0.0.2', timeout=0.5)
    waited = False
    try:
        b.recv(100)
    except socket.timeout:
        waited = True
    check(waited, '-c 1 covers both: the second address\'s client waits while the first session runs')
    a.sendall(b'x\n')
    a.recv(100)
    a.close()
    b.settimeout(5)
    eb = env_of(greeting(b))
    check(eb.get('TCPLOCALIP') == '127.0.0.2' and eb.get('TCPLOCALPORT') == str(LM.port),
          'when it ends, the waiting one is served: TCPLOCALIP=127.0.0.2, same port')
    b.close()
    # At the limit each freed place goes to the address after the one
    # served last: with two clients waiting on the first address and one
    # on the second, the second's comes next, not after the first's queue.
    a = LM.connect('127.0.0.1', dst='127.0.0.1')
    greeting(a)
    waiting = [LM.connect('127.0.0.1', dst='127.0.0.1'), LM.connect('127.0.0.1', dst='127.0.0.1'),
               LM.connect('127.0.0.1', dst='127.0.0.2')]
    time.sleep(0.2)
    a.sendall(b'x\n')
    a.close()
    order = []
    for _ in range(3):
        for w in waiting:
            if w not in order:
                w.settimeout(0.3)
        served = None
        for _ in range(30):
            for w in waiting:
                if w in order:
                    continue
                try:
                    data = w.recv(4096, socket.MSG_PEEK)
                except socket.timeout:
                    continue
                if data:
                    served = w
                    break
            if served:
                break
        if not served:
            break
        order.append(served)
        served.settimeout(5)
        greeting(served)
        served.sendall(b'x\n')
        served.close()
    check([waiting.index(w) for w in order] == [2, 0, 1],
          'at the limit the places go in turn: the second address\'s client before the first\'s queue (%s)'
          % [waiting.index(w) for w in order])
    for w in waiting:
        if w not in order:
            w.close()
    LM.stop()
    if have_ipv6_loopback():
        LM = Listener([], host='127.0.0.1,::1', port=free_port_both())
        a = LM.connect('127.0.0.1', dst='127.0.0.1')
        b = LM.connect('::1', dst='::1')
        ea, eb = env_of(greeting(a)), env_of(greeting(b))
        check(ea.get('PROTO') == 'TCP' and eb.get('PROTO') == 'TCP6' and eb.get('TCPLOCALIP') == '::1',
              'IPv4 and IPv6 in one listener: PROTO=TCP and TCP6, each with its own local address')
        a.close()
        b.close()
        LM.stop()
        port = free_port_both()
        held = socket.socket(socket.AF_INET6)
        held.bind(('::1', port))
        held.listen(1)
        rc, err = run(['-u', str(UID), '-g', str(GID), '127.0.0.1,::1', str(port), PROG])
        check(rc == 111 and '::1 port %d: unable to bind' % port in err,
              'one address of two taken: exit 111 naming it, no listener on the other (%s)' % err.strip())
        held.close()
    else:
        check(True, 'IPv4 and IPv6 in one listener: skipped, ::1 cannot be bound on this machine')
        check(True, 'one address of two taken: skipped, no ::1')
    for bad, why in (('127.0.0.1,', 'an empty element'), (',127.0.0.1', 'an empty first element'),
                     ('127.0.0.1,' + 'a' * 70, 'an overlong element'),
                     (','.join('127.0.0.%d' % i for i in range(1, 10)), 'nine addresses')):
        rc, err = run(['-u', str(UID), '-g', str(GID), bad, str(free_port()), PROG])
        check(rc == 100 and 'address' in err, 'ADDRESS with %s: exit 100 (%s)' % (why, err.strip()[:100]))
    rc, err = run(['-u', str(UID), '-g', str(GID), '127.0.0.1,127.0.0.1', str(free_port()), PROG])
    check(rc == 111 and 'unable to bind' in err, 'an address named twice: its second bind fails, exit 111')
    rc, err = run(['-u', str(UID), '-g', str(GID), '0,127.0.0.1', str(free_port()), PROG])
    check(rc == 111 and 'unable to bind' in err, '0 beside 127.0.0.1: the kernel refuses the overlap, exit 111')

    # Under the sanitizer build (tests/run.sh runs this test with it too),
    # a report goes to the listener's log: none may be there.
    reports = []
    for f in os.listdir(D):
        if f.startswith('log.'):
            with open(os.path.join(D, f), 'rb') as lf:
                t = lf.read().decode('latin-1')
            reports += [l for l in t.splitlines() if 'Sanitizer' in l or 'runtime error' in l]
    check(not reports, 'no sanitizer report in any listener log (%s)' % (reports[:2],))
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if not os.environ.get('POSTERN_KEEP'):
        subprocess.run(['rm', '-rf', D])

done()
