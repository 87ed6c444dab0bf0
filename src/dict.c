/* dict.c - dictd .index/.dict reading and each dictionary's cleaner.
 *
 * Cleaning is a chain of small passes over malloc'd strings (drop groups
 * such as [...], unwrap braces, collapse white space) rather than one
 * parser: the five dictionaries share few rules, and each pass is easy to
 * test on its own.  Every pass only removes or rewrites ASCII bytes, so
 * UTF-8 in the input (the Jargon File's quotes) stays well formed. */
#include "dict.h"
#include "fsutil.h"
#include "strbuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char b64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int dict_b64_decode(const char *s, size_t n, uint64_t *out)
{
    if (n == 0) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = s[i] ? strchr(b64_digits, s[i]) : NULL;
        if (!p || v > (UINT64_MAX >> 6)) return -1;
        v = v << 6 | (uint64_t)(p - b64_digits);
    }
    *out = v;
    return 0;
}

DictKind dict_kind_of(const char *name)
{
    static const struct { const char *name; DictKind kind; } kinds[] = {
        {"vera", DICT_VERA}, {"foldoc", DICT_FOLDOC}, {"jargon", DICT_JARGON},
        {"wn", DICT_WN},     {"gcide", DICT_GCIDE},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(name, kinds[i].name) == 0) return kinds[i].kind;
    return DICT_OTHER;
}

/* ---- reading ---- */

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int dict_open(Dict *d, const char *index_path, Err *e)
{
    memset(d, 0, sizeof *d);
    if (!ends_with(index_path, ".index")) return err_set(e, "%s: a dictd index must end in .index", index_path);
    size_t stem = strlen(index_path) - strlen(".index");
    const char *base = strrchr(index_path, '/');
    base = base ? base + 1 : index_path;
    d->name = strndup(base, (size_t)(index_path + stem - base));
    char *dict_path = malloc(stem + sizeof ".dict.dz");
    if (!d->name || !dict_path) {
        free(dict_path);
        dict_close(d);
        return err_set(e, "%s: out of memory", index_path);
    }
    memcpy(dict_path, index_path, stem);
    strcpy(dict_path + stem, ".dict");
    d->kind = dict_kind_of(d->name);
    size_t index_len;
    if (!fs_exists(dict_path)) {
        strcat(dict_path, ".dz");
        int dz = fs_exists(dict_path);
        dict_path[stem + 5] = 0;
        err_set(e, dz ? "%s: missing; decompress %s.dz with gzip -dc (make corpus does)" : "%s: missing", dict_path,
                dict_path);
        free(dict_path);
        dict_close(d);
        return -1;
    }
    if (!(d->index = fs_read_all(index_path, &index_len, e)) || !(d->data = fs_read_all(dict_path, &d->data_len, e))) {
        free(dict_path);
        dict_close(d);
        return -1;
    }
    size_t cap = 0;
    long line = 0;
    for (char *p = d->index; *p;) {
        char *end = strchr(p, '\n');
        if (!end) end = p + strlen(p);
        line++;
        if (end > p && end[-1] == '\r') end[-1] = 0;
        char *t1 = memchr(p, '\t', (size_t)(end - p));
        char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(end - t1 - 1)) : NULL;
        char *t3 = t2 ? memchr(t2 + 1, '\t', (size_t)(end - t2 - 1)) : NULL;
        char *lenend = t3 ? t3 : (end > p && end[-1] == 0 ? end - 1 : end);
        if (end == p || (end == p + 1 && *p == 0)) { /* blank line */
        } else if (!t2) {
            err_set(e, "%s:%ld: expected HEADWORD TAB OFFSET TAB LENGTH", index_path, line);
            goto fail;
        } else {
            DictWord w = {p, (size_t)(t1 - p), 0, 0};
            if (dict_b64_decode(t1 + 1, (size_t)(t2 - t1 - 1), &w.off) ||
                dict_b64_decode(t2 + 1, (size_t)(lenend - t2 - 1), &w.len)) {
                err_set(e, "%s:%ld: bad base-64 offset or length", index_path, line);
                goto fail;
            }
            if (w.off > d->data_len || w.len > d->data_len - w.off) {
                err_set(e, "%s:%ld: entry at %llu+%llu lies past the end of %s (%zu bytes)", index_path, line,
                        (unsigned long long)w.off, (unsigned long long)w.len, dict_path, d->data_len);
                goto fail;
            }
            if (d->n_words == cap) {
                cap = cap ? 2 * cap : 1024;
                DictWord *nw = realloc(d->words, cap * sizeof *nw);
                if (!nw) {
                    err_set(e, "%s: out of memory", index_path);
                    goto fail;
                }
                d->words = nw;
            }
            d->words[d->n_words++] = w;
        }
        p = *end ? end + 1 : end;
    }
    free(dict_path);
    return 0;
