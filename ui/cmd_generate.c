/* cmd_generate.c - `infuse generate`: stream a model's answer to a prompt.
 *
 * Settings come from the project config (infuse.yaml, or -c FILE) and are
 * overridden by flags.  With --chat the prompt is wrapped in the chat
 * template as one user turn (plus the system prompt) and the template's
 * end-of-turn strings stop generation; without it the prompt is fed as is. */
#include "adapter.h"
#include "chat_template.h"
#include "cli.h"
#include "config.h"
#include "fsutil.h"
#include "generate.h"
#include "model.h"
#include "sampler.h"
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int emit_stdout(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static char *read_stdin(void)
{
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, stdin)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
            cap *= 2;
        }
    }
    if (buf)
        buf[n] = 0;
    return buf;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: infuse generate -m MODEL [-p PROMPT | stdin] [options]\n"
            "  -c FILE            project config (default infuse.yaml if present)\n"
            "  --chat             wrap the prompt in the chat template\n"
            "  --template NAME    chatml | llama3 | plain\n"
            "  --system TEXT      system prompt (with --chat)\n"
            "  --adapter A        a LoRA adapter: a PEFT folder or a stage named in the config\n"
            "  -n, --max-tokens N tokens to generate\n"
            "  --temp T  --top-k K  --top-p P  --repeat-penalty R  --repeat-last-n N  --seed S\n"
            "  --stop TEXT        extra stop string (repeatable)\n"
            "  --threads N  --ctx N  --stats\n");
}

