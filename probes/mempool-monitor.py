#!/usr/bin/python3 -I -S
"""mempool-monitor: every transaction entering, leaving, replaced in or rejected by the mempool (BCC).

Run (as root):  /usr/bin/python3 -I -S probes/mempool-monitor.py --pid PID [--binary /abs/bitcoind]
                /usr/bin/python3 -I -S probes/mempool-monitor.py --binary /abs/bitcoind    (v25-v28 only)
Bitcoin Core v29+ gates tracepoints with semaphores, which BCC raises only in a running process: --pid.

Unlike contrib/tracing/mempool_monitor.py, pointers are passed to bpf_usdt_readarg by address (the contrib
script's hashes and reasons are garbage), all arguments of mempool:replaced are read (bpftrace 0.17 reads
only 6): 8 since v29, 7 in v25 to v28 (no replaced_by_transaction, printed as null there). The count comes from
the binary's notes (as BCC reads them): reading an argument the note lacks fails to load. Records are lean (56 to 176 bytes) in a 32 MiB ring, so the burst of thousands of
mempool:removed at a block connect arrives whole; what does not fit is counted in the kernel.

Output (one JSON object per line; the envelope and counting records are described in bcc_common.py).
Hashes are 64 hex characters in display order (the reverse of the bytes Bitcoin Core passes):
  ["mempool:added", elapsed_ns, txid, vsize, fee]
  ["mempool:removed", elapsed_ns, txid, reason, vsize, fee, entry_time]
  ["mempool:replaced", elapsed_ns, replaced_txid, replaced_vsize, replaced_fee, replaced_entry_time,
                       replacement_id, replacement_vsize, replacement_fee, replaced_by_transaction (null: 7-argument build)]
  ["mempool:rejected", elapsed_ns, txid, reason]
each as {"type": "value", "data": [...]}. Reasons are read up to REMOVED_REASON_LEN - 1 and
REJECTED_REASON_LEN - 1 bytes; a reason of that length may be cut.
"""

import ctypes
import os
import struct
import sys

sys.dont_write_bytecode = True  # runs as root: leave no root-owned caches in the extension's folder
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bcc_common  # noqa: E402

TRACEPOINTS = {
    'mempool:added': 'trace_added',
    'mempool:removed': 'trace_removed',
    'mempool:replaced': 'trace_replaced',
    'mempool:rejected': 'trace_rejected',
}
ADDED, REMOVED, REPLACED, REJECTED = range(4)

REMOVED_REASON_LEN = 32   # documented ≤ 9
REJECTED_REASON_LEN = 128  # documented ≤ 118
RING_BYTES = 32 * 1024 * 1024

PROGRAM_HEAD = r"""
#include <uapi/linux/ptrace.h>

/* Field order keeps every member naturally aligned without padding; Python unpacks the same layout. */
struct added_record {
    u32 kind;
    s32 vsize;
    u64 ts_ns;
    s64 fee;
    u8 txid[32];
};

struct removed_record {
    u32 kind;
    s32 vsize;
    u64 ts_ns;
    s64 fee;
    u64 entry_time;
    u8 txid[32];
    char reason[%(removed_reason_len)d];
};

struct replaced_record {
    u32 kind;
    s32 replaced_vsize;
    u64 ts_ns;
    s64 replaced_fee;
    u64 replaced_entry_time;
    s32 replacement_vsize;
    u32 replaced_by_transaction;
    s64 replacement_fee;
    u8 replaced_txid[32];
    u8 replacement_id[32];
};

struct rejected_record {
    u32 kind;
    u32 unused;
    u64 ts_ns;
    u8 txid[32];
    char reason[%(rejected_reason_len)d];
};

BPF_RINGBUF_OUTPUT(records, %(ring_pages)d);
"""

# BCC allows map calls and bpf_usdt_readarg only in a probe function's own text (not in helpers or
# macros), so each function is generated from this template with bcc_common's shared lines.
PROBE_FUNCTION = r"""
int %(function)s(struct pt_regs *ctx)
{
%(opening)s    struct %(record)s *r = records.ringbuf_reserve(sizeof(struct %(record)s));
%(count_if_not_reserved)s    r->kind = index;
    r->ts_ns = bpf_ktime_get_ns();
%(body)s
    records.ringbuf_submit(r, 0);
    return 0;
}
"""

