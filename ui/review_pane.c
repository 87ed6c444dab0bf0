/* review_pane.c - the Review pane: curate the QA store.
 *
 * A list of records (filtered by status, golden, a quality flag and an
 * incremental search) over a detail view of the selected one, and an
 * editor for question and answer.  Every change goes through qa_store.h at
 * once, so it is in the journal (fsync'd) before the screen shows it: a
 * kill -9 loses nothing that was shown as done.
 *
 * Undo and redo work on groups of store operations (one key on several
 * marked records is one group); undoing applies the old values through the
 * same API, so the undo itself is journaled and shows in the record's
 * history: nothing a curator does is lost, not even what they undid.
 *
 * Quality flags are recomputed (qa_flags_update, with the same QaChecker as
 * `infuse review`) after every edit and new record, since an edit can set
 * or clear flags of other records too (a duplicate). */
#include "workbench.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edit_field.h"
#include "qa_checker.h"
#include "textwidth.h"

enum { F_ALL, F_PENDING, F_APPROVED, F_REJECTED, F_GOLDEN, F_FLAGGED, F_DELETED, F_COUNT };
static const char *const filter_name[F_COUNT] = {"all", "pending", "approved", "rejected",
                                                 "golden", "flagged", "deleted"};

/* One store operation with what it replaced. */
typedef enum { OP_STATUS, OP_GOLDEN, OP_DELETED, OP_QUESTION, OP_ANSWER } OpKind;
typedef struct Op {
    long id;
    OpKind kind;
    int old_i, new_i;           /* status, golden, deleted */
    char *old_s, *new_s;        /* question, answer */
} Op;
typedef struct OpGroup {
    Op *ops;
    size_t n;
} OpGroup;

#define UNDO_MAX 500

typedef struct Review {
    size_t *rows;               /* indices into store.r of the shown records */
    size_t n_rows;
    int sel, top;               /* selected row, first row on screen */
    int filter;
    int flag_filter;            /* -1: any flag; else a flag index (with F_FLAGGED) */
    char search[256];
    int searching;              /* the search line has the keys */
    unsigned char *marked;      /* [store.n] */
    size_t n_marked_cap;
    int show_tokens;
    int *tokens;                /* [store.n] token counts; -2 not yet counted */
    size_t tokens_cap;
    QaChecker checker;
    int checker_ok;
    OpGroup undo[UNDO_MAX], redo[UNDO_MAX];
    int n_undo, n_redo;
    /* the editor */
    int editing;                /* 0, or 1 while the editor is open */
    long edit_id;               /* 0: a new record */
    int edit_golden;            /* a new record from Chat: save as golden */
    TextEdit fq, fa;
    int field;                  /* 0 question, 1 answer */
    int scroll_q, scroll_a;
    int discard_armed;          /* Esc pressed once on a changed text */
    size_t field_width;         /* wrap width of the last drawn field */
    int pane_y;                 /* the pane's top row at the last draw */
    int field_y[2], field_h[2]; /* the fields' rows (pane-relative) and heights, for clicks */
    int list_h;                 /* rows of the list at the last draw */
} Review;

static const PaneKey review_keys[] = {
    {"a", "approve (the marked records, or the selected one)", "approve"},
    {"r", "reject", "reject"},
    {"p", "back to pending", NULL},
    {"g", "toggle Golden Data (golden pairs are approved)", "golden"},
    {"e/Enter", "edit question and answer", "edit"},
    {"n", "new record", "new"},
    {"d", "delete / undelete (soft: kept in the file)", NULL},
    {"Space", "mark / unmark, then down", "mark"},
    {"M", "unmark all", NULL},
    {"u", "undo", "undo"},
    {"Ctrl-R", "redo (also U)", NULL},
    {"f", "filter: all, pending, approved, rejected, golden, flagged, deleted", "filter"},
    {"F", "filter by one quality flag", NULL},
    {"/", "search question and answer as you type", "search"},
    {"Esc", "clear the search and the filter", NULL},
    {"t", "token lengths (red: longer than seq_len, truncated)", NULL},
    {"Up/Down", "select (PgUp, PgDn, Home, End)", NULL},
    {"In the editor", "Tab switches field, Ctrl-S saves, Esc cancels", NULL},
    {"", "arrows, Ctrl-arrows by word, Home/End, Ctrl-W, Ctrl-Z undo, Ctrl-Y redo", NULL},
    {NULL, NULL, NULL},
};

static QaStore *store(Workbench *wb) { return &wb->store; }

/* ---- the shown rows ---- */

static int contains_ci(const char *hay, const char *needle)
{
    if (!*needle)
        return 1;
    return strcasestr(hay, needle) != NULL;
}

