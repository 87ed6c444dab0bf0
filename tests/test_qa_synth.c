/* test_qa_synth.c - rule-based proposals: what each pattern makes and what it leaves alone. */
#include "qa_synth.h"
#include "test.h"

static const QaProposal *find(const QaProposals *p, const char *q)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->p[i].question, q) == 0)
            return &p->p[i];
    return NULL;
}

int main(void)
{
    Err e;
    QaProposals p = {0};
    const char *text =
        "# Stage 1: Salient Compressor Pretraining (SCP)\n\n"
        "The method uses Key-Value Memory (KVM) to store facts. "
        "CLaRa is a framework that unifies retrieval and generation. "
        "Memory tokens are short vectors that stand for a document. "
        "The document length is about 256 tokens. "
        "It is fast. These are useful. There are three stages. "
        "Because the documents are long, compression helps. "
        "A very long subject with many many words in it is a problem here.\n";
    CHECK(qa_synth(&p, text, "doc-1", &e) == 0);
    const QaProposal *x = find(&p, "What does SCP stand for?");
    CHECK(x && strcmp(x->answer, "SCP stands for Salient Compressor Pretraining.") == 0 && x->kind == QA_SYNTH_ACRONYM);
    x = find(&p, "What does KVM stand for?");
    CHECK(x && strcmp(x->answer, "KVM stands for Key-Value Memory.") == 0);
    x = find(&p, "What is CLaRa?");
    CHECK(x && strcmp(x->answer, "CLaRa is a framework that unifies retrieval and generation.") == 0 &&
          x->kind == QA_SYNTH_DEFINITION && strcmp(x->source, "doc-1") == 0);
    CHECK(find(&p, "What are memory tokens?") == NULL);  /* no article: the capital stays */
    CHECK(find(&p, "What are Memory tokens?") != NULL);
    x = find(&p, "What figure does the text give for the document length?");
    CHECK(x && x->kind == QA_SYNTH_NUMBER);
    /* pronouns, "there", clauses and long subjects make no question */
    for (size_t i = 0; i < p.n; i++) {
        CHECK(strstr(p.p[i].question, " It") == NULL && strstr(p.p[i].question, "These") == NULL);
        CHECK(strstr(p.p[i].question, "There") == NULL && strstr(p.p[i].question, "ecause") == NULL);
        CHECK(strstr(p.p[i].question, "subject") == NULL);
    }
    CHECKF(p.n == 5, "%zu proposals", p.n);
    /* deterministic, and a question is proposed once */
    size_t n = p.n;
    CHECK(qa_synth(&p, text, "doc-2", &e) == 0 && p.n == n);
    /* an acronym whose letters the words do not spell is left alone */
    QaProposals q = {0};
    CHECK(qa_synth(&q, "We measure it with the Exact Match (F1) score.\n", "d", &e) == 0 && q.n == 0);
    qa_proposals_free(&q);
    qa_proposals_free(&p);
    TEST_MAIN_END();
}