fail:
    free(dict_path);
    dict_close(d);
    return -1;
}

void dict_close(Dict *d)
{
    free(d->name);
    free(d->index);
    free(d->data);
    free(d->words);
    memset(d, 0, sizeof *d);
}

/* ---- text passes ---- */

/* The string, NULL when memory ran out; b is spent. */
static char *str_done(StrBuf *b)
{
    if (b->oom) {
        free(b->s);
        return NULL;
    }
    if (!b->s) return strdup("");
    return b->s;
}

/* s without the groups open...close (nested ones counted) that drop()
 * accepts; an unclosed group is kept as text. */
static char *drop_groups(const char *s, char open, char close, int (*drop)(const char *g, size_t n))
{
    StrBuf b = {0};
    const char *p = s;
    while (*p) {
        if (*p == open) {
            int depth = 0;
            const char *q = p;
            for (; *q; q++) {
                if (*q == open && (open != close || q == p)) depth++;
                else if (*q == close && --depth == 0) break;
            }
            if (*q && drop(p + 1, (size_t)(q - p - 1))) {
                p = q + 1;
                continue;
            }
        }
        strbuf_put(&b, p, 1);
        p++;
    }
    return str_done(&b);
}

static int drop_any(const char *g, size_t n) { return 1; }
static int drop_url(const char *g, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++)
        if (memcmp(g + i, "://", 3) == 0) return 1;
    return 0;
}
static int drop_pron(const char *g, size_t n) { return memchr(g, '[', n) || memchr(g, '"', n); }
/* FOLDoc's "<operating system, hardware>" tags, not "a < b > c". */
static int drop_category(const char *g, size_t n)
{
    if (n == 0 || n > 40) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)g[i]) && !strchr(" ,-/", g[i])) return 0;
    return 1;
}

/* Replaces *s by f(*s); keeps *s when f ran out of memory (returns -1). */
static int apply(char **s, char *next)
{
    if (!next) return -1;
    free(*s);
    *s = next;
    return 0;
}

char *dict_clean_text(const char *in, size_t n)
{
    StrBuf b = {0};
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '{' || c == '}') continue;
        if (isspace(c)) {
            space = 1;
            continue;
        }
        /* "magazine. {(http://...)}." loses its group and would end "..". */
        if (space && b.n && (c == '.' || c == ',') && b.s[b.n - 1] == '.') {
            space = 0;
            continue;
        }
        if (space && b.n) {
            char prev = b.s[b.n - 1];
            int after_open = prev == '(' || prev == '[' ||
                             (b.n >= 3 && memcmp(b.s + b.n - 3, "\xe2\x80\x9c", 3) == 0); /* U+201C */
            int before_close = strchr(",.;:!?)]", c) != NULL ||
                               (i + 2 < n && memcmp(in + i, "\xe2\x80\x9d", 3) == 0); /* U+201D */
            if (!after_open && !before_close) strbuf_put(&b, " ", 1);
        }
        space = 0;
        strbuf_put(&b, (const char *)&in[i], 1);
    }
    char *s = str_done(&b);
    /* Dropped groups leave "()" or " ," behind; a second pass tidies. */
    if (s && strstr(s, "()")) {
        StrBuf t = {0};
        for (char *p = s; *p; p++) {
            if (p[0] == '(' && p[1] == ')') {
                p++;
                continue;
            }
            strbuf_put(&t, p, 1);
        }
        free(s);
        s = str_done(&t);
        if (s) {
            char *again = dict_clean_text(s, strlen(s));
            free(s);
            s = again;
        }
    }
    return s;
}