static int shown(const Review *rv, const QaRecord *r)
{
    if (rv->filter == F_DELETED) {
        if (!r->deleted)
            return 0;
    } else if (r->deleted) {
        return 0;
    }
    switch (rv->filter) {
    case F_PENDING: if (r->status != QA_PENDING) return 0; break;
    case F_APPROVED: if (r->status != QA_APPROVED) return 0; break;
    case F_REJECTED: if (r->status != QA_REJECTED) return 0; break;
    case F_GOLDEN: if (!r->golden) return 0; break;
    case F_FLAGGED:
        if (rv->flag_filter < 0 ? !r->flags : !(r->flags & (1u << rv->flag_filter)))
            return 0;
        break;
    default: break;
    }
    return contains_ci(r->question, rv->search) || contains_ci(r->answer, rv->search);
}

static int grow_arrays(Review *rv, size_t n)
{
    if (n <= rv->n_marked_cap)
        return 0;
    size_t cap = n + 64;
    unsigned char *m = realloc(rv->marked, cap);
    int *t = realloc(rv->tokens, cap * sizeof *t);
    size_t *rows = realloc(rv->rows, cap * sizeof *rows);
    if (m)
        rv->marked = m;
    if (t)
        rv->tokens = t;
    if (rows)
        rv->rows = rows;
    if (!m || !t || !rows)
        return -1;
    for (size_t i = rv->n_marked_cap; i < cap; i++)
        m[i] = 0, t[i] = -2;
    rv->n_marked_cap = cap;
    return 0;
}

/* Rebuilds the rows, keeping the selected record selected if it still shows. */
static void refilter(Review *rv, Workbench *wb)
{
    QaStore *s = store(wb);
    if (grow_arrays(rv, s->n) != 0) {
        wb_message(wb, UI_BAD, "out of memory");
        return;
    }
    size_t keep = rv->n_rows && rv->sel < (int)rv->n_rows ? rv->rows[rv->sel] : (size_t)-1;
    rv->n_rows = 0;
    rv->sel = 0;
    for (size_t i = 0; i < s->n; i++)
        if (shown(rv, &s->r[i])) {
            if (i == keep)
                rv->sel = (int)rv->n_rows;
            rv->rows[rv->n_rows++] = i;
        }
}

static QaRecord *selected(Review *rv, Workbench *wb)
{
    if (!rv->n_rows || rv->sel < 0 || rv->sel >= (int)rv->n_rows)
        return NULL;
    return &store(wb)->r[rv->rows[rv->sel]];
}

/* Marked records the list shows. */
static int n_marked(const Review *rv, const QaStore *s)
{
    (void)s;
    int n = 0;
    for (size_t i = 0; i < rv->n_rows; i++)
        n += rv->marked[rv->rows[i]] != 0;
    return n;
}

/* ---- operations, undo, redo ---- */

static void op_free(Op *o)
{
    free(o->old_s);
    free(o->new_s);
}

static void group_free(OpGroup *g)
{
    for (size_t i = 0; i < g->n; i++)
        op_free(&g->ops[i]);
    free(g->ops);
    g->ops = NULL;
    g->n = 0;
}

static void stack_push(OpGroup *stack, int *n, OpGroup g)
{
    if (*n == UNDO_MAX) {
        group_free(&stack[0]);
        memmove(stack, stack + 1, (UNDO_MAX - 1) * sizeof *stack);
        (*n)--;
    }
    stack[(*n)++] = g;
}

static void stack_clear(OpGroup *stack, int *n)
{
    while (*n > 0)
        group_free(&stack[--(*n)]);
}

/* Applies one operation's new (forward) or old (back) value. */
static int op_apply(QaStore *s, const Op *o, int back, Err *e)
{
    int v = back ? o->old_i : o->new_i;
    const char *t = back ? o->old_s : o->new_s;
    switch (o->kind) {
    case OP_STATUS: return qa_set_status(s, o->id, (QaStatus)v, e);
    case OP_GOLDEN: return qa_set_golden(s, o->id, v, e);
    case OP_DELETED: return qa_delete(s, o->id, v, e);
    case OP_QUESTION: return qa_edit(s, o->id, "question", t, e);
    case OP_ANSWER: return qa_edit(s, o->id, "answer", t, e);
    }
    return -1;
}

static void recheck(Review *rv, Workbench *wb)
{
    /* a text changed (an edit, its undo, a new record): count again lazily */
    for (size_t i = 0; i < rv->n_marked_cap; i++)
        rv->tokens[i] = -2;
    if (!rv->checker_ok)
        return;
    Err e;
    size_t n = 0;
    if (qa_flags_update(store(wb), &rv->checker.opts, &n, &e) != 0)
        wb_message(wb, UI_BAD, "quality flags: %s", e.msg);
}

/* Runs a group of operations as one undoable step; ops are owned by the
 * group afterwards.  Stops at the first failure (the ones done stay done
 * and undoable). */
