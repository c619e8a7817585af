/*
 * RPMsg-Lite configuration of the project's C peers (rpmsg_default_config.h
 * includes this file first; anything left undefined keeps the library's
 * default).
 *
 * Every layout knob comes from the compiler command line so that one set of
 * sources builds one binary per layout (tools/cpeer.py passes them):
 *
 *   -DRL_BUFFER_COUNT=16          buffers per direction (power of two)
 *   -DRL_BUFFER_PAYLOAD_SIZE=496  payload bytes per buffer
 *   -DVRING_ALIGN=0x10            alignment of the used ring
 *   -DVRING_SIZE=0x8000           optional: a fixed vring stride (Linux style);
 *                                 without it rpmsg_platform.h computes it
 *   -DRL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION=1   notify after freeing RX
 *                                 buffers (what a Linux peer needs)
 *
 * Nothing in shared memory records these numbers: both sides must be given
 * the same ones. Not host specific, so a bare-metal build can use it too.
 */
#ifndef RPMSG_CONFIG_H_
#define RPMSG_CONFIG_H_

#ifndef RL_BUFFER_COUNT
#define RL_BUFFER_COUNT (16U)
#endif

#ifndef RL_BUFFER_PAYLOAD_SIZE
#define RL_BUFFER_PAYLOAD_SIZE (496U)
#endif

#ifndef RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION
#define RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION (0)
#endif

/* The peers use the zero-copy calls and the dynamic API. */
#define RL_API_HAS_ZEROCOPY        (1)
#define RL_USE_STATIC_API          (0)
#define RL_USE_ENVIRONMENT_CONTEXT (0)
#define RL_USE_MCMGR_IPC_ISR_HANDLER (0)

/* Polling period of the library's blocking calls (rpmsg_lite_send,
 * rpmsg_lite_alloc_tx_buffer): each period is one env_sleep_msec. */
#define RL_MS_PER_INTERVAL (1)

/* RL_DEBUG_CHECK_BUFFERS stays off: rpmsg_lite_send_nocopy and
 * rpmsg_lite_release_rx_buffer then compare a descriptor's address with the
 * buffer's virtual address, which holds only with identity mapping (the host
 * maps the file anywhere and writes pa_base-relative addresses). */

#ifdef RL_ASSERT_REPORTS
/* The host build: a failed assertion reports and exits instead of spinning
 * forever in RL_HANG, so a test sees it at once. */
void rl_assert_failed(const char *file, int line, const char *expr);
#define RL_ASSERT(x)                                         \
    do                                                       \
    {                                                        \
        if (!(x))                                            \
        {                                                    \
            rl_assert_failed(__FILE__, __LINE__, #x);        \
        }                                                    \
    } while (0)
#endif

#endif /* RPMSG_CONFIG_H_ */
