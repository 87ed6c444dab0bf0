/* blas_env.c - OpenBLAS core selection by re-execution (see blas_env.h). */
#include "blas_env.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *blas_env_wanted(void)
{
    const char *user = getenv("INFUSE_BLAS_CORETYPE");
    if (user && *user)
        return strcasecmp(user, "keep") == 0 ? getenv("OPENBLAS_CORETYPE") : user;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bf16"))
        return "Cooperlake";
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "Haswell";
    return NULL;
}

void blas_env_ensure(char **argv)
{
    const char *want = blas_env_wanted();
    const char *have = getenv("OPENBLAS_CORETYPE");
    int same = want ? (have && strcasecmp(have, want) == 0) : !have;
    const char *threads = getenv("OPENBLAS_NUM_THREADS");
    int threads_ok = threads && strcmp(threads, "1") == 0;
    if ((same && threads_ok) || getenv("INFUSE_BLAS_REEXEC"))
        return;
    if (want)
        setenv("OPENBLAS_CORETYPE", want, 1);
    else
        unsetenv("OPENBLAS_CORETYPE");
    /* Our pool does the threading; OpenBLAS threads would only spin against it. */
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    setenv("INFUSE_BLAS_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    /* exec failed: carry on with whatever kernels are loaded. */
}

const char *blas_env_corename(void)
{
    return openblas_get_corename();
}

void blas_env_single_thread(void)
{
    openblas_set_num_threads(1);
}
