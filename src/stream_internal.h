/*
 * stream_internal.h — the Philox stream's state and an inline reader, shared
 * by stream.c (the gsl_rng type) and model.c (the path sampler's normal
 * draws, which read the same state directly to skip a function-pointer
 * call per word).  Both read the same sequence of words in order.
 */
#ifndef IPABS_STREAM_INTERNAL_H
#define IPABS_STREAM_INTERNAL_H

#include <Random123/philox.h>
#include <stdint.h>

typedef struct philox_state {
    philox4x32_ctr_t ctr; /* v[0..1] path, v[2] block, v[3] stream tag */
    philox4x32_key_t key; /* the run's seed */
    philox4x32_ctr_t out;
    int left;             /* unread words in out */
} philox_state;

static inline uint32_t philox_next(philox_state *st)
{
    if (st->left == 0) {
        st->out = philox4x32(st->ctr, st->key);
        st->ctr.v[2]++;
        st->left = 4;
    }
    return st->out.v[--st->left];
}

#endif
