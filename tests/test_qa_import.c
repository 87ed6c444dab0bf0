/* test_qa_import.c - every import format, bad lines reported and kept,
 * re-import adding nothing, and eval sets (one whose reference answer
 * contradicts the corpus included). */
#include "test.h"

#include "fsutil.h"
#include "qa_eval.h"
#include "qa_import.h"
#include "qa_store.h"

#define DIR "build/qa-import-test"

static void spit(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    fputs(s, f);
    fclose(f);
}

static const char *formats =
    "{\"question\": \"Q1?\", \"answer\": \"A1.\"}\n"
    "{\"instruction\": \"Q2?\", \"input\": \"\", \"output\": \"A2.\"}\n"
    "{\"instruction\": \"Summarize.\", \"input\": \"Some text.\", \"output\": \"A3.\"}\n"
    "{\"prompt\": \"Q4?\", \"completion\": \"A4.\"}\n"
    "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Q5?\"},"
    " {\"role\": \"assistant\", \"content\": \"A5.\"}, {\"role\": \"user\", \"content\": \"Q6?\"},"
    " {\"role\": \"assistant\", \"content\": \"A6.\"}]}\n"
    "{\"text\": \"User: Q7?\\n\\nAssistant: A7.\"}\n"
    "\n"
    "{\"question\": \"Q8?\", \"reference_answer\": \"A8.\"}\n"
    "{\"question\": \"Q9?\", \"gold_answer\": \"A9.\", \"category\": \"x\"}\n"
    "{\"question\": \"broken\", \"answer\": \n"
    "{\"foo\": 1}\n"
    "[1, 2]\n"
    "{\"question\": \"Q10?\", \"answer\": 5}\n"
    "{\"messages\": [{\"role\": \"user\", \"content\": \"no reply\"}]}\n";

static void test_formats(void)
{
    Err e;
    char path[] = DIR "/in.jsonl", store[] = DIR "/qa.jsonl", rejected[] = DIR "/qa.jsonl.rejected";
    spit(path, formats);
    QaStore s;
    CHECK(qa_store_open(&s, store, &e) == 0);
    QaImport im;
    CHECK(qa_import_file(&s, path, &im, &e) == 0);
    CHECK(im.n_added == 9 && im.first_id == 1 && im.last_id == 9 && s.n == 9);
    static const char *const q[] = {"Q1?", "Q2?", "Summarize.\n\nSome text.", "Q4?", "Q5?", "Q6?", "Q7?", "Q8?", "Q9?"};
    static const char *const a[] = {"A1.", "A2.", "A3.", "A4.", "A5.", "A6.", "A7.", "A8.", "A9."};
    for (int i = 0; i < 9 && (size_t)i < s.n; i++) {
        CHECKF(strcmp(s.r[i].question, q[i]) == 0, "question %d: %s", i, s.r[i].question);
        CHECKF(strcmp(s.r[i].answer, a[i]) == 0, "answer %d: %s", i, s.r[i].answer);
        CHECK(s.r[i].status == QA_PENDING);
    }
    CHECK(s.n >= 9 && strcmp(s.r[0].source, DIR "/in.jsonl:1") == 0);
    CHECK(s.n >= 9 && strcmp(s.r[5].source, DIR "/in.jsonl:5#2") == 0);
    CHECK(s.n >= 9 && strcmp(s.r[8].source, DIR "/in.jsonl:9") == 0);
    CHECK(im.n_bad == 5);
    if (im.n_bad == 5) {
        CHECKF(strstr(im.bad[0].why, "in.jsonl:10:") != NULL, "%s", im.bad[0].why);
        CHECK(strcmp(im.bad[0].text, "{\"question\": \"broken\", \"answer\": ") == 0);
        CHECKF(strstr(im.bad[1].why, "in.jsonl:11: not a question/answer record") != NULL, "%s", im.bad[1].why);
        CHECKF(strstr(im.bad[2].why, "in.jsonl:12: expected a JSON object") != NULL, "%s", im.bad[2].why);
        CHECKF(strstr(im.bad[3].why, "in.jsonl:13: answer: expected a string") != NULL, "%s", im.bad[3].why);
        CHECKF(strstr(im.bad[4].why, "in.jsonl:14:") != NULL, "%s", im.bad[4].why);
        CHECK(im.bad[4].line == 14);
    }
    fs_remove_tree(rejected, &e);
    CHECK(qa_import_keep_bad(&im, rejected, &e) == 0);
    char *kept = fs_read_all(rejected, NULL, &e);
    CHECK(kept && strstr(kept, "{\"foo\": 1}\n[1, 2]\n") != NULL);
    free(kept);
    qa_import_free(&im);

    /* Importing again adds nothing. */
    CHECK(qa_import_file(&s, path, &im, &e) == 0);
    CHECK(im.n_added == 0 && im.n_existing == 9 && im.n_bad == 5);
    qa_import_free(&im);
    qa_store_close(&s);

    /* A file that is not UTF-8 text fails whole, naming the place. */
    spit(path, "{\"question\": \"caf\xe9\", \"answer\": \"x\"}\n");
    CHECK(qa_store_open(&s, store, &e) == 0);
    CHECK(qa_import_file(&s, path, &im, &e) == -1 && strstr(e.msg, "in.jsonl:1:") && strstr(e.msg, "UTF-8"));
    qa_store_close(&s);
}

