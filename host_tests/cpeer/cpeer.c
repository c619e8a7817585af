/*
 * rpmsg_cpeer: NXP's C RPMsg-Lite as a live peer of this project's stack on
 * the host, over the host transport contract (platform_host.c). One binary
 * per layout (rpmsg_config.h); tools/cpeer.py builds them.
 *
 *   rpmsg_cpeer --layout                      print the compiled layout (JSON)
 *   rpmsg_cpeer FILE --master|--remote [--mode echo|traffic|bench] [options]
 *
 * echo     an endpoint at address 30, announced by name service (--name),
 *          sends every message back to its source; copy calls
 *          (rpmsg_queue_recv, rpmsg_lite_send) or with --zero-copy
 *          (rpmsg_queue_recv_nocopy, rpmsg_lite_alloc_tx_buffer,
 *          rpmsg_lite_send_nocopy, rpmsg_queue_nocopy_free). Serves until
 *          the peer is gone.
 * traffic  host_tests/cores/traffic_core.py's checked stream in C: both sides
 *          announce "traffic" and learn the other's address by name service,
 *          each sends --messages N messages of xorshift32-derived size and
 *          content starting with a u32 sequence number, alternating copy and
 *          zero-copy on sending and on receiving, as fast as buffers allow
 *          (back-pressure); every received message is checked for length,
 *          sequence and payload. --block-ms T: a send that finds no buffer
 *          then waits inside the library (its blocking path) up to T.
 * bench    tools/cores/bench_master.py in C: measures against an echo at
 *          address 30 (--bench pingpong|stream, --window, --sizes,
 *          --messages, --zero-copy); every echo is checked.
 *
 * Common options: --pa-base N (0x20200000), --timeout-ms N (120000),
 * --linger-ms N (traffic: stay up to N ms for the peer to finish, 5000).
 * Each mode prints one JSON line per result; exit status 0 only without
 * errors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpmsg_lite.h"
#include "rpmsg_ns.h"
#include "rpmsg_queue.h"
#include "host_port.h"

#define BUFFER_SIZE    ((RL_BUFFER_PAYLOAD_SIZE + 16U + 3U) & ~3U)
#define SHM_SIZE       (RL_VRING_OVERHEAD + 2U * RL_BUFFER_COUNT * BUFFER_SIZE)
#define ECHO_ADDR      30U
#define TABLE_BYTES    1024U
#define MAX_NS         16
#define WARMUP         100U
#define SEND_WAIT_MS   1000U

static struct
{
    const char *path;
    int master;
    const char *mode;
    uint32_t pa_base;
    uint32_t messages;
    uint32_t seed;
    int zero_copy;
    const char *name;
    const char *bench;
    uint32_t window;
    const char *sizes;
    uint32_t block_ms;
    uint32_t timeout_ms;
    uint32_t linger_ms;
} opt = {.mode = "echo", .pa_base = 0x20200000U, .messages = 10000U, .seed = 1234U, .name = "rpmsg-echo",
         .bench = "pingpong", .window = 8U, .sizes = "16,64,256,496", .timeout_ms = 120000U, .linger_ms = 5000U};

static struct rpmsg_lite_instance *dev;

/* Name-service announcements seen from the peer. */
static struct
{
    uint32_t addr;
    uint32_t flags;
    char name[32];
} ns_seen[MAX_NS];
static int ns_count;

static void on_ns(uint32_t new_ept, const char *new_ept_name, uint32_t flags, void *user_data)
{
    (void)user_data;
    if (ns_count < MAX_NS)
    {
        ns_seen[ns_count].addr  = new_ept;
        ns_seen[ns_count].flags = flags;
        /* The name field is 32 bytes, not necessarily terminated. */
        memcpy(ns_seen[ns_count].name, new_ept_name, 31);
        ns_seen[ns_count].name[31] = 0;
        ns_count++;
    }
}

static int ns_lookup(const char *name, uint32_t *addr)
{
    for (int i = 0; i < ns_count; i++)
    {
        if (strcmp(ns_seen[i].name, name) == 0 && ns_seen[i].flags == (uint32_t)RL_NS_CREATE)
        {
            *addr = ns_seen[i].addr;
            return 1;
        }
    }
    return 0;
}