# Each body reads its arguments into variables of their documented type (BCC stores exactly the
# argument's size) and fills the record.
PROBE_BODIES = {
    ADDED: ('added_record', r"""
    u64 txid_ptr = 0;
    s32 vsize = 0;
    s64 fee = 0;
    bpf_usdt_readarg(1, ctx, &txid_ptr);
    bpf_usdt_readarg(2, ctx, &vsize);
    bpf_usdt_readarg(3, ctx, &fee);
    r->vsize = vsize;
    r->fee = fee;
    if (bpf_probe_read_user(r->txid, sizeof(r->txid), (void *)txid_ptr) != 0)
        __builtin_memset(r->txid, 0, sizeof(r->txid));"""),
    REMOVED: ('removed_record', r"""
    u64 txid_ptr = 0, reason_ptr = 0, entry_time = 0;
    s32 vsize = 0;
    s64 fee = 0;
    bpf_usdt_readarg(1, ctx, &txid_ptr);
    bpf_usdt_readarg(2, ctx, &reason_ptr);
    bpf_usdt_readarg(3, ctx, &vsize);
    bpf_usdt_readarg(4, ctx, &fee);
    bpf_usdt_readarg(5, ctx, &entry_time);
    r->vsize = vsize;
    r->fee = fee;
    r->entry_time = entry_time;
    if (bpf_probe_read_user(r->txid, sizeof(r->txid), (void *)txid_ptr) != 0)
        __builtin_memset(r->txid, 0, sizeof(r->txid));
    if (bpf_probe_read_user_str(r->reason, sizeof(r->reason), (void *)reason_ptr) < 0)
        r->reason[0] = 0;"""),
    REPLACED: ('replaced_record', r"""
    u64 replaced_txid_ptr = 0, replaced_entry_time = 0, replacement_id_ptr = 0;
    s32 replaced_vsize = 0, replacement_vsize = 0;
    s64 replaced_fee = 0, replacement_fee = 0;
    u8 replaced_by_transaction = 0;
    bpf_usdt_readarg(1, ctx, &replaced_txid_ptr);
    bpf_usdt_readarg(2, ctx, &replaced_vsize);
    bpf_usdt_readarg(3, ctx, &replaced_fee);
    bpf_usdt_readarg(4, ctx, &replaced_entry_time);
    bpf_usdt_readarg(5, ctx, &replacement_id_ptr);
    bpf_usdt_readarg(6, ctx, &replacement_vsize);
    bpf_usdt_readarg(7, ctx, &replacement_fee);
%(read_replaced_by_transaction)s
    r->replaced_vsize = replaced_vsize;
    r->replaced_fee = replaced_fee;
    r->replaced_entry_time = replaced_entry_time;
    r->replacement_vsize = replacement_vsize;
    r->replaced_by_transaction = replaced_by_transaction;
    r->replacement_fee = replacement_fee;
    if (bpf_probe_read_user(r->replaced_txid, sizeof(r->replaced_txid), (void *)replaced_txid_ptr) != 0)
        __builtin_memset(r->replaced_txid, 0, sizeof(r->replaced_txid));
    if (bpf_probe_read_user(r->replacement_id, sizeof(r->replacement_id), (void *)replacement_id_ptr) != 0)
        __builtin_memset(r->replacement_id, 0, sizeof(r->replacement_id));"""),
    REJECTED: ('rejected_record', r"""
    u64 txid_ptr = 0, reason_ptr = 0;
    bpf_usdt_readarg(1, ctx, &txid_ptr);
    bpf_usdt_readarg(2, ctx, &reason_ptr);
    r->unused = 0;
    if (bpf_probe_read_user(r->txid, sizeof(r->txid), (void *)txid_ptr) != 0)
        __builtin_memset(r->txid, 0, sizeof(r->txid));
    if (bpf_probe_read_user_str(r->reason, sizeof(r->reason), (void *)reason_ptr) < 0)
        r->reason[0] = 0;"""),
}

# mempool:replaced passes 8 arguments since v29 and 7 before (v25 to v28): the 8th is read only when the note has
# it; without it replaced_by_transaction is UNKNOWN_BY_TRANSACTION and prints as null.
UNKNOWN_BY_TRANSACTION = 2
READ_REPLACED_BY_TRANSACTION = {
    8: '    bpf_usdt_readarg(8, ctx, &replaced_by_transaction);',
    7: '    replaced_by_transaction = %d;  /* a 7-argument (pre-v29) build */' % UNKNOWN_BY_TRANSACTION,
}


