#!/usr/bin/python3 -I -S
"""Privileged helper: the only program of Bitcoin Core USDT Tracing that runs as root.

    python3 -I -S bitcoin-usdt-helper.py run --tool NAME --binary /abs/bitcoind [--pid N] [--follow]
        --socket /tmp/bitcoin-usdt-XXXXXX/probe.sock [--bpftrace /usr/bin/bpftrace] [--param k=v ...]

It runs one of the bpftrace scripts shipped next to it against a validated bitcoind, and forwards
bpftrace's `-f json` lines unchanged to the Unix socket of the (unprivileged) user who started it, plus
its own records {"type": "helper", "data": {"event": ...}}. It stops bpftrace when the socket closes, on
SIGINT/SIGTERM/SIGHUP, and exits when bpftrace exits. bpftrace dies with it (PR_SET_PDEATHSIG).
Python standard library only.
"""

import argparse
import ctypes
import errno
import json
import os
import re
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# The tools (id, script in this directory, parameters with their patterns and order) are listed in
# tools.json next to this file, checked like the scripts are. Nothing else can be run.
MANIFEST = os.path.join(HERE, 'tools.json')
SCRIPT_NAME = re.compile(r'[a-z0-9][a-z0-9-]*\.(bt|py)')
PARAM_NAME = re.compile(r'[a-z][a-z0-9_]*')

