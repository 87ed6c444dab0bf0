/* test_eval_metrics.c - answer scoring on hand-computed cases. */
#include "eval_metrics.h"
#include "test.h"

static EvalScore score(const char *a, const char *r, const char *const *kw, size_t n)
{
    EvalRule rule;
    eval_rule_defaults(&rule);
    EvalScore s;
    eval_score(a, r, kw, n, &rule, &s);
    return s;
}

int main(void)
{
    /* normalisation: case, punctuation and articles do not count */
    EvalScore s = score("The Salient Compressor Pretraining.", "salient compressor pretraining", NULL, 0);
    CHECK(s.exact && s.f1 == 1 && s.rouge_l == 1 && s.correct && isnan(s.keyword_recall));
    s = score("ÉCOLE normale", "école Normale!", NULL, 0);
    CHECK(s.exact);
    /* F1 and ROUGE-L: [cat sat on mat] vs [cat sat]: 2 common, p 1/2, r 1 */
    s = score("a cat sat on the mat", "the cat sat", NULL, 0);
    CHECK(!s.exact);
    CHECK_NEAR(s.f1, 2.0 / 3, 1e-12);
    CHECK_NEAR(s.rouge_l, 2.0 / 3, 1e-12);
    CHECK(s.correct);  /* F1 >= 0.5 without keywords */
    /* order matters to ROUGE-L, not to F1 */
    s = score("sat cat", "cat sat", NULL, 0);
    CHECK_NEAR(s.f1, 1.0, 1e-12);
    CHECK_NEAR(s.rouge_l, 0.5, 1e-12);
    /* repeated words are matched once each */
    s = score("cat cat cat", "cat dog", NULL, 0);
    CHECK_NEAR(s.f1, 2 * (1.0 / 3) * 0.5 / (1.0 / 3 + 0.5), 1e-12);
    /* keywords: contiguous word runs, all of them by default */
    const char *kw[] = {"salient compressor", "pretraining"};
    s = score("It stands for Salient Compressor Pretraining", "Salient Compressor Pretraining", kw, 2);
    CHECK(s.keyword_recall == 1 && s.matched == 3 && s.correct);
    s = score("compressor salient pretraining", "Salient Compressor Pretraining", kw, 2);
    CHECK(s.keyword_recall == 0.5 && s.matched == 2 && !s.correct);
    s = score("Secure Copy Protocol", "Salient Compressor Pretraining", kw, 2);
    CHECK(s.keyword_recall == 0 && !s.correct && s.f1 == 0);
    /* a looser rule */
    EvalRule loose = {0.5, 0.5};
    EvalScore t;
    eval_score("compressor salient pretraining", "x", kw, 2, &loose, &t);
    CHECK(t.correct);
    /* Korean and empty answers */
    const char *kk[] = {"검색"};
    s = score("클라라는 검색 모델이다", "검색 모델", kk, 1);
    CHECK(s.keyword_recall == 1 && s.correct);
    /* words [클라라는 검색 모델이다] vs [검색 모델]: only 검색 is shared (p 1/3, r 1/2) */
    CHECK_NEAR(s.f1, 0.4, 1e-12);
    /* a keyword that normalises to nothing is not counted as found */
    const char *art[] = {"A"};
    s = score("something else", "A retrieval model.", art, 1);
    CHECK(isnan(s.keyword_recall) && !s.correct);
    s = score("", "anything", NULL, 0);
    CHECK(!s.correct && s.f1 == 0 && s.rouge_l == 0);
    TEST_MAIN_END();
}
