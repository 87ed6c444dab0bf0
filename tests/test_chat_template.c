/* test_chat_template.c - exact rendered text and loss spans for each format,
 * and the prefix rule that ties generation prompts to spans. */
#include "chat_template.h"
#include "test.h"

static const ChatMessage pair[] = {{CHAT_USER, "Q"}, {CHAT_ASSISTANT, "A"}};
static const ChatMessage multi[] = {
    {CHAT_USER, "What is SCP?"},
    {CHAT_ASSISTANT, "Salient Compressor Pretraining."},
    {CHAT_USER, "And CLaRa?"},
    {CHAT_ASSISTANT, "Continuous Latent Reasoning."},
};

/* Text of span i, for readable checks. */
static int span_is(const char *text, const ChatSpan *sp, const char *want)
{
    size_t n = strlen(want);
    return sp->end - sp->begin == n && memcmp(text + sp->begin, want, n) == 0;
}

static void test_parse(void)
{
    Err e = {{0}};
    ChatTemplate t = CHAT_PLAIN;
    CHECK(chat_template_parse("chatml", &t, &e) == 0 && t == CHAT_CHATML);
    CHECK(chat_template_parse("llama3", &t, &e) == 0 && t == CHAT_LLAMA3);
    CHECK(chat_template_parse("plain", &t, &e) == 0 && t == CHAT_PLAIN);
    CHECK(chat_template_parse("ChatML", &t, &e) == -1);
    CHECKF(strcmp(e.msg, "unknown chat template \"ChatML\" (expected chatml, llama3 or plain)") == 0, "%s", e.msg);
    CHECK(chat_template_parse(NULL, &t, &e) == -1);
    CHECK(strcmp(chat_template_name(CHAT_CHATML), "chatml") == 0);
    CHECK(strcmp(chat_template_name(CHAT_LLAMA3), "llama3") == 0);
    CHECK(strcmp(chat_template_name(CHAT_PLAIN), "plain") == 0);
    CHECK(strcmp(chat_template_name((ChatTemplate)7), "?") == 0);
    CHECK(strcmp(chat_template_stops(CHAT_CHATML)[0], "<|im_end|>") == 0 && !chat_template_stops(CHAT_CHATML)[1]);
    CHECK(strcmp(chat_template_stops(CHAT_LLAMA3)[0], "<|eot_id|>") == 0 && !chat_template_stops(CHAT_LLAMA3)[1]);
    CHECK(strcmp(chat_template_stops(CHAT_PLAIN)[0], "\n\nUser:") == 0 && !chat_template_stops(CHAT_PLAIN)[1]);
    CHECK(chat_template_stops((ChatTemplate)7)[0] == NULL);
}

