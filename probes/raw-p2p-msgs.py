#!/usr/bin/python3 -I -S
"""raw-p2p-msgs: every P2P message Bitcoin Core sends or receives, with its bytes (BCC).

Run (as root):  /usr/bin/python3 -I -S probes/raw-p2p-msgs.py --pid PID [--binary /abs/bitcoind] [--peer=ID] [--msg_type=TYPE]
                /usr/bin/python3 -I -S probes/raw-p2p-msgs.py --binary /abs/bitcoind    (v22-v28 only)
Bitcoin Core v29+ gates tracepoints with semaphores, which BCC raises only in a running process: --pid.

Filters (the tool's parameters peer and msg_type in probes/tools.json), applied in the kernel before a record
is reserved or a byte of the message is copied: --peer=ID, only messages of that peer (-1, the default: every
peer); --msg_type=TYPE, only messages of that type (at most 12 characters, compared whole; -, the default: every
type). The fired counts stay exact over every message; under a filter the program also counts what passed it
(@selected, so delivered + lost = selected) and every message per peer, filtered out or not (as p2p-traffic.bt):
  {"type": "map", "data": {"@msgs_in": {"PID,PEER_ID": N, ...}, "@bytes_in": {...}, "@msgs_out": {...}, "@bytes_out": {...}}}
  {"type": "value", "data": ["totals", elapsed_ns]}
after each @fired record (PEER_TOTALS_MAX peers; the peers of a session beyond that are not counted).

Unlike contrib/tracing/log_raw_p2p_msgs.py, which cuts every message at 32,568 bytes, messages are captured
whole up to the protocol maximum (4,000,000 bytes): each hit reserves a ring-buffer record of the smallest
size class that holds it (256 B, 4, 16, 64, 256 KiB, 1, 2 MiB, 4,000,000 B) in a 128 MiB ring.

Output (one JSON object per line; the envelope and counting records are described in bcc_common.py):
  {"type": "value", "data": ["net:inbound_message" | "net:outbound_message", elapsed_ns, peer_id,
                             peer_addr, conn_type, msg_type, msg_size, captured, "<hex of captured bytes>"]}
  captured < msg_size means the message arrived cut: larger than 4,000,000 bytes, or its bytes could not be
  read (captured 0). Strings are read up to ADDR_LEN/TYPE_LEN - 1 bytes; a string of that length may be cut.
"""

import ctypes
import os
import re
import struct
import sys

sys.dont_write_bytecode = True  # runs as root: leave no root-owned caches in the extension's folder
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bcc_common  # noqa: E402

TRACEPOINTS = {'net:inbound_message': 'trace_inbound', 'net:outbound_message': 'trace_outbound'}
DIRECTION_NAMES = tuple(TRACEPOINTS)  # the record's direction field: 0 inbound, 1 outbound

ADDR_LEN = 128
CONN_TYPE_LEN = 32
MSG_TYPE_LEN = 32
MAX_MSG_BYTES = 4000000
RING_BYTES = 128 * 1024 * 1024
# Record payload sizes: each message takes a record of the smallest class that holds it (at most 4x its
# size above 256 bytes, 2x for blocks), the last class being the protocol maximum.
SIZE_CLASSES = (256, 4096, 16384, 65536, 262144, 1048576, 2097152, MAX_MSG_BYTES)
# Peers counted per session under a filter (peer ids are never reused: every connection is a new one).
PEER_TOTALS_MAX = 65536
# P2P message types have at most 12 characters; a type filter is compared whole (and its NUL) in this buffer.
TYPE_FILTER_LEN = 16
ANY_PEER = -1
ANY_TYPE = '-'


def peer_filter(text):
    """--peer: a peer id (0 to 2^63 - 1), or -1 for every peer."""
    if not re.fullmatch(r'-1|0|[1-9][0-9]{0,18}', text) or int(text) >= 1 << 63:
        raise ValueError('a peer id (0 to 9223372036854775807), or -1 for every peer')
    return int(text)


def type_filter(text):
    """--msg_type: a message type of 1 to 12 lowercase letters (as Bitcoin Core's), or - for every type."""
    if not re.fullmatch(r'-|[a-z]{1,12}', text):
        raise ValueError('a message type of 1 to 12 lowercase letters (e.g. tx), or - for every type')
    return text


