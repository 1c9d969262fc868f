/*
 * Test tracee: declares every Bitcoin Core tracepoint of ../../../shared/docs/tracepoints.md with the
 * documented argument types and order, and fires realistic traffic at a chosen rate.
 *
 * Built twice from this one file:
 *   -DTRACEE_V29     Bitcoin Core v29 style (src/util/trace.h): semaphore-gated TRACEPOINT(ctx, event, ...)
 *   -DTRACEE_LEGACY  Bitcoin Core v22-v28 style: TRACEn(ctx, event, ...), no semaphores; like the real 28.99
 *                    node, mempool:replaced has 7 arguments and block_connected's duration is unsigned
 *   -DTRACEE_V29 -DTRACEE_INTERFACE_CHANGED  the v29 build with a changed interface, for the interface diff:
 *                    mempool:added passes vsize as int64 (-8@ instead of -4@), coin_selection:attempting_aps_create_tx
 *                    is gone
 * Every tracepoint has exactly one call site per style, in the tp_* functions below (noipa, so the
 * compiler cannot copy a call site and add a second note).
 *
 * See README.md for the command line, the expectation file and the summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set by the tracepoint macros when a probe site was actually executed (v29: semaphore was > 0). */
static bool g_probe_fired;

#if defined(TRACEE_V29)
/* ---- Bitcoin Core v29 src/util/trace.h ---- */
#define SDT_USE_VARIADIC 1
#define _SDT_HAS_SEMAPHORES 1
#define TRACEPOINT_SEMAPHORE(context, event) \
    unsigned short context##_##event##_semaphore __attribute__((section(".probes")))