long dict_count_words(const char *s)
{
    long n = 0;
    int in = 0;
    for (; *s; s++) {
        int w = !isspace((unsigned char)*s);
        n += w && !in;
        in = w;
    }
    return n;
}

/* Leading noise a definition starts with in the Jargon File and GCIDE:
 * sense numbers "1.", pronunciations "/kluhj/,", parts of speech "n.",
 * "vt.,", "adj.", joiners "&", "or", and stray punctuation. */
static const char *skip_lead(const char *p)
{
    static const char *pos[] = {"n", "v", "vt", "vi", "adj", "adv", "a", "t", "i", "p", "pr", "pp", "imp", "pl",
                                "prep", "conj", "interj", "excl", "pron", "abbrev", "suff", "pref", "obs", "esp"};
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == ';' || *p == '.' || *p == ':') p++;
        const char *q = p;
        if (*q == '/') {
            const char *end = strchr(q + 1, '/');
            if (end && end - q < 40 && !memchr(q, ' ', (size_t)(end - q))) {
                p = end + 1;
                continue;
            }
        }
        if (isdigit((unsigned char)*q)) {
            while (isdigit((unsigned char)*q)) q++;
            if (*q == '.' || *q == ':') {
                p = q + 1;
                continue;
            }
            break;
        }
        if (*q == '&') {
            p = q + 1;
            continue;
        }
        size_t n = 0;
        while (isalpha((unsigned char)q[n])) n++;
        int matched = 0;
        if (n && q[n] == '.')
            for (size_t k = 0; k < sizeof pos / sizeof *pos && !matched; k++)
                matched = strlen(pos[k]) == n && strncmp(q, pos[k], n) == 0;
        if (!matched && n == 2 && strncmp(q, "or", 2) == 0 && q[2] == ' ' && q != p) matched = 1;
        if (!matched) break;
        p = q + n + (q[n] == '.');
    }
    return p;
}

/* ASCII-only case folding, so that the order never depends on a locale. */
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* VERA capitalises the letters an acronym is made of ("Secure CoPy",
 * "eXtensible"); a word with a capital after a small letter gets ordinary
 * case back.  All-capital words (acronyms) are left alone. */
static void vera_fix_case(char *s)
{
    for (char *w = s; *w;) {
        while (*w && !isalpha((unsigned char)*w)) w++;
        char *end = w;
        int mixed = 0;
        while (isalpha((unsigned char)*end)) {
            if (end > w && isupper((unsigned char)*end) && islower((unsigned char)end[-1])) mixed = 1;
            end++;
        }
        int lower_n = 0;
        for (char *p = w; p < end; p++) lower_n += islower((unsigned char)*p);
        if (mixed && lower_n) {
            int first_up = isupper((unsigned char)*w) || (end - w > 1 && isupper((unsigned char)w[1]));
            for (char *p = w; p < end; p++) *p = (char)lower(*p);
            if (first_up) *w = (char)toupper((unsigned char)*w);
        }
        w = end;
    }
}

/* One VERA meaning: "Random Access Memory (RAM, IC)" -> "Random Access
 * Memory"; *slang when a tag says so. */
static char *vera_expansion(const char *body, size_t n, int *slang)
{
    char *s = dict_clean_text(body, n);
    if (!s) return NULL;
    *slang = strstr(s, "slang") != NULL;
    if (apply(&s, drop_groups(s, '[', ']', drop_any)) || apply(&s, drop_groups(s, '(', ')', drop_any))) {
        free(s);
        return NULL;
    }
    /* A trailing ', "3G.IP"' is another spelling of the acronym. */
    char *q = strstr(s, ", \"");
    if (q) *q = 0;
    vera_fix_case(s);
    char *t = dict_clean_text(s, strlen(s));
    free(s);
    if (t) {
        size_t l = strlen(t);
        while (l && (t[l - 1] == ',' || t[l - 1] == ' ' || t[l - 1] == '.')) t[--l] = 0;
    }
    return t;
}

