/* cmd_init_model.c - `infuse init-model`: a random model folder at a known shape.
 *
 * With --tokenizer the folder gets that tokenizer.json, the vocabulary is
 * sized to it and the end-of-sequence ids are its <|endoftext|> and
 * <|im_end|>: the starting point of a base model trained from scratch. */
#include "cli.h"
#include "fsutil.h"
#include "model_init.h"
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cmd_init_model(int argc, char **argv)
{
    const char *shape = "tiny", *out = NULL, *dt = "f32", *tok_path = NULL;
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
        else if (strcmp(a, "--tokenizer") == 0 && v)
            tok_path = argv[++i];
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
        return cli_fail("usage: infuse init-model --shape smollm2-135m|base|base-large|small|tiny -o DIR [--dtype f32|bf16|f16] "
                        "[--seed N] [--tokenizer tokenizer.json]");
    ModelConfig c;
    if (model_init_preset(&c, shape) != 0)
        return cli_fail("init-model: unknown shape \"%s\" (smollm2-135m, base, base-large, small, tiny)", shape);
    Err e;
    if (tok_path) {
        Tokenizer *tok = tokenizer_load(tok_path, &e);
        if (!tok)
            return cli_fail_err(&e);
        c.vocab = tokenizer_vocab_size(tok);
        c.n_eos = 0;
        c.bos_id = -1;
        static const char *const ends[] = {"<|endoftext|>", "<|im_end|>"};
        for (int i = 0; i < 2; i++) {
            int id = tokenizer_token_id(tok, ends[i]);
            if (id >= 0)
                c.eos_ids[c.n_eos++] = id;
        }
        tokenizer_delete(tok);
        if (c.n_eos == 0)
            return cli_fail("%s: no <|endoftext|> token to end sequences with", tok_path);
    }
    DType t;
    if (dtype_parse(dt, &t) != 0)
        return cli_fail("init-model: --dtype must be f32, bf16 or f16, not \"%s\"", dt);
    if (model_init_random(&c, t, (float)std, (uint64_t)seed, out, &e) != 0)
        return cli_fail_err(&e);
    if (tok_path) {
        char *dst = fs_join(out, "tokenizer.json");
        int rc = fs_copy_file(tok_path, dst, &e);
        free(dst);
        if (rc)
            return cli_fail_err(&e);
    }
    printf("wrote %s (%s, %lld parameters, %s)\n", out, shape, model_config_params(&c), dtype_name(t));
    return 0;
}