#include <sys/sdt.h>
/* The kernel changes the semaphore behind the compiler's back: read it as volatile. */
#define TRACEPOINT_ACTIVE(context, event) \
    (*(volatile unsigned short *)&context##_##event##_semaphore > 0)
/* As in Bitcoin Core, plus one store so the tracee can count what fired. */
#define TRACEPOINT(context, event, ...)                          \
    do {                                                         \
        if (TRACEPOINT_ACTIVE(context, event)) {                 \
            STAP_PROBEV(context, event, __VA_ARGS__);            \
            g_probe_fired = true;                                \
        }                                                        \
    } while (0)
#ifdef TRACEE_INTERFACE_CHANGED
#define TRACEE_BUILD_NAME "v29-changed"
#else
#define TRACEE_BUILD_NAME "v29"
#endif
/* Bitcoin Core passes Ticks<std::chrono::nanoseconds>(…), a signed int64 (the real 31.99 node: -8@). */
typedef int64_t connect_duration_t;
#elif defined(TRACEE_LEGACY)
/* ---- Bitcoin Core v22-v28 src/util/trace.h (TRACEn = DTRACE_PROBEn), plus the fired mark ---- */
#include <sys/sdt.h>
#define TRACE1(context, event, a) \
    do { DTRACE_PROBE1(context, event, a); g_probe_fired = true; } while (0)
#define TRACE4(context, event, a, b, c, d) \
    do { DTRACE_PROBE4(context, event, a, b, c, d); g_probe_fired = true; } while (0)
#define TRACE2(context, event, a, b) \
    do { DTRACE_PROBE2(context, event, a, b); g_probe_fired = true; } while (0)
#define TRACE3(context, event, a, b, c) \
    do { DTRACE_PROBE3(context, event, a, b, c); g_probe_fired = true; } while (0)
#define TRACE5(context, event, a, b, c, d, e) \
    do { DTRACE_PROBE5(context, event, a, b, c, d, e); g_probe_fired = true; } while (0)
#define TRACE6(context, event, a, b, c, d, e, f) \
    do { DTRACE_PROBE6(context, event, a, b, c, d, e, f); g_probe_fired = true; } while (0)
#define TRACE7(context, event, a, b, c, d, e, f, g) \
    do { DTRACE_PROBE7(context, event, a, b, c, d, e, f, g); g_probe_fired = true; } while (0)
#define TRACEE_BUILD_NAME "legacy"
/* Bitcoin Core up to 28.99 passes a std::chrono duration object, which sdt.h marks unsigned (8@). */
typedef uint64_t connect_duration_t;
#else
#error "define TRACEE_V29 or TRACEE_LEGACY"
#endif

/* ------------------------------------------------------------------------------------------------ */
/* Tracepoint table                                                                                   */

enum tp_id {
    TP_NET_INBOUND_MESSAGE,
    TP_NET_OUTBOUND_MESSAGE,
    TP_NET_INBOUND_CONNECTION,
    TP_NET_OUTBOUND_CONNECTION,
    TP_NET_EVICTED_INBOUND_CONNECTION,
    TP_NET_MISBEHAVING_CONNECTION,
    TP_NET_CLOSED_CONNECTION,
    TP_VALIDATION_BLOCK_CONNECTED,
    TP_UTXOCACHE_FLUSH,
    TP_UTXOCACHE_ADD,
    TP_UTXOCACHE_SPENT,
    TP_UTXOCACHE_UNCACHE,
    TP_MEMPOOL_ADDED,
    TP_MEMPOOL_REMOVED,
    TP_MEMPOOL_REPLACED,
    TP_MEMPOOL_REJECTED,
    TP_COIN_SELECTION_SELECTED_COINS,
    TP_COIN_SELECTION_NORMAL_CREATE_TX_INTERNAL,
    TP_COIN_SELECTION_ATTEMPTING_APS_CREATE_TX,
    TP_COIN_SELECTION_APS_CREATE_TX_INTERNAL,
    /* Not Bitcoin Core's: undocumented tracepoints of every argument kind (scenario "undocumented"). */
    TP_TRACEE_UNSIGNED_INTS,
    TP_TRACEE_SIGNED_INTS,
    TP_TRACEE_BUFFERS,
    TP_COUNT
};

static const char *const tp_names[TP_COUNT] = {
    "net:inbound_message",
    "net:outbound_message",
    "net:inbound_connection",
    "net:outbound_connection",
    "net:evicted_inbound_connection",
    "net:misbehaving_connection",
    "net:closed_connection",
    "validation:block_connected",
    "utxocache:flush",
    "utxocache:add",
    "utxocache:spent",
    "utxocache:uncache",
    "mempool:added",
    "mempool:removed",
    "mempool:replaced",
    "mempool:rejected",
    "coin_selection:selected_coins",
    "coin_selection:normal_create_tx_internal",
    "coin_selection:attempting_aps_create_tx",
    "coin_selection:aps_create_tx_internal",
    "tracee:unsigned_ints",
    "tracee:signed_ints",
    "tracee:buffers",
};

#ifdef TRACEE_V29
TRACEPOINT_SEMAPHORE(net, inbound_message);
TRACEPOINT_SEMAPHORE(net, outbound_message);
TRACEPOINT_SEMAPHORE(net, inbound_connection);
TRACEPOINT_SEMAPHORE(net, outbound_connection);
TRACEPOINT_SEMAPHORE(net, evicted_inbound_connection);
TRACEPOINT_SEMAPHORE(net, misbehaving_connection);
TRACEPOINT_SEMAPHORE(net, closed_connection);
TRACEPOINT_SEMAPHORE(validation, block_connected);
TRACEPOINT_SEMAPHORE(utxocache, flush);
TRACEPOINT_SEMAPHORE(utxocache, add);
TRACEPOINT_SEMAPHORE(utxocache, spent);
TRACEPOINT_SEMAPHORE(utxocache, uncache);
TRACEPOINT_SEMAPHORE(mempool, added);
TRACEPOINT_SEMAPHORE(mempool, removed);
TRACEPOINT_SEMAPHORE(mempool, replaced);
TRACEPOINT_SEMAPHORE(mempool, rejected);
TRACEPOINT_SEMAPHORE(coin_selection, selected_coins);
TRACEPOINT_SEMAPHORE(coin_selection, normal_create_tx_internal);
TRACEPOINT_SEMAPHORE(coin_selection, attempting_aps_create_tx);
TRACEPOINT_SEMAPHORE(coin_selection, aps_create_tx_internal);
TRACEPOINT_SEMAPHORE(tracee, unsigned_ints);
TRACEPOINT_SEMAPHORE(tracee, signed_ints);
TRACEPOINT_SEMAPHORE(tracee, buffers);

static unsigned short *const tp_semaphores[TP_COUNT] = {
    &net_inbound_message_semaphore,
    &net_outbound_message_semaphore,
    &net_inbound_connection_semaphore,
    &net_outbound_connection_semaphore,
    &net_evicted_inbound_connection_semaphore,
    &net_misbehaving_connection_semaphore,
    &net_closed_connection_semaphore,
    &validation_block_connected_semaphore,
    &utxocache_flush_semaphore,
    &utxocache_add_semaphore,
    &utxocache_spent_semaphore,
    &utxocache_uncache_semaphore,
    &mempool_added_semaphore,
    &mempool_removed_semaphore,
    &mempool_replaced_semaphore,
    &mempool_rejected_semaphore,
    &coin_selection_selected_coins_semaphore,
    &coin_selection_normal_create_tx_internal_semaphore,
    &coin_selection_attempting_aps_create_tx_semaphore,
    &coin_selection_aps_create_tx_internal_semaphore,
    &tracee_unsigned_ints_semaphore,
    &tracee_signed_ints_semaphore,
    &tracee_buffers_semaphore,
};
#endif

/* ------------------------------------------------------------------------------------------------ */
/* State                                                                                              */

#define MAX_MSG_SIZE 4000000u /* MAX_PROTOCOL_MESSAGE_LENGTH */
#define ADDR_LIMIT 68
#define MSG_TYPE_LIMIT 20
#define JSON_MAX_SAFE_INTEGER 9007199254740991LL

struct peer {
    int64_t id;
    char addr[ADDR_LIMIT + 1];
    const char *conn_type;
    uint32_t network;
    uint64_t msgs_in, bytes_in, msgs_out, bytes_out;
};

static unsigned char g_msg_buf[MAX_MSG_SIZE];
static uint64_t g_called[TP_COUNT];
static uint64_t g_fired[TP_COUNT];
static FILE *g_expect;

static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_got_usr1;

/* Limits and pacing */
static uint64_t g_calls;         /* tracepoint calls made so far (fired or not) */
static uint64_t g_max_calls = UINT64_MAX;
static uint64_t g_rate;          /* calls per second; 0 = as fast as possible */
static uint64_t g_deadline_ns;   /* 0 = none */
static uint64_t g_sched_start_ns;
static uint64_t g_sched_base_calls;
static bool g_reanchor_after_burst;

static uint64_t g_rng_state;
static int64_t g_now_s;
static bool g_hostile;
static uint32_t g_burst_size = 3000;
/* --linger-ms: stay alive after `done` so a probe attached with -p prints its interval counts before the target exits */
static uint64_t g_linger_ms = 0;
/* --hop-cpus N: every N calls the firing thread moves to the next CPU, as bitcoind's threads do between
   tracepoints (bpftrace reads one perf buffer per CPU, so this is what can print events out of firing order) */
static uint64_t g_hop_every = 0;
static int g_hop_cpu = 0;

static void hop_cpu(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 2)
        return;
    g_hop_cpu = (g_hop_cpu + 1) % (int)cpus;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(g_hop_cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static struct peer *g_peers;
static size_t g_peer_count;
static size_t g_normal_peer_count;

/* ------------------------------------------------------------------------------------------------ */
/* Helpers                                                                                            */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rng_next(void)
{
    g_rng_state += 0x9e3779b97f4a7c15ULL;
    return mix64(g_rng_state);
}

static inline uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(((rng_next() >> 32) * (uint64_t)n) >> 32);
}

/* inclusive range */
static inline uint64_t rng_range(uint64_t lo, uint64_t hi)
{
    return lo + rng_next() % (hi - lo + 1);
}

static inline bool rng_percent(uint32_t percent)
{
    return rng_below(100) < percent;
}

static void rng_hash(unsigned char out[32])
{
    for (int i = 0; i < 32; i += 8) {
        uint64_t v = rng_next();
        memcpy(out + i, &v, 8);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_until_ns(uint64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ULL), .tv_nsec = (long)(t % 1000000000ULL)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: caller re-checks g_stop */
}

/* Paced slot: waits for the schedule; false when the run must end. */
static bool pace(void)
{
    uint64_t target = g_sched_start_ns + (g_calls - g_sched_base_calls) * 1000000000ULL / g_rate;
    for (;;) {
        if (g_stop)
            return false;
        uint64_t now = now_ns();
        if (g_deadline_ns && now >= g_deadline_ns)
            return false;
        if (now >= target)
            return true;
        uint64_t wake = target;
        if (g_deadline_ns && g_deadline_ns < wake)
            wake = g_deadline_ns;
        sleep_until_ns(wake);
    }
}

/* Claims the next tracepoint call; false when the count, the duration or a signal ends the run. */
static inline bool next_slot(void)
{
    if (g_stop || g_calls >= g_max_calls)
        return false;
    if (g_rate) {
        if (!pace())
            return false;
    } else if (g_deadline_ns && (g_calls & 1023) == 0 && now_ns() >= g_deadline_ns) {
        return false;
    }
    if (g_hop_every && g_calls % g_hop_every == 0)
        hop_cpu();
    g_calls++;
    return true;
}

/* Claims the first of `calls` tracepoint calls that must all fire: false unless all fit in the count. */
static inline bool next_group_slot(uint64_t calls)
{
    if (g_calls + calls > g_max_calls)
        return false;
    return next_slot();
}

/* The next call of a claimed group: paced, but neither a signal nor the duration stops it. */
static inline void next_slot_in_group(void)
{
    if (g_rate && !g_stop)
        pace();
    g_calls++;
}

/* A slot inside a burst: not paced (bursts fire in a tight loop), still counted and limited. */
static inline bool next_burst_slot(void)
{
    if (g_stop || g_calls >= g_max_calls)
        return false;
    if (g_deadline_ns && (g_calls & 1023) == 0 && now_ns() >= g_deadline_ns)
        return false;
    g_calls++;
    return true;
}

static void end_burst(void)
{
    if (g_reanchor_after_burst && g_rate) {
        g_sched_start_ns = now_ns();
        g_sched_base_calls = g_calls;
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* JSON output                                                                                        */

static void json_string(FILE *f, const char *s)
{
    putc_unlocked('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            putc_unlocked('\\', f);
            putc_unlocked(c, f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else {
            putc_unlocked(c, f); /* bytes >= 0x80: valid UTF-8 in our sets, passed through */
        }
    }
    putc_unlocked('"', f);
}

static void json_i64(FILE *f, int64_t v)
{
    if (v >= -JSON_MAX_SAFE_INTEGER && v <= JSON_MAX_SAFE_INTEGER)
        fprintf(f, "%" PRId64, v);
    else
        fprintf(f, "\"%" PRId64 "\"", v);
}

static void json_u64(FILE *f, uint64_t v)
{
    if (v <= (uint64_t)JSON_MAX_SAFE_INTEGER)
        fprintf(f, "%" PRIu64, v);
    else
        fprintf(f, "\"%" PRIu64 "\"", v);
}

static void ex_begin(enum tp_id tp)
{
    fprintf(g_expect, "{\"event\":\"%s\"", tp_names[tp]);
}

static void ex_str(const char *key, const char *v)
{
    fprintf(g_expect, ",\"%s\":", key);
    json_string(g_expect, v);
}

static void ex_i64(const char *key, int64_t v)
{
    fprintf(g_expect, ",\"%s\":", key);
    json_i64(g_expect, v);
}

static void ex_u64(const char *key, uint64_t v)
{
    fprintf(g_expect, ",\"%s\":", key);
    json_u64(g_expect, v);
}

static void ex_bool(const char *key, bool v)
{
    fprintf(g_expect, ",\"%s\":%s", key, v ? "true" : "false");
}

/* 32 bytes in internal order → 64 hex chars in display (reversed) order */
static void ex_hash(const char *key, const unsigned char *h)
{
    static const char hex[] = "0123456789abcdef";
    char out[65];
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[h[31 - i] >> 4];
        out[2 * i + 1] = hex[h[31 - i] & 15];
    }
    out[64] = 0;
    fprintf(g_expect, ",\"%s\":\"%s\"", key, out);
}

static void ex_end(void)
{
    fputs("}\n", g_expect);
}

/* ------------------------------------------------------------------------------------------------ */
/* The tracepoints: one call site per tracepoint per build style                                      */

#define TP_FUNCTION static __attribute__((noipa))

static void expect_message(enum tp_id tp, const struct peer *p, const char *msg_type, uint64_t msg_size)
{
    ex_begin(tp);
    ex_i64("peer_id", p->id);
    ex_str("peer_addr", p->addr);
    ex_str("conn_type", p->conn_type);
    ex_str("msg_type", msg_type);
    ex_u64("msg_size", msg_size);
    ex_end();
}

TP_FUNCTION void tp_net_inbound_message(struct peer *p, const char *msg_type, uint64_t msg_size)
{
    g_called[TP_NET_INBOUND_MESSAGE]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(net, inbound_message, p->id, p->addr, p->conn_type, msg_type, msg_size, (const unsigned char *)g_msg_buf);
#else
    TRACE6(net, inbound_message, p->id, p->addr, p->conn_type, msg_type, msg_size, (const unsigned char *)g_msg_buf);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_NET_INBOUND_MESSAGE]++;
    p->msgs_in++;
    p->bytes_in += msg_size;
    if (g_expect)
        expect_message(TP_NET_INBOUND_MESSAGE, p, msg_type, msg_size);
}

TP_FUNCTION void tp_net_outbound_message(struct peer *p, const char *msg_type, uint64_t msg_size)
{
    g_called[TP_NET_OUTBOUND_MESSAGE]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(net, outbound_message, p->id, p->addr, p->conn_type, msg_type, msg_size, (const unsigned char *)g_msg_buf);
#else
    TRACE6(net, outbound_message, p->id, p->addr, p->conn_type, msg_type, msg_size, (const unsigned char *)g_msg_buf);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_NET_OUTBOUND_MESSAGE]++;
    p->msgs_out++;
    p->bytes_out += msg_size;
    if (g_expect)
        expect_message(TP_NET_OUTBOUND_MESSAGE, p, msg_type, msg_size);
}

static void expect_connection(enum tp_id tp, int64_t peer_id, const char *addr, const char *conn_type,
                              uint32_t network, const char *last_key, uint64_t last)
{
    ex_begin(tp);
    ex_i64("peer_id", peer_id);
    ex_str("peer_addr", addr);
    ex_str("conn_type", conn_type);
    ex_i64("network", network);
    ex_u64(last_key, last);
    ex_end();
}

TP_FUNCTION void tp_net_inbound_connection(int64_t peer_id, const char *addr, const char *conn_type,
                                            uint32_t network, uint64_t existing)
{
    g_called[TP_NET_INBOUND_CONNECTION]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(net, inbound_connection, peer_id, addr, conn_type, network, existing);
#else
    TRACE5(net, inbound_connection, peer_id, addr, conn_type, network, existing);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_NET_INBOUND_CONNECTION]++;
    if (g_expect)
        expect_connection(TP_NET_INBOUND_CONNECTION, peer_id, addr, conn_type, network, "existing", existing);
}

TP_FUNCTION void tp_net_outbound_connection(int64_t peer_id, const char *addr, const char *conn_type,
                                             uint32_t network, uint64_t existing)
{
    g_called[TP_NET_OUTBOUND_CONNECTION]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(net, outbound_connection, peer_id, addr, conn_type, network, existing);
#else
    TRACE5(net, outbound_connection, peer_id, addr, conn_type, network, existing);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_NET_OUTBOUND_CONNECTION]++;
    if (g_expect)
        expect_connection(TP_NET_OUTBOUND_CONNECTION, peer_id, addr, conn_type, network, "existing", existing);
}