BPFTRACE_CANDIDATES = ('/usr/bin/bpftrace', '/usr/local/bin/bpftrace', '/usr/sbin/bpftrace')
MIN_BPFTRACE = (0, 17)
STRING_LIMIT = '72'  # bytes including NUL: a Tor v3 address (68 chars) fits
BPFTRACE_ENV = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'BPFTRACE_STRLEN': STRING_LIMIT, 'LANG': 'C'}
# bpftrace prints its `attached_probes` record *before* attaching; with this variable it also prints
# ATTACHED_MARKER on stderr once every probe is attached (bpftrace's own test framework relies on it).
ATTACHED_MARKER = '__BPFTRACE_NOTIFY_PROBES_ATTACHED'
# Perf ring buffer pages per CPU (bpftrace's default is 64, 256 KiB): a larger buffer absorbs bursts of
# streamed records. A power of two, at most 16 MiB per CPU and 64 MiB over all CPUs.
PERF_RB_PAGES = str(max(64, min(4096, 1 << ((16384 // max(1, os.cpu_count() or 1)).bit_length() - 1))))
RUN_ENV = dict(BPFTRACE_ENV, **{ATTACHED_MARKER: '1', 'BPFTRACE_PERF_RB_PAGES': PERF_RB_PAGES})
STOP_GRACE_SECONDS = 3.0
TARGET_EXIT_GRACE_SECONDS = 2.0
FOLLOW_POLL_SECONDS = 0.5
MAX_PENDING_BYTES = 8 * 1024 * 1024  # stop reading bpftrace while this much waits for the socket
PR_SET_PDEATHSIG = 1
CAP_SYS_ADMIN = 21
CAP_BPF = 39
MAX_LINE_BYTES = 1024 * 1024  # a bpftrace line longer than this is dropped (the reader's limit too)
# raw-p2p-msgs sends a whole message (up to 4,000,000 bytes) as hex on one line
MAX_BCC_LINE_BYTES = 8 * 1024 * 1024 + 64 * 1024
# BCC programs run with the system interpreter, whose root-owned dist-packages has python3-bpfcc
BCC_PYTHON = '/usr/bin/python3'
BCC_ENV = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'LANG': 'C'}
# bpftrace reads the binary path inside an attach point (`usdt:$1:net:...`): ':' would split it and
# '*?[]{}' would make it a wildcard matching other files. Control characters would hide it in the terminal.
UNSAFE_PATH_CHARACTERS = re.compile(r'[\x00-\x1f\x7f:*?\[\]{}"\\]')
SOCKET_NAME = 'probe.sock'
BCC_ATTACHED = re.compile(rb'^[a-z0-9-]+\.py: attached \d+ probes')


class Refused(Exception):
    """A check failed: the message says what and why."""


def say(text):
    sys.stderr.write('bitcoin-usdt-helper: ' + text + '\n')
    sys.stderr.flush()


# ---------------------------------------------------------------- validation

def invoking_uid():
    for name in ('SUDO_UID', 'PKEXEC_UID'):
        value = os.environ.get(name, '')
        if re.fullmatch(r'[0-9]{1,10}', value):
            return int(value)
    return os.getuid()


def tool_manifest(_cache={}):
    """tools.json as {tool id: {'script': file, 'params': {name: pattern}, 'positional': ((name, default), ...)}}.
    Parameters are passed to bpftrace in the manifest's order after the binary: $2, $3, ..."""
    if not _cache:
        fd = os.open(MANIFEST, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, 'rb') as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise Refused('tool manifest %s is not a regular file' % MANIFEST)
            if st.st_mode & 0o022 or st.st_uid not in (0, os.stat(__file__).st_uid):
                raise Refused('tool manifest %s is writable by others or not owned by the helper\'s owner' % MANIFEST)
            try:
                tools = json.loads(f.read(1024 * 1024).decode('utf-8'))['tools']
                for tool in tools:
                    params = tool['parameters']
                    if not (SCRIPT_NAME.fullmatch(tool['script']) and all(
                            PARAM_NAME.fullmatch(p['name']) and re.compile(p['pattern']) and re.fullmatch(p['pattern'], p['default'])
                            for p in params)):
                        raise ValueError('tool %r: bad script name or parameter' % tool['id'])
                    _cache[tool['id']] = {'script': tool['script'], 'params': {p['name']: p['pattern'] for p in params},
                                          'positional': tuple((p['name'], p['default']) for p in params)}
            except (ValueError, KeyError, TypeError, re.error) as err:
                _cache.clear()
                raise Refused('tool manifest %s is invalid: %s' % (MANIFEST, err))
    return _cache


def check_tool(name):
    tools = tool_manifest()
    if name not in tools:
        raise Refused('unknown tool %r (known: %s)' % (name, ', '.join(sorted(tools))))
    script = os.path.join(HERE, tools[name]['script'])
    st = os.lstat(script)
    if not stat.S_ISREG(st.st_mode):
        raise Refused('tool script %s is not a regular file' % script)
    if st.st_mode & 0o022 or st.st_uid not in (0, os.stat(__file__).st_uid):
        raise Refused('tool script %s is writable by others or not owned by the helper\'s owner' % script)
    return script


def check_params(tool, params):
    allowed = tool_manifest()[tool]['params']
    parsed = {}
    for item in params:
        key, sep, value = item.partition('=')
        if not sep or key not in allowed:
            raise Refused('tool %s does not take parameter %r' % (tool, item))
        if not re.fullmatch(allowed[key], value):
            raise Refused('parameter %s has an invalid value' % key)
        parsed[key] = value
    return parsed


def check_binary(path):
    """Opens the binary without following a final symlink and validates the opened file (not the path):
    returns its stat. Every later check (PID, sections) uses this stat or re-checks the path against it."""
    if not os.path.isabs(path):
        raise Refused('binary path must be absolute: %r' % path)
    if UNSAFE_PATH_CHARACTERS.search(path):
        raise Refused('binary path %r contains a character bpftrace would misread (: * ? [ ] { } " \\ or a '
                      'control character); move or link the build to a plain path' % path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, 'O_NOCTTY', 0))
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise Refused('binary %s is a symlink; pass the real file' % path)
        raise Refused('cannot read binary %s: %s' % (path, err.strerror))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused('binary %s is not a regular file' % path)
        if os.pread(fd, 4, 0) != b'\x7fELF':
            raise Refused('binary %s is not an ELF file' % path)
        with os.fdopen(os.dup(fd), 'rb') as f:
            has_probes = elf_has_section(f, '.probes')
    except (OSError, struct.error, IndexError) as err:
        raise Refused('cannot read binary %s: %s' % (path, getattr(err, 'strerror', None) or err))
    finally:
        os.close(fd)
    return st, has_probes


def check_same_file(path, binary_stat):
    """Right before bpftrace opens `path`: it must still be the file that was validated (no swap since)."""
    try:
        st = os.lstat(path)
    except OSError as err:
        raise Refused('binary %s went away: %s' % (path, err.strerror))
    if (st.st_dev, st.st_ino) != (binary_stat.st_dev, binary_stat.st_ino) or not stat.S_ISREG(st.st_mode):
        raise Refused('binary %s was replaced after it was checked' % path)


def check_pid(text, binary_stat):
    if not re.fullmatch(r'[0-9]{1,10}', text or '') or int(text) <= 0:
        raise Refused('PID must be a positive decimal number: %r' % text)
    pid = int(text)
    if not os.path.exists('/proc/%d' % pid):
        raise Refused('no process with PID %d' % pid)
    if not same_executable(pid, binary_stat):
        raise Refused('process %d does not run the binary given (/proc/%d/exe is another file)' % (pid, pid))
    return pid


def same_executable(pid, binary_stat):
    try:
        st = os.stat('/proc/%d/exe' % pid)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (binary_stat.st_dev, binary_stat.st_ino)


def check_bpftrace(path):
    """Returns the real path of a root-owned bpftrace that only root can replace (every directory on its
    real path is root-owned and not writable by group or others)."""
    candidates = [path] if path else [p for p in BPFTRACE_CANDIDATES if os.path.exists(p)]
    if not candidates:
        raise Refused('bpftrace not found in %s; install it (Debian/Ubuntu: apt install bpftrace)'
                      % ', '.join(BPFTRACE_CANDIDATES))
    chosen = candidates[0]
    if not os.path.isabs(chosen) or UNSAFE_PATH_CHARACTERS.search(chosen):
        raise Refused('bpftrace path must be a plain absolute path: %r' % chosen)
    if not os.path.basename(chosen).startswith('bpftrace'):
        raise Refused('bpftrace path %s does not name a bpftrace program' % chosen)
    real = os.path.realpath(chosen)
    try:
        st = os.stat(real)
    except OSError as err:
        raise Refused('cannot use bpftrace %s: %s' % (chosen, err.strerror))
    if not stat.S_ISREG(st.st_mode):
        raise Refused('bpftrace %s is not a regular file' % chosen)
    if st.st_uid != 0:
        raise Refused('bpftrace %s is not owned by root' % chosen)
    if st.st_mode & 0o022:
        raise Refused('bpftrace %s is writable by group or others' % chosen)
    directory = os.path.dirname(real)
    while True:
        dst = os.stat(directory)
        if dst.st_uid != 0 or dst.st_mode & 0o022:
            raise Refused('bpftrace %s is in %s, which someone other than root can change' % (chosen, directory))
        if directory == '/':
            break
        directory = os.path.dirname(directory)
    return real


def check_bcc_python():
    """The interpreter for BCC programs: the system python3, root-owned and replaceable only by root."""
    try:
        st = os.stat(BCC_PYTHON)
    except OSError as err:
        raise Refused('%s is needed for BCC tools: %s' % (BCC_PYTHON, err.strerror))
    if st.st_uid != 0 or st.st_mode & 0o022:
        raise Refused('%s is not root-owned or is writable by others' % BCC_PYTHON)
    if not any(os.path.isdir(os.path.join(d, 'bcc')) for d in ('/usr/lib/python3/dist-packages',
                                                               '/usr/local/lib/python3/dist-packages')):
        raise Refused('BCC is not installed: install python3-bpfcc (Debian/Ubuntu) or python3-bcc')
    return BCC_PYTHON


def check_socket(path, uid):
    """Validates the socket's directory through an fd opened without following symlinks, and returns that
    fd: connecting through /proc/self/fd/N/probe.sock reaches exactly the directory that was checked."""
    if not os.path.isabs(path) or UNSAFE_PATH_CHARACTERS.search(path):
        raise Refused('socket path must be a plain absolute path: %r' % path)
    directory = os.path.dirname(path)
    if os.path.basename(path) != SOCKET_NAME:
        raise Refused('socket must be named %s (is %r)' % (SOCKET_NAME, os.path.basename(path)))
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Refused('socket directory %s must be a real directory' % directory)
        raise Refused('cannot use socket %s: %s' % (path, err.strerror))
    try:
        dst = os.fstat(dir_fd)
        if dst.st_uid != uid:
            raise Refused('socket directory %s is not owned by uid %d' % (directory, uid))
        if stat.S_IMODE(dst.st_mode) != 0o700:
            raise Refused('socket directory %s must have mode 0700 (has %04o)' % (directory, stat.S_IMODE(dst.st_mode)))
        try:
            sst = os.stat(SOCKET_NAME, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as err:
            raise Refused('cannot use socket %s: %s' % (path, err.strerror))
        if not stat.S_ISSOCK(sst.st_mode):
            raise Refused('%s is not a socket' % path)
        if sst.st_uid != uid:
            raise Refused('socket %s is not owned by uid %d' % (path, uid))
    except Refused:
        os.close(dir_fd)
        raise
    return dir_fd


def check_peer(sock, uid):
    """The process listening on the socket must be the invoking user's (SO_PEERCRED), never another's."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize('3i'))
    _, peer_uid, _ = struct.unpack('3i', creds)
    if peer_uid != uid:
        raise Refused('the socket is served by uid %d, not by the invoking user (uid %d)' % (peer_uid, uid))


def check_privileges():
    """Root is not enough where capabilities were dropped (containers): look at the effective set."""
    caps = 0
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('CapEff:'):
                caps = int(line.split()[1], 16)
    if not caps & ((1 << CAP_BPF) | (1 << CAP_SYS_ADMIN)):
        if os.geteuid() == 0:
            raise Refused('BPF is not permitted here: this root process has neither CAP_BPF nor CAP_SYS_ADMIN '
                          '(a container or a capability bounding set drops them)')
        raise Refused('must run as root (or with CAP_BPF/CAP_SYS_ADMIN) to load eBPF programs; '
                      'start it with sudo')


def bpftrace_version(bpftrace):
    try:
        out = subprocess.run([bpftrace, '--version'], env=BPFTRACE_ENV, stdin=subprocess.DEVNULL, cwd='/',
                             capture_output=True, text=True, errors='replace', timeout=20).stdout
    except (OSError, subprocess.SubprocessError) as err:
        raise Refused('cannot run %s --version: %s' % (bpftrace, err))
    match = re.match(r'\s*bpftrace v?(\d+)\.(\d+)(?:\.(\d+))?', out)
    if not match:
        raise Refused('cannot read the bpftrace version from %r' % out.strip()[:80])
    version = tuple(int(g or 0) for g in match.groups())
    if version[:2] < MIN_BPFTRACE:
        raise Refused('bpftrace %s is too old: version %d.%d or newer is needed'
                      % (match.group(0), MIN_BPFTRACE[0], MIN_BPFTRACE[1]))
    return '%d.%d.%d' % version


def check_features(bpftrace, needs_refcount):
    try:
        result = subprocess.run([bpftrace, '--info'], env=BPFTRACE_ENV, stdin=subprocess.DEVNULL, cwd='/',
                                capture_output=True, text=True, errors='replace', timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        raise Refused('cannot run %s --info: %s' % (bpftrace, err))
    info = result.stdout + result.stderr
    missing = []
    if not re.search(r'probe_read(_user)?_str: yes', info):
        missing.append('the probe_read_user_str kernel helper (reading strings from bitcoind)')
    if needs_refcount and not re.search(r'uprobe refcount[^\n]*: yes', info):
        missing.append('uprobe refcount support (needed for tracepoints gated by semaphores, Bitcoin Core v29+)')
    if missing:
        raise Refused('bpftrace on this system lacks: ' + '; '.join(missing))


def elf_has_section(f, wanted):
    """True when the open ELF file has a section named `wanted` (e.g. `.probes`, which holds USDT semaphores)."""
    ident = f.read(16)
    is64 = ident[4] == 2
    end = '<' if ident[5] == 1 else '>'
    if is64:
        f.seek(0x28)
        shoff, = struct.unpack(end + 'Q', f.read(8))
        f.seek(0x3A)
    else:
        f.seek(0x20)
        shoff, = struct.unpack(end + 'I', f.read(4))
        f.seek(0x2E)
    shentsize, shnum, shstrndx = struct.unpack(end + 'HHH', f.read(6))
    if shoff == 0 or shnum == 0 or shstrndx >= shnum or shentsize < (64 if is64 else 40) or shentsize * shnum > 1 << 24:
        return False
    f.seek(shoff)
    table = f.read(shentsize * shnum)

    def header(i):
        raw = table[i * shentsize:(i + 1) * shentsize]
        if is64:
            name, _, _, _, offset, size = struct.unpack(end + 'IIQQQQ', raw[:40])
        else:
            name, _, _, _, offset, size = struct.unpack(end + 'IIIIII', raw[:24])
        return name, offset, size

    _, str_off, str_size = header(shstrndx)
    f.seek(str_off)
    names = f.read(min(str_size, 1 << 20))
    target = wanted.encode()
    for i in range(shnum):
        name_off = header(i)[0]
        if names[name_off:names.find(b'\0', name_off)] == target:
            return True
    return False


# ---------------------------------------------------------------- running

class Link:
    """The socket to the unprivileged reader: non-blocking, with a bounded outgoing buffer."""

    def __init__(self, dir_fd, uid):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            self.sock.connect('/proc/self/fd/%d/%s' % (dir_fd, SOCKET_NAME))
            check_peer(self.sock, uid)
        except BaseException:
            self.sock.close()
            raise
        finally:
            os.close(dir_fd)
        self.sock.setblocking(False)
        self.pending = bytearray()
        self.closed = False

    def send_line(self, raw):
        if not self.closed:
            self.pending += raw if raw.endswith(b'\n') else raw + b'\n'
            self.flush()

    def record(self, event, **fields):
        data = {'event': event}
        data.update(fields)
        self.send_line(json.dumps({'type': 'helper', 'data': data}, ensure_ascii=False).encode())

    def flush(self):
        while self.pending and not self.closed:
            try:
                sent = self.sock.send(self.pending)
            except BlockingIOError:
                return
            except OSError:
                self.closed = True
                return
            del self.pending[:sent]

    def flush_blocking(self, seconds):
        deadline = time.monotonic() + seconds
        while self.pending and not self.closed and time.monotonic() < deadline:
            select.select([], [self.sock], [], 0.1)
            self.flush()

    def peer_gone(self):
        """Called when poll says the socket is readable or hung up: the reader never writes, so it closed."""
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return False
        except OSError:
            data = b''
        if not data:
            self.closed = True
        return self.closed


def pdeathsig_setter(parent_pid):
    libc = ctypes.CDLL(None, use_errno=True)

    def setup():
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent_pid:  # the helper died before prctl took effect
            os._exit(126)
    return setup


stop_requested = []


def on_stop_signal(signum, _frame):
    stop_requested.append(signum)


def probe_argv(tracer, script, binary, pid, positional=()):
    """The fixed command line of one probe: bpftrace with a .bt script, or a BCC .py program."""
    if script.endswith('.py'):
        return [BCC_PYTHON, '-I', '-S', script, '--binary', binary] + (['--pid', str(pid)] if pid else [])
    return [tracer, '-f', 'json'] + (['-p', str(pid)] if pid else []) + [script, binary] + list(positional)


def run_bpftrace(link, bpftrace, script, binary, pid, positional=()):
    """Runs one probe (bpftrace or a BCC program) until it exits; returns (exit code, why it stopped)."""
    argv = probe_argv(bpftrace, script, binary, pid, positional)
    is_bcc = script.endswith('.py')
    max_line_bytes = MAX_BCC_LINE_BYTES if is_bcc else MAX_LINE_BYTES
    proc = subprocess.Popen(argv, env=BCC_ENV if is_bcc else RUN_ENV, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, process_group=0, cwd='/',
                            preexec_fn=pdeathsig_setter(os.getpid()))
    say('running: ' + ' '.join(argv))
    link.record('started', argv=argv, pid=pid, bpftrace_pid=proc.pid, monotonic_ns=time.monotonic_ns())
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    buffers = {out_fd: b'', err_fd: b''}
    open_fds = {out_fd, err_fd}
    reason = 'bpftrace exited'
    stop_sent_at = None
    killed = False
    poller = select.poll()
    sock_events = select.POLLIN | select.POLLHUP | getattr(select, 'POLLRDHUP', 0x2000)
    poller.register(link.sock, sock_events)
    for fd in open_fds:
        poller.register(fd, select.POLLIN | select.POLLHUP)
    reading_paused = False
    target_gone_at = None

    def stop(why):
        nonlocal stop_sent_at, reason
        if stop_sent_at is None:
            reason = why
            stop_sent_at = time.monotonic()
            try:
                os.killpg(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    while open_fds:
        if stop_requested:
            stop('stopped by signal %s' % signal.Signals(stop_requested[-1]).name)
        if pid and stop_sent_at is None and not os.path.exists('/proc/%d' % pid):
            # bpftrace -p exits by itself once the target is gone (draining its buffers, running END):
            # interrupt it only if it is still running after a grace period.
            if target_gone_at is None:
                target_gone_at = time.monotonic()
            elif time.monotonic() - target_gone_at > TARGET_EXIT_GRACE_SECONDS:
                stop('target process %d exited' % pid)
        if stop_sent_at is not None and not killed and time.monotonic() - stop_sent_at > STOP_GRACE_SECONDS:
            killed = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        want_out = len(link.pending) < MAX_PENDING_BYTES or link.closed
        if want_out == reading_paused:
            reading_paused = not want_out
            for fd in open_fds:  # stderr too: bpftrace's complaints must not grow the buffer without bound
                poller.modify(fd, (select.POLLIN | select.POLLHUP) if want_out else 0)
        if not link.closed:
            poller.modify(link.sock, sock_events | (select.POLLOUT if link.pending else 0))
        try:
            ready = poller.poll(200)
        except InterruptedError:
            continue
        for fd, events in ready:
            if fd == link.sock.fileno():
                if events & select.POLLOUT:
                    link.flush()
                if events & ~select.POLLOUT and link.peer_gone():
                    poller.unregister(link.sock)
                if link.closed:
                    stop('the reader closed the socket')
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.discard(fd)
                poller.unregister(fd)
                chunk = b'\n' if buffers[fd] else b''
            *lines, buffers[fd] = (buffers[fd] + chunk).split(b'\n')
            if len(buffers[fd]) > max_line_bytes:
                buffers[fd] = b''
                link.record('stderr', line='(the helper dropped a line longer than %d bytes)' % max_line_bytes)
            for line in lines:
                if fd == out_fd:
                    link.send_line(line)
                elif line.strip() == ATTACHED_MARKER.encode() or (is_bcc and BCC_ATTACHED.match(line)):
                    link.record('attached', pid=pid)
                    say('attached; press Ctrl-C to stop')
                elif line.strip():
                    link.record('stderr', line=line.decode('utf-8', 'replace'))
    code = reap(proc)
    if code < 0 and stop_sent_at is None:
        reason = 'bpftrace was killed by %s' % signal.Signals(-code).name
    if pid and not os.path.exists('/proc/%d' % pid) and not stop_requested and not link.closed:
        reason = 'target process %d exited' % pid
    return code, reason


def reap(proc):
    """Waits for bpftrace (killing it after a grace period), then kills whatever is left in its process
    group. The group is killed before bpftrace is reaped, so its id cannot belong to another process yet."""
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return proc.wait()


def wait_for_new_process(binary_path, link):
    """--follow: polls /proc until a process runs the binary (re-stat each time: it may be rebuilt)."""
    while not stop_requested:
        try:
            binary_stat, _ = check_binary(binary_path)
        except Refused:
            binary_stat = None
        if binary_stat is not None:
            for entry in os.listdir('/proc'):
                if entry.isdigit() and same_executable(int(entry), binary_stat):
                    return int(entry)
        ready = select.select([link.sock], [], [], FOLLOW_POLL_SECONDS)[0]
        if ready and link.peer_gone():
            return None
    return None


def command_run(args):
    uid = invoking_uid()
    link = Link(check_socket(args.socket, uid), uid)
    try:
        script = check_tool(args.tool)
        params = check_params(args.tool, args.param or [])
        positional = [params.get(name, default) for name, default in tool_manifest()[args.tool]['positional']]
        binary_stat, semaphores = check_binary(args.binary)
        pid = check_pid(args.pid, binary_stat) if args.pid is not None else None
        if args.follow and pid is None:
            raise Refused('--follow needs --pid')
        check_privileges()
        if script.endswith('.py'):
            if semaphores and pid is None:
                raise Refused('%s needs --pid on this binary: its tracepoints have semaphores (Bitcoin Core '
                              'v29+), which BCC raises in one running process' % args.tool)
            bpftrace, version = check_bcc_python(), 'BCC'
        else:
            bpftrace = check_bpftrace(args.bpftrace)
            version = bpftrace_version(bpftrace)
            check_features(bpftrace, semaphores)
        check_same_file(args.binary, binary_stat)
    except Refused as err:
        say('refused: %s' % err)
        link.record('error', message=str(err))
        link.flush_blocking(2)
        return 2
    link.record('target', tool=args.tool, binary=args.binary, pid=pid, semaphores=semaphores,
                bpftrace=bpftrace, bpftrace_version=version)
    say('tool %s on %s%s with %s' % (args.tool, args.binary, ' (PID %d)' % pid if pid else '',
                                    'BCC' if version == 'BCC' else 'bpftrace %s' % version))
    while True:
        code, reason = run_bpftrace(link, bpftrace, script, args.binary, pid, positional)
        link.record('bpftrace_exit', code=code, reason=reason)
        if not (args.follow and reason.startswith('target process') and not stop_requested and not link.closed):
            break
        say('target exited; waiting for a new process running %s (Ctrl-C to stop)' % args.binary)
        new_pid = wait_for_new_process(args.binary, link)
        if new_pid is None:
            reason = 'stopped while waiting for a new process'
            break
        pid = new_pid
        link.record('reattached', pid=pid)
        say('re-attaching to PID %d' % pid)
    link.record('exit', code=code, reason=reason)
    link.flush_blocking(5)
    say('stopped: %s' % reason)
    return 0 if code == 0 else 1


def main(argv):
    parser = argparse.ArgumentParser(prog='bitcoin-usdt-helper.py')
    sub = parser.add_subparsers(dest='command', required=True)
    run = sub.add_parser('run', help='run a probe tool and stream its records to a socket')
    run.add_argument('--tool', required=True)
    run.add_argument('--binary', required=True)
    run.add_argument('--pid')
    run.add_argument('--follow', action='store_true')
    run.add_argument('--socket', required=True)
    run.add_argument('--bpftrace')
    run.add_argument('--param', action='append')
    args = parser.parse_args(argv)
    os.chdir('/')
    os.umask(0o077)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_stop_signal)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # When whatever started the helper (sudo, pkexec, the terminal's shell) dies, stop as on Ctrl-C.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    try:
        return command_run(args)
    except Refused as err:
        say('refused: %s' % err)
        return 2
    except OSError as err:
        if err.errno in (errno.ECONNREFUSED, errno.ENOENT):
            say('cannot connect to %s: %s' % (args.socket, err.strerror))
            return 2
        raise


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