static void run_group(Review *rv, Workbench *wb, Op *ops, size_t n, int texts_changed)
{
    Err e;
    size_t done = 0;
    for (; done < n; done++)
        if (op_apply(store(wb), &ops[done], 0, &e) != 0) {
            wb_message(wb, UI_BAD, "%s", e.msg);
            break;
        }
    for (size_t i = done; i < n; i++)
        op_free(&ops[i]);
    if (done == 0) {
        free(ops);
        return;
    }
    stack_clear(rv->redo, &rv->n_redo);
    stack_push(rv->undo, &rv->n_undo, (OpGroup){ops, done});
    if (texts_changed)
        recheck(rv, wb);
}

static void undo_redo(Review *rv, Workbench *wb, int redo)
{
    OpGroup *from = redo ? rv->redo : rv->undo, *to = redo ? rv->undo : rv->redo;
    int *nf = redo ? &rv->n_redo : &rv->n_undo, *nt = redo ? &rv->n_undo : &rv->n_redo;
    if (*nf == 0) {
        wb_message(wb, UI_WARN, redo ? "nothing to redo" : "nothing to undo");
        return;
    }
    OpGroup g = from[--(*nf)];
    Err e;
    int texts = 0;
    for (size_t k = 0; k < g.n; k++) {
        size_t i = redo ? k : g.n - 1 - k;
        texts |= g.ops[i].kind == OP_QUESTION || g.ops[i].kind == OP_ANSWER || g.ops[i].kind == OP_DELETED;
        if (op_apply(store(wb), &g.ops[i], !redo, &e) != 0) {
            wb_message(wb, UI_BAD, "%s", e.msg);
            break;
        }
    }
    stack_push(to, nt, g);
    if (texts)
        recheck(rv, wb);
    wb_message(wb, UI_NORMAL, "%s %zu change%s", redo ? "redid" : "undid", g.n, g.n == 1 ? "" : "s");
    refilter(rv, wb);
}

/* The records a key acts on: the marked ones that the list shows (a mark
 * hidden by a filter or search is not acted on blindly), else the
 * selected one. */
static size_t targets(Review *rv, Workbench *wb, size_t **out)
{
    *out = malloc((rv->n_rows + 1) * sizeof **out);
    if (!*out)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < rv->n_rows; i++)
        if (rv->marked[rv->rows[i]])
            (*out)[n++] = rv->rows[i];
    if (!n && selected(rv, wb))
        (*out)[n++] = rv->rows[rv->sel];
    return n;
}

/* a / r / p / g / d on the targets. */
static void act(Review *rv, Workbench *wb, int key)
{
    size_t *idx;
    size_t n = targets(rv, wb, &idx);
    if (!n) {
        free(idx);
        wb_message(wb, UI_WARN, "no record selected");
        return;
    }
    QaStore *s = store(wb);
    Op *ops = calloc(2 * n, sizeof *ops);
    size_t k = 0;
    /* g toggles by the first record, so a mixed selection ends all alike */
    int golden_to = !s->r[idx[0]].golden, deleted_to = !s->r[idx[0]].deleted;
    for (size_t i = 0; ops && i < n; i++) {
        const QaRecord *r = &s->r[idx[i]];
        Op o = {.id = r->id};
        if (key == 'a' || key == 'r' || key == 'p') {
            QaStatus st = key == 'a' ? QA_APPROVED : key == 'r' ? QA_REJECTED : QA_PENDING;
            if (r->status == st)
                continue;
            if (st != QA_APPROVED && r->golden) /* Golden Data is approved data */
                ops[k++] = (Op){.id = r->id, .kind = OP_GOLDEN, .old_i = 1, .new_i = 0};
            o.kind = OP_STATUS, o.old_i = (int)r->status, o.new_i = (int)st;
        } else if (key == 'g') {
            if (r->golden == golden_to)
                continue;
            o.kind = OP_GOLDEN, o.old_i = r->golden, o.new_i = golden_to;
            if (golden_to && r->status != QA_APPROVED)
                ops[k++] = (Op){.id = r->id, .kind = OP_STATUS, .old_i = (int)r->status, .new_i = QA_APPROVED};
        } else {
            if (r->deleted == deleted_to)
                continue;
            o.kind = OP_DELETED, o.old_i = r->deleted, o.new_i = deleted_to;
        }
        ops[k++] = o;
    }
    free(idx);
    if (!ops) {
        wb_message(wb, UI_BAD, "out of memory");
        return;
    }
    if (!k) {
        free(ops);
        wb_message(wb, UI_NORMAL, "nothing to change");
        return;
    }
    run_group(rv, wb, ops, k, key == 'd');
    wb_message(wb, UI_GOOD, "%s %zu record%s (saved; u undoes)",
               key == 'a' ? "approved" : key == 'r' ? "rejected" : key == 'p' ? "set pending" :
               key == 'g' ? (golden_to ? "marked golden" : "unmarked golden") :
               deleted_to ? "deleted" : "restored", n, n == 1 ? "" : "s");
    memset(rv->marked, 0, rv->n_marked_cap);
    /* a record that left the filter leaves the list; the next one is selected */
    int sel = rv->sel;
    refilter(rv, wb);
    if (n == 1 && rv->n_rows && rv->sel == 0 && sel > 0)
        rv->sel = sel < (int)rv->n_rows ? sel : (int)rv->n_rows - 1;
}

