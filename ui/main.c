/* main.c - the infuse program: picks the BLAS kernels, then runs a command.
 *
 * With no command it opens the workbench (workbench.h) on the project;
 * every headless command lives in ui/cmd_*.c and returns the process's
 * exit status. */
#include "blas_env.h"
#include "cli.h"
#include "workbench.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    CliFn fn;
    const char *help;
} commands[] = {
    {"generate", cmd_generate, "generate -m MODEL [-p PROMPT | stdin] [--chat] [sampling flags]"},
    {"tokenize", cmd_tokenize, "tokenize -m MODEL [--special] [-v] TEXT   print token ids"},
    {"tokenizer-train", cmd_tokenizer_train,
     "tokenizer-train -o tokenizer.json --vocab-size N [--min-frequency K] [--special TOK]... FILE|FOLDER..."},
    {"info", cmd_info, "info MODEL [--json]           config, parameters, dtypes, memory"},
    {"bench-engine", cmd_bench_engine, "bench-engine -m MODEL [--threads N] [--json]   prefill/decode speed"},
    {"train", cmd_train, "train cpt|sft [-c infuse.yaml] [-m MODEL] [--data PATH]... [--resume] [flags]"},
    {"bench", cmd_bench, "bench [--stages base,cpt,sft] [--eval FILE] [--golden FILE|none] [--json F] [--markdown F]   stage benchmark"},
    {"merge", cmd_merge, "merge -m MODEL [--adapter DIR] -o OUT [--dtype f32|bf16|f16]   fold an adapter in / convert"},
    {"bench-train", cmd_bench_train, "bench-train -m MODEL [--lora-rank R | --full] [--batch B --seq T] [--json]"},
    {"synth", cmd_synth, "synth [-c infuse.yaml]   propose pending QA pairs from the corpus (rule-based)"},
    {"review", cmd_review, "review [-c infuse.yaml] --list | --approve ID... | --reject ID... | --golden ID... | --import FILE | --export FILE"},
    {"corpus-build", cmd_corpus_build, "corpus-build --dict DIR_OR_INDEX... -o OUTDIR [--max-entries N] [--seed S] [--keep FILE]"},
    {"init-model", cmd_init_model, "init-model --shape NAME -o DIR [--dtype f32|bf16|f16] [--seed N]"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: infuse [-c infuse.yaml]      the workbench (Review, Train, Bench, Chat)\n"
               "       infuse COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  infuse %s\n", commands[i].help);
    fprintf(f, "\nEnvironment: INFUSE_BLAS_CORETYPE=NAME|keep chooses OpenBLAS kernels (default: best for this CPU).\n");
}

int main(int argc, char **argv)
{
    blas_env_ensure(argv);
    blas_env_single_thread();
    /* no command: the workbench, on infuse.yaml or -c FILE */
    if (argc < 2)
        return workbench_run(NULL);
    if (argc == 3 && strcmp(argv[1], "-c") == 0)
        return workbench_run(argv[2]);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    /* `infuse CMD --help`: generate has a longer text of its own */
    int help = argc == 3 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0) &&
               strcmp(argv[1], "generate") != 0;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (help) {
                printf("usage: infuse %s\n(every option: README.md, \"Command line\")\n", commands[i].help);
                return 0;
            }
            return commands[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "infuse: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