TP_FUNCTION void tp_net_evicted_inbound_connection(int64_t peer_id, const char *addr, const char *conn_type,
                                                    uint32_t network, int64_t time_established)
{
    g_called[TP_NET_EVICTED_INBOUND_CONNECTION]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(net, evicted_inbound_connection, peer_id, addr, conn_type, network, time_established);
#else
    TRACE5(net, evicted_inbound_connection, peer_id, addr, conn_type, network, time_established);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_NET_EVICTED_INBOUND_CONNECTION]++;
    if (g_expect)
        expect_connection(TP_NET_EVICTED_INBOUND_CONNECTION, peer_id, addr, conn_type, network,
                          "time_established", time_established);
}

TP_FUNCTION void tp_net_misbehaving_connection(int64_t peer_id, const char *message)
{
    g_called[TP_NET_MISBEHAVING_CONNECTION]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(net, misbehaving_connection, peer_id, message);
#else
    TRACE2(net, misbehaving_connection, peer_id, message);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_NET_MISBEHAVING_CONNECTION]++;
    if (g_expect) {
        ex_begin(TP_NET_MISBEHAVING_CONNECTION);
        ex_i64("peer_id", peer_id);
        ex_str("message", message);
        ex_end();
    }
}

TP_FUNCTION void tp_net_closed_connection(int64_t peer_id, const char *addr, const char *conn_type,
                                           uint32_t network, int64_t time_established)
{
    g_called[TP_NET_CLOSED_CONNECTION]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(net, closed_connection, peer_id, addr, conn_type, network, time_established);
#else
    TRACE5(net, closed_connection, peer_id, addr, conn_type, network, time_established);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_NET_CLOSED_CONNECTION]++;
    if (g_expect)
        expect_connection(TP_NET_CLOSED_CONNECTION, peer_id, addr, conn_type, network, "time_established",
                          time_established);
}

TP_FUNCTION void tp_validation_block_connected(const unsigned char *block_hash, int32_t height,
                                                uint64_t transactions, int32_t inputs, int64_t sigops,
                                                connect_duration_t duration_ns)
{
    g_called[TP_VALIDATION_BLOCK_CONNECTED]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(validation, block_connected, block_hash, height, transactions, inputs, sigops, duration_ns);
#else
    TRACE6(validation, block_connected, block_hash, height, transactions, inputs, sigops, duration_ns);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_VALIDATION_BLOCK_CONNECTED]++;
    if (g_expect) {
        ex_begin(TP_VALIDATION_BLOCK_CONNECTED);
        ex_hash("block_hash", block_hash);
        ex_i64("height", height);
        ex_u64("transactions", transactions);
        ex_i64("inputs", inputs);
        ex_i64("sigops", sigops);
        ex_u64("duration_ns", (uint64_t)duration_ns);
        ex_end();
    }
}

TP_FUNCTION void tp_utxocache_flush(int64_t duration_us, uint32_t mode, uint64_t coins_count,
                                     uint64_t coins_mem_usage, bool is_flush_for_prune)
{
    g_called[TP_UTXOCACHE_FLUSH]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(utxocache, flush, duration_us, mode, coins_count, coins_mem_usage, is_flush_for_prune);
#else
    TRACE5(utxocache, flush, duration_us, mode, coins_count, coins_mem_usage, is_flush_for_prune);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_UTXOCACHE_FLUSH]++;
    if (g_expect) {
        ex_begin(TP_UTXOCACHE_FLUSH);
        ex_i64("duration_us", duration_us);
        ex_i64("mode", mode);
        ex_u64("coins_count", coins_count);
        ex_u64("coins_mem_usage", coins_mem_usage);
        ex_bool("is_flush_for_prune", is_flush_for_prune);
        ex_end();
    }
}

static void expect_coin(enum tp_id tp, const unsigned char *txid, uint32_t index, uint32_t height, int64_t value,
                        bool is_coinbase)
{
    ex_begin(tp);
    ex_hash("txid", txid);
    ex_i64("index", index);
    ex_i64("height", height);
    ex_i64("value", value);
    ex_bool("is_coinbase", is_coinbase);
    ex_end();
}

TP_FUNCTION void tp_utxocache_add(const unsigned char *txid, uint32_t index, uint32_t height, int64_t value,
                                   bool is_coinbase)
{
    g_called[TP_UTXOCACHE_ADD]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(utxocache, add, txid, index, height, value, is_coinbase);
#else
    TRACE5(utxocache, add, txid, index, height, value, is_coinbase);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_UTXOCACHE_ADD]++;
    if (g_expect)
        expect_coin(TP_UTXOCACHE_ADD, txid, index, height, value, is_coinbase);
}

TP_FUNCTION void tp_utxocache_spent(const unsigned char *txid, uint32_t index, uint32_t height, int64_t value,
                                     bool is_coinbase)
{
    g_called[TP_UTXOCACHE_SPENT]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(utxocache, spent, txid, index, height, value, is_coinbase);
#else
    TRACE5(utxocache, spent, txid, index, height, value, is_coinbase);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_UTXOCACHE_SPENT]++;
    if (g_expect)
        expect_coin(TP_UTXOCACHE_SPENT, txid, index, height, value, is_coinbase);
}

TP_FUNCTION void tp_utxocache_uncache(const unsigned char *txid, uint32_t index, uint32_t height, int64_t value,
                                       bool is_coinbase)
{
    g_called[TP_UTXOCACHE_UNCACHE]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(utxocache, uncache, txid, index, height, value, is_coinbase);
#else
    TRACE5(utxocache, uncache, txid, index, height, value, is_coinbase);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_UTXOCACHE_UNCACHE]++;
    if (g_expect)
        expect_coin(TP_UTXOCACHE_UNCACHE, txid, index, height, value, is_coinbase);
}

TP_FUNCTION void tp_mempool_added(const unsigned char *txid, int32_t vsize, int64_t fee)
{
    g_called[TP_MEMPOOL_ADDED]++;
    g_probe_fired = false;
#if defined(TRACEE_INTERFACE_CHANGED)
    int64_t wide_vsize = vsize;
    TRACEPOINT(mempool, added, txid, wide_vsize, fee);
#elif defined(TRACEE_V29)
    TRACEPOINT(mempool, added, txid, vsize, fee);
#else
    TRACE3(mempool, added, txid, vsize, fee);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_MEMPOOL_ADDED]++;
    if (g_expect) {
        ex_begin(TP_MEMPOOL_ADDED);
        ex_hash("txid", txid);
        ex_i64("vsize", vsize);
        ex_i64("fee", fee);
        ex_end();
    }
}

TP_FUNCTION void tp_mempool_removed(const unsigned char *txid, const char *reason, int32_t vsize, int64_t fee,
                                     uint64_t entry_time)
{
    g_called[TP_MEMPOOL_REMOVED]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(mempool, removed, txid, reason, vsize, fee, entry_time);
#else
    TRACE5(mempool, removed, txid, reason, vsize, fee, entry_time);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_MEMPOOL_REMOVED]++;
    if (g_expect) {
        ex_begin(TP_MEMPOOL_REMOVED);
        ex_hash("txid", txid);
        ex_str("reason", reason);
        ex_i64("vsize", vsize);
        ex_i64("fee", fee);
        ex_u64("entry_time", entry_time);
        ex_end();
    }
}

TP_FUNCTION void tp_mempool_replaced(const unsigned char *replaced_txid, int32_t replaced_vsize,
                                      int64_t replaced_fee, uint64_t replaced_entry_time,
                                      const unsigned char *replacement_id, int32_t replacement_vsize,
                                      int64_t replacement_fee, bool replaced_by_transaction)
{
    g_called[TP_MEMPOOL_REPLACED]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(mempool, replaced, replaced_txid, replaced_vsize, replaced_fee, replaced_entry_time, replacement_id,
               replacement_vsize, replacement_fee, replaced_by_transaction);
#else
    (void)replaced_by_transaction; /* the 8th argument came with v29 (2024-11-07) */
    TRACE7(mempool, replaced, replaced_txid, replaced_vsize, replaced_fee, replaced_entry_time, replacement_id,
           replacement_vsize, replacement_fee);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_MEMPOOL_REPLACED]++;
    if (g_expect) {
        ex_begin(TP_MEMPOOL_REPLACED);
        ex_hash("replaced_txid", replaced_txid);
        ex_i64("replaced_vsize", replaced_vsize);
        ex_i64("replaced_fee", replaced_fee);
        ex_u64("replaced_entry_time", replaced_entry_time);
        ex_hash("replacement_id", replacement_id);
        ex_i64("replacement_vsize", replacement_vsize);
        ex_i64("replacement_fee", replacement_fee);
#ifdef TRACEE_V29
        ex_bool("replaced_by_transaction", replaced_by_transaction);
#else
        fputs(",\"replaced_by_transaction\":null", g_expect);
#endif
        ex_end();
    }
}

TP_FUNCTION void tp_mempool_rejected(const unsigned char *txid, const char *reason)
{
    g_called[TP_MEMPOOL_REJECTED]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(mempool, rejected, txid, reason);
#else
    TRACE2(mempool, rejected, txid, reason);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_MEMPOOL_REJECTED]++;
    if (g_expect) {
        ex_begin(TP_MEMPOOL_REJECTED);
        ex_hash("txid", txid);
        ex_str("reason", reason);
        ex_end();
    }
}

