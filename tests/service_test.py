"""What the tests of postern's local services share (t-auth.py,
t-pspawn.py, t-keys.py, t-submission.py): a service started with -d FD
and waited for (s6's readiness), its log, its descriptors and its stop;
the sanitizer check; one request and its answer, from this process or
from a child of another uid; and a record sent to a service while it is
stopped, so that it finds the record and the closed connection together
when it goes on."""
import os, signal, socket, subprocess, time


def sanitized(err):
    """a report of the sanitizer build's in err (run.sh sends them to stderr here)"""
    return 'Sanitizer' in err or 'runtime error' in err


class Server:
    """argv[0] -d FD argv[1:], its stderr in a file of logdir, started
    and waited for: .ready when it wrote its newline on FD within wait
    seconds."""

    def __init__(self, argv, logdir, env, preexec=None, wait=10, stop_wait=10):
        r, w = os.pipe()
        self.stop_wait = stop_wait
        self.err = os.path.join(logdir, 'err.%d' % time.monotonic_ns())
        with open(self.err, 'wb') as e:
            self.p = subprocess.Popen([argv[0], '-d', str(w)] + list(argv[1:]), stderr=e, stdin=subprocess.DEVNULL,
                                      pass_fds=(w,), env=env, preexec_fn=preexec)
        os.close(w)
        os.set_blocking(r, False)
        got = b''
        end = time.time() + wait
        while time.time() < end and self.p.poll() is None and not got:
            try:
                got = os.read(r, 10)
            except BlockingIOError:
                time.sleep(0.02)
        os.close(r)
        self.ready = got == b'\n'

    def log(self):
        with open(self.err, errors='replace') as f:
            return f.read()

    def nfds(self):
        """how many descriptors it holds"""
        return len(os.listdir('/proc/%d/fd' % self.p.pid))

    def settled_nfds(self):
        """the descriptors it holds at rest: the least of ten looks over
        half a second, since a connection the test has just closed stays
        open in the server until it gets to it (later on a loaded machine)"""
        n = self.nfds()
        for _ in range(10):
            time.sleep(0.05)
            n = min(n, self.nfds())
        return n

    def stop(self):
        """SIGTERM; its exit code, or -1 after a sanitizer's report"""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            code = self.p.wait(self.stop_wait)
        except subprocess.TimeoutExpired:
            self.p.kill()
            code = self.p.wait()
        return -1 if sanitized(self.log()) else code


def ask(path, rec, fds=(), timeout=30):
    """rec (with the descriptors fds) on a new connection to the
    SOCK_SEQPACKET socket at path: the answer, or b'' when the connection
    ends unanswered"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    s.connect(path)
    try:
        if fds:
            socket.send_fds(s, [rec], fds)
        else:
            s.send(rec)
        a = s.recv(1000)
    except (ConnectionResetError, BrokenPipeError):  # closed before or after the send
        a = b''
    s.close()
    return a


def ask_as(path, uid, gid, rec, fds=(), timeout=10):
    """ask() from a child process of uid and gid, no other group: the
    answer (b'' when closed unanswered), or None when the child failed"""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            os.write(w, b'A' + ask(path, rec, fds, timeout))
            code = 0
        except BaseException:
            pass
        os._exit(code)
    os.close(w)
    got = b''
    while True:
        b = os.read(r, 2000)
        if not b:
            break
        got += b
    os.close(r)
    os.waitpid(pid, 0)
    return got[1:] if got.startswith(b'A') else None


def send_while_stopped(srv, path, rec, fds):
    """rec with the descriptors fds sent on a new connection to the socket
    at path, and the connection closed, while srv is stopped (SIGSTOP):
    when it goes on it finds both, as it would a peer that gave up on it"""
    srv.p.send_signal(signal.SIGSTOP)
    try:
        q = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        q.connect(path)
        socket.send_fds(q, [rec], fds)
        q.close()
    finally:
        srv.p.send_signal(signal.SIGCONT)


def as_uid(uid):
    """a preexec_fn: uid, and the gid of the same number, with no other group"""
    def pre():
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    return pre


def recv_record(s, cap=4096):
    """the next record on s; b'' when the connection ends, None on a timeout"""
    try:
        return s.recv(cap)
    except (ConnectionResetError, BrokenPipeError):
        return b''
    except socket.timeout:
        return None


def send_record(s, rec, fds=()):
    """rec on s, with fds (SCM_RIGHTS); False when it could not go"""
    try:
        if fds:
            socket.send_fds(s, [rec], fds)
        else:
            s.send(rec)
        return True
    except OSError:
        return False


def is_open(s):
    """the service has not closed the connection s (nothing to read yet);
    s is left with a 10 s timeout"""
    s.setblocking(False)
    try:
        return s.recv(10) != b''
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.settimeout(10)