OPTIONS = (
    bcc_common.Option('peer', peer_filter, str(ANY_PEER), 'only messages of this peer id (default -1: every peer)'),
    bcc_common.Option('msg_type', type_filter, ANY_TYPE, 'only messages of this type, e.g. tx (default -: every type)'),
)

PROGRAM_HEAD = r"""
#include <uapi/linux/ptrace.h>

struct msg_header {
    u64 ts_ns;
    s64 peer_id;
    u64 msg_size;
    u32 captured;
    u32 direction;
    char peer_addr[%(addr_len)d];
    char conn_type[%(conn_type_len)d];
    char msg_type[%(msg_type_len)d];
};

BPF_RINGBUF_OUTPUT(messages, %(ring_pages)d);
"""

# Under a filter: every message per peer, filtered out or not.
PEER_TOTALS_MAP = r"""
struct peer_totals {
    u64 msgs_in;
    u64 bytes_in;
    u64 msgs_out;
    u64 bytes_out;
};
BPF_HASH(peer_totals, s64, struct peer_totals, %(max_peers)d);
"""

# BCC allows map calls and bpf_usdt_readarg only in the probe function's own text (not in C macros or
# helpers), so the probe function is written out once per direction from this template. A ring-buffer
# reservation needs a size the verifier knows, hence one reserve per size class; the record is the header
# followed by the message bytes (records of the smallest class that holds the message).
PROBE_FUNCTION = r"""
int %(fn_name)s(struct pt_regs *ctx)
{
%(opening)s    u64 ts = bpf_ktime_get_ns();
    s64 peer_id = 0;
    u64 addr_ptr = 0, conn_type_ptr = 0, msg_type_ptr = 0, msg_size = 0, msg_ptr = 0;
    bpf_usdt_readarg(1, ctx, &peer_id);
    bpf_usdt_readarg(2, ctx, &addr_ptr);
    bpf_usdt_readarg(3, ctx, &conn_type_ptr);
    bpf_usdt_readarg(4, ctx, &msg_type_ptr);
    bpf_usdt_readarg(5, ctx, &msg_size);
    bpf_usdt_readarg(6, ctx, &msg_ptr);
%(filters)s
    struct msg_header *h;
    u32 limit;
%(reserve_branches)s%(count_if_not_reserved)s    h->ts_ns = ts;
    h->peer_id = peer_id;
    h->msg_size = msg_size;
    h->direction = index;
    bpf_probe_read_user_str(h->peer_addr, sizeof(h->peer_addr), (void *)addr_ptr);
    bpf_probe_read_user_str(h->conn_type, sizeof(h->conn_type), (void *)conn_type_ptr);
    bpf_probe_read_user_str(h->msg_type, sizeof(h->msg_type), (void *)msg_type_ptr);
    u32 n = msg_size < limit ? msg_size : limit;
    if (n > 0 && bpf_probe_read_user((u8 *)(h + 1), n, (void *)msg_ptr) != 0)
        n = 0;  /* unreadable (e.g. not paged in): flagged as cut */
    h->captured = n;
    messages.ringbuf_submit(h, 0);
    return 0;
}
"""


# Filters, after the hit is counted and before anything is reserved or copied (only under a filter).
COUNT_PER_PEER = r"""    struct peer_totals no_totals = {};
    struct peer_totals *totals = peer_totals.lookup_or_try_init(&peer_id, &no_totals);
    if (totals) {
        __sync_fetch_and_add(&totals->msgs_%(direction)s, 1);
        __sync_fetch_and_add(&totals->bytes_%(direction)s, msg_size);
    }
"""

PEER_FILTER = r"""    if (peer_id != %(peer)dLL)
        return 0;
"""

TYPE_FILTER = r"""    char type_seen[%(length)d] = {};
    bpf_probe_read_user_str(type_seen, sizeof(type_seen), (void *)msg_type_ptr);
    if (!(%(equal)s))
        return 0;
"""

RESERVE_BRANCH = r"""    %(condition)s {
        h = messages.ringbuf_reserve(sizeof(struct msg_header) + %(bytes)d);
        limit = %(bytes)d;
    }
"""


