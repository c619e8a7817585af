/*
 * Environment layer of the project's C peers on Linux (rpmsg_env.h), for one
 * thread: the library and the program run on the main thread, and doorbells
 * are delivered by the platform layer while it waits (platform_host.c), so
 * "interrupt" handlers run only where the library sleeps.
 *
 * Locks therefore never contend; each one still counts its holders and a
 * nested lock aborts the program, which would reveal a doorbell delivered
 * inside a critical section. Queues are fixed rings whose blocking reads
 * wait through the platform, serving doorbells meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpmsg_lite.h"
#include "virtqueue.h"
#include "host_port.h"

static int32_t init_count;
static void *isr_data[RL_PLATFORM_MAX_ISR_COUNT];

void rl_assert_failed(const char *file, int line, const char *expr)
{
    fprintf(stderr, "cpeer: RL_ASSERT(%s) failed at %s:%d\n", expr, file, line);
    exit(3);
}

int32_t env_init(void)
{
    if (init_count++ > 0)
    {
        return 0;
    }
    memset(isr_data, 0, sizeof(isr_data));
    return platform_init();
}

int32_t env_deinit(void)
{
    if (init_count <= 0)
    {
        return -1;
    }
    if (--init_count > 0)
    {
        return 0;
    }
    return platform_deinit();
}

void *env_allocate_memory(uint32_t size)
{
    return malloc(size);
}

void env_free_memory(void *ptr)
{
    free(ptr);
}

void env_memset(void *ptr, int32_t value, uint32_t size)
{
    memset(ptr, value & 0xFF, size);
}

void env_memcpy(void *dst, void const *src, uint32_t len)
{
    memcpy(dst, src, len);
}

int32_t env_strcmp(const char *dst, const char *src)
{
    return strcmp(dst, src);
}

void env_strncpy(char *dest, const char *src, uint32_t len)
{
    strncpy(dest, src, len);
}

int32_t env_strncmp(char *dest, const char *src, uint32_t len)
{
    return strncmp(dest, src, len);
}

/* The peer is another process on possibly another CPU: full fences (a
 * function call alone would only stop the compiler). */
void env_mb(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void env_rmb(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

void env_wmb(void)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

uint32_t env_map_vatopa(void *address)
{
    return (uint32_t)platform_vatopa(address);
}

void *env_map_patova(uint32_t address)
{
    return platform_patova(address);
}

int32_t env_create_mutex(void **lock, int32_t count)
{
    (void)count;
    int32_t *holders = calloc(1, sizeof(int32_t));
    *lock = holders;
    return holders == NULL ? -1 : 0;
}

void env_delete_mutex(void *lock)
{
    free(lock);
}

void env_lock_mutex(void *lock)
{
    int32_t *holders = lock;
    if (*holders != 0)
    {
        rl_assert_failed(__FILE__, __LINE__, "lock taken twice: a doorbell ran inside a critical section");
    }
    *holders = 1;
}

void env_unlock_mutex(void *lock)
{
    int32_t *holders = lock;
    *holders = 0;
}

int32_t env_create_sync_lock(void **lock, int32_t state)
{
    return env_create_mutex(lock, state);
}

void env_delete_sync_lock(void *lock)
{
    env_delete_mutex(lock);
}

void env_sleep_msec(uint32_t num_msec)
{
    platform_time_delay(num_msec);
}

void env_register_isr(uint32_t vector_id, void *data)
{
    RL_ASSERT(vector_id < RL_PLATFORM_MAX_ISR_COUNT);
    isr_data[vector_id] = data;
}

void env_unregister_isr(uint32_t vector_id)
{
    RL_ASSERT(vector_id < RL_PLATFORM_MAX_ISR_COUNT);
    isr_data[vector_id] = NULL;
}

void env_enable_interrupt(uint32_t vector_id)
{
    (void)platform_interrupt_enable(vector_id);
}

void env_disable_interrupt(uint32_t vector_id)
{
    (void)platform_interrupt_disable(vector_id);
}

void env_map_memory(uint32_t pa, uint32_t va, uint32_t size, uint32_t flags)
{
    platform_map_mem_region(va, pa, size, flags);
}

uint64_t env_get_timestamp(void)
{
    return host_now_us();
}

void env_disable_cache(void)
{
}

void env_cache_flush(void *data, uint32_t len)
{
    (void)data;
    (void)len;
}

void env_cache_invalidate(void *data, uint32_t len)
{
    (void)data;
    (void)len;
}

void env_isr(uint32_t vector)
{
    if (vector < RL_PLATFORM_MAX_ISR_COUNT && isr_data[vector] != NULL)
    {
        virtqueue_notification((struct virtqueue *)isr_data[vector]);
    }
}

uint32_t env_wait_for_link_up(volatile uint32_t *link_state, uint32_t link_id, uint32_t timeout_ms)
{
    (void)link_id;
    uint32_t start = host_now_ms();
    while (*link_state != 1U)
    {
        if (timeout_ms != (uint32_t)RL_BLOCK && host_now_ms() - start >= timeout_ms)
        {
            return 0U;
        }
        (void)host_poll(RL_MS_PER_INTERVAL);
    }
    return 1U;
}

void env_tx_callback(uint32_t link_id)
{
    (void)link_id;
}

/* ---- queues: fixed rings of fixed-size elements --------------------- */

struct env_queue
{
    int32_t length;
    int32_t element_size;
    int32_t head;
    int32_t count;
    uint8_t data[];
};

int32_t env_create_queue(void **queue, int32_t length, int32_t element_size)
{
    struct env_queue *q = malloc(sizeof(*q) + (size_t)length * (size_t)element_size);
    if (q == NULL)
    {
        return -1;
    }
    q->length       = length;
    q->element_size = element_size;
    q->head         = 0;
    q->count        = 0;
    *queue          = q;
    return 0;
}

void env_delete_queue(void *queue)
{
    free(queue);
}

/* Returns 1 if the element was queued, 0 if the queue is full (called from
 * the rx callback, so it never waits). */
int32_t env_put_queue(void *queue, void *msg, uintptr_t timeout_ms)
{
    struct env_queue *q = queue;
    (void)timeout_ms;
    if (q->count == q->length)
    {
        return 0;
    }
    int32_t tail = (q->head + q->count) % q->length;
    memcpy(q->data + (size_t)tail * (size_t)q->element_size, msg, (size_t)q->element_size);
    q->count++;
    return 1;
}

/* Returns 1 with the oldest element, 0 after timeout_ms without one. */
int32_t env_get_queue(void *queue, void *msg, uintptr_t timeout_ms)
{
    struct env_queue *q = queue;
    uint32_t start = host_now_ms();
    while (q->count == 0)
    {
        uint32_t waited = host_now_ms() - start;
        if (timeout_ms != RL_BLOCK && waited >= timeout_ms)
        {
            return 0;
        }
        uint32_t left = timeout_ms == RL_BLOCK ? 100U : (uint32_t)timeout_ms - waited;
        (void)host_poll(left > 100U ? 100U : left);
    }
    memcpy(msg, q->data + (size_t)q->head * (size_t)q->element_size, (size_t)q->element_size);
    q->head = (q->head + 1) % q->length;
    q->count--;
    return 1;
}

int32_t env_get_current_queue_size(void *queue)
{
    return ((struct env_queue *)queue)->count;
}
