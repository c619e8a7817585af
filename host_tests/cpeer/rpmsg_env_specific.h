/*
 * Environment-specific types of the project's C peers: the element that
 * rpmsg_queue.c puts into an environment queue (source address, payload
 * pointer, length), as every RPMsg-Lite environment defines it.
 */
#ifndef RPMSG_ENV_SPECIFIC_H_
#define RPMSG_ENV_SPECIFIC_H_

#include <stdint.h>
#include "rpmsg_default_config.h"

typedef struct
{
    uint32_t src;
    void *data;
    uint32_t len;
} rpmsg_queue_rx_cb_data_t;

#endif /* RPMSG_ENV_SPECIFIC_H_ */
