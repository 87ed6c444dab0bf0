/* cmd_init_model.c - `infuse init-model`: a random model folder at a known shape. */
#include "cli.h"
#include "model_init.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int cmd_init_model(int argc, char **argv)
{
    const char *shape = "tiny", *out = NULL, *dt = "f32";
    long seed = 0;
    double std = 0.02;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--shape") == 0 && v)
            shape = argv[++i];
        else if (strcmp(a, "-o") == 0 && v)
            out = argv[++i];
        else if (strcmp(a, "--dtype") == 0 && v)
            dt = argv[++i];
        else if (strcmp(a, "--seed") == 0) {
            if (cli_int(a, v, 0, 1L << 62, &seed))
                return 1;
            i++;
        } else if (strcmp(a, "--std") == 0) {
            if (cli_float(a, v, &std))
                return 1;
            i++;
        } else
            return cli_fail("init-model: unexpected argument \"%s\"", a);
    }
    if (!out)
        return cli_fail("usage: infuse init-model --shape smollm2-135m|small|tiny -o DIR [--dtype f32|bf16|f16] [--seed N]");
    ModelConfig c;
    if (model_init_preset(&c, shape) != 0)
        return cli_fail("init-model: unknown shape \"%s\" (smollm2-135m, small, tiny)", shape);
    DType t;
    if (dtype_parse(dt, &t) != 0)
        return cli_fail("init-model: --dtype must be f32, bf16 or f16, not \"%s\"", dt);
    Err e;
    if (model_init_random(&c, t, (float)std, (uint64_t)seed, out, &e) != 0)
        return cli_fail_err(&e);
    printf("wrote %s (%s, %lld parameters, %s)\n", out, shape, model_config_params(&c), dtype_name(t));
    return 0;
}