/* The lines of body that are not GCIDE quotation blocks (indented far, or
 * an attribution "--Shak."). */
static char *gcide_drop_quotes(const char *body)
{
    StrBuf b = {0};
    for (const char *p = body; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p + 1) : strlen(p);
        size_t ind = 0;
        while (ind < n && p[ind] == ' ') ind++;
        int quote = ind >= 8 || (ind < n && p[ind] == '-' && ind + 1 < n && p[ind + 1] == '-');
        if (!quote) strbuf_put(&b, p, n);
        p += n;
    }
    return str_done(&b);
}

/* Appends one WordNet sense, cleaned, capitalised and ended, to b. */
static void wn_flush(StrBuf *b, StrBuf *sense)
{
    if (!sense->n) return;
    char *c = dict_clean_text(sense->s, sense->n);
    sense->n = 0;
    if (!c) {
        b->oom = 1;
        return;
    }
    size_t l = strlen(c);
    if (l) {
        if (islower((unsigned char)*c)) *c = (char)toupper((unsigned char)*c);
        if (b->n) strbuf_put(b, " ", 1);
        strbuf_put(b, c, l);
        if (!strchr(".?!", c[l - 1])) strbuf_put(b, ".", 1);
    }
    free(c);
}

/* WordNet senses "n 1: def; \"example\"" -> "Def; \"example\". Def2." */
static char *wn_senses(const char *body)
{
    StrBuf b = {0}, sense = {0};
    for (const char *p = body; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *q = p, *stop = p + n;
        while (q < stop && *q == ' ') q++;
        /* A sense starts with "POS N:", "POS :" or "N:". */
        const char *m = q;
        size_t w = 0;
        while (m + w < stop && isalpha((unsigned char)m[w])) w++;
        int pos = m + w < stop && m[w] == ' ' &&
                  ((w == 1 && (*m == 'n' || *m == 'v')) || (w == 3 && (!strncmp(m, "adj", 3) || !strncmp(m, "adv", 3))));
        if (pos) m += w + 1;
        const char *d = m;
        while (d < stop && isdigit((unsigned char)*d)) d++;
        int num = d > m;
        while (d < stop && *d == ' ') d++;
        if ((pos || num) && d < stop && *d == ':') {
            wn_flush(&b, &sense);
            q = d + 1;
        }
        strbuf_put(&sense, q, (size_t)(stop - q));
        strbuf_put(&sense, "\n", 1);
        p = end ? end + 1 : stop;
    }
    wn_flush(&b, &sense);
    if (sense.oom) b.oom = 1;
    free(sense.s);
    return str_done(&b);
}

/* Removes a FOLDoc date "(1997-03-27)" and any "<category>" and
 * "(alias)" groups at the start. */
static char *foldoc_body(const char *body)
{
    char *s = dict_clean_text(body, strlen(body));
    if (!s) return NULL;
    if (apply(&s, drop_groups(s, '[', ']', drop_any)) || apply(&s, drop_groups(s, '(', ')', drop_url)) ||
        apply(&s, drop_groups(s, '<', '>', drop_category)))
        goto oom;
    size_t l = strlen(s);
    if (l >= 12 && s[l - 1] == ')' && s[l - 12] == '(' && isdigit((unsigned char)s[l - 11]) && s[l - 7] == '-') {
        s[l - 12] = 0;
    }
    /* Entries taken from the Jargon File start with its pronunciations
     * and parts of speech; numbered senses start "1. <category>". */
    const char *p = s;
    for (;;) {
        p = skip_lead(p);
        char close = *p == '<' ? '>' : *p == '(' ? ')' : 0;
        if (!close) break;
        const char *end = strchr(p, close);
        if (!end || end - p > 400) break;
        p = end + 1;
    }
    char *t = dict_clean_text(p, strlen(p));
    free(s);
    return t;
oom:
    free(s);
    return NULL;
}

