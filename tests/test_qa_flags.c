/* test_qa_flags.c - each quality flag on pairs that should and should not
 * raise it, and the word splitting under them. */
#include "test.h"

#include "fsutil.h"
#include "qa_dup.h"
#include "qa_flags.h"
#include "qa_store.h"
#include "qa_text.h"

static int rep(const char *s)
{
    char why[256];
    return qa_check_repetition(s, why, sizeof why);
}
static int ph(const char *s)
{
    char why[256];
    return qa_check_placeholder(s, why, sizeof why);
}
static int trunc_(const char *s)
{
    char why[256];
    return qa_check_truncated(s, why, sizeof why);
}

static void test_words(void)
{
    QaWords w;
    CHECK(qa_words(&w, "Don't PANIC: 3.5 Kg, STRASSE straße!") == 0);
    CHECK(w.n == 6);
    if (w.n == 6) {
        CHECK(strcmp(qa_word(&w, 0), "don't") == 0);
        CHECK(strcmp(qa_word(&w, 1), "panic") == 0);
        CHECK(strcmp(qa_word(&w, 2), "3.5") == 0);
        CHECK(strcmp(qa_word(&w, 4), "strasse") == 0 && strcmp(qa_word(&w, 5), "strasse") == 0);
    }
    qa_words_free(&w);
    char *n = qa_normalize("  What is   RAG?? ");
    CHECK(n && strcmp(n, "what is rag") == 0);
    free(n);
}

static void test_repetition(void)
{
    CHECK(rep("The model the model the model the model keeps going."));
    CHECK(rep("It is very very very very good."));
    CHECK(rep("a b c x a b c y a b c"));
    CHECK(!rep("The model reads the corpus, and the model answers the question from the corpus."));
    CHECK(!rep("Yes, yes, it is."));
    CHECK(!rep(""));
}

static void test_placeholder(void)
{
    CHECK(ph("[Your Question]"));
    CHECK(ph("Answer: {answer}"));
    CHECK(ph("<answer>"));
    CHECK(ph("TODO: write this"));
    CHECK(ph("The value is TBD."));
    CHECK(ph("Lorem ipsum dolor sit amet."));
    CHECK(!ph("The todo list app stores tasks."));
    CHECK(!ph("CLaRa compresses documents into memory tokens."));
    CHECK(!ph("TODOS are fine and so is XXXL."));
    /* slots: capitals in brackets, an identifier in braces */
    CHECK(ph("Here is a question: What are the three stages? Answer: [ANSWER]"));
    CHECK(ph("CLaRa is compared against [BASELINE NAME] and [BASELINE_2]."));
    CHECK(ph("Which baselines appear in Table {table_number}?"));
    CHECK(ph("Question: <insert>"));
    CHECK(ph("Dear <NAME>,"));
    CHECK(!ph("BERT puts a [CLS] token first and [SEP] between segments."));
    CHECK(!ph("Generation stops at <EOS> or </s>."));
    CHECK(!ph("As shown in [1] and [A], the sum is \\mathrm{softmax}(x) over {x} in <b>bold</b>."));
    CHECK(!ph("The set {a, b} and the list [a, b] and [ RAG ]."));
}

static void test_truncated(void)
{
    CHECK(trunc_(""));
    CHECK(trunc_("   "));
    CHECK(trunc_("The model is trained on documents and"));
    CHECK(trunc_("It has three parts:"));
    CHECK(trunc_("CLaRa compresses each document into a small number of memory tokens that the"));
    CHECK(trunc_("CLaRa compresses each document into a small number of memory tokens used later"));
    CHECK(!trunc_("Paris"));
    CHECK(!trunc_("42 kg"));
    CHECK(!trunc_("CLaRa compresses each document into a small number of memory tokens."));
    CHECK(!trunc_("Is it good? Yes!"));
    CHECK(!trunc_("Apple and Google"));
}

static int near_dup(const char *q1, const char *a1, const char *q2, const char *a2)
{
    char why[256];
    return qa_check_near_duplicate(q1, a1, q2, a2, why, sizeof why);
}

