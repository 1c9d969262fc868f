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

# tool name -> script file in this directory. Nothing else can be run.
TOOLS = {
    'p2p-traffic': 'p2p-traffic.bt',
    'p2p-monitor': 'p2p-monitor.bt',
}
# tool name -> allowed --param names and their value pattern. No tool takes parameters yet.
TOOL_PARAMS = {
    'p2p-traffic': {},
    'p2p-monitor': {},
}

BPFTRACE_CANDIDATES = ('/usr/bin/bpftrace', '/usr/local/bin/bpftrace', '/usr/sbin/bpftrace')
MIN_BPFTRACE = (0, 17)
STRING_LIMIT = '72'  # bytes including NUL: a Tor v3 address (68 chars) fits
BPFTRACE_ENV = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'BPFTRACE_STRLEN': STRING_LIMIT, 'LANG': 'C'}
# bpftrace prints its `attached_probes` record *before* attaching; with this variable it also prints
# ATTACHED_MARKER on stderr once every probe is attached (bpftrace's own test framework relies on it).
ATTACHED_MARKER = '__BPFTRACE_NOTIFY_PROBES_ATTACHED'
RUN_ENV = dict(BPFTRACE_ENV, **{ATTACHED_MARKER: '1'})
STOP_GRACE_SECONDS = 3.0
FOLLOW_POLL_SECONDS = 0.5
MAX_PENDING_BYTES = 8 * 1024 * 1024  # stop reading bpftrace while this much waits for the socket
PR_SET_PDEATHSIG = 1
CAP_SYS_ADMIN = 21
CAP_BPF = 39


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


def check_tool(name):
    if name not in TOOLS:
        raise Refused('unknown tool %r (known: %s)' % (name, ', '.join(sorted(TOOLS))))
    script = os.path.join(HERE, TOOLS[name])
    st = os.lstat(script)
    if not stat.S_ISREG(st.st_mode):
        raise Refused('tool script %s is not a regular file' % script)
    return script


def check_params(tool, params):
    allowed = TOOL_PARAMS[tool]
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
    if not os.path.isabs(path):
        raise Refused('binary path must be absolute: %r' % path)
    try:
        st = os.lstat(path)
    except OSError as err:
        raise Refused('cannot read binary %s: %s' % (path, err.strerror))
    if stat.S_ISLNK(st.st_mode):
        raise Refused('binary %s is a symlink; pass the real file' % path)
    if not stat.S_ISREG(st.st_mode):
        raise Refused('binary %s is not a regular file' % path)
    with open(path, 'rb') as f:
        if f.read(4) != b'\x7fELF':
            raise Refused('binary %s is not an ELF file' % path)
    return st


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
    candidates = [path] if path else [p for p in BPFTRACE_CANDIDATES if os.path.exists(p)]
    if not candidates:
        raise Refused('bpftrace not found in %s; install it (Debian/Ubuntu: apt install bpftrace)'
                      % ', '.join(BPFTRACE_CANDIDATES))
    chosen = candidates[0]
    if not os.path.isabs(chosen):
        raise Refused('bpftrace path must be absolute: %r' % chosen)
    try:
        st = os.stat(chosen)
    except OSError as err:
        raise Refused('cannot use bpftrace %s: %s' % (chosen, err.strerror))
    if not stat.S_ISREG(st.st_mode):
        raise Refused('bpftrace %s is not a regular file' % chosen)
    if st.st_uid != 0:
        raise Refused('bpftrace %s is not owned by root' % chosen)
    if st.st_mode & 0o022:
        raise Refused('bpftrace %s is writable by group or others' % chosen)
    return chosen


def check_socket(path, uid):
    if not os.path.isabs(path):
        raise Refused('socket path must be absolute: %r' % path)
    directory = os.path.dirname(path)
    try:
        dst = os.lstat(directory)
        sst = os.lstat(path)
    except OSError as err:
        raise Refused('cannot use socket %s: %s' % (path, err.strerror))
    if stat.S_ISLNK(dst.st_mode) or not stat.S_ISDIR(dst.st_mode):
        raise Refused('socket directory %s must be a real directory' % directory)
    if dst.st_uid != uid:
        raise Refused('socket directory %s is not owned by uid %d' % (directory, uid))
    if stat.S_IMODE(dst.st_mode) != 0o700:
        raise Refused('socket directory %s must have mode 0700 (has %04o)' % (directory, stat.S_IMODE(dst.st_mode)))
    if not stat.S_ISSOCK(sst.st_mode):
        raise Refused('%s is not a socket' % path)
    if sst.st_uid != uid:
        raise Refused('socket %s is not owned by uid %d' % (path, uid))


