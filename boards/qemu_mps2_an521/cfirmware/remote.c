// Echo remote on NXP's C RPMsg-Lite, for the core QEMU mps2-an521 releases
// second (core 1), against a master on core 0 (MicroPython or master.c).
//
// Endpoints (an521.h): 30 "rpmsg-echo" echoes with rpmsg_lite_send; 31
// checks the test pattern and sequence of every message and echoes it
// zero-copy (rpmsg_lite_alloc_tx_buffer + rpmsg_lite_send_nocopy); 32
// answers with four counters. Echoes are sent from the receive callback;
// when no TX buffer is free the message is held (RL_HOLD) and sent from
// the main loop, in order, so nothing is dropped however fast the master
// sends. Messages go out through semihosting (QEMU's stdout).
#include <stddef.h>
#include <string.h>
#include "rpmsg_lite.h"
#include "rpmsg_ns.h"
#include "an521.h"

static struct rpmsg_lite_instance *rl;
static struct rpmsg_lite_endpoint *ept_echo, *ept_checked, *ept_stats;

static struct held {
    struct rpmsg_lite_endpoint *ept;
    void *payload;
    uint32_t len, src;
} held[RL_BUFFER_COUNT];
static uint32_t held_head, held_count, held_max;
static uint32_t checked, bad, echoed, next_seq;

static int echo_now(struct rpmsg_lite_endpoint *ept, void *payload, uint32_t len, uint32_t src) {
    if (ept == ept_checked) {
        uint32_t size;
        void *buf = rpmsg_lite_alloc_tx_buffer(rl, &size, RL_DONT_BLOCK);
        if (buf == NULL) {
            return 0;
        }
        memcpy(buf, payload, len);
        if (rpmsg_lite_send_nocopy(rl, ept, src, buf, len) != RL_SUCCESS) {
            bad++;
        }
    } else if (rpmsg_lite_send(rl, ept, src, payload, len, RL_DONT_BLOCK) != RL_SUCCESS) {
        return 0;
    }
    echoed++;
    return 1;
}

static int32_t on_message(void *payload, uint32_t len, uint32_t src, void *priv) {
    struct rpmsg_lite_endpoint *ept = *(struct rpmsg_lite_endpoint **)priv;
    if (ept == ept_checked) {
        uint32_t seq;
        checked++;
        if (!pattern_ok(payload, len, &seq) || (seq != next_seq && seq != 0u)) {
            bad++;
        }
        next_seq = seq + 1u;
    }
    if (held_count == 0u && echo_now(ept, payload, len, src)) {
        return RL_RELEASE;
    }
    struct held *h = &held[(held_head + held_count) % RL_BUFFER_COUNT];
    h->ept = ept;
    h->payload = payload;
    h->len = len;
    h->src = src;
    held_count++;
    if (held_count > held_max) {
        held_max = held_count;
    }
    return RL_HOLD;
}

static int32_t on_stats(void *payload, uint32_t len, uint32_t src, void *priv) {
    (void)payload;
    (void)len;
    (void)priv;
    uint32_t words[4] = {checked, bad, echoed, held_max};
    if (rpmsg_lite_send(rl, ept_stats, src, (char *)words, sizeof(words), 100) != RL_SUCCESS) {
        out("c-remote: stats reply failed\n");
    }
    return RL_RELEASE;
}

static void flush_held(void) {
    while (held_count) {
        struct held *h = &held[held_head];
        if (!echo_now(h->ept, h->payload, h->len, h->src)) {
            return;
        }
        (void)rpmsg_lite_release_rx_buffer(rl, h->payload);
        held_head = (held_head + 1u) % RL_BUFFER_COUNT;
        held_count--;
    }
}

int main(void) {
    out("c-remote: core ");
    out_u32(core_id());
    out(" up\n");
    rl = rpmsg_lite_remote_init((void *)SHM_BASE, 0, RL_NO_FLAGS);
    if (rl == NULL) {
        out("c-remote: rpmsg_lite_remote_init failed\n");
        return 1;
    }
    // Endpoints first: the master may send as soon as it sees the link up.
    ept_echo = rpmsg_lite_create_ept(rl, EPT_ECHO, on_message, &ept_echo);
    ept_checked = rpmsg_lite_create_ept(rl, EPT_CHECKED, on_message, &ept_checked);
    ept_stats = rpmsg_lite_create_ept(rl, EPT_STATS, on_stats, NULL);
    (void)rpmsg_lite_wait_for_link_up(rl, RL_BLOCK);
    out("c-remote: link up\n");
    if (rpmsg_ns_announce(rl, ept_echo, "rpmsg-echo", (uint32_t)RL_NS_CREATE) != RL_SUCCESS) {
        out("c-remote: name-service announcement failed\n");
    }
    for (;;) {
        (void)an521_wait(held_count ? 1u : 500u);
        flush_held();
    }
}
