/* cmd_review.c - `infuse review`: the QA store's curation operations for
 * scripts (the workbench's Review pane does the same through qa_store.h).
 *
 * Actions run in the order given, each change journaled as it is made; a
 * run that changed anything ends by compacting the store, so qa.jsonl is
 * current for whoever reads it next. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chat_template.h"
#include "fsutil.h"
#include "qa_checker.h"
#include "qa_corpus.h"
#include "qa_synth.h"
#include "qa_eval.h"
#include "qa_flags.h"
#include "qa_import.h"
#include "qa_record.h"
#include "qa_store.h"
#include "tokenizer.h"

#define USAGE                                                                                                     \
    "usage: infuse review [-c infuse.yaml] [--qa FILE] ACTION...\n"                                               \
    "  --list [--status pending|approved|rejected|deleted] [--flag NAME|any] [--json]\n"                          \
    "  --approve ID...  --reject ID...  --pending ID...  --golden ID...  --ungolden ID...  --delete ID...\n"      \
    "  --edit-question ID TEXT  --edit-answer ID TEXT\n"                                                      \
    "  --import FILE    --export FILE   --flags (recompute quality flags)"

typedef struct Action {
    const char *name;   /* the option */
    const char *arg;    /* an ID or a FILE; NULL for --list / --flags */
    const char *text;   /* --edit-question / --edit-answer: the new text */
} Action;

/* What the length and support checks need, loaded on first use. */
typedef struct FlagCtx {
    int loaded;
    QaChecker c;
} FlagCtx;

static int flag_ctx_load(FlagCtx *f, const Config *cfg)
{
    if (f->loaded)
        return 0;
    Err e;
    if (qa_checker_load(&f->c, cfg, &e) != 0)
        return cli_fail_err(&e);
    f->loaded = 1;
    for (int i = 0; i < f->c.n_notes; i++)
        fprintf(stderr, "infuse: note: %s\n", f->c.notes[i]);
    return 0;
}

static void flag_ctx_free(FlagCtx *f)
{
    if (f->loaded)
        qa_checker_free(&f->c);
}

static int parse_id(const char *opt, const char *s, long *id)
{
    return cli_int(opt, s, 1, 1L << 40, id);
}

static int is_id(const char *s) { return s && *s >= '0' && *s <= '9'; }

/* One line of the list: id, status, golden mark, flags, question start. */
static void list_line(const QaRecord *r)
{
    char flags[128] = "";
    for (int i = 0; i < QA_N_FLAGS; i++)
        if (r->flags & (1u << i))
            snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s%s", flags[0] ? "," : "",
                     qa_flag_name(i));
    char q[96];
    size_t n = 0;
    for (const char *p = r->question; *p && *p != '\n' && n + 1 < 72; p++)
        q[n++] = *p;
    /* Never cut a character in half: back up to the start of the one cut. */
    while (n && ((unsigned char)r->question[n] & 0xC0) == 0x80)
        n--;
    q[n] = 0;
    printf("%6ld  %-8s %s  %-22s %s%s\n", r->id, r->deleted ? "deleted" : qa_status_name(r->status),
           r->golden ? "G" : "-", flags[0] ? flags : "-", q, r->question[n] ? "..." : "");
}

static int do_list(const QaStore *s, const char *status, const char *flag, int json)
{
    unsigned want_flag = 0;
    if (flag && strcmp(flag, "any") != 0 && !(want_flag = qa_flag_parse(flag)))
        return cli_fail("review: --flag: unknown flag \"%s\" (repetition, placeholder, truncated, duplicate, "
                        "near_duplicate, too_long, unsupported or any)", flag);
    QaStatus st = QA_PENDING;
    int deleted = status && strcmp(status, "deleted") == 0;
    if (status && !deleted && qa_status_parse(status, &st) != 0)
        return cli_fail("review: --status: unknown status \"%s\" (pending, approved, rejected or deleted)", status);
    for (size_t i = 0; i < s->n; i++) {
        const QaRecord *r = &s->r[i];
        if (r->deleted != deleted || (status && !deleted && r->status != st))
            continue;
        if (flag && (want_flag ? !(r->flags & want_flag) : !r->flags))
            continue;
        if (json) {
            cJSON *o = qa_record_to_json(r);
            char *t = o ? cJSON_PrintUnformatted(o) : NULL;
            if (t)
                puts(t);
            free(t);
            cJSON_Delete(o);
        } else {
            list_line(r);
        }
    }
    return 0;
}

