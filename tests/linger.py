#!/usr/bin/python3
"""Plays postern-lspawn's side of postern-local -b -l for tests/t-local.sh:
starts a lingering postern-local as a test user with a SOCK_SEQPACKET
socket on its fd 0, hands it more batches the way lspawn does (fields and
fds in one record, doc/pipes.md), and prints what it saw as `name value`
lines for the shell to check.  Run as root.

usage: linger.py LOCAL INST HOME USER SENDER QID MSG LOOPMSG OUTFILE
"""
import os
import socket
import subprocess
import sys
import time

LOCAL, INST, HOME, USER, SENDER, QID, MSG, LOOPMSG, OUT = sys.argv[1:10]
RCPT = USER + "@example.org"
facts = []


def fact(name, value):
    facts.append("%s %s" % (name, str(value).replace("\n", "|")))


def start(msgpath, err):
    """A postern-local -b -l with one message on fd 3; returns it and our
    end of its socket."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    mfd = os.open(msgpath, os.O_RDONLY)

    def on_fd3():
        os.dup2(mfd, 3, inheritable=True)

    p = subprocess.Popen(
        ["setpriv", "--reuid=" + USER, "--regid=" + USER, "--init-groups",
         "env", "-i", "POSTERN_HOME=" + INST, LOCAL, "-b", "-l", "user", USER, HOME,
         "", RCPT, SENDER, QID, "", ""],
        stdin=theirs.fileno(), stdout=subprocess.PIPE, stderr=err, cwd=HOME,
        preexec_fn=on_fd3, pass_fds=(3,) if mfd != 3 else ())
    theirs.close()
    os.close(mfd)
    return p, ours


def lines_until_ready(p, timeout=20):
    """The result lines up to and without the "R" line; None if it ended."""
    got = []
    end = time.time() + timeout
    while time.time() < end:
        line = p.stdout.readline()
        if not line:
            return None
        line = line.decode("utf-8", "replace").rstrip("\n")
        if line == "R":
            return got
        got.append(line)
    return None


def batch(sock, items):
    """items: (ext, path) pairs, sent as one request."""
    fields = b""
    fds = []
    for ext, path in items:
        fields += b"\0".join(x.encode() for x in (ext, RCPT, SENDER, QID, "", "")) + b"\0"
        fds.append(os.open(path, os.O_RDONLY))
    socket.send_fds(sock, [fields], fds)
    for fd in fds:
        os.close(fd)


def message_fds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.path.dirname(MSG) in os.readlink("/proc/%d/fd/%s" % (pid, fd)):
                n += 1
        except OSError:
            pass
    return n


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


with open(OUT + ".err", "wb") as err:
    p, sock = start(MSG, err)
    fact("first", lines_until_ready(p))
    with open("/proc/%d/cmdline" % p.pid, "rb") as f:
        cmd = f.read()
    fact("cmdline_keeps_mode_user", b"postern-local" in cmd and b"\0user\0" + USER.encode() + b"\0" in cmd)
    fact("cmdline_names_message", any(x.encode() in cmd for x in (RCPT, SENDER, QID)))
    batch(sock, [("", MSG), ("", LOOPMSG)])
    fact("second", lines_until_ready(p))
    fact("fds_after_two", message_fds(p.pid))
    # Two more, the second slow: once the first's line is out, only the
    # second's file may be open (the first was let go before its result,
    # whatever fds the batches before took; pool.c reuses only a file open
    # nowhere else).
    batch(sock, [("", MSG), ("slow", MSG)])
    first_line = p.stdout.readline().decode("utf-8", "replace").rstrip("\n")
    time.sleep(0.3)
    fact("fds_after_first_of_two", "%d %s" % (message_fds(p.pid), first_line))
    fact("rest_of_two", lines_until_ready(p))
    batch(sock, [("slow", MSG)])
    time.sleep(0.5)
    fact("fds_while_busy", message_fds(p.pid))
    fact("slow", lines_until_ready(p))
    batch(sock, [("fds", MSG)])
    fact("third", lines_until_ready(p))
    rss = {}
    for i in range(1, 401):
        batch(sock, [("", MSG)])
        r = lines_until_ready(p)
        if r is None or len(r) != 1 or not r[0].startswith("K "):
            fact("stream_broke_at", "%d %s" % (i, r))
            break
        if i in (50, 400):
            rss[i] = rss_kb(p.pid)
    fact("stream_rss_growth_kb", rss.get(400, 10 ** 6) - rss.get(50, 0))
    fact("alive_after_stream", p.poll() is None)
    # a dot file refused (group-writable): Z each time, and no fd kept
    bad = os.path.join(HOME, ".postern-refused")
    with open(bad, "w") as f:
        f.write("./Maildir/\n")
    st = os.stat(HOME)
    os.chown(bad, st.st_uid, st.st_gid)
    os.chmod(bad, 0o664)
    fds_before = len(os.listdir("/proc/%d/fd" % p.pid))
    refused = []
    for i in range(3):
        batch(sock, [("refused", MSG)])
        refused.append(lines_until_ready(p))
    fact("refused_lines", refused)
    fact("fds_growth_after_refusals", len(os.listdir("/proc/%d/fd" % p.pid)) - fds_before)
    os.unlink(bad)
    # a record that is not 6n fields: the process ends, 111
    socket.send_fds(sock, [b"only\0three\0fields\0"], [os.open(MSG, os.O_RDONLY)])
    fact("malformed_rc", p.wait(timeout=20))
    sock.close()

    # fields for two messages and one fd: 111 too
    p, sock = start(MSG, err)
    lines_until_ready(p)
    fields = (b"\0".join(x.encode() for x in ("", RCPT, SENDER, QID, "", "")) + b"\0") * 2
    socket.send_fds(sock, [fields], [os.open(MSG, os.O_RDONLY)])
    fact("fd_count_mismatch_rc", p.wait(timeout=20))
    sock.close()

    # lspawn closes its end: the end of the wait, exit 0
    p, sock = start(MSG, err)
    lines_until_ready(p)
    sock.close()
    fact("eof_rc", p.wait(timeout=20))

with open(OUT, "w") as f:
    f.write("\n".join(facts) + "\n")