/* The headword and definition of one raw entry; *text NULL when it
 * cleans to nothing.  -1 only when out of memory. */
static int clean_entry(DictKind kind, const char *raw, size_t n, char **head, char **text)
{
    *head = *text = NULL;
    char *r = strndup(raw, n);
    if (!r) return -1;
    char *nl = strchr(r, '\n');
    char *body = nl ? nl + 1 : r + strlen(r);
    if (nl) *nl = 0;
    char *h = r;
    if (kind == DICT_GCIDE) {
        /* "Kernel \Ker"nel\, n. [OE. ...]": the rest of the line is body. */
        char *bs = strchr(h, '\\');
        if (bs) {
            *bs = 0;
            if (nl) *nl = '\n';
            body = bs + 1;
        }
    }
    *head = dict_clean_text(h, strlen(h));
    char *s = NULL;
    int rc = 0;
    switch (kind) {
    case DICT_FOLDOC:
    case DICT_OTHER: {
        /* Alias lines run up to the first blank line. */
        char *blank = strstr(body, "\n\n");
        if (kind == DICT_FOLDOC && blank && *body && *body != ' ' && *body != '\n') body = blank + 2;
        s = foldoc_body(body);
        break;
    }
    case DICT_JARGON: {
        s = dict_clean_text(body, strlen(body));
        if (s && apply(&s, drop_groups(s, '[', ']', drop_any)) == 0) {
            char *t = dict_clean_text(skip_lead(s), strlen(skip_lead(s)));
            free(s);
            s = t;
        }
        break;
    }
    case DICT_WN:
        s = drop_groups(body, '[', ']', drop_any);
        if (s) apply(&s, wn_senses(s));
        break;
    case DICT_GCIDE:
        s = gcide_drop_quotes(body);
        if (s && (apply(&s, drop_groups(s, '\\', '\\', drop_any)) || apply(&s, drop_groups(s, '(', ')', drop_pron)) ||
                  apply(&s, drop_groups(s, '[', ']', drop_any)))) {
            free(s);
            s = NULL;
        } else if (s) {
            char *t = dict_clean_text(s, strlen(s));
            free(s);
            s = t ? strdup(skip_lead(t)) : NULL;
            free(t);
        }
        break;
    case DICT_VERA:
        break; /* expansions are handled by the caller */
    }
    free(r);
    if (kind != DICT_VERA && !s) rc = -1;
    if (!*head) rc = -1;
    if (s && islower((unsigned char)*s)) *s = (char)toupper((unsigned char)*s);
    if (s && *s && strlen(s) > 1) *text = s;
    else free(s);
    return rc;
}

/* ---- entries ---- */

static int is_meta(const char *h, size_t n)
{
    return (n >= 3 && memcmp(h, "00-", 3) == 0) || (n >= 10 && memcmp(h, "00database", 10) == 0);
}

static int by_off_line(const void *a, const void *b)
{
    const DictWord *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->head_len < y->head_len ? -1 : x->head_len > y->head_len;
}

static int push(DictEntries *l, DictEntry *en)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        DictEntry *ne = realloc(l->e, cap * sizeof *ne);
        if (!ne) return -1;
        l->e = ne, l->cap = cap;
    }
    l->e[l->n++] = *en;
    return 0;
}

static void entry_free(DictEntry *en)
{
    free(en->head);
    free(en->text);
    for (int i = 0; i < en->n_exp; i++) free(en->exp[i]);
    free(en->exp);
}

static int strieq_n(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) return 0;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return 1;
}

/* VERA: the meanings of one acronym are consecutive index lines with the
 * same headword; they become one entry. */
