/* test_adapter.c - PEFT adapter folders: save/load round trip, the
 * reference's adapters (tests/fixtures/train/, written by
 * tests/ref/make_train_fixtures.py from PEFT's layout, not by infuse),
 * every refusal with its message, F16/BF16 tensors, the file hash.
 *
 * Bad folders are written under a mkdtemp folder in /tmp and removed. */
#include "adapter.h"
#include "fsutil.h"
#include "rng.h"
#include "safetensors.h"
#include "sha256.h"
#include "test.h"

#include <cJSON.h>
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];
static ModelConfig gqa, qwen, headdim;

/* ---- helpers ---- */

static void put(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECKF(f && fwrite(data, 1, n, f) == n && fclose(f) == 0, "cannot write %s", path);
}

static char *path2(const char *dir, const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = path2(dir, de->d_name);
        if (fs_is_dir(p)) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s", p);
            rm_tree(sub);
        } else {
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* A rank-r adapter for c with random A and B (B non-zero, unlike a new one). */
static void random_lora(Lora *l, const ModelConfig *c, int r, float alpha, unsigned targets, uint64_t seed)
{
    Err e = {{0}};
    CHECKF(lora_init(l, c, r, alpha, 0.05f, targets, seed, &e) == 0, "%s", e.msg);
    Rng g;
    rng_seed(&g, seed + 1);
    for (int i = 0; i < l->n_layers; i++)
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            LoraMat *m = lora_mat(l, i, (LoraTarget)t);
            for (int k = 0; m && k < m->out * r; k++)
                m->B[k] = (float)rng_normal(&g);
        }
}

static int same_lora(const Lora *a, const Lora *b)
{
    if (a->rank != b->rank || a->alpha != b->alpha || a->dropout != b->dropout || a->rslora != b->rslora ||
        a->targets != b->targets || a->n_layers != b->n_layers)
        return 0;
    for (int i = 0; i < a->n_layers; i++)
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            const LoraMat *x = lora_mat(a, i, (LoraTarget)t), *y = lora_mat(b, i, (LoraTarget)t);
            if (!x != !y)
                return 0;
            if (x && (x->in != y->in || x->out != y->out ||
                      memcmp(x->A, y->A, sizeof(float) * (size_t)a->rank * (size_t)x->in) != 0 ||
                      memcmp(x->B, y->B, sizeof(float) * (size_t)a->rank * (size_t)x->out) != 0))
                return 0;
        }
    return 1;
}

static const char *const mod_path[LORA_N_TARGETS] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                     "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
                                                     "mlp.down_proj"};

/* The tensors of l as adapter_save names them, for writing variants. */
typedef struct TensorList {
    StWrite w[256];
    char names[256][96];
    size_t n;
} TensorList;

static void tensor_list(TensorList *tl, const Lora *l)
{
    tl->n = 0;
    for (int i = 0; i < l->n_layers; i++)
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            const LoraMat *m = lora_mat(l, i, (LoraTarget)t);
            for (int b = 0; m && b < 2; b++) {
                size_t k = tl->n++;
                snprintf(tl->names[k], sizeof tl->names[k], "base_model.model.model.layers.%d.%s.lora_%c.weight", i,
                         mod_path[t], b ? 'B' : 'A');
                tl->w[k] = (StWrite){.name = tl->names[k], .dtype = DT_F32, .ndim = 2, .data = b ? m->B : m->A};
                tl->w[k].shape[0] = b ? m->out : l->rank;
                tl->w[k].shape[1] = b ? l->rank : m->in;
            }
        }
}

static void write_tensors(const char *dir, const TensorList *tl)
{
    Err e = {{0}};
    CHECKF(safetensors_write(path2(dir, "adapter_model.safetensors"), tl->w, tl->n, NULL, NULL, 0, &e) == 0, "%s",
           e.msg);
}

/* ---- round trip ---- */