static void print_ns(void)
{
    printf("\"ns\": [");
    for (int i = 0; i < ns_count; i++)
    {
        printf("%s{\"name\": \"%s\", \"addr\": %u, \"flags\": %u}", i ? ", " : "", ns_seen[i].name, ns_seen[i].addr,
               ns_seen[i].flags);
    }
    printf("]");
}

static void print_layout(void)
{
    printf("{\"count\": %u, \"payload\": %u, \"align\": %lu, \"vring_size\": %lu, \"consumed_notification\": %d, "
           "\"shm_size\": %lu, \"version\": \"%s\"}\n",
           (unsigned)RL_BUFFER_COUNT, (unsigned)RL_BUFFER_PAYLOAD_SIZE, (unsigned long)VRING_ALIGN,
           (unsigned long)VRING_SIZE, (int)RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION, (unsigned long)SHM_SIZE,
           RL_VERSION);
}

static void fail(const char *what)
{
    printf("{\"error\": \"%s\"}\n", what);
    fflush(stdout);
    host_close();
    exit(1);
}

/* ---- link set-up ---------------------------------------------------- */

/* Endpoints must exist before the peer can send (before FILE.ready on the
 * master, before link-up on the remote): create_endpoints does that. */
static void open_link(void (*create_endpoints)(void))
{
    void *shm = host_open(opt.path, (uint32_t)SHM_SIZE, opt.master, opt.pa_base, opt.timeout_ms);
    if (shm == NULL)
    {
        fail("cannot open the shared file");
    }
    if (opt.master)
    {
        dev = rpmsg_lite_master_init(shm, SHM_SIZE, RL_PLATFORM_HOST_LINK_ID, RL_NO_FLAGS);
    }
    else
    {
        dev = rpmsg_lite_remote_init(shm, RL_PLATFORM_HOST_LINK_ID, RL_NO_FLAGS);
    }
    if (dev == RL_NULL)
    {
        fail("rpmsg_lite init failed");
    }
    if (rpmsg_ns_bind(dev, on_ns, NULL) == RL_NULL)
    {
        fail("rpmsg_ns_bind failed");
    }
    create_endpoints();
    if (opt.master)
    {
        host_ready();
    }
    if (rpmsg_lite_wait_for_link_up(dev, opt.timeout_ms) == 0U)
    {
        fail("link did not come up");
    }
}

/* ---- echo ----------------------------------------------------------- */

static rpmsg_queue_handle queue;
static struct rpmsg_lite_endpoint *ept;

static void create_echo(void)
{
    queue = rpmsg_queue_create(dev);
    ept   = rpmsg_lite_create_ept(dev, ECHO_ADDR, rpmsg_queue_rx_cb, queue);
    if (queue == RL_NULL || ept == RL_NULL)
    {
        fail("cannot create the echo endpoint");
    }
}