/* ---- the editor ---- */

static int editor_open(Review *rv, Workbench *wb, long id, const char *q, const char *a, int golden)
{
    Err e;
    if (te_init(&rv->fq, q, strlen(q), &e) != 0)
        return wb_message(wb, UI_BAD, "%s", e.msg), -1;
    if (te_init(&rv->fa, a, strlen(a), &e) != 0) {
        te_free(&rv->fq);
        return wb_message(wb, UI_BAD, "%s", e.msg), -1;
    }
    rv->editing = 1;
    rv->edit_id = id;
    rv->edit_golden = golden;
    rv->field = *q ? 1 : 0;
    rv->scroll_q = rv->scroll_a = 0;
    rv->discard_armed = 0;
    return 0;
}

static void editor_close(Review *rv)
{
    te_free(&rv->fq);
    te_free(&rv->fa);
    rv->editing = 0;
}

static int editor_changed(Review *rv, Workbench *wb)
{
    if (rv->edit_id == 0)
        return rv->fq.len || rv->fa.len;
    const QaRecord *r = qa_find(store(wb), rv->edit_id);
    return !r || strcmp(r->question, te_text(&rv->fq)) || strcmp(r->answer, te_text(&rv->fa));
}

static void editor_save(Review *rv, Workbench *wb)
{
    QaStore *s = store(wb);
    const char *q = te_text(&rv->fq), *a = te_text(&rv->fa);
    if (!*q) {
        wb_message(wb, UI_WARN, "the question is empty");
        return;
    }
    Err e;
    if (rv->edit_id == 0) {
        long id = qa_add(s, q, a, "workbench", &e);
        if (id < 0) {
            wb_message(wb, UI_BAD, "%s", e.msg);
            return;
        }
        /* undo of a new record is its deletion; the record stays in the file */
        Op *ops = calloc(3, sizeof *ops);
        size_t k = 0;
        if (ops) {
            if (rv->edit_golden) {
                ops[k++] = (Op){.id = id, .kind = OP_STATUS, .old_i = QA_PENDING, .new_i = QA_APPROVED};
                ops[k++] = (Op){.id = id, .kind = OP_GOLDEN, .old_i = 0, .new_i = 1};
            }
            /* already applied (qa_add), so recorded, not run */
            for (size_t i = 0; i < k; i++)
                if (op_apply(s, &ops[i], 0, &e) != 0)
                    wb_message(wb, UI_BAD, "%s", e.msg);
            ops[k++] = (Op){.id = id, .kind = OP_DELETED, .old_i = 1, .new_i = 0};
            stack_clear(rv->redo, &rv->n_redo);
            stack_push(rv->undo, &rv->n_undo, (OpGroup){ops, k});
        }
        recheck(rv, wb);
        wb_message(wb, UI_GOOD, "added record #%ld (%s; saved)", id, rv->edit_golden ? "golden" : "pending");
        editor_close(rv);
        refilter(rv, wb);
        for (size_t i = 0; i < rv->n_rows; i++)
            if (s->r[rv->rows[i]].id == id)
                rv->sel = (int)i;
        return;
    }
    const QaRecord *r = qa_find(s, rv->edit_id);
    if (!r) {
        editor_close(rv);
        return;
    }
    Op *ops = calloc(2, sizeof *ops);
    size_t k = 0;
    if (!ops) {
        wb_message(wb, UI_BAD, "out of memory");
        return;
    }
    if (strcmp(r->question, q) != 0)
        ops[k++] = (Op){.id = r->id, .kind = OP_QUESTION, .old_s = strdup(r->question), .new_s = strdup(q)};
    if (strcmp(r->answer, a) != 0)
        ops[k++] = (Op){.id = r->id, .kind = OP_ANSWER, .old_s = strdup(r->answer), .new_s = strdup(a)};
    for (size_t i = 0; i < k; i++)
        if (!ops[i].old_s || !ops[i].new_s) {
            for (size_t j = 0; j < k; j++)
                op_free(&ops[j]);
            free(ops);
            wb_message(wb, UI_BAD, "out of memory");
            return;
        }
    long id = rv->edit_id;
    if (k) {
        if (rv->tokens && rv->rows && rv->n_rows)
            rv->tokens[rv->rows[rv->sel]] = -2;
        run_group(rv, wb, ops, k, 1);
        wb_message(wb, UI_GOOD, "saved record #%ld", id);
    } else {
        free(ops);
        wb_message(wb, UI_NORMAL, "no change");
    }
    editor_close(rv);
    refilter(rv, wb);
}

