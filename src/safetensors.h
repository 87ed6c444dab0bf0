/* safetensors.h - reading (mmap) and writing (atomic) .safetensors files.
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON mapping each
 * tensor name to {dtype, shape, data_offsets:[begin,end]} (offsets relative
 * to the byte after the header) plus an optional "__metadata__" map of
 * strings, then the data.  The reader checks every offset, size and dtype
 * against the file before handing out a pointer, so a damaged file is an
 * error, never a read out of bounds.  Tensor data stay in the mapping
 * (read-only, shared with the page cache) for the life of the SafeTensors. */
#ifndef INFUSE_SAFETENSORS_H
#define INFUSE_SAFETENSORS_H

#include "dtype.h"
#include "err.h"

#define ST_MAX_DIMS 8

typedef struct StTensor {
    char *name;
    DType dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t nelem;
    const void *data;   /* points into the mapping */
    size_t nbytes;
} StTensor;

typedef struct SafeTensors {
    char *path;
    void *map;
    size_t map_size;
    StTensor *tensors;  /* in file order */
    size_t n;
    char **meta_keys, **meta_vals;  /* "__metadata__" */
    size_t n_meta;
} SafeTensors;

int  safetensors_open(SafeTensors *st, const char *path, Err *e);
void safetensors_close(SafeTensors *st);
const StTensor *safetensors_find(const SafeTensors *st, const char *name);
const char *safetensors_meta(const SafeTensors *st, const char *key);

/* One tensor to write; data has nelem*dtype_size bytes in row-major order. */
typedef struct StWrite {
    const char *name;
    DType dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const void *data;
} StWrite;

/* Writes path atomically: a temporary file beside it, fsync, rename, fsync
 * of the folder.  meta is n_meta key/value pairs (may be 0). */
int safetensors_write(const char *path, const StWrite *t, size_t n,
                      const char *const *meta_keys, const char *const *meta_vals, size_t n_meta, Err *e);

#endif
