// RPMsg-Lite environment and platform layer of this project's bare-metal C
// firmware for QEMU mps2-an521 (the functions NXP's rpmsg_env.h and our
// rpmsg_platform.h declare, without environment context, dynamic API).
//
// One execution context: doorbells are delivered only by an521_poll(),
// called from the application's loop (never from an interrupt), so the
// locks have nothing to exclude. Memory comes from a static pool that is
// never given back: the firmware creates its link and endpoints once.
#include <stddef.h>
#include <string.h>
#include "rpmsg_env.h"
#include "virtqueue.h"
#include "an521.h"

static uint8_t pool[8192] __attribute__((aligned(8)));
static uint32_t pool_used;
static void *isr_data[RL_PLATFORM_MAX_ISR_COUNT];
static uint32_t enabled;  // bit v: vector v may be delivered

uint32_t an521_enabled_vectors(void) {
    return enabled;
}

int32_t env_init(void) {
    return 0;
}

int32_t env_deinit(void) {
    return 0;
}

void *env_allocate_memory(uint32_t size) {
    size = (size + 7u) & ~7u;
    if (pool_used + size > sizeof(pool)) {
        out("an521_env: memory pool exhausted\n");
        return NULL;
    }
    void *p = &pool[pool_used];
    pool_used += size;
    return p;
}

void env_free_memory(void *ptr) {
    (void)ptr;
}

void env_memset(void *ptr, int32_t value, uint32_t size) {
    memset(ptr, value, size);
}

void env_memcpy(void *dst, void const *src, uint32_t len) {
    memcpy(dst, src, len);
}

int32_t env_strcmp(const char *dst, const char *src) {
    while (*dst && *dst == *src) {
        dst++;
        src++;
    }
    return (int32_t)(uint8_t)*dst - (int32_t)(uint8_t)*src;
}

void env_strncpy(char *dest, const char *src, uint32_t len) {
    uint32_t i = 0;
    for (; i < len && src[i]; i++) {
        dest[i] = src[i];
    }
    for (; i < len; i++) {
        dest[i] = 0;
    }
}

int32_t env_strncmp(char *dest, const char *src, uint32_t len) {
    for (uint32_t i = 0; i < len; i++) {
        if (dest[i] != src[i] || !dest[i]) {
            return (int32_t)(uint8_t)dest[i] - (int32_t)(uint8_t)src[i];
        }
    }
    return 0;
}

// Identity mapping: both cores see shared SRAM at the same address.
uint32_t env_map_vatopa(void *address) {
    return (uint32_t)(uintptr_t)address;
}

void *env_map_patova(uint32_t address) {
    return (void *)(uintptr_t)address;
}

// The other core reads what we wrote through the same memory system; DMB
// orders the ring updates as RPMsg-Lite's barriers require.
void env_mb(void) {
    __asm volatile ("dmb" ::: "memory");
}

void env_rmb(void) {
    __asm volatile ("dmb" ::: "memory");
}

void env_wmb(void) {
    __asm volatile ("dmb" ::: "memory");
}

int32_t env_create_mutex(void **lock, int32_t count) {
    (void)count;
    *lock = &enabled;  // any non-NULL token
    return 0;
}

void env_delete_mutex(void *lock) {
    (void)lock;
}

void env_lock_mutex(void *lock) {
    (void)lock;
}

void env_unlock_mutex(void *lock) {
    (void)lock;
}

// Let time pass without delivering doorbells (this runs inside a blocking
// RPMsg-Lite call, which must not be re-entered from its own wait).
void env_sleep_msec(uint32_t num_msec) {
    (void)an521_sleep(num_msec);
}

void env_enable_interrupt(uint32_t vector_id) {
    (void)platform_interrupt_enable(vector_id);
}

void env_disable_interrupt(uint32_t vector_id) {
    (void)platform_interrupt_disable(vector_id);
}

void env_isr(uint32_t vector) {
    if (vector < RL_PLATFORM_MAX_ISR_COUNT && isr_data[vector] != NULL) {
        virtqueue_notification((struct virtqueue *)isr_data[vector]);
    }
}

// rpmsg_lite_wait_for_link_up: sleep and deliver doorbells until the link
// is up (the master's first kick arrives), at most timeout_ms.
uint32_t env_wait_for_link_up(volatile uint32_t *link_state, uint32_t link_id, uint32_t timeout_ms) {
    (void)link_id;
    uint32_t waited = 0;
    while (*link_state == 0u) {
        if (timeout_ms != 0xFFFFFFFFu && waited >= timeout_ms) {
            return 0;
        }
        if (!an521_wait(1)) {
            waited++;
        }
    }
    return 1;
}

void env_tx_callback(uint32_t link_id) {
    (void)link_id;
}

int32_t platform_init_interrupt(uint32_t vector_id, void *data) {
    if (vector_id >= RL_PLATFORM_MAX_ISR_COUNT) {
        return -1;
    }
    isr_data[vector_id] = data;
    return 0;
}

int32_t platform_deinit_interrupt(uint32_t vector_id) {
    if (vector_id >= RL_PLATFORM_MAX_ISR_COUNT) {
        return -1;
    }
    isr_data[vector_id] = NULL;
    enabled &= ~(1u << vector_id);
    return 0;
}

int32_t platform_interrupt_enable(uint32_t vector_id) {
    enabled |= 1u << vector_id;
    return 0;
}

int32_t platform_interrupt_disable(uint32_t vector_id) {
    enabled &= ~(1u << vector_id);
    return 0;
}

int32_t platform_in_isr(void) {
    return 0;
}

// Ring the other core: bit v of its MHU0 CPUnINTR_SET.
void platform_notify(uint32_t vector_id) {
    env_wmb();
    MHU_SET(1u - core_id()) = 1u << vector_id;
}

int32_t platform_init(void) {
    return 0;
}

int32_t platform_deinit(void) {
    return 0;
}

// No data cache on QEMU's Cortex-M33 (and shared SRAM is not cached): the
// remote-side hooks rpmsg_lite.c calls have nothing to do.
void env_cache_flush(void *data, uint32_t len) {
    (void)data;
    (void)len;
}

void env_cache_invalidate(void *data, uint32_t len) {
    (void)data;
    (void)len;
}