TP_FUNCTION void tp_coin_selection_selected_coins(const char *wallet_name, const char *algo, int64_t target,
                                                   int64_t waste, int64_t selected_value)
{
    g_called[TP_COIN_SELECTION_SELECTED_COINS]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(coin_selection, selected_coins, wallet_name, algo, target, waste, selected_value);
#else
    TRACE5(coin_selection, selected_coins, wallet_name, algo, target, waste, selected_value);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_COIN_SELECTION_SELECTED_COINS]++;
    if (g_expect) {
        ex_begin(TP_COIN_SELECTION_SELECTED_COINS);
        ex_str("wallet_name", wallet_name);
        ex_str("algo", algo);
        ex_i64("target", target);
        ex_i64("waste", waste);
        ex_i64("selected_value", selected_value);
        ex_end();
    }
}

TP_FUNCTION void tp_coin_selection_normal_create_tx_internal(const char *wallet_name, bool success, int64_t fee,
                                                              int32_t change_pos)
{
    g_called[TP_COIN_SELECTION_NORMAL_CREATE_TX_INTERNAL]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(coin_selection, normal_create_tx_internal, wallet_name, success, fee, change_pos);
#else
    TRACE4(coin_selection, normal_create_tx_internal, wallet_name, success, fee, change_pos);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_COIN_SELECTION_NORMAL_CREATE_TX_INTERNAL]++;
    if (g_expect) {
        ex_begin(TP_COIN_SELECTION_NORMAL_CREATE_TX_INTERNAL);
        ex_str("wallet_name", wallet_name);
        ex_bool("success", success);
        ex_i64("fee", fee);
        ex_i64("change_pos", change_pos);
        ex_end();
    }
}

TP_FUNCTION void tp_coin_selection_attempting_aps_create_tx(const char *wallet_name)
{
    g_called[TP_COIN_SELECTION_ATTEMPTING_APS_CREATE_TX]++;
    g_probe_fired = false;
#if defined(TRACEE_INTERFACE_CHANGED)
    (void)wallet_name; /* this build lacks the tracepoint */
#elif defined(TRACEE_V29)
    TRACEPOINT(coin_selection, attempting_aps_create_tx, wallet_name);
#else
    TRACE1(coin_selection, attempting_aps_create_tx, wallet_name);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_COIN_SELECTION_ATTEMPTING_APS_CREATE_TX]++;
    if (g_expect) {
        ex_begin(TP_COIN_SELECTION_ATTEMPTING_APS_CREATE_TX);
        ex_str("wallet_name", wallet_name);
        ex_end();
    }
}

TP_FUNCTION void tp_coin_selection_aps_create_tx_internal(const char *wallet_name, bool use_aps, bool success,
                                                           int64_t fee, int32_t change_pos)
{
    g_called[TP_COIN_SELECTION_APS_CREATE_TX_INTERNAL]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(coin_selection, aps_create_tx_internal, wallet_name, use_aps, success, fee, change_pos);
#else
    TRACE5(coin_selection, aps_create_tx_internal, wallet_name, use_aps, success, fee, change_pos);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_COIN_SELECTION_APS_CREATE_TX_INTERNAL]++;
    if (g_expect) {
        ex_begin(TP_COIN_SELECTION_APS_CREATE_TX_INTERNAL);
        ex_str("wallet_name", wallet_name);
        ex_bool("use_aps", use_aps);
        ex_bool("success", success);
        ex_i64("fee", fee);
        ex_i64("change_pos", change_pos);
        ex_end();
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* Realistic values                                                                                   */

enum network { NET_UNROUTABLE = 0, NET_IPV4 = 1, NET_IPV6 = 2, NET_ONION = 3, NET_I2P = 4, NET_CJDNS = 5 };

static const char *const outbound_conn_types[] = {
    "outbound-full-relay", "block-relay-only", "manual", "feeler", "addr-fetch", "private-broadcast",
};
#define OUTBOUND_CONN_TYPE_COUNT (sizeof outbound_conn_types / sizeof outbound_conn_types[0])

/* Message peer i: conn types cycle through every type, weighted toward the common ones. */
static const char *const peer_conn_types[] = {
    "outbound-full-relay", "block-relay-only", "inbound", "inbound",    "manual",
    "inbound",             "feeler",           "inbound", "addr-fetch", "private-broadcast",
};
static const uint32_t peer_networks[] = {NET_IPV4, NET_IPV6, NET_ONION, NET_I2P, NET_CJDNS};

static void base32_chars(char *out, size_t n, uint64_t seed)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        state += 0x9e3779b97f4a7c15ULL;
        out[i] = alphabet[mix64(state) & 31];
    }
    out[n] = 0;
}

/* Address of network `net` for the index-th host; inbound peers connect from an ephemeral port. */
static void make_addr(char *out, size_t cap, uint32_t net, uint64_t index, bool inbound)
{
    unsigned port = inbound ? (unsigned)(32768 + mix64(index * 7 + 1) % 28000) : 8333;
    char b32[64];
    switch (net) {
    case NET_UNROUTABLE:
        snprintf(out, cap, "127.0.0.1:%u", inbound ? port : 18444u);
        break;
    case NET_IPV4:
        snprintf(out, cap, "203.0.113.%u:%u", (unsigned)(5 + index % 250), port);
        break;
    case NET_IPV6:
        snprintf(out, cap, "[2001:db8::%x]:%u", (unsigned)(1 + index % 0xfffe), port);
        break;
    case NET_ONION:
        /* 56 base32 chars + ".onion" + 5-digit port = 68 chars, the longest address Bitcoin Core prints */
        base32_chars(b32, 56, 0x0410 + index);
        snprintf(out, cap, "%.56s.onion:%u", b32, 18333u);
        break;
    case NET_I2P:
        base32_chars(b32, 52, 0x0120 + index);
        snprintf(out, cap, "%.52s.b32.i2p:0", b32);
        break;
    default:
        snprintf(out, cap, "[fc00::%x]:%u", (unsigned)(1 + index % 0xfffe), port);
        break;
    }
}

/* Hostile strings: everything a peer could put into what the tracepoints pass (within the limits). */
struct hostile_peer {
    int64_t id;
    const char *addr;
    const char *conn_type;
};
static const struct hostile_peer hostile_peers[] = {
    {9007199254740993LL, "\"><script>alert(1)</script>:8333", "inbound"},
    {9223372036854775807LL, "<img src=x onerror=alert(1)>:8333", "outbound-full-relay"},
    {1001, "\xe2\x80\xae" "1.0.0.127:8333", "inbound"},
    {1002, "203.0.113.9, 198.51.100.1:8333", "manual"},
    {1003, "[2001:db8::\"\\]:8333", "in\"bound\\<b>", },
    {1004, "10.0.0.1\t\x01\x1b[31m:8333\n", "inbound"},
    {1005, "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion:18333", "block-relay-only"},
    {-1, "'single' quotes & ampersand;:8333", "feeler"},
};
#define HOSTILE_PEER_COUNT (sizeof hostile_peers / sizeof hostile_peers[0])

static const char *const hostile_msg_types[] = {
    "a\"b",
    "back\\slash",
    "<script>alert(1)</sc",   /* <script>alert(1)</script> cut to 20 */
    "<img src=x onerror=a",   /* <img src=x onerror=alert(1)> cut to 20 */
    "comma,type",
    "with space",
    "\xe2\x80\xae" "xt.exe",  /* U+202E RIGHT-TO-LEFT OVERRIDE */
    "ctl\x01\x07\x1b\x1f\x7f",
    "\"\\\"\\",
    "",
    "&amp;&lt;",
    "{\"json\":1}",
};
#define HOSTILE_MSG_TYPE_COUNT (sizeof hostile_msg_types / sizeof hostile_msg_types[0])

struct msg_kind {
    const char *type;
    uint32_t weight; /* per mille */
};
static const struct msg_kind msg_kinds[] = {
    {"inv", 300},      {"tx", 230},       {"getdata", 90},    {"ping", 50},       {"pong", 50},
    {"headers", 50},   {"addrv2", 30},    {"getheaders", 15}, {"version", 10},    {"verack", 10},
    {"sendcmpct", 10}, {"feefilter", 10}, {"wtxidrelay", 5},  {"sendaddrv2", 5},  {"sendheaders", 5},
    {"cmpctblock", 20}, {"blocktxn", 10}, {"getblocktxn", 10}, {"notfound", 10}, {"addr", 5},
    {"getaddr", 5},    {"block", 2},      {"mempool", 1},
};
#define MSG_KIND_COUNT (sizeof msg_kinds / sizeof msg_kinds[0])
static uint32_t g_msg_weight_total;

/* A realistic serialized size for a message of this type. */
static uint64_t msg_size_for(const char *type)
{
    if (!type[0])
        return 0;
    switch (type[0] | (type[1] << 8)) {
    case 'i' | ('n' << 8): return 1 + 36 * rng_range(1, 35);                        /* inv */
    case 't' | ('x' << 8): return rng_percent(97) ? rng_range(150, 1200) : rng_range(1200, 100000);
    case 'p' | ('i' << 8):                                                           /* ping */
    case 'p' | ('o' << 8): return 8;                                                 /* pong */
    case 'h' | ('e' << 8): return rng_percent(95) ? 82 : 3 + 81 * 2000;              /* headers */
    case 'a' | ('d' << 8): return type[4] == 'v' ? 1 + rng_range(1, 1000) * 20 : 1 + 30 * rng_range(1, 1000);
    case 'v' | ('e' << 8): return type[3] == 's' ? rng_range(102, 126) : 0;          /* version, verack */
    case 'f' | ('e' << 8): return 8;                                                 /* feefilter */
    case 'c' | ('m' << 8): return rng_range(8000, 25000);                            /* cmpctblock */
    case 'b' | ('l' << 8): return type[5] == 't' ? rng_range(300, 30000) : rng_range(800000, 2000000);
    case 'n' | ('o' << 8): return 1 + 36 * rng_range(1, 3);                          /* notfound */
    case 'g' | ('e' << 8):
        if (type[3] == 'd')
            return 1 + 36 * rng_range(1, 20);                                        /* getdata */
        if (type[3] == 'h')
            return 4 + 1 + 32 * rng_range(1, 32) + 32;                               /* getheaders */
        if (type[3] == 'b')
            return 32 + 1 + rng_range(1, 200);                                       /* getblocktxn */
        return 0;                                                                    /* getaddr */
    case 's' | ('e' << 8): return type[4] == 'c' ? 9 : 0;                            /* sendcmpct, others */
    default: return 0;
    }
}

