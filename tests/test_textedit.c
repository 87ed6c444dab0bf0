/* test_textedit.c - the edit buffer: cleaning what comes in, cluster and
 * word motion, deletion, undo and redo, vertical motion with a goal column
 * over lines and over wrapped rows, large pastes and the history's bounds.
 *
 * Byte offsets are worked out by hand from the UTF-8 lengths noted beside
 * each string (Hangul syllables are 3 bytes and 2 columns). */
#include "test.h"

#include "textedit.h"

#include <time.h>

#define ACUTE   "\xcc\x81"                                   /* U+0301, 2 bytes */
#define FAMILY  "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7" /* 18 */
#define RI_K    "\xf0\x9f\x87\xb0"                           /* 4 */
#define RI_R    "\xf0\x9f\x87\xb7"
#define FFFD    "\xef\xbf\xbd"

static Err e;

static int is(const TextEdit *t, const char *s)
{
    return t->len == strlen(s) && strcmp(te_text(t), s) == 0;
}
#define TEXT_IS(t, s) CHECKF(is(t, s), "text is \"%s\", want \"%s\"", te_text(t), s)

static int init(TextEdit *t, const char *s)
{
    return te_init(t, s, strlen(s), &e);
}

/* Types s one character at a time, as keys arrive. */
static void type_keys(TextEdit *t, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = 1;
        while (i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
            k++;
        te_type(t, s + i, k, &e);
        i += k;
    }
}

static void test_clean(void)
{
    TextEdit t;
    CHECK(te_init(&t, "a\r\nb\rc\xff" "d\0e", 10, &e) == 0);
    TEXT_IS(&t, "a\nb\nc" FFFD "d" FFFD "e");
    CHECK(t.cur == t.len && t.len == 13);
    te_free(&t);

    CHECK(te_init(&t, NULL, 0, &e) == 0);
    TEXT_IS(&t, "");
    CHECK(t.cur == 0 && te_text(&t) != NULL);
    CHECK(te_insert(&t, "x\xffy\xe2\x82", 5, &e) == 1);   /* a bad byte and a truncated tail */
    TEXT_IS(&t, "x" FFFD "y" FFFD);
    CHECK(t.cur == 8);
    CHECK(te_insert(&t, "", 0, &e) == 0);
    CHECK(te_insert(&t, "\xed\xa0\x80", 3, &e) == 1);     /* a surrogate: three ill-formed parts */
    TEXT_IS(&t, "x" FFFD "y" FFFD FFFD FFFD FFFD);
    te_free(&t);
}

static void test_motion(void)
{
    /* a 0-1, e+acute 1-4, family 4-22, 한 22-25, flag 25-33, z 33-34 */
    TextEdit t;
    CHECK(init(&t, "a" "e" ACUTE FAMILY "한" RI_K RI_R "z") == 0);
    CHECK(t.cur == 34);
    size_t left[] = {33, 25, 22, 4, 1, 0};
    for (size_t i = 0; i < 6; i++) {
        CHECK(te_left(&t) == 1);
        CHECKF(t.cur == left[i], "left %zu: at %zu, want %zu", i, t.cur, left[i]);
    }
    CHECK(te_left(&t) == 0 && t.cur == 0);
    size_t right[] = {1, 4, 22, 25, 33, 34};
    for (size_t i = 0; i < 6; i++) {
        CHECK(te_right(&t) == 1);
        CHECKF(t.cur == right[i], "right %zu: at %zu, want %zu", i, t.cur, right[i]);
    }
    CHECK(te_right(&t) == 0 && t.cur == 34);
    CHECK(te_buf_start(&t) == 1 && t.cur == 0);
    CHECK(te_buf_start(&t) == 0);
    CHECK(te_buf_end(&t) == 1 && t.cur == 34);

    te_set_cursor(&t, 10);                  /* inside the family */
    CHECK(t.cur == 4);
    te_set_cursor(&t, 2);                   /* inside e+acute */
    CHECK(t.cur == 1);
    te_set_cursor(&t, 500);
    CHECK(t.cur == 34);
    te_free(&t);

    /* Hello 0-5, ',' 5, ' ' 6, 세계 7-13, '!' 13, ' ' 14, foo 15-18 */
    CHECK(init(&t, "Hello, 세계! foo") == 0);
    te_buf_start(&t);
    CHECK(te_word_right(&t) == 1 && t.cur == 5);
    CHECK(te_word_right(&t) == 1 && t.cur == 13);
    CHECK(te_word_right(&t) == 1 && t.cur == 18);
    CHECK(te_word_right(&t) == 0 && t.cur == 18);
    CHECK(te_word_left(&t) == 1 && t.cur == 15);
    CHECK(te_word_left(&t) == 1 && t.cur == 7);
    CHECK(te_word_left(&t) == 1 && t.cur == 0);
    CHECK(te_word_left(&t) == 0);
    te_free(&t);

    /* home and end of logical lines: "ab" 0-2, "cd" 3-5 */
    CHECK(init(&t, "ab\ncd") == 0);
    CHECK(te_home(&t, 0) == 1 && t.cur == 3);
    CHECK(te_home(&t, 0) == 0);
    CHECK(te_end(&t, 0) == 1 && t.cur == 5);
    te_set_cursor(&t, 1);
    CHECK(te_end(&t, 0) == 1 && t.cur == 2);
    CHECK(te_home(&t, 0) == 1 && t.cur == 0);
    te_free(&t);
}

