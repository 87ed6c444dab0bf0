/* rng.h - the engine's seeded random numbers (xoshiro256**, seeded by splitmix64).
 *
 * Every consumer owns its Rng, so results depend only on the seed, never on
 * thread timing. */
#ifndef INFUSE_RNG_H
#define INFUSE_RNG_H

#include <stdint.h>

typedef struct Rng { uint64_t s[4]; } Rng;

void rng_seed(Rng *r, uint64_t seed);
uint64_t rng_next(Rng *r);
/* Uniform in [0, 1). */
double rng_uniform(Rng *r);
/* Standard normal (Box-Muller). */
double rng_normal(Rng *r);

#endif
