"""What the tests of postern's local services share (t-auth.py,
t-pspawn.py, t-keys.py): a service started with -d FD and waited for (s6's
readiness), its log, its descriptors and its stop; the sanitizer check;
and a record sent to a service while it is stopped, so that it finds the
record and the closed connection together when it goes on."""
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