static int run_echo(void)
{
    static char buf[RL_BUFFER_PAYLOAD_SIZE];
    uint32_t echoed = 0, errors = 0, src = 0, len = 0, no_buffer = 0;
    uint32_t last_check = host_now_ms(), start = last_check;
    int seen_alive = 0;
    open_link(create_echo);
    if (rpmsg_ns_announce(dev, ept, opt.name, (uint32_t)RL_NS_CREATE) != RL_SUCCESS)
    {
        fail("name-service announcement failed");
    }
    for (;;)
    {
        int32_t rc;
        char *data = NULL;
        if (opt.zero_copy)
        {
            rc = rpmsg_queue_recv_nocopy(dev, queue, &src, &data, &len, 50);
        }
        else
        {
            rc = rpmsg_queue_recv(dev, queue, &src, buf, sizeof(buf), &len, 50);
        }
        if (rc == RL_SUCCESS)
        {
            seen_alive = 1; /* it sent something */
            for (;;)
            {
                if (opt.zero_copy)
                {
                    uint32_t room = 0;
                    void *out = rpmsg_lite_alloc_tx_buffer(dev, &room, RL_DONT_BLOCK);
                    if (out == RL_NULL)
                    {
                        no_buffer++;
                        out = rpmsg_lite_alloc_tx_buffer(dev, &room, SEND_WAIT_MS);
                    }
                    if (out != RL_NULL)
                    {
                        memcpy(out, data, len);
                        rc = rpmsg_lite_send_nocopy(dev, ept, src, out, len);
                    }
                    else
                    {
                        rc = RL_ERR_NO_MEM;
                    }
                }
                else
                {
                    rc = rpmsg_lite_send(dev, ept, src, buf, len, RL_DONT_BLOCK);
                    if (rc == RL_ERR_NO_MEM)
                    {
                        no_buffer++;
                        rc = rpmsg_lite_send(dev, ept, src, buf, len, SEND_WAIT_MS);
                    }
                }
                if (rc != RL_ERR_NO_MEM || !host_peer_alive())
                {
                    break;
                }
            }
            if (opt.zero_copy)
            {
                (void)rpmsg_queue_nocopy_free(dev, data);
            }
            if (rc == RL_SUCCESS)
            {
                echoed++;
            }
            else
            {
                errors++;
            }
            continue;
        }
        uint32_t now = host_now_ms();
        if (now - last_check >= 200U)
        {
            last_check = now;
            if (host_peer_alive())
            {
                seen_alive = 1;
            }
            else if (seen_alive || !opt.master || now - start > opt.timeout_ms)
            {
                break; /* the peer has gone (or, for a remote, its master; or
                        * a master's remote never came) */
            }
        }
    }
    printf("{\"mode\": \"echo\", \"role\": \"%s\", \"echoed\": %u, \"errors\": %u, \"no_buffer\": %u, "
           "\"dropped_doorbells\": %u, ",
           opt.master ? "master" : "remote", echoed, errors, no_buffer, host_dropped());
    print_ns();
    printf("}\n");
    host_close();
    return errors == 0 ? 0 : 1;
}

/* ---- traffic ---------------------------------------------------------- */

/* The stream of traffic_core.py: xorshift32 drives sizes and offsets into a
 * 1024-byte table made by the same generator from the seed. */
