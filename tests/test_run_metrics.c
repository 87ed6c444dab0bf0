/* test_run_metrics.c - a run's metrics.jsonl read back: steps, validation
 * points, a torn last line and lines of another kind skipped. */
#include "test.h"

#include "fsutil.h"
#include "run_metrics.h"

#define DIR "build/run-metrics-test"

int main(void)
{
    Err e;
    fs_mkdirs(DIR, &e);
    const char *path = DIR "/metrics.jsonl";
    FILE *f = fopen(path, "wb");
    fputs("{\"step\":1,\"epoch\":0,\"loss\":2.5,\"lr\":1e-4}\n"
          "{\"note\":\"resumed\"}\n"
          "{\"step\":2,\"epoch\":0,\"loss\":2.25}\n"
          "not json\n"
          "{\"step\":50,\"epoch\":1,\"loss\":1.5,\"valid_loss\":1.75}\n"
          "{\"step\":51,\"epoch\":1,\"lo",
          f);
    fclose(f);
    RunMetrics m;
    CHECK(run_metrics_load(&m, path, &e) == 0);
    CHECK(m.n == 3);
    CHECK(m.n == 3 && m.step[0] == 1 && m.step[1] == 2 && m.step[2] == 50);
    CHECK(m.n == 3 && m.loss[0] == 2.5 && m.loss[1] == 2.25 && m.loss[2] == 1.5);
    CHECK(m.n_valid == 1 && m.valid_step[0] == 50 && m.valid_loss[0] == 1.75);
    run_metrics_free(&m);
    CHECK(m.n == 0 && m.step == NULL);
    /* 1000 steps: the arrays grow */
    f = fopen(path, "wb");
    for (int i = 1; i <= 1000; i++)
        fprintf(f, "{\"step\":%d,\"loss\":%g%s}\n", i, 1.0 / i, i % 100 ? "" : ",\"valid_loss\":0.5");
    fclose(f);
    CHECK(run_metrics_load(&m, path, &e) == 0);
    CHECK(m.n == 1000 && m.step[999] == 1000 && m.loss[3] == 0.25);
    CHECK(m.n_valid == 10 && m.valid_step[9] == 1000);
    run_metrics_free(&m);
    CHECK(run_metrics_load(&m, DIR "/missing.jsonl", &e) != 0 && strstr(e.msg, "missing.jsonl"));
    TEST_MAIN_END();
}
