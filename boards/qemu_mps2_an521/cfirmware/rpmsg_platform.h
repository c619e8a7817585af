// RPMsg-Lite platform header for QEMU mps2-an521 (included by NXP's
// rpmsg_env.h): the shared-memory layout macros both cores must agree on
// and the platform functions an521_env.c implements. The layout is the
// MCU-to-MCU one of NXP's own platform headers (e.g. lpc55s69, also two
// Cortex-M33): VRING_ALIGN 0x10 and VRING_SIZE computed from the buffer
// count, each of descriptors, avail ring and used ring rounded up to the
// alignment: sizeof(struct vring_avail) is 6 and sizeof(struct vring_used)
// 12 with their one-element arrays (virtio_ring.h) (rpmsg_lite.c rpmsg_lite_master_init places vring 1 at
// VRING_SIZE and the buffers after 2 * VRING_SIZE).
#ifndef RPMSG_PLATFORM_H_
#define RPMSG_PLATFORM_H_

#include <stdint.h>

#ifndef VRING_ALIGN
#define VRING_ALIGN (0x10U)
#endif
#define AN521_ALIGN_UP(x) (((x) + VRING_ALIGN - 1UL) & ~(VRING_ALIGN - 1UL))
#ifndef VRING_SIZE
#define VRING_SIZE                                                   \
    (AN521_ALIGN_UP(RL_BUFFER_COUNT * 16UL) +                       \
     AN521_ALIGN_UP(6UL + RL_BUFFER_COUNT * 2UL + 2UL) +            \
     AN521_ALIGN_UP(12UL + RL_BUFFER_COUNT * 8UL + 2UL))
#endif
#define RL_VRING_OVERHEAD (2UL * VRING_SIZE)

// Vector id = (link_id << 1) | queue id; MHU0 has 4 doorbell bits, so
// links 0 and 1.
#define RL_GET_VQ_ID(link_id, queue_id) (((queue_id) & 0x1U) | (((link_id) << 1U) & 0xFFFFFFFEU))
#define RL_GET_LINK_ID(id) (((id) & 0xFFFFFFFEU) >> 1U)
#define RL_GET_Q_ID(id) ((id) & 0x1U)
#define RL_PLATFORM_HIGHEST_LINK_ID (1U)
#define RL_PLATFORM_MAX_ISR_COUNT (4U)

int32_t platform_init_interrupt(uint32_t vector_id, void *isr_data);
int32_t platform_deinit_interrupt(uint32_t vector_id);
int32_t platform_interrupt_enable(uint32_t vector_id);
int32_t platform_interrupt_disable(uint32_t vector_id);
int32_t platform_in_isr(void);
void platform_notify(uint32_t vector_id);
int32_t platform_init(void);
int32_t platform_deinit(void);

#endif
