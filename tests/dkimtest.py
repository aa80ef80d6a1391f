"""What tests/t-dkimverify.py and tests/t-dmarc.py share: a zone's TXT
line, and the header.* part postern-dkimverify writes for a
DKIM-Signature field (doc/postern-dkimverify.8), and a stored message's
header fields."""
import re


def txt(name, text):
    """a local-data line for unbound: text in strings of at most 255 bytes"""
    return '%s TXT %s' % (name, ' '.join('"%s"' % text[i:i + 255] for i in range(0, len(text), 255)))


def sig_tags(field):
    """the tags of a DKIM-Signature field (bytes, CRLF folded)"""
    import dkim.util  # here: a test says itself when python3-dkim is missing
    v = field.split(b':', 1)[1]
    v = re.sub(rb'\r?\n(?=[ \t])', b'', v).strip()
    return dkim.util.parse_tag_value(v)


def named(field):
    """the header.* part of a clause for the signature field"""
    t = sig_tags(field)
    b = re.sub(rb'\s', b'', t[b'b']).decode()
    s = 'header.d=' + t[b'd'].decode().lower()
    if b'i' in t:
        s += ' header.i=' + t[b'i'].decode()
    # header.b is a token or a quoted-string (RFC 8601 2.2, RFC 2045 5.1):
    # of base64's characters '/' is a tspecial, '+' is not
    b = '"%s"' % b[:8] if '/' in b[:8] else b[:8]
    # an algorithm postern does not take (rsa-sha1) is not named
    a = t[b'a'].decode()
    a = ' header.a=' + a if a in ('rsa-sha256', 'ed25519-sha256') else ''
    return s + ' header.s=%s%s header.b=%s' % (t[b's'].decode(), a, b)


def header_fields(raw):
    """the header's fields, each as text with its LF continuations"""
    head = raw.split(b'\n\n', 1)[0].decode('utf-8', 'replace')
    out = []
    for line in head.split('\n'):
        if line[:1] in (' ', '\t') and out:
            out[-1] += '\n' + line
        else:
            out.append(line)
    return out
