/* tests/unit/test_metrics.c: fcgi-app/metrics.h (counters and exposition) */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fcgi-app/metrics.h"
#include "fcgi-app/request.h"
#include "fcgi-app/router.h"

/* requests counted, then lines the exposition must hold */
static const struct {
    int route;
    unsigned method;
    int status;
    long long in, out, us;
} counted[] = {
    {ROUTE_MANIFEST, M_GET, 200, 0, 500, 3000},
    {ROUTE_MANIFEST, M_GET, 200, 0, 500, 7000},
    {ROUTE_MANIFEST, M_GET, 404, 0, 100, 70000000},
    {ROUTE_MANIFEST, M_PUT, 201, 500, 0, 1000},
    {ROUTE_UPLOADS, M_POST, 202, 0, 0, 10},
    {ROUTE_UPLOADS, M_POST, 201, 9, 0, 10},
    {ROUTE_UPLOAD, M_PUT, 201, 10, 0, 10},
    {ROUTE_UPLOAD, M_PATCH, 416, 5, 50, 10},
    {ROUTE_BLOB, M_OTHER, 418, 0, 0, 10}, /* a code not in the list */
    {ROUTE_NONE, M_GET, 404, 0, 80, 10},
    {99, M_GET, 0, 0, 0, 10}, /* no route known: none */
};

static const char *const lines[] = {
    "registry_http_requests_total{route=\"manifest\",method=\"GET\","
    "code=\"200\"} 2\n",
    "registry_http_requests_total{route=\"manifest\",method=\"GET\","
    "code=\"404\"} 1\n",
    "registry_http_requests_total{route=\"blob\",method=\"OTHER\","
    "code=\"other\"} 1\n",
    "registry_http_requests_total{route=\"none\",method=\"GET\","
    "code=\"404\"} 1\n",
    "registry_http_requests_total{route=\"none\",method=\"GET\","
    "code=\"0\"} 1\n",
    /* 3 ms, 7 ms and 70 s: buckets are cumulative, +Inf has all */
    "registry_http_request_duration_seconds_bucket{route=\"manifest\","
    "method=\"GET\",le=\".005\"} 1\n",
    "registry_http_request_duration_seconds_bucket{route=\"manifest\","
    "method=\"GET\",le=\".01\"} 2\n",
    "registry_http_request_duration_seconds_bucket{route=\"manifest\","
    "method=\"GET\",le=\"60\"} 2\n",
    "registry_http_request_duration_seconds_bucket{route=\"manifest\","
    "method=\"GET\",le=\"+Inf\"} 3\n",
    "registry_http_request_duration_seconds_sum{route=\"manifest\","
    "method=\"GET\"} 70.010000\n",
    "registry_http_request_duration_seconds_count{route=\"manifest\","
    "method=\"GET\"} 3\n",
    "berth_http_response_body_bytes_total{route=\"manifest\","
    "method=\"GET\"} 1100\n",
    "berth_http_request_body_bytes_total{route=\"manifest\","
    "method=\"PUT\"} 500\n",
    "berth_uploads_started_total 1\n",
    "berth_uploads_finished_total 2\n",
    "berth_uploads_failed_total 1\n",
    "berth_gc_runs_total 1\n",
    "berth_gc_freed_bytes_total 4096\n",
    "berth_store_blobs 3\n",
    "berth_lmdb_map_size_bytes 1048576\n",
    "# TYPE registry_http_request_duration_seconds histogram\n",
};

static const struct store_stats stats = {3, 1, 9000, 65536, 1048576};

struct fix {
    char root[64];
    char shm[PATH_MAX];
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));

    snprintf(f->root, sizeof(f->root), "/tmp/berth-metrics.XXXXXX");
    if (!f || !mkdtemp(f->root))
        return -1;
    snprintf(f->shm, sizeof(f->shm), "%s/metrics.shm", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    metrics_close();
    unlink(f->shm);
    rmdir(f->root);
    free(f);
    return 0;
}

static void render(struct buf *b)
{
    buf_reset(b);
    assert_int_equal(metrics_render(b, &stats), 0);
}

static void test_count_render(void **state)
{
    struct fix *f = *state;
    struct buf b;
    size_t i;

    buf_init(&b, 1 << 20);
    assert_int_equal(metrics_render(&b, &stats), -1); /* nothing open */
    metrics_count(ROUTE_BASE, M_GET, 200, 0, 2, 10);  /* a no-op */
    assert_int_equal(metrics_open(f->root), 0);
    assert_int_equal(metrics_open(f->root), 0); /* again: a no-op */
    for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
        metrics_count(counted[i].route, counted[i].method, counted[i].status,
                      counted[i].in, counted[i].out, counted[i].us);
    metrics_gc(4096);
    render(&b);
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        if (!strstr(buf_str(&b), lines[i]))
            fail_msg("line %zu not in:\n%s", i, buf_str(&b));
    assert_null(strstr(buf_str(&b), "route=\"base\""));

    /* another process adds to the same counters, and they outlive both */
    /* (which opens the file itself while this one has it open) */
    pid_t pid = fork();
    int status = -1;
    if (pid == 0) {
        alarm(10); /* a lock this process holds would stop it */
        metrics_close();
        if (metrics_open(f->root))
            _exit(1);
        metrics_count(ROUTE_MANIFEST, M_GET, 200, 0, 0, 10);
        _exit(0);
    }
    assert_true(pid > 0);
    waitpid(pid, &status, 0);
    assert_int_equal(status, 0);
    metrics_close();
    assert_int_equal(metrics_open(f->root), 0);
    render(&b);
    assert_non_null(strstr(buf_str(&b), "registry_http_requests_total{route="
                                        "\"manifest\",method=\"GET\",code="
                                        "\"200\"} 3\n"));
    buf_release(&b);
}

static void test_other_layout(void **state)
{
    struct fix *f = *state;
    uint32_t v = 99;
    struct buf b;
    int fd;

    assert_int_equal(metrics_open(f->root), 0);
    metrics_count(ROUTE_MANIFEST, M_GET, 200, 0, 0, 10);
    metrics_close();
    /* the version, after the 8 bytes of the magic number */
    fd = open(f->shm, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &v, sizeof(v), 8), sizeof(v));
    close(fd);
    assert_int_equal(metrics_open(f->root), 0);
    buf_init(&b, 1 << 20);
    render(&b);
    assert_null(strstr(buf_str(&b), "route=\"manifest\""));
    assert_non_null(strstr(buf_str(&b), "berth_uploads_started_total 0\n"));
    buf_release(&b);
}

static void test_cap(void **state)
{
    struct fix *f = *state;
    struct buf b;

    assert_int_equal(metrics_open(f->root), 0);
    buf_init(&b, 100);
    assert_int_equal(metrics_render(&b, &stats), -1);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_count_render, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