static void test_round_trip(void)
{
    Err e = {{0}};
    Lora l, back;
    random_lora(&l, &gqa, 4, 16, LORA_ALL_TARGETS, 7);
    l.rslora = 1;
    AdapterRecord rec = {.stage = "sft", .steps = 123, .tokens = 4567890123L, .train_loss = 1.25,
                         .valid_loss = NAN, .seed = 0xFEDCBA9876543210ull, .elapsed_s = 12.5,
                         .created = "2026-11-23T12:00:00Z"};
    memset(rec.data_sha256, 'a', 64);
    memset(rec.valid_sha256, 'b', 64);
    char *dir = path2(tmp, "rt/nested");  /* save creates missing folders */
    char d[512];
    snprintf(d, sizeof d, "%s", dir);
    CHECKF(adapter_save(&l, d, "models/base", &rec, &e) == 0, "%s", e.msg);
    CHECK(count_files(d) == 2);  /* nothing but the two files: no temporaries left */

    AdapterRecord got;
    memset(&got, 0x55, sizeof got);
    int rc = adapter_load(&back, d, &gqa, &got, &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(same_lora(&l, &back));
        CHECK(lora_scale(&back) == 8.0f);
        lora_free(&back);
    }
    CHECK(strcmp(got.stage, "sft") == 0 && strcmp(got.data_sha256, rec.data_sha256) == 0 &&
          strcmp(got.valid_sha256, rec.valid_sha256) == 0 && strcmp(got.created, rec.created) == 0);
    CHECK(got.steps == 123 && got.tokens == 4567890123L && got.train_loss == 1.25 && isnan(got.valid_loss));
    CHECKF(got.seed == 0xFEDCBA9876543210ull, "seed %llx", (unsigned long long)got.seed);
    CHECK(got.elapsed_s == 12.5);

    /* the config as PEFT would read it */
    char *json = fs_read_all(path2(d, "adapter_config.json"), NULL, &e);
    cJSON *j = json ? cJSON_Parse(json) : NULL;
    CHECK(j != NULL);
    if (j) {
        const cJSON *v;
#define KEY(k) cJSON_GetObjectItemCaseSensitive(j, k)
        CHECK(cJSON_IsString(v = KEY("peft_type")) && strcmp(v->valuestring, "LORA") == 0);
        CHECK(cJSON_IsString(v = KEY("task_type")) && strcmp(v->valuestring, "CAUSAL_LM") == 0);
        CHECK(cJSON_IsString(v = KEY("bias")) && strcmp(v->valuestring, "none") == 0);
        CHECK(cJSON_IsString(v = KEY("base_model_name_or_path")) && strcmp(v->valuestring, "models/base") == 0);
        CHECK(cJSON_IsNumber(v = KEY("r")) && v->valuedouble == 4);
        CHECK(cJSON_IsNumber(v = KEY("lora_alpha")) && v->valuedouble == 16);
        CHECK(cJSON_IsNumber(v = KEY("lora_dropout")) && v->valuedouble == 0.05);  /* not 0.0500000007 */
        CHECK(cJSON_IsTrue(KEY("use_rslora")) && cJSON_IsFalse(KEY("use_dora")));
        CHECK(cJSON_IsFalse(KEY("fan_in_fan_out")) && cJSON_IsTrue(KEY("inference_mode")));
        CHECK(cJSON_IsTrue(KEY("init_lora_weights")) && cJSON_IsNull(KEY("modules_to_save")));
        const char *want[] = {"down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"};
        v = KEY("target_modules");
        CHECK(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 7);
        for (int i = 0; i < 7 && cJSON_IsArray(v); i++) {
            const cJSON *s = cJSON_GetArrayItem(v, i);
            CHECK(cJSON_IsString(s) && strcmp(s->valuestring, want[i]) == 0);
        }
        const cJSON *r = KEY("infuse");
        CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "valid_loss")));
        v = cJSON_GetObjectItemCaseSensitive(r, "seed");
        CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "18364758544493064720") == 0);