def check_privileges():
    if os.geteuid() == 0:
        return
    caps = 0
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('CapEff:'):
                caps = int(line.split()[1], 16)
    if not caps & ((1 << CAP_BPF) | (1 << CAP_SYS_ADMIN)):
        raise Refused('must run as root (or with CAP_BPF/CAP_SYS_ADMIN) to load eBPF programs; '
                      'start it with sudo')


def bpftrace_version(bpftrace):
    out = subprocess.run([bpftrace, '--version'], env=BPFTRACE_ENV, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=20).stdout
    match = re.search(r'v?(\d+)\.(\d+)(?:\.(\d+))?', out)
    if not match:
        raise Refused('cannot read the bpftrace version from %r' % out.strip()[:80])
    version = tuple(int(g or 0) for g in match.groups())
    if version[:2] < MIN_BPFTRACE:
        raise Refused('bpftrace %s is too old: version %d.%d or newer is needed'
                      % (match.group(0), MIN_BPFTRACE[0], MIN_BPFTRACE[1]))
    return '%d.%d.%d' % version


def check_features(bpftrace, needs_refcount):
    result = subprocess.run([bpftrace, '--info'], env=BPFTRACE_ENV, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=30)
    info = result.stdout + result.stderr
    missing = []
    if not re.search(r'probe_read(_user)?_str: yes', info):
        missing.append('the probe_read_user_str kernel helper (reading strings from bitcoind)')
    if needs_refcount and not re.search(r'uprobe refcount[^\n]*: yes', info):
        missing.append('uprobe refcount support (needed for tracepoints gated by semaphores, Bitcoin Core v29+)')
    if missing:
        raise Refused('bpftrace on this system lacks: ' + '; '.join(missing))


def elf_has_section(path, wanted):
    """True when the ELF file has a section named `wanted` (e.g. `.probes`, which holds USDT semaphores)."""
    with open(path, 'rb') as f:
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
        if shoff == 0 or shnum == 0 or shstrndx >= shnum or shnum > 65535:
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

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
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


def run_bpftrace(link, bpftrace, script, binary, pid):
    """Runs one bpftrace until it exits; returns (exit code, why it stopped)."""
    argv = [bpftrace, '-f', 'json'] + (['-p', str(pid)] if pid else []) + [script, binary]
    proc = subprocess.Popen(argv, env=RUN_ENV, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, process_group=0,
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
            if out_fd in open_fds:
                poller.modify(out_fd, (select.POLLIN | select.POLLHUP) if want_out else 0)
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
            for line in lines:
                if fd == out_fd:
                    link.send_line(line)
                elif line.strip() == ATTACHED_MARKER.encode():
                    link.record('attached', pid=pid)
                    say('attached; press Ctrl-C to stop')
                elif line.strip():
                    link.record('stderr', line=line.decode('utf-8', 'replace'))
    code = proc.wait()
    if pid and not os.path.exists('/proc/%d' % pid) and not stop_requested and not link.closed:
        reason = 'target process %d exited' % pid
    return code, reason


def wait_for_new_process(binary_path, link):
    """--follow: polls /proc until a process runs the binary (re-stat each time: it may be rebuilt)."""
    while not stop_requested:
        try:
            binary_stat = os.stat(binary_path)
        except OSError:
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
    check_socket(args.socket, uid)
    link = Link(args.socket)
    try:
        script = check_tool(args.tool)
        check_params(args.tool, args.param or [])
        binary_stat = check_binary(args.binary)
        pid = check_pid(args.pid, binary_stat) if args.pid is not None else None
        if args.follow and pid is None:
            raise Refused('--follow needs --pid')
        check_privileges()
        bpftrace = check_bpftrace(args.bpftrace)
        version = bpftrace_version(bpftrace)
        semaphores = elf_has_section(args.binary, '.probes')
        check_features(bpftrace, semaphores)
    except Refused as err:
        say('refused: %s' % err)
        link.record('error', message=str(err))
        link.flush_blocking(2)
        return 2
    link.record('target', tool=args.tool, binary=args.binary, pid=pid, semaphores=semaphores,
                bpftrace=bpftrace, bpftrace_version=version)
    say('tool %s on %s%s with bpftrace %s' % (args.tool, args.binary, ' (PID %d)' % pid if pid else '', version))
    while True:
        code, reason = run_bpftrace(link, bpftrace, script, args.binary, pid)
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
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_stop_signal)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
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
