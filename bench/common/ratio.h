/*
 * ratio.h - the measuring harness every benchmark shares.
 *
 * A benchmark compares two loops doing the same work, a baseline (0) and
 * the thing measured (1), in one run, and reports measured / baseline.
 * Host speed varies too much for an absolute number to mean anything, and
 * whole-round timings drift (+-20% on a shared machine), so the work is
 * timed in short slices that alternate between the two loops (A B B A A B
 * ...) and each loop's cost is its median slice: drift lands on both loops
 * alike, and slices hit by a timer interrupt or another process drop out.
 */
#ifndef BENCH_RATIO_H
#define BENCH_RATIO_H

#include <stdbool.h>

#define RATIO_EXIT_OVER  1  /* over the goal */
#define RATIO_EXIT_ERROR 2  /* a usage or setup error */
#define RATIO_EXIT_SKIP  77 /* automake's "skipped": no usable /dev/kvm */
#define RATIO_MAX_ROUNDS 1000

enum { RATIO_BASE, RATIO_MEASURED, RATIO_NLOOPS };

struct ratio_spec {
    const char *prog;                /* for messages: "exit_cost" */
    const char *count_opt;           /* the --COUNT option: "exits", "passes" */
    const char *count_help;          /* what one COUNT is, per loop per round */
    const char *unit;                /* what a time is per: "exit", "address" */
    const char *names[RATIO_NLOOPS]; /* for the --verbose round lines */
    long default_count, default_rounds, default_slice;
    long warmup;            /* COUNTs per loop before timing anything */
    long max_count;         /* the largest --COUNT and --slice accepted */
    double units_per_count; /* e.g. addresses per pass */
    /* Do `count` COUNTs of loop `which`; 0, or -errno with vl_err. */
    int (*loop)(void *ctx, int which, long count);
};

struct ratio_opts {
    long count; /* per loop per round */
    long rounds;
    long slice; /* COUNTs per timed slice */
    bool verbose;
};

struct ratio_result {
    double ns[RATIO_NLOOPS]; /* median ns per unit of each loop */
    double ratio;            /* ns[RATIO_MEASURED] / ns[RATIO_BASE] */
    double lo, hi;           /* the smallest and largest per-round ratio */
    long per_round;          /* COUNTs per loop per round actually timed */
};

/* Options --COUNT N --rounds R --slice S --verbose --help. Prints usage
 * and returns -EINVAL on a bad command line; --help exits 0. */
int ratio_parse(const struct ratio_spec *s, int argc, char **argv,
                struct ratio_opts *o);

/* Warm both loops up, then time o->rounds rounds; prints each round with
 * --verbose. */
int ratio_measure(const struct ratio_spec *s, void *ctx,
                  const struct ratio_opts *o, struct ratio_result *res);

/* Median of v[0..n) (n > 0); sorts v. */
double ratio_median(double *v, long n);

/* CLOCK_MONOTONIC in nanoseconds. */
double ratio_now_ns(void);

/* "SKIP: no usable /dev/kvm (<why>)", then the library's hints. */
void ratio_skip_no_kvm(void);

#endif