#undef KEY
    }
    cJSON_Delete(j);
    free(json);

    /* the tensors: PEFT's names and shapes, F32, "format": "pt" */
    SafeTensors st;
    if (safetensors_open(&st, path2(d, "adapter_model.safetensors"), &e) == 0) {
        CHECK(st.n == (size_t)gqa.n_layers * 14);
        const char *fmt = safetensors_meta(&st, "format");
        CHECK(fmt && strcmp(fmt, "pt") == 0);
        const StTensor *t = safetensors_find(&st, "base_model.model.model.layers.2.mlp.down_proj.lora_A.weight");
        CHECK(t && t->dtype == DT_F32 && t->ndim == 2 && t->shape[0] == 4 && t->shape[1] == 160);
        t = safetensors_find(&st, "base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight");
        CHECK(t && t->ndim == 2 && t->shape[0] == 32 && t->shape[1] == 4 &&
              memcmp(t->data, lora_mat(&l, 0, LORA_K)->B, 32 * 4 * sizeof(float)) == 0);
        safetensors_close(&st);
    } else {
        CHECKF(0, "%s", e.msg);
    }

    /* no record: loads as zeros and NAN; rec may be NULL on both sides */
    Lora sub;
    random_lora(&sub, &qwen, 3, 5.5f, 1u << LORA_Q | 1u << LORA_V | 1u << LORA_DOWN, 9);
    snprintf(d, sizeof d, "%s", path2(tmp, "rt2"));
    CHECKF(adapter_save(&sub, d, NULL, NULL, &e) == 0, "%s", e.msg);
    memset(&got, 0x55, sizeof got);
    rc = adapter_load(&back, d, &qwen, &got, &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(same_lora(&sub, &back));
        CHECK(!lora_mat(&back, 1, LORA_K) && lora_mat(&back, 1, LORA_V) && back.rslora == 0);
        lora_free(&back);
    }
    CHECK(got.stage[0] == 0 && got.created[0] == 0 && got.data_sha256[0] == 0 && got.steps == 0 &&
          got.tokens == 0 && got.seed == 0 && got.elapsed_s == 0 && isnan(got.train_loss) && isnan(got.valid_loss));
    rc = adapter_load(&back, d, &qwen, NULL, &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0)
        lora_free(&back);
    /* saving again over an adapter replaces it */
    CHECKF(adapter_save(&l, d, "x", &rec, &e) == 0, "%s", e.msg);
    rc = adapter_load(&back, d, &gqa, NULL, &e);
    CHECK(rc == 0 && same_lora(&l, &back));
    if (rc == 0)
        lora_free(&back);
    lora_free(&sub);
    lora_free(&l);
}

/* ---- the reference's adapters ---- */

static void test_fixtures(void)
{
    static const struct {
        const char *name;
        const ModelConfig *c;
    } cases[] = {{"tiny-gqa", &gqa}, {"tiny-qwen-bias", &qwen}, {"tiny-headdim-qvd-rslora", &headdim}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char dir[256], file[300], refp[300];
        snprintf(dir, sizeof dir, "tests/fixtures/train/%s/adapter", cases[k].name);
        snprintf(file, sizeof file, "%s/adapter_model.safetensors", dir);
        snprintf(refp, sizeof refp, "tests/fixtures/train/%s/reference.safetensors", cases[k].name);
        Err e = {{0}};
        Lora l;
        AdapterRecord rec;
        int rc = adapter_load(&l, dir, cases[k].c, &rec, &e);
        CHECKF(rc == 0, "%s: %s", cases[k].name, e.msg);
        if (rc != 0)
            continue;
        CHECK(rec.stage[0] == 0 && isnan(rec.train_loss));  /* not made by infuse */
        SafeTensors st, ref;
        if (safetensors_open(&st, file, &e) != 0 || safetensors_open(&ref, refp, &e) != 0) {
            CHECKF(0, "%s", e.msg);
            lora_free(&l);
            continue;
        }
        /* config as the reference recorded it in its own metadata */
        const char *r = safetensors_meta(&ref, "r"), *a = safetensors_meta(&ref, "lora_alpha");
        const char *rs = safetensors_meta(&ref, "use_rslora"), *tm = safetensors_meta(&ref, "target_modules");
        CHECK(r && a && rs && tm);
        if (r && a && rs && tm) {
            CHECK(l.rank == atoi(r) && l.alpha == (float)atof(a) && l.rslora == (strcmp(rs, "true") == 0));
            unsigned want = 0;
            char buf[128];
            snprintf(buf, sizeof buf, "%s", tm);
            for (char *s = strtok(buf, ","); s; s = strtok(NULL, ","))
                want |= 1u << lora_target_parse(s);
            CHECKF(l.targets == want, "%s: targets %x vs %x", cases[k].name, l.targets, want);
        }
        /* every matrix equals its tensor, and every tensor was used */
        TensorList *tl = malloc(sizeof *tl);
        tensor_list(tl, &l);
        CHECK(tl->n == st.n);
        size_t same = 0;
        for (size_t i = 0; i < tl->n; i++) {
            const StTensor *t = safetensors_find(&st, tl->w[i].name);
            same += t && t->dtype == DT_F32 && t->shape[0] == tl->w[i].shape[0] &&
                    t->shape[1] == tl->w[i].shape[1] && memcmp(t->data, tl->w[i].data, t->nbytes) == 0;
        }
        CHECKF(same == tl->n, "%s: %zu of %zu tensors equal", cases[k].name, same, tl->n);
        free(tl);
        safetensors_close(&ref);
        safetensors_close(&st);
        lora_free(&l);
    }
}

