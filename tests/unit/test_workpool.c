/* test_workpool.c: unit tests of common/workpool.c: jobs run on worker threads, done callbacks
 * run in the loop thread in finish order, every job completes exactly once, and workpool_free
 * waits for queued jobs. Every loop is bounded by a timeout. */
#include <check.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "workpool.h"
#include "unit.h"

#define MANY 1000

struct job_state {
    pthread_t worker;       /* set by work() */
    pthread_t done_thread;  /* set by done() */
    atomic_int worked;
    int done_count;
    int done_order;         /* position among done callbacks */
    int finish_order;       /* position among finished works */
};

static struct event_base *base;
static pthread_t loop_thread;
static int ndone;
static atomic_int nfinished;

static void setup(void)
{
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    loop_thread = pthread_self();
    ndone = 0;
    atomic_store(&nfinished, 0);
}

static void teardown(void)
{
    event_base_free(base);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void work(void *arg)
{
    struct job_state *s = arg;
    s->worker = pthread_self();
    atomic_fetch_add(&s->worked, 1);
    s->finish_order = atomic_fetch_add(&nfinished, 1);
}

static void slow_work(void *arg)
{
    sleep_ms(20);
    work(arg);
}

static void done(void *arg)
{
    struct job_state *s = arg;
    s->done_thread = pthread_self();
    s->done_count++;
    s->done_order = ndone++;
}

/* Runs the loop until `want` done callbacks ran, for at most about 20 seconds. */
static void loop_until(int want)
{
    struct timeval tick = { 0, 20000 };
    for (int i = 0; i < 1000 && ndone < want; i++) {
        event_base_loopexit(base, &tick);
        event_base_loop(base, 0);
    }
    ck_assert_int_eq(ndone, want);
}

START_TEST(runs_on_worker_done_in_loop)
{
    struct workpool *p = workpool_new(base, 2);
    ck_assert_ptr_nonnull(p);
    struct job_state s[4];
    memset(s, 0, sizeof s);
    for (int i = 0; i < 4; i++)
        workpool_submit(p, work, done, &s[i]);
    loop_until(4);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(atomic_load(&s[i].worked), 1);
        ck_assert_int_eq(s[i].done_count, 1);
        ck_assert(!pthread_equal(s[i].worker, loop_thread));
        ck_assert(pthread_equal(s[i].done_thread, loop_thread));
    }
    workpool_free(p);
}
END_TEST

START_TEST(many_jobs_exactly_once_in_finish_order)
{
    struct workpool *p = workpool_new(base, 8);
    ck_assert_ptr_nonnull(p);
    struct job_state *s = calloc(MANY, sizeof *s);
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < MANY; i++)
        workpool_submit(p, work, done, &s[i]);
    loop_until(MANY);
    for (int i = 0; i < MANY; i++) {
        ck_assert_int_eq(atomic_load(&s[i].worked), 1);
        ck_assert_int_eq(s[i].done_count, 1);
        ck_assert(pthread_equal(s[i].done_thread, loop_thread));
    }
    /* nothing runs twice even if the loop keeps going */
    struct timeval t = { 0, 50000 };
    event_base_loopexit(base, &t);
    event_base_loop(base, 0);
    ck_assert_int_eq(ndone, MANY);
    workpool_free(p);
    free(s);
}
END_TEST

/* A single worker finishes jobs in submission order, so done runs in that order too. */
START_TEST(single_worker_keeps_order)
{
    struct workpool *p = workpool_new(base, 1);
    ck_assert_ptr_nonnull(p);
    struct job_state s[50];
    memset(s, 0, sizeof s);
    for (int i = 0; i < 50; i++)
        workpool_submit(p, work, done, &s[i]);
    loop_until(50);
    for (int i = 0; i < 50; i++) {
        ck_assert_int_eq(s[i].finish_order, i);
        ck_assert_int_eq(s[i].done_order, i);
    }
    workpool_free(p);
}
END_TEST

/* Done callbacks follow the order in which jobs finished, not the order of submission: the
 * first job waits (bounded) until the second one's done callback has run. */
static atomic_int second_done;

static void wait_for_second(void *arg)
{
    for (int i = 0; i < 2000 && !atomic_load(&second_done); i++)
        sleep_ms(5);
    work(arg);
}

static void done_second(void *arg)
{
    atomic_store(&second_done, 1);
    done(arg);
}