static const char *pick_msg_type(void)
{
    if (g_hostile && rng_percent(25))
        return hostile_msg_types[rng_below(HOSTILE_MSG_TYPE_COUNT)];
    uint32_t r = rng_below(g_msg_weight_total);
    for (size_t i = 0; i < MSG_KIND_COUNT; i++) {
        if (r < msg_kinds[i].weight)
            return msg_kinds[i].type;
        r -= msg_kinds[i].weight;
    }
    return "inv";
}

static void init_peers(size_t count)
{
    g_normal_peer_count = count;
    g_peer_count = count + (g_hostile ? HOSTILE_PEER_COUNT : 0);
    g_peers = calloc(g_peer_count ? g_peer_count : 1, sizeof *g_peers);
    if (!g_peers) {
        perror("calloc");
        exit(1);
    }
    for (size_t i = 0; i < count; i++) {
        struct peer *p = &g_peers[i];
        p->id = (int64_t)i;
        p->conn_type = peer_conn_types[i % (sizeof peer_conn_types / sizeof peer_conn_types[0])];
        p->network = peer_networks[i % (sizeof peer_networks / sizeof peer_networks[0])];
        bool inbound = strcmp(p->conn_type, "inbound") == 0;
        /* Peers 0-4 (one per network, outbound where it shows) get 203.0.113.5:8333, [2001:db8::1]:8333, ... */
        make_addr(p->addr, sizeof p->addr, p->network, i / 5, inbound);
    }
    for (size_t i = 0; g_hostile && i < HOSTILE_PEER_COUNT; i++) {
        struct peer *p = &g_peers[count + i];
        p->id = hostile_peers[i].id;
        snprintf(p->addr, sizeof p->addr, "%s", hostile_peers[i].addr);
        p->conn_type = hostile_peers[i].conn_type;
        p->network = NET_IPV4;
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* Scenarios. Each step makes one or more tracepoint calls; every call takes a slot first.           */

static bool step_p2p_message(void)
{
    if (g_peer_count == 0)
        return false;
    struct peer *p = &g_peers[rng_below((uint32_t)g_peer_count)];
    const char *type = pick_msg_type();
    uint64_t size = msg_size_for(type);
    if (!next_slot())
        return false;
    if (rng_percent(55))
        tp_net_inbound_message(p, type, size);
    else
        tp_net_outbound_message(p, type, size);
    return true;
}

static void run_p2p(void)
{
    while (step_p2p_message())
        ;
}

static void run_p2p_flood(void)
{
    static const char *const types[4] = {"inv", "tx", "ping", "headers"};
    static const uint64_t sizes[4] = {37, 250, 8, 82};
    size_t peers = g_peer_count < 4 ? g_peer_count : 4;
    if (peers == 0)
        return;
    for (uint64_t i = 0; next_slot(); i++) {
        unsigned k = (unsigned)(i >> 2) & 3;
        tp_net_inbound_message(&g_peers[i % peers], types[k], sizes[k]);
    }
}

struct raw_message {
    bool inbound;
    const char *type;
    uint64_t size;
};
static const struct raw_message raw_messages[] = {
    {true, "cmpctblock", 35000},  {true, "block", 1000000}, {true, "verack", 0},    {true, "ping", 8},
    {false, "pong", 8},           {true, "tx", 1},           {false, "inv", 37},     {true, "tx", 255},
    {true, "tx", 256},            {false, "getdata", 4096},  {true, "addrv2", 65536}, {true, "headers", 162003},
};
#define RAW_MESSAGE_COUNT (sizeof raw_messages / sizeof raw_messages[0])

static void run_raw(void)
{
    if (g_peer_count == 0)
        return;
    for (uint64_t i = 0;; i++) {
        const struct raw_message *m = &raw_messages[i % RAW_MESSAGE_COUNT];
        struct peer *p = &g_peers[i % g_peer_count];
        if (!next_slot())
            return;
        if (m->inbound)
            tp_net_inbound_message(p, m->type, m->size);
        else
            tp_net_outbound_message(p, m->type, m->size);
    }
}

/* ---- connections ---- */

struct connection {
    int64_t id;
    char addr[ADDR_LIMIT + 1];
    const char *conn_type;
    uint32_t network;
    uint64_t established;
    bool inbound;
};
#define MAX_CONNECTIONS 128
static struct connection g_conns[MAX_CONNECTIONS];
static size_t g_conn_count;
static int64_t g_next_conn_id = 100000;
static uint64_t g_inbound_open, g_outbound_open;
static uint32_t g_next_network;

static const char *const misbehaving_reasons[] = {
    "header with invalid proof of work",
    "non-continuous headers sequence",
    "invalid header received",
    "mutated block",
    "addrv2 message size = 1001",
    "inv message size = 50001",
    "getdata message size = 50001",
    "headers message size = 2001",
    "invalid compact block",
    "peer sent us a getblocktxn with out-of-bounds tx indices",
    NULL, /* the 128-char reason, built at start */
};
#define MISBEHAVING_REASON_COUNT (sizeof misbehaving_reasons / sizeof misbehaving_reasons[0])
static char g_reason_128[129];

static const char *const hostile_reasons[] = {
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "quote \" backslash \\ comma , done",
    "\xe2\x80\xae" "txt.exe bidi",
    "ctl \x01\x1b[2J\t\n end",
};
#define HOSTILE_REASON_COUNT (sizeof hostile_reasons / sizeof hostile_reasons[0])

static bool open_connection(bool inbound)
{
    if (g_conn_count == MAX_CONNECTIONS)
        return true;
    struct connection *c = &g_conns[g_conn_count];
    c->id = g_next_conn_id++;
    c->network = g_next_network++ % 6;
    c->inbound = inbound;
    c->conn_type = inbound ? "inbound" : outbound_conn_types[rng_below(OUTBOUND_CONN_TYPE_COUNT)];
    make_addr(c->addr, sizeof c->addr, c->network, (uint64_t)c->id, inbound);
    c->established = (uint64_t)g_now_s;
    if (!next_slot())
        return false;
    g_conn_count++;
    if (inbound)
        tp_net_inbound_connection(c->id, c->addr, c->conn_type, c->network, ++g_inbound_open);
    else
        tp_net_outbound_connection(c->id, c->addr, c->conn_type, c->network, ++g_outbound_open);
    return true;
}

static void drop_connection(size_t i)
{
    if (g_conns[i].inbound)
        g_inbound_open--;
    else
        g_outbound_open--;
    g_conns[i] = g_conns[--g_conn_count];
}

static bool step_connections(void)
{
    uint32_t r = rng_below(100);
    if (g_conn_count < 4 || r < 35)
        return open_connection(rng_percent(60));
    size_t i = rng_below((uint32_t)g_conn_count);
    struct connection *c = &g_conns[i];
    uint64_t established = c->established - rng_range(1, 86400);
    if (r < 50) {
        const char *reason = misbehaving_reasons[rng_below(MISBEHAVING_REASON_COUNT)];
        if (!reason)
            reason = g_reason_128;
        if (g_hostile && rng_percent(40))
            reason = hostile_reasons[rng_below(HOSTILE_REASON_COUNT)];
        if (!next_slot())
            return false;
        tp_net_misbehaving_connection(c->id, reason);
        return true;
    }
    if (r < 70 && c->inbound) {
        if (!next_slot())
            return false;
        tp_net_evicted_inbound_connection(c->id, c->addr, c->conn_type, c->network, established);
    }
    if (!next_slot())
        return false;
    tp_net_closed_connection(c->id, c->addr, c->conn_type, c->network, established);
    drop_connection(i);
    return true;
}

static void run_connections(void)
{
    while (step_connections())
        ;
}

/* ---- validation ---- */

static int32_t g_height;
static int32_t g_end_height = INT32_MAX;

static bool step_block_connected(void)
{
    if (g_height > g_end_height)
        return false;
    unsigned char hash[32];
    uint64_t h = mix64((uint64_t)g_height ^ 0xb10cULL);
    for (int i = 0; i < 22; i++) {
        h = mix64(h + (uint64_t)i);
        hash[i] = (unsigned char)h;
    }
    memset(hash + 22, 0, 10); /* display order starts with 20 zero hex digits, like a mainnet hash */
    hash[21] |= 1;
    uint64_t transactions = rng_percent(3) ? 1 : rng_range(500, 5000);
    int32_t inputs = (int32_t)(transactions * rng_range(18, 30) / 10);
    int64_t sigops = (int64_t)(transactions * rng_range(2, 12));
    connect_duration_t duration_ns = (connect_duration_t)(rng_range(2000000, 40000000) + transactions * rng_range(20000, 120000));
    if (!next_slot())
        return false;
    tp_validation_block_connected(hash, g_height, transactions, inputs, sigops, duration_ns);
    g_height++;
    return true;
}

static void run_validation(void)
{
    while (step_block_connected())
        ;
}

/* ---- utxocache ---- */

#define COIN_RING 4096
struct coin {
    unsigned char txid[32];
    uint32_t index, height;
    int64_t value;
    bool is_coinbase;
};
static struct coin g_coins[COIN_RING];
static size_t g_coin_count;
static uint32_t g_flush_combo;
static uint64_t g_utxo_steps;

static void new_coin(struct coin *c)
{
    rng_hash(c->txid);
    c->is_coinbase = rng_percent(3);
    c->index = c->is_coinbase ? 0 : rng_below(rng_percent(80) ? 2 : 40);
    c->height = (uint32_t)rng_range(1, 880000);
    if (c->is_coinbase)
        c->value = 312500000 + (int64_t)rng_range(0, 50000000);
    else if (rng_percent(1))
        c->value = 0;
    else
        c->value = (int64_t)rng_range(546, rng_percent(90) ? 10000000 : 2100000000000000ULL);
}

static bool step_utxocache(void)
{
    g_utxo_steps++;
    if (g_utxo_steps % 100 == 0) {
        uint32_t mode = g_flush_combo % 5;
        bool prune = (g_flush_combo / 5) % 2;
        g_flush_combo++;
        uint64_t coins = rng_range(1000000, 60000000);
        if (!next_slot())
            return false;
        tp_utxocache_flush((int64_t)rng_range(200, 9000000), mode, coins, coins * rng_range(90, 130), prune);
        return true;
    }
    uint32_t r = rng_below(100);
    struct coin c;
    if (r < 45 || g_coin_count == 0) {
        new_coin(&c);
        if (!next_slot())
            return false;
        tp_utxocache_add(c.txid, c.index, c.height, c.value, c.is_coinbase);
        if (g_coin_count < COIN_RING)
            g_coins[g_coin_count++] = c;
        else
            g_coins[rng_below(COIN_RING)] = c;
        return true;
    }
    size_t i = rng_below((uint32_t)g_coin_count);
    c = g_coins[i];
    g_coins[i] = g_coins[--g_coin_count];
    if (!next_slot())
        return false;
    if (r < 85)
        tp_utxocache_spent(c.txid, c.index, c.height, c.value, c.is_coinbase);
    else
        tp_utxocache_uncache(c.txid, c.index, c.height, c.value, c.is_coinbase);
    return true;
}

static void run_utxocache(void)
{
    while (step_utxocache())
        ;
}

/* ---- mempool ---- */

#define MEMPOOL_RING 8192
struct mempool_tx {
    unsigned char txid[32];
    int32_t vsize;
    int64_t fee;
    uint64_t entry_time;
};
static struct mempool_tx g_mempool[MEMPOOL_RING];
static size_t g_mempool_count;
static uint64_t g_mempool_steps;
static uint64_t g_next_burst_at = 500;
static bool g_mempool_self_bursts = true; /* the mempool scenario; in `all` bursts follow blocks */

static const char *const removal_reasons[] = {"expiry", "sizelimit", "reorg", "conflict", "replaced"};
static const char *const reject_reasons[] = {
    "min relay fee not met",
    "mempool min fee not met",
    "bad-txns-inputs-missingorspent",
    "txn-mempool-conflict",
    "too-long-mempool-chain",
    "non-final",
    "dust",
    "txn-already-in-mempool",
    "mandatory-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)",
    /* v30+ names (#33183); the longest script error makes it 116 chars */
    "mempool-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)",
    NULL, /* the 118-char reason (pre-v30 "mandatory-…" with the longest script error), built at start */
};
#define REJECT_REASON_COUNT (sizeof reject_reasons / sizeof reject_reasons[0])
static char g_reason_118[119];

static void new_mempool_tx(struct mempool_tx *t)
{
    rng_hash(t->txid);
    t->vsize = (int32_t)(rng_percent(95) ? rng_range(110, 600) : rng_range(600, 100000));
    t->fee = (int64_t)t->vsize * (int64_t)rng_range(1, 60) + (int64_t)rng_below(1000);
    t->entry_time = (uint64_t)g_now_s - rng_range(0, 1209600);
}

static void remember_tx(const struct mempool_tx *t)
{
    if (g_mempool_count < MEMPOOL_RING)
        g_mempool[g_mempool_count++] = *t;
    else
        g_mempool[rng_below(MEMPOOL_RING)] = *t;
}

static struct mempool_tx take_tx(void)
{
    struct mempool_tx t;
    if (g_mempool_count == 0) {
        new_mempool_tx(&t);
        return t;
    }
    size_t i = rng_below((uint32_t)g_mempool_count);
    t = g_mempool[i];
    g_mempool[i] = g_mempool[--g_mempool_count];
    return t;
}

/* A block was connected: thousands of its transactions leave the mempool in a tight loop. */
static bool removal_burst(uint32_t size)
{
    for (uint32_t i = 0; i < size; i++) {
        struct mempool_tx t = take_tx();
        if (!next_burst_slot())
            return false;
        tp_mempool_removed(t.txid, "block", t.vsize, t.fee, t.entry_time);
    }
    end_burst();
    return true;
}

static bool step_mempool(void)
{
    g_mempool_steps++;
    if (g_mempool_self_bursts && g_mempool_steps == g_next_burst_at) {
        g_next_burst_at += 2000;
        return removal_burst(g_burst_size);
    }
    uint32_t r = rng_below(100);
    struct mempool_tx t;
    if (r < 60 || g_mempool_count < 8) {
        new_mempool_tx(&t);
        if (!next_slot())
            return false;
        tp_mempool_added(t.txid, t.vsize, t.fee);
        remember_tx(&t);
    } else if (r < 75) {
        t = take_tx();
        if (!next_slot())
            return false;
        tp_mempool_removed(t.txid, removal_reasons[rng_below(5)], t.vsize, t.fee, t.entry_time);
    } else if (r < 85) {
        /* RBF: replaced, then the old one removed ("replaced"), then the new one added */
        struct mempool_tx old = take_tx(), repl;
        new_mempool_tx(&repl);
        repl.vsize = old.vsize + (int32_t)rng_range(0, 40) - 20;
        if (repl.vsize < 60)
            repl.vsize = 60;
        repl.fee = old.fee + (int64_t)repl.vsize * (int64_t)rng_range(1, 10);
        repl.entry_time = (uint64_t)g_now_s;
        if (!next_slot())
            return false;
        tp_mempool_replaced(old.txid, old.vsize, old.fee, old.entry_time, repl.txid, repl.vsize, repl.fee,
                            rng_percent(80));
        if (!next_slot())
            return false;
        tp_mempool_removed(old.txid, "replaced", old.vsize, old.fee, old.entry_time);
        if (!next_slot())
            return false;
        tp_mempool_added(repl.txid, repl.vsize, repl.fee);
        remember_tx(&repl);
    } else {
        new_mempool_tx(&t);
        const char *reason = reject_reasons[rng_below(REJECT_REASON_COUNT)];
        if (!reason)
            reason = g_reason_118;
        if (g_hostile && rng_percent(30))
            reason = hostile_reasons[rng_below(HOSTILE_REASON_COUNT)];
        if (!next_slot())
            return false;
        tp_mempool_rejected(t.txid, reason);
    }
    return true;
}

static void run_mempool(void)
{
    while (step_mempool())
        ;
}

/* ---- coin selection ---- */

static const char *const wallet_names[] = {"", "default", "hot wallet", "cold-storage", "ü-wallet"};
static const char *const algos[] = {"bnb", "knapsack", "srd", "cg"};

/* One transaction attempt fires all of its tracepoints or none: a run ends between attempts, as the
 * tools' "one row per attempt" needs. */
static bool step_coin_selection(void)
{
    const char *wallet = wallet_names[rng_below(sizeof wallet_names / sizeof wallet_names[0])];
    if (g_hostile && rng_percent(30))
        wallet = hostile_reasons[rng_below(HOSTILE_REASON_COUNT)];
    int64_t target = (int64_t)rng_range(10000, 500000000);
    bool success = rng_percent(90);
    int64_t fee = success ? (int64_t)rng_range(150, 20000) : 0;
    int32_t change_pos = success ? (rng_percent(70) ? (int32_t)rng_below(2) : -1) : -1;
    int64_t waste = (int64_t)rng_range(0, 40000) - 15000;
    const char *algo = algos[rng_below(4)];
    int64_t selected = target + (int64_t)rng_range(0, 1000000);
    bool aps = success && !rng_percent(50);
    bool aps_success = rng_percent(85);
    int64_t aps_fee = aps_success ? fee + (int64_t)rng_range(0, 3000) : 0;
    const char *aps_algo = algos[rng_below(4)];
    int64_t aps_waste = (int64_t)rng_range(0, 40000) - 5000;
    int64_t aps_selected = target + (int64_t)rng_range(0, 2000000);
    bool aps_use = aps_success && rng_percent(50);

    uint64_t calls = (success ? 2 : 1) + (aps ? (aps_success ? 3 : 2) : 0);
    if (!next_group_slot(calls))
        return false;
    if (success) {
        tp_coin_selection_selected_coins(wallet, algo, target, waste, selected);
        next_slot_in_group();
    }
    tp_coin_selection_normal_create_tx_internal(wallet, success, fee, change_pos);
    if (!aps)
        return true;
    next_slot_in_group();
    tp_coin_selection_attempting_aps_create_tx(wallet);
    if (aps_success) {
        next_slot_in_group();
        tp_coin_selection_selected_coins(wallet, aps_algo, target, aps_waste, aps_selected);
    }
    next_slot_in_group();
    tp_coin_selection_aps_create_tx_internal(wallet, aps_use, aps_success, aps_fee, aps_success ? change_pos : -1);
    return true;
}

static void run_coin_selection(void)
{
    while (step_coin_selection())
        ;
}

/* ---- undocumented tracepoints (scenario "undocumented"): one of every argument kind ---- */

#define TRACEE_LABEL_MAX 48
#define TRACEE_PAYLOAD_BYTES 24

static void ex_args_begin(enum tp_id tp)
{
    ex_begin(tp);
    fputs(",\"args\":[", g_expect);
}

TP_FUNCTION void tp_tracee_unsigned_ints(uint8_t small, uint16_t port, uint32_t count, uint64_t total)
{
    g_called[TP_TRACEE_UNSIGNED_INTS]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(tracee, unsigned_ints, small, port, count, total);
#else
    TRACE4(tracee, unsigned_ints, small, port, count, total);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_TRACEE_UNSIGNED_INTS]++;
    if (g_expect) {
        ex_args_begin(TP_TRACEE_UNSIGNED_INTS);
        fprintf(g_expect, "%u,%u,%u,", (unsigned)small, (unsigned)port, (unsigned)count);
        json_u64(g_expect, total);
        fputs("]", g_expect);
        ex_end();
    }
}

TP_FUNCTION void tp_tracee_signed_ints(int8_t delta, int16_t offset, int32_t height, int64_t amount)
{
    g_called[TP_TRACEE_SIGNED_INTS]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(tracee, signed_ints, delta, offset, height, amount);
#else
    TRACE4(tracee, signed_ints, delta, offset, height, amount);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_TRACEE_SIGNED_INTS]++;
    if (g_expect) {
        ex_args_begin(TP_TRACEE_SIGNED_INTS);
        fprintf(g_expect, "%d,%d,%d,", (int)delta, (int)offset, (int)height);
        json_i64(g_expect, amount);
        fputs("]", g_expect);
        ex_end();
    }
}