/* ---- refusals ---- */

static char good[512];      /* a valid adapter folder for gqa */
static Lora good_l;

/* dir gets good's tensors and its config with key (a.b = key b of object
 * a) set to the JSON value, or removed when value is NULL. */
static void config_case(const char *dir, const char *key, const char *value)
{
    Err e = {{0}};
    CHECK(fs_mkdirs(dir, &e) == 0);
    size_t n;
    char *s = fs_read_all(path2(good, "adapter_model.safetensors"), &n, &e);
    put(path2(dir, "adapter_model.safetensors"), s, n);
    free(s);
    s = fs_read_all(path2(good, "adapter_config.json"), NULL, &e);
    cJSON *root = cJSON_Parse(s), *obj = root;
    free(s);
    char k[64];
    snprintf(k, sizeof k, "%s", key);
    char *dot = strchr(k, '.');
    if (dot) {
        *dot = 0;
        obj = cJSON_GetObjectItemCaseSensitive(root, k);
        memmove(k, dot + 1, strlen(dot + 1) + 1);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
    if (value)
        cJSON_AddItemToObject(obj, k, cJSON_Parse(value));
    s = cJSON_Print(root);
    put(path2(dir, "adapter_config.json"), s, strlen(s));
    free(s);
    cJSON_Delete(root);
}

/* Loading dir for c fails with a one-line message containing file (the
 * file it names) and want; the Lora is left empty. */
static void expect_fail(const char *dir, const ModelConfig *c, const char *file, const char *want, int line)
{
    Err e = {{0}};
    Lora l;
    memset(&l, 0x55, sizeof l);
    AdapterRecord rec;
    int rc = adapter_load(&l, dir, c, &rec, &e);
    char where[600];
    snprintf(where, sizeof where, "%s/%s", dir, file);
    int ok = rc == -1 && strstr(e.msg, want) && strstr(e.msg, file ? where : dir) && !strchr(e.msg, '\n');
    if (!ok) {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: rc %d, message \"%s\", wanted \"%s\" naming %s\n", __FILE__, line, rc, e.msg,
                want, file ? where : dir);
    } else {
        test_passed++;
    }
    CHECK(l.mats == NULL);
    if (rc == 0)
        lora_free(&l);
}
#define EXPECT_FAIL(dir, c, file, want) expect_fail(dir, c, file, want, __LINE__)

static void expect_ok(const char *dir, const ModelConfig *c, int line)
{
    Err e = {{0}};
    Lora l;
    int rc = adapter_load(&l, dir, c, NULL, &e);
    if (rc != 0) {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, line, e.msg);
        return;
    }
    test_passed++;
    lora_free(&l);
}
#define EXPECT_OK(dir, c) expect_ok(dir, c, __LINE__)