static void test_delete(void)
{
    TextEdit t;
    /* a 0-1, e+acute 1-4, family 4-22, z 22-23 */
    CHECK(init(&t, "a" "e" ACUTE FAMILY "z") == 0);
    te_left(&t);
    CHECK(te_backspace(&t, &e) == 1);       /* the whole family */
    TEXT_IS(&t, "a" "e" ACUTE "z");
    CHECK(t.cur == 4);
    te_buf_start(&t);
    te_right(&t);
    CHECK(te_delete(&t, &e) == 1);          /* e and its accent */
    TEXT_IS(&t, "az");
    CHECK(t.cur == 1);
    te_buf_end(&t);
    CHECK(te_delete(&t, &e) == 0);
    te_buf_start(&t);
    CHECK(te_backspace(&t, &e) == 0);
    te_free(&t);

    /* ctrl-w: back over spaces, then the word */
    CHECK(init(&t, "hello world  ") == 0);
    CHECK(te_delete_word(&t, &e) == 1);
    TEXT_IS(&t, "hello ");
    CHECK(t.cur == 6);
    CHECK(te_delete_word(&t, &e) == 1);
    TEXT_IS(&t, "");
    CHECK(te_delete_word(&t, &e) == 0);
    te_free(&t);

    CHECK(init(&t, "한국어 텍스트") == 0);
    CHECK(te_delete_word(&t, &e) == 1);
    TEXT_IS(&t, "한국어 ");
    CHECK(t.cur == 10);
    te_left(&t);
    te_left(&t);                            /* between 한국 and 어 */
    CHECK(t.cur == 6);
    CHECK(te_delete_word(&t, &e) == 1);
    TEXT_IS(&t, "어 ");
    CHECK(t.cur == 0);
    te_free(&t);

    /* Text that joins after an edit: the cursor keeps to boundaries. */
    CHECK(init(&t, RI_K) == 0);
    te_buf_start(&t);
    CHECK(te_type(&t, RI_R, 4, &e) == 1);   /* R then K: one flag, the cursor after it */
    TEXT_IS(&t, RI_R RI_K);
    CHECK(t.cur == 8);
    CHECK(te_backspace(&t, &e) == 1);
    TEXT_IS(&t, "");
    te_free(&t);
    /* e, a control, a lone accent: deleting the control joins e and the accent */
    CHECK(init(&t, "e\x01" ACUTE) == 0);
    te_set_cursor(&t, 2);
    CHECK(t.cur == 2);
    CHECK(te_backspace(&t, &e) == 1);
    TEXT_IS(&t, "e" ACUTE);
    CHECK(t.cur == 0);
    te_free(&t);
}

