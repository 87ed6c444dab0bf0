/* dtype.h - element types of stored tensors and their conversion to F32.
 *
 * Weights may be stored as F32, F16 or BF16; the engine computes in F32.
 * Conversions are inline so that kernels can use them on their hot paths. */
#ifndef INFUSE_DTYPE_H
#define INFUSE_DTYPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum DType { DT_F32, DT_F16, DT_BF16, DT_I32, DT_I64, DT_U8, DT_COUNT } DType;

size_t dtype_size(DType t);
const char *dtype_name(DType t);
/* "f32", "bf16" or "f16" in any letter case (the weight dtypes a model can be
 * saved in); -1 for anything else. */
int dtype_parse(const char *s, DType *out);            /* safetensors spelling: "F32", "BF16", ... */
int dtype_from_name(const char *s, DType *t); /* 0 on success, -1 if unknown */

static inline float bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Round to nearest even, as torch does; NaN stays NaN. */
static inline uint16_t f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static inline float f16_to_f32(uint16_t h)
{
    _Float16 f;
    memcpy(&f, &h, 2);
    return (float)f;
}

static inline uint16_t f32_to_f16(float f)
{
    _Float16 h = (_Float16)f;
    uint16_t u;
    memcpy(&u, &h, 2);
    return u;
}

/* Converts n elements of type t at src to F32 at dst. */
void dtype_to_f32(float *dst, const void *src, DType t, size_t n);
/* Converts n F32 values to type t (F32, F16 or BF16). */
void dtype_from_f32(void *dst, const float *src, DType t, size_t n);

#endif