static void test_config_errors(void)
{
    static const struct {
        const char *key, *value, *want;
    } bad[] = {
        {"peft_type", NULL, "\"peft_type\" is missing"},
        {"peft_type", "\"IA3\"", "\"peft_type\" is \"IA3\": infuse applies only LORA adapters"},
        {"r", NULL, "\"r\" is missing"},
        {"r", "0", "\"r\" must be a positive whole number, not 0"},
        {"r", "-4", "\"r\" must be a positive whole number, not -4"},
        {"r", "2.5", "\"r\" must be a positive whole number, not 2.5"},
        {"r", "\"4\"", "\"r\" must be a positive whole number, not \"4\""},
        {"use_dora", "true", "\"use_dora\" is true: infuse does not support DoRA"},
        {"rank_pattern", "{\"q_proj\": 8}", "\"rank_pattern\" is {\"q_proj\":8}: infuse does not support per-module ranks"},
        {"alpha_pattern", "{\"model.layers.0.self_attn.q_proj\": 32}", "\"alpha_pattern\" is"},
        {"bias", "\"all\"", "\"bias\" is \"all\": only \"none\""},
        {"bias", "\"lora_only\"", "\"bias\" is \"lora_only\""},
        {"modules_to_save", "[\"lm_head\"]", "\"modules_to_save\" is [\"lm_head\"]"},
        {"modules_to_save", "\"embed_tokens\"", "\"modules_to_save\" is"},
        {"layers_to_transform", "[0, 1]", "\"layers_to_transform\" is [0,1]: infuse does not support adapting only some layers"},
        {"layers_to_transform", "0", "\"layers_to_transform\" is 0"},
        {"lora_bias", "true", "\"lora_bias\" is true"},
        {"exclude_modules", "[\"model.layers.0.self_attn.q_proj\"]", "\"exclude_modules\" is"},
        {"init_lora_weights", "\"pissa_niter_4\"", "\"init_lora_weights\" is \"pissa_niter_4\": such an adapter"},
        {"init_lora_weights", "\"olora\"", "\"init_lora_weights\" is \"olora\""},
        {"target_modules", NULL, "\"target_modules\" is missing"},
        {"target_modules", "[]", "\"target_modules\" is empty"},
        {"target_modules", "7", "\"target_modules\" must be a list"},
        {"target_modules", "[\"q_proj\", 1]", "entries must be strings"},
        {"target_modules", "[\"q_proj\", \"c_attn\"]", "unknown target module \"c_attn\""},
        {"target_modules", "[\"lm_head\"]", "unknown target module \"lm_head\""},
        {"target_modules", "[\"q\"]", "unknown target module \"q\""},
        {"target_modules", "\"c_attn\"", "unknown target module \"c_attn\""},
        {"target_modules", "\".*\\\\.(q|v)_proj\"", "is the pattern \".*\\.(q|v)_proj\""},
        {"lora_alpha", "\"16\"", "\"lora_alpha\" must be a number"},
        {"lora_dropout", "1.5", "\"lora_dropout\" must be in [0, 1), not 1.5"},
        {"use_rslora", "\"yes\"", "\"use_rslora\" must be true or false"},
        {"infuse", "[]", "\"infuse\" must be an object"},
        {"infuse.seed", "\"12ab\"", "\"infuse.seed\" must be a whole number"},
        {"infuse.seed", "\"18446744073709551616\"", "\"infuse.seed\" must be"},
        {"infuse.seed", "-1", "\"infuse.seed\" must be"},
        {"infuse.stage", "\"a-very-long-stage-name\"", "\"infuse.stage\" is longer than 15 bytes"},
        {"infuse.steps", "1.5", "\"infuse.steps\" must be a whole number"},
        {"infuse.train_loss", "\"low\"", "\"infuse.train_loss\" must be a number or null"},
    };
    char dir[512];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(dir, sizeof dir, "%s/bad%zu", tmp, i);
        config_case(dir, bad[i].key, bad[i].value);
        expect_fail(dir, &gqa, "adapter_config.json", bad[i].want, (int)i);
        rm_tree(dir);
    }

    /* what PEFT writes that infuse can use */
    static const struct {
        const char *key, *value;
    } fine[] = {
        {"modules_to_save", "[]"}, {"rank_pattern", "{}"}, {"layers_to_transform", "null"},
        {"target_modules", "\"all-linear\""}, {"use_dora", "false"}, {"lora_alpha", NULL},
        {"lora_dropout", NULL}, {"bias", NULL}, {"infuse", NULL}, {"infuse", "null"},
        {"infuse.seed", "123456789"}, {"infuse.valid_loss", "2.5"}, {"task_type", "\"SEQ_2_SEQ_LM\""},
        {"loftq_config", "{}"}, {"init_lora_weights", "\"gaussian\""}, {"init_lora_weights", "false"}, {"megatron_core", "\"megatron.core\""}, {"eva_config", "null"},
        {"target_modules", "[\"v_proj\", \"q_proj\", \"up_proj\", \"k_proj\", \"down_proj\", \"o_proj\", "
                           "\"gate_proj\", \"q_proj\"]"},
    };
    for (size_t i = 0; i < sizeof fine / sizeof *fine; i++) {
        snprintf(dir, sizeof dir, "%s/fine%zu", tmp, i);
        config_case(dir, fine[i].key, fine[i].value);
        expect_ok(dir, &gqa, 1000 + (int)i);
        rm_tree(dir);
    }

    /* defaults of PEFT for omitted keys */
    snprintf(dir, sizeof dir, "%s/defaults", tmp);
    config_case(dir, "lora_alpha", NULL);
    Err e = {{0}};
    Lora l;
    AdapterRecord rec;
    if (adapter_load(&l, dir, &gqa, &rec, &e) == 0) {
        CHECK(l.alpha == 8);
        lora_free(&l);
    }
    rm_tree(dir);
    config_case(dir, "infuse.seed", "123456789");
    if (adapter_load(&l, dir, &gqa, &rec, &e) == 0) {
        CHECK(rec.seed == 123456789 && rec.steps == 123);
        lora_free(&l);
    }
    rm_tree(dir);

    /* malformed JSON: the line is named */
    snprintf(dir, sizeof dir, "%s/malformed", tmp);
    config_case(dir, "r", "4");
    const char *broken = "{\n  \"peft_type\": \"LORA\",\n  \"r\": 4,,\n}\n";
    put(path2(dir, "adapter_config.json"), broken, strlen(broken));
    EXPECT_FAIL(dir, &gqa, "adapter_config.json:3: malformed JSON", "malformed JSON");
    put(path2(dir, "adapter_config.json"), "[1, 2]", 6);
    EXPECT_FAIL(dir, &gqa, "adapter_config.json", "not a JSON object");
    put(path2(dir, "adapter_config.json"), "", 0);
    EXPECT_FAIL(dir, &gqa, "adapter_config.json", "malformed JSON");
    rm_tree(dir);
}

