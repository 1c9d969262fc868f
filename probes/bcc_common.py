"""Shared code of the BCC probe programs (raw-p2p-msgs.py, mempool-monitor.py).

Each program runs as root, started by bitcoin-usdt-helper.py as `/usr/bin/python3 -I -S probes/<tool>.py
--binary PATH --pid N [--NAME=VALUE ...]` (one argument per parameter of the tool in probes/tools.json, each
value matched whole by its pattern there; a program checks them again, see Option), and prints
newline-delimited JSON on stdout in bpftrace's `-f json` envelope:

    {"type": "attached_probes", "data": {"probes": N, "elapsed_ns": T}}   once, when the probes are attached
    {"type": "value", "data": ["<provider:name>", elapsed_ns, ...]}   one record per tracepoint hit
    {"type": "map", "data": {"@fired": {"<provider:name>": N}}}    kernel-side counts, every 500 ms and at exit
    {"type": "lost_events", "data": {"events": N}}                 records the ring buffer had no room for
                                                                   (counted in the kernel, so exact)

A program that filters in the kernel (ProbeProgram.filtered) prints with @fired the hits that passed its
filters, `"@selected": {"<provider:name>": N}` in the same record, and may print more kernel counts after it
(ProbeProgram.kernel_maps: one map record, then the tuple ["totals", elapsed_ns]).
At exit every submitted record has been printed (or, if a stop signal came more than 1.5 s earlier,
counted as lost) before the final lost and fired counts, so fired (selected, under a filter) = delivered +
lost exactly.
Errors go to stderr with exit code 1 (2 for bad arguments); progress lines ("attached N probes in X s",
the reason it stopped) too. Strings are C byte strings: each byte outside printable ASCII is written as its
own \\u00XX escape (as bpftrace does), so the reader recovers the exact bytes.
"""

import argparse
import ctypes
import json
import os
import signal
import stat
import sys
import time

# python3-bpfcc lives in the system dist-packages, which `-S` leaves off sys.path. Only root-owned
# directories that nobody else can write are added.
SYSTEM_PACKAGE_DIRS = ('/usr/lib/python3/dist-packages', '/usr/local/lib/python3/dist-packages')

FLUSH_INTERVAL_SECONDS = 0.5
POLL_TIMEOUT_MS = 100
# After the stop flag is set, programs already running on another CPU get this long to submit.
STOP_SETTLE_SECONDS = 0.05
# After a stop signal, how long records are still printed (the helper allows 3 s before SIGKILL).
STOP_DRAIN_SECONDS = 1.5


class ProbeError(Exception):
    """A failure to report to the user (message on stderr, exit code 1)."""


def import_bcc():
    for directory in SYSTEM_PACKAGE_DIRS:
        try:
            st = os.stat(directory)
        except OSError:
            continue
        if st.st_uid == 0 and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and directory not in sys.path:
            sys.path.append(directory)
    try:
        import bcc  # noqa: E402 (path set up above)
    except ImportError as err:
        raise ProbeError('cannot import BCC (%s); install it (Debian/Ubuntu: apt install python3-bpfcc)' % err)
    return bcc


def check_kernel():
    """BPF ring buffers (BPF_RINGBUF_OUTPUT) need Linux 5.8 or newer."""
    release = os.uname().release
    parts = release.split('.')
    try:
        version = (int(parts[0]), int(''.join(c for c in parts[1] if c.isdigit()) or 0))
    except (ValueError, IndexError):
        return
    if version < (5, 8):
        raise ProbeError('Linux %s is too old: BPF ring buffers need Linux 5.8 or newer' % release)


class Option:
    """One parameter of a program (`--NAME=VALUE`): `parse` turns the text into the value or raises ValueError
    with what is wrong. The values end up in the C program: parse them into numbers or checked bytes."""

    def __init__(self, name, parse, default, help_text):
        self.name, self.parse, self.default, self.help = name, parse, default, help_text