static void test_undo(void)
{
    TextEdit t;
    CHECK(init(&t, "") == 0);
    CHECK(te_undo(&t, &e) == 0);
    type_keys(&t, "hello");
    TEXT_IS(&t, "hello");
    CHECK(t.nsteps == 1);                   /* five keys, one step */
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "");
    CHECK(t.cur == 0);
    CHECK(te_undo(&t, &e) == 0);
    CHECK(te_redo(&t, &e) == 1);
    TEXT_IS(&t, "hello");
    CHECK(t.cur == 5);
    CHECK(te_redo(&t, &e) == 0);
    te_free(&t);

    /* A move ends the typing step. */
    CHECK(init(&t, "") == 0);
    type_keys(&t, "abc");
    te_left(&t);
    type_keys(&t, "XY");
    TEXT_IS(&t, "abXYc");
    CHECK(t.cur == 4);
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "abc");
    CHECK(t.cur == 2);
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "");
    CHECK(te_redo(&t, &e) == 1);
    TEXT_IS(&t, "abc");
    CHECK(t.cur == 3);
    CHECK(te_redo(&t, &e) == 1);
    TEXT_IS(&t, "abXYc");
    CHECK(t.cur == 4);
    CHECK(te_redo(&t, &e) == 0);
    te_free(&t);

    /* Deletions are steps of their own, each backspace one step. */
    CHECK(init(&t, "") == 0);
    type_keys(&t, "한국어");
    CHECK(te_backspace(&t, &e) == 1);
    CHECK(te_backspace(&t, &e) == 1);
    TEXT_IS(&t, "한");
    type_keys(&t, "글");
    TEXT_IS(&t, "한글");
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "한");
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "한국");
    CHECK(t.cur == 6);
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "한국어");
    CHECK(t.cur == 9);
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "");
    CHECK(te_undo(&t, &e) == 0);
    te_free(&t);

    /* A paste is its own step and ends the typing step. */
    CHECK(init(&t, "") == 0);
    type_keys(&t, "ab");
    te_insert(&t, "CD", 2, &e);
    type_keys(&t, "e");
    TEXT_IS(&t, "abCDe");
    CHECK(t.nsteps == 3);
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "abCD");
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "ab");
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "");
    te_free(&t);

    /* An edit after an undo drops what could have been redone; typing after
     * an undo starts a new step. */
    CHECK(init(&t, "") == 0);
    type_keys(&t, "abc");
    te_undo(&t, &e);
    type_keys(&t, "xy");
    CHECK(te_redo(&t, &e) == 0);
    TEXT_IS(&t, "xy");
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "");
    CHECK(te_redo(&t, &e) == 1);
    type_keys(&t, "z");
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "xy");
    te_free(&t);

    /* ctrl-w undone puts the word and the cursor back. */
    CHECK(init(&t, "one two") == 0);
    te_delete_word(&t, &e);
    TEXT_IS(&t, "one ");
    te_buf_start(&t);
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "one two");
    CHECK(t.cur == 7);
    CHECK(te_redo(&t, &e) == 1);
    TEXT_IS(&t, "one ");
    CHECK(t.cur == 4);
    te_free(&t);

    /* The history keeps the newest TE_UNDO_STEPS steps. */
    CHECK(init(&t, "") == 0);
    for (int i = 0; i < 250; i++) {
        te_type(&t, "a", 1, &e);
        te_right(&t);                       /* does not move, but ends the step */
    }
    CHECK(t.len == 250 && t.nsteps == TE_UNDO_STEPS);
    int undone = 0;
    while (te_undo(&t, &e) == 1)
        undone++;
    CHECK(undone == TE_UNDO_STEPS);
    CHECK(t.len == 50);
    te_free(&t);
}

static void test_vertical(void)
{
    TextEdit t;
    /* "abcdef" 0-6, "ab" 7-9, "abcdefgh" 10-18 */
    CHECK(init(&t, "abcdef\nab\nabcdefgh") == 0);
    te_set_cursor(&t, 5);
    CHECK(te_up(&t, 0) == 0 && t.cur == 5);
    CHECK(te_down(&t, 0) == 1 && t.cur == 9);   /* the short line's end */
    CHECK(te_down(&t, 0) == 1 && t.cur == 15);  /* the goal column, 5, again */
    CHECK(te_down(&t, 0) == 0 && t.cur == 15);
    CHECK(te_up(&t, 0) == 1 && t.cur == 9);
    CHECK(te_up(&t, 0) == 1 && t.cur == 5);
    te_set_cursor(&t, 15);
    te_left(&t);                                /* a sideways move forgets the goal */
    CHECK(t.cur == 14 && t.goal == TE_NO_GOAL);
    CHECK(te_up(&t, 0) == 1 && t.cur == 9);
    CHECK(te_up(&t, 0) == 1 && t.cur == 4);
    te_free(&t);

    /* 한국어텍스트 0-18 (12 columns), "abc" 19-22, "" at 23 */
    CHECK(init(&t, "한국어텍스트\nabc\n") == 0);
    te_set_cursor(&t, 22);                      /* column 3 */
    CHECK(te_up(&t, 0) == 1 && t.cur == 3);     /* column 3 is inside 국: before it */
    CHECK(te_down(&t, 0) == 1 && t.cur == 22);
    te_set_cursor(&t, 6);                       /* column 4 */
    CHECK(te_down(&t, 0) == 1 && t.cur == 22);  /* "abc" is shorter */
    CHECK(te_down(&t, 0) == 1 && t.cur == 23);  /* the empty last line */
    CHECK(te_down(&t, 0) == 0 && t.cur == 23);
    CHECK(te_up(&t, 0) == 1 && t.cur == 22);
    CHECK(te_up(&t, 0) == 1 && t.cur == 6);     /* back to column 4 */
    te_set_cursor(&t, 20);                      /* column 1 in "abc" */
    CHECK(te_up(&t, 0) == 1 && t.cur == 0);
    te_free(&t);

    /* Up and down move across clusters, never into them:
     * "e+acute xxxxxx" 0-9, "family y" 10-29 (the family is 6 columns) */
    CHECK(init(&t, "e" ACUTE "xxxxxx\n" FAMILY "y") == 0);
    te_set_cursor(&t, 8);                       /* column 6 */
    CHECK(te_down(&t, 0) == 1 && t.cur == 28);  /* after the family, at column 6 */
    te_set_cursor(&t, 3);                       /* column 1 */
    CHECK(te_down(&t, 0) == 1 && t.cur == 10);  /* column 1 is inside the family */
    CHECK(te_up(&t, 0) == 1 && t.cur == 3);
    te_free(&t);
}

