/* dtype.c - names, sizes and bulk conversions of tensor element types. */
#include "dtype.h"

#include <strings.h>

static const struct { const char *name; size_t size; } dtypes[DT_COUNT] = {
    [DT_F32] = {"F32", 4}, [DT_F16] = {"F16", 2}, [DT_BF16] = {"BF16", 2},
    [DT_I32] = {"I32", 4}, [DT_I64] = {"I64", 8}, [DT_U8] = {"U8", 1},
};

size_t dtype_size(DType t) { return dtypes[t].size; }
const char *dtype_name(DType t) { return dtypes[t].name; }

int dtype_from_name(const char *s, DType *t)
{
    for (int i = 0; i < DT_COUNT; i++) {
        if (strcmp(s, dtypes[i].name) == 0) {
            *t = (DType)i;
            return 0;
        }
    }
    return -1;
}

void dtype_to_f32(float *dst, const void *src, DType t, size_t n)
{
    const uint16_t *h = src;
    switch (t) {
    case DT_F32: memcpy(dst, src, n * 4); break;
    case DT_BF16: for (size_t i = 0; i < n; i++) dst[i] = bf16_to_f32(h[i]); break;
    case DT_F16: for (size_t i = 0; i < n; i++) dst[i] = f16_to_f32(h[i]); break;
    default: for (size_t i = 0; i < n; i++) dst[i] = 0; break;
    }
}

void dtype_from_f32(void *dst, const float *src, DType t, size_t n)
{
    uint16_t *h = dst;
    switch (t) {
    case DT_F32: memcpy(dst, src, n * 4); break;
    case DT_BF16: for (size_t i = 0; i < n; i++) h[i] = f32_to_bf16(src[i]); break;
    case DT_F16: for (size_t i = 0; i < n; i++) h[i] = f32_to_f16(src[i]); break;
    default: break;
    }
}

int dtype_parse(const char *s, DType *out)
{
    if (strcasecmp(s, "f32") == 0)
        *out = DT_F32;
    else if (strcasecmp(s, "bf16") == 0)
        *out = DT_BF16;
    else if (strcasecmp(s, "f16") == 0)
        *out = DT_F16;
    else
        return -1;
    return 0;
}
