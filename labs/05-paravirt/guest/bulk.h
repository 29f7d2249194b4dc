/*
 * bulk.h - the BULK_LEN bytes both bulk guests print: BULK_LINES lines of
 * 64 bytes, "NN " then 60 letters then a newline. pv_bulk_uart.c sends
 * them through the emulated UART, pv_bulk_vq.c through the virtqueue, so
 * minivm's --stats compares the exits each needs per byte.
 */
#ifndef LAB05_BULK_H
#define LAB05_BULK_H

#include "pv.h"

static inline void bulk_fill(char *buf)
{
    for (int line = 0; line < BULK_LINES; line++) {
        char *p = buf + line * (BULK_LEN / BULK_LINES);

        p[0] = (char)('0' + line / 10);
        p[1] = (char)('0' + line % 10);
        p[2] = ' ';
        for (int i = 0; i < 60; i++)
            p[3 + i] = (char)('a' + (line + i) % 26);
        p[63] = '\n';
    }
}

#endif