static void test_file_errors(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/files", tmp);
    EXPECT_FAIL(dir, &gqa, NULL, "no such adapter folder");
    config_case(dir, "r", "4");
    unlink(path2(dir, "adapter_config.json"));
    EXPECT_FAIL(dir, &gqa, "adapter_config.json", "missing (not a PEFT adapter folder?)");
    config_case(dir, "r", "4");
    unlink(path2(dir, "adapter_model.safetensors"));
    EXPECT_FAIL(dir, &gqa, "adapter_model.safetensors", "missing (not a PEFT adapter folder?)");
    put(path2(dir, "adapter_model.bin"), "PK", 2);
    EXPECT_FAIL(dir, &gqa, NULL, "only the PyTorch pickle adapter_model.bin");
    unlink(path2(dir, "adapter_model.bin"));
    put(path2(dir, "adapter_model.safetensors"), "\x10\0\0\0\0\0\0\0{\"a\":", 13);
    EXPECT_FAIL(dir, &gqa, "adapter_model.safetensors", "truncated");
    rm_tree(dir);
}

static void test_tensor_errors(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tensors", tmp);
    config_case(dir, "r", "4");
    TensorList *tl = malloc(sizeof *tl);
    const char *down_b = "base_model.model.model.layers.2.mlp.down_proj.lora_B.weight";

    /* a tensor missing */
    tensor_list(tl, &good_l);
    tl->n--;
    write_tensors(dir, tl);
    EXPECT_FAIL(dir, &gqa, "adapter_model.safetensors", "tensor \"base_model.model.model.layers.2.mlp.down_proj.lora_B.weight\" is missing");

    /* an extra tensor: another module, a layer the model lacks, PEFT's in-memory name */
    static float zeros[4 * 320];
    const char *extra[][2] = {
        {"base_model.model.lm_head.lora_A.weight", "unexpected tensor \"base_model.model.lm_head.lora_A.weight\""},
        {"base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight", "unexpected tensor"},
        {"base_model.model.model.layers.0.self_attn.q_proj.lora_embedding_A", "unexpected tensor"},
        {"base_model.model.model.layers.01.self_attn.q_proj.lora_A.weight", "unexpected tensor"},
        {"model.layers.0.self_attn.q_proj.lora_A.weight", "unexpected tensor"},
        {"base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight",
         "tensor \"base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight\" is for layer 3, but the base "
         "model has 3 layers"},
    };
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++) {
        tensor_list(tl, &good_l);
        tl->w[tl->n++] = (StWrite){.name = extra[i][0], .dtype = DT_F32, .ndim = 2, .shape = {4, 64}, .data = zeros};
        write_tensors(dir, tl);
        expect_fail(dir, &gqa, "adapter_model.safetensors", extra[i][1], 2000 + (int)i);
    }

    /* the same name twice */
    tensor_list(tl, &good_l);
    tl->w[tl->n] = tl->w[3];
    tl->n++;
    write_tensors(dir, tl);
    EXPECT_FAIL(dir, &gqa, "adapter_model.safetensors", "appears twice");

    /* dtype and rank of one tensor */
    tensor_list(tl, &good_l);
    tl->w[tl->n - 1].dtype = DT_I32;
    write_tensors(dir, tl);
    EXPECT_FAIL(dir, &gqa, "adapter_model.safetensors", "is I32 (F32, F16 or BF16 expected)");
    tensor_list(tl, &good_l);
    tl->w[tl->n - 1].ndim = 1;
    tl->w[tl->n - 1].shape[0] = 64 * 4;
    write_tensors(dir, tl);
    char want[300];
    snprintf(want, sizeof want, "tensor \"%s\" has shape [256], expected [64, 4] for this base model", down_b);
    EXPECT_FAIL(dir, &gqa, "adapter_model.safetensors", want);

    /* rank of the tensors against r */
    tensor_list(tl, &good_l);
    write_tensors(dir, tl);
    config_case(dir, "r", "8");
    write_tensors(dir, tl);
    EXPECT_FAIL(dir, &gqa, "adapter_model.safetensors",
                "tensor \"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight\" has shape [4, 64]: rank "
                "4, but adapter_config.json says r = 8");

    /* a module target_modules does not list */
    config_case(dir, "target_modules", "[\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\", \"up_proj\", \"down_proj\"]");
    EXPECT_FAIL(dir, &gqa, "adapter_model.safetensors",
                "tensor \"base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight\" is for gate_proj, which "
                "target_modules in adapter_config.json does not list");
    config_case(dir, "target_modules", "\"q_proj\"");
    EXPECT_FAIL(dir, &gqa, "adapter_model.safetensors", "is for k_proj, which target_modules");
    rm_tree(dir);

    /* an adapter for another base: tiny-qwen-bias's adapter on tiny-gqa and back */
    EXPECT_FAIL("tests/fixtures/train/tiny-qwen-bias/adapter", &gqa, "adapter_model.safetensors",
                "tensor \"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight\" has shape [4, 48], "
                "expected [4, 64] for this base model (an adapter made for a different model?)");
    EXPECT_FAIL("tests/fixtures/train/tiny-gqa/adapter", &qwen, "adapter_model.safetensors",
                "has shape [4, 64], expected [4, 48]");
    /* same widths, fewer layers */
    ModelConfig two = gqa;
    two.n_layers = 2;
    EXPECT_FAIL("tests/fixtures/train/tiny-gqa/adapter", &two, "adapter_model.safetensors",
                "is for layer 2, but the base model has 2 layers");
    /* same layers, another width of one module (o_proj's input: heads * head_dim) */
    ModelConfig hd = gqa;
    hd.head_dim = 24;
    EXPECT_FAIL("tests/fixtures/train/tiny-gqa/adapter", &hd, "adapter_model.safetensors",
                "q_proj.lora_B.weight\" has shape [64, 4], expected [96, 4]");
    free(tl);
}