def _option_type(option):
    def parse(text):
        try:
            return option.parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError('--%s=%s: %s' % (option.name, text, err))
    parse.__name__ = option.name
    return parse


def parse_args(description, argv, options=()):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--pid', type=int, help='PID of the running bitcoind (required for v29+ binaries)')
    parser.add_argument('--binary', help='absolute path of the bitcoind binary')
    for option in options:
        parser.add_argument('--' + option.name, type=_option_type(option), default=option.parse(option.default),
                            help=option.help)
    args = parser.parse_args(argv)
    if args.pid is None and args.binary is None:
        parser.error('give --pid N, --binary PATH, or both')
    if args.pid is not None and args.pid <= 0:
        parser.error('--pid must be a positive number')
    if args.binary is not None and not os.path.isabs(args.binary):
        parser.error('--binary must be an absolute path')
    return args


def open_usdt(bcc, pid, binary, tracepoints):
    """A USDT context for the target and the probes of `tracepoints` ({"net:inbound_message": "fn_name", ...})
    as {name: bcc.usdt.USDTProbe}, with the names of those gated by semaphores.

    Nothing is enabled here: BCC's enable_probe would raise the semaphores at once, seconds before the program
    is compiled and attached, and a process that starts its work when a tracer appears would fire events that
    are neither delivered nor counted. run() raises them itself once the probes are attached.
    Bitcoin Core v29+ gates its tracepoints with semaphores, raised by writing into one process's memory, so
    those binaries need the PID of the running bitcoind.
    """
    if pid is not None and not os.path.exists('/proc/%d' % pid):
        raise ProbeError('no process with PID %d' % pid)
    if binary is not None and not os.path.isfile(binary):
        raise ProbeError('binary %s does not exist' % binary)
    try:
        if pid is not None:
            usdt = bcc.USDT(pid=pid, path=binary) if binary else bcc.USDT(pid=pid)
        else:
            usdt = bcc.USDT(path=binary)
    except Exception as err:  # BCC raises USDTException (not exported everywhere) or OSError
        raise ProbeError('BCC cannot read the USDT probes of %s: %s' % (binary or 'PID %d' % pid, err))
    present = {'%s:%s' % (p.provider.decode(), p.name.decode()): p for p in usdt.enumerate_probes()}
    missing = [name for name in tracepoints if name not in present]
    if missing:
        raise ProbeError('the binary lacks the tracepoint(s) %s (is it built with -DWITH_USDT=ON, and is it '
                         'Bitcoin Core recent enough?)' % ', '.join(missing))
    gated = [name for name in tracepoints if present[name].semaphore]
    if gated and pid is None:
        raise ProbeError('the tracepoints of this binary are gated by semaphores (Bitcoin Core v29 or newer): '
                         'BCC can raise them only in a running process, so pass --pid of the running bitcoind')
    return usdt, {name: present[name] for name in tracepoints}, gated


# bcc_usdt_argument.valid flags (bcc/libbcc.py BCC_USDT_ARGUMENT_FLAGS)
ARG_CONSTANT, ARG_DEREF_OFFSET, ARG_DEREF_IDENT, ARG_BASE_REGISTER, ARG_INDEX_REGISTER, ARG_SCALE = \
    0x1, 0x2, 0x4, 0x8, 0x10, 0x20
COMPILER_BARRIER = '__asm__ __volatile__("": : :"memory");'


def _argument_ctype(argument):
    """`argument` is a bcc.usdt.USDTProbeArgument: `size` in bytes, `signed`."""
    return '%sint%d_t' % ('' if argument.signed else 'u', argument.size * 8)


