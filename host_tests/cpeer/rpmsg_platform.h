/*
 * Platform layer interface of the project's C peers: what the RPMsg-Lite core
 * expects from rpmsg_platform.h (vring placement macros, vector ids, the
 * platform_* calls) plus the host transport calls the peer program uses.
 *
 * Vector ids follow the library's own scheme (rpmsg_lite.c builds them with
 * RL_GET_VQ_ID): 2 * link_id + vring, which is also the 32-bit word the host
 * transport writes into the doorbell FIFOs.
 */
#ifndef RPMSG_PLATFORM_H_
#define RPMSG_PLATFORM_H_

#include <stdint.h>

#ifndef VRING_ALIGN
#define VRING_ALIGN (0x10U)
#endif

#define RL_PLATFORM_ALIGN_UP(v) (((v) + VRING_ALIGN - 1UL) & ~(VRING_ALIGN - 1UL))

#ifndef VRING_SIZE
/* The MCU-to-MCU way (as NXP's imxrt1170 platform header does it): the
 * descriptor table, then sizeof(struct vring_avail) (6, it declares one ring
 * entry) + 2 per buffer + 2, then sizeof(struct vring_used) (12) + 8 per
 * buffer + 2, each rounded up to VRING_ALIGN. */
#define VRING_SIZE                                                    \
    (RL_PLATFORM_ALIGN_UP(16UL * RL_BUFFER_COUNT) +                   \
     RL_PLATFORM_ALIGN_UP(6UL + 2UL * RL_BUFFER_COUNT + 2UL) +        \
     RL_PLATFORM_ALIGN_UP(12UL + 8UL * RL_BUFFER_COUNT + 2UL))
#endif

/* Shared memory taken by the two vrings; the buffers follow. */
#define RL_VRING_OVERHEAD (2UL * VRING_SIZE)

#define RL_PLATFORM_MAX_ISR_COUNT   (32U)
#define RL_PLATFORM_HIGHEST_LINK_ID (0U)
#define RL_PLATFORM_HOST_LINK_ID    (0U)

#define RL_GET_VQ_ID(link_id, queue_id) (((queue_id)&0x1U) | (((link_id) << 1U) & 0xFFFFFFFEU))
#define RL_GET_LINK_ID(id)              (((id)&0xFFFFFFFEU) >> 1U)
#define RL_GET_Q_ID(id)                 ((id)&0x1U)

/* Called by the RPMsg-Lite core and the environment layer. */
int32_t platform_init_interrupt(uint32_t vector_id, void *isr_data);
int32_t platform_deinit_interrupt(uint32_t vector_id);
int32_t platform_interrupt_enable(uint32_t vector_id);
int32_t platform_interrupt_disable(uint32_t vector_id);
int32_t platform_in_isr(void);
void platform_notify(uint32_t vector_id);
void platform_time_delay(uint32_t num_msec);
void platform_map_mem_region(uint32_t vrt_addr, uint32_t phy_addr, uint32_t size, uint32_t flags);
void platform_cache_all_flush_invalidate(void);
void platform_cache_disable(void);
void platform_cache_invalidate(void *data, uint32_t len);
void platform_cache_flush(void *data, uint32_t len);
uintptr_t platform_vatopa(void *addr);
void *platform_patova(uintptr_t addr);
int32_t platform_init(void);
int32_t platform_deinit(void);

#endif /* RPMSG_PLATFORM_H_ */