static uint32_t xorshift(uint32_t x)
{
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

struct stream
{
    uint8_t table[TABLE_BYTES];
    uint32_t state;
};

static void stream_init(struct stream *s, uint32_t seed)
{
    uint32_t x = seed ? seed : 1U;
    for (uint32_t i = 0; i < TABLE_BYTES; i++)
    {
        x           = xorshift(x);
        s->table[i] = (uint8_t)x;
    }
    s->state = seed ? seed : 1U;
}

/* Size and table offset of the next message, without consuming it. */
static void stream_peek(const struct stream *s, uint32_t *size, uint32_t *off)
{
    uint32_t x = xorshift(s->state);
    *size      = 4U + x % (RL_BUFFER_PAYLOAD_SIZE - 3U);
    *off       = (x >> 8) % (TABLE_BYTES - RL_BUFFER_PAYLOAD_SIZE);
}

static void stream_next(struct stream *s)
{
    s->state = xorshift(s->state);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void create_traffic(void)
{
    queue = rpmsg_queue_create(dev);
    ept   = rpmsg_lite_create_ept(dev, RL_ADDR_ANY, rpmsg_queue_rx_cb, queue);
    if (queue == RL_NULL || ept == RL_NULL)
    {
        fail("cannot create the traffic endpoint");
    }
}

static struct
{
    uint32_t sent, received, zc_sent, zc_received, errors, backpressure, blocked_sends;
    char first_error[160];
} tr;

static void traffic_error(const char *fmt, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    tr.errors++;
    if (tr.first_error[0] == 0)
    {
        snprintf(tr.first_error, sizeof(tr.first_error), fmt, a, b, c, d);
    }
}

/* One send attempt of message tr.sent: 1 sent, 0 no buffer. */
static int traffic_send(struct stream *mine, uint32_t dst, uint8_t *data, uintptr_t wait)
{
    uint32_t size, off;
    int32_t rc;
    stream_peek(mine, &size, &off);
    if (tr.sent & 1U)
    {
        uint32_t room = 0;
        uint8_t *out  = rpmsg_lite_alloc_tx_buffer(dev, &room, wait);
        if (out == RL_NULL)
        {
            return 0;
        }
        if (room < size)
        {
            traffic_error("tx buffer of %u bytes for a %u-byte message (%u %u)", room, size, 0, 0);
        }
        put_u32(out, tr.sent);
        memcpy(out + 4, mine->table + off, size - 4U);
        rc = rpmsg_lite_send_nocopy(dev, ept, dst, out, size);
        tr.zc_sent++;
    }
    else
    {
        put_u32(data, tr.sent);
        memcpy(data + 4, mine->table + off, size - 4U);
        rc = rpmsg_lite_send(dev, ept, dst, (char *)data, size, wait);
        if (rc == RL_ERR_NO_MEM)
        {
            return 0;
        }
    }
    if (rc != RL_SUCCESS)
    {
        traffic_error("send of message %u failed with %d (%u %u)", tr.sent, (uint32_t)rc, 0, 0);
    }
    stream_next(mine);
    tr.sent++;
    return 1;
}

static void traffic_check(struct stream *theirs, uint32_t peer, uint32_t src, const uint8_t *p, uint32_t len)
{
    uint32_t size, off;
    stream_peek(theirs, &size, &off);
    stream_next(theirs);
    uint32_t seq = len >= 4U ? get_u32(p) : 0xFFFFFFFFU;
    if (src != peer)
    {
        traffic_error("message %u from address %u, expected %u (%u)", tr.received, src, peer, 0);
    }
    else if (len != size || seq != tr.received)
    {
        traffic_error("message %u: got seq %u, %u bytes (expected %u)", tr.received, seq, len, size);
    }
    else if (memcmp(p + 4, theirs->table + off, size - 4U) != 0)
    {
        traffic_error("message %u (%u bytes): payload differs (%u %u)", tr.received, size, 0, 0);
    }
    tr.received++;
}

static int run_traffic(void)
{
    static uint8_t data[RL_BUFFER_PAYLOAD_SIZE];
    static uint8_t buf[RL_BUFFER_PAYLOAD_SIZE];
    static struct stream mine, theirs;
    uint32_t peer = 0, total = opt.messages;
    open_link(create_traffic);
    if (rpmsg_ns_announce(dev, ept, "traffic", (uint32_t)RL_NS_CREATE) != RL_SUCCESS)
    {
        fail("name-service announcement failed");
    }
    uint32_t start = host_now_ms();
    while (!ns_lookup("traffic", &peer))
    {
        (void)host_poll(5);
        if (host_now_ms() - start > opt.timeout_ms)
        {
            fail("no name-service announcement of 'traffic' from the peer");
        }
    }
    stream_init(&mine, opt.seed + (opt.master ? 0U : 1U));
    stream_init(&theirs, opt.seed + (opt.master ? 1U : 0U));
    start = host_now_ms();
    int timed_out = 0;
    while (tr.sent < total || tr.received < total)
    {
        int busy = 0;
        if (tr.sent < total)
        {
            if (traffic_send(&mine, peer, data, RL_DONT_BLOCK))
            {
                busy = 1;
            }
            else
            {
                /* No free buffer: the peer has not consumed ours yet. */
                tr.backpressure++;
                if (opt.block_ms != 0U)
                {
                    tr.blocked_sends++;
                    if (!traffic_send(&mine, peer, data, opt.block_ms))
                    {
                        traffic_error("no tx buffer within %u ms at message %u (%u %u)", opt.block_ms, tr.sent, 0, 0);
                        break;
                    }
                    busy = 1;
                }
            }
        }
        if (rpmsg_queue_get_current_size(queue) > 0)
        {
            uint32_t src = 0, len = 0;
            if (tr.received & 1U)
            {
                char *view = NULL;
                if (rpmsg_queue_recv_nocopy(dev, queue, &src, &view, &len, RL_DONT_BLOCK) == RL_SUCCESS)
                {
                    traffic_check(&theirs, peer, src, (const uint8_t *)view, len);
                    tr.zc_received++;
                    if (rpmsg_queue_nocopy_free(dev, view) != RL_SUCCESS)
                    {
                        traffic_error("nocopy_free failed at message %u (%u %u %u)", tr.received, 0, 0, 0);
                    }
                }
            }
            else
            {
                int32_t rc = rpmsg_queue_recv(dev, queue, &src, (char *)buf, sizeof(buf), &len, RL_DONT_BLOCK);
                if (rc == RL_SUCCESS)
                {
                    traffic_check(&theirs, peer, src, buf, len);
                }
                else
                {
                    traffic_error("rpmsg_queue_recv failed with %d at message %u (%u %u)", (uint32_t)rc,
                                  tr.received, 0, 0);
                    tr.received++;
                }
            }
            busy = 1;
        }
        if (host_now_ms() - start > opt.timeout_ms)
        {
            timed_out = 1;
            break;
        }
        (void)host_poll(busy ? 0U : 1U);
    }
    uint32_t elapsed = host_now_ms() - start;
    printf("{\"mode\": \"traffic\", \"role\": \"%s\", \"interpreter\": \"c\", \"sent\": %u, \"received\": %u, "
           "\"zero_copy_sent\": %u, \"zero_copy_received\": %u, \"errors\": %u, \"first_error\": ",
           opt.master ? "master" : "remote", tr.sent, tr.received, tr.zc_sent, tr.zc_received,
           tr.errors + (uint32_t)timed_out);
    if (tr.first_error[0] || timed_out)
    {
        printf("\"%s\"", tr.first_error[0] ? tr.first_error : "timed out");
    }
    else
    {
        printf("null");
    }
    printf(", \"backpressure\": %u, \"blocked_sends\": %u, \"peer_addr\": %u, \"dropped_doorbells\": %u, \"ms\": %u, ",
           tr.backpressure, tr.blocked_sends, peer, host_dropped(), elapsed);
    print_ns();
    printf("}\n");
    fflush(stdout);
    /* Keep serving until the peer has finished reading (it leaves), so the
     * file and our doorbells stay while it needs them. */
    uint32_t linger = host_now_ms();
    while (host_peer_alive() && host_now_ms() - linger < opt.linger_ms)
    {
        (void)host_poll(10);
    }
    host_close();
    return (tr.errors == 0 && !timed_out) ? 0 : 1;
}

/* ---- bench ------------------------------------------------------------ */

static uint8_t bench_data[RL_BUFFER_PAYLOAD_SIZE];
static uint32_t bench_no_buffer; /* stream: a send found every TX buffer taken */
static uint8_t bench_buf[RL_BUFFER_PAYLOAD_SIZE];

static void create_bench(void)
{
    queue = rpmsg_queue_create(dev);
    ept   = rpmsg_lite_create_ept(dev, RL_ADDR_ANY, rpmsg_queue_rx_cb, queue);
    if (queue == RL_NULL || ept == RL_NULL)
    {
        fail("cannot create the bench endpoint");
    }
}

/* One send of message seq: 1 sent, 0 no buffer (with wait 0). */
static int bench_send(uint32_t seq, uint32_t size, uintptr_t wait)
{
    if (opt.zero_copy)
    {
        uint32_t room = 0;
        uint8_t *out  = rpmsg_lite_alloc_tx_buffer(dev, &room, wait);
        if (out == RL_NULL)
        {
            return 0;
        }
        put_u32(out, seq);
        return rpmsg_lite_send_nocopy(dev, ept, ECHO_ADDR, out, size) == RL_SUCCESS ? 1 : -1;
    }
    put_u32(bench_data, seq);
    int32_t rc = rpmsg_lite_send(dev, ept, ECHO_ADDR, (char *)bench_data, size, wait);
    return rc == RL_SUCCESS ? 1 : (rc == RL_ERR_NO_MEM ? 0 : -1);
}

/* The next echo: checks its length, sequence number and (copy) payload. */
static void bench_recv(uint32_t seq, uint32_t size)
{
    uint32_t src = 0, len = 0;
    if (opt.zero_copy)
    {
        char *view = NULL;
        if (rpmsg_queue_recv_nocopy(dev, queue, &src, &view, &len, 5000) != RL_SUCCESS)
        {
            fail("no echo within 5 s");
        }
        uint32_t got = len >= 4U ? get_u32((uint8_t *)view) : 0xFFFFFFFFU;
        (void)rpmsg_queue_nocopy_free(dev, view);
        if (len != size || got != seq)
        {
            fail("echo out of order or of the wrong length");
        }
        return;
    }
    if (rpmsg_queue_recv(dev, queue, &src, (char *)bench_buf, sizeof(bench_buf), &len, 5000) != RL_SUCCESS)
    {
        fail("no echo within 5 s");
    }
    if (len != size || get_u32(bench_buf) != seq)
    {
        fail("echo out of order or of the wrong length");
    }
    if (memcmp(bench_buf + 4, bench_data + 4, size - 4U) != 0)
    {
        fail("echo differs from the message sent");
    }
}

static void bench_pingpong(uint32_t n, uint32_t size, uint32_t *rtts)
{
    for (uint32_t i = 0; i < n; i++)
    {
        uint64_t t0 = host_now_us();
        if (bench_send(i, size, SEND_WAIT_MS) != 1)
        {
            fail("send failed");
        }
        bench_recv(i, size);
        rtts[i] = (uint32_t)(host_now_us() - t0);
    }
}

static void bench_stream(uint32_t n, uint32_t size, uint32_t *rtts, uint64_t *started)
{
    uint32_t sent = 0, done = 0, window = opt.window;
    while (done < n)
    {
        int r = 0;
        if (sent < n && sent - done < window)
        {
            uint64_t t = host_now_us();
            r = bench_send(sent, size, RL_DONT_BLOCK);
            if (r < 0)
            {
                fail("send failed");
            }
            if (r == 1)
            {
                started[sent % window] = t;
                sent++;
                continue;
            }
            bench_no_buffer++;
        }
        if (rpmsg_queue_get_current_size(queue) > 0 || sent - done == window || sent == n)
        {
            /* The copy check compares with bench_data, which holds the
             * latest sequence number: only the number is checked here. */
            uint32_t src = 0, len = 0;
            char *view = NULL;
            if (rpmsg_queue_recv_nocopy(dev, queue, &src, &view, &len, 5000) != RL_SUCCESS)
            {
                fail("no echo within 5 s");
            }
            uint32_t got = len >= 4U ? get_u32((uint8_t *)view) : 0xFFFFFFFFU;
            int same     = opt.zero_copy || memcmp((uint8_t *)view + 4, bench_data + 4, size - 4U) == 0;
            (void)rpmsg_queue_nocopy_free(dev, view);
            if (len != size || got != done || !same)
            {
                fail("echo out of order, of the wrong length or content");
            }
            rtts[done] = (uint32_t)(host_now_us() - started[done % window]);
            done++;
        }
        else
        {
            (void)host_poll(1);
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t percentile(const uint32_t *sorted, uint32_t n, uint32_t p)
{
    uint32_t k = (uint32_t)((double)p * (double)(n - 1U) / 100.0 + 0.5);
    return sorted[k < n ? k : n - 1U];
}

static int run_bench(void)
{
    uint32_t n = opt.messages;
    int stream = strcmp(opt.bench, "stream") == 0;
    uint32_t *rtts    = calloc(n > WARMUP ? n : WARMUP, sizeof(uint32_t));
    uint64_t *started = calloc(opt.window, sizeof(uint64_t));
    if (rtts == NULL || started == NULL || opt.window == 0U)
    {
        fail("bad --messages or --window");
    }
    for (uint32_t i = 0; i < sizeof(bench_data); i++)
    {
        bench_data[i] = (uint8_t)(i * 7U + 1U);
    }
    open_link(create_bench);
    /* Probe address 30 until something echoes: the peer need not announce. */
    uint32_t start = host_now_ms();
    for (;;)
    {
        if (host_now_ms() - start > 30000U)
        {
            fail("no echo from address 30 on the peer");
        }
        if (bench_send(0xFFFFFFFFU, 8U, RL_DONT_BLOCK) == 1)
        {
            uint32_t src, len;
            if (rpmsg_queue_recv(dev, queue, &src, (char *)bench_buf, sizeof(bench_buf), &len, 200) == RL_SUCCESS)
            {
                /* Echoes of earlier probes may still come (a slow peer):
                 * drain until 200 ms pass without one. */
                while (rpmsg_queue_recv(dev, queue, &src, (char *)bench_buf, sizeof(bench_buf), &len, 200) ==
                       RL_SUCCESS)
                {
                }
                break;
            }
        }
        (void)host_poll(20);
    }
    const char *p = opt.sizes;
    while (*p)
    {
        uint32_t size = (uint32_t)strtoul(p, (char **)&p, 10);
        if (*p == ',')
        {
            p++;
        }
        if (size < 4U || size > RL_BUFFER_PAYLOAD_SIZE)
        {
            continue;
        }
        uint32_t warm = n < WARMUP ? n : WARMUP;
        if (stream)
        {
            bench_stream(warm, size, rtts, started);
        }
        else
        {
            bench_pingpong(warm, size, rtts);
        }
        uint64_t t0 = host_now_us();
        if (stream)
        {
            bench_stream(n, size, rtts, started);
        }
        else
        {
            bench_pingpong(n, size, rtts);
        }
        uint64_t elapsed = host_now_us() - t0;
        qsort(rtts, n, sizeof(uint32_t), cmp_u32);
        printf("{\"mode\": \"%s\", \"window\": %u, \"size\": %u, \"zero_copy\": %s, \"master\": \"c\", "
               "\"messages\": %u, \"msgs_per_s\": %.0f, \"mb_per_s\": %.3f, \"rtt_median_us\": %u, "
               "\"rtt_p99_us\": %u, \"alloc_bytes_per_msg\": null, \"no_buffer\": %u}\n",
               stream ? "stream" : "pingpong", stream ? opt.window : 1U, size, opt.zero_copy ? "true" : "false", n,
               (double)n * 1e6 / (double)elapsed, (double)n * size / (double)elapsed, percentile(rtts, n, 50),
               percentile(rtts, n, 99), bench_no_buffer);
        bench_no_buffer = 0;
        fflush(stdout);
    }
    host_close();
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static uint32_t number(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (*s == 0 || *end != 0)
    {
        fprintf(stderr, "not a number: %s\n", s);
        exit(2);
    }
    return (uint32_t)v;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
    {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--layout") == 0)
        {
            print_layout();
            return 0;
        }
        else if (strcmp(a, "--master") == 0)
        {
            opt.master = 1;
        }
        else if (strcmp(a, "--remote") == 0)
        {
            opt.master = 0;
        }
        else if (strcmp(a, "--zero-copy") == 0)
        {
            opt.zero_copy = 1;
        }
        else if (a[0] == '-' && a[1] == '-' && v == NULL)
        {
            fprintf(stderr, "%s needs a value\n", a);
            return 2;
        }
        else if (strcmp(a, "--mode") == 0)
        {
            opt.mode = argv[++i];
        }
        else if (strcmp(a, "--pa-base") == 0)
        {
            opt.pa_base = number(argv[++i]);
        }
        else if (strcmp(a, "--messages") == 0)
        {
            opt.messages = number(argv[++i]);
        }
        else if (strcmp(a, "--seed") == 0)
        {
            opt.seed = number(argv[++i]);
        }
        else if (strcmp(a, "--name") == 0)
        {
            opt.name = argv[++i];
        }
        else if (strcmp(a, "--bench") == 0)
        {
            opt.bench = argv[++i];
        }
        else if (strcmp(a, "--window") == 0)
        {
            opt.window = number(argv[++i]);
        }
        else if (strcmp(a, "--sizes") == 0)
        {
            opt.sizes = argv[++i];
        }
        else if (strcmp(a, "--block-ms") == 0)
        {
            opt.block_ms = number(argv[++i]);
        }
        else if (strcmp(a, "--timeout-ms") == 0)
        {
            opt.timeout_ms = number(argv[++i]);
        }
        else if (strcmp(a, "--linger-ms") == 0)
        {
            opt.linger_ms = number(argv[++i]);
        }
        else if (a[0] != '-' && opt.path == NULL)
        {
            opt.path = a;
        }
        else
        {
            fprintf(stderr, "unknown argument: %s\n", a);
            return 2;
        }
    }
    if (opt.path == NULL)
    {
        fprintf(stderr, "usage: rpmsg_cpeer --layout | FILE --master|--remote [--mode echo|traffic|bench] ...\n");
        return 2;
    }
    if (strcmp(opt.mode, "echo") == 0)
    {
        return run_echo();
    }
    if (strcmp(opt.mode, "traffic") == 0)
    {
        return run_traffic();
    }
    if (strcmp(opt.mode, "bench") == 0)
    {
        return run_bench();
    }
    fprintf(stderr, "unknown mode: %s\n", opt.mode);
    return 2;
}