START_TEST(done_in_finish_order)
{
    struct workpool *p = workpool_new(base, 2);
    ck_assert_ptr_nonnull(p);
    struct job_state s[2];
    memset(s, 0, sizeof s);
    atomic_store(&second_done, 0);
    workpool_submit(p, wait_for_second, done, &s[0]);
    workpool_submit(p, work, done_second, &s[1]);
    loop_until(2);
    ck_assert_int_eq(s[1].done_order, 0);
    ck_assert_int_eq(s[0].done_order, 1);
    workpool_free(p);
}
END_TEST

START_TEST(free_waits_for_queued_jobs)
{
    struct workpool *p = workpool_new(base, 2);
    ck_assert_ptr_nonnull(p);
    struct job_state s[10];
    memset(s, 0, sizeof s);
    for (int i = 0; i < 10; i++)
        workpool_submit(p, slow_work, done, &s[i]);
    workpool_free(p);   /* without running the loop */
    ck_assert_int_eq(ndone, 10);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(atomic_load(&s[i].worked), 1);
        ck_assert_int_eq(s[i].done_count, 1);
        ck_assert(pthread_equal(s[i].done_thread, loop_thread));
    }
}
END_TEST

/* Jobs without a done callback run once each on a worker, and workpool_free still waits for
 * the ones queued (no callback to run, none to crash on). */
START_TEST(jobs_without_done_run_once)
{
    struct workpool *p = workpool_new(base, 2);
    ck_assert_ptr_nonnull(p);
    struct job_state s[10];
    memset(s, 0, sizeof s);
    for (int i = 0; i < 10; i++)
        workpool_submit(p, i < 5 ? work : slow_work, NULL, &s[i]);
    workpool_free(p);   /* without running the loop */
    ck_assert_int_eq(atomic_load(&nfinished), 10);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(atomic_load(&s[i].worked), 1);
        ck_assert_int_eq(s[i].done_count, 0);
    }
}
END_TEST

/* Waiting for the disk never blocks the loop: a timer fires while a slow job runs. */
static void count_tick(evutil_socket_t fd, short what, void *arg)
{
    (*(int *)arg)++;
}

static void very_slow_work(void *arg)
{
    sleep_ms(300);
    work(arg);
}

START_TEST(loop_runs_while_jobs_block)
{
    struct workpool *p = workpool_new(base, 1);
    ck_assert_ptr_nonnull(p);
    struct job_state s;
    memset(&s, 0, sizeof s);
    int ticks = 0;
    struct event *tick = event_new(base, -1, EV_PERSIST, count_tick, &ticks);
    struct timeval every = { 0, 10000 };
    event_add(tick, &every);
    workpool_submit(p, very_slow_work, done, &s);
    loop_until(1);
    ck_assert_int_gt(ticks, 1);
    event_free(tick);
    workpool_free(p);
}
END_TEST

START_TEST(rejects_bad_thread_counts)
{
    ck_assert_ptr_null(workpool_new(base, 0));
    ck_assert_ptr_null(workpool_new(base, 65));
    struct workpool *p = workpool_new(base, 64);
    ck_assert_ptr_nonnull(p);
    workpool_free(p);
}
END_TEST

/* A done callback may queue more work. */
static struct workpool *chain_pool;
static int chain_left;

static void chain_done(void *arg)
{
    ndone++;
    if (--chain_left > 0)
        workpool_submit(chain_pool, work, chain_done, arg);
}

START_TEST(done_may_submit)
{
    chain_pool = workpool_new(base, 3);
    ck_assert_ptr_nonnull(chain_pool);
    struct job_state s;
    memset(&s, 0, sizeof s);
    chain_left = 20;
    workpool_submit(chain_pool, work, chain_done, &s);
    loop_until(20);
    ck_assert_int_eq(atomic_load(&s.worked), 20);
    workpool_free(chain_pool);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("workpool");
    TCase *tc = tcase_create("workpool");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, runs_on_worker_done_in_loop);
    tcase_add_test(tc, many_jobs_exactly_once_in_finish_order);
    tcase_add_test(tc, single_worker_keeps_order);
    tcase_add_test(tc, done_in_finish_order);
    tcase_add_test(tc, free_waits_for_queued_jobs);
    tcase_add_test(tc, jobs_without_done_run_once);
    tcase_add_test(tc, loop_runs_while_jobs_block);
    tcase_add_test(tc, rejects_bad_thread_counts);
    tcase_add_test(tc, done_may_submit);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