def reserve_branches():
    """if (msg_size <= 256) {...} else if (msg_size <= 4096) {...} ... else {... MAX_MSG_BYTES ...}"""
    branches = []
    for i, size in enumerate(SIZE_CLASSES):
        if i == len(SIZE_CLASSES) - 1:
            condition = 'else'
        else:
            condition = '%sif (msg_size <= %d)' % ('else ' if i else '', size)
        branches.append(RESERVE_BRANCH % {'condition': condition, 'bytes': size})
    return ''.join(branches)


def filters(direction, peer, msg_type):
    """The C that counts the message per peer, drops it unless it matches, and counts it as selected."""
    parts = [COUNT_PER_PEER % {'direction': ('in', 'out')[direction]}]
    if peer != ANY_PEER:
        parts.append(PEER_FILTER % {'peer': peer})
    if msg_type != ANY_TYPE:
        parts.append(TYPE_FILTER % {'length': TYPE_FILTER_LEN,
                                    'equal': bcc_common.c_bytes_equal('type_seen', msg_type.encode('ascii'))})
    parts.append(bcc_common.count_selected())
    return ''.join(parts)


def probe_program(args):
    """The program for the parsed arguments: unfiltered, every message is streamed and nothing is counted per peer."""
    filtered = args.peer != ANY_PEER or args.msg_type != ANY_TYPE
    head = PROGRAM_HEAD % {'addr_len': ADDR_LEN, 'conn_type_len': CONN_TYPE_LEN, 'msg_type_len': MSG_TYPE_LEN,
                           'ring_pages': RING_BYTES // 4096}
    if filtered:
        head += PEER_TOTALS_MAP % {'max_peers': PEER_TOTALS_MAX}
    text = head + bcc_common.counting_maps(TRACEPOINTS) + ''.join(
        PROBE_FUNCTION % {'fn_name': fn_name, 'opening': bcc_common.probe_opening(direction),
                          'filters': filters(direction, args.peer, args.msg_type) if filtered else '',
                          'reserve_branches': reserve_branches(), 'count_if_not_reserved': bcc_common.count_if_not_reserved('h')}
        for direction, fn_name in enumerate(TRACEPOINTS.values()))
    if not filtered:
        return bcc_common.ProbeProgram(text)
    pid = args.pid or 0

    def peer_maps(bpf):
        """@msgs_in, @bytes_in, @msgs_out, @bytes_out keyed "PID,PEER_ID" as p2p-traffic.bt's (by --binary alone: "PEER_ID")."""
        maps = {'@msgs_in': {}, '@bytes_in': {}, '@msgs_out': {}, '@bytes_out': {}}
        for key, value in bpf['peer_totals'].items():
            name = '%d,%d' % (pid, key.value) if pid else '%d' % key.value
            for field in ('msgs_in', 'bytes_in', 'msgs_out', 'bytes_out'):
                count = getattr(value, field)
                if count:
                    maps['@' + field][name] = count
        return maps

    return bcc_common.ProbeProgram(text, filtered=True, kernel_maps=peer_maps)


HEADER = struct.Struct('<QqQII%ds%ds%ds' % (ADDR_LEN, CONN_TYPE_LEN, MSG_TYPE_LEN))


def print_message(out, start_ns, data, size):
    header = ctypes.string_at(data, HEADER.size)
    ts_ns, peer_id, msg_size, captured, direction, addr, conn_type, msg_type = HEADER.unpack(header)
    payload = ctypes.string_at(data + HEADER.size, captured) if captured else b''
    out.line('{"type": "value", "data": ["%s", %d, %d, %s, %s, %s, %d, %d, "%s"]}' % (
        DIRECTION_NAMES[direction], ts_ns - start_ns, peer_id, bcc_common.c_string(addr),
        bcc_common.c_string(conn_type), bcc_common.c_string(msg_type), msg_size, captured, payload.hex()))


if __name__ == '__main__':
    sys.exit(bcc_common.run('Every P2P message with its bytes (BCC).', probe_program, TRACEPOINTS, 'messages',
                            print_message, sys.argv[1:], OPTIONS))
