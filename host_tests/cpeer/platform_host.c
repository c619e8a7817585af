/*
 * Platform layer of the project's C peers on Linux: the host transport
 * contract (see host_port.h and the README) behind rpmsg_platform.h.
 *
 * There are no interrupts: a doorbell is "taken" when the program waits
 * (host_poll, or platform_time_delay inside the library's blocking calls),
 * which reads the FIFO and calls env_isr() for each vector, like an
 * interrupt that can only fire while the core sleeps in WFI. The library
 * never waits while it holds its lock, so a doorbell never lands inside one
 * of its critical sections.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rpmsg_env.h"
#include "host_port.h"

#define BATCH_BYTES 256 /* 64 doorbells per read */
#define MAX_PATH    4096
#define NAME_ROOM   (MAX_PATH + 8) /* path plus ".ready" */

static struct
{
    char path[MAX_PATH];
    int master;
    uint8_t *shm;
    uint32_t size;
    uint32_t pa_base;
    int out_fd; /* the FIFO this side writes */
    int in_fd;  /* the FIFO the peer writes */
    uint32_t dropped;
    uint32_t enabled; /* bit per vector: interrupt enabled */
    uint32_t registered;
    int in_isr;
} host = {.out_fd = -1, .in_fd = -1};

uint64_t host_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint32_t host_now_ms(void)
{
    return (uint32_t)(host_now_us() / 1000u);
}

static void suffixed(char *out, const char *suffix)
{
    snprintf(out, NAME_ROOM, "%s%s", host.path, suffix);
}

static int open_fifo(const char *suffix)
{
    char name[NAME_ROOM];
    suffixed(name, suffix);
    if (mkfifo(name, 0600) != 0 && errno != EEXIST)
    {
        perror(name);
        return -1;
    }
    /* Read-write: open() does not wait for the other end, and what is
     * written before the peer listens stays in the pipe, like a pending
     * mailbox interrupt. Non-blocking: a full pipe never stalls a sender. */
    int fd = open(name, O_RDWR | O_NONBLOCK);
    if (fd < 0)
    {
        perror(name);
    }
    return fd;
}

void *host_open(const char *path, uint32_t size, int master, uint32_t pa_base, uint32_t wait_ms)
{
    char name[NAME_ROOM];
    if (strlen(path) + 8 >= MAX_PATH)
    {
        fprintf(stderr, "path too long\n");
        return NULL;
    }
    strcpy(host.path, path);
    host.master   = master;
    host.size     = size;
    host.pa_base  = pa_base;
    suffixed(name, ".ready");
    if (master)
    {
        (void)unlink(name);
    }
    else
    {
        uint32_t start = host_now_ms();
        while (access(name, F_OK) != 0)
        {
            if (host_now_ms() - start > wait_ms)
            {
                fprintf(stderr, "no master: %s did not appear within %u ms\n", name, wait_ms);
                return NULL;
            }
            usleep(5000);
        }
    }
    int fd = open(path, O_RDWR | (master ? O_CREAT : 0), 0600);
    if (fd < 0)
    {
        perror(path);
        return NULL;
    }
    if (master)
    {
        /* Cut or extend to the exact size, never to 0 first: a remote still
         * mapping the old file would fault past a shrunken end. */
        if (ftruncate(fd, size) != 0)
        {
            perror("ftruncate");
            close(fd);
            return NULL;
        }
    }
    else
    {
        struct stat st;
        if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < size)
        {
            fprintf(stderr, "%s is %lld bytes, the layout needs %u\n", path, (long long)st.st_size, size);
            close(fd);
            return NULL;
        }
    }
    void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
    {
        perror("mmap");
        return NULL;
    }
    host.shm = map;
    if (master)
    {
        memset(host.shm, 0, size);
    }
    host.out_fd = open_fifo(master ? ".m2r" : ".r2m");
    host.in_fd  = open_fifo(master ? ".r2m" : ".m2r");
    if (host.out_fd < 0 || host.in_fd < 0)
    {
        return NULL;
    }
    /* Liveness: held for as long as this process runs. */
    (void)flock(host.out_fd, LOCK_EX | LOCK_NB);
    return host.shm;
}

void host_ready(void)
{
    char name[NAME_ROOM];
    suffixed(name, ".ready");
    int fd = open(name, O_WRONLY | O_CREAT, 0600);
    if (fd >= 0)
    {
        close(fd);
    }
}