def _assign_argument(argument, target, ctype, name):
    """C that stores one parsed argument in `target`, as BCC's Argument::assign_to_local (usdt_args.cc)."""
    valid = argument.valid
    if valid & ARG_CONSTANT:
        return '%s = %d;' % (target, argument.constant)
    register = argument.base_register_name.decode() if valid & ARG_BASE_REGISTER else ''
    if valid & ARG_DEREF_IDENT:
        raise ProbeError('%s reads an argument from a global symbol (%s), which these tools do not support'
                         % (name, argument.deref_ident.decode()))
    if not valid & ARG_DEREF_OFFSET:
        if register.startswith('xmm'):
            return '%s = (%s) 0; %s' % (target, ctype, COMPILER_BARRIER)
        return '%s = ctx->%s; %s' % (target, register, COMPILER_BARRIER)
    index = ''
    if valid & ARG_INDEX_REGISTER:
        index = ' + (ctx->%s * %d)' % (argument.index_register_name.decode(),
                                       argument.scale if valid & ARG_SCALE else 1)
    return ('{ u64 __addr = ctx->%s + %d%s; %s %s __res = 0x0; '
            'bpf_probe_read_user(&__res, sizeof(__res), (void *)__addr); %s = __res; }'
            % (register, argument.deref_offset, index, COMPILER_BARRIER, _argument_ctype(argument), target))


def argument_readers(probes, tracepoints):
    """The C functions behind bpf_usdt_readarg(N, ctx, &x) in each probe function, exactly as BCC 0.26's
    bcc_usdt_genargs writes them for enabled probes (usdt.cc, Probe::usdt_getarg), without enabling the probes
    (which would raise their semaphores). A tracepoint with several call sites picks its arguments by the
    instruction's offset in its page, as BCC does when those offsets differ."""
    page = os.sysconf('SC_PAGE_SIZE')
    lines = ['#include <uapi/linux/ptrace.h>\n']
    for name, fn_name in tracepoints.items():
        probe = probes[name]
        locations = [probe.get_location(i) for i in range(probe.num_locations)]
        arguments = [[location.get_argument(n) for n in range(probe.num_arguments)] for location in locations]
        page_offsets = [location.address % page for location in locations]
        if len(set(page_offsets)) != len(page_offsets):
            raise ProbeError('%s has %d call sites, some at the same offset in their pages, which these tools cannot '
                             'tell apart' % (name, len(locations)))
        for n in range(probe.num_arguments):
            raw = [location_args[n] for location_args in arguments]
            largest = raw[0]
            for candidate in raw[1:]:
                if candidate.size > largest.size:
                    largest = candidate
            ctype = _argument_ctype(largest)
            target = '*((%s *)dest)' % ctype
            lines.append('static __always_inline int _bpf_readarg_%s_%d(struct pt_regs *ctx, void *dest, size_t len) {\n'
                         '  if (len != sizeof(%s)) return -1;\n' % (fn_name, n + 1, ctype))
            if len(locations) == 1:
                lines.append('  %s\n  return 0;\n}\n' % _assign_argument(raw[0], target, ctype, name))
            else:
                lines.append('  switch (PT_REGS_IP(ctx) %% 0x%xULL) {\n' % page)
                for offset, argument in zip(page_offsets, raw):
                    lines.append('  case 0x%xULL: %s return 0;\n' % (offset, _assign_argument(argument, target, ctype, name)))
                lines.append('  }\n  return -1;\n}\n')
    return ''.join(lines)


def c_string(raw):
    """JSON for a NUL-terminated C string field: one \\u00XX escape per byte outside printable ASCII."""
    end = raw.find(b'\0')
    return json.dumps((raw if end < 0 else raw[:end]).decode('latin-1'), ensure_ascii=True)


def display_hash(raw32):
    """A 32-byte hash in internal order as 64 hex characters in display order (reversed)."""
    return raw32[::-1].hex()


