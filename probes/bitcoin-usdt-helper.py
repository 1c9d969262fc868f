#!/usr/bin/python3 -I -S
"""Privileged helper: the only program of Bitcoin Core USDT Tracing that runs as root.

    python3 -I -S bitcoin-usdt-helper.py run --tool NAME --binary /abs/bitcoind [--pid N] [--follow]
        --socket /tmp/bitcoin-usdt-XXXXXX/probe.sock [--bpftrace /usr/bin/bpftrace] [--param k=v ...]
        [run --tool NAME ... (another session)]

Several `run` groups start several sessions from one invocation (one password for probes started
together): each runs in its own child process, exactly as if it had been started alone.

It runs one of the bpftrace scripts shipped next to it against a validated bitcoind. It connects to the
Unix socket of the (unprivileged) user who started it twice or more: the first connection carries its own
records {"type": "helper", "data": {"event": ...}}; for each run of the probe it opens another one, writes
{"type": "helper", "data": {"event": "data_channel", "run": K}} on it and hands it to bpftrace as its stdout,
so bpftrace's `-f json` lines go to the reader directly (the helper never reads them). It sends `bpftrace_exit`
only after bpftrace's whole process group is gone: the reader holds it until that run's connection has ended
(src/core/probeSession/helperStream.ts). It stops bpftrace when the reader shuts its side of the control
connection (then still delivers bpftrace's final records) or closes it, on SIGINT/SIGTERM/SIGHUP,
and exits when bpftrace exits. bpftrace dies with it (PR_SET_PDEATHSIG).

It acts for exactly one user, the one who invoked it (SUDO_UID/PKEXEC_UID, or root): every path that user
names is opened with that user's credentials, only that user's processes are traced (checked for a PID, and
filtered in the kernel by uid for binary-wide and --follow sessions), and what runs as root (bpftrace,
Python, the probe files) is opened through root-controlled directories and run through the checked
descriptor. SECURITY.md explains each rule and names its test. Python standard library only.
"""

import argparse
import ctypes
import errno
import fcntl
import json
import os
import pwd
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
# After a stop, bpftrace may still be writing what it drained into a data connection the reader is busy
# reading (raw-p2p-msgs' lines are megabytes): while the reader keeps taking bytes, wait up to this long.
DRAIN_GRACE_SECONDS = 60.0
SIOCOUTQ = 0x5411
TARGET_EXIT_GRACE_SECONDS = 2.0
FOLLOW_POLL_SECONDS = 0.5
# Binary-wide sessions learn of each exec and exit at once from the kernel's process events connector (netlink,
# root only) and scan all of /proc only as a safety net, every NODE_SCAN_SECONDS. Without the connector (a kernel
# built without it) they also look, every NEW_PROCESS_SCAN_SECONDS, at the pids that appeared in the last
# NEW_PROCESS_SECONDS (a process execs its program right after it was forked).
NODE_SCAN_SECONDS = 0.5
NEW_PROCESS_SCAN_SECONDS = 0.05
NEW_PROCESS_SECONDS = 1.0
NETLINK_CONNECTOR = 11
CN_IDX_PROC = CN_VAL_PROC = 1
PROC_CN_MCAST_LISTEN = 1
NLMSG_DONE = 3
PROC_EVENT_EXEC = 0x00000002
PROC_EVENT_EXIT = 0x80000000
NLMSG_HEADER = struct.Struct('=IHHII')  # length, type, flags, sequence, port
CN_MSG_HEADER = struct.Struct('=IIIIHH')  # idx, val, sequence, ack, length, flags
PROC_EVENT_HEAD = struct.Struct('=IIQII')  # what, cpu, timestamp; then (exec and exit alike) pid, tgid
PROC_EVENTS_RCVBUF = 4 * 1024 * 1024  # SO_RCVBUFFORCE: bursts of forks and exits wait here, not dropped
PROC_EVENTS_PER_READ = 4096  # messages read at once: a fork storm cannot starve bpftrace's stderr and the socket
MAX_PENDING_BYTES = 8 * 1024 * 1024  # stop reading bpftrace's stderr while this much waits for the socket
# Send buffer of a run's data connection (SO_SNDBUFFORCE, as root): bursts wait there, not in the kernel's
# perf buffer. Unix stream sockets account each write with its overhead, so it is larger than the bytes it holds.
DATA_SNDBUF_BYTES = 16 * 1024 * 1024
PR_SET_PDEATHSIG = 1
CAP_SYS_ADMIN = 21
CAP_BPF = 39
MAX_LINE_BYTES = 1024 * 1024  # a line of bpftrace's stderr longer than this is dropped
# BCC programs run with the system interpreter, whose root-owned dist-packages has python3-bpfcc
BCC_PYTHON = '/usr/bin/python3'
# files of probes/ that BCC programs import: checked like the programs themselves
BCC_SHARED_FILES = ['bcc_common.py']
# -B writes no bytecode; the prefix that cannot exist makes Python read none either, so only the checked
# sources run (a stale or planted __pycache__ next to them is never loaded).
BCC_PYTHON_FLAGS = ['-I', '-S', '-B', '-X', 'pycache_prefix=/dev/null']
BCC_ENV = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'LANG': 'C'}
# bpftrace reads the binary path inside an attach point (`usdt:$1:net:...`): ':' would split it and
# '*?[]{}' would make it a wildcard matching other files. Control characters would hide it in the terminal.
UNSAFE_PATH_CHARACTERS = re.compile(r'[\x00-\x1f\x7f:*?\[\]{}"\\]')
SOCKET_NAME = 'probe.sock'
# A user runs at most this many sessions at once; root may set another limit in HELPER_CONF.
HELPER_CONF = '/etc/bitcoin-usdt/helper.conf'
DEFAULT_MAX_SESSIONS = 10  # every tool at once, with one to spare
SESSION_LOCK_DIR = '/run/bitcoin-usdt'
BCC_ATTACHED = re.compile(rb'^[a-z0-9-]+\.py: attached \d+ probes')


class Refused(Exception):
    """A check failed: the message says what and why."""


def say(text):
    sys.stderr.write('bitcoin-usdt-helper: ' + text + '\n')
    sys.stderr.flush()


# ---------------------------------------------------------------- the invoking user

class User:
    """The one user the helper acts for: uid, primary gid and groups from the user database."""

    def __init__(self, uid):
        self.uid = uid
        if uid == 0:
            self.gid, self.groups, self.name = 0, [], 'root'
            return
        try:
            entry = pwd.getpwuid(uid)
        except KeyError:
            raise Refused('uid %d has no entry in the user database' % uid)
        self.gid, self.name = entry.pw_gid, entry.pw_name
        self.groups = os.getgrouplist(entry.pw_name, entry.pw_gid)

    @property
    def is_root(self):
        return self.uid == 0


def invoking_uid():
    """The uid the helper acts for. Started by a non-root user directly: that user, whatever the environment
    says. Started as root: sudo and pkexec set SUDO_UID / PKEXEC_UID themselves from the user who called them
    (sudo overwrites a SUDO_UID in the caller's environment and refuses VAR=value without a SETENV rule;
    pkexec clears the environment), so a user cannot claim another uid through them. A root caller that sets
    one itself can only narrow the helper to that user. Both set and different is ambiguous: refused."""
    if os.getuid() != 0:
        return os.getuid()
    claimed = set()
    for name in ('SUDO_UID', 'PKEXEC_UID'):
        value = os.environ.get(name)
        if value is None:
            continue
        if not re.fullmatch(r'0|[1-9][0-9]{0,9}', value) or int(value) >= 0xFFFFFFFF:
            raise Refused('%s=%r is not a uid' % (name, value))
        claimed.add(int(value))
    if len(claimed) > 1:
        raise Refused('SUDO_UID and PKEXEC_UID name different users; start the helper through one of them')
    return claimed.pop() if claimed else 0


