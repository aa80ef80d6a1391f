#!/usr/bin/python3
"""DMARC end to end (control/dmarc; doc/dkim.md, "DMARC"): RFC 7489 as
RFC 9989 revises it, the policy and the Organizational Domain found by
the DNS Tree Walk (no public suffix list).  With control/dmarc 1,
port-25 postern-smtpd starts postern-dkimverify for a stranger's
message even when control/dkimverify is 0, and its Authentication-Results
field gets, after the dkim= clauses, an spf= clause (when control/spf
checked MAIL FROM, or the HELO name for the null sender) and a dmarc=
clause; with control/dmarc 2 a message that fails under p=reject (not
testing, SPF evaluated) is refused after the final dot with 550 5.7.1.

The approach is tests/t-dkimverify.py's: the DMARC, SPF and DKIM key
records are served by unbound in a network namespace of this test's own
(tests/dnsns.py), signatures are made by python3-dkim (dkimpy) with a key
made here, and clients connect from 127.0.0.2 and .3 (127.0.0.1 is a
RELAYCLIENT: nothing checked).  Before anything is sent the fixtures are
checked on their own: dkimpy verifies every signature against the same
unbound, python3-spf (pyspf) gives the SPF result each session is meant
to get, dnspython sees the DMARC records as meant (two at one name, a
REFUSED zone), Python's email package counts the From addresses, and a
small model of the tree walk, fed by those answers, agrees with each
expected verdict.  Every Authentication-Results field is matched exactly
and read by python3-authres (an RFC 8601 parser written by others) in
its strict mode: the authserv-id, each clause's method and result, dkim's
header.d, spf's smtp.mailfrom or smtp.helo, dmarc's header.from."""
import base64, email, email.policy, email.utils, os, re, shutil, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import BUILD, Server, Conn
from netns import netns
from dnsns import DnsNamespace, run
from tap import check, done, wait_for
from dkimtest import txt, sig_tags, named, header_fields

if os.geteuid() != 0:
    print('ok 1 # SKIP network namespaces need root')
    sys.exit(0)
for prog in ('ip', 'unbound', 'openssl'):
    if not shutil.which(prog):
        print('not ok 1 - %s is missing (tests/deps.sh installs it)' % prog)
        sys.exit(1)
try:
    import dkim, dkim.util, dns.resolver, dns.exception, spf, authres, authres.core, authres.dmarc
except ImportError as ex:
    print('not ok 1 - %s (tests/deps.sh installs python3-dkim, python3-dnspython, python3-spf, python3-authres)' % ex)
    sys.exit(1)

ME = 'mx.example.org'  # control/me: the authserv-id
DNS = DnsNamespace('ptdmarc')
NS = DNS.name
PROG = os.path.join(BUILD, 'bin', 'postern-dkimverify')
SEL = 'sel'
# the domains that sign (each gets SEL._domainkey.D, one RSA key for all)
SIGNERS = ('example.test', 'other.test', 'strict.test', 'sp.test', 'b.psd.test', 'b.nopsd.test', 'psdn.test',
           'org.psdn.test', 'c.d.e.f.g.deep.test', 'nodmarc.test', 'refused.test', 'reft.test')
SPF_PASS = 'v=spf1 ip4:127.0.0.2 -all'
DMARC_RECORDS = [
    ('example.test', 'v=DMARC1; p=reject'),
    ('strict.test', 'v=DMARC1; p=none; adkim=s; aspf=s'),
    ('sp.test', 'v=DMARC1; p=reject; sp=quarantine'),
    # two DMARC records at one name: both discarded, the walk goes on up to sp.test
    ('two.sp.test', 'v=DMARC1; p=none'),
    ('two.sp.test', 'v=DMARC1; p=reject; sp=reject'),
    ('psd.test', 'v=DMARC1; p=none; psd=y'),
    ('nopsd.test', 'v=DMARC1; p=none'),
    ('psdn.test', 'v=DMARC1; p=none'),
    ('org.psdn.test', 'v=DMARC1; p=none; psd=n'),
    # a.b.c.d.e.f.g.deep.test (9 labels): the walk goes from it straight to
    # its last 7 labels, never asking the 8-label name with its decoy
    ('b.c.d.e.f.g.deep.test', 'v=DMARC1; p=reject; sp=reject'),
    ('c.d.e.f.g.deep.test', 'v=DMARC1; p=none; sp=quarantine'),
    ('x.reft.test', 'v=DMARC1; p=reject'),  # _dmarc.reft.test is REFUSED: its Organizational Domain unknown
    ('testing.test', 'v=DMARC1; p=reject; t=y'),
    ('pct.test', 'v=DMARC1; p=reject; pct=50'),
    ('quar.test', 'v=DMARC1; p=quarantine'),
    # np= (RFC 9989 4.7): for a From domain under it that does not exist
    ('np.test', 'v=DMARC1; p=quarantine; sp=none; np=reject'),
]
SPF_DOMAINS = ('example.test', 'mail.example.test', 'helo.example.test', 'other.test', 'strict.test',
               'mail.strict.test')
# zones of type refuse: every question REFUSED
REFUSED = ('_dmarc.refused.test.', '_dmarc.reft.test.')

BODY = b'Hello,\r\n\r\na line of text\r\nbye\r\n'


