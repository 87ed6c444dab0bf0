/* cmd_tokenizer_train.c - `infuse tokenizer-train`: learns a byte-level BPE
 * tokenizer.json from text files (bpe_train.h). */
#include "bpe_train.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const USAGE =
    "usage: infuse tokenizer-train -o tokenizer.json --vocab-size N [--min-frequency K]\n"
    "                              [--special TOKEN]... FILE|FOLDER...";

int cmd_tokenizer_train(int argc, char **argv)
{
    const char *out = NULL;
    long vocab = -1, min_freq = 2;
    /* argv outlives the command, so both lists just borrow its strings. */
    const char **special = calloc((size_t)argc, sizeof *special);
    const char **inputs = calloc((size_t)argc, sizeof *inputs);
    int n_special = 0, n_inputs = 0, rc = 0;
    if (!special || !inputs) {
        free(special);
        free(inputs);
        return cli_fail("out of memory");
    }
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (!v) rc = cli_fail("%s needs a value", a);
            out = v;
            i++;
        } else if (strcmp(a, "--vocab-size") == 0) {
            rc = cli_int(a, v, 1, 1 << 24, &vocab) ? 1 : 0;
            i++;
        } else if (strcmp(a, "--min-frequency") == 0) {
            rc = cli_int(a, v, 1, 0x7fffffff, &min_freq) ? 1 : 0;
            i++;
        } else if (strcmp(a, "--special") == 0) {
            if (!v) rc = cli_fail("%s needs a value", a);
            special[n_special++] = v;
            i++;
        } else if (a[0] == '-' && a[1]) {
            rc = cli_fail("tokenizer-train: unknown option \"%s\"\n%s", a, USAGE);
        } else {
            inputs[n_inputs++] = a;
        }
    }
    if (rc == 0 && (!out || vocab < 0 || n_inputs == 0)) rc = cli_fail("%s", USAGE);
    if (rc) {
        free(special);
        free(inputs);
        return rc;
    }

    double t0 = cli_now();
    Err e;
    BpeTrainer *t = bpe_trainer_new(n_special ? special : NULL, n_special, &e);
    if (!t) rc = cli_fail_err(&e);
    for (int i = 0; i < n_inputs && rc == 0; i++)
        if (bpe_trainer_add_path(t, inputs[i], &e)) rc = cli_fail_err(&e);
    double t1 = cli_now();
    if (rc == 0 && (bpe_trainer_train(t, (int)vocab, (int)min_freq, &e) || bpe_trainer_save(t, out, &e)))
        rc = cli_fail_err(&e);
    if (rc == 0) {
        BpeTrainStats s;
        bpe_trainer_stats(t, &s);
        printf("%s: vocab %d (%d special), %d merges, %ld words (%llu total) from %ld files, %.1f MB in %.1f s"
               " (counting %.1f s)\n",
               out, s.vocab_size, s.n_special, s.n_merges, s.n_unique, (unsigned long long)s.n_words,
               s.n_files, (double)s.n_bytes / 1e6, cli_now() - t0, t1 - t0);
        if (s.vocab_size < vocab)
            fprintf(stderr, "infuse: no pair is left that occurs %ld times or more: vocab %d, not %ld\n",
                    min_freq, s.vocab_size, vocab);
    }
    bpe_trainer_delete(t);
    free(special);
    free(inputs);
    return rc;
}