static void test_wrapped(void)
{
    TextEdit t;
    /* width 5: rows "hello " 0-6, "world " 6-12, "foo" 12-15 */
    CHECK(init(&t, "hello world foo") == 0);
    te_set_cursor(&t, 14);                      /* column 2 of "foo" */
    CHECK(te_up(&t, 5) == 1 && t.cur == 8);
    CHECK(te_up(&t, 5) == 1 && t.cur == 2);
    CHECK(te_up(&t, 5) == 0 && t.cur == 2);
    CHECK(te_down(&t, 5) == 1 && t.cur == 8);
    CHECK(te_down(&t, 5) == 1 && t.cur == 14);
    CHECK(te_down(&t, 5) == 0);
    te_set_cursor(&t, 2);
    CHECK(te_end(&t, 5) == 1 && t.cur == 5);    /* before the row's last cluster, the space */
    CHECK(te_home(&t, 5) == 1 && t.cur == 0);
    te_set_cursor(&t, 8);
    CHECK(te_home(&t, 5) == 1 && t.cur == 6);
    CHECK(te_end(&t, 0) == 1 && t.cur == 15);   /* unwrapped, the line's end */
    CHECK(te_home(&t, 0) == 1 && t.cur == 0);
    te_free(&t);

    /* width 4, a long word: rows 0-4, 4-8, 8-10 */
    CHECK(init(&t, "abcdefghij") == 0);
    te_set_cursor(&t, 3);
    CHECK(te_down(&t, 4) == 1 && t.cur == 7);
    CHECK(te_down(&t, 4) == 1 && t.cur == 10);  /* "ij" is shorter */
    CHECK(te_up(&t, 4) == 1 && t.cur == 7);     /* the goal column, 3 */
    CHECK(te_up(&t, 0) == 0);                   /* unwrapped it is one line */
    te_free(&t);

    /* width 4: "abcd   " 0-7 and "ef" 7-9, then "abcd  " 10-16 and "ghij" 16-20.
     * From column 6 (the hanging spaces) down to "ef", then to the row
     * "abcd  ": column 6 is its end, which is the next row's start, so the
     * cursor stops before the last space. */
    CHECK(init(&t, "abcd   ef\nabcd  ghij") == 0);
    te_set_cursor(&t, 6);
    CHECK(te_down(&t, 4) == 1 && t.cur == 9);
    CHECK(te_down(&t, 4) == 1 && t.cur == 15);
    CHECK(te_down(&t, 4) == 1 && t.cur == 20);
    CHECK(te_up(&t, 4) == 1 && t.cur == 15);
    te_free(&t);

    /* Korean at width 5: rows 한국 0-6, "어 " 6-10, 텍스 10-16, 트 16-19 */
    CHECK(init(&t, "한국어 텍스트") == 0);
    CHECK(te_up(&t, 5) == 1 && t.cur == 13);    /* column 2 of 텍스, after 텍 */
    CHECK(te_up(&t, 5) == 1 && t.cur == 9);     /* column 2 of "어 ", before the space */
    CHECK(te_up(&t, 5) == 1 && t.cur == 3);
    CHECK(te_up(&t, 5) == 0);
    te_set_cursor(&t, 6);                       /* start of row 2, column 0 */
    CHECK(te_up(&t, 5) == 1 && t.cur == 0);
    te_free(&t);
}

