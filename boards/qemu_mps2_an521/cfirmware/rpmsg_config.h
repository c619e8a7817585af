// RPMsg-Lite configuration of this project's C firmware for QEMU mps2-an521
// (read by NXP's rpmsg_default_config.h). The MicroPython side must use the
// same numbers: rl_mps2_an521.AN521Port's default Config(buffer_count=16,
// payload_size=496, vring_align=0x10), VRING_SIZE computed.
#ifndef RPMSG_CONFIG_H_
#define RPMSG_CONFIG_H_

#ifndef RL_BUFFER_COUNT
#define RL_BUFFER_COUNT (16U)
#endif
#define RL_BUFFER_PAYLOAD_SIZE (496U)
#define RL_API_HAS_ZEROCOPY (1)
#define RL_USE_STATIC_API (0)
#define RL_USE_ENVIRONMENT_CONTEXT (0)
#define RL_USE_MCMGR_IPC_ISR_HANDLER (0)
#define RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION (0)
#define RL_MS_PER_INTERVAL (1)

#endif
