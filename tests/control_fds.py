"""control_fds.py PID DIR: the pids named in the endpoints (listening Unix
sockets bound under DIR) that process PID holds an fd of, space-separated.
A socket is bound under its temporary name .<pid>.<random>.tmp (then
renamed), and /proc/net/unix keeps the name it was bound to."""
import os
import re
import sys

pid, d = sys.argv[1], sys.argv[2].rstrip('/') + '/'
listening = {}
with open('/proc/net/unix') as f:
    next(f)
    for line in f:
        parts = line.split()
        if len(parts) >= 8 and int(parts[3], 16) & 0x10000 and parts[7].startswith(d):
            m = re.match(r'\.(\d+)\.', parts[7][len(d):])
            if m:
                listening[parts[6]] = m.group(1)
owners = set()
for fd in os.listdir('/proc/%s/fd' % pid):
    try:
        target = os.readlink('/proc/%s/fd/%s' % (pid, fd))
    except OSError:
        continue
    m = re.match(r'socket:\[(\d+)\]$', target)
    if m and m.group(1) in listening:
        owners.add(listening[m.group(1)])
print(' '.join(sorted(owners)))
