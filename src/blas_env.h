/* blas_env.h - making sure OpenBLAS runs its best kernels on this CPU.
 *
 * OpenBLAS chooses its kernels once, when the shared library is loaded,
 * from the environment variable OPENBLAS_CORETYPE (or its own CPU probe when
 * the variable is unset).  Some environments preset the variable to an
 * older core (this project's CI machines say Haswell on an AVX-512 CPU,
 * which halves SGEMM speed).  Since the library is loaded before main()
 * runs, the only cure is to set the variable and execute the program again:
 * blas_env_ensure() does that once, first thing in main().  The user can
 * choose with INFUSE_BLAS_CORETYPE (a core name, or "keep" to leave the
 * environment alone). */
#ifndef INFUSE_BLAS_ENV_H
#define INFUSE_BLAS_ENV_H

/* The core name infuse wants for this CPU ("Cooperlake", "SkylakeX",
 * "Haswell", ...), or NULL to let OpenBLAS probe. */
const char *blas_env_wanted(void);

/* Re-executes /proc/self/exe with argv if OPENBLAS_CORETYPE differs from
 * the wanted core; returns if nothing needs doing or exec failed. */
void blas_env_ensure(char **argv);

/* The kernels OpenBLAS actually loaded (openblas_get_corename). */
const char *blas_env_corename(void);

/* Keeps OpenBLAS on the calling thread: infuse's own pool splits the work. */
void blas_env_single_thread(void);

#endif
