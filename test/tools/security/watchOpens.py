"""Counts how often each path given is opened (inotify IN_OPEN; an O_PATH descriptor is not an open of the
file), for the security tests, run as root. Prints "ready" once the watches are in place, and when its stdin
closes prints {"path": count, ...} and exits."""

import ctypes
import json
import os
import select
import struct
import sys

IN_OPEN = 0x20
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
watches = {}
for path in sys.argv[1:]:
    wd = libc.inotify_add_watch(fd, path.encode(), IN_OPEN)
    if wd < 0:
        sys.exit('cannot watch %s: %s' % (path, os.strerror(ctypes.get_errno())))
    watches[wd] = path
counts = {path: 0 for path in sys.argv[1:]}
print('ready', flush=True)
stdin_open = True
while True:
    ready = select.select([fd] + ([sys.stdin] if stdin_open else []), [], [], 0.1 if not stdin_open else None)[0]
    if fd in ready:
        data = os.read(fd, 65536)
        offset = 0
        while offset < len(data):
            wd, mask, _, length = struct.unpack_from('iIII', data, offset)
            if mask & IN_OPEN:
                counts[watches[wd]] += 1
            offset += 16 + length
    elif not stdin_open:
        break  # drained after stdin closed
    if stdin_open and sys.stdin in ready and not sys.stdin.readline():
        stdin_open = False
print(json.dumps(counts), flush=True)