static int do_import(QaStore *s, const char *file, Err *e)
{
    QaImport im;
    if (qa_import_file(s, file, &im, e) != 0)
        return -1;
    for (size_t i = 0; i < im.n_bad; i++)
        fprintf(stderr, "infuse: warning: %s (line set aside)\n", im.bad[i].why);
    char *rejected = malloc(strlen(s->path) + 10);
    int rc = rejected ? 0 : err_set(e, "out of memory");
    if (rc == 0) {
        sprintf(rejected, "%s.rejected", s->path);
        rc = qa_import_keep_bad(&im, rejected, e);
    }
    if (rc == 0) {
        fprintf(stderr, "infuse: imported %zu pairs from %s", im.n_added, file);
        if (im.n_existing)
            fprintf(stderr, ", %zu already present", im.n_existing);
        if (im.n_bad)
            fprintf(stderr, ", %zu lines set aside in %s", im.n_bad, rejected);
        fputc('\n', stderr);
    }
    free(rejected);
    qa_import_free(&im);
    return rc;
}

/* Pending proposals from the corpus (qa_synth.h); questions the store
 * already has (any status) are not proposed again. */
static int do_synth(QaStore *s, const Config *cfg, Err *e)
{
    if (!cfg->corpus || !fs_exists(cfg->corpus))
        return err_set(e, "synth: no corpus (set data.corpus)");
    QaCorpus c;
    if (qa_corpus_load(&c, cfg->corpus, e) != 0)
        return -1;
    QaProposals p = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c.n; i++)
        rc = qa_synth(&p, c.text[i], c.name[i], e);
    size_t added = 0, kinds[3] = {0};
    for (size_t i = 0; rc == 0 && i < p.n; i++) {
        int known = 0;
        for (size_t k = 0; k < s->n && !known; k++)
            known = strcasecmp(s->r[k].question, p.p[i].question) == 0;
        if (known)
            continue;
        if (qa_add(s, p.p[i].question, p.p[i].answer, p.p[i].source, e) < 0)
            rc = -1;
        else
            added++, kinds[p.p[i].kind]++;
    }
    if (rc == 0)
        fprintf(stderr, "infuse: synth proposed %zu pending pairs (%zu acronyms, %zu definitions, %zu numbers) from %zu documents\n",
                added, kinds[0], kinds[1], kinds[2], c.n);
    qa_proposals_free(&p);
    qa_corpus_free(&c);
    return rc;
}

static int run(QaStore *s, const Config *cfg, const Action *acts, size_t n, const char *status, const char *flag,
               int json)
{
    Err e;
    FlagCtx fc = {0};
    int changed = 0, rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *a = acts[i].name;
        long id = 0;
        if (strcmp(a, "--list") == 0) {
            rc = do_list(s, status, flag, json) ? -1 : 0;
            continue;
        }
        if (strcmp(a, "--export") == 0) {
            size_t count = 0;
            rc = qa_store_export_sft(s, acts[i].arg, QA_EXPORT_APPROVED, &count, &e);
            if (rc == 0)
                fprintf(stderr, "infuse: exported %zu approved pairs to %s\n", count, acts[i].arg);
            else
                cli_fail_err(&e);
            continue;
        }
        if (strcmp(a, "--import") == 0 || strcmp(a, "--flags") == 0 || strcmp(a, "--synth") == 0) {
            changed = 1;
            if (strcmp(a, "--import") == 0 && (rc = do_import(s, acts[i].arg, &e)) != 0) {
                cli_fail_err(&e);
                continue;
            }
            if (strcmp(a, "--synth") == 0 && (rc = do_synth(s, cfg, &e)) != 0) {
                cli_fail_err(&e);
                continue;
            }
            size_t n_changed = 0;
            rc = flag_ctx_load(&fc, cfg) ? -1 : 0;
            if (rc == 0 && (rc = qa_flags_update(s, &fc.c.opts, &n_changed, &e)) != 0)
                cli_fail_err(&e);
            continue;
        }
        if (parse_id(a, acts[i].arg, &id) != 0)
            return 1;
        if (strncmp(a, "--edit-", 7) == 0) {
            if ((rc = qa_edit(s, id, a + 7, acts[i].text, &e)) != 0) {
                cli_fail_err(&e);
                continue;
            }
            /* An edit can raise or clear flags, its own or a duplicate's. */
            size_t n_changed = 0;
            rc = flag_ctx_load(&fc, cfg) ? -1 : 0;
            if (rc == 0 && (rc = qa_flags_update(s, &fc.c.opts, &n_changed, &e)) != 0)
                cli_fail_err(&e);
            changed = 1;
            continue;
        }
        if (strcmp(a, "--approve") == 0)
            rc = qa_set_status(s, id, QA_APPROVED, &e);
        else if (strcmp(a, "--reject") == 0)
            rc = qa_set_status(s, id, QA_REJECTED, &e);
        else if (strcmp(a, "--pending") == 0)
            rc = qa_set_status(s, id, QA_PENDING, &e);
        else if (strcmp(a, "--golden") == 0) /* golden data is approved data */
            rc = qa_set_golden(s, id, 1, &e) || qa_set_status(s, id, QA_APPROVED, &e) ? -1 : 0;
        else if (strcmp(a, "--ungolden") == 0)
            rc = qa_set_golden(s, id, 0, &e);
        else
            rc = qa_delete(s, id, 1, &e);
        if (rc)
            cli_fail_err(&e);
        changed = 1;
    }
    /* Even after a failed action: what was acknowledged is kept. */
    if (changed && qa_store_compact(s, &e) != 0 && rc == 0)
        rc = cli_fail_err(&e) ? -1 : 0;
    flag_ctx_free(&fc);
    return rc ? 1 : 0;
}

