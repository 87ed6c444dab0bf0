/* cmd_merge.c - `infuse merge`: base model + adapter -> a new model folder.
 *
 * The result is an ordinary Hugging Face folder (config.json,
 * model.safetensors, the tokenizer files) that any tool can load without
 * knowing about the adapter, e.g. llama.cpp's converter.  Without an
 * adapter it converts a model folder to another dtype. */
#include "adapter.h"
#include "cli.h"
#include "fsutil.h"
#include "model.h"
#include "model_params.h"

#include <stdio.h>
#include <string.h>

int cmd_merge(int argc, char **argv)
{
    const char *base_dir = NULL, *adapter_dir = NULL, *out = NULL, *dt_name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-m") == 0 && v)
            base_dir = argv[++i];
        else if (strcmp(a, "--adapter") == 0 && v)
            adapter_dir = argv[++i];
        else if (strcmp(a, "-o") == 0 && v)
            out = argv[++i];
        else if (strcmp(a, "--dtype") == 0 && v)
            dt_name = argv[++i];
        else
            return cli_fail("merge: unexpected argument \"%s\"", a);
    }
    if (!base_dir || !out)
        return cli_fail("usage: infuse merge -m MODEL [--adapter DIR] -o OUT [--dtype f32|bf16|f16]");
    Err e;
    Model base, m;
    Lora l;
    if (model_load(&base, base_dir, &e) != 0)
        return cli_fail_err(&e);
    DType dt = base.dtype;
    if (dt_name && dtype_parse(dt_name, &dt) != 0) {
        model_free(&base);
        return cli_fail("merge: --dtype must be f32, bf16 or f16 (got \"%s\")", dt_name);
    }
    int rc = model_clone_f32(&m, &base, 0, &e);
    if (rc == 0 && !adapter_dir) {
        /* no adapter: a copy in another dtype */
        const char *k[] = {"format"}, *v[] = {"pt"};
        rc = model_save(&m, out, dt, k, v, 1, &e) || model_copy_tokenizer(base_dir, out, &e);
    } else if (rc == 0 && (rc = adapter_load(&l, adapter_dir, &base.cfg, NULL, &e)) == 0) {
        char hash[65] = "";
        adapter_hash(adapter_dir, hash, &e);
        const char *k[] = {"format", "infuse_merged_adapter_sha256"};
        const char *v[] = {"pt", hash};
        rc = model_merge_lora(&m, &l, &e) || model_save(&m, out, dt, k, v, 2, &e) ||
             model_copy_tokenizer(base_dir, out, &e);
        lora_free(&l);
    }
    if (m.layers)
        model_free(&m);
    model_free(&base);
    if (rc)
        return cli_fail_err(&e);
    if (adapter_dir)
        printf("merged %s into %s: %s (%s)\n", adapter_dir, base_dir, out, dtype_name(dt));
    else
        printf("copied %s to %s (%s)\n", base_dir, out, dtype_name(dt));
    return 0;
}