static void test_chatml(void)
{
    Err e = {{0}};
    ChatSpan *sp = NULL;
    size_t ns = 99;
    char *s = chat_render(CHAT_CHATML, "Be brief.", pair, 2, 0, &sp, &ns, &e);
    CHECK(s && strcmp(s, "<|im_start|>system\nBe brief.<|im_end|>\n"
                         "<|im_start|>user\nQ<|im_end|>\n"
                         "<|im_start|>assistant\nA<|im_end|>\n") == 0);
    CHECK(ns == 1 && sp && span_is(s, &sp[0], "A<|im_end|>"));
    free(s);
    free(sp);

    s = chat_render(CHAT_CHATML, NULL, pair, 1, 1, NULL, NULL, &e);
    CHECK(s && strcmp(s, "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n") == 0);
    free(s);

    /* A system message in the conversation wins over the system argument. */
    ChatMessage withsys[] = {{CHAT_SYSTEM, "S"}, {CHAT_USER, "Q"}};
    s = chat_render(CHAT_CHATML, "ignored", withsys, 2, 0, &sp, &ns, &e);
    CHECK(s && strcmp(s, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n") == 0);
    CHECK(ns == 0 && sp == NULL);
    free(s);

    s = chat_render(CHAT_CHATML, "", multi, 4, 0, &sp, &ns, &e);
    CHECK(s && ns == 2);
    if (s && ns == 2) {
        CHECK(span_is(s, &sp[0], "Salient Compressor Pretraining.<|im_end|>"));
        CHECK(span_is(s, &sp[1], "Continuous Latent Reasoning.<|im_end|>"));
        CHECK(sp[0].begin == strlen("<|im_start|>user\nWhat is SCP?<|im_end|>\n<|im_start|>assistant\n"));
    }
    free(s);
    free(sp);
}

static void test_llama3(void)
{
    Err e = {{0}};
    ChatSpan *sp = NULL;
    size_t ns = 0;
    char *s = chat_render(CHAT_LLAMA3, "Be brief.", pair, 2, 0, &sp, &ns, &e);
    CHECK(s && strcmp(s, "<|begin_of_text|>"
                         "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                         "<|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\nA<|eot_id|>") == 0);
    CHECK(ns == 1 && sp && span_is(s, &sp[0], "A<|eot_id|>"));
    free(s);
    free(sp);

    s = chat_render(CHAT_LLAMA3, NULL, pair, 1, 1, NULL, NULL, &e);
    CHECK(s && strcmp(s, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\n") == 0);
    free(s);
}

static void test_plain(void)
{
    Err e = {{0}};
    ChatSpan *sp = NULL;
    size_t ns = 0;
    /* Our users' existing training text, byte for byte. */
    char *s = chat_render(CHAT_PLAIN, NULL, pair, 2, 0, &sp, &ns, &e);
    CHECK(s && strcmp(s, "User: Q\n\nAssistant: A") == 0);
    CHECK(ns == 1 && sp && span_is(s, &sp[0], " A"));
    free(s);
    free(sp);

    s = chat_render(CHAT_PLAIN, NULL, pair, 1, 1, NULL, NULL, &e);
    CHECK(s && strcmp(s, "User: Q\n\nAssistant:") == 0);
    free(s);

    s = chat_render(CHAT_PLAIN, "You know CLaRa.", pair, 2, 0, NULL, NULL, &e);
    CHECK(s && strcmp(s, "You know CLaRa.\n\nUser: Q\n\nAssistant: A") == 0);
    free(s);

    /* Multi-turn: an assistant turn's marker is the "\n\n" before the next. */
    s = chat_render(CHAT_PLAIN, NULL, multi, 4, 0, &sp, &ns, &e);
    CHECK(s && strcmp(s, "User: What is SCP?\n\nAssistant: Salient Compressor Pretraining.\n\n"
                         "User: And CLaRa?\n\nAssistant: Continuous Latent Reasoning.") == 0);
    CHECK(ns == 2);
    if (s && ns == 2) {
        CHECK(span_is(s, &sp[0], " Salient Compressor Pretraining.\n\n"));
        CHECK(span_is(s, &sp[1], " Continuous Latent Reasoning."));
    }
    free(s);
    free(sp);

    s = chat_render(CHAT_PLAIN, NULL, NULL, 0, 1, NULL, NULL, &e);
    CHECK(s && strcmp(s, "Assistant:") == 0);
    free(s);
    s = chat_render(CHAT_PLAIN, NULL, NULL, 0, 0, NULL, NULL, &e);
    CHECK(s && strcmp(s, "") == 0);
    free(s);
}

/* For every format: rendering the first k messages with a generation prompt
 * gives a prefix of the whole conversation that ends where assistant
 * message k's span begins, and the span ends where the next message's text
 * (or the end) starts. */
static void test_prefix_rule(void)
{
    Err e = {{0}};
    ChatTemplate ts[] = {CHAT_CHATML, CHAT_LLAMA3, CHAT_PLAIN};
    for (int ti = 0; ti < 3; ti++) {
        ChatSpan *sp = NULL;
        size_t ns = 0;
        char *full = chat_render(ts[ti], "sys", multi, 4, 0, &sp, &ns, &e);
        CHECK(full && ns == 2);
        if (!full || ns != 2) {
            free(full);
            free(sp);
            continue;
        }
        for (size_t k = 1, a = 0; k < 4; k += 2, a++) {
            char *pre = chat_render(ts[ti], "sys", multi, k, 1, NULL, NULL, &e);
            CHECKF(pre && strncmp(full, pre, strlen(pre)) == 0 && sp[a].begin == strlen(pre),
                   "template %s, k=%zu", chat_template_name(ts[ti]), k);
            free(pre);
            /* Generating "content + first stop string" reproduces the span
             * (plain stops on "\n\nUser:", of which "\n\n" is in the span). */
            const char *stop = chat_template_stops(ts[ti])[0];
            size_t clen = strlen(multi[k].content);
            size_t mlen = ts[ti] == CHAT_PLAIN ? (k + 1 < 4 ? 2 : 0) : strlen(stop);
            size_t lead = ts[ti] == CHAT_PLAIN ? 1 : 0;
            CHECK(sp[a].end - sp[a].begin == lead + clen + mlen);
            CHECK(memcmp(full + sp[a].begin + lead, multi[k].content, clen) == 0);
            CHECK(memcmp(full + sp[a].begin + lead + clen, stop, mlen) == 0);
        }
        free(full);
        free(sp);
    }
}

static void test_errors(void)
{
    Err e = {{0}};
    ChatMessage bad[] = {{CHAT_USER, NULL}};
    ChatSpan *sp = (ChatSpan *)1;
    size_t ns = 5;
    CHECK(chat_render(CHAT_CHATML, NULL, bad, 1, 0, &sp, &ns, &e) == NULL);
    CHECKF(strcmp(e.msg, "chat_render: message 1 has no content") == 0, "%s", e.msg);
    CHECK(sp == NULL && ns == 0);
    ChatMessage badrole[] = {{CHAT_USER, "x"}, {(ChatRole)9, "y"}};
    CHECK(chat_render(CHAT_CHATML, NULL, badrole, 2, 0, NULL, NULL, &e) == NULL);
    CHECKF(strcmp(e.msg, "chat_render: message 2 has unknown role 9") == 0, "%s", e.msg);
    CHECK(chat_render((ChatTemplate)5, NULL, pair, 2, 0, NULL, NULL, &e) == NULL);
}

int main(void)
{
    test_parse();
    test_chatml();
    test_llama3();
    test_plain();
    test_prefix_rule();
    test_errors();
    TEST_MAIN_END();
}