int cmd_review(int argc, char **argv)
{
    const char *cfg_path = NULL, *qa_path = NULL, *status = NULL, *flag = NULL;
    int json = 0;
    Action *acts = calloc((size_t)argc + 1, sizeof *acts);
    size_t n = 0;
    if (!acts)
        return cli_fail("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-c") == 0 || strcmp(a, "--qa") == 0 || strcmp(a, "--status") == 0 ||
            strcmp(a, "--flag") == 0 || strcmp(a, "--import") == 0 || strcmp(a, "--export") == 0) {
            if (!next) {
                free(acts);
                return cli_fail("review: %s needs a value", a);
            }
            i++;
            if (strcmp(a, "-c") == 0)
                cfg_path = next;
            else if (strcmp(a, "--qa") == 0)
                qa_path = next;
            else if (strcmp(a, "--status") == 0)
                status = next;
            else if (strcmp(a, "--flag") == 0)
                flag = next;
            else
                acts[n++] = (Action){a, next, NULL};
        } else if (strcmp(a, "--edit-question") == 0 || strcmp(a, "--edit-answer") == 0) {
            if (!is_id(next) || i + 2 >= argc) {
                free(acts);
                return cli_fail("review: %s needs an ID and the new text", a);
            }
            acts[n++] = (Action){a, argv[i + 1], argv[i + 2]};
            i += 2;
        } else if (strcmp(a, "--list") == 0 || strcmp(a, "--flags") == 0 || strcmp(a, "--synth") == 0) {
            acts[n++] = (Action){a, NULL, NULL};
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--approve") == 0 || strcmp(a, "--reject") == 0 || strcmp(a, "--pending") == 0 ||
                   strcmp(a, "--golden") == 0 || strcmp(a, "--ungolden") == 0 || strcmp(a, "--delete") == 0) {
            if (!is_id(next)) {
                free(acts);
                return cli_fail("review: %s needs one or more IDs", a);
            }
            while (is_id(i + 1 < argc ? argv[i + 1] : NULL))
                acts[n++] = (Action){a, argv[++i], NULL};
        } else {
            free(acts);
            return cli_fail("review: unexpected argument \"%s\"\n%s", a, USAGE);
        }
    }
    if (n == 0) {
        free(acts);
        return cli_fail("review: nothing to do\n%s", USAGE);
    }
    Config cfg;
    if (cli_load_config(&cfg, cfg_path) != 0) {
        free(acts);
        return 1;
    }
    if (!qa_path)
        qa_path = cfg.qa;
    if (!qa_path) {
        config_free(&cfg);
        free(acts);
        return cli_fail("review: no QA store: set data.qa in infuse.yaml or pass --qa FILE");
    }
    QaStore s;
    Err e;
    int rc;
    if (qa_store_open(&s, qa_path, &e) != 0) {
        rc = cli_fail_err(&e);
    } else {
        for (size_t i = 0; i < s.n_warnings; i++)
            fprintf(stderr, "infuse: warning: %s\n", s.warnings[i]);
        rc = run(&s, &cfg, acts, n, status, flag, json);
        qa_store_close(&s);
    }
    config_free(&cfg);
    free(acts);
    return rc;
}

/* `infuse synth [-c infuse.yaml] [--qa FILE]`: review --synth. */
int cmd_synth(int argc, char **argv)
{
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args)
        return cli_fail("out of memory");
    args[0] = (char *)"review";
    for (int i = 1; i < argc; i++)
        args[i] = argv[i];
    args[argc] = (char *)"--synth";
    int rc = cmd_review(argc + 1, args);
    free(args);
    return rc;
}
