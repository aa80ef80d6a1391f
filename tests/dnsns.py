"""A network namespace with a DNS resolver of the test's own
(tests/t-dnsbl.py, tests/t-spf.py): unbound serving local zones on
127.0.0.1:53 inside it, and /etc/netns/NS/resolv.conf, which a program
started with `ip netns exec NS` sees as /etc/resolv.conf."""
import os, re, shutil, subprocess


def run(*args):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


class DnsNamespace:
    def __init__(self, prefix):
        self.name = '%s%d' % (prefix, os.getpid())
        self.etc = '/etc/netns/' + self.name
        self.unbound = None
        self.ipv6 = False

    def setup(self):
        """the namespace with its loopback up: None, or what failed"""
        os.makedirs(self.etc, exist_ok=True)
        self.resolv('127.0.0.1')
        for cmd in (('ip', 'netns', 'add', self.name), ('ip', 'netns', 'exec', self.name, 'ip', 'link', 'set', 'lo', 'up')):
            r = run(*cmd)
            if r.returncode:
                return '%s: %s' % (' '.join(cmd), r.stdout.decode(errors='replace').strip())
        # the IPv6 cases need ::1 on the namespace's loopback (a kernel
        # booted without IPv6 has none)
        r = run('ip', 'netns', 'exec', self.name, 'cat', '/proc/net/if_inet6')
        self.ipv6 = r.returncode == 0 and re.search(r'^0{31}1 ', r.stdout.decode(errors='replace'), re.M) is not None
        return None

    def resolv(self, *servers):
        """the namespace's resolv.conf, written in place: the mount
        namespace of what ip netns exec starts has this very file on
        /etc/resolv.conf"""
        with open(self.etc + '/resolv.conf', 'w') as f:
            f.write(''.join('nameserver %s\n' % s for s in servers))

    def unbound_start(self, d, records, zones=(('test.', 'static'),), ipv6=False):
        """unbound in the namespace, its files in d, answering records
        (local-data lines) in zones ((name, type) pairs); logs every
        query to d/unbound.log"""
        conf = os.path.join(d, 'unbound.conf')
        with open(conf, 'w') as f:
            f.write('server:\n\tinterface: 127.0.0.1\n%s\tport: 53\n'
                    '\taccess-control: 127.0.0.0/8 allow\n\taccess-control: ::1/128 allow\n\tusername: ""\n'
                    '\tchroot: ""\n\tdirectory: "%s"\n\tpidfile: "%s/unbound.pid"\n\tdo-daemonize: no\n'
                    '\tuse-syslog: no\n\tlogfile: "%s/unbound.log"\n\tlog-queries: yes\n'
                    '\tmodule-config: "iterator"\n' % ('\tinterface: ::1\n' if ipv6 else '\tdo-ip6: no\n', d, d, d))
            for z, kind in zones:
                f.write('\tlocal-zone: "%s" %s\n' % (z, kind))
            for r in records:
                f.write("\tlocal-data: '%s'\n" % r)
            f.write('remote-control:\n\tcontrol-enable: no\n')
        self.unbound = subprocess.Popen(['ip', 'netns', 'exec', self.name, 'unbound', '-d', '-c', conf],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return os.path.join(d, 'unbound.log')

    def cleanup(self):
        if self.unbound:
            self.unbound.terminate()
            self.unbound.wait()
        run('ip', 'netns', 'del', self.name)
        shutil.rmtree(self.etc, ignore_errors=True)