static int editor_key(Review *rv, Workbench *wb, wint_t key, int is_fn)
{
    TextEdit *t = rv->field ? &rv->fa : &rv->fq;
    if (!is_fn && key == 27) {
        if (editor_changed(rv, wb) && !rv->discard_armed) {
            rv->discard_armed = 1;
            wb_message(wb, UI_WARN, "unsaved changes: Esc again discards them, Ctrl-S saves");
            return 1;
        }
        editor_close(rv);
        wb_message(wb, UI_NORMAL, "edit cancelled");
        return 1;
    }
    rv->discard_armed = 0;
    if (!is_fn && key == 19) { /* Ctrl-S */
        editor_save(rv, wb);
        return 1;
    }
    if ((!is_fn && key == '\t') || (is_fn && key == KEY_BTAB)) {
        rv->field = !rv->field;
        return 1;
    }
    Err e;
    int rc = field_key(t, key, is_fn, rv->field_width, 1, &e);
    if (rc < 0)
        wb_message(wb, UI_BAD, "%s", e.msg);
    if (rc == 0 && is_fn && (key == KEY_UP || key == KEY_DOWN)) /* past the field's edge */
        rv->field = key == KEY_DOWN;
    return 1;
}

/* ---- drawing ---- */

static int tokens_of(Review *rv, Workbench *wb, size_t i)
{
    if (!rv->checker_ok || !rv->checker.tok || i >= rv->n_marked_cap)
        return -1;
    if (rv->tokens[i] == -2) {
        const QaRecord *r = &store(wb)->r[i];
        rv->tokens[i] = qa_checker_tokens(&rv->checker, r->question, r->answer);
    }
    return rv->tokens[i];
}

static void draw_counts(Review *rv, Workbench *wb, int y, int x, int w)
{
    QaStore *s = store(wb);
    int c[F_COUNT] = {0};
    for (size_t i = 0; i < s->n; i++) {
        const QaRecord *r = &s->r[i];
        if (r->deleted) {
            c[F_DELETED]++;
            continue;
        }
        c[F_ALL]++;
        c[r->status == QA_PENDING ? F_PENDING : r->status == QA_APPROVED ? F_APPROVED : F_REJECTED]++;
        c[F_GOLDEN] += r->golden != 0;
        c[F_FLAGGED] += r->flags != 0;
    }
    char line[512];
    int m = n_marked(rv, s);
    char filt[96];
    if (rv->filter == F_FLAGGED && rv->flag_filter >= 0)
        snprintf(filt, sizeof filt, "flag %s", qa_flag_name(rv->flag_filter));
    else
        snprintf(filt, sizeof filt, "%s", filter_name[rv->filter]);
    /* what the list shows first: the counts may be cut, the state not */
    int len = snprintf(line, sizeof line, "showing %zu (%s)", rv->n_rows, filt);
    if (m && len > 0 && (size_t)len < sizeof line)
        len += snprintf(line + len, sizeof line - (size_t)len, ", %d marked", m);
    if (len > 0 && (size_t)len < sizeof line)
        snprintf(line + len, sizeof line - (size_t)len, " | %d records: %d pending, %d approved, %d rejected, %d golden, %d flagged",
                 c[F_ALL], c[F_PENDING], c[F_APPROVED], c[F_REJECTED], c[F_GOLDEN], c[F_FLAGGED]);
    ui_putw(stdscr, y, x, w, line, UI_TITLE);
}