int host_poll(uint32_t ms)
{
    uint8_t rx[BATCH_BYTES];
    struct pollfd p = {.fd = host.in_fd, .events = POLLIN};
    int total = 0;
    if (host.in_fd < 0 || poll(&p, 1, (int)ms) <= 0)
    {
        return 0;
    }
    for (;;)
    {
        ssize_t n = read(host.in_fd, rx, sizeof(rx));
        if (n <= 0)
        {
            return total;
        }
        total += (int)(n / 4);
        /* A doorbell means "look at this vring" and the library drains it
         * completely, so repeats within one batch are served once. */
        uint32_t seen = 0;
        for (ssize_t i = 0; i + 3 < n; i += 4)
        {
            uint32_t v = (uint32_t)rx[i] | (uint32_t)rx[i + 1] << 8 | (uint32_t)rx[i + 2] << 16 |
                         (uint32_t)rx[i + 3] << 24;
            if (v >= RL_PLATFORM_MAX_ISR_COUNT || (seen & (1u << v)) != 0)
            {
                continue;
            }
            seen |= 1u << v;
            if ((host.registered & host.enabled & (1u << v)) != 0)
            {
                host.in_isr = 1;
                env_isr(v);
                host.in_isr = 0;
            }
        }
        if (n < (ssize_t)sizeof(rx))
        {
            return total;
        }
    }
}

int host_peer_alive(void)
{
    if (flock(host.in_fd, LOCK_SH | LOCK_NB) == 0)
    {
        (void)flock(host.in_fd, LOCK_UN);
        return 0;
    }
    return 1;
}

uint32_t host_dropped(void)
{
    return host.dropped;
}

void host_close(void)
{
    char name[NAME_ROOM];
    if (host.master)
    {
        suffixed(name, ".ready");
        (void)unlink(name);
    }
    if (host.out_fd >= 0)
    {
        close(host.out_fd);
    }
    if (host.in_fd >= 0)
    {
        close(host.in_fd);
    }
    host.out_fd = host.in_fd = -1;
    if (host.shm != NULL)
    {
        munmap(host.shm, host.size);
        host.shm = NULL;
    }
}

/* ---- rpmsg_platform.h ------------------------------------------------- */

int32_t platform_init_interrupt(uint32_t vector_id, void *isr_data)
{
    env_register_isr(vector_id, isr_data);
    host.registered |= 1u << vector_id;
    return 0;
}

int32_t platform_deinit_interrupt(uint32_t vector_id)
{
    host.registered &= ~(1u << vector_id);
    host.enabled &= ~(1u << vector_id);
    env_unregister_isr(vector_id);
    return 0;
}

int32_t platform_interrupt_enable(uint32_t vector_id)
{
    host.enabled |= 1u << vector_id;
    return 0;
}

int32_t platform_interrupt_disable(uint32_t vector_id)
{
    host.enabled &= ~(1u << vector_id);
    return 0;
}

int32_t platform_in_isr(void)
{
    return host.in_isr;
}

void platform_notify(uint32_t vector_id)
{
    uint8_t word[4] = {(uint8_t)vector_id, (uint8_t)(vector_id >> 8), (uint8_t)(vector_id >> 16),
                       (uint8_t)(vector_id >> 24)};
    /* 4 bytes < PIPE_BUF: written whole or not at all. */
    if (write(host.out_fd, word, sizeof(word)) != (ssize_t)sizeof(word))
    {
        host.dropped++;
    }
}

void platform_time_delay(uint32_t num_msec)
{
    /* Sleep like WFI: until the time is up or a doorbell was served (the
     * library's wait loops check their condition again after each call). */
    uint64_t end = host_now_us() + (uint64_t)num_msec * 1000u;
    for (;;)
    {
        uint64_t now = host_now_us();
        if (now >= end)
        {
            return;
        }
        if (host_poll((uint32_t)((end - now + 999u) / 1000u)) > 0)
        {
            return;
        }
    }
}

void platform_map_mem_region(uint32_t vrt_addr, uint32_t phy_addr, uint32_t size, uint32_t flags)
{
    (void)vrt_addr;
    (void)phy_addr;
    (void)size;
    (void)flags;
}

void platform_cache_all_flush_invalidate(void)
{
}

void platform_cache_disable(void)
{
}

void platform_cache_invalidate(void *data, uint32_t len)
{
    (void)data;
    (void)len;
}

void platform_cache_flush(void *data, uint32_t len)
{
    (void)data;
    (void)len;
}

/* Descriptors carry pa_base + offset into the file (host contract), so the
 * two processes can map it at different addresses. */
uintptr_t platform_vatopa(void *addr)
{
    return (uintptr_t)host.pa_base + (uintptr_t)((uint8_t *)addr - host.shm);
}

void *platform_patova(uintptr_t addr)
{
    /* The library trusts descriptor addresses; a test peer must not: one
     * outside the file is the other side's bug, reported before any access. */
    if (addr < host.pa_base || addr - host.pa_base >= host.size)
    {
        fprintf(stderr, "cpeer: descriptor address 0x%lx outside shared memory [0x%x, +0x%x)\n",
                (unsigned long)addr, host.pa_base, host.size);
        exit(4);
    }
    return host.shm + (addr - host.pa_base);
}

int32_t platform_init(void)
{
    return 0;
}

int32_t platform_deinit(void)
{
    return 0;
}