static void test_near_duplicate(void)
{
    /* small words, endings, case and order: whatever the answers */
    CHECK(near_dup("What is RAG?", "Retrieval-augmented generation.", "what is the RAG", "A copy program."));
    CHECK(near_dup("Which datasets was CLaRa evaluated on?", "NQ.", "Which datasets is CLaRa evaluated on?", "NQ."));
    CHECK(near_dup("What are the stages of CLaRa?", "Three.", "What is a stage in CLaRa?", "Three."));
    CHECK(near_dup("How is the generator trained?", "x", "How was the generator training?", "y"));
    /* one more word when the answers say the same */
    CHECK(near_dup("What does SCP stand for in the CLaRa paper?", "Salient Compressor Pretraining.",
               "What does SCP stand for in CLaRa?", "SCP stands for Salient Compressor Pretraining."));
    CHECK(!near_dup("What does SCP stand for in the Unix manual?", "Secure Copy.", "What does SCP stand for?",
                "Salient Compressor Pretraining."));
    /* a question word, a number or a term changed: another question */
    CHECK(!near_dup("How does CLaRa compress documents?", "x", "Why does CLaRa compress documents?", "x"));
    CHECK(!near_dup("What is stage 1?", "SCP.", "What is stage 2?", "SCP."));
    CHECK(!near_dup("What does the QA loss do in stage 1?", "It preserves meaning.",
                "What does the MSE loss do in stage 1?", "It aligns memory tokens."));
    CHECK(!near_dup("How many memory tokens does a 256-token document get at 64x compression?", "Four memory tokens.",
                "How many memory tokens does a 256-token document get at compression rate 32?",
                "Eight memory tokens."));
    CHECK(!near_dup("What average does CLaRa reach in the Oracle setting with Mistral-7B?",
                "About 66.8 at compression rate 4.",
                "What average score does CLaRa reach with Mistral-7B in the Normal setting?",
                "About 39.9 at compression rate 4."));
    /* one more word, but the answers' numbers differ */
    CHECK(!near_dup("How many tokens per document in stage 3?", "256 tokens.", "How many tokens per document?",
                "2048 tokens."));
    CHECK(!near_dup("What is a user?", "x", "What is a use?", "x"));
}

static int count_words(void *ctx, const char *q, const char *a)
{
    (void)ctx;
    QaWords w1, w2;
    qa_words(&w1, q);
    qa_words(&w2, a);
    int n = (int)(w1.n + w2.n);
    qa_words_free(&w1);
    qa_words_free(&w2);
    return n;
}

static unsigned flags_of(QaStore *s, long id) { return qa_find(s, id)->flags; }