def as_user(user, action, *args):
    """Runs action(*args) -> (descriptors, value) with the user's credentials and returns its result. For a
    non-root user it runs in a child process that has dropped to the user's uid, gid and groups (and with
    them every capability) and passes the open descriptors back over a socket pair; a Refused in the child is
    raised here with the same text, so an error says only what the user could have seen. For root it runs
    here."""
    if user.is_root:
        return action(*args)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    child = os.fork()
    if child == 0:
        try:
            ours.close()
            os.setgroups(user.groups)
            os.setresgid(user.gid, user.gid, user.gid)
            os.setresuid(user.uid, user.uid, user.uid)
            fds, value = action(*args)
            socket.send_fds(theirs, [json.dumps({'value': value}).encode()], fds)
        except Refused as err:
            theirs.send(json.dumps({'refused': str(err)}).encode())
        except BaseException as err:  # noqa: B902 (the child must never return into the helper)
            theirs.send(json.dumps({'refused': 'internal error as uid %d: %s' % (user.uid, err)}).encode())
        finally:
            os._exit(0)
    theirs.close()
    try:
        message, fds, _, _ = socket.recv_fds(ours, 65536, 8)
    finally:
        ours.close()
        os.waitpid(child, 0)
    if not message:
        raise Refused('could not act as uid %d' % user.uid)
    reply = json.loads(message)
    if 'refused' in reply:
        raise Refused(reply['refused'])
    return fds, reply['value']


# ---------------------------------------------------------------- what runs as root

def trusted_owners():
    """Root, and the owner of the helper itself: whoever can edit the helper can run code as root through
    it already (see SECURITY.md, password-less use), so files they own add nothing."""
    return {0, os.stat(os.path.abspath(__file__)).st_uid}


