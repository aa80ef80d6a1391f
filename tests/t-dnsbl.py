#!/usr/bin/env python3
"""postern-smtpd's DNS checks, the blocklists of control/dnsbl and the
sender domains of control/senderdomaincheck (doc/smtp.md, "DNS
blocklists" and "Sender domains"), against a real resolver: unbound serving test zones on
127.0.0.1:53 in a network namespace of this test's own, whose
/etc/netns/NS/resolv.conf postern-listen and its postern-smtpds see (ip
netns exec).  Clients connect from 127.0.0.N of that namespace's
loopback; 127.0.0.1 is a RELAYCLIENT (tests/smtptest.py's rules).  Also
nameservers written here: one that never answers, one that answers with
forgeries first, and an address where nothing listens."""
import os, re, shutil, socket, struct, subprocess, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import Server, Conn
from netns import netns
from dnsns import DnsNamespace, run
from tap import check, done, wait_for

if os.geteuid() != 0:
    print('ok 1 # SKIP network namespaces need root')
    sys.exit(0)
for prog in ('ip', 'unbound'):
    if not shutil.which(prog):
        print('not ok 1 - %s is missing (tests/deps.sh installs it)' % prog)
        sys.exit(1)

DNS = DnsNamespace('ptbl')
NS = DNS.name
resolv = DNS.resolv


RECORDS = [
    '2.0.0.127.bl.test. A 127.0.0.2',        # the test entry of RFC 5782 5
    '3.0.0.127.bl.test. A 127.0.0.3',
    '4.0.0.127.bl.test. A 127.255.255.254',  # a list's error code: no listing
    '5.0.0.127.bl.test. A 10.1.1.1',         # outside 127/8: no listing
    '7.0.0.127.bl.test. A 127.0.0.2',        # listed, but DNSBLSKIP by the rules
    '1.0.0.127.bl.test. A 127.0.0.2',        # listed, but a RELAYCLIENT
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test. A 127.0.0.2',  # ::1, RFC 5782 2.4
    '2.0.0.127.codes.test. A 127.0.0.2',
    '3.0.0.127.codes.test. A 127.0.0.3',
    'good.test. MX 10 mx.good.test.',        # sender domains
    'mx.good.test. A 192.0.2.25',
    'xn--bcher-kva.test. MX 10 mx.good.test.',  # bücher.test
    'aonly.test. A 192.0.2.26',              # no MX: its address is the implicit MX
    'v6only.test. AAAA 2001:db8::26',
    'nullmx.test. MX 0 .',                   # RFC 7505: takes no mail
    'nullmx.test. A 192.0.2.27',
    'nomail.test. TXT "no mail here"',       # exists, but no MX, A or AAAA
    '9.0.0.127.bl.test. A 127.0.0.2',        # listed, and listed as a good sender too
    '9.0.0.127.wl.test. A 127.0.10.2',
    '10.0.0.127.bl.test. A 127.0.0.2',       # listed; a good-sender list's trust 0 only
    '10.0.0.127.wl.test. A 127.0.10.0',
    'spam.test.dbl.test. A 127.0.1.2',       # a sender domain a domain blocklist lists, subdomains too
    'bothmx.test. MX 0 .',                   # a null MX beside a real one: misconfigured, takes mail
    'bothmx.test. MX 10 mx.good.test.',
]


