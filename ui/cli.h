/* cli.h - shared pieces of the headless commands (infuse COMMAND ...). */
#ifndef INFUSE_CLI_H
#define INFUSE_CLI_H

#include <stddef.h>

#include "err.h"

typedef int (*CliFn)(int argc, char **argv);

int cmd_info(int argc, char **argv);
int cmd_init_model(int argc, char **argv);
int cmd_bench_engine(int argc, char **argv);
int cmd_bench_train(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_tokenizer_train(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_corpus_build(int argc, char **argv);

/* Prints "infuse: MESSAGE" to stderr and returns 1 (the exit status). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_fail_err(const Err *e);
/* Parses a non-negative integer option value; -1 and a message if bad. */
int cli_int(const char *opt, const char *s, long min, long max, long *out);
int cli_float(const char *opt, const char *s, double *out);
/* --threads default: all cores. */
int cli_default_threads(void);
double cli_now(void);
/* Seconds as "MM:SS" or "H:MM:SS" (00:00 for a negative or absurd time). */
void cli_hms(char *buf, size_t n, double s);



#include "config.h"
/* Loads the project config: -c FILE if given (must exist), else
 * infuse.yaml if present, else defaults.  Warnings go to stderr. 0 / 1. */
int cli_load_config(Config *c, const char *path);
#endif