int cmd_generate(int argc, char **argv)
{
    const char *cfg_path = NULL, *model_dir = NULL, *prompt_arg = NULL, *tmpl_name = NULL, *system = NULL;
    const char *adapter_arg = NULL;
    int chat = 0, stats = 0;
    long threads = -1, ctx = 0;
    const char **extra_stops = calloc((size_t)argc + 1, sizeof *extra_stops);
    size_t n_extra = 0;
    /* Sampling flags are parsed after the config is read; remember them. */
    const char *f_temp = NULL, *f_topk = NULL, *f_topp = NULL, *f_rp = NULL, *f_rln = NULL, *f_seed = NULL,
               *f_n = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL(dst) do { if (!v) { free(extra_stops); return cli_fail("generate: %s needs a value", a); } dst = v; i++; } while (0)
        if (strcmp(a, "-c") == 0) VAL(cfg_path);
        else if (strcmp(a, "-m") == 0) VAL(model_dir);
        else if (strcmp(a, "-p") == 0) VAL(prompt_arg);
        else if (strcmp(a, "--template") == 0) VAL(tmpl_name);
        else if (strcmp(a, "--system") == 0) VAL(system);
        else if (strcmp(a, "--adapter") == 0) VAL(adapter_arg);
        else if (strcmp(a, "--chat") == 0) chat = 1;
        else if (strcmp(a, "--stats") == 0) stats = 1;
        else if (strcmp(a, "--temp") == 0) VAL(f_temp);
        else if (strcmp(a, "--top-k") == 0) VAL(f_topk);
        else if (strcmp(a, "--top-p") == 0) VAL(f_topp);
        else if (strcmp(a, "--repeat-penalty") == 0) VAL(f_rp);
        else if (strcmp(a, "--repeat-last-n") == 0) VAL(f_rln);
        else if (strcmp(a, "--seed") == 0) VAL(f_seed);
        else if (strcmp(a, "-n") == 0 || strcmp(a, "--max-tokens") == 0) VAL(f_n);
        else if (strcmp(a, "--stop") == 0) VAL(extra_stops[n_extra++]);
        else if (strcmp(a, "--threads") == 0 || strcmp(a, "-t") == 0) {
            if (cli_int(a, v, 1, 256, &threads)) { free(extra_stops); return 1; }
            i++;
        } else if (strcmp(a, "--ctx") == 0) {
            if (cli_int(a, v, 16, 1 << 20, &ctx)) { free(extra_stops); return 1; }
            i++;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            free(extra_stops);
            return 0;
        } else {
            usage();
            free(extra_stops);
            return cli_fail("generate: unexpected argument \"%s\"", a);
        }
#undef VAL
    }
    Config cfg;
    if (cli_load_config(&cfg, cfg_path)) {
        free(extra_stops);
        return 1;
    }
    int rc = 1;
    char *owned_prompt = NULL, *rendered = NULL;
    Tokenizer *tok = NULL;
    Model m;
    int have_model = 0, have_state = 0, have_sampler = 0, have_lora = 0;
    Lora lora;
    Pool *pool = NULL;
    RunState s;
    Sampler smp;
    TokIds ids = {0};
    Err e;
    SamplerParams sp;
    config_sampler_params(&cfg, &sp);
    long max_tokens = cfg.max_tokens;
    double dv;
    long lv;
    if ((f_temp && (cli_float("--temp", f_temp, &dv) || (sp.temperature = (float)dv, 0))) ||
        (f_topk && (cli_int("--top-k", f_topk, 0, 1 << 30, &lv) || (sp.top_k = (int)lv, 0))) ||
        (f_topp && (cli_float("--top-p", f_topp, &dv) || (sp.top_p = (float)dv, 0))) ||
        (f_rp && (cli_float("--repeat-penalty", f_rp, &dv) || (sp.repeat_penalty = (float)dv, 0))) ||
        (f_rln && (cli_int("--repeat-last-n", f_rln, 0, 1 << 30, &lv) || (sp.repeat_last_n = (int)lv, 0))) ||
        (f_seed && (cli_int("--seed", f_seed, 0, 1L << 62, &lv) || (sp.seed = (uint64_t)lv, 0))) ||
        (f_n && cli_int("--max-tokens", f_n, 1, 1 << 20, &max_tokens)))
        goto out;
    ChatTemplate tmpl = cfg.chat_template;
    if (tmpl_name && chat_template_parse(tmpl_name, &tmpl, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    if (!system)
        system = cfg.system_prompt;
    if (!model_dir)
        model_dir = cfg.model;
    if (!model_dir) {
        cli_fail("generate: no model: pass -m MODEL or set model: in infuse.yaml");
        goto out;
    }
    const char *prompt = prompt_arg;
    if (!prompt) {
        if (isatty(0))
            fprintf(stderr, "infuse: reading the prompt from standard input (end with Ctrl-D)\n");
        prompt = owned_prompt = read_stdin();
        if (!prompt) {
            cli_fail("generate: cannot read standard input");
            goto out;
        }
    }
    char *tok_path = fs_join(model_dir, "tokenizer.json");
    tok = tokenizer_load(tok_path, &e);
    free(tok_path);
    if (!tok) {
        cli_fail_err(&e);
        goto out;
    }
    if (model_load(&m, model_dir, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    have_model = 1;
    const char *text = prompt;
    if (chat) {
        ChatMessage msg = {CHAT_USER, prompt};
        rendered = chat_render(tmpl, system, &msg, 1, 1, NULL, NULL, &e);
        if (!rendered) {
            cli_fail_err(&e);
            goto out;
        }
        text = rendered;
    }
    if (tokenizer_encode(tok, text, strlen(text), chat, &ids, &e) != 0) {
        cli_fail("prompt: %s", e.msg);
        goto out;
    }
    if (ids.n == 0) {
        cli_fail("generate: the prompt is empty");
        goto out;
    }
    pool = pool_new(threads > 0 ? (int)threads : cfg.threads > 0 ? cfg.threads : cli_default_threads());
    if (runstate_init(&s, &m, pool, (int)ctx, 0, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    have_state = 1;
    if (adapter_arg) {
        /* a folder, or the name of a stage in infuse.yaml's adapters */
        const char *dir = fs_is_dir(adapter_arg) ? adapter_arg : config_adapter(&cfg, adapter_arg);
        if (!dir) {
            cli_fail("generate: --adapter %s: no such folder, and no adapter of that name in the config", adapter_arg);
            goto out;
        }
        if (adapter_load(&lora, dir, &m.cfg, NULL, &e) != 0 || runstate_set_lora(&s, &lora, &e) != 0) {
            cli_fail_err(&e);
            goto out;
        }
        have_lora = 1;
    }
    if (sampler_init(&smp, &sp, m.cfg.vocab, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    have_sampler = 1;
    /* Stops: the template's end-of-turn strings (with --chat), the config's and the flags'. */
    const char *stops[64];
    size_t n_stops = 0;
    if (chat)
        for (const char *const *st = chat_template_stops(tmpl); *st && n_stops < 32; st++)
            stops[n_stops++] = *st;
    for (size_t i = 0; i < cfg.n_stop && n_stops < 48; i++)
        stops[n_stops++] = cfg.stop[i];
    for (size_t i = 0; i < n_extra && n_stops < 64; i++)
        stops[n_stops++] = extra_stops[i];
    int32_t eos[GEN_MAX_END_IDS];
    size_t n_eos = gen_end_ids(&m, tok, chat, eos);
    GenParams gp = {(int)max_tokens, stops, n_stops, eos, n_eos};
    GenResult res;
    if (generate(&s, tok, &smp, ids.v, ids.n, &gp, emit_stdout, NULL, &res, &e) != 0) {
        fputc('\n', stdout);
        cli_fail_err(&e);
        goto out;
    }
    fputc('\n', stdout);
    if (stats)
        fprintf(stderr, "infuse: %d prompt tokens in %.3f s (%.1f tokens/s), %d generated in %.3f s (%.1f tokens/s), stopped at %s\n",
                res.n_prompt, res.prefill_s, res.n_prompt / (res.prefill_s > 0 ? res.prefill_s : 1e-9), res.n_gen,
                res.decode_s, res.n_gen / (res.decode_s > 0 ? res.decode_s : 1e-9), gen_stop_name(res.stop));
    rc = 0;
out:
    if (have_lora)
        lora_free(&lora);
    if (have_sampler)
        sampler_free(&smp);
    if (have_state)
        runstate_free(&s);
    pool_delete(pool);
    if (have_model)
        model_free(&m);
    tokids_free(&ids);
    tokenizer_delete(tok);
    free(rendered);
    free(owned_prompt);
    free(extra_stops);
    config_free(&cfg);
    return rc;
}