/* A string, a byte buffer of TRACEE_PAYLOAD_BYTES and a 32-byte hash (internal order), as Bitcoin Core passes them. */
TP_FUNCTION void tp_tracee_buffers(const char *label, const unsigned char payload[TRACEE_PAYLOAD_BYTES],
                                   const unsigned char *block_hash, uint32_t payload_size)
{
    g_called[TP_TRACEE_BUFFERS]++;
    g_probe_fired = false;
#ifdef TRACEE_V29
    TRACEPOINT(tracee, buffers, label, payload, block_hash, payload_size);
#else
    TRACE4(tracee, buffers, label, payload, block_hash, payload_size);
#endif
    if (!g_probe_fired)
        return;
    g_fired[TP_TRACEE_BUFFERS]++;
    if (g_expect) {
        static const char hex[] = "0123456789abcdef";
        char payload_hex[2 * TRACEE_PAYLOAD_BYTES + 1], hash_hex[65];
        for (int i = 0; i < TRACEE_PAYLOAD_BYTES; i++) {
            payload_hex[2 * i] = hex[payload[i] >> 4];
            payload_hex[2 * i + 1] = hex[payload[i] & 15];
        }
        payload_hex[2 * TRACEE_PAYLOAD_BYTES] = 0;
        for (int i = 0; i < 32; i++) {
            hash_hex[2 * i] = hex[block_hash[31 - i] >> 4];
            hash_hex[2 * i + 1] = hex[block_hash[31 - i] & 15];
        }
        hash_hex[64] = 0;
        ex_args_begin(TP_TRACEE_BUFFERS);
        json_string(g_expect, label);
        fprintf(g_expect, ",\"%s\",\"%s\",%u]", payload_hex, hash_hex, (unsigned)payload_size);
        ex_end();
    }
}