def message(n, frm='Alice <alice@example.test>', body=BODY):
    """a message with From frm (a list: one field each; None: no From)"""
    frms = [] if frm is None else [frm] if isinstance(frm, str) else frm
    head = ''.join('From: %s\r\n' % f for f in frms)
    return (head + 'To: demo@example.org\r\nSubject: dmarc case %s\r\nDate: Mon, 30 Nov 2026 12:00:00 +0000\r\n'
            'Message-ID: <%s@dmarc.test>\r\n\r\n' % (n, n)).encode() + body


def named_props(field):
    """the same as authres gives them: {type.name: value}, header.b unquoted"""
    t = sig_tags(field)
    p = {'header.d': t[b'd'].decode().lower(), 'header.s': t[b's'].decode(), 'header.a': t[b'a'].decode(),
         'header.b': re.sub(rb'\s', b'', t[b'b']).decode()[:8]}
    if b'i' in t:
        p['header.i'] = t[b'i'].decode()
    return p


def ar_fields(stored):
    return [f for f in header_fields(stored) if f.lower().startswith('authentication-results:')]


class StrictHeader(authres.core.AuthenticationResultsHeader):
    """authres's parser in its strict mode: a property it cannot read is
    an error, not silently left out"""

    def __init__(self, *a, **kw):
        kw['strict'] = True
        super().__init__(*a, **kw)


AUTHRES = authres.all_features()  # dmarc's header.from among them


def authres_read(field):
    """the field as authres reads it: (authserv-id, [(method, result, reason, {type.name: value})]),
    or the parser's complaint (a str)"""
    try:
        h = StrictHeader.parse(AUTHRES, field)
    except Exception as ex:
        return 'authres: %s' % ex
    out = []
    for r in h.results:
        props = {}
        for p in r.properties:
            props['%s.%s' % (p.type, p.name)] = str(p.value)
        out.append((r.method, r.result, r.reason and str(r.reason), props))
        # the classes of the module's own, by method
        want = {'dkim': authres.core.DKIMAuthenticationResult, 'spf': authres.core.SPFAuthenticationResult,
                'dmarc': authres.dmarc.DMARCAuthenticationResult}.get(r.method)
        if want and not isinstance(r, want):
            return 'authres: %s read as %s' % (r.method, type(r).__name__)
        if r.method == 'dmarc' and (r.header_from or None) != props.get('header.from'):
            return 'authres: dmarc header_from %r' % r.header_from
        if r.method == 'spf' and ((r.smtp_mailfrom or None) != props.get('smtp.mailfrom') or
                                  (r.smtp_helo or None) != props.get('smtp.helo')):
            return 'authres: spf smtp_mailfrom %r smtp_helo %r' % (r.smtp_mailfrom, r.smtp_helo)
        if r.method == 'dkim' and (r.header_d or None) != props.get('header.d'):
            return 'authres: dkim header_d %r' % r.header_d
    return h.authserv_id, out


# --- DNS from the test's side: dnspython asking the namespace's unbound ------
def resolver():
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ['127.0.0.1']
    r.lifetime = 5
    return r


def txt_lookup(name):
    """('ok', [texts]), ('none', []) for NXDOMAIN or no TXT, ('refused', [])
    when the server said REFUSED, ('fail', []) else"""
    try:
        with netns(NS):
            ans = resolver().resolve(name, 'TXT')
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return 'none', []
    except dns.resolver.NoNameservers as ex:
        return 'refused' if 'REFUSED' in str(ex) else 'fail', []
    except Exception:
        return 'fail', []
    return 'ok', [b''.join(rr.strings).decode() for rr in ans]


def exists(name):
    """False when the name is NXDOMAIN (RFC 8020: nothing at or under it)"""
    try:
        with netns(NS):
            resolver().resolve(name, 'A')
    except dns.resolver.NXDOMAIN:
        return False
    except Exception:
        pass
    return True


def dnsfunc(name, timeout=5):
    """dkimpy's key lookup"""
    if isinstance(name, bytes):
        name = name.decode()
    st, texts = txt_lookup(name)
    return texts[0].encode() if st == 'ok' and texts else None


def pyspf(ip, sender, helo):
    """python3-spf's result for a session, asked in the namespace"""
    r = run('ip', 'netns', 'exec', NS, '/usr/bin/python3', '-c',
            'import spf,sys; print(spf.check2(i=sys.argv[1], s=sys.argv[2], h=sys.argv[3])[0])', ip, sender, helo)
    return r.stdout.decode(errors='replace').strip().splitlines()[-1] if r.stdout else ''


# --- a model of RFC 9989's tree walk, to check the fixtures' expectations -----
MODEL_CACHE = {}


def model_answer(name):
    """_dmarc.NAME: ('record', tags), ('none', None) or ('fail', None)"""
    if name not in MODEL_CACHE:
        st, texts = txt_lookup('_dmarc.' + name)
        recs = [t for t in texts if re.match(r'v=DMARC1[ \t]*(;|$)', t)]
        if st in ('fail', 'refused'):
            MODEL_CACHE[name] = ('fail', None)
        elif len(recs) != 1:
            MODEL_CACHE[name] = ('none', None)
        else:
            tags = {}
            for part in recs[0].split(';'):
                if '=' in part:
                    k, v = part.split('=', 1)
                    tags.setdefault(k.strip(), v.strip())
            MODEL_CACHE[name] = ('record', tags)
    return MODEL_CACHE[name]