def build_program(replaced_arg_count):
    bodies = dict(PROBE_BODIES)
    bodies[REPLACED] = (PROBE_BODIES[REPLACED][0], PROBE_BODIES[REPLACED][1] % {
        'read_replaced_by_transaction': READ_REPLACED_BY_TRANSACTION[replaced_arg_count]})
    return (PROGRAM_HEAD % {
        'removed_reason_len': REMOVED_REASON_LEN,
        'rejected_reason_len': REJECTED_REASON_LEN,
        'ring_pages': RING_BYTES // 4096,
    }) + bcc_common.counting_maps(TRACEPOINTS) + ''.join(
        PROBE_FUNCTION % {
            'function': function,
            'opening': bcc_common.probe_opening(index),
            'record': bodies[index][0],
            'count_if_not_reserved': bcc_common.count_if_not_reserved('r'),
            'body': bodies[index][1],
        }
        for index, function in enumerate(TRACEPOINTS.values())
    )


def replaced_arg_count(argv):
    """How many arguments mempool:replaced has in the target's notes, as BCC reads them: 7 or 8. When they cannot
    be read here (no BCC, no such process, no such tracepoint), 8: bcc_common.run() then reports the real problem."""
    path = None
    for option, value in zip(argv, argv[1:]):
        if option == '--binary':
            path = value
        elif option == '--pid' and path is None and value.isdigit():
            path = '/proc/%s/exe' % value
    if path is None:
        return 8
    try:
        usdt = bcc_common.import_bcc().USDT(path=path)
        for probe in usdt.enumerate_probes():
            if probe.provider == b'mempool' and probe.name == b'replaced' and probe.num_arguments in READ_REPLACED_BY_TRANSACTION:
                return probe.num_arguments
    except Exception:  # BCC raises USDTException (not exported everywhere), ProbeError or OSError
        pass
    return 8

ADDED_RECORD = struct.Struct('<IiQq32s')
REMOVED_RECORD = struct.Struct('<IiQqQ32s%ds' % REMOVED_REASON_LEN)
REPLACED_RECORD = struct.Struct('<IiQqQiIq32s32s')
REJECTED_RECORD = struct.Struct('<I4xQ32s%ds' % REJECTED_REASON_LEN)

hash_hex = bcc_common.display_hash
c_string = bcc_common.c_string


def print_record(out, start_ns, data, size):
    raw = ctypes.string_at(data, size)
    kind = struct.unpack_from('<I', raw)[0]
    if kind == ADDED:
        _, vsize, ts_ns, fee, txid = ADDED_RECORD.unpack_from(raw)
        fields = '"%s", %d, %d' % (hash_hex(txid), vsize, fee)
    elif kind == REMOVED:
        _, vsize, ts_ns, fee, entry_time, txid, reason = REMOVED_RECORD.unpack_from(raw)
        fields = '"%s", %s, %d, %d, %d' % (hash_hex(txid), c_string(reason), vsize, fee, entry_time)
    elif kind == REPLACED:
        (_, replaced_vsize, ts_ns, replaced_fee, replaced_entry_time, replacement_vsize, by_transaction,
         replacement_fee, replaced_txid, replacement_id) = REPLACED_RECORD.unpack_from(raw)
        fields = '"%s", %d, %d, %d, "%s", %d, %d, %s' % (
            hash_hex(replaced_txid), replaced_vsize, replaced_fee, replaced_entry_time, hash_hex(replacement_id),
            replacement_vsize, replacement_fee,
            'null' if by_transaction == UNKNOWN_BY_TRANSACTION else 'true' if by_transaction & 0xff else 'false')
    else:
        _, ts_ns, txid, reason = REJECTED_RECORD.unpack_from(raw)
        fields = '"%s", %s' % (hash_hex(txid), c_string(reason))
    out.line('{"type": "value", "data": ["%s", %d, %s]}' % (NAMES[kind], ts_ns - start_ns, fields))


NAMES = list(TRACEPOINTS)

if __name__ == '__main__':
    sys.exit(bcc_common.run('Mempool events (BCC).', build_program(replaced_arg_count(sys.argv[1:])), TRACEPOINTS,
                            'records', print_record, sys.argv[1:]))