/* The extremes of every integer kind first, then random values of every magnitude. */
static const uint64_t unsigned_extremes[][4] = {
    {0, 0, 0, 0},
    {UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX},
    {1, 1, 1, 1},
    {INT8_MAX + 1u, INT16_MAX + 1u, INT32_MAX + 1u, (uint64_t)INT64_MAX + 1u},
    {7, 8333, 1u << 31, (uint64_t)JSON_MAX_SAFE_INTEGER + 1u},
};
static const int64_t signed_extremes[][4] = {
    {0, 0, 0, 0},
    {INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN},
    {INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX},
    {-1, -1, -1, -1},
    {1, -2, 3, -JSON_MAX_SAFE_INTEGER - 1},
};
#define EXTREME_ROWS 5
/* Labels: empty, quotes and markup, a control character, UTF-8, the longest, one longer than it (cut by the reader). */
static const char *const tracee_labels[] = {
    "",
    "block",
    "say \"hi\" <b>&amp;</b> \\ back",
    "tab\there",
    "caf\xc3\xa9 \xe2\x82\xbf",
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL",
};
#define TRACEE_LABEL_COUNT (sizeof tracee_labels / sizeof tracee_labels[0])
static uint64_t g_undocumented_steps;

static uint64_t random_width(void)
{
    uint64_t v = rng_next();
    unsigned bits = rng_below(65);
    return bits == 64 ? v : v & ((1ULL << bits) - 1);
}

static bool step_undocumented(void)
{
    uint64_t step = g_undocumented_steps++;
    uint64_t row = step / 3;
    if (!next_slot())
        return false;
    switch (step % 3) {
    case 0:
        if (row < EXTREME_ROWS) {
            const uint64_t *u = unsigned_extremes[row];
            tp_tracee_unsigned_ints((uint8_t)u[0], (uint16_t)u[1], (uint32_t)u[2], u[3]);
        } else {
            tp_tracee_unsigned_ints((uint8_t)rng_next(), (uint16_t)rng_next(), (uint32_t)random_width(), random_width());
        }
        break;
    case 1:
        if (row < EXTREME_ROWS) {
            const int64_t *v = signed_extremes[row];
            tp_tracee_signed_ints((int8_t)v[0], (int16_t)v[1], (int32_t)v[2], v[3]);
        } else {
            uint64_t sign = rng_next();
            tp_tracee_signed_ints((int8_t)rng_next(), (int16_t)rng_next(), (int32_t)rng_next(),
                                  (int64_t)(sign & 1 ? ~random_width() : random_width()));
        }
        break;
    default: {
        unsigned char payload[TRACEE_PAYLOAD_BYTES], block_hash[32];
        for (int i = 0; i < TRACEE_PAYLOAD_BYTES; i++)
            payload[i] = (unsigned char)rng_next();
        if (row == 0)
            memset(payload, 0, sizeof payload);
        rng_hash(block_hash);
        tp_tracee_buffers(tracee_labels[row % TRACEE_LABEL_COUNT], payload, block_hash, TRACEE_PAYLOAD_BYTES);
        break;
    }
    }
    return true;
}

static void run_undocumented(void)
{
    while (step_undocumented())
        ;
}

/* ---- everything ---- */

static void run_all(void)
{
    uint64_t steps = 0;
    g_mempool_self_bursts = false;
    for (;;) {
        bool ok;
        steps++;
        if (steps % 1000 == 0) {
            /* a block: connected, then its transactions leave the mempool, then the cache flushes */
            ok = (g_height > g_end_height || step_block_connected()) && removal_burst((uint32_t)rng_range(g_burst_size / 10 + 1, g_burst_size / 2 + 1));
        } else {
            uint32_t r = rng_below(1000);
            if (r < 600)
                ok = step_p2p_message();
            else if (r < 800)
                ok = step_utxocache();
            else if (r < 920)
                ok = step_mempool();
            else if (r < 970)
                ok = step_connections();
            else
                ok = step_coin_selection();
        }
        if (!ok)
            return;
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* Command line, output, main                                                                         */

static void write_summary(const char *path, const char *scenario, uint64_t elapsed_ns)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tracee: cannot write summary %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f, "{\"build\":\"%s\",\"scenario\":", TRACEE_BUILD_NAME);
    json_string(f, scenario);
    fprintf(f, ",\"pid\":%d,\"elapsed_ns\":%" PRIu64 ",\"calls\":%" PRIu64 ",\"fired\":{", (int)getpid(),
            elapsed_ns, g_calls);
    for (int i = 0; i < TP_COUNT; i++)
        fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", tp_names[i], g_fired[i]);
    fputs("},\"called\":{", f);
    for (int i = 0; i < TP_COUNT; i++)
        fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", tp_names[i], g_called[i]);
    fputs("},\"peers\":{", f);
    bool first = true;
    for (size_t i = 0; i < g_peer_count; i++) {
        const struct peer *p = &g_peers[i];
        if (p->msgs_in + p->msgs_out == 0)
            continue;
        fprintf(f, "%s\"%" PRId64 "\":{\"peer_addr\":", first ? "" : ",", p->id);
        first = false;
        json_string(f, p->addr);
        fputs(",\"conn_type\":", f);
        json_string(f, p->conn_type);
        fputs(",\"msgs_in\":", f);
        json_u64(f, p->msgs_in);
        fputs(",\"bytes_in\":", f);
        json_u64(f, p->bytes_in);
        fputs(",\"msgs_out\":", f);
        json_u64(f, p->msgs_out);
        fputs(",\"bytes_out\":", f);
        json_u64(f, p->bytes_out);
        fputs("}", f);
    }
    fputs("}}\n", f);
    if (fclose(f) != 0)
        fprintf(stderr, "tracee: error writing summary %s: %s\n", path, strerror(errno));
}

static void on_stop_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void on_usr1(int sig)
{
    (void)sig;
    g_got_usr1 = 1;
}

static const char usage[] =
    "usage: tracee [-datadir=DIR -port=N -rpcport=N -regtest] [--scenario NAME] [--count N] [--rate N] [--duration-ms MS] [--seed S] [--peers N]\n"
    "              [--wait-signal] [--wait-attach TRACEPOINT[,TRACEPOINT...]] [--expect FILE]\n"
    "              [--summary FILE] [--hostile] [--start H --end H] [--burst-size N] [--linger-ms MS]\n"
    "              [--hop-cpus N]\n"
    "scenarios: p2p hostile p2p-flood connections validation utxocache mempool coin-selection raw all demo\n"
    "           undocumented\n";