static void draw_list(Review *rv, Workbench *wb, int y, int x, int h, int w)
{
    QaStore *s = store(wb);
    if (rv->sel < rv->top)
        rv->top = rv->sel;
    if (rv->sel >= rv->top + h)
        rv->top = rv->sel - h + 1;
    if (!rv->n_rows) {
        ui_put(stdscr, y, x + 2, w - 2,
               s->n ? "No record matches (Esc clears the search and filter)." : "The QA store is empty: n adds a record.",
               UI_DIM);
        return;
    }
    int seq = wb->cfg.train.sft.seq_len;
    for (int row = 0; row < h && rv->top + row < (int)rv->n_rows; row++) {
        size_t i = rv->rows[rv->top + row];
        const QaRecord *r = &s->r[i];
        int sel = rv->top + row == rv->sel;
        int yy = y + row, xx = x;
        if (sel)
            ui_fill(stdscr, yy, x, w, UI_SELECT);
        UiRole base = sel ? UI_SELECT : UI_NORMAL;
        xx += ui_put(stdscr, yy, xx, 2, rv->marked[i] ? "* " : "  ", sel ? UI_SELECT : UI_ACCENT);
        xx += ui_printf(stdscr, yy, xx, 6, base, "%5ld", r->id) + 1;
        const char *st = r->deleted ? "del" : r->status == QA_APPROVED ? "ok" : r->status == QA_REJECTED ? "rej" : "new";
        UiRole sr = sel ? UI_SELECT : r->deleted ? UI_DIM : r->status == QA_APPROVED ? UI_GOOD
                    : r->status == QA_REJECTED ? UI_BAD : UI_WARN;
        ui_put(stdscr, yy, xx, 3, st, sr);
        xx += 4;
        ui_put(stdscr, yy, xx, 1, r->golden ? "G" : " ", sel ? UI_SELECT : UI_GOLD);
        ui_put(stdscr, yy, xx + 1, 1, r->flags ? "!" : " ", sel ? UI_SELECT : UI_WARN);
        xx += 3;
        if (rv->show_tokens) {
            int n = tokens_of(rv, wb, i);
            ui_printf(stdscr, yy, xx, 5, sel ? UI_SELECT : n > seq ? UI_BAD : UI_DIM, n < 0 ? "    ?" : "%5d", n);
            xx += 6;
        }
        ui_put(stdscr, yy, xx, x + w - xx, r->question, base);
    }
}

static void draw_wrapped(const char *label, const char *text, int *y, int x, int y_end, int w, UiRole role)
{
    if (*y >= y_end)
        return;
    ui_put(stdscr, *y, x, 3, label, UI_TITLE);
    TwLine *lines = NULL;
    size_t n = 0;
    Err e;
    if (tw_wrap(text, strlen(text), (size_t)(w - 3), &lines, &n, &e) != 0)
        return;
    for (size_t i = 0; i < n && *y < y_end; i++, (*y)++)
        ui_put_row(stdscr, *y, x + 3, w - 3, text, lines[i].start, lines[i].end, role);
    free(lines);
}

static void draw_detail(Review *rv, Workbench *wb, int y, int x, int h, int w)
{
    QaRecord *r = selected(rv, wb);
    if (!r || h < 2)
        return;
    int y_end = y + h;
    char head[256];
    int n = tokens_of(rv, wb, rv->rows[rv->sel]);
    char tok[64] = "";
    if (n >= 0)
        snprintf(tok, sizeof tok, "  %d/%d tokens%s", n, wb->cfg.train.sft.seq_len,
                 n > wb->cfg.train.sft.seq_len ? " (truncated)" : "");
    snprintf(head, sizeof head, "#%ld  %s%s%s  %s%s  %zu change%s in its history", r->id, r->deleted ? "deleted, " : "",
             qa_status_name(r->status), r->golden ? ", golden" : "", r->source[0] ? r->source : "(no source)", tok,
             r->n_hist, r->n_hist == 1 ? "" : "s");
    ui_putw(stdscr, y++, x, w, head, UI_TITLE);
    draw_wrapped("Q ", r->question, &y, x, y_end, w, UI_NORMAL);
    draw_wrapped("A ", r->answer, &y, x, y_end, w, UI_NORMAL);
    if (r->flags && y < y_end) {
        const char *p = r->reasons;
        while (*p && y < y_end) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            char *line = strndup(p, len);
            if (line)
                ui_printf(stdscr, y++, x, w, UI_WARN, "! %s", line);
            free(line);
            p += len + (nl ? 1 : 0);
        }
    }
}

static void draw_editor(Review *rv, Workbench *wb, int y, int x, int h, int w)
{
    ui_putw(stdscr, y, x, w,
            rv->edit_id ? "Editing: Tab switches field, Ctrl-S saves, Esc cancels" :
            rv->edit_golden ? "New Golden Data record: Tab switches field, Ctrl-S saves, Esc cancels" :
                              "New record: Tab switches field, Ctrl-S saves, Esc cancels",
            UI_TITLE);
    int hq = (h - 3) / 3 < 2 ? 2 : (h - 3) / 3, ha = h - 3 - hq;
    if (ha < 1)
        ha = 1;
    rv->field_width = (size_t)(w - 4);
    /* the field with the keys is marked in text too, for monochrome */
    rv->field_y[0] = y + 2 - rv->pane_y, rv->field_h[0] = hq;
    rv->field_y[1] = y + 3 + hq - rv->pane_y, rv->field_h[1] = ha;
    ui_put(stdscr, y + 1, x, w, rv->field == 0 ? "> Question (editing)" : "  Question", rv->field == 0 ? UI_ACCENT : UI_DIM);
    field_draw(stdscr, &rv->fq, y + 2, x + 2, hq, w - 3, &rv->scroll_q, rv->field == 0, UI_NORMAL);
    ui_put(stdscr, y + 2 + hq, x, w, rv->field == 1 ? "> Answer (editing)" : "  Answer", rv->field == 1 ? UI_ACCENT : UI_DIM);
    field_draw(stdscr, &rv->fa, y + 3 + hq, x + 2, ha, w - 3, &rv->scroll_a, rv->field == 1, UI_NORMAL);
}