/* ---- F16 / BF16 tensors ---- */

static void test_half(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/half", tmp);
    config_case(dir, "r", "4");
    TensorList *tl = malloc(sizeof *tl);
    static const DType kinds[][2] = {{DT_F16, DT_F16}, {DT_BF16, DT_BF16}, {DT_F16, DT_BF16}};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        tensor_list(tl, &good_l);
        /* A in one type, B in the other (mixed files exist: PEFT casts per tensor) */
        void *bufs[256];
        for (size_t i = 0; i < tl->n; i++) {
            DType t = kinds[k][i & 1];
            size_t n = (size_t)(tl->w[i].shape[0] * tl->w[i].shape[1]);
            bufs[i] = malloc(n * 2);
            dtype_from_f32(bufs[i], tl->w[i].data, t, n);
            tl->w[i].dtype = t;
            tl->w[i].data = bufs[i];
        }
        write_tensors(dir, tl);
        Err e = {{0}};
        Lora l;
        int rc = adapter_load(&l, dir, &gqa, NULL, &e);
        CHECKF(rc == 0, "%s", e.msg);
        if (rc == 0) {
            size_t bad = 0, exact = 0, total = 0;
            tensor_list(tl, &l);
            TensorList *orig = malloc(sizeof *orig);
            tensor_list(orig, &good_l);
            for (size_t i = 0; i < tl->n; i++) {
                DType t = kinds[k][i & 1];
                const float *got = tl->w[i].data, *src = orig->w[i].data;
                for (int64_t j = 0; j < tl->w[i].shape[0] * tl->w[i].shape[1]; j++, total++) {
                    float want = t == DT_F16 ? f16_to_f32(f32_to_f16(src[j])) : bf16_to_f32(f32_to_bf16(src[j]));
                    bad += got[j] != want;
                    exact += got[j] == src[j];
                }
            }
            CHECKF(bad == 0, "case %zu: %zu of %zu values differ", k, bad, total);
            CHECK(exact < total);  /* the rounding really happened */
            free(orig);
            lora_free(&l);
        }
        for (size_t i = 0; i < tl->n; i++)
            free(bufs[i]);
    }
    free(tl);
    rm_tree(dir);
}

