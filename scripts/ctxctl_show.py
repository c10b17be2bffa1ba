"""ctxctl_show: how scripts/ctxctl shows what a process answered.

Whatever an endpoint sends is data: every field shown goes through show()
(control characters, C1 and invalid UTF-8 escaped), and a field of the wrong
type is shown as '?' rather than trusted.  An answer is a dict from
json.loads; anything in it may be of any type.
"""
import os
import re
import subprocess
import sys


def out(text_):
    sys.stdout.buffer.write(text_.encode('utf-8', 'surrogateescape') + b'\n')


def show(v):
    """A value for a terminal: printable, on one line.  Control characters
    (C0, DEL, C1), other unprintable ones and bytes that were not UTF-8
    are written as escapes."""
    if not isinstance(v, str):
        v = str(v)
    v = v.encode('utf-8', 'surrogateescape').decode('utf-8', 'backslashreplace')
    return ''.join(c if c.isprintable() else '\\x%02x' % ord(c) if ord(c) < 256
                   else '\\u%04x' % ord(c) if ord(c) < 0x10000 else '\\U%08x' % ord(c)
                   for c in v)


def text(v, default=''):
    """V when it is a string, else DEFAULT."""
    return v if isinstance(v, str) else default


def num(v):
    """V when it is an integer (not a bool), else None."""
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def num_text(v, none='-'):
    n = num(v)
    return none if v is None else '?' if n is None else str(n)


def items(v):
    """V when it is a list, else an empty one."""
    return v if isinstance(v, list) else []


def table(header, rows):
    widths = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r[:-1]):
            widths[i] = max(widths[i], len(c))
    for r in [header] + rows:
        cells = [c.ljust(widths[i]) for i, c in enumerate(r[:-1])] + [r[-1]]
        out('  '.join(cells).rstrip())


def age(ms):
    if ms is None:
        return '-'
    ms = num(ms)
    if ms is None or ms < 0:
        return '?'
    s = ms / 1000.0
    if s < 60:
        return '%.1fs' % s
    if s < 3600:
        return '%dm%02ds' % (s // 60, s % 60)
    if s < 86400:
        return '%dh%02dm' % (s // 3600, s % 3600 // 60)
    return '%dd%02dh' % (s // 86400, s % 86400 // 3600)


def context_text(ctx):
    if not isinstance(ctx, dict):
        return '(unreadable)'
    return ' '.join('%s=%s' % (show(k), show(v)) for k, v in ctx.items())


def elf_is_exec(path, cache={}):
    """True for a non-PIE executable (its addresses are absolute)."""
    if path not in cache:
        try:
            with open(path, 'rb') as f:
                h = f.read(18)
            cache[path] = len(h) == 18 and h[:4] == b'\x7fELF' and h[16] == 2
        except OSError:
            cache[path] = False
    return cache[path]


HEX_RE = re.compile(r'^0x[0-9a-fA-F]{1,16}$')


def addr2line(frames):
    """Name frames dladdr could not (static functions, executables without
    -rdynamic) with addr2line, when binutils is there.  Only modules that
    are absolute paths of regular files, and hex addresses."""
    by_mod = {}
    for f in frames:
        mod = text(f.get('module'))
        a = text(f.get('addr')) if mod and elf_is_exec(mod) else text(f.get('offset'))
        if 'symbol' not in f and mod.startswith('/') and HEX_RE.match(a) and os.path.isfile(mod):
            by_mod.setdefault(mod, []).append((f, a))
    for mod, fs in by_mod.items():
        # A return address: the call is the byte before it.
        addrs = ['0x%x' % max(int(a, 16) - 1, 0) for _, a in fs]
        try:
            r = subprocess.run(['addr2line', '-f', '-e', mod] + addrs, capture_output=True,
                               text=True, errors='surrogateescape', timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        lines = r.stdout.splitlines()
        for i, (f, _) in enumerate(fs):
            if 2 * i + 1 < len(lines) and lines[2 * i] not in ('??', ''):
                f['symbol'] = lines[2 * i]
                loc = lines[2 * i + 1]
                if not loc.startswith('??'):
                    f['line'] = loc


def frame_text(f):
    if not isinstance(f, dict):
        return show(f)
    where = show(os.path.basename(text(f.get('module'), '?')))
    if isinstance(f.get('symbol'), str):
        s = show(f['symbol'])
        if isinstance(f.get('symbol_offset'), str):
            s += '+' + show(f['symbol_offset'])
        return '%s (%s%s)' % (s, where, ', ' + show(f['line']) if isinstance(f.get('line'), str)
                              else '')
    return '%s+%s' % (where, show(text(f.get('offset'), text(f.get('addr'), '?'))))


def render_threads(ans, symbols):
    threads = [t for t in items(ans.get('threads')) if isinstance(t, dict)]
    rows = []
    for t in threads:
        known = t.get('known') is True
        name = show(text(t.get('name')))
        if t.get('role'):
            name += ' [' + show(text(t.get('role'), '?')) + ']'
        ctx = context_text(t.get('context')) if known else \
            '(not started through pthread_create under the shim)'
        rows.append([num_text(t.get('tid'), '?'), name, num_text(t.get('parent_tid')),
                     age(t.get('age_ms')) if known else '-', ctx])
    table(['TID', 'NAME', 'PARENT', 'AGE', 'CONTEXT'], rows)
    if ans.get('trace_spawn') is True:
        if symbols:
            addr2line([f for t in threads for f in items(t.get('spawn')) if isinstance(f, dict)])
        for t in threads:
            spawn = items(t.get('spawn'))
            if spawn:
                out('')
                out('thread %s started at:' % num_text(t.get('tid'), '?'))
                for f in spawn:
                    out('    ' + frame_text(f))


def render_conns(ans):
    if not ans.get('watching'):
        out('connections are not watched in process %s (start it with CTXSHIM_CONN=1 or '
            'CTXSHIM_HTTP=1: ctxrun --conn / --http)' % num_text(ans.get('pid'), '?'))
        return
    rows = []
    for c in items(ans.get('conns')):
        if not isinstance(c, dict):
            continue
        reqs = [r for r in items(c.get('requests')) if isinstance(r, dict)] or [None]
        for i, r in enumerate(reqs):
            base = [show(text(c.get('conn_id'))), show(text(c.get('peer'))), age(c.get('age_ms'))] \
                if i == 0 else ['', '', '']
            if r is None:
                rows.append(base + ['-', '-', '-', '-'])
            else:
                rows.append(base + [show(text(r.get('request_id'))), age(r.get('age_ms')),
                                    show(text(r.get('method'))), show(text(r.get('path')))])
        more = num(c.get('more_requests'))
        if more:
            rows.append(['', '', '', '(+%d more)' % more, '', '', ''])
    if not rows:
        out('no watched connection is open')
        return
    table(['CONN_ID', 'PEER', 'AGE', 'REQUEST_ID', 'REQ_AGE', 'METHOD', 'PATH'], rows)
    if not ans.get('http'):
        out('(requests are not tracked: start the process with CTXSHIM_HTTP=1, ctxrun --http)')
    if num(ans.get('not_listed')):
        out('(%d connections opened while listing are not shown)' % ans['not_listed'])


def render_global(ans):
    g = ans.get('global')
    if not isinstance(g, dict) or not g:
        out('(no process-wide entries)' if g == {} or g is None else '(unreadable)')
        return
    for k, v in g.items():
        out('%s=%s' % (show(k), show(v)))