static void review_draw(Pane *p, Workbench *wb, int y, int x, int h, int w)
{
    Review *rv = p->self;
    rv->pane_y = y;
    if (!wb->store_open) {
        ui_put(stdscr, y + 1, x + 2, w - 2, "No QA store: set data.qa in infuse.yaml.", UI_WARN);
        return;
    }
    draw_counts(rv, wb, y, x, w);
    int rest = h - 1 - (rv->searching || rv->search[0] ? 1 : 0);
    if (rv->searching || rv->search[0]) {
        ui_printf(stdscr, y + 1, x, w, rv->searching ? UI_ACCENT : UI_DIM, "/%s%s", rv->search,
                  rv->searching ? "_   (Enter keeps, Esc clears)" : "");
        y++;
    }
    if (rv->editing) {
        int lh = rest / 3 < 3 ? 3 : rest / 3;
        rv->list_h = lh;
        draw_list(rv, wb, y + 1, x, lh, w);
        mvwhline(stdscr, y + 1 + lh, x, ACS_HLINE, w);
        draw_editor(rv, wb, y + 2 + lh, x, rest - lh - 1, w);
        return;
    }
    int lh = rest / 2;
    rv->list_h = lh;
    draw_list(rv, wb, y + 1, x, lh, w);
    mvwhline(stdscr, y + 1 + lh, x, ACS_HLINE, w);
    draw_detail(rv, wb, y + 2 + lh, x, rest - lh - 1, w);
}

/* ---- keys ---- */

static void move_sel(Review *rv, int d)
{
    rv->sel += d;
    if (rv->sel >= (int)rv->n_rows)
        rv->sel = (int)rv->n_rows - 1;
    if (rv->sel < 0)
        rv->sel = 0;
}

static int search_key(Review *rv, Workbench *wb, wint_t key, int is_fn)
{
    size_t n = strlen(rv->search);
    if (!is_fn && (key == '\r' || key == '\n')) {
        rv->searching = 0;
    } else if (!is_fn && key == 27) {
        rv->searching = 0;
        rv->search[0] = 0;
    } else if ((is_fn && key == KEY_BACKSPACE) || (!is_fn && (key == 127 || key == 8))) {
        if (n) {
            size_t p = tw_prev(rv->search, n, n);
            rv->search[p] = 0;
        }
    } else if ((!is_fn && key >= 32) || (is_fn && key == KEY_PASTE_NEWLINE)) {
        char buf[8];
        size_t k = is_fn ? (buf[0] = ' ', 1) : field_key_utf8(key, buf);
        if (k && n + k < sizeof rv->search) {
            memcpy(rv->search + n, buf, k);
            rv->search[n + k] = 0;
        }
    } else if (is_fn && (key == KEY_UP || key == KEY_DOWN)) {
        move_sel(rv, key == KEY_UP ? -1 : 1);
        return 1;
    } else {
        return 1;
    }
    refilter(rv, wb);
    return 1;
}