static void test_eval(void)
{
    Err e;
    char path[] = DIR "/eval.jsonl";
    /* The corpus says CLaRa compresses documents; this reference says the
     * opposite and must load all the same. */
    spit(path, "{\"question\": \"Does CLaRa compress documents?\", \"reference_answer\": \"No, never.\", "
               "\"keywords\": [\"no\"], \"category\": \"contradiction\"}\n"
               "{\"question\": \"Q2?\", \"answer\": \"A2.\"}\n"
               "{\"question\": \"Q3?\", \"gold_answer\": \"A3.\"}\n"
               "{\"question\": \"Q4?\", \"keywords\": [\"k1\", \"k2\"]}\n"
               "{\"messages\": [{\"role\": \"user\", \"content\": \"Q5?\"}, {\"role\": \"assistant\", \"content\": \"A5.\"}]}\n"
               "{\"prompt\": \"Q6?\", \"completion\": \"A6.\"}\n"
               "{\"instruction\": \"Q7?\", \"output\": \"A7.\"}\n");
    QaEvalSet set;
    CHECK(qa_eval_load(&set, path, &e) == 0);
    CHECK(set.n == 7);
    if (set.n == 7) {
        CHECK(strcmp(set.items[0].reference, "No, never.") == 0);
        CHECK(strcmp(set.items[0].category, "contradiction") == 0);
        CHECK(set.items[0].n_keywords == 1 && strcmp(set.items[0].keywords[0], "no") == 0);
        CHECK(strcmp(set.items[1].reference, "A2.") == 0 && strcmp(set.items[2].reference, "A3.") == 0);
        CHECK(strcmp(set.items[3].reference, "") == 0 && set.items[3].n_keywords == 2);
        CHECK(strcmp(set.items[4].question, "Q5?") == 0 && strcmp(set.items[4].reference, "A5.") == 0);
        CHECK(strcmp(set.items[6].question, "Q7?") == 0 && set.items[6].line == 7);
    }
    qa_eval_free(&set);
    spit(path, "{\"question\": \"Q1?\", \"answer\": \"A1.\"}\n{\"question\": \"Q2?\"}\n");
    CHECK(qa_eval_load(&set, path, &e) == -1 && strstr(e.msg, "eval.jsonl:2: missing \"answer\""));
    spit(path, "{\"question\": \"Q1?\", \"answer\": \"A1.\", \"keywords\": \"k\"}\n");
    CHECK(qa_eval_load(&set, path, &e) == -1 && strstr(e.msg, "eval.jsonl:1: keywords: expected a list"));
    spit(path, "{\"question\": \"Q1?\", \"answer\": \"A1.\"}\n{oops\n");
    CHECK(qa_eval_load(&set, path, &e) == -1 && strstr(e.msg, "eval.jsonl:2:") && strstr(e.msg, "invalid JSON"));
}

int main(void)
{
    Err e;
    fs_remove_tree(DIR, &e);
    fs_mkdirs(DIR, &e);
    test_formats();
    test_eval();
    TEST_MAIN_END();
}