/* The store-wide flags: duplicates, length and corpus support. */
static void test_update(void)
{
    Err e;
    const char *path = "build/qa-flags-test/qa.jsonl";
    fs_remove_tree("build/qa-flags-test", &e);
    QaStore s;
    CHECK(qa_store_open(&s, path, &e) == 0);
    const char *corpus[] = {"CLaRa is a retrieval-augmented generation model. It compresses documents into "
                            "continuous memory tokens and trains the retriever and the generator jointly."};
    long clean = qa_add(&s, "What does CLaRa compress documents into?", "Continuous memory tokens.", NULL, &e);
    long dup = qa_add(&s, "what does clara compress  documents into", "Memory tokens.", NULL, &e);
    long near = qa_add(&s, "What does CLaRa compress the documents into?", "Memory tokens.", NULL, &e);
    long other = qa_add(&s, "How is the retriever trained?", "Jointly with the generator.", NULL, &e);
    long unsup = qa_add(&s, "Who invented CLaRa?", "Napoleon Bonaparte invented it in Corsica.", NULL, &e);
    long longp = qa_add(&s, "Describe training.", "The retriever and the generator are trained jointly, end to end, on the documents.", NULL, &e);
    long bad = qa_add(&s, "[Your Question]", "the answer the answer the answer the answer and", NULL, &e);
    long rej = qa_add(&s, "Who invented CLaRa??", "Apple.", NULL, &e);
    long after_rej = qa_add(&s, "Who invented clara", "Apple.", NULL, &e);
    qa_set_status(&s, rej, QA_REJECTED, &e);
    /* rej is rejected: after_rej still duplicates unsup, an earlier live one. */
    QaWordSet words = {0};
    CHECK(qa_corpus_words(&words, corpus, 1, &e) == 0);
    QaFlagOptions o = {.corpus = &words, .count = count_words, .seq_len = 12};
    size_t changed = 0;
    CHECK(qa_flags_update(&s, &o, &changed, &e) == 0);
    CHECK(changed > 0);
    CHECK(flags_of(&s, clean) == 0);
    CHECK(flags_of(&s, dup) == QA_FLAG_DUPLICATE);
    CHECK(flags_of(&s, near) == QA_FLAG_NEAR_DUPLICATE);
    CHECK(flags_of(&s, other) == 0);
    CHECK(flags_of(&s, unsup) & QA_FLAG_UNSUPPORTED);
    CHECK(!(flags_of(&s, unsup) & QA_FLAG_DUPLICATE));
    CHECK(flags_of(&s, longp) == QA_FLAG_TOO_LONG);
    CHECK(flags_of(&s, bad) == (QA_FLAG_REPETITION | QA_FLAG_PLACEHOLDER | QA_FLAG_TRUNCATED | QA_FLAG_UNSUPPORTED));
    CHECK(flags_of(&s, after_rej) & QA_FLAG_DUPLICATE);
    CHECK(strstr(qa_find(&s, dup)->reasons, "duplicate: same question as #1") != NULL);
    CHECK(strstr(qa_find(&s, unsup)->reasons, "napoleon") != NULL);
    /* Nothing changed: nothing journaled again. */
    CHECK(qa_flags_update(&s, &o, &changed, &e) == 0 && changed == 0);
    /* An edit that fixes the answer clears its flag on the next update. */
    CHECK(qa_edit(&s, unsup, "answer", "A retrieval model made to compress documents.", &e) == 0);
    CHECK(qa_flags_update(&s, &o, &changed, &e) == 0 && changed == 1);
    CHECK(flags_of(&s, unsup) == 0);
    qa_store_close(&s);
    /* Flags survive reopening. */
    CHECK(qa_store_open(&s, path, &e) == 0);
    CHECK(s.n == 9 && flags_of(&s, dup) == QA_FLAG_DUPLICATE && flags_of(&s, longp) == QA_FLAG_TOO_LONG);
    qa_store_close(&s);
    qa_wordset_free(&words);
    CHECK(qa_flag_parse("near_duplicate") == QA_FLAG_NEAR_DUPLICATE && qa_flag_parse("nope") == 0);

    /* Golden Data outside the store: a pair asking its question with
     * another answer is a duplicate; the same answer, or a golden pair, not. */
    fs_remove_tree("build/qa-flags-test", &e);
    CHECK(qa_store_open(&s, path, &e) == 0);
    long conflict = qa_add(&s, "what is CLaRa", "A retrieval framework.", NULL, &e);
    long agrees = qa_add(&s, "How is the retriever trained?", "Jointly, with the generator!", NULL, &e);
    long gold = qa_add(&s, "What is CLaRa?", "A compressor.", NULL, &e);
    qa_set_golden(&s, gold, 1, &e);
    const char *gq[] = {"What is CLaRa?", "How is the retriever trained?"};
    const char *ga[] = {"Continuous Latent Reasoning, a RAG framework.", "jointly with the generator"};
    QaFlagOptions go = {.golden_q = gq, .golden_a = ga, .n_golden = 2, .golden_path = "golden.jsonl"};
    CHECK(qa_flags_update(&s, &go, &changed, &e) == 0);
    CHECK(flags_of(&s, conflict) == QA_FLAG_DUPLICATE && flags_of(&s, agrees) == 0);
    CHECKF(strstr(qa_find(&s, conflict)->reasons, "duplicate: same question as Golden Data golden.jsonl #1, with "
                                                   "another answer") != NULL,
           "%s", qa_find(&s, conflict)->reasons);
    /* the golden record is a duplicate of the earlier store pair, not a conflict with the file */
    CHECK(!strstr(qa_find(&s, gold)->reasons, "Golden Data"));
    qa_store_close(&s);
}

int main(void)
{
    test_words();
    test_repetition();
    test_placeholder();
    test_truncated();
    test_near_duplicate();
    test_update();
    TEST_MAIN_END();
}