class Output:
    """Buffered NDJSON on stdout. A reader that stops reading blocks us, so the ring buffer fills and the
    kernel counts what it drops: back-pressure turns into exact loss counts, never silent loss."""

    def __init__(self):
        self.out = sys.stdout.buffer

    def line(self, text):
        self.out.write(text.encode('ascii') + b'\n')

    def attached(self, probes, elapsed_ns):
        """elapsed_ns: the records' clock at the moment every probe is attached (after the compile): the
        session's time is counted from there."""
        self.line('{"type": "attached_probes", "data": {"probes": %d, "elapsed_ns": %d}}' % (probes, elapsed_ns))

    def fired(self, counts, selected=None):
        """The kernel's counts per tracepoint: every hit, and (with a filter) the hits that passed it."""
        data = {'@fired': counts}
        if selected is not None:
            data['@selected'] = selected
        self.line(json.dumps({'type': 'map', 'data': data}))

    def kernel_maps(self, maps, elapsed_ns):
        """More of the kernel's counts ({"@name": {key: value}}), then the tuple that says they are complete."""
        self.line(json.dumps({'type': 'map', 'data': maps}))
        self.line('{"type": "value", "data": ["totals", %d]}' % elapsed_ns)

    def lost(self, count):
        self.line('{"type": "lost_events", "data": {"events": %d}}' % count)

    def flush(self):
        self.out.flush()


def per_cpu_sums(table, size):
    """Sums of a BPF_PERCPU_ARRAY(u64) of `size` slots."""
    sums = []
    for index in range(size):
        values = table[ctypes.c_int(index)]
        sums.append(sum(int(v.value if hasattr(v, 'value') else v) for v in values))
    return sums


stop_signals = []


def on_stop_signal(signum, _frame):
    stop_signals.append(signum)


def detach(bcc, bpf):
    """Detaches the uprobes and frees the program. BCC's own cleanup also deletes tracefs uprobe_events
    entries, which do not exist when the kernel's uprobe PMU was used (and tracefs may be absent): it would
    raise on the first probe and leave the rest attached until exit."""
    for ev_name, fd in list(bpf.uprobe_fds.items()):
        bcc.libbcc.lib.bpf_close_perf_event_fd(fd)
        del bpf.uprobe_fds[ev_name]
    bpf.cleanup()


def compile_and_attach(bcc, program_text, usdt, probes, tracepoints, pid, semaphores):
    """Compiles the program with its argument readers and attaches each probe function at its tracepoint's
    call sites (in `pid` only, when given). The semaphores stay as they are."""
    try:
        bpf = bcc.BPF(text=argument_readers(probes, tracepoints) + program_text)
        for name, fn_name in tracepoints.items():
            probe = probes[name]
            for index in range(probe.num_locations):
                location = probe.get_location(index)
                bpf.attach_uprobe(name=location.bin_path, addr=location.address, fn_name=fn_name.encode('ascii'),
                                  pid=-1 if pid is None else pid)
        return bpf
    except ProbeError:
        raise
    except Exception as err:
        text = str(err).strip()
        hint = ''
        if 'compile' in text.lower():
            hint = ' (BCC compiles the program against the headers of the running kernel: install them, ' \
                   'e.g. apt install linux-headers-$(uname -r); the compiler errors are above)'
        elif 'attach' in text.lower() and semaphores:
            # The program raises semaphores itself and attaches without the kernel's reference counter; the
            # kernel refuses that while another tracer (bpftrace) holds a probe with the counter on the same spot.
            hint = (' (is another tracer, e.g. a bpftrace tool of this extension, attached to the same '
                    'tracepoints of this binary? The kernel refuses a second probe that handles the '
                    'semaphore differently: stop the other tool first)')
        raise ProbeError('BCC could not compile, load or attach the probe program: %s%s' % (text, hint))


def add_to_semaphores(bcc, usdt, names, value):
    """Adds `value` to the semaphores of the tracepoints `names` in the context's process (as BCC's
    enable_probe and its cleanup do: a read and a write of /proc/PID/mem). Returns the names that failed."""
    addsem = bcc.libbcc.lib.bcc_usdt_addsem_fully_specified_probe
    addsem.restype = ctypes.c_int
    addsem.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int16]
    failed = []
    for name in names:
        provider, event = name.split(':', 1)
        if addsem(usdt.context, provider.encode('ascii'), event.encode('ascii'), b'', value) != 0:
            failed.append(name)
    return failed