/* Clicks: the row and column a mouse gives, on the text as drawn wrapped. */
static void test_point(void)
{
    TextEdit t;
    /* width 5: rows "hello " 0-6, "world " 6-12, "foo" 12-15 */
    CHECK(init(&t, "hello world foo") == 0);
    CHECK(te_point(&t, 5, 1, 2) == 1 && t.cur == 8);
    CHECK(te_point(&t, 5, 1, 2) == 0);          /* already there */
    CHECK(te_point(&t, 5, 0, 99) == 1 && t.cur == 5);   /* past a wrapped row's end: before its last cluster */
    CHECK(te_point(&t, 5, 2, 99) == 1 && t.cur == 15);  /* the last row's end is the text's end */
    CHECK(te_point(&t, 5, 7, 1) == 1 && t.cur == 13);   /* below the last row: the last row */
    CHECK(te_point(&t, 0, 0, 7) == 1 && t.cur == 7);    /* unwrapped: one row */
    CHECK(t.goal == TE_NO_GOAL && !t.typing);
    te_free(&t);

    /* "한국어" 0-9 (6 columns), "" at 10 after the newline */
    CHECK(init(&t, "한국어\n") == 0);
    CHECK(te_point(&t, 0, 0, 3) == 1 && t.cur == 3);    /* inside 국: before it */
    CHECK(te_point(&t, 0, 0, 4) == 1 && t.cur == 6);
    CHECK(te_point(&t, 0, 0, 9) == 1 && t.cur == 9);    /* a hard line's end: before its newline */
    CHECK(te_point(&t, 0, 1, 0) == 1 && t.cur == 10);   /* the empty last row */
    CHECK(te_point(&t, 0, 5, 5) == 0 && t.cur == 10);
    te_free(&t);

    CHECK(init(&t, "") == 0);
    CHECK(te_point(&t, 10, 3, 3) == 0 && t.cur == 0);
    te_free(&t);
}

static void test_large(void)
{
    /* A paste of 300 KB with CR LF line ends, then typing in its middle. */
    size_t unit = 31, reps = 10000, n = unit * reps;
    char *big = malloc(n);
    for (size_t i = 0; i < reps; i++)
        memcpy(big + i * unit, "한국어 text 텍스트 line\r\n", unit);   /* 9+1+4+1+9+1+4+2 bytes */
    TextEdit t;
    CHECK(init(&t, "[]") == 0);
    te_left(&t);
    clock_t c0 = clock();
    CHECK(te_insert(&t, big, n, &e) == 1);
    CHECK(t.len == 2 + (unit - 1) * reps);      /* each CR LF became LF */
    CHECK(t.cur == 1 + (unit - 1) * reps);
    CHECK(te_text(&t)[0] == '[' && te_text(&t)[t.len - 1] == ']' && te_text(&t)[t.len - 2] == '\n');
    CHECK(memchr(te_text(&t), '\r', t.len) == NULL);
    te_set_cursor(&t, t.len / 2);
    for (int i = 0; i < 2000; i++)
        te_type(&t, "x", 1, &e);
    CHECK(t.len == 2 + (unit - 1) * reps + 2000);
    for (int i = 0; i < 200; i++)
        te_down(&t, 40);
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    CHECKF(secs < 2.0, "paste, typing and moving took %.2f s", secs);
    CHECK(te_undo(&t, &e) == 1);                /* the 2000 keys were one step */
    CHECK(t.len == 2 + (unit - 1) * reps);
    CHECK(te_undo(&t, &e) == 1);
    TEXT_IS(&t, "[]");
    CHECK(t.cur == 1);
    CHECK(te_redo(&t, &e) == 1 && t.len == 2 + (unit - 1) * reps);
    te_free(&t);
    free(big);

    /* The history keeps at most TE_UNDO_BYTES of text (the newest step always). */
    size_t chunk = TE_UNDO_BYTES / 8 * 3;       /* 6 MB: two fit, three do not */
    big = malloc(chunk);
    memset(big, 'q', chunk);
    CHECK(init(&t, "") == 0);
    for (int i = 0; i < 4; i++)
        CHECK(te_insert(&t, big, chunk, &e) == 1);
    CHECK(t.len == 4 * chunk);
    CHECK(t.nsteps == 2 && t.step_bytes == 2 * chunk);
    CHECK(te_undo(&t, &e) == 1 && te_undo(&t, &e) == 1 && te_undo(&t, &e) == 0);
    CHECK(t.len == 2 * chunk);
    te_free(&t);
    free(big);
}

int main(void)
{
    test_clean();
    test_motion();
    test_delete();
    test_undo();
    test_vertical();
    test_wrapped();
    test_point();
    test_large();
    TEST_MAIN_END();
}