def model_walk(domain):
    labels = domain.split('.')
    names = [domain]
    while len(labels) > 1:
        labels = labels[-7:] if len(labels) >= 8 else labels[1:]
        names.append('.'.join(labels))
    return names


def model_org(domain):
    """the Organizational Domain, or None when a lookup failed"""
    fewest = None
    for name in model_walk(domain):
        a, tags = model_answer(name)
        if a == 'fail':
            return None
        if a != 'record':
            continue
        if tags.get('psd') == 'n':
            return name
        if tags.get('psd') == 'y':
            return '.'.join(domain.split('.')[-(name.count('.') + 2):]) if name != domain else domain
        fewest = name
    return fewest or domain


def model_verdict(frm, dkim_pass, spf_domain):
    """(result, policy or None, testing) for From domain frm"""
    rec = None
    for name in model_walk(frm):
        a, tags = model_answer(name)
        if a == 'fail':
            return 'temperror', None, False
        if a == 'record':
            rec = (name, tags)
            break
    if rec is None:
        return 'none', None, False
    name, tags = rec
    if name == frm:
        pol = tags.get('p', 'none')
    elif 'np' in tags and not exists(frm):
        pol = tags['np']
    else:
        pol = tags.get('sp', tags.get('p', 'none'))
    testing = tags.get('t') == 'y' or int(tags.get('pct', '100')) < 100
    failed = False
    for ids, strict in ((dkim_pass, tags.get('adkim') == 's'), ([spf_domain] if spf_domain else [], tags.get('aspf') == 's')):
        for d in ids:
            if strict:
                if d == frm:
                    return 'pass', pol, testing
                continue
            a, b = model_org(d), model_org(frm)
            if a is None or b is None:
                failed = True
            elif a == b:
                return 'pass', pol, testing
    return 'temperror' if failed else 'fail', pol, testing


def from_addresses(msg):
    """Python's email package: the From fields' addresses"""
    m = email.message_from_bytes(msg, policy=email.policy.compat32)
    return [a for a in email.utils.getaddresses(m.get_all('From', [])) if a[1]]