class FakeNameserver(threading.Thread):
    """UDP port 53 on addr in the namespace: counts the queries, and
    answers each as mode says: 'silent' never; 'forged' first with
    garbage, a listing under another id and a listing for another
    question, then with NXDOMAIN; 'lame' with an empty answer without RA
    or AA; 'late' with an A record after 6 s; 'listed' with 127.0.0.2; 'odd' with
    127.255.255.254 (a list's error code); 'icmp' with an ICMP "port
    unreachable" for the query's own datagram, then 127.0.0.2"""

    def __init__(self, addr):
        super().__init__(daemon=True)
        with netns(NS):
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.bind((addr, 53))
            self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            self.raw.bind((addr, 0))
        self.mode = 'silent'
        self.queries = 0

    @staticmethod
    def reply(q, rcode=0, a=None, qid=None, question=None):
        qid = q[:2] if qid is None else qid
        question = q[12:] if question is None else question
        head = qid + struct.pack('!BBHHHH', 0x81, 0x80 | rcode, 1, 1 if a else 0, 0, 0)
        rr = (struct.pack('!HHHIH', 0xc00c, 1, 1, 60, 4) + bytes(a)) if a else b''
        return head + question + rr

    def unreachable(self, peer, qlen):
        """an ICMP port unreachable to peer about its datagram to us, as the
        kernel would send were nothing listening here (or an attacker who
        guessed the port): with a connected socket it would be taken for
        the nameserver's refusal, and hide the answer that follows"""
        def csum(b):
            if len(b) % 2:
                b += b'\0'
            t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
            t = (t >> 16) + (t & 0xffff)
            t += t >> 16
            return ~t & 0xffff
        me = self.s.getsockname()[0]
        inner = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + 8 + qlen, 0, 0, 64, 17, 0,
                            socket.inet_aton(peer[0]), socket.inet_aton(me))
        inner = inner[:10] + struct.pack('!H', csum(inner)) + inner[12:]
        inner += struct.pack('!HHHH', peer[1], 53, 8 + qlen, 0)
        icmp = struct.pack('!BBHI', 3, 3, 0, 0) + inner
        icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
        self.raw.sendto(icmp, (peer[0], 0))

    def run(self):
        while True:
            try:
                q, peer = self.s.recvfrom(512)
            except OSError:
                return
            self.queries += 1
            if self.mode == 'silent' or len(q) < 17:
                continue
            if self.mode == 'lame':
                r = bytearray(self.reply(q))
                r[3] &= 0x7f
                self.s.sendto(bytes(r), peer)
                continue
            if self.mode == 'late':
                threading.Timer(6, self.s.sendto, (self.reply(q, a=(192, 0, 2, 9)), peer)).start()
                continue
            if self.mode in ('listed', 'odd', 'icmp'):
                if self.mode == 'icmp':
                    self.unreachable(peer, len(q))
                self.s.sendto(self.reply(q, a=(127, 255, 255, 254) if self.mode == 'odd' else (127, 0, 0, 2)), peer)
                continue
            other = bytes([q[0] ^ 0x55, q[1]])
            forged_q = bytearray(q[12:])
            forged_q[1] = ord('9') if forged_q[1] != ord('9') else ord('8')
            for m in (b'\x00' * 3, os.urandom(40), self.reply(q, a=(127, 0, 0, 2), qid=other),
                      self.reply(q, a=(127, 0, 0, 2), question=bytes(forged_q)), self.reply(q, rcode=3)):
                self.s.sendto(m, peer)