static int vera_entries(const Dict *d, int dict_no, DictEntries *out, Err *e)
{
    for (size_t i = 0; i < d->n_words;) {
        size_t j = i + 1;
        while (j < d->n_words && strieq_n(d->words[i].head, d->words[i].head_len, d->words[j].head, d->words[j].head_len))
            j++;
        if (is_meta(d->words[i].head, d->words[i].head_len)) {
            i = j;
            continue;
        }
        DictEntry en = {0};
        en.dict = dict_no;
        en.off = d->words[i].off;
        en.exp = calloc(j - i, sizeof *en.exp);
        int *slang = calloc(j - i, sizeof *slang);
        int n_slang = 0, fail = !en.exp || !slang;
        for (size_t k = i; k < j && !fail; k++) {
            const char *raw = d->data + d->words[k].off;
            const char *nl = memchr(raw, '\n', d->words[k].len);
            if (!nl) continue;
            if (!en.head) fail |= !(en.head = dict_clean_text(raw, (size_t)(nl - raw)));
            int sl = 0;
            char *x = vera_expansion(nl + 1, (size_t)(raw + d->words[k].len - nl - 1), &sl);
            if (!x) {
                fail = 1;
            } else if (!*x) {
                free(x);
            } else {
                slang[en.n_exp] = sl;
                n_slang += sl;
                en.exp[en.n_exp++] = x;
            }
        }
        /* Joke expansions ("Rarely Adequate Memory") would teach wrong
         * answers; they stay only when they are all there is. */
        if (!fail && n_slang && n_slang < en.n_exp) {
            int m = 0;
            for (int k = 0; k < en.n_exp; k++) {
                if (slang[k]) free(en.exp[k]);
                else en.exp[m++] = en.exp[k];
            }
            en.n_exp = m;
        }
        free(slang);
        StrBuf t = {0};
        for (int k = 0; k < en.n_exp; k++) {
            if (k) strbuf_put(&t, "; ", 2);
            strbuf_put(&t, en.exp[k], strlen(en.exp[k]));
        }
        en.text = t.n ? str_done(&t) : (free(t.s), NULL);
        if (t.oom) fail = 1;
        if (fail) {
            entry_free(&en);
            return err_set(e, "%s: out of memory", d->name);
        }
        if (!en.head || !*en.head || !en.n_exp || push(out, &en)) {
            if (en.head && *en.head && en.n_exp) {
                entry_free(&en);
                return err_set(e, "%s: out of memory", d->name);
            }
            entry_free(&en);
        }
        i = j;
    }
    return 0;
}

int dict_entries(const Dict *d, int dict_no, DictEntries *out, Err *e)
{
    if (d->kind == DICT_VERA) return vera_entries(d, dict_no, out, e);
    /* One entry per offset, in the order its first headword has in the
     * index; alias headwords are not entries of their own. */
    DictWord *w = malloc((d->n_words ? d->n_words : 1) * sizeof *w);
    size_t *first = malloc((d->n_words ? d->n_words : 1) * sizeof *first);
    if (!w || !first) {
        free(w), free(first);
        return err_set(e, "%s: out of memory", d->name);
    }
    /* Sorted by (offset, length, index line), the first of each run of
     * equal entries is the line that names it first. */
    for (size_t i = 0; i < d->n_words; i++) {
        w[i] = d->words[i];
        w[i].head_len = i; /* reused as the line number in this copy */
    }
    qsort(w, d->n_words, sizeof *w, by_off_line);
    unsigned char *is_first = calloc(d->n_words ? d->n_words : 1, 1);
    if (!is_first) {
        free(w), free(first);
        return err_set(e, "%s: out of memory", d->name);
    }
    for (size_t i = 0; i < d->n_words; i++)
        if (i == 0 || w[i].off != w[i - 1].off || w[i].len != w[i - 1].len) is_first[w[i].head_len] = 1;
    size_t n_first = 0;
    for (size_t i = 0; i < d->n_words; i++)
        if (is_first[i]) first[n_first++] = i;
    free(is_first);
    free(w);
    int rc = 0;
    for (size_t k = 0; k < n_first && rc == 0; k++) {
        const DictWord *x = &d->words[first[k]];
        if (is_meta(x->head, x->head_len)) continue;
        DictEntry en = {0};
        en.dict = dict_no;
        en.off = x->off;
        if (clean_entry(d->kind, d->data + x->off, x->len, &en.head, &en.text)) {
            rc = err_set(e, "%s: out of memory", d->name);
        } else if (en.head && *en.head && en.text && !is_meta(en.head, strlen(en.head))) {
            if (push(out, &en)) rc = err_set(e, "%s: out of memory", d->name);
            else continue;
        }
        entry_free(&en);
    }
    free(first);
    return rc;
}

