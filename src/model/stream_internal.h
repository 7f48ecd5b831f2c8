/*
 * stream_internal.h — the Philox stream's state and an inline reader, shared
 * by stream.c (the gsl_rng type) and model.c (the path sampler's normal
 * draws, which read the same state directly to skip a function-pointer
 * call per word).  Both read the same sequence of words in order.
 */
#ifndef IPABS_STREAM_INTERNAL_H
#define IPABS_STREAM_INTERNAL_H

#include <Random123/philox.h>
#include <gsl/gsl_rng.h>
#include <stdint.h>

/* Blocks computed at a time: Philox's ten rounds are one dependency
 * chain, so independent blocks computed together overlap in the CPU. */
#define PHILOX_BATCH 8

typedef struct philox_state {
    philox4x32_ctr_t ctr; /* v[0..1] path, v[2] next block, v[3] stream tag */
    philox4x32_key_t key; /* the run's seed */
    int next;             /* next unread word of buf */
    uint32_t buf[4 * PHILOX_BATCH];
} philox_state;

/* The words are read block by block, each block's words from the last to
 * the first: word i of the stream is v[3 - i % 4] of block i / 4. */
static inline void philox_refill(philox_state *st)
{
    for (uint32_t b = 0; b < PHILOX_BATCH; b++) {
        philox4x32_ctr_t c = st->ctr;
        c.v[2] += b;
        philox4x32_ctr_t out = philox4x32(c, st->key);
        for (int w = 0; w < 4; w++)
            st->buf[4 * b + 3 - w] = out.v[w];
    }
    st->ctr.v[2] += PHILOX_BATCH;
    st->next = 0;
}

static inline uint32_t philox_next(philox_state *st)
{
    if (st->next == 4 * PHILOX_BATCH)
        philox_refill(st);
    return st->buf[st->next++];
}

#endif
