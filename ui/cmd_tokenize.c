/* cmd_tokenize.c - `infuse tokenize -m MODEL TEXT`: the ids a model sees. */
#include "cli.h"
#include "fsutil.h"
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_tokenize(int argc, char **argv)
{
    const char *model_dir = NULL, *text = NULL;
    int special = 0, verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
            model_dir = argv[++i];
        else if (strcmp(argv[i], "--special") == 0)
            special = 1;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (!text)
            text = argv[i];
        else
            return cli_fail("tokenize: unexpected argument \"%s\"", argv[i]);
    }
    if (!model_dir || !text)
        return cli_fail("usage: infuse tokenize -m MODEL [--special] [-v] TEXT");
    Err e;
    /* MODEL may be a model folder or a tokenizer.json itself. */
    char *path = fs_is_dir(model_dir) ? fs_join(model_dir, "tokenizer.json") : strdup(model_dir);
    Tokenizer *t = tokenizer_load(path, &e);
    free(path);
    if (!t)
        return cli_fail_err(&e);
    TokIds ids = {0};
    int rc = 0;
    if (tokenizer_encode(t, text, strlen(text), special, &ids, &e) != 0) {
        rc = cli_fail("text: %s", e.msg);
    } else {
        for (size_t i = 0; i < ids.n; i++) {
            if (verbose) {
                size_t n;
                const char *b = tokenizer_token_bytes(t, ids.v[i], &n);
                printf("%d\t", ids.v[i]);
                for (size_t k = 0; k < n; k++) {
                    unsigned char c = (unsigned char)b[k];
                    if (c < 32 || c == 127)
                        printf("\\x%02x", c);
                    else
                        putchar(c);
                }
                putchar('\n');
            } else {
                printf("%s%d", i ? " " : "", ids.v[i]);
            }
        }
        if (!verbose)
            putchar('\n');
    }
    tokids_free(&ids);
    tokenizer_delete(t);
    return rc;
}