srv = None
gen = None
try:
    failed = DNS.setup()
    if failed:
        print('not ok 1 - ' + failed)
        raise SystemExit(1)
    srv = Server(extra_control={'me': ME})
    KEY = os.path.join(srv.dir, 'rsa2048.pem')
    gen = subprocess.Popen(['openssl', 'genrsa', '-traditional', '-out', KEY, '2048'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gen.wait()
    if gen.returncode:
        print('not ok 1 - openssl genrsa failed')
        raise SystemExit(1)
    PRIV = open(KEY, 'rb').read()
    der = subprocess.run(['openssl', 'rsa', '-in', KEY, '-pubout', '-outform', 'DER'],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    KEYREC = 'v=DKIM1; k=rsa; p=' + base64.b64encode(der).decode()

    RECORDS = ([txt('%s._domainkey.%s.' % (SEL, d), KEYREC) for d in SIGNERS] +
               [txt('_dmarc.%s.' % d, v) for d, v in DMARC_RECORDS] +
               [txt('%s.' % d, SPF_PASS) for d in SPF_DOMAINS] +
               # names that exist without a DMARC record
               ['news.example.test. A 192.0.2.1', 'a.b.c.d.e.f.g.deep.test. A 192.0.2.1',
                'real.np.test. A 192.0.2.1'])
    QLOG = DNS.unbound_start(srv.dir, RECORDS, zones=(('test.', 'static'),) + tuple((z, 'refuse') for z in REFUSED))

    def asked(name):
        try:
            return len(re.findall(r'\s%s\. TXT IN' % re.escape(name), open(QLOG, errors='replace').read()))
        except OSError:
            return 0

    def sign(msg, dom):
        return dkim.sign(msg, SEL.encode(), dom.encode(), PRIV, canonicalize=(b'relaxed', b'relaxed'))

    # --- the runs: each a message sent in a session, with what must come of it
    RUNS = []

    def run_case(name, desc, msg, sigs, frm, dmarc, policy=None, mailfrom='a@other.test', helo='client.test',
                 src='127.0.0.2', spf=0, spfres=None, level=1, dis='none', code=250):
        """sigs: the expected dkim clauses, (result, reason, signature field)
        top down (empty: dkim=none); frm: the From domain (None: no single
        one); dmarc: its result; policy: the policy in the clause (None: no
        record); spf: control/spf; spfres: the SPF result of the session
        (spf 1); level: control/dmarc"""
        RUNS.append(dict(name=name, desc=desc, msg=msg, sigs=sigs, frm=frm, dmarc=dmarc, policy=policy,
                         mailfrom=mailfrom, helo=helo, src=src, spf=spf, spfres=spfres, level=level, dis=dis,
                         code=code))

    def signed(n, frm_addr, doms, body_after=None):
        """message n from frm_addr signed by each of doms (the last on top);
        body_after: the body as delivered (changed after signing)"""
        m = message(n, frm_addr)
        sigs = b''
        for d in doms:
            sigs = sign(sigs + m, d) + sigs
        if body_after is not None:
            m = message(n, frm_addr, body_after)
        tops = re.findall(rb'DKIM-Signature:.*?\r\n(?![ \t])', sigs, re.S)
        return sigs + m, tops

    def ok(tops):
        return [('pass', None, t) for t in tops]

    # control/dmarc 1, control/spf 0: DKIM alone
    m, t = signed('exact', 'Alice <alice@example.test>', ['example.test'])
    run_case('exact', 'DKIM d= the From domain: pass', m, ok(t), 'example.test', 'pass', 'reject')
    m, t = signed('relaxed', 'News <n@news.example.test>', ['example.test'])
    run_case('relaxed', 'd=example.test for From news.example.test, relaxed: pass (p= of the parent\'s record)',
             m, ok(t), 'news.example.test', 'pass', 'reject')
    m, t = signed('strict', 'News <n@news.strict.test>', ['strict.test'])
    run_case('strict', 'd=strict.test for From news.strict.test, adkim=s: fail', m, ok(t), 'news.strict.test',
             'fail', 'none')
    m, t = signed('strictexact', 'S <s@strict.test>', ['strict.test'])
    run_case('strictexact', 'adkim=s, d= the From domain itself: pass', m, ok(t), 'strict.test', 'pass', 'none')
    m, t = signed('unrelated', 'Alice <alice@example.test>', ['other.test'])
    run_case('unrelated', 'd= an unrelated domain, no SPF: fail', m, ok(t), 'example.test', 'fail', 'reject')
    m, t = signed('badsig', 'Alice <alice@example.test>', ['example.test'], body_after=BODY + b'added\r\n')
    run_case('badsig', 'an aligned signature that does not verify: dkim=fail, dmarc=fail', m,
             [('fail', 'body hash did not verify', t[0])], 'example.test', 'fail', 'reject')
    m, t = signed('twosigs', 'Alice <alice@example.test>', ['example.test', 'other.test'])
    run_case('twosigs', 'an unaligned signature above an aligned one: two dkim clauses, pass', m, ok(t),
             'example.test', 'pass', 'reject')
    m, t = signed('sp', 'X <x@x.sp.test>', ['sp.test'])
    run_case('sp', 'the policy found at the parent by the walk: its sp=quarantine applies', m, ok(t), 'x.sp.test',
             'pass', 'quarantine')
    m, t = signed('spown', 'S <s@sp.test>', ['sp.test'])
    run_case('spown', 'the same record for its own domain: its p=reject applies', m, ok(t), 'sp.test', 'pass',
             'reject')
    m, t = signed('tworecs', 'T <t@two.sp.test>', ['sp.test'])
    run_case('tworecs', 'two DMARC records at _dmarc.two.sp.test: none there, the walk goes on to sp.test', m,
             ok(t), 'two.sp.test', 'pass', 'quarantine')
    m, t = signed('psd', 'A <a@a.psd.test>', ['b.psd.test'])
    run_case('psd', 'psd=y at psd.test: a.psd.test and b.psd.test are Organizational Domains apart: fail', m, ok(t),
             'a.psd.test', 'fail', 'none')
    m, t = signed('nopsd', 'A <a@a.nopsd.test>', ['b.nopsd.test'])
    run_case('nopsd', 'without psd=: a.nopsd.test and b.nopsd.test share nopsd.test: pass', m, ok(t), 'a.nopsd.test',
             'pass', 'none')
    m, t = signed('psdn', 'A <a@a.org.psdn.test>', ['psdn.test'])
    run_case('psdn', 'psd=n at org.psdn.test: the Organizational Domain stops there, d=psdn.test fails', m, ok(t),
             'a.org.psdn.test', 'fail', 'none')
    m, t = signed('psdnok', 'A <a@a.org.psdn.test>', ['org.psdn.test'])
    run_case('psdnok', 'psd=n at org.psdn.test: d=org.psdn.test aligns', m, ok(t), 'a.org.psdn.test', 'pass', 'none')
    m, t = signed('deep', 'D <d@a.b.c.d.e.f.g.deep.test>', ['c.d.e.f.g.deep.test'])
    run_case('deep', 'a 9-label From: the walk jumps to its 7-label suffix (sp=quarantine), the 8-label decoy unasked',
             m, ok(t), 'a.b.c.d.e.f.g.deep.test', 'pass', 'quarantine')
    m, t = signed('nodmarc', 'N <n@nodmarc.test>', ['nodmarc.test'])
    run_case('nodmarc', 'no DMARC record anywhere: dmarc=none', m, ok(t), 'nodmarc.test', 'none')
    m, t = signed('refused', 'R <r@refused.test>', ['refused.test'])
    run_case('refused', '_dmarc.refused.test REFUSED: dmarc=temperror, no record', m, ok(t), 'refused.test',
             'temperror')
    m, t = signed('reft', 'R <r@x.reft.test>', ['reft.test'])
    run_case('reft', 'a record at x.reft.test, but _dmarc.reft.test REFUSED: alignment unknown, temperror', m, ok(t),
             'x.reft.test', 'temperror', 'reject')
    run_case('nofrom', 'no From field: permerror', message('nofrom', None), [], None, 'permerror')
    run_case('twofroms', 'two From fields: permerror',
             message('twofroms', ['a@example.test', 'b@example.test']), [], None, 'permerror')
    run_case('twoaddrs', 'a From of two addresses: permerror',
             message('twoaddrs', 'Alice <alice@example.test>, bob@example.test'), [], None, 'permerror')
    run_case('group', 'a From of an empty group, no address: permerror', message('group', 'Team:;'), [], None,
             'permerror')
    m, t = signed('quoted', '"Doe, Jane"\r\n\t<jane@example.test>', ['example.test'])
    run_case('quoted', 'a folded From whose display name holds a quoted comma: one address, pass', m, ok(t),
             'example.test', 'pass', 'reject')

    # control/spf 1
    m = message('spfalign')
    run_case('spfalign', 'no signature, SPF pass for MAIL FROM mail.example.test, relaxed: pass', m, [],
             'example.test', 'pass', 'reject', mailfrom='bounce@mail.example.test', spf=1, spfres='pass')
    m = message('spfunal')
    run_case('spfunal', 'no signature, SPF pass for an unaligned MAIL FROM: fail', m, [], 'example.test', 'fail',
             'reject', mailfrom='a@other.test', spf=1, spfres='pass')
    m = message('spfstrict', 'S <s@strict.test>')
    run_case('spfstrict', 'SPF pass for mail.strict.test, aspf=s: fail', m, [], 'strict.test', 'fail', 'none',
             mailfrom='a@mail.strict.test', spf=1, spfres='pass')
    m = message('spfstrictok', 'S <s@strict.test>')
    run_case('spfstrictok', 'SPF pass for strict.test itself, aspf=s: pass', m, [], 'strict.test', 'pass', 'none',
             mailfrom='a@strict.test', spf=1, spfres='pass')
    m, t = signed('spffail', 'Alice <alice@example.test>', ['example.test'])
    run_case('spffail', 'SPF fail (from 127.0.0.3), an aligned signature: spf=fail, dmarc=pass', m, ok(t),
             'example.test', 'pass', 'reject', mailfrom='a@example.test', src='127.0.0.3', spf=1, spfres='fail')
    m, t = signed('spfnone', 'N <n@nodmarc.test>', ['nodmarc.test'])
    run_case('spfnone', 'no SPF record: spf=none, no DMARC record: dmarc=none', m, ok(t), 'nodmarc.test', 'none',
             mailfrom='a@nodmarc.test', spf=1, spfres='none')
    m = message('null')
    run_case('null', 'the null sender: spf= of the HELO name (smtp.helo), aligned with From: pass', m, [],
             'example.test', 'pass', 'reject', mailfrom='', helo='helo.example.test', spf=1, spfres='pass')
    m, t = signed('spfdkim1', 'Alice <alice@example.test>', ['example.test'])
    run_case('spfdkim1', 'spf 1: an aligned signature and SPF pass', m, ok(t), 'example.test', 'pass', 'reject',
             mailfrom='a@example.test', spf=1, spfres='pass')

    # control/dmarc 2
    m, t = signed('rej', 'Alice <alice@example.test>', ['other.test'])
    run_case('rej', 'dmarc 2, spf 1: fail under p=reject: 550 5.7.1, nothing queued', m, ok(t), 'example.test', 'fail',
             'reject', spf=1, spfres='pass', level=2, dis='reject', code=550)
    m = message('rejsub', 'News <n@news.example.test>')
    run_case('rejsub', 'dmarc 2: fail for news.example.test under its parent\'s p=reject: 550', m, [],
             'news.example.test', 'fail', 'reject', spf=1, spfres='pass', level=2, dis='reject', code=550)
    m = message('rejnull')
    run_case('rejnull', 'dmarc 2: the null sender, its HELO name without SPF, fail under p=reject: 550', m, [],
             'example.test', 'fail', 'reject', mailfrom='', helo='client.test', spf=1, spfres='none', level=2,
             dis='reject', code=550)
    m, t = signed('rejnospf', 'Alice <alice@example.test>', ['other.test'])
    run_case('rejnospf', 'dmarc 2, spf 0: the same fail recorded with dis=none, accepted', m, ok(t), 'example.test',
             'fail', 'reject', spf=0, level=2)
    m, t = signed('testing', 'T <t@testing.test>', ['other.test'])
    run_case('testing', 'dmarc 2: fail under p=reject; t=y (testing): accepted, dis=none', m, ok(t), 'testing.test',
             'fail', 'reject', spf=1, spfres='pass', level=2)
    m, t = signed('pct', 'P <p@pct.test>', ['other.test'])
    run_case('pct', 'dmarc 2: fail under p=reject; pct=50 (testing): accepted, dis=none', m, ok(t), 'pct.test',
             'fail', 'reject', spf=1, spfres='pass', level=2)
    m, t = signed('quar', 'Q <q@quar.test>', ['other.test'])
    run_case('quar', 'dmarc 2: fail under p=quarantine: accepted, dis=none', m, ok(t), 'quar.test', 'fail',
             'quarantine', spf=1, spfres='pass', level=2)
    m, t = signed('npghost', 'G <g@ghost.np.test>', ['other.test'])
    run_case('npghost', 'dmarc 2: a From domain that does not exist under np=reject: 550 5.7.1', m, ok(t),
             'ghost.np.test', 'fail', 'reject', spf=1, spfres='pass', level=2, dis='reject', code=550)
    m, t = signed('npreal', 'R <r@real.np.test>', ['other.test'])
    run_case('npreal', 'dmarc 2: a From domain that exists under the same record: sp=none, accepted', m, ok(t),
             'real.np.test', 'fail', 'none', spf=1, spfres='pass', level=2)
    m, t = signed('npself', 'S <s@np.test>', ['other.test'])
    run_case('npself', 'dmarc 2: the record\'s own domain: p=quarantine, accepted', m, ok(t), 'np.test', 'fail',
             'quarantine', spf=1, spfres='pass', level=2)
    m, t = signed('spquar', 'X <x@x.sp.test>', ['other.test'])
    run_case('spquar', 'dmarc 2: fail under sp=quarantine of a parent whose p=reject: accepted', m, ok(t), 'x.sp.test',
             'fail', 'quarantine', spf=1, spfres='pass', level=2)
    m, t = signed('passrej', 'Alice <alice@example.test>', ['example.test'])
    run_case('passrej', 'dmarc 2: pass under p=reject: accepted', m, ok(t), 'example.test', 'pass', 'reject', spf=1,
             spfres='pass', level=2)
    m, t = signed('temprej', 'R <r@x.reft.test>', ['reft.test'])
    run_case('temprej', 'dmarc 2: temperror under p=reject: accepted', m, ok(t), 'x.reft.test', 'temperror', 'reject',
             spf=1, spfres='pass', level=2)
    run_case('permrej', 'dmarc 2: no From (permerror): accepted', message('permrej', None), [], None, 'permerror',
             spf=1, spfres='pass', level=2)
    m, t = signed('nonerej', 'N <n@nodmarc.test>', ['other.test'])
    run_case('nonerej', 'dmarc 2: no DMARC record: accepted', m, ok(t), 'nodmarc.test', 'none', spf=1, spfres='pass',
             level=2)
    R = {r['name']: r for r in RUNS}

    # --- the fixtures, on their own --------------------------------------------
    check(wait_for(lambda: dnsfunc('%s._domainkey.example.test' % SEL, 2) == KEYREC.encode(), 10),
          'unbound answers in the namespace: the key record whole')
    bad = []
    dkim_pass = {}
    for r in RUNS:
        msg = r['msg']
        fields = re.findall(rb'^DKIM-Signature:.*?\r\n(?![ \t])', msg, re.S | re.M)
        got = []
        for i, f in enumerate(fields):
            try:
                v = bool(dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc))
            except Exception:
                v = False
            got.append(v)
        want = [res == 'pass' for res, _, _ in r['sigs']]
        if got != want or [sig_tags(f)[b'd'] for f in fields] != [sig_tags(s)[b'd'] for _, _, s in r['sigs']]:
            bad.append(r['name'])
        dkim_pass[r['name']] = [sig_tags(f)[b'd'].decode() for f, v in zip(fields, got) if v]
    check(not bad, 'dkimpy verifies each run\'s signatures as meant (%d signatures; wrong: %s)' %
          (sum(len(r['sigs']) for r in RUNS), bad))
    bad = [(r['name'], r['spfres'], pyspf(r['src'], r['mailfrom'], r['helo'])) for r in RUNS if r['spf']]
    bad = [b for b in bad if b[1] != b[2]]
    check(not bad, 'pyspf gives each session with control/spf 1 the SPF result meant (wrong: %s)' % bad)
    st = {n: txt_lookup('_dmarc.' + n) for n in ('two.sp.test', 'refused.test', 'reft.test', 'example.test', 'test',
                                                 'nodmarc.test')}
    check(st['two.sp.test'][0] == 'ok' and len(st['two.sp.test'][1]) == 2 and
          all(t.startswith('v=DMARC1;') for t in st['two.sp.test'][1]) and
          st['refused.test'][0] == st['reft.test'][0] == 'refused' and st['example.test'] == ('ok', ['v=DMARC1; p=reject'])
          and st['test'][0] == st['nodmarc.test'][0] == 'none',
          'dnspython: two DMARC records at _dmarc.two.sp.test, _dmarc.refused.test and _dmarc.reft.test '
          'REFUSED, none at _dmarc.test or _dmarc.nodmarc.test (%s)' % {k: v[0] for k, v in st.items()})
    bad = []
    for r in RUNS:
        addrs = from_addresses(r['msg'])
        if r['frm'] is None:
            if len(addrs) == 1:
                bad.append(r['name'])
            continue
        if len(addrs) != 1 or addrs[0][1].rsplit('@', 1)[1].lower() != r['frm']:
            bad.append(r['name'])
    check(not bad, 'Python\'s email package finds one From address, of the domain meant, exactly where one is '
          'expected (wrong: %s)' % bad)
    bad = []
    for r in RUNS:
        if r['frm'] is None:
            continue
        spfdom = None
        if r['spf'] and r['spfres'] == 'pass':
            spfdom = r['mailfrom'].rsplit('@', 1)[1] if r['mailfrom'] else r['helo']
        res, pol, testing = model_verdict(r['frm'], dkim_pass[r['name']], spfdom)
        dis = 'reject' if (r['level'] == 2 and r['spf'] and res == 'fail' and pol == 'reject' and not testing) else 'none'
        if (res, pol, dis) != (r['dmarc'], r['policy'], r['dis']) or (r['code'] == 550) != (dis == 'reject'):
            bad.append((r['name'], res, pol, dis))
    check(not bad, 'the tree walk\'s model, on the same answers, agrees with every verdict expected (%d runs; '
          'differ: %s)' % (len(RUNS), bad))
    check(model_walk('a.b.c.d.e.f.g.deep.test')[:2] == ['a.b.c.d.e.f.g.deep.test', 'c.d.e.f.g.deep.test'] and
          len(model_walk('a.b.c.d.e.f.g.deep.test')) == 8, 'the model\'s walk of the 9-label name: 9, then 7 labels')

    if not os.path.exists(PROG):
        print('not ok - %s is not built (make)' % PROG)
        raise SystemExit(1)
    shutil.copy(PROG, os.path.join(srv.home, 'bin', 'postern-dkimverify'))
    with netns(NS):  # the listener's port is the namespace's
        srv.start(prefix=('ip', 'netns', 'exec', NS))
    logged = lambda pat: re.search(pat, srv.logtext(), re.M)
    dlines = lambda: len(re.findall(r'dkim dmarc result=', srv.logtext()))

    def deliver(msg, mailfrom='a@other.test', helo='client.test', src='127.0.0.2'):
        """the final reply (code, text) and the message queued (bytes or None)"""
        srv.stub_clear()
        with netns(NS):  # a socket opened there stays there
            c = Conn(srv.port, src, timeout=60)
        c.cmd('EHLO ' + helo)
        c.cmd('MAIL FROM:<%s>' % mailfrom)
        c.cmd('RCPT TO:<demo@example.org>')
        if c.cmd('DATA')[0] != 354:
            c.cmd('QUIT')
            return (None, ''), None
        c.send(re.sub(rb'(?m)^\.', b'..', msg) + b'.\r\n')
        code, lines = c.reply()
        c.cmd('QUIT')
        c.close()
        ids = srv.stub_ids()
        return (code, ' '.join(lines)), srv.stub_read(ids[0])[0] if len(ids) == 1 else None

    def expect_field(r):
        """the field's exact text, and what authres must read in it"""
        clauses, want = [], []
        for res, reason, s in r['sigs']:
            clauses.append('dkim=%s%s %s' % (res, ' reason="%s"' % reason if reason else '', named(s)))
            want.append(('dkim', res, reason, named_props(s)))
        if not r['sigs']:
            clauses.append('dkim=none')
            want.append(('dkim', 'none', None, {}))
        if r['spf']:
            if r['mailfrom']:
                key, dom = 'mailfrom', r['mailfrom'].rsplit('@', 1)[1]
            else:
                key, dom = 'helo', r['helo']
            clauses.append('spf=%s smtp.%s=%s' % (r['spfres'], key, dom))
            want.append(('spf', r['spfres'], None, {'smtp.' + key: dom}))
        if r['frm'] is None:
            clauses.append('dmarc=permerror reason="no single from domain"')
            want.append(('dmarc', 'permerror', 'no single from domain', {}))
        else:
            clauses.append('dmarc=%s%s header.from=%s' % (
                r['dmarc'], ' (p=%s dis=%s)' % (r['policy'], r['dis']) if r['policy'] else '', r['frm']))
            want.append(('dmarc', r['dmarc'], None, {'header.from': r['frm']}))
        return 'Authentication-Results: %s;\n\t' % ME + ';\n\t'.join(clauses), (ME, want)

    def logpat(r):
        if r['frm'] is None:
            return r'dkim dmarc result=permerror\b'
        p = r'dkim dmarc result=%s from=%s(?= |$)' % (r['dmarc'], re.escape(r['frm']))
        if r['policy']:
            p += r'(?=.* policy=%s\b)(?=.* dis=%s\b)' % (r['policy'], r['dis'])
        return p

    def settings(dmarc, spf, dkimverify=0):
        srv.control('dmarc', None if dmarc is None else str(dmarc))
        srv.control('spf', str(spf))
        srv.control('dkimverify', str(dkimverify))

    nolog = []

    def go(name):
        """deliver run name under its settings, and check its field (or its refusal)"""
        r = R[name]
        settings(r['level'], r['spf'])
        pat = logpat(r)
        before = len(re.findall(pat, srv.logtext(), re.M))
        (code, text), stored = deliver(r['msg'], r['mailfrom'], r['helo'], r['src'])
        if not wait_for(lambda: len(re.findall(pat, srv.logtext(), re.M)) == before + 1, 3):
            nolog.append(name)
        if r['code'] == 550:
            check(code == 550 and '5.7.1' in text and stored is None and not srv.stub_ids(),
                  '%s (%s; %s)' % (r['desc'], text, 'nothing queued' if stored is None else 'queued'))
            return None
        want, (wid, wres) = expect_field(r)
        fs = header_fields(stored) if stored else []
        check(code == 250 and fs and fs[0] == want and len(ar_fields(stored)) == 1 and
              stored.endswith(r['msg'].replace(b'\r\n', b'\n')),
              '%s: accepted, on top exactly %r%s' % (r['desc'], want, '' if fs and fs[0] == want else
                                                     ' (got code %s, %r)' % (code, fs[:1])))
        ars = ar_fields(stored) if stored else []
        got = authres_read(ars[0]) if ars else 'no field'
        check(got == (wid, wres), '... authres (strict) reads %s' % (got,))
        if r['spf'] and fs:
            rspf = [f for f in fs if f.startswith('Received-SPF:')]
            check(len(rspf) == 1 and rspf[0].split()[1] == r['spfres'] and fs[1].startswith('Received-SPF:'),
                  '... its spf= result is Received-SPF\'s (%s), which comes next' % (rspf[:1],))
        return stored

    # --- off ------------------------------------------------------------------
    m = R['exact']['msg']
    settings(None, 0)
    (code, _), stored = deliver(m)
    check(code == 250 and stored is not None and not ar_fields(stored) and dlines() == 0,
          'no control/dmarc, no control/dkimverify: accepted, no Authentication-Results, no dmarc log line')
    settings(0, 1)
    (code, _), stored = deliver(R['spfalign']['msg'], 'bounce@mail.example.test')
    check(code == 250 and stored is not None and not ar_fields(stored) and dlines() == 0 and b'Received-SPF: pass' in stored,
          'dmarc 0, dkimverify 0, spf 1: Received-SPF only, no Authentication-Results')
    settings(0, 1, dkimverify=1)
    (code, _), stored = deliver(m, 'a@example.test')
    s = R['exact']['sigs'][0][2]
    want = 'Authentication-Results: %s;\n\tdkim=pass %s' % (ME, named(s))
    fs = header_fields(stored) if stored else []
    check(code == 250 and fs and fs[0] == want and dlines() == 0,
          'dmarc 0, dkimverify 1, spf 1: the dkim clause alone, no spf= or dmarc= clause (%r)' % (fs[:1],))

    # --- control/dmarc 1 ----------------------------------------------------
    for name in ('exact', 'relaxed', 'strict', 'strictexact', 'unrelated', 'badsig', 'twosigs', 'sp', 'spown',
                 'tworecs', 'psd', 'nopsd', 'psdn', 'psdnok'):
        go(name)
    was = asked('_dmarc.b.c.d.e.f.g.deep.test'), asked('_dmarc.a.b.c.d.e.f.g.deep.test'), \
        asked('_dmarc.c.d.e.f.g.deep.test')
    go('deep')
    now = asked('_dmarc.b.c.d.e.f.g.deep.test'), asked('_dmarc.a.b.c.d.e.f.g.deep.test'), \
        asked('_dmarc.c.d.e.f.g.deep.test')
    check(now[0] == was[0] == 0 and now[1] > was[1] and now[2] > was[2],
          '... _dmarc of the 9-label name and of its 7-label suffix asked, of the 8-label one never (%s -> %s)' %
          (was, now))
    was = asked('_dmarc.nodmarc.test'), asked('_dmarc.test')
    go('nodmarc')
    now = asked('_dmarc.nodmarc.test'), asked('_dmarc.test')
    check(now[0] > was[0] and now[1] > was[1], '... both _dmarc.nodmarc.test and _dmarc.test asked (%s -> %s)' %
          (was, now))
    for name in ('refused', 'reft', 'nofrom', 'twofroms', 'twoaddrs', 'group', 'quoted'):
        go(name)
    # dkimverify 1 beside dmarc 1: the same field
    settings(1, 0, dkimverify=1)
    (code, _), stored = deliver(R['exact']['msg'])
    fs = header_fields(stored) if stored else []
    check(code == 250 and fs and fs[0] == expect_field(R['exact'])[0] and len(ar_fields(stored)) == 1,
          'dmarc 1 and dkimverify 1: one field, the same (%r)' % (fs[:1],))

    # --- control/spf 1 --------------------------------------------------------
    for name in ('spfalign', 'spfunal', 'spfstrict', 'spfstrictok', 'spffail', 'spfnone', 'null', 'spfdkim1'):
        go(name)

    # --- a RELAYCLIENT --------------------------------------------------------
    settings(2, 1)
    before = dlines()
    (code, _), stored = deliver(R['rej']['msg'], src='127.0.0.1')
    time.sleep(0.5)
    check(code == 250 and stored is not None and not ar_fields(stored) and dlines() == before,
          'from a RELAYCLIENT (127.0.0.1), dmarc 2: a message that would be refused is accepted, no field, no log line')

    # --- control/dmarc 2 ----------------------------------------------------
    for name in ('rej', 'rejsub', 'rejnull', 'rejnospf', 'testing', 'pct', 'quar', 'spquar', 'passrej', 'temprej',
                 'permrej', 'nonerej', 'npghost', 'npreal', 'npself'):
        go(name)
    check(logged(r'dkim dmarc result=fail from=example\.test .*policy=reject .*dis=reject'),
          'the refusal\'s log line says policy=reject dis=reject')
    check(logged(r'dkim dmarc result=fail from=example\.test .*policy=reject .*not_enforced=spf_not_checked.* dis=none'),
          'the fail left alone for want of SPF is logged not_enforced=spf_not_checked (doc/dkim.md)')

    check(not nolog, 'each run logged its own "dkim dmarc result=... from=..." line, with policy= and dis= when a '
          'record was found (%d runs; missing: %s)' % (len(RUNS), nolog))
    check(not logged(r'AddressSanitizer|runtime error'), 'no sanitizer report')
finally:
    if gen and gen.poll() is None:
        gen.kill()
        gen.wait()
    if srv:
        srv.cleanup()
    DNS.cleanup()
done()
