#!/usr/bin/python3
"""postern-smtpd's SPF evaluation against the openspf.org test suite for
RFC 7208 (written by others; python3-spf ships it as
/usr/share/doc/python3-spf/rfc7208-tests.yml.gz).  Each scenario's zone
and cases go to the unit binary smtpd_spf --suite, which runs spf.c
against the zone in memory, with the suite's conventions (those of its
own driver, testspf.py): an SPF record is also a TXT record unless the
name has TXT records of its own ("TXT: NONE" for none), a TIMEOUT entry
times out a lookup of a type no record before it answered, and a name
under "error." times out.

Cases about what spf.c deliberately leaves out are skipped, each with its
reason.  A fail's explanation (exp=, RFC 7208 6.2) is compared with the
suite's: its text exactly, or none where the suite says DEFAULT (the
checker's own words).

Prints TAP; the result of every case must be one the suite allows."""
import gzip
import os
import subprocess
import sys

import yaml

SUITE = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"
HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("POSTERN_ASAN_BUILD", os.path.join(HERE, "..", "build-asan"))
UNIT = os.path.join(BUILD, "units", "smtpd_spf")

# Cases whose expected results assume what postern does not do, with why.
SKIP = {
}
# Cases whose result is compared but not their explanation, with why.
EXPLANATION_NOT_COMPARED = {
    "v-macro-ip6": "the suite's %{i} nibbles are upper case, as its host was written (CAFE:BABE::1); "
                   "RFC 7208 7.4's example writes them in lower case, as spf.c does",
}


def hexs(s):
    if isinstance(s, str):
        s = s.encode("utf-8", "surrogateescape")
    return s.hex() if s else "-"


def zone_lines(zonedata):
    """The scenario's zone as R lines, in testspf.py's order."""
    out = []
    for name, records in zonedata.items():
        gen, txt = True, []
        for rec in records:
            if rec == "TIMEOUT":
                out.append("R %s TIMEOUT" % hexs(name))
                continue
            ((t, v),) = rec.items()
            if t in ("TXT", "SPF"):
                if isinstance(v, str):
                    v = [v]
                if t == "TXT":
                    gen = False
                if v == ["NONE"]:
                    continue
                data = "".join(v)
                if t == "SPF":
                    txt.append(data)
                    continue
                out.append("R %s TXT %s" % (hexs(name), hexs(data)))
            elif t == "MX":
                out.append("R %s MX %s" % (hexs(name), hexs(v[1])))
            elif t in ("A", "AAAA", "PTR", "CNAME"):
                out.append("R %s %s %s" % (hexs(name), t, hexs(str(v))))
            else:
                raise SystemExit("unknown record type %s in the suite" % t)
        if gen:
            for data in txt:
                out.append("R %s TXT %s" % (hexs(name), hexs(data)))
    return out


def main():
    if not os.path.exists(SUITE):
        print("1..0 # SKIP %s missing (python3-spf)" % SUITE)
        return 0
    if not os.access(UNIT, os.X_OK):
        print("1..0 # SKIP %s not built (make asan)" % UNIT)
        return 0
    with gzip.open(SUITE, "rb") as f:
        scenarios = list(yaml.safe_load_all(f))
    feed, want = [], {}
    for sc in scenarios:
        feed.append("Z")
        feed.extend(zone_lines(sc.get("zonedata") or {}))
        for tid, case in sc["tests"].items():
            res = case["result"]
            want[tid] = (res if isinstance(res, list) else [res], sc["description"], case.get("spec"),
                         case.get("explanation"))
            feed.append("T %s %s %s %s" % (tid, case["host"], hexs(case.get("mailfrom", "")),
                                           hexs(case.get("helo", ""))))
    p = subprocess.run([UNIT, "--suite"], input="\n".join(feed) + "\n", capture_output=True, text=True,
                       errors="replace")
    got = {}
    for line in p.stdout.splitlines():
        tid, res, exp, why = (line.split(" ", 3) + ["", ""])[:4]
        got[tid] = (res, why, "" if exp == "-" else bytes.fromhex(exp).decode("ascii", "replace"))
    n = passed = failed = 0
    print("1..%d" % len(want))
    for tid, (allowed, desc, spec, explanation) in want.items():
        n += 1
        if tid in SKIP:
            print("ok %d - %s # SKIP %s" % (n, tid, SKIP[tid]))
            passed += 1
            continue
        res, why, exp = got.get(tid, ("missing", p.stderr[-300:], ""))
        wanted_exp = "" if explanation in (None, "DEFAULT") else explanation
        if tid in EXPLANATION_NOT_COMPARED:
            explanation = None
        if res in allowed and (res != "fail" or explanation is None or exp == wanted_exp):
            print("ok %d - %s: %s%s (%s)" % (n, tid, res, ' "%s"' % exp if exp else "", desc))
            passed += 1
        elif res in allowed:
            print("not ok %d - %s: %s, but the explanation %r, where the suite has %r (%s, RFC 7208 %s)" %
                  (n, tid, res, exp, explanation, desc, spec))
            failed += 1
        else:
            print("not ok %d - %s: %s, the suite allows %s (%s, RFC 7208 %s): %s" %
                  (n, tid, res, "/".join(allowed), desc, spec, why))
            failed += 1
    if p.returncode != 0:
        print("# smtpd_spf --suite exited %d: %s" % (p.returncode, p.stderr[-500:]))
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
