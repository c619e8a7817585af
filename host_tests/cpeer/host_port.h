/*
 * The host transport of the project's C peers, as the README's "Host
 * transport contract" describes it: a shared file mapped by both processes
 * and two named FIFOs carrying 4-byte doorbell words (FILE.m2r, FILE.r2m).
 * platform_host.c implements it together with the platform_* calls of
 * rpmsg_platform.h; the peer program uses the calls below.
 */
#ifndef HOST_PORT_H_
#define HOST_PORT_H_

#include <stdint.h>

/* Map FILE (size bytes) and open its doorbells. The master creates, sizes
 * and zeroes the file; the remote first waits up to wait_ms for FILE.ready.
 * Descriptors hold pa_base + offset. Returns the mapping or NULL (errno and
 * a message on stderr). */
void *host_open(const char *path, uint32_t size, int master, uint32_t pa_base, uint32_t wait_ms);

/* The master's "rings are formatted" sign: creates FILE.ready. */
void host_ready(void);

/* Wait up to ms for doorbells and deliver each one (env_isr). Returns how
 * many notifications were read (0 on timeout). */
int host_poll(uint32_t ms);

/* 1 while the peer holds the lock on the FIFO it writes (liveness). */
int host_peer_alive(void);

/* Unmap, close, and (master) remove FILE.ready. */
void host_close(void);

/* Notifications that found the peer's FIFO full (the peer is far behind;
 * it scans the rings when it gets to them, so nothing is lost). */
uint32_t host_dropped(void);

/* Monotonic microseconds and milliseconds. */
uint64_t host_now_us(void);
uint32_t host_now_ms(void);

/* The environment layer's entry for a doorbell (rpmsg_env.h). */
void env_isr(uint32_t vector);

#endif /* HOST_PORT_H_ */