void dict_entries_free(DictEntries *l)
{
    for (size_t i = 0; i < l->n; i++) entry_free(&l->e[i]);
    free(l->e);
    memset(l, 0, sizeof *l);
}

/* ---- short answers ---- */

/* Does a full stop at s[i] end a sentence?  Not after an abbreviation
 * ("e.g.", "etc.", a single letter) and only before a capital, a digit, a
 * quote or the end. */
static int sentence_end(const char *s, size_t i)
{
    if (s[i] != '.' && s[i] != '?' && s[i] != '!') return 0;
    if (s[i + 1] == 0) return 1;
    if (s[i + 1] != ' ') return 0;
    unsigned char nx = (unsigned char)s[i + 2];
    if (!(isupper(nx) || isdigit(nx) || nx == '"' || nx == '(' || nx >= 0x80)) return 0;
    if (s[i] != '.') return 1;
    size_t w = i;
    while (w > 0 && isalpha((unsigned char)s[w - 1])) w--;
    size_t wl = i - w;
    if (wl == 1) return 0;
    if (wl == 0 && i > 0 && isdigit((unsigned char)s[i - 1])) return 0; /* a sense number "2." or "1.5." */
    static const char *abbr[] = {"eg", "ie", "etc", "vs", "cf", "Dr", "Mr", "Mrs", "St", "Inc", "approx", "esp",
                                 "al", "Co", "Ltd", "Jr", "Sr", "No", "viz"};
    for (size_t k = 0; k < sizeof abbr / sizeof *abbr; k++)
        if (strlen(abbr[k]) == wl && strncmp(s + w, abbr[k], wl) == 0) return 0;
    if (w > 0 && s[w - 1] == '.') return 0; /* "e.g." */
    return 1;
}

char *dict_short_answer(const char *def, int max_words)
{
    StrBuf b = {0};
    long words = 0;
    const char *p = def;
    while (*p == ' ') p++;
    while (*p) {
        size_t i = 0;
        while (p[i] && !sentence_end(p, i)) i++;
        size_t n = p[i] ? i + 1 : i;
        char *sent = strndup(p, n);
        if (!sent) {
            free(b.s);
            return NULL;
        }
        long sw = dict_count_words(sent);
        if (words + sw > max_words) {
            if (words < 6) {
                /* Cut the one long sentence at a clause boundary. */
                long k = 0;
                int in = 0;
                size_t cut = 0, clause = 0;
                for (size_t j = 0; sent[j]; j++) {
                    int wch = sent[j] != ' ';
                    if (wch && !in && ++k > max_words - words) break;
                    in = wch;
                    cut = j + 1;
                    if ((sent[j] == ';' || sent[j] == ',') && k >= max_words / 4) clause = j;
                }
                sent[clause ? clause : cut] = 0;
                if (b.n) strbuf_put(&b, " ", 1);
                strbuf_put(&b, sent, strlen(sent));
            }
            free(sent);
            break;
        }
        if (b.n) strbuf_put(&b, " ", 1);
        strbuf_put(&b, sent, strlen(sent));
        words += sw;
        free(sent);
        p += n;
        while (*p == ' ') p++;
        /* One good sentence is the answer; a fragment ("Binary digit.")
         * takes the next one along. */
        if (words >= 6) break;
    }
    char *s = str_done(&b);
    if (!s) return NULL;
    size_t l = strlen(s);
    while (l && (s[l - 1] == ' ' || s[l - 1] == ',' || s[l - 1] == ';' || s[l - 1] == ':')) s[--l] = 0;
    if (l && islower((unsigned char)s[0])) s[0] = (char)toupper((unsigned char)s[0]);
    if (l && !strchr(".?!", s[l - 1])) {
        char *t = realloc(s, l + 2);
        if (!t) {
            free(s);
            return NULL;
        }
        s = t;
        s[l] = '.', s[l + 1] = 0;
    }
    return s;
}