static int review_key(Pane *p, Workbench *wb, wint_t key, int is_fn)
{
    Review *rv = p->self;
    if (!wb->store_open)
        return 0;
    p->needs_redraw = 1;
    /* Shift-Tab switches panes from the search line (the editor uses it) */
    if (is_fn && key == KEY_BTAB && !rv->editing)
        return p->needs_redraw = 0, 0;
    if (rv->editing)
        return editor_key(rv, wb, key, is_fn);
    if (rv->searching)
        return search_key(rv, wb, key, is_fn);
    QaRecord *r = selected(rv, wb);
    if (is_fn) {
        int page = rv->list_h > 1 ? rv->list_h - 1 : 1;
        switch (key) {
        case KEY_UP: move_sel(rv, -1); return 1;
        case KEY_DOWN: move_sel(rv, 1); return 1;
        case KEY_PPAGE: move_sel(rv, -page); return 1;
        case KEY_NPAGE: move_sel(rv, page); return 1;
        case KEY_HOME: rv->sel = 0; return 1;
        case KEY_END: move_sel(rv, (int)rv->n_rows); return 1;
        case KEY_ENTER: break;
        default: p->needs_redraw = 0; return 0;
        }
    }
    switch (key) {
    case 'k': move_sel(rv, -1); return 1;
    case 'j': move_sel(rv, 1); return 1;
    case 'a': case 'r': case 'p': case 'g': case 'd': act(rv, wb, (int)key); return 1;
    case ' ':
        if (r) {
            rv->marked[rv->rows[rv->sel]] ^= 1;
            move_sel(rv, 1);
        }
        return 1;
    case 'M': memset(rv->marked, 0, rv->n_marked_cap); return 1;
    case 'u': undo_redo(rv, wb, 0); return 1;
    case 'U': case 18: undo_redo(rv, wb, 1); return 1;
    case 'e': case '\r': case '\n': case KEY_ENTER:
        if (r)
            editor_open(rv, wb, r->id, r->question, r->answer, 0);
        return 1;
    case 'n': editor_open(rv, wb, 0, "", "", 0); return 1;
    case 'f':
        rv->filter = (rv->filter + 1) % F_COUNT;
        rv->flag_filter = -1;
        refilter(rv, wb);
        return 1;
    case 'F':
        rv->filter = F_FLAGGED;
        rv->flag_filter = rv->flag_filter + 1 >= QA_N_FLAGS ? -1 : rv->flag_filter + 1;
        refilter(rv, wb);
        return 1;
    case '/': rv->searching = 1; return 1;
    case 27:
        rv->search[0] = 0;
        rv->filter = F_ALL;
        rv->flag_filter = -1;
        refilter(rv, wb);
        return 1;
    case 't':
        rv->show_tokens = !rv->show_tokens;
        if (rv->show_tokens && (!rv->checker_ok || !rv->checker.tok))
            wb_message(wb, UI_WARN, "no tokenizer (model folder), so no token lengths");
        return 1;
    default: p->needs_redraw = 0; return 0;
    }
}

static void review_click(Pane *p, Workbench *wb, int row, int col)
{
    Review *rv = p->self;
    int first = 1 + (rv->searching || rv->search[0] ? 1 : 0);
    if (rv->editing) {
        /* a click in a field focuses it and puts the cursor there; the
         * fields are drawn from column 2 */
        for (int f = 0; f < 2; f++)
            if (row >= rv->field_y[f] && row < rv->field_y[f] + rv->field_h[f]) {
                rv->field = f;
                rv->discard_armed = 0;
                te_point(f ? &rv->fa : &rv->fq, rv->field_width,
                         (size_t)((f ? rv->scroll_a : rv->scroll_q) + row - rv->field_y[f]), col > 2 ? (size_t)(col - 2) : 0);
                p->needs_redraw = 1;
            }
        return;
    }
    if (row < first || row >= first + rv->list_h)
        return;
    int i = rv->top + row - first;
    if (i < (int)rv->n_rows)
        rv->sel = i;
    p->needs_redraw = 1;
}

static int review_captures(Pane *p)
{
    Review *rv = p->self;
    return rv->editing || rv->searching;
}

static void review_show(Pane *p, Workbench *wb)
{
    refilter(p->self, wb);
}

static void review_destroy(Pane *p)
{
    Review *rv = p->self;
    if (!rv)
        return;
    if (rv->editing)
        editor_close(rv);
    stack_clear(rv->undo, &rv->n_undo);
    stack_clear(rv->redo, &rv->n_redo);
    if (rv->checker_ok)
        qa_checker_free(&rv->checker);
    free(rv->rows);
    free(rv->marked);
    free(rv->tokens);
    free(rv);
    p->self = NULL;
}

void review_pane_search(Pane *p, Workbench *wb, const char *text)
{
    Review *rv = p->self;
    snprintf(rv->search, sizeof rv->search, "%s", text);
    rv->filter = F_ALL;
    rv->searching = 0;
    refilter(rv, wb);
    p->needs_redraw = 1;
}

long review_pane_add(Pane *p, Workbench *wb, const char *question, const char *answer, int golden)
{
    Review *rv = p->self;
    if (!wb->store_open || rv->editing)
        return -1;
    editor_open(rv, wb, 0, question, answer, golden);
    p->needs_redraw = 1;
    return 0;
}

int review_pane_init(Pane *p, Workbench *wb, Err *e)
{
    Review *rv = calloc(1, sizeof *rv);
    if (!rv)
        return err_set(e, "out of memory");
    rv->flag_filter = -1;
    *p = (Pane){.name = "Review", .self = rv, .draw = review_draw, .on_key = review_key,
                .on_click = review_click, .on_show = review_show, .captures = review_captures,
                .destroy = review_destroy, .keys = review_keys};
    if (wb->store_open) {
        Err ce;
        if (qa_checker_load(&rv->checker, &wb->cfg, &ce) == 0)
            rv->checker_ok = 1;
        else
            wb_message(wb, UI_WARN, "quality checks off: %s", ce.msg);
        if (grow_arrays(rv, wb->store.n) != 0)
            return err_set(e, "out of memory");
        refilter(rv, wb);
    }
    return 0;
}