# The C side of run(): the maps it reads, and the lines every probe function opens with and counts a full
# ring buffer with. BCC allows map calls only in a probe function's own text (not in C helpers or macros),
# so the programs paste these into each function.
COUNTING_MAPS = r"""
BPF_PERCPU_ARRAY(fired, u64, %(tracepoints)d);  /* every hit, per tracepoint (run()'s order) */
BPF_PERCPU_ARRAY(selected, u64, %(tracepoints)d);  /* hits that passed the program's filters (if it has any) */
BPF_PERCPU_ARRAY(lost, u64, %(tracepoints)d);   /* hits the ring buffer had no room for */
BPF_ARRAY(control, u32, 1);        /* slot 0 = 1: stopping, ignore hits */
"""

PROBE_OPENING = r"""    int index = %(index)d, zero = 0;
    u32 *stopping = control.lookup(&zero);
    if (!stopping || *stopping)
        return 0;
    u64 *hits = fired.lookup(&index);
    if (hits)
        (*hits)++;
"""

COUNT_SELECTED = r"""    u64 *passed = selected.lookup(&index);
    if (passed)
        (*passed)++;
"""

COUNT_IF_NOT_RESERVED = r"""    if (!%(record)s) {
        u64 *dropped = lost.lookup(&index);
        if (dropped)
            (*dropped)++;
        return 0;
    }
"""


def counting_maps(tracepoints):
    """The fired, lost and control maps run() reads, for `tracepoints` (in run()'s order)."""
    return COUNTING_MAPS % {'tracepoints': len(tracepoints)}


def probe_opening(index):
    """A probe function's first lines: return at once while stopping, else count the hit of tracepoint `index`."""
    return PROBE_OPENING % {'index': index}


def count_selected():
    """Counts the hit as one that passed the program's filters (after probe_opening, before reserving)."""
    return COUNT_SELECTED


def c_bytes_equal(buffer, expected):
    """A C condition: the char array `buffer` holds the bytes `expected` and then a NUL. Written byte by byte
    as numbers, so no text of `expected` reaches the C source."""
    return ' && '.join('(u8)%s[%d] == %d' % (buffer, i, b) for i, b in enumerate(bytes(expected) + b'\0'))


class ProbeProgram:
    """What run() compiles and how it reports: `text`, the C program; `filtered`, the program filters in the
    kernel and counts what passed in `selected` (count_selected()), printed as @selected; `kernel_maps(bpf)`,
    None or a function returning more counts to print after @fired ({"@name": {"key": value}})."""

    def __init__(self, text, filtered=False, kernel_maps=None):
        self.text, self.filtered, self.kernel_maps = text, filtered, kernel_maps


def count_if_not_reserved(record):
    """Counts the hit as lost and returns when the ring-buffer reservation `record` is NULL."""
    return COUNT_IF_NOT_RESERVED % {'record': record}