/* ---- hash ---- */

static void file_sha(const char *path, char out[65])
{
    size_t n = 0;
    Err e = {{0}};
    char *s = fs_read_all(path, &n, &e);
    Sha256 h;
    sha256_init(&h);
    sha256_update(&h, s, n);
    sha256_hex(&h, out);
    free(s);
}

static void test_hash(void)
{
    char dir[512], h1[65], h2[65], h3[65], want[65];
    snprintf(dir, sizeof dir, "%s/hash", tmp);
    Err e = {{0}};
    Lora l;
    random_lora(&l, &gqa, 8, 16, LORA_ALL_TARGETS, 21);  /* > 64 KiB: several read chunks */
    CHECKF(adapter_save(&l, dir, NULL, NULL, &e) == 0, "%s", e.msg);
    CHECKF(adapter_hash(dir, h1, &e) == 0, "%s", e.msg);
    file_sha(path2(dir, "adapter_model.safetensors"), want);
    CHECK(strlen(h1) == 64 && strcmp(h1, want) == 0);
    CHECK(adapter_hash(dir, h2, &e) == 0 && strcmp(h1, h2) == 0);
    /* the record lives in the config and does not change the hash */
    AdapterRecord rec = {.stage = "cpt", .steps = 5, .train_loss = NAN, .valid_loss = NAN};
    CHECKF(adapter_save(&l, dir, "other", &rec, &e) == 0, "%s", e.msg);
    CHECK(adapter_hash(dir, h2, &e) == 0 && strcmp(h1, h2) == 0);
    /* one value changed changes it; changed back restores it */
    float *b = lora_mat(&l, 1, LORA_UP)->B;
    float old = b[17];
    b[17] = nextafterf(old, INFINITY);
    CHECKF(adapter_save(&l, dir, NULL, NULL, &e) == 0, "%s", e.msg);
    CHECK(adapter_hash(dir, h3, &e) == 0 && strcmp(h1, h3) != 0);
    b[17] = old;
    CHECKF(adapter_save(&l, dir, NULL, NULL, &e) == 0, "%s", e.msg);
    CHECK(adapter_hash(dir, h3, &e) == 0 && strcmp(h1, h3) == 0);
    lora_free(&l);
    rm_tree(dir);
    CHECK(adapter_hash(dir, h3, &e) == -1 && strstr(e.msg, "adapter_model.safetensors") && h3[0] == 0);
    /* the reference's file */
    CHECK(adapter_hash("tests/fixtures/train/tiny-gqa/adapter", h1, &e) == 0);
    file_sha("tests/fixtures/train/tiny-gqa/adapter/adapter_model.safetensors", want);
    CHECK(strcmp(h1, want) == 0);
}

int main(void)
{
    Err e = {{0}};
    if (model_config_load(&gqa, "tests/fixtures/models/tiny-gqa/config.json", &e) != 0 ||
        model_config_load(&qwen, "tests/fixtures/models/tiny-qwen-bias/config.json", &e) != 0 ||
        model_config_load(&headdim, "tests/fixtures/models/tiny-headdim/config.json", &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    snprintf(tmp, sizeof tmp, "/tmp/infuse-test-adapter-XXXXXX");
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "cannot make a scratch folder\n");
        return 1;
    }
    test_round_trip();
    test_fixtures();

    snprintf(good, sizeof good, "%s/good", tmp);
    random_lora(&good_l, &gqa, 4, 8, LORA_ALL_TARGETS, 3);
    AdapterRecord rec = {.stage = "cpt", .steps = 123, .train_loss = 2, .valid_loss = NAN};
    CHECKF(adapter_save(&good_l, good, "base", &rec, &e) == 0, "%s", e.msg);
    EXPECT_OK(good, &gqa);
    test_config_errors();
    test_file_errors();
    test_tensor_errors();
    test_half();
    lora_free(&good_l);
    test_hash();

    rm_tree(tmp);
    CHECK(!fs_exists(tmp));
    TEST_MAIN_END();
}