static _Noreturn void usage_error(const char *fmt, const char *arg)
{
    fputs("tracee: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    fputs(usage, stderr);
    exit(2);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        usage_error("%s needs a non-negative integer", opt);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        usage_error("%s needs a non-negative integer", opt);
    return v;
}

static int32_t parse_height(const char *opt, const char *s)
{
    uint64_t v = parse_u64(opt, s);
    if (v > INT32_MAX)
        usage_error("%s is out of range", opt);
    return (int32_t)v;
}

int main(int argc, char **argv)
{
    const char *scenario = "p2p";
    const char *expect_path = NULL, *summary_path = NULL, *wait_attach = NULL;
    bool wait_signal = false, have_count = false, have_start = false, have_end = false;
    uint64_t count = 0, duration_ms = 0, seed = 1, peers = 8;
    int32_t start_height = 800000, end_height = 0;
    bool have_rate = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKES_VALUE()                                  \
    do {                                               \
        if (!v)                                        \
            usage_error("%s needs a value", a);        \
        i++;                                           \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--scenario")) {
            TAKES_VALUE();
            scenario = v;
        } else if (!strcmp(a, "--count")) {
            TAKES_VALUE();
            count = parse_u64(a, v);
            have_count = true;
        } else if (!strcmp(a, "--rate")) {
            TAKES_VALUE();
            g_rate = parse_u64(a, v);
            have_rate = true;
        } else if (!strcmp(a, "--duration-ms")) {
            TAKES_VALUE();
            duration_ms = parse_u64(a, v);
        } else if (!strcmp(a, "--seed")) {
            TAKES_VALUE();
            seed = parse_u64(a, v);
        } else if (!strcmp(a, "--peers")) {
            TAKES_VALUE();
            peers = parse_u64(a, v);
            if (peers > 100000)
                usage_error("%s: at most 100000 peers", a);
        } else if (!strcmp(a, "--wait-signal")) {
            wait_signal = true;
        } else if (!strcmp(a, "--wait-attach")) {
            TAKES_VALUE();
            wait_attach = v;
        } else if (!strcmp(a, "--expect")) {
            TAKES_VALUE();
            expect_path = v;
        } else if (!strcmp(a, "--summary")) {
            TAKES_VALUE();
            summary_path = v;
        } else if (!strcmp(a, "--hostile")) {
            g_hostile = true;
        } else if (!strcmp(a, "--start")) {
            TAKES_VALUE();
            start_height = parse_height(a, v);
            have_start = true;
        } else if (!strcmp(a, "--end")) {
            TAKES_VALUE();
            end_height = parse_height(a, v);
            have_end = true;
        } else if (!strcmp(a, "--linger-ms")) {
            TAKES_VALUE();
            g_linger_ms = parse_u64(a, v);
        } else if (!strcmp(a, "--hop-cpus")) {
            TAKES_VALUE();
            g_hop_every = parse_u64(a, v);
        } else if (!strcmp(a, "--burst-size")) {
            TAKES_VALUE();
            uint64_t b = parse_u64(a, v);
            if (b == 0 || b > 1000000)
                usage_error("%s must be 1..1000000", a);
            g_burst_size = (uint32_t)b;
        } else if (!strncmp(a, "-datadir=", 9) || !strncmp(a, "-port=", 6) || !strncmp(a, "-rpcport=", 9) ||
                   !strcmp(a, "-regtest")) {
            /* bitcoind's options that name a node (the helper's node identity reads them from
               /proc/PID/cmdline): accepted and ignored; they go first, as bitcoind's options end at the first
               argument that is not one */
        } else {
            usage_error("unknown argument %s", a);
        }
#undef TAKES_VALUE
    }
    (void)have_start;

    void (*run)(void);
    uint64_t default_count;
    bool forever = false;
    if (!strcmp(scenario, "p2p")) {
        run = run_p2p, default_count = 1000;
    } else if (!strcmp(scenario, "hostile")) {
        g_hostile = true;
        run = run_p2p, default_count = 1000;
    } else if (!strcmp(scenario, "p2p-flood")) {
        run = run_p2p_flood, default_count = 1000000;
    } else if (!strcmp(scenario, "connections")) {
        run = run_connections, default_count = 300;
    } else if (!strcmp(scenario, "validation")) {
        run = run_validation, default_count = 100;
    } else if (!strcmp(scenario, "utxocache")) {
        run = run_utxocache, default_count = 1000;
    } else if (!strcmp(scenario, "mempool")) {
        run = run_mempool, default_count = 6000;
    } else if (!strcmp(scenario, "coin-selection")) {
        run = run_coin_selection, default_count = 300;
    } else if (!strcmp(scenario, "raw")) {
        run = run_raw, default_count = RAW_MESSAGE_COUNT;
    } else if (!strcmp(scenario, "undocumented")) {
        run = run_undocumented, default_count = 300;
    } else if (!strcmp(scenario, "all")) {
        run = run_all, default_count = 5000;
    } else if (!strcmp(scenario, "demo")) {
        run = run_all, default_count = 0, forever = true;
        g_reanchor_after_burst = true;
        if (!have_rate)
            g_rate = 200;
    } else {
        usage_error("unknown scenario %s", scenario);
    }

    if (have_end && end_height < start_height)
        usage_error("%s: --end is below --start", "--end");
    g_height = start_height;
    if (have_end) {
        g_end_height = end_height;
        if (!strcmp(scenario, "validation") && !have_count && !duration_ms) {
            have_count = true;
            count = (uint64_t)(end_height - start_height) + 1;
        }
    }
    if (have_count)
        g_max_calls = count;
    else if (!duration_ms && !forever)
        g_max_calls = default_count;

#ifndef TRACEE_V29
    if (wait_attach) {
        fprintf(stderr, "tracee: --wait-attach needs a v29 (semaphore) build; this is the legacy build\n");
        return 2;
    }
#endif
    /* Which semaphores --wait-attach waits for. */
    bool wait_for[TP_COUNT] = {false};
    if (wait_attach) {
        const char *s = wait_attach;
        while (*s) {
            size_t len = strcspn(s, ",");
            int found = -1;
            for (int t = 0; t < TP_COUNT; t++)
                if (strlen(tp_names[t]) == len && !strncmp(tp_names[t], s, len))
                    found = t;
            if (found < 0) {
                fprintf(stderr, "tracee: --wait-attach: unknown tracepoint '%.*s'\n", (int)len, s);
                return 2;
            }
            wait_for[found] = true;
            s += len;
            if (*s == ',')
                s++;
        }
    }

    /* Initialise */
    g_rng_state = mix64(seed ^ 0x7472616365650000ULL);
    g_now_s = (int64_t)time(NULL);
    for (uint32_t i = 0; i < MAX_MSG_SIZE; i++)
        g_msg_buf[i] = (unsigned char)((i * 31 + 7) & 0xff);
    for (size_t i = 0; i < MSG_KIND_COUNT; i++)
        g_msg_weight_total += msg_kinds[i].weight;
    memset(g_reason_128, 0, sizeof g_reason_128);
    snprintf(g_reason_128, sizeof g_reason_128, "%s", "invalid compact block: non-matching block transactions ");
    for (size_t i = strlen(g_reason_128); i < 128; i++)
        g_reason_128[i] = (char)('a' + i % 26);
    snprintf(g_reason_118, sizeof g_reason_118, "%.118s",
             "insufficient fee, rejecting replacement 7e5f1bb3d5c0a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
             "9abcdef012345; new feerate 0.00001000 BTC/kvB <= old");
    for (size_t i = strlen(g_reason_118); i < 118; i++)
        g_reason_118[i] = '.';
    init_peers((size_t)peers);

    if (expect_path) {
        g_expect = fopen(expect_path, "w");
        if (!g_expect) {
            fprintf(stderr, "tracee: cannot write %s: %s\n", expect_path, strerror(errno));
            return 1;
        }
        setvbuf(g_expect, NULL, _IOFBF, 1 << 20);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t usr1, unblocked;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &unblocked);
    sigdelset(&unblocked, SIGUSR1);

    printf("ready pid=%d\n", (int)getpid());
    fflush(stdout);

    if (wait_signal) {
        while (!g_got_usr1 && !g_stop)
            sigsuspend(&unblocked);
    }
    sigprocmask(SIG_SETMASK, &unblocked, NULL);

#ifdef TRACEE_V29
    if (wait_attach) {
        uint64_t give_up = now_ns() + 60ULL * 1000000000ULL;
        for (;;) {
            bool all = true;
            for (int t = 0; t < TP_COUNT; t++)
                if (wait_for[t] && *(volatile unsigned short *)tp_semaphores[t] == 0)
                    all = false;
            if (all || g_stop)
                break;
            if (now_ns() >= give_up) {
                fprintf(stderr, "tracee: --wait-attach: timed out after 60 s waiting for semaphores of:");
                for (int t = 0; t < TP_COUNT; t++)
                    if (wait_for[t] && *(volatile unsigned short *)tp_semaphores[t] == 0)
                        fprintf(stderr, " %s", tp_names[t]);
                fputc('\n', stderr);
                return 3;
            }
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
#else
    (void)wait_for;
#endif

    uint64_t started = now_ns();
    g_sched_start_ns = started;
    g_sched_base_calls = 0;
    if (duration_ms)
        g_deadline_ns = started + duration_ms * 1000000ULL;

    if (!g_stop)
        run();

    uint64_t elapsed = now_ns() - started;
    if (g_expect && fclose(g_expect) != 0)
        fprintf(stderr, "tracee: error writing %s: %s\n", expect_path, strerror(errno));
    g_expect = NULL;
    if (summary_path)
        write_summary(summary_path, scenario, elapsed);

    uint64_t fired = 0;
    for (int t = 0; t < TP_COUNT; t++)
        fired += g_fired[t];
    printf("done fired=%" PRIu64 "\n", fired);
    fflush(stdout);
    if (g_linger_ms > 0) {
        struct timespec linger = {(time_t)(g_linger_ms / 1000), (long)(g_linger_ms % 1000) * 1000000L};
        while (nanosleep(&linger, &linger) == -1 && errno == EINTR && !g_stop)
            ;
    }
    return 0;
}
