#!/usr/bin/env python3
"""control_layer.py PID COUNT: COUNT `ctxctl PID set` commands of a large
process-wide layer (run by scripts/ctxctl's own code, in this interpreter,
to spare 400 interpreter starts).  First k0..k13 of 4096 bytes each (a 56 KiB
layer), then COUNT times k14 (4096 bytes), k15 (1..4096 bytes) and tag=vI,
each value one letter repeated (tests/progs/ctl_layer checks that).  Prints
the process's resident set growth in KiB from after the first tenth of the
sets to the end: "rss_growth_kb N"."""
import importlib.machinery
import io
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ctxctl = importlib.machinery.SourceFileLoader(
    'ctxctl', os.path.join(ROOT, 'scripts', 'ctxctl')).load_module()


def ctl(*args):
    saved = sys.stdout
    sys.stdout = io.TextIOWrapper(open(os.devnull, 'wb'))
    try:
        rc = ctxctl.main(['--timeout', '60'] + list(args))
    finally:
        sys.stdout = saved
    if rc != 0:
        sys.exit('ctxctl %s: exit %d' % (' '.join(args)[:60], rc))


def rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise SystemExit('no VmRSS')


def letter(i):
    return chr(ord('a') + i % 26)


def main():
    pid, count = int(sys.argv[1]), int(sys.argv[2])
    ctl(str(pid), 'set', *['k%d=%s' % (k, letter(k) * 4096) for k in range(14)])
    base = None
    for i in range(count):
        if i == count // 10:
            base = rss_kb(pid)
        ctl(str(pid), 'set', 'k14=' + letter(i) * 4096, 'k15=' + letter(i + 1) * (1 + i * 37 % 4096),
            'tag=v%d' % i)
    print('rss_growth_kb %d' % (rss_kb(pid) - base))


if __name__ == '__main__':
    try:
        main()
    except ctxctl.Fail as e:
        sys.exit('ctxctl: %s' % e)
