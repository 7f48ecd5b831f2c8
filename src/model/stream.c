/*
 * stream.c — Philox4x32-10 (Random123) as a gsl_rng type, and the public
 * face of the engine's normals (draw_internal.h).
 *
 * Each path of a run owns streams keyed by the run's seed, with the path
 * index and a kind in the counter: the path's numbers do not depend on
 * which thread draws them or on any other path.  Wrapping the generator as
 * a gsl_rng_type lets GSL's distributions draw from a path's stream (the
 * public ipabs_stream_* functions; the engine itself draws through
 * draw_internal.h).
 */
#include <gsl/gsl_rng.h>
#include <stdint.h>

#include "ipabs/model.h"
#include "draw_internal.h"
#include "stream_internal.h"

/* The latent kind (draw_internal.h) is the stream of ipabs_stream_seek. */
#define STREAM_TAG DRAW_LATENT

static unsigned long philox_get(void *vstate)
{
    return philox_next(vstate);
}

static double philox_get_double(void *vstate)
{
    return ((double)philox_get(vstate) + 0.5) / 4294967296.0;
}

static void philox_set(void *vstate, unsigned long seed)
{
    philox_state *st = vstate;
    st->key.v[0] = (uint32_t)seed;
    st->key.v[1] = (uint32_t)((uint64_t)seed >> 32);
    st->ctr = (philox4x32_ctr_t){{0, 0, 0, STREAM_TAG}};
    st->next = 4 * PHILOX_BATCH;
}

static const gsl_rng_type philox_type = {
    "philox4x32-10", 0xffffffffUL, 0, sizeof(philox_state),
    philox_set, philox_get, philox_get_double};

gsl_rng *ipabs_stream_alloc(void)
{
    return gsl_rng_alloc(&philox_type);
}

void ipabs_stream_seek(gsl_rng *r, uint64_t seed, uint64_t path)
{
    philox_state *st = r->state;
    st->key.v[0] = (uint32_t)seed;
    st->key.v[1] = (uint32_t)(seed >> 32);
    st->ctr = (philox4x32_ctr_t){
        {(uint32_t)path, (uint32_t)(path >> 32), 0, STREAM_TAG}};
    st->next = 4 * PHILOX_BATCH;
}

double ipabs_stream_uniform(const gsl_rng *r)
{
    return philox_get_double(r->state);
}

double ipabs_stream_normal(uint32_t word)
{
    return draw_normal(word);
}

double ipabs_stream_latent_normal(uint64_t seed, uint64_t path, uint32_t j)
{
    return draw_normal_at(seed, path, DRAW_LATENT, j);
}