srv = None
try:
    failed = DNS.setup()
    if failed:
        print('not ok 1 - ' + failed)
        raise SystemExit(1)
    IPV6 = DNS.ipv6
    srv = Server(extra_control={'maxerrors': '4'})
    QLOG = DNS.unbound_start(srv.dir, RECORDS, zones=(('test.', 'static'), ('refuse.test.', 'refuse'),
                                                      ('spam.test.dbl.test.', 'redirect')), ipv6=IPV6)

    def asked(name):
        try:
            return (name + '. A IN') in open(QLOG, errors='replace').read()
        except OSError:
            return False

    with netns(NS):
        check(wait_for(lambda: run('ip', 'netns', 'exec', NS, 'python3', '-c',
                                   'import socket; socket.gethostbyname("3.0.0.127.bl.test")').returncode == 0, 10),
              'unbound answers in the namespace')
        srv.start(prefix=('ip', 'netns', 'exec', NS), listen='127.0.0.1,::1' if IPV6 else '127.0.0.1')
        logged = lambda pat: re.search(pat, srv.logtext(), re.M)

        def rcpt(src, to='demo@example.org'):
            """(code, text, seconds) of the first RCPT of a session from src"""
            c = Conn(srv.port, src)
            c.cmd('EHLO client.test')
            c.cmd('MAIL FROM:<a@b.test>')
            t = time.time()
            code, lines = c.cmd('RCPT TO:<%s>' % to)
            return code, lines[-1], time.time() - t, c

        # --- none configured: nothing asked ------------------------------
        code, text, _, c = rcpt('127.0.0.2')
        c.cmd('QUIT')
        check(code == 250 and not asked('2.0.0.127.bl.test'), 'no control/dnsbl: accepted, nothing asked')

        # --- a listed client ---------------------------------------------
        srv.control('dnsbl', 'bl.test')
        code, text, _, c = rcpt('127.0.0.2')
        check(code == 554 and '5.7.1' in text and '[127.0.0.2] is listed by bl.test' in text,
              'listed: RCPT refused with 554 5.7.1 naming the list (%s)' % text)
        check(c.cmd('RCPT TO:<list-x@example.org>')[0] == 554, 'every RCPT of the session refused')
        check(c.cmd('DATA')[0] == 554, 'DATA: no valid recipients')
        c.cmd('QUIT')
        check(srv.stub_ids() == [], 'nothing queued')
        code, text, _, c = rcpt('127.0.0.2', 'PostMaster@example.org')
        check(code == 250 and c.cmd('RCPT TO:<demo@example.org>')[0] == 554,
              'but postmaster: accepted (RFC 5321 4.5.1), the others still refused')
        c.cmd('QUIT')
        check(wait_for(lambda: logged(r'dnsbl ip=127\.0\.0\.2 zone=bl\.test answer=127\.0\.0\.2$')),
              'the dnsbl line names client, zone and answer')
        check(wait_for(lambda: logged(r'reject .*to=demo@example\.org .*554 5\.7\.1')), 'each refusal logged')
        code, text, _, c = rcpt('127.0.0.2')
        for _ in range(2):
            c.cmd('RCPT TO:<demo@example.org>')
        check(c.cmd('RCPT TO:<demo@example.org>')[0] == 554 and c.reply()[0] == 421,
              'the refusals count toward maxerrors: 421 after the fourth')

        # --- clean, odd and filtered answers ------------------------------
        code, text, _, c = rcpt('127.0.0.6')
        c.cmd('QUIT')
        check(code == 250 and asked('6.0.0.127.bl.test'), 'NXDOMAIN: accepted')
        code, text, _, c = rcpt('127.0.0.4')
        c.cmd('QUIT')
        check(code == 250, "a list's error code 127.255.255.254: accepted")
        check(wait_for(lambda: logged(r'dnsbl_error ip=127\.0\.0\.4 zone=bl\.test answer=127\.255\.255\.254 '
                                      r'why="answer is no listing"')), '... and logged as dnsbl_error')
        code, text, _, c = rcpt('127.0.0.5')
        c.cmd('QUIT')
        check(code == 250 and wait_for(lambda: logged(r'dnsbl_error ip=127\.0\.0\.5 zone=bl\.test answer=10\.1\.1\.1')),
              'an answer outside 127/8: accepted, logged')
        if IPV6:
            code, text, _, c = rcpt('::1')
            c.cmd('QUIT')
            check(code == 554 and '[::1] is listed by bl.test' in text,
                  'an IPv6 client: its 32 nibbles asked, listed (%s)' % text)
        else:
            print('ok - an IPv6 client # SKIP no ::1 in the namespace')
        srv.control('dnsbl', 'codes.test=127.0.0.2')
        code3, _, _, c = rcpt('127.0.0.3')
        c.cmd('QUIT')
        code2, _, _, c = rcpt('127.0.0.2')
        c.cmd('QUIT')
        check(code3 == 250 and code2 == 554, 'ZONE=CODE: only the code named lists')

        # --- who is not asked about ---------------------------------------
        srv.control('dnsbl', 'bl.test')
        code, text, _, c = rcpt('127.0.0.1', 'anyone@elsewhere.test')
        c.cmd('QUIT')
        check(code == 250 and not asked('1.0.0.127.bl.test'), 'a RELAYCLIENT: not looked up')
        with open(srv.rules, 'w') as f:
            f.write('127.0.0.1:allow,RELAYCLIENT=""\n127.0.0.7:allow,DNSBLSKIP=""\n:allow\n')
        time.sleep(1.1)  # the rules are read again when their mtime moves
        code, text, _, c = rcpt('127.0.0.7')
        c.cmd('QUIT')
        check(code == 250 and not asked('7.0.0.127.bl.test'), 'DNSBLSKIP from the rules: not looked up')

        # --- several zones, a bad line ------------------------------------
        srv.control('dnsbl', 'refuse.test\nbad_zone!\ncodes.test=127.0.0.9\nbl.test')
        code, text, _, c = rcpt('127.0.0.2')
        c.cmd('QUIT')
        check(code == 554 and text.endswith('listed by bl.test'), 'the zone that lists is named, whatever its place')
        check(wait_for(lambda: logged(r'dnsbl_error ip=127\.0\.0\.2 zone=refuse\.test why=refused$')),
              'a REFUSED answer: dnsbl_error why=refused')
        check(wait_for(lambda: logged(r'control/dnsbl: line left out .*: bad_zone!$')), 'a bad line: warned, left out')

        # --- nameservers that fail ----------------------------------------
        srv.control('dnsbl', 'bl.test')
        resolv('127.0.0.10', '127.0.0.1')
        code, text, secs, c = rcpt('127.0.0.2')
        c.cmd('QUIT')
        check(code == 554, 'nothing listens on the first nameserver: the second answers')
        if IPV6:
            resolv('::1')
            code, text, secs, c = rcpt('127.0.0.2')
            c.cmd('QUIT')
            check(code == 554, 'a nameserver on IPv6 (::1)')
        else:
            print('ok - a nameserver on IPv6 # SKIP no ::1 in the namespace')
        silent = FakeNameserver('127.0.0.9')
        silent.start()
        resolv('127.0.0.9')
        code, text, secs, c = rcpt('127.0.0.2')
        c.cmd('QUIT')
        check(code == 250 and 4 < secs < 7, 'a silent nameserver: accepted after the wait (%.2f s)' % secs)
        check(silent.queries == 2, 'the query was sent twice (%d)' % silent.queries)
        check(wait_for(lambda: logged(r'dnsbl_error ip=127\.0\.0\.2 zone=bl\.test why=timeout')), '... logged as a timeout')
        resolv('127.0.0.1')
        srv.control('greetdelay', '6')
        t = time.time()
        code, text, secs, c = rcpt('127.0.0.2')
        c.cmd('QUIT')
        check(code == 554 and time.time() - t >= 6 and secs < 1,
              'the lookups run during the greeting delay; an answer that came then counts after it (%.2f s)' % secs)
        srv.control('greetdelay', None)
        odd = FakeNameserver('127.0.0.12')
        odd.mode = 'odd'
        odd.start()
        resolv('127.0.0.12', '127.0.0.1')
        code, text, secs, c = rcpt('127.0.0.2')
        c.cmd('QUIT')
        check(code == 554, "one nameserver's error code does not hide another's listing")
        odd.mode = 'icmp'
        resolv('127.0.0.12')
        code, text, secs, c = rcpt('127.0.0.2')
        c.cmd('QUIT')
        check(code == 554, 'an ICMP port unreachable for the query (forgeable) does not hide the answer')
        forger = FakeNameserver('127.0.0.11')
        forger.mode = 'forged'
        forger.start()
        resolv('127.0.0.11')
        code, text, secs, c = rcpt('127.0.0.2')
        c.cmd('QUIT')
        check(code == 250 and secs < 2, 'garbage, another id, another question: not taken; NXDOMAIN then is (%.2f s)' % secs)
        forger.mode = 'listed'
        code, text, secs, c = rcpt('127.0.0.2')
        c.cmd('QUIT')
        check(code == 554, '... and the same nameserver is believed when it answers right')
        resolv('127.0.0.1')
        srv.control('dnsbl', None)

        # --- sender domains ------------------------------------------------
        def mail(src, sender, ehlo_utf8=False):
            c = Conn(srv.port, src)
            c.cmd('EHLO client.test')
            code, lines = c.cmd('MAIL FROM:<%s>%s' % (sender, ' SMTPUTF8' if ehlo_utf8 else ''))
            return code, lines[-1], c

        code, text, c = mail('127.0.0.6', 'a@nowhere.test')
        c.cmd('QUIT')
        check(code == 250, 'senderdomaincheck absent: any sender domain taken')
        srv.control('senderdomaincheck', '1')
        for dom, want, what in (('good.test', 250, 'an MX'), ('aonly.test', 250, 'an A and no MX'),
                                ('v6only.test', 250, 'an AAAA alone'),
                                ('nowhere.test', 550, 'no such domain: 550 5.1.8'),
                                ('nomail.test', 550, 'no MX, A or AAAA: 550 5.1.8'),
                                ('nullmx.test', 550, 'a null MX, with an A: 550 5.7.27'),
                                ('bothmx.test', 250, 'a null MX and another MX'),
                                ('x' * 64 + '.test', 501, 'a label of 64 bytes: refused before any lookup'),
                                ('refuse.test', 451, 'the resolver refuses: 451')):
            code, text, c = mail('127.0.0.6', 'someone@' + dom)
            c.cmd('QUIT')
            check(code == want, 'MAIL FROM at %s: %s (%s)' % (dom, what, text))
        check(wait_for(lambda: logged(r'reject ip=127\.0\.0\.6 from="" sender=someone@nullmx\.test reply="550 5\.7\.27')),
              'the refusal is logged')
        code, text, c = mail('127.0.0.6', 'someone@nowhere.test')
        check(code == 550 and '5.1.8' in text and c.cmd('MAIL FROM:<someone@good.test>')[0] == 250,
              'a refused MAIL leaves the session open for another')
        c.cmd('QUIT')
        for sender, what in (('', 'the null sender (a bounce)'), ('a@[192.0.2.1]', 'an address literal')):
            code, text, c = mail('127.0.0.6', sender)
            c.cmd('QUIT')
            check(code == 250, '%s: not looked up' % what)
        code, text, c = mail('127.0.0.6', 'j\u00f6rg@b\u00fccher.test', ehlo_utf8=True)
        c.cmd('QUIT')
        check(code == 250 and asked('xn--bcher-kva.test'),
              'a domain in UTF-8: looked up by its A-labels, xn--bcher-kva.test, found (%d)' % code)
        code, text, c = mail('127.0.0.6', 'j\u00f6rg@nirgendw\u00f6.test', ehlo_utf8=True)
        c.cmd('QUIT')
        check(code == 550 and '5.1.8' in text, 'one that does not exist: 550 5.1.8 (%d)' % code)
        code, text, c = mail('127.0.0.6', 'j@\u00e4b--c.test', ehlo_utf8=True)
        c.cmd('QUIT')
        check(code == 550 and '5.1.8' in text,
              'one that is no valid name (RFC 5891: -- as its third and fourth characters): 550 5.1.8 (%d)' % code)
        code, text, c = mail('127.0.0.1', 'a@nowhere.test')
        c.cmd('QUIT')
        check(code == 250, 'a RELAYCLIENT: not looked up')
        with open(srv.rules, 'w') as f:
            f.write('127.0.0.1:allow,RELAYCLIENT=""\n127.0.0.8:allow,SENDERDNSSKIP=""\n:allow\n')
        time.sleep(1.1)
        code, text, c = mail('127.0.0.8', 'a@nowhere.test')
        c.cmd('QUIT')
        check(code == 250, 'SENDERDNSSKIP from the rules: not looked up')
        # a pipelining client's commands behind a refused MAIL (maxerrors is 4)
        c = Conn(srv.port, '127.0.0.6')
        c.cmd('EHLO client.test')
        c.send('MAIL FROM:<a@nowhere.test>\r\n' + 'RCPT TO:<demo@example.org>\r\n' * 6 + 'DATA\r\n')
        codes = [c.reply()[0] for _ in range(8)]
        check(codes == [550] + [503] * 7 and c.cmd('NOOP')[0] == 250,
              'the RCPTs and DATA pipelined behind a refused MAIL: 503, not counted as errors (%s)' % codes)
        c.cmd('QUIT')
        resolv('127.0.0.9')
        t = time.time()
        code, text, c = mail('127.0.0.6', 'a@good.test')
        c.cmd('QUIT')
        check(code == 451 and 4 < time.time() - t < 8, 'a silent nameserver: 451 4.4.3 after the wait (%s)' % text)
        forger.mode = 'lame'
        resolv('127.0.0.11')
        code, text, c = mail('127.0.0.6', 'a@good.test')
        c.cmd('QUIT')
        check(code == 451, 'an empty answer from a server neither recursive nor authoritative: 451, not 550')
        forger.mode = 'late'
        c = Conn(srv.port, '127.0.0.6')
        c.cmd('EHLO client.test')
        first = c.cmd('MAIL FROM:<a@late.test>')[0]
        time.sleep(1.5)
        t = time.time()
        second = c.cmd('MAIL FROM:<a@LATE.test>')[0]
        c.cmd('QUIT')
        check(first == 451 and second == 250 and time.time() - t < 1,
              'an answer that came after the 451: the next MAIL from the domain takes it at once (%d, %d)' % (first, second))
        resolv('127.0.0.1')
        srv.control('senderdomaincheck', None)

        # --- sender domain blocklists (control/rhsbl) ------------------------
        srv.control('rhsbl', 'dbl.test')
        code, text, c = mail('127.0.0.6', 'a@Spam.TEST')
        r1 = c.cmd('RCPT TO:<demo@example.org>')
        r2 = c.cmd('RCPT TO:<postmaster@example.org>')
        check(code == 250 and r1[0] == 554 and r1[1][-1].endswith('sender domain spam.test is listed by dbl.test')
              and r2[0] == 250, 'a listed sender domain (any case): 554 at RCPT, postmaster still taken (%s)' % r1[1][-1])
        c.cmd('RSET')
        c.cmd('MAIL FROM:<a@good.test>')
        check(c.cmd('RCPT TO:<demo@example.org>')[0] == 250, 'the next transaction, from a domain not listed: taken')
        c.cmd('RSET')
        c.cmd('MAIL FROM:<>')
        check(c.cmd('RCPT TO:<demo@example.org>')[0] == 250, 'the null sender: not asked about')
        c.cmd('QUIT')
        check(wait_for(lambda: logged(r'rhsbl ip=127\.0\.0\.6 domain=spam\.test zone=dbl\.test answer=127\.0\.1\.2$')),
              'the rhsbl line names client, domain, zone and answer')
        check(asked('spam.test.dbl.test') and asked('good.test.dbl.test'), 'DOMAIN.ZONE asked')
        code, text, c = mail('127.0.0.6', 'a@B\u00fccher.test', ehlo_utf8=True)
        r = c.cmd('RCPT TO:<demo@example.org>')
        c.cmd('QUIT')
        check(code == 250 and r[0] == 250 and asked('xn--bcher-kva.test.dbl.test'),
              'a sender domain in UTF-8: asked by its A-labels, lowered (xn--bcher-kva.test.dbl.test)')
        code, text, c = mail('127.0.0.1', 'a@spam.test')
        check(c.cmd('RCPT TO:<someone@elsewhere.test>')[0] == 250, 'a RELAYCLIENT: not asked about')
        c.cmd('QUIT')
        long_domain = 'a' * 63 + '.' + 'b' * 63 + '.' + 'c' * 63 + '.' + 'd' * 46 + '.spam.test'
        code, text, c = mail('127.0.0.6', 'x@' + long_domain)
        r = c.cmd('RCPT TO:<demo@example.org>')
        c.cmd('QUIT')
        check(code == 250 and r[0] == 554 and asked('b' * 63 + '.' + 'c' * 63 + '.' + 'd' * 46 + '.spam.test.dbl.test'),
              'a domain of %d bytes, too long for the zone: its first label let go, the rest asked and listed' % len(long_domain))
        srv.control('rhsbl', 'bad_zone!\ndbl.test')
        before = srv.logtext().count('control/rhsbl: line left out')
        c = Conn(srv.port, '127.0.0.6')
        c.cmd('EHLO client.test')
        for i in range(3):
            c.cmd('MAIL FROM:<a@n%d.test>' % i)
            c.cmd('RSET')
        c.cmd('QUIT')
        check(wait_for(lambda: asked('n2.test.dbl.test')) and
              srv.logtext().count('control/rhsbl: line left out') == before + 1, 'a bad line: one warning a session')
        srv.control('dnsbl', 'bl.test')
        c = Conn(srv.port, '127.0.0.2')
        c.cmd('EHLO client.test')
        c.cmd('MAIL FROM:<a@good.test>')
        first = c.cmd('RCPT TO:<demo@example.org>')[0]
        c.cmd('RSET')
        c.cmd('MAIL FROM:<a@y1.spam.test>')
        again = c.cmd('RCPT TO:<demo@example.org>')
        c.cmd('QUIT')
        check(first == 554 and again[0] == 554 and 'client [127.0.0.2]' in again[1][-1] and
              not asked('y1.spam.test.dbl.test'), 'a client a list of addresses refused: its senders are not asked about')
        # --- lists of good senders (control/dnswl) ---------------------------
        srv.control('dnswl', 'wl.test=127.0.[0..255].[1..3]')
        srv.control('rhsbl', 'dbl.test')
        code, text, c = mail('127.0.0.9', 'a@spam.test')
        r = c.cmd('RCPT TO:<demo@example.org>')
        c.cmd('QUIT')
        check(code == 250 and r[0] == 250, 'a client a list of good senders names: the blocklists do not refuse it')
        check(wait_for(lambda: logged(r'dnswl ip=127\.0\.0\.9 zone=wl\.test answer=127\.0\.10\.2 blocklists=ignored$')),
              'the dnswl line says so')
        code, text, _, c = rcpt('127.0.0.10')
        c.cmd('QUIT')
        check(code == 554, 'an answer outside the codes named (trust 0): no good sender, refused')
        srv.control('dnsbl', None)
        srv.control('rhsbl', None)
        code, text, _, c = rcpt('127.0.0.11')
        c.cmd('QUIT')
        check(code == 250 and not asked('11.0.0.127.wl.test'), 'dnswl alone, with no blocklist to override: not asked')
        srv.control('dnswl', None)
        srv.control('dnsbl', None)
        srv.control('rhsbl', None)
        check(not logged(r'AddressSanitizer|runtime error'), 'no sanitizer report')
finally:
    if srv:
        srv.cleanup()
    DNS.cleanup()
done()