def open_trusted(path, owners, what, directory=False):
    """Opens a file that root will run or read (bpftrace, Python, a probe file, a configuration file) through
    its real path, one component at a time from / without following links, and checks each on its
    descriptor: every directory and the file itself owned by one of `owners` and writable by nobody else.
    Returns the file's O_PATH descriptor (running or reading /proc/self/fd/N uses exactly what was checked)
    and its real path. Only `owners` can change what the checked path names afterwards."""
    real = os.path.realpath(path)
    fd = os.open('/', os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        parts = [part for part in real.split('/') if part]
        for depth, part in enumerate(parts + [None]):
            st = os.fstat(fd)
            here = '/' + '/'.join(parts[:depth])
            if stat.S_ISLNK(st.st_mode):
                raise Refused('%s %s changed while it was checked (%s is a symlink)' % (what, path, here))
            if part is None:
                if not (stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)):
                    raise Refused('%s %s is not a %s' % (what, path, 'directory' if directory else 'regular file'))
                if st.st_uid not in owners or st.st_mode & 0o022:
                    raise Refused('%s %s (%s) is not owned by root or is writable by group or others'
                                  % (what, path, real))
                return fd, real
            if st.st_uid not in owners or st.st_mode & 0o022:
                raise Refused('%s %s is in %s, which someone other than root can change' % (what, path, here))
            next_fd = os.open(part, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = next_fd
    except OSError as err:
        os.close(fd)
        raise Refused('cannot use %s %s: %s' % (what, path, err.strerror))
    except Refused:
        os.close(fd)
        raise


def fd_path(fd):
    return '/proc/self/fd/%d' % fd


def read_trusted(path, owners, what, limit=1 << 20):
    """The bytes of a file checked by open_trusted (e.g. a configuration root wrote)."""
    fd, _ = open_trusted(path, owners, what)
    try:
        with open(os.open(fd_path(fd), os.O_RDONLY | os.O_CLOEXEC), 'rb') as f:
            return f.read(limit)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- validation

class Script:
    """A tool's script as checked descriptors: the probes directory (checked from / down) and the files in
    it that run. `path` reaches the script through the directory's descriptor, so a BCC program imports
    bcc_common from the very directory that was checked."""

    program = None  # a shipped script is a file; see GeneratedScript

    def __init__(self, name):
        owners = trusted_owners()
        self.name = name
        self.is_bcc = name.endswith('.py')
        self.dir_fd, self.real_dir = open_trusted(HERE, owners, 'probes directory', directory=True)
        for file_name in [name] + (BCC_SHARED_FILES if self.is_bcc else []):
            check_file_in(self.dir_fd, file_name, owners)
        self.path = '%s/%s' % (fd_path(self.dir_fd), name)
        self.shown_path = os.path.join(self.real_dir, name)


def check_file_in(dir_fd, name, owners):
    """A file in a checked directory: a regular file, owned by one of `owners`, writable by nobody else."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as err:
        raise Refused('cannot use tool script %s: %s' % (os.path.join(HERE, name), err.strerror))
    if not stat.S_ISREG(st.st_mode):
        raise Refused('tool script %s is not a regular file' % os.path.join(HERE, name))
    if st.st_uid not in owners or st.st_mode & 0o022:
        raise Refused('tool script %s is not owned by root or is writable by group or others' % os.path.join(HERE, name))


def tool_manifest(_cache={}):
    """tools.json as {tool id: {'script': file, 'params': {name: pattern}, 'positional': ((name, default), ...)}},
    read through open_trusted like the scripts. Parameters are passed to bpftrace in the manifest's order after
    the binary: $2, $3, ..."""
    if not _cache:
        data = read_trusted(MANIFEST, trusted_owners(), 'tool manifest')
        try:
            tools = json.loads(data.decode('utf-8'))['tools']
            for tool in tools:
                params = tool['parameters']
                generated = tool.get('generated', False) is True
                if not ((generated and tool['script'] == '' and tool['id'] == TRACE_TOOL) or SCRIPT_NAME.fullmatch(tool['script'])) or not all(
                        PARAM_NAME.fullmatch(p['name']) and re.compile(p['pattern']) and re.fullmatch(p['pattern'], p['default'])
                        for p in params):
                    raise ValueError('tool %r: bad script name or parameter' % tool['id'])
                _cache[tool['id']] = {'script': tool['script'], 'params': {p['name']: p['pattern'] for p in params},
                                      'filters': [p['name'] for p in params if p.get('filter')],
                                      'positional': () if generated else tuple((p['name'], p['default']) for p in params),
                                      'tracepoints': tuple(tool['tracepoints']), 'generated': generated}
        except (ValueError, KeyError, TypeError, re.error) as err:
            _cache.clear()
            raise Refused('tool manifest %s is invalid: %s' % (MANIFEST, err))
    return _cache


def check_tool(name):
    tools = tool_manifest()
    if name not in tools:
        raise Refused('unknown tool %r (known: %s)' % (name, ', '.join(sorted(tools))))
    if tools[name]['generated']:
        return GeneratedScript()
    return Script(tools[name]['script'])


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


def open_binary(path):
    """(With the user's credentials.) Opens `path` without following a link, and only when the descriptor
    shows a regular file reopens it for reading: a device, FIFO or socket is never opened."""
    try:
        fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        raise Refused('cannot read binary %s: %s' % (path, err.strerror))
    try:
        st = os.fstat(fd)
        if stat.S_ISLNK(st.st_mode):
            raise Refused('binary %s is a symlink; pass the real file' % path)
        if not stat.S_ISREG(st.st_mode):
            raise Refused('binary %s is not a regular file' % path)
        try:
            return [os.open(fd_path(fd), os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY)], None
        except OSError as err:
            raise Refused('cannot read binary %s: %s' % (path, err.strerror))
    finally:
        os.close(fd)


def check_binary(path, user):
    """Opens the binary as the user, without following a final symlink, and validates the opened file (not
    the path): returns its stat. Every later check (PID, sections) uses this stat or re-checks the path
    against it."""
    if not os.path.isabs(path):
        raise Refused('binary path must be absolute: %r' % path)
    if UNSAFE_PATH_CHARACTERS.search(path):
        raise Refused('binary path %r contains a character bpftrace would misread (: * ? [ ] { } " \\ or a '
                      'control character); move or link the build to a plain path' % path)
    (fd,), _ = as_user(user, open_binary, path)
    try:
        st = os.fstat(fd)
        if os.pread(fd, 4, 0) != b'\x7fELF':
            raise Refused('binary %s is not an ELF file' % path)
        with os.fdopen(os.dup(fd), 'rb') as f:
            has_probes = elf_has_section(f, '.probes')
        tracepoints = usdt_tracepoints(fd)
    except (OSError, struct.error, IndexError, ValueError) as err:
        raise Refused('cannot read binary %s: %s' % (path, getattr(err, 'strerror', None) or err))
    finally:
        os.close(fd)
    return st, has_probes, tracepoints


def usdt_tracepoints(fd):
    """The USDT tracepoints in the ELF notes of the open file `fd`: {"provider:name": set of argument lists},
    one list of argument specs (`-8@%rdi`, ...) per distinct call site signature.

    Reads (os.pread, bounded) only the ELF header, the section header table, the section name table and the
    `.note.stapsdt` section; {} when the file has none. Self-contained: Python standard library only.
    """
    ident = os.pread(fd, 64, 0)
    if len(ident) < 52 or ident[:4] != b'\x7fELF' or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        raise ValueError('not a valid ELF header')
    is64 = ident[4] == 2
    end = '<' if ident[5] == 1 else '>'
    if is64:
        shoff, = struct.unpack_from(end + 'Q', ident, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + 'HHH', ident, 0x3A)
    else:
        shoff, = struct.unpack_from(end + 'I', ident, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + 'HHH', ident, 0x2E)
    if shoff == 0 or shnum == 0 or shstrndx >= shnum or shentsize < (64 if is64 else 40) or shentsize * shnum > 1 << 24:
        return {}
    table = os.pread(fd, shentsize * shnum, shoff)
    if len(table) < shentsize * shnum:
        raise ValueError('section header table cut short')

    def section(i):  # (name offset, type, file offset, size, address alignment)
        raw = table[i * shentsize:(i + 1) * shentsize]
        if is64:
            name, kind, _, _, offset, size, _, _, align = struct.unpack_from(end + 'IIQQQQIIQ', raw)
        else:
            name, kind, _, _, offset, size, _, _, align = struct.unpack_from(end + 'IIIIIIIII', raw)
        return name, kind, offset, size, align

    _, _, names_offset, names_size, _ = section(shstrndx)
    names = os.pread(fd, min(names_size, 1 << 20), names_offset)
    word = 8 if is64 else 4
    found = {}
    for i in range(shnum):
        name_offset, kind, offset, size, align = section(i)
        if names[name_offset:names.find(b'\0', name_offset)] != b'.note.stapsdt' or kind != 7:  # SHT_NOTE
            continue
        data = os.pread(fd, min(size, 1 << 24), offset)
        pad = 8 if align == 8 else 4
        pos = 0
        while pos + 12 <= len(data):
            namesz, descsz, note_type = struct.unpack_from(end + 'III', data, pos)
            desc = pos + 12 + (namesz + pad - 1) // pad * pad
            if desc + descsz > len(data):
                break
            owner = data[pos + 12:pos + 12 + namesz].rstrip(b'\0')
            if owner == b'stapsdt' and note_type == 3 and descsz > 3 * word:
                strings = data[desc + 3 * word:desc + descsz].split(b'\0')
                if len(strings) >= 3:
                    tokens, depth, current = [], 0, ''
                    for character in strings[2].decode('latin-1') + ' ':  # aarch64 writes `4@[sp, 96]`
                        if character in '[(':
                            depth += 1
                        elif character in '])' and depth:
                            depth -= 1
                        if character.isspace() and depth == 0:
                            if current:
                                tokens.append(current)
                            current = ''
                        else:
                            current += character
                    tracepoint = '%s:%s' % (strings[0].decode('latin-1'), strings[1].decode('latin-1'))
                    found.setdefault(tracepoint, set()).add(tuple(tokens))
            pos = desc + (descsz + pad - 1) // pad * pad
    return found


def check_tool_tracepoints(tool, tracepoints, pid):
    """Refuses a binary (or the PID's executable) without the tracepoints the tool attaches to."""
    missing = [name for name in tool_manifest()[tool]['tracepoints'] if name not in tracepoints]
    if not missing:
        return
    contexts = set(name.split(':')[0] for entry in tool_manifest().values() for name in entry['tracepoints'])
    if not any(name.split(':')[0] in contexts for name in tracepoints):
        what = 'process %d is not a bitcoind with USDT tracepoints' % pid if pid else 'the binary is not a bitcoind with USDT tracepoints'
        why = 'it has no USDT tracepoints' if not tracepoints else 'none of its %d USDT tracepoints is Bitcoin Core\'s' % len(tracepoints)
        raise Refused('%s (%s); %s needs %s' % (what, why, tool, ', '.join(tool_manifest()[tool]['tracepoints'])))
    what = 'the executable of process %d' % pid if pid else 'the binary'
    raise Refused('%s lacks the tracepoint(s) %s that %s attaches to' % (what, ', '.join(missing), tool))


# ---------------------------------------------------------------- generated probes (trace-tracepoint)

# Any tracepoint of the binary, documented or not, traced without a script from the unprivileged side: it names
# the tracepoint and one reading per argument from a fixed set, and the helper writes the bpftrace program from
# the fixed template below after checking both against the binary's notes. No text from the caller reaches the
# program except a provider and a name that are identifiers, exist in the notes, and readings it spells itself.
TRACE_TOOL = 'trace-tracepoint'
IDENTIFIER = re.compile(r'[A-Za-z_][A-Za-z0-9_]{0,63}')
INTEGER_READINGS = {'u8': 'uint8', 's8': 'int8', 'u16': 'uint16', 's16': 'int16',
                    'u32': 'uint32', 's32': 'int32', 'u64': 'uint64', 's64': 'int64'}
SIZED_READING = re.compile(r'(str|hex)([1-9][0-9]{0,2})')
MAX_READINGS = 12  # arguments a tracepoint may have here (Bitcoin Core's most is 8)
MAX_STRING_BYTES = int(STRING_LIMIT) - 1  # bpftrace 0.17 keeps every string in a STRING_LIMIT buffer
MAX_HEX_BYTES = 64
BPFTRACE_READABLE_ARGS = 6  # bpftrace 0.17 reads arg0..arg5 only
# bpftrace 0.17 builds the printed tuple on the 512-byte BPF stack: measured, each string costs 144 bytes
# (its buffer and its copy in the tuple) and each 8-byte field 16; past 480 the program does not load.
STACK_BUDGET = 480
STACK_PER_STRING = 144
STACK_PER_FIELD = 16
TRACE_TEMPLATE = """usdt:$1:%(tracepoint)s
/$2 == 0 || uid == $2/
{
  @fired["%(tracepoint)s"] = count();
  print(("hit", elapsed%(readings)s));
}

interval:s:1
{
  print(@fired);
}
"""


class GeneratedScript:
    """The probe of a generated tool: no file; the program text is written by generated_program()."""
    is_bcc = False
    path = None
    shown_path = None
    program = None


def parse_reading(text, index):
    """One argument's reading: (kind, bytes) with kind in int, str, hex, hash, skip; refuses anything else."""
    if text == '-':
        return 'skip', 0
    if text in INTEGER_READINGS:
        return text, int(text[1:]) // 8
    if text == 'hash':
        return 'hash', 32
    sized = SIZED_READING.fullmatch(text)
    if not sized:
        raise Refused('argument %d: unknown reading %r (one of %s, strN, hexN, hash, -)'
                      % (index, text[:40], ', '.join(INTEGER_READINGS)))
    length = int(sized.group(2))
    limit = MAX_STRING_BYTES if sized.group(1) == 'str' else MAX_HEX_BYTES
    if length > limit:
        raise Refused('argument %d: %s reads at most %d bytes, not %d' % (index, sized.group(1), limit, length))
    return sized.group(1), length


def trace_spec(params, tracepoints):
    """Checks a trace-tracepoint request against the binary's notes ({"provider:name": set of argument spec
    lists}, from usdt_tracepoints): the tracepoint exists, its name is an identifier pair, there is one reading
    per argument of every call site, pointers are read only from pointer-sized arguments, and the program fits
    bpftrace 0.17. Returns {'tracepoint': 'p:n', 'args': [{'index', 'kind', 'bytes'}, ...]}."""
    tracepoint = params.get('tracepoint', '')
    provider, sep, name = tracepoint.partition(':')
    if not tracepoint:
        raise Refused('%s needs the tracepoint (--param tracepoint=PROVIDER:NAME)' % TRACE_TOOL)
    if not (sep and IDENTIFIER.fullmatch(provider) and IDENTIFIER.fullmatch(name)):
        raise Refused('tracepoint %r is not PROVIDER:NAME of identifiers' % tracepoint[:80])
    if tracepoint not in tracepoints:
        raise Refused('the binary has no tracepoint %s' % tracepoint)
    signatures = tracepoints[tracepoint]
    counts = sorted(set(len(specs) for specs in signatures))
    if len(counts) != 1:
        raise Refused('the call sites of %s pass different numbers of arguments (%s): it cannot be read one way'
                      % (tracepoint, ', '.join(map(str, counts))))
    texts = params.get('args', '')
    readings = texts.split(',') if texts else []
    if len(readings) > MAX_READINGS:
        raise Refused('at most %d argument readings, not %d' % (MAX_READINGS, len(readings)))
    if len(readings) != counts[0]:
        raise Refused('%s has %d argument(s) in the notes but %d reading(s) were given'
                      % (tracepoint, counts[0], len(readings)))
    args, strings, fields = [], 0, 0
    for index, text in enumerate(readings):
        kind, size = parse_reading(text, index)
        if kind == 'skip':
            args.append({'index': index, 'kind': kind, 'bytes': 0})
            continue
        if index >= BPFTRACE_READABLE_ARGS:
            raise Refused('argument %d: bpftrace 0.17 reads only arguments 0 to %d; read it as -'
                          % (index, BPFTRACE_READABLE_ARGS - 1))
        if kind in ('str', 'hex', 'hash'):
            sizes = set(spec.split('@')[0].lstrip('-') for specs in signatures for spec in [specs[index]])
            if sizes != {'8'}:
                raise Refused('argument %d of %s is %s bytes in the notes, not an 8-byte pointer: it cannot be read '
                              'as %s' % (index, tracepoint, '/'.join(sorted(sizes)), kind))
        if kind == 'str':
            strings += 1
        elif kind in ('hex', 'hash'):
            fields += size // 8 + size % 8  # whole words, then single bytes
        else:
            fields += 1
        args.append({'index': index, 'kind': kind, 'bytes': size})
    cost = strings * STACK_PER_STRING + fields * STACK_PER_FIELD
    if cost > STACK_BUDGET:
        raise Refused('these readings need %d bytes of the 512-byte BPF stack, more than bpftrace 0.17 can load (%d): '
                      'read fewer strings (each costs %d) or fewer bytes (each 8 cost %d)'
                      % (cost, STACK_BUDGET, STACK_PER_STRING, STACK_PER_FIELD))
    return {'tracepoint': tracepoint, 'args': args}


def reading_expressions(arg):
    """The bpftrace expressions that print one argument: its integer, its string, or its bytes as
    little-endian 64-bit words followed by single bytes (exact, unlike buf()'s escapes)."""
    register = 'arg%d' % arg['index']
    kind, size = arg['kind'], arg['bytes']
    if kind == 'skip':
        return []
    if kind in INTEGER_READINGS:
        return ['(%s)%s' % (INTEGER_READINGS[kind], register)]
    if kind == 'str':
        return ['str(%s, %d)' % (register, size)]
    words = ['*(uint64 *)(%s + %d)' % (register, 8 * k) for k in range(size // 8)]
    return words + ['*(uint8 *)(%s + %d)' % (register, offset) for offset in range(size // 8 * 8, size)]


def generated_program(spec):
    """The bpftrace program of a checked spec, from the fixed template."""
    readings = [expression for arg in spec['args'] for expression in reading_expressions(arg)]
    return TRACE_TEMPLATE % {'tracepoint': spec['tracepoint'], 'readings': ''.join(', ' + r for r in readings)}


def generated_probe(params, tracepoints):
    """(spec, program) for checked trace-tracepoint parameters, or Refused."""
    spec = trace_spec(params, tracepoints)
    return spec, generated_program(spec)


def check_same_file(path, binary_stat):
    """Right before bpftrace opens `path`: it must still be the file that was validated (no swap since)."""
    try:
        st = os.lstat(path)
    except OSError as err:
        raise Refused('binary %s went away: %s' % (path, err.strerror))
    if (st.st_dev, st.st_ino) != (binary_stat.st_dev, binary_stat.st_ino) or not stat.S_ISREG(st.st_mode):
        raise Refused('binary %s was replaced after it was checked' % path)


def process_uids(pid):
    """(real uid, effective uid) of a process, or None when it is gone."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('Uid:'):
                    real, effective = line.split()[1:3]
                    return int(real), int(effective)
    except OSError:
        return None
    return None


def owned_by(pid, user):
    """Root may trace any process; another user only those whose real and effective uid are theirs."""
    uids = process_uids(pid)
    return uids is not None and (user.is_root or uids == (user.uid, user.uid))


def check_pid(text, binary_path, binary_stat, user):
    if not re.fullmatch(r'[0-9]{1,10}', text or '') or int(text) <= 0:
        raise Refused('PID must be a positive decimal number: %r' % text)
    pid = int(text)
    uids = process_uids(pid)
    if uids is None:
        raise Refused('no process with PID %d' % pid)
    if not owned_by(pid, user):
        raise Refused('process %d belongs to another user (real uid %d, effective uid %d): as uid %d you may '
                      'trace only your own processes' % (pid, uids[0], uids[1], user.uid))
    if not same_executable(pid, binary_stat):
        raise Refused('process %d does not run the binary given (/proc/%d/exe is another file)' % (pid, pid))
    check_same_file_seen_by(pid, binary_path, binary_stat)
    return pid


def same_executable(pid, binary_stat):
    try:
        st = os.stat('/proc/%d/exe' % pid)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (binary_stat.st_dev, binary_stat.st_ino)


def check_same_file_seen_by(pid, binary_path, binary_stat):
    """bpftrace -p PID opens the binary as /proc/PID/root/<path>, in the target's mount namespace: that must
    be the file that was checked, not one the target's namespace puts there."""
    try:
        st = os.stat('/proc/%d/root%s' % (pid, binary_path))
    except OSError:
        st = None
    if st is None or (st.st_dev, st.st_ino) != (binary_stat.st_dev, binary_stat.st_ino):
        raise Refused('process %d sees another file at %s (it runs in its own mount namespace); trace it '
                      'from inside that namespace' % (pid, binary_path))


def check_bpftrace(path, user):
    """The bpftrace to run: the given path (resolved and checked as the user, who named it) or the first
    system candidate. Its real path must name a bpftrace program, and it and every directory above it must
    be root-owned and not group/other-writable. Returns (O_PATH descriptor, real path)."""
    candidates = [path] if path else [p for p in BPFTRACE_CANDIDATES if os.path.exists(p)]
    if not candidates:
        raise Refused('bpftrace not found in %s; install it (Debian/Ubuntu: apt install bpftrace)'
                      % ', '.join(BPFTRACE_CANDIDATES))
    chosen = candidates[0]
    if not os.path.isabs(chosen) or UNSAFE_PATH_CHARACTERS.search(chosen):
        raise Refused('bpftrace path must be a plain absolute path: %r' % chosen)
    if not os.path.basename(chosen).startswith('bpftrace'):
        raise Refused('bpftrace path %s does not name a bpftrace program' % chosen)
    (fd,), real = as_user(user, open_bpftrace, chosen)
    if not os.path.basename(real).startswith('bpftrace'):
        os.close(fd)
        raise Refused('bpftrace path %s leads to %s, which does not name a bpftrace program' % (chosen, real))
    return fd, real


def open_bpftrace(path):
    """(With the user's credentials: the user named the path.)"""
    fd, real = open_trusted(path, {0}, 'bpftrace')
    return [fd], real


def check_bcc_python():
    """The interpreter for BCC programs: the system python3, root-owned and replaceable only by root.
    Returns (O_PATH descriptor, real path)."""
    fd, real = open_trusted(BCC_PYTHON, {0}, 'the interpreter for BCC tools')
    if not any(os.path.isdir(os.path.join(d, 'bcc')) for d in ('/usr/lib/python3/dist-packages',
                                                               '/usr/local/lib/python3/dist-packages')):
        os.close(fd)
        raise Refused('BCC is not installed: install python3-bpfcc (Debian/Ubuntu) or python3-bcc')
    return fd, real


def connect_socket(path, uid):
    """(With the user's credentials.) Validates the socket's directory through a descriptor opened without
    following links, then connects through /proc/self/fd/N/probe.sock: exactly the directory that was
    checked, and only to a socket the user could reach anyway. Returns the connected socket's descriptor."""
    directory = os.path.dirname(path)
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
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            sock.connect('/proc/self/fd/%d/%s' % (dir_fd, SOCKET_NAME))
        except OSError as err:
            sock.close()
            raise Refused('cannot connect to %s: %s' % (path, err.strerror))
        return [sock.detach()], None
    finally:
        os.close(dir_fd)


def check_socket(path, user):
    """The connected socket to the invoking user's reader (connected as that user)."""
    if not os.path.isabs(path) or UNSAFE_PATH_CHARACTERS.search(path):
        raise Refused('socket path must be a plain absolute path: %r' % path)
    if os.path.basename(path) != SOCKET_NAME:
        raise Refused('socket must be named %s (is %r)' % (SOCKET_NAME, os.path.basename(path)))
    (fd,), _ = as_user(user, connect_socket, path, user.uid)
    return socket.socket(fileno=fd)


def peer_credentials(sock):
    """(pid, uid, gid) of the process listening on the connected socket's other end (SO_PEERCRED)."""
    return struct.unpack('3i', sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize('3i')))


def check_peer(sock, uid):
    """The process listening on the socket must be the invoking user's (SO_PEERCRED), never another's."""
    _, peer_uid, _ = peer_credentials(sock)
    if peer_uid != uid:
        raise Refused('the socket is served by uid %d, not by the invoking user (uid %d)' % (peer_uid, uid))


def max_sessions():
    """The per-user limit on concurrent sessions: DEFAULT_MAX_SESSIONS, or `max_sessions_per_user = N` in
    HELPER_CONF, a file only root can change."""
    if not os.path.lexists(HELPER_CONF):
        return DEFAULT_MAX_SESSIONS
    text = read_trusted(HELPER_CONF, {0}, 'configuration').decode('utf-8', 'replace')
    for line in text.splitlines():
        key, sep, value = line.partition('=')
        if sep and key.strip() == 'max_sessions_per_user':
            if not re.fullmatch(r'[1-9][0-9]{0,3}', value.strip()):
                raise Refused('%s: max_sessions_per_user must be a number from 1 to 9999' % HELPER_CONF)
            return int(value.strip())
    return DEFAULT_MAX_SESSIONS


def take_session_slot(user):
    """Holds one of the user's session slots for the helper's life: an flock on
    SESSION_LOCK_DIR/<uid>.<n> (n below the limit), released by the kernel when the helper exits however it
    exits. Root is not limited. Returns the lock's descriptor (or None for root)."""
    if user.is_root:
        return None
    limit = max_sessions()
    try:
        os.mkdir(SESSION_LOCK_DIR, 0o700)
    except FileExistsError:
        pass
    dir_fd = os.open(SESSION_LOCK_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        dst = os.fstat(dir_fd)
        if dst.st_uid != 0 or stat.S_IMODE(dst.st_mode) & 0o077:
            raise Refused('%s must be a directory owned by root with mode 0700' % SESSION_LOCK_DIR)
        for slot in range(limit):
            fd = os.open('%d.%d' % (user.uid, slot), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                         dir_fd=dir_fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                os.close(fd)
    finally:
        os.close(dir_fd)
    raise Refused('uid %d already runs %d probe sessions, the most one user may run at once (root sets '
                  'max_sessions_per_user in %s); stop one first' % (user.uid, limit, HELPER_CONF))


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


def run_tracer(tracer, argv, timeout):
    """Runs the checked bpftrace to completion (--version, --info): (stdout, stderr)."""
    with tracer.run(argv, env=BPFTRACE_ENV, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, cwd='/', text=True, errors='replace') as proc:
        try:
            return proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def bpftrace_version(tracer):
    try:
        out, _ = run_tracer(tracer, ['--version'], 20)
    except (OSError, subprocess.SubprocessError) as err:
        raise Refused('cannot run %s --version: %s' % (tracer.real, err))
    match = re.match(r'\s*bpftrace v?(\d+)\.(\d+)(?:\.(\d+))?', out)
    if not match:
        raise Refused('cannot read the bpftrace version from %r' % out.strip()[:80])
    version = tuple(int(g or 0) for g in match.groups())
    if version[:2] < MIN_BPFTRACE:
        raise Refused('bpftrace %s is too old: version %d.%d or newer is needed'
                      % (match.group(0), MIN_BPFTRACE[0], MIN_BPFTRACE[1]))
    return '%d.%d.%d' % version


def check_features(tracer, needs_refcount):
    try:
        out, err_text = run_tracer(tracer, ['--info'], 30)
    except (OSError, subprocess.SubprocessError) as err:
        raise Refused('cannot run %s --info: %s' % (tracer.real, err))
    info = out + err_text
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


# ---------------------------------------------------------------- node identity

CHAIN_FLAGS = {'regtest': 'regtest', 'testnet': 'test', 'testnet4': 'testnet4', 'signet': 'signet'}
# bitcoind's chain names as -chain= takes them, and the conf sections they read
CHAIN_NAMES = {'main': 'main', 'test': 'test', 'testnet': 'test', 'testnet3': 'test', 'testnet4': 'testnet4',
               'signet': 'signet', 'regtest': 'regtest'}
MAX_CONF_BYTES = 32 * 1024  # passed back from the user's process in one message (as_user reads 64 KiB)
MAX_CMDLINE_ARGS = 4096


def parse_bitcoind_args(argv):
    """bitcoind's options from its argv (after argv[0]) as {name: last value}: `-name=value`, `--name=value`,
    `-name` (value '1') and `-noname` (value '0'). Arguments that are not options end the options, as in
    bitcoind."""
    options = {}
    for arg in argv[1:MAX_CMDLINE_ARGS]:
        if not arg.startswith('-') or arg == '-':
            break
        name, sep, value = arg.lstrip('-').partition('=')
        if not sep:
            value = '1'
            if name.startswith('no') and len(name) > 2:
                name, value = name[2:], '0'
        options[name] = value
    return options


def parse_conf(text):
    """A bitcoin.conf as {section ('' for the top): {name: last value}} (`regtest=1`, `[regtest]`, `# …`)."""
    sections = {'': {}}
    current = ''
    for raw in text.splitlines():
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        if line.startswith('[') and line.endswith(']'):
            current = line[1:-1].strip()
            sections.setdefault(current, {})
            continue
        name, sep, value = line.partition('=')
        if sep:
            name = name.strip()
            if current == '' and '.' in name:  # `regtest.port=…`: the section's option
                section, name = name.split('.', 1)
                sections.setdefault(section, {})[name.strip()] = value.strip()
            else:
                sections[current][name] = value.strip()
    return sections


def chain_of(options):
    """The chain from options (-chain= or the -regtest/-testnet/… flags), or None when they name none."""
    if options.get('chain'):
        return CHAIN_NAMES.get(options['chain'], options['chain'])
    for flag, chain in CHAIN_FLAGS.items():
        if options.get(flag) not in (None, '0'):
            return chain
    return None


def port_option(value):
    return int(value) if value and re.fullmatch(r'[0-9]{1,5}', value) and 0 < int(value) < 65536 else None


def node_identity(argv, cwd, home, read_conf):
    """What a bitcoind's command line says about it: {"node", "run", "datadir", "chain", "p2p_port", "rpc_port"}.
    `cwd`: its working directory (relative -datadir), `home`: its owner's home (bitcoind's default datadir
    $HOME/.bitcoin), `read_conf(path)`: the text of a conf file or None (read as the invoking user). Options
    on the command line win over the conf file; in the conf file, ports for a chain other than main count
    only in that chain's section (bitcoind ignores network-only options of the top section there)."""
    options = parse_bitcoind_args(argv)
    datadir = options.get('datadir') or os.path.join(home or '/', '.bitcoin')
    datadir = os.path.normpath(os.path.join(cwd or '/', datadir))
    conf_name = options.get('conf') or 'bitcoin.conf'
    conf_path = os.path.normpath(os.path.join(datadir, conf_name))
    conf = parse_conf(read_conf(conf_path) or '')
    chain = chain_of(options) or chain_of(conf['']) or 'main'
    section = conf.get(chain, {}) if chain != 'main' else dict(conf[''], **conf.get('main', {}))
    p2p_port = port_option(options.get('port')) or port_option(section.get('port'))
    rpc_port = port_option(options.get('rpcport')) or port_option(section.get('rpcport'))
    base = os.path.basename(datadir) or datadir
    return {'node': base, 'run': os.path.dirname(datadir) or '/', 'datadir': datadir, 'chain': chain,
            'p2p_port': p2p_port, 'rpc_port': rpc_port}


def read_conf_as_user(path):
    """(With the user's credentials.) A conf file's text, or None: never a device or FIFO; its first 32 KiB."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return [], None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return [], None
        return [], os.read(fd, MAX_CONF_BYTES).decode('utf-8', 'replace')
    finally:
        os.close(fd)


def process_identity(pid, user):
    """The node identity of a running process (its /proc cmdline and cwd, read as root; its conf file read as
    the user), or None when it is gone or its command line is unreadable. A process already exiting may have
    lost its cwd: its command line is enough when its -datadir is absolute (the functional test framework's)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            raw = f.read(1 << 20)
    except OSError:
        return None
    try:
        cwd = os.readlink('/proc/%d/cwd' % pid)
    except OSError:
        cwd = None
    argv = [part.decode('utf-8', 'surrogateescape') for part in raw.split(b'\0')]
    if argv and argv[-1] == '':
        argv.pop()
    if not argv:  # in the middle of its exec (the new image's arguments are not in place yet), or a zombie
        return None
    uids = process_uids(pid)
    datadir = parse_bitcoind_args(argv).get('datadir')
    if (datadir and not datadir.startswith('/') and cwd is None) or (not datadir and uids is None):
        return None  # what its datadir depends on (its cwd, its owner's home) is gone with it
    try:
        home = pwd.getpwuid(uids[1]).pw_dir if uids else None
    except KeyError:
        home = None
    return node_identity(argv, cwd, home, lambda path: as_user(user, read_conf_as_user, path)[1])


def open_process_events():
    """A non-blocking netlink socket on which the kernel reports every fork, exec and exit (root only), or None
    where the kernel offers none."""
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC,
                             NETLINK_CONNECTOR)
    except OSError:
        return None
    try:
        sock.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), PROC_EVENTS_RCVBUF)
        sock.bind((0, CN_IDX_PROC))
        listen = struct.pack('=I', PROC_CN_MCAST_LISTEN)
        message = CN_MSG_HEADER.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(listen), 0) + listen
        sock.send(NLMSG_HEADER.pack(NLMSG_HEADER.size + len(message), NLMSG_DONE, 0, 0, 0) + message)
    except OSError:
        sock.close()
        return None
    return sock


class NodeWatcher:
    """Finds the user's processes running the checked binary (same device and inode as the checked file) and
    sends, once per pid, a `node` record with its identity, and `node:exit` when it ends. Binary-wide, the
    kernel's process events name each process right after its exec, however briefly it lives (`fileno` goes
    into the caller's poll, then `read_process_events`); /proc is scanned too, for the processes already
    running and as a safety net. With a PID (one-process sessions) only that process is considered."""

    def __init__(self, link, binary_stat, user, only_pid=None):
        self.link, self.binary_stat, self.user, self.only_pid = link, binary_stat, user, only_pid
        self.known = set()
        self.first_seen = {}  # pid → when a scan first listed it
        self.next_poll = self.next_full_scan = 0.0
        self.events = open_process_events() if only_pid is None else None
        self.scan_seconds = FOLLOW_POLL_SECONDS if only_pid is not None else (
            NODE_SCAN_SECONDS if self.events is not None else NEW_PROCESS_SCAN_SECONDS)

    def fileno(self):
        return self.events.fileno() if self.events is not None else None

    def consider(self, pid):
        """Names `pid` if it is one of the user's processes running the binary, with its command line in place."""
        if pid in self.known or not same_executable(pid, self.binary_stat) or not owned_by(pid, self.user):
            return
        identity = process_identity(pid, self.user)
        if identity is not None:
            self.known.add(pid)
            self.link.record('node', pid=pid, monotonic_ns=time.monotonic_ns(), **identity)

    def ended(self, pid):
        self.known.discard(pid)
        self.link.record('node:exit', pid=pid, monotonic_ns=time.monotonic_ns())

    def read_process_events(self):
        """Handles what the kernel queued: each exec is looked at at once, each exit of a named process ends it.
        When the kernel dropped events (its buffer full), the next poll scans /proc."""
        for _ in range(PROC_EVENTS_PER_READ):
            try:
                data, (sender, _groups) = self.events.recvfrom(256)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno != errno.ENOBUFS:
                    raise
                self.next_poll = 0.0  # the kernel dropped events: the next poll scans /proc
                continue
            offset = NLMSG_HEADER.size + CN_MSG_HEADER.size
            if sender != 0 or len(data) < offset + PROC_EVENT_HEAD.size:  # only the kernel's (port 0) count
                continue
            what, _cpu, _timestamp, pid, tgid = PROC_EVENT_HEAD.unpack_from(data, offset)
            if what == PROC_EVENT_EXEC:
                self.consider(tgid)
            elif what == PROC_EVENT_EXIT and pid == tgid and tgid in self.known:
                self.ended(tgid)

    def poll(self, force=False):
        now = time.monotonic()
        if not force and now < self.next_poll:
            return
        self.next_poll = now + self.scan_seconds
        if self.events is not None:
            self.read_process_events()  # first what the kernel said, in its order
        if self.only_pid is not None:
            candidates = [self.only_pid]
        else:
            listed = [int(entry) for entry in os.listdir('/proc') if entry.isdigit()]
            self.first_seen = {pid: self.first_seen.get(pid, now) for pid in listed}
            if force or now >= self.next_full_scan:
                self.next_full_scan = now + NODE_SCAN_SECONDS
                candidates = listed
            else:
                candidates = [pid for pid in listed if self.first_seen[pid] > now - NEW_PROCESS_SECONDS]
        for pid in candidates:
            self.consider(pid)
        for pid in sorted(self.known):
            if not os.path.exists('/proc/%d' % pid) or (self.only_pid is None and not same_executable(pid, self.binary_stat)):
                self.ended(pid)


# ---------------------------------------------------------------- running

class Link:
    """The control connection to the unprivileged reader: non-blocking, with a bounded outgoing buffer."""

    def __init__(self, path, user):
        self.path, self.user = path, user
        self.sock = check_socket(path, user)
        try:
            check_peer(self.sock, user.uid)
        except BaseException:
            self.sock.close()
            raise
        self.reader_pid = peer_credentials(self.sock)[0]
        self.sock.setblocking(False)
        self.pending = bytearray()
        self.closed = False
        # The reader shut its writing side: it asks the session to stop and still reads the final records.
        self.eof = False
        self.runs = 0

    def data_channel(self):
        """A new connection for the next run's output, checked like the first (as the user, the same listener),
        announced on itself, and write-only: the probe writes to it, the reader closes it or reads it to its end."""
        sock = check_socket(self.path, self.user)
        try:
            check_peer(sock, self.user.uid)
            if peer_credentials(sock)[0] != self.reader_pid:
                raise Refused('the socket %s is now served by another process than the one the session started with'
                              % self.path)
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_SNDBUFFORCE', 32), DATA_SNDBUF_BYTES)
            self.runs += 1
            sock.sendall(json.dumps({'type': 'helper', 'data': {'event': 'data_channel', 'run': self.runs}}).encode() + b'\n')
            sock.shutdown(socket.SHUT_RD)
        except BaseException:
            sock.close()
            raise
        return sock, self.runs

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

    def peer_gone(self, hung_up=False):
        """Called when poll says the socket is readable or hung up: the reader never writes, so it either shut
        its writing side (a stop request: eof, records still delivered) or closed the socket (hung up).
        True when the session should stop."""
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return False
        except OSError:
            data = b''
        if not data:
            if hung_up:
                self.closed = True
            else:
                self.eof = True
        return self.closed or self.eof


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


class Tracer:
    """The checked program that runs a script as root: bpftrace, or Python for BCC programs. It is run
    through its O_PATH descriptor (/proc/self/fd/N); argv[0] shows its real path."""

    def __init__(self, fd, real, version):
        self.fd, self.real, self.version = fd, real, version

    def run(self, argv, **options):
        return subprocess.Popen([self.real] + argv, executable=fd_path(self.fd), pass_fds=[self.fd] + options.pop('pass_fds', []),
                                **options)


def probe_argv(script, binary, pid, uid, positional=()):
    """The fixed arguments of one probe after the program. `positional`: the tool's parameters as (name, value)
    in manifest order, each value matched whole by its pattern (check_params) or the manifest's default.
    bpftrace gets the values as positional parameters, then the invoking user's uid (the scripts' kernel-side
    filter: 0, root, traces every process); a BCC program (always per PID: see command_run) gets each as one
    `--NAME=VALUE` argument (one argument: a value such as -1 is never taken for an option)."""
    if script.is_bcc:
        return BCC_PYTHON_FLAGS + [script.path, '--binary', binary] + (['--pid', str(pid)] if pid else []) + [
            '--%s=%s' % (name, value) for name, value in positional]
    # `--`: a parameter such as -1 (p2p-traffic's "every peer") is the script's, not an option of bpftrace
    return ['-f', 'json'] + (['-p', str(pid)] if pid else []) + (['-e', script.program, '--'] if script.program is not None else ['--', script.path]) + [binary] + [value for _name, value in positional] + [str(uid)]


def run_bpftrace(link, tracer, script, binary, pid, uid, positional=(), watcher=None):
    """Runs one probe (bpftrace or a BCC program) until it exits; returns (exit code, why it stopped). Its
    stdout is a new data connection to the reader (Link.data_channel); the helper reads only its stderr.
    `watcher` (a NodeWatcher) is polled while it runs."""
    argv = probe_argv(script, binary, pid, uid, positional)
    is_bcc = script.is_bcc
    data, run = link.data_channel()
    try:
        proc = tracer.run(argv, env=BCC_ENV if is_bcc else RUN_ENV, stdin=subprocess.DEVNULL, stdout=data.fileno(),
                          stderr=subprocess.PIPE, process_group=0, cwd='/', pass_fds=[script.dir_fd] if script.path else [],
                          preexec_fn=pdeathsig_setter(os.getpid()))
    except BaseException:
        data.close()
        raise
    # The helper keeps its copy only to see whether the reader is still taking bytes (SIOCOUTQ) after a stop; it
    # closes it before `bpftrace_exit`, so the connection ends exactly when bpftrace's process group is gone.
    shown = [tracer.real] + [script.shown_path if arg == script.path else arg for arg in argv]
    if script.program is not None:
        say('running: ' + ' '.join(arg if arg != script.program else "-e '<the program below>'" for arg in shown))
        say('generated program:\n' + script.program)
    else:
        say('running: ' + ' '.join(shown))
    link.record('started', run=run, argv=shown, pid=pid, bpftrace_pid=proc.pid, monotonic_ns=time.monotonic_ns())
    if watcher is not None:
        watcher.poll(force=True)
    err_fd = proc.stderr.fileno()
    buffers = {err_fd: b''}
    open_fds = {err_fd}
    tracer_name = 'the BCC program' if is_bcc else 'bpftrace'
    reason = '%s exited' % tracer_name
    stop_sent_at = None
    kill_at = None
    last_queued = None
    killed = False
    poller = select.poll()
    sock_events = select.POLLIN | select.POLLHUP | getattr(select, 'POLLRDHUP', 0x2000)
    poller.register(link.sock, sock_events)
    for fd in open_fds:
        poller.register(fd, select.POLLIN | select.POLLHUP)
    watcher_fd = watcher.fileno() if watcher is not None else None
    if watcher_fd is not None:
        poller.register(watcher_fd, select.POLLIN)
    reading_paused = False
    target_gone_at = None

    def stop(why):
        nonlocal stop_sent_at, reason, kill_at
        if stop_sent_at is None:
            kill_at = time.monotonic() + STOP_GRACE_SECONDS
            reason = why
            stop_sent_at = time.monotonic()
            try:
                os.killpg(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    while open_fds:
        if watcher is not None and stop_sent_at is None:
            watcher.poll()
        if stop_requested:
            stop('stopped by signal %s' % signal.Signals(stop_requested[-1]).name)
        if pid and stop_sent_at is None and not os.path.exists('/proc/%d' % pid):
            # bpftrace -p exits by itself once the target is gone (draining its buffers, running END):
            # interrupt it only if it is still running after a grace period.
            if target_gone_at is None:
                target_gone_at = time.monotonic()
            elif time.monotonic() - target_gone_at > TARGET_EXIT_GRACE_SECONDS:
                stop('target process %d exited' % pid)
        if stop_sent_at is not None and not killed and time.monotonic() > kill_at:
            queued = unread_bytes(data)
            if queued and queued != last_queued and time.monotonic() - stop_sent_at < DRAIN_GRACE_SECONDS:
                last_queued, kill_at = queued, time.monotonic() + 1.0  # the reader is still draining it
                continue
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
            # Registering again modifies; after the reader's eof only POLLOUT (and a hang-up) are of interest.
            poller.register(link.sock, (0 if link.eof else sock_events) | (select.POLLOUT if link.pending else 0))
        wait_ms = 200
        if watcher is not None and stop_sent_at is None:  # wake for the watcher's next scan of /proc
            wait_ms = max(0, min(wait_ms, (watcher.next_poll - time.monotonic()) * 1000))
        try:
            ready = poller.poll(wait_ms)
        except InterruptedError:
            continue
        for fd, events in ready:
            if fd == watcher_fd:
                watcher.read_process_events()
                continue
            if fd == link.sock.fileno():
                if events & select.POLLOUT:
                    link.flush()
                if events & ~select.POLLOUT and link.peer_gone(hung_up=bool(events & select.POLLHUP)) and link.closed:
                    poller.unregister(link.sock)
                if link.closed:
                    stop('the reader closed the socket')
                elif link.eof:
                    stop('stopped by the reader')
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.discard(fd)
                poller.unregister(fd)
                chunk = b'\n' if buffers[fd] else b''
            *lines, buffers[fd] = (buffers[fd] + chunk).split(b'\n')
            if len(buffers[fd]) > MAX_LINE_BYTES:
                buffers[fd] = b''
                link.record('stderr', line='(the helper dropped a line longer than %d bytes)' % MAX_LINE_BYTES)
            for line in lines:
                if line.strip() == ATTACHED_MARKER.encode() or (is_bcc and BCC_ATTACHED.match(line)):
                    # The wall clock of the attach: the session's times are counted from here (bpftrace's `elapsed`
                    # starts about now: it starts its clock after attaching).
                    link.record('attached', pid=pid, realtime_ns=time.time_ns(), monotonic_ns=time.monotonic_ns())
                    say('attached; press Ctrl-C to stop')
                elif line.strip():
                    link.record('stderr', line=line.decode('utf-8', 'replace'))
    code = reap(proc)
    if code < 0 and stop_sent_at is None:
        reason = '%s was killed by %s' % (tracer_name, signal.Signals(-code).name)
    if pid and not os.path.exists('/proc/%d' % pid) and not stop_requested and not link.closed and not link.eof:
        reason = 'target process %d exited' % pid
    data.close()
    return code, reason, run


def unread_bytes(sock):
    """What the reader has not taken yet from the data connection (0 when it cannot be told)."""
    try:
        return struct.unpack('i', fcntl.ioctl(sock.fileno(), SIOCOUTQ, b'\0\0\0\0'))[0]
    except OSError:
        return 0


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


def wait_for_new_process(binary_path, link, user):
    """--follow: polls /proc until one of the user's processes runs the binary (re-checked each time: it may
    be rebuilt)."""
    while not stop_requested:
        try:
            binary_stat, _, _ = check_binary(binary_path, user)
        except Refused:
            binary_stat = None
        if binary_stat is not None:
            for entry in os.listdir('/proc'):
                if entry.isdigit() and owned_by(int(entry), user) and same_executable(int(entry), binary_stat):
                    try:
                        check_same_file_seen_by(int(entry), binary_path, binary_stat)
                    except Refused:
                        continue
                    return int(entry)
        ready = select.select([link.sock], [], [], FOLLOW_POLL_SECONDS)[0]
        if ready and link.peer_gone():
            return None
    return None


def command_run(args):
    user = User(invoking_uid())
    link = Link(args.socket, user)
    try:
        session_slot = take_session_slot(user)  # noqa: F841 (held until the helper exits)
        script = check_tool(args.tool)
        params = check_params(args.tool, args.param or [])
        positional = [(name, params.get(name, default)) for name, default in tool_manifest()[args.tool]['positional']]
        binary_stat, semaphores, tracepoints = check_binary(args.binary, user)
        pid = check_pid(args.pid, args.binary, binary_stat, user) if args.pid is not None else None
        check_tool_tracepoints(args.tool, tracepoints, pid)
        trace = None
        if isinstance(script, GeneratedScript):
            trace, script.program = generated_probe(params, tracepoints)
        if args.follow and pid is None:
            raise Refused('--follow needs --pid')
        check_privileges()
        if script.is_bcc:
            if pid is None:
                raise Refused('%s cannot trace every process of a binary: a BCC program enables its USDT probes '
                              'in one running process and compiles itself anew for each (seconds per node), so '
                              'give --pid, or use a bpftrace tool to trace every bitcoind of a build' % args.tool)
            tracer = Tracer(*check_bcc_python(), version='BCC')
        else:
            fd, real = check_bpftrace(args.bpftrace, user)
            tracer = Tracer(fd, real, None)
            tracer.version = bpftrace_version(tracer)
            check_features(tracer, semaphores)
        check_same_file(args.binary, binary_stat)
    except Refused as err:
        say('refused: %s' % err)
        link.record('error', message=str(err))
        link.flush_blocking(2)
        return 2
    version = tracer.version
    # filters and samples the kernel applies (those not at their default): the reader accounts with @selected
    filters = {name: value for (name, default), (_name, value) in zip(tool_manifest()[args.tool]['positional'], positional)
               if name in tool_manifest()[args.tool]['filters'] and value != default}
    link.record('target', tool=args.tool, binary=args.binary, pid=pid, semaphores=semaphores,
                bpftrace=tracer.real, bpftrace_version=version, filters=filters,
                **({'trace': trace} if trace else {}))
    say('tool %s on %s%s with %s' % (args.tool, args.binary, ' (PID %d)' % pid if pid else '',
                                    'BCC' if version == 'BCC' else 'bpftrace %s' % version))
    watcher = NodeWatcher(link, binary_stat, user, only_pid=pid)
    while True:
        try:
            code, reason, run = run_bpftrace(link, tracer, script, args.binary, pid, user.uid, positional, watcher)
        except Refused as err:
            say('refused: %s' % err)
            link.record('error', message=str(err))
            code, reason = 2, 'refused: %s' % err
            break
        link.record('bpftrace_exit', run=run, code=code, reason=reason)
        if not (args.follow and reason.startswith('target process') and not stop_requested and not link.closed
                and not link.eof):
            break
        say('target exited; waiting for a new process running %s (Ctrl-C to stop)' % args.binary)
        new_pid = wait_for_new_process(args.binary, link, user)
        if new_pid is None:
            reason = 'stopped while waiting for a new process'
            break
        pid = new_pid
        watcher = NodeWatcher(link, binary_stat, user, only_pid=pid)
        link.record('reattached', pid=pid)
        say('re-attaching to PID %d' % pid)
    watcher.poll(force=True)  # the processes that ended since the last poll (a test stops its nodes, then the session)
    link.record('exit', code=code, reason=reason)
    link.flush_blocking(5)
    say('stopped: %s' % reason)
    return 0 if code == 0 else 1


def split_runs(argv):
    """`run A... run B...` into [['run', A...], ['run', B...]]. No other argument can be the bare word `run`
    (paths are absolute, a PID is digits, parameters are name=value), so the split is unambiguous."""
    groups = []
    for arg in argv:
        if arg == 'run' or not groups:
            groups.append([])
        groups[-1].append(arg)
    return groups


def command_several(runs):
    """One child process per session, each exactly a `run` of its own (its own checks, socket, session slot
    and bpftrace); Ctrl-C in the terminal reaches them all, and each stops alone when its reader asks.
    Exits with the highest exit code of the children."""
    parent = os.getpid()
    children = []
    for args in runs:
        sys.stdout.flush()
        child = os.fork()
        if child == 0:
            code = 1
            try:
                ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
                if os.getppid() != parent:
                    os._exit(1)
                code = command_run(args)
            except Refused as err:
                say('refused: %s' % err)
                code = 2
            except BaseException:  # noqa: BLE001 (a child never returns into the parent's loop)
                import traceback
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(child)
    worst = 0
    for child in children:
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        worst = max(worst, os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)
    return worst


def command_script(args):
    """Prints the program a generated tool would run (the same checks as `run` on the binary's notes, as the
    invoking user, without root, a socket or bpftrace), so it can be shown before anything is elevated."""
    user = User(invoking_uid())
    script = check_tool(args.tool)
    if not isinstance(script, GeneratedScript):
        raise Refused('tool %s runs a shipped script, probes/%s; only generated tools have a program to print'
                      % (args.tool, tool_manifest()[args.tool]['script']))
    params = check_params(args.tool, args.param or [])
    _, _, tracepoints = check_binary(args.binary, user)
    spec, program = generated_probe(params, tracepoints)
    sys.stdout.write(json.dumps({'trace': spec, 'program': program}) + '\n' if args.json else program)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog='bitcoin-usdt-helper.py')
    sub = parser.add_subparsers(dest='command', required=True)
    script = sub.add_parser('script', help='print the program a generated tool would run (no root needed)')
    script.add_argument('--tool', required=True)
    script.add_argument('--binary', required=True)
    script.add_argument('--param', action='append')
    script.add_argument('--json', action='store_true')
    run = sub.add_parser('run', help='run a probe tool and stream its records to a socket')
    run.add_argument('--tool', required=True)
    run.add_argument('--binary', required=True)
    run.add_argument('--pid')
    run.add_argument('--follow', action='store_true')
    run.add_argument('--socket', required=True)
    run.add_argument('--bpftrace')
    run.add_argument('--param', action='append')
    runs = [parser.parse_args(group) for group in split_runs(argv)]
    args = runs[0]
    if args.command == 'script':
        try:
            return command_script(args)
        except Refused as err:
            say('refused: %s' % err)
            return 2
    os.chdir('/')
    os.umask(0o077)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_stop_signal)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # When whatever started the helper (sudo, pkexec, the terminal's shell) dies, stop as on Ctrl-C.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    try:
        return command_run(args) if len(runs) == 1 else command_several(runs)
    except Refused as err:
        say('refused: %s' % err)
        return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
