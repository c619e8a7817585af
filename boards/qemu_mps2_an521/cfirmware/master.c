// Master on NXP's C RPMsg-Lite for core 0 of QEMU mps2-an521, opposite an
// echo remote on core 1 (MicroPython: ../an521_echo.py, or C: remote.c).
// The same scenario as ../an521_master.py run(): link-up, the remote's
// name-service announcement, a checked ping-pong (copy), zero-copy both
// ways, a stress of STRESS messages each way through the checking endpoint
// (every echo checked here for sequence, length and payload), the
// instructions per 64-byte round trip (both cores, virtual-time timer) and
// the remote's counters; one JSON line through semihosting at the end.
#include <stddef.h>
#include <string.h>
#include "rpmsg_lite.h"
#include "rpmsg_ns.h"
#include "an521.h"

#ifndef STRESS
#define STRESS 20000u
#endif
#ifndef ROUNDS
#define ROUNDS 1000u
#endif

enum { MAILBOX, HOLD_ONE, SINK };

static struct rpmsg_lite_instance *rl;
static struct rpmsg_lite_endpoint *ept;
static volatile uint32_t echo_addr, got, mode;
static uint8_t last[RL_BUFFER_PAYLOAD_SIZE];
static uint32_t last_len, last_src;
static void *held;
static uint32_t sink_received, sink_bad;

static void on_announce(uint32_t addr, const char *name, uint32_t flags, void *user) {
    (void)flags;
    (void)user;
    if (strcmp(name, "rpmsg-echo") == 0) {
        echo_addr = addr;
    }
}

static int32_t on_message(void *payload, uint32_t len, uint32_t src, void *priv) {
    (void)priv;
    if (mode == SINK) {
        uint32_t seq;
        if (!pattern_ok(payload, len, &seq) || seq != sink_received || len != pattern_len(seq)) {
            sink_bad++;
        }
        sink_received++;
        return RL_RELEASE;
    }
    last_len = len;
    last_src = src;
    got = 1;
    if (mode == HOLD_ONE) {  // zero-copy receive: read in place, release later
        held = payload;
        return RL_HOLD;
    }
    memcpy(last, payload, len);
    return RL_RELEASE;
}

static int wait_got(void) {
    for (uint32_t waited = 0; !got; ) {
        if (!an521_wait(1) && ++waited > 2000u) {
            return 0;
        }
    }
    return 1;
}

static int ask(uint32_t dst, const void *data, uint32_t len) {
    got = 0;
    if (rpmsg_lite_send(rl, ept, dst, (char *)data, len, RL_BLOCK) != RL_SUCCESS) {
        return 0;
    }
    return wait_got();
}

int main(void) {
    static uint8_t data[RL_BUFFER_PAYLOAD_SIZE];
    out("c-master: core ");
    out_u32(core_id());
    out(" up\n");
    rl = rpmsg_lite_master_init((void *)SHM_BASE, SHM_SIZE, 0, RL_NO_FLAGS);
    if (rl == NULL) {
        out("c-master: rpmsg_lite_master_init failed\n");
        return 1;
    }
    (void)rpmsg_ns_bind(rl, on_announce, NULL);
    ept = rpmsg_lite_create_ept(rl, RL_ADDR_ANY, on_message, NULL);
    an521_start_core1();
    // No timeout: a MicroPython remote starts when the host tells it to,
    // and while both cores sleep QEMU's virtual clock races ahead.
    while (!echo_addr) {
        (void)an521_wait(500);
    }
    out("c-master: name service: rpmsg-echo at ");
    out_u32(echo_addr);
    out("\n");

    uint32_t pingpong = 0;
    for (uint32_t seq = 0; seq < 100u; seq++) {
        uint32_t len = pattern_len(seq);
        pattern_fill(data, seq, len);
        if (ask(echo_addr, data, len) && last_len == len && last_src == echo_addr && memcmp(last, data, len) == 0) {
            pingpong++;
        }
    }

    uint32_t zero_copy = 0;
    mode = HOLD_ONE;
    for (uint32_t seq = 0; seq < 100u; seq++) {
        uint32_t len = pattern_len(seq), size, got_seq;
        uint8_t *buf = rpmsg_lite_alloc_tx_buffer(rl, &size, RL_BLOCK);
        pattern_fill(buf, seq, len);
        got = 0;
        if (rpmsg_lite_send_nocopy(rl, ept, echo_addr, buf, len) == RL_SUCCESS && wait_got()) {
            if (last_len == len && pattern_ok(held, len, &got_seq) && got_seq == seq) {
                zero_copy++;
            }
            (void)rpmsg_lite_release_rx_buffer(rl, held);
        }
    }

    mode = SINK;
    uint32_t sent = 0, stalls = 0;
    while (sink_received < STRESS && stalls < 500u) {
        while (sent < STRESS) {
            uint32_t size, len = pattern_len(sent);
            uint8_t *buf = rpmsg_lite_alloc_tx_buffer(rl, &size, RL_DONT_BLOCK);
            if (buf == NULL) {
                break;
            }
            pattern_fill(buf, sent, len);
            (void)rpmsg_lite_send_nocopy(rl, ept, EPT_CHECKED, buf, len);
            sent++;
        }
        uint32_t before = sink_received;
        (void)an521_wait(10);
        stalls = sink_received == before ? stalls + 1u : 0u;
    }

    mode = MAILBOX;
    for (uint32_t i = 0; i < 64u; i++) {
        data[i] = (uint8_t)i;
    }
    for (uint32_t i = 0; i < 10u; i++) {
        (void)ask(echo_addr, data, 64);
    }
    timer_restart();
    for (uint32_t i = 0; i < ROUNDS; i++) {
        got = 0;
        (void)rpmsg_lite_send(rl, ept, echo_addr, (char *)data, 64, RL_BLOCK);
        while (!got) {
            (void)an521_wait(1000);
        }
    }
    uint32_t rt = timer_ticks() * INSTRUCTIONS_PER_TICK / ROUNDS;

    uint32_t stats[4] = {0, 0, 0, 0};
    if (ask(EPT_STATS, "?", 1) && last_len == sizeof(stats)) {
        memcpy(stats, last, sizeof(stats));
    }
    out("{\"master\": \"c\", ");
    out_kv("link_up", rpmsg_lite_is_link_up(rl), 0);
    out_kv("ns_addr", echo_addr, 0);
    out_kv("pingpong_ok", pingpong, 0);
    out_kv("zero_copy_ok", zero_copy, 0);
    out_kv("stress_sent", sent, 0);
    out_kv("stress_received", sink_received, 0);
    out_kv("stress_bad", sink_bad, 0);
    out_kv("rt64_instructions", rt, 0);
    out_kv("peer_checked", stats[0], 0);
    out_kv("peer_bad", stats[1], 0);
    out_kv("peer_echoed", stats[2], 0);
    out_kv("peer_held_max", stats[3], 1);
    // A MicroPython remote now returns to its REPL (for inspection).
    (void)rpmsg_lite_send(rl, ept, EPT_STOP, "stop", 4, 100);
    for (;;) {
        (void)an521_wait(500);
    }
}