def run(description, program, tracepoints, ring_name, on_record, argv, options=()):
    """Compiles and attaches the program, then streams records until a signal, the target's exit, or EPIPE.

    `program`: the C text, or a function of the parsed arguments (with `options`, the program's parameters)
    returning a ProbeProgram.

    The C program must define the maps of counting_maps(tracepoints) (fired and lost per tracepoint, indexes
    in the order of `tracepoints`; control, whose slot 0 set to 1 makes every probe return at once) and the
    ring buffer `ring_name`; its probe functions open with probe_opening() and count a failed reservation
    with count_if_not_reserved().
    `on_record(out, start_ns, data_pointer, size)` prints one record; `start_ns` is the CLOCK_MONOTONIC
    time (as bpf_ktime_get_ns) the program started: elapsed_ns = record time - start_ns.
    """
    args = parse_args(description, argv, options)
    probe = program(args) if callable(program) else ProbeProgram(program)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_stop_signal)
    program = os.path.basename(sys.argv[0])
    out = Output()
    start_ns = time.monotonic_ns()
    try:
        check_kernel()
        bcc = import_bcc()
        usdt, probes, gated = open_usdt(bcc, args.pid, args.binary, tracepoints)
        bpf = compile_and_attach(bcc, probe.text, usdt, probes, tracepoints, args.pid, bool(gated))
    except ProbeError as err:
        sys.stderr.write('%s: %s\n' % (program, err))
        return 1
    # Only now that every probe is attached: from the first event the target fires, each is counted.
    failed = add_to_semaphores(bcc, usdt, gated, 1)
    if failed:
        add_to_semaphores(bcc, usdt, [name for name in gated if name not in failed], -1)
        detach(bcc, bpf)
        sys.stderr.write('%s: cannot raise the semaphore of %s in PID %d (did it exit?)\n'
                         % (program, ', '.join(failed), args.pid))
        return 1
    names = list(tracepoints)
    fired_table, selected_table, lost_table, control = bpf['fired'], bpf['selected'], bpf['lost'], bpf['control']

    # From a stop signal on, records still get printed for STOP_DRAIN_SECONDS, then are only counted (and
    # reported as lost): whoever stopped us gets the final counts in time, and they stay exact.
    drain = {'deadline': None, 'discarded': 0}

    def callback(_ctx, data, size):
        if stop_signals:
            if drain['deadline'] is None:
                drain['deadline'] = time.monotonic() + STOP_DRAIN_SECONDS
            elif time.monotonic() > drain['deadline']:
                drain['discarded'] += 1
                return 0
        on_record(out, start_ns, data, size)
        return 0

    bpf[ring_name].open_ring_buffer(callback)
    lost_printed = 0

    def report_counts():
        nonlocal lost_printed
        lost_now = sum(per_cpu_sums(lost_table, len(names))) + drain['discarded']
        if lost_now > lost_printed:
            out.lost(lost_now - lost_printed)
            lost_printed = lost_now
        out.fired(dict(zip(names, per_cpu_sums(fired_table, len(names)))),
                  dict(zip(names, per_cpu_sums(selected_table, len(names)))) if probe.filtered else None)
        if probe.kernel_maps is not None:
            out.kernel_maps(probe.kernel_maps(bpf), time.monotonic_ns() - start_ns)

    reason = 'stopped by signal'
    try:
        out.attached(len(names), time.monotonic_ns() - start_ns)
        out.flush()
        sys.stderr.write('%s: attached %d probes in %.2f s\n'
                         % (program, len(names), (time.monotonic_ns() - start_ns) / 1e9))
        sys.stderr.flush()
        next_flush = time.monotonic()
        while not stop_signals:
            bpf.ring_buffer_poll(POLL_TIMEOUT_MS)
            if time.monotonic() >= next_flush:
                report_counts()
                next_flush = time.monotonic() + FLUSH_INTERVAL_SECONDS
                if args.pid is not None and not os.path.exists('/proc/%d' % args.pid):
                    reason = 'target process %d exited' % args.pid
                    break
            out.flush()
        # Stop counting and emitting, let probes running on other CPUs finish, then drain: after this,
        # fired = printed records + lost exactly.
        control[ctypes.c_int(0)] = ctypes.c_uint32(1)
        time.sleep(STOP_SETTLE_SECONDS)
        bpf.ring_buffer_consume()
        report_counts()
        out.flush()
    except BrokenPipeError:
        reason = 'the reader closed stdout'
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more can be delivered; keep exit quiet
    finally:
        # The target stops computing the arguments at once; a target that exited has nothing to lower.
        add_to_semaphores(bcc, usdt, gated, -1)
        detach(bcc, bpf)
    sys.stderr.write('%s: %s\n' % (program, reason))
    return 0
