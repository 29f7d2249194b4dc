/* ratio.c - see ratio.h. */
#include "ratio.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "virtlab/error.h"
#include "virtlab/kvm.h"

double ratio_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median of v[0..n); sorts v. */
double ratio_median(double *v, long n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the command line ----------------------------------------------- */

static void usage(const struct ratio_spec *s, FILE *out)
{
    char count[32];

    snprintf(count, sizeof(count), "--%s N", s->count_opt);
    fprintf(out,
            "usage: %s [%s] [--rounds R] [--slice S] [--verbose]\n"
            "  %-11s %s (default %ld)\n"
            "  --rounds R  rounds (default %ld)\n"
            "  --slice S   %s per timed slice; the two loops alternate "
            "slice by slice\n"
            "              (default %ld)\n"
            "  --verbose   print every round, and more detail\n",
            s->prog, count, count, s->count_help, s->default_count,
            s->default_rounds, s->count_opt, s->default_slice);
}

/* A whole decimal number in [1, max] for option --name. */
static bool parse_count(const struct ratio_spec *s, const char *name,
                        const char *arg, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < 1 || v > max) {
        fprintf(stderr,
                "%s: --%s wants a whole number from 1 to %ld, not \"%s\"\n",
                s->prog, name, max, arg);
        return false;
    }
    *out = v;
    return true;
}

int ratio_parse(const struct ratio_spec *s, int argc, char **argv,
                struct ratio_opts *o)
{
    const struct option longopts[] = {
        {s->count_opt, required_argument, NULL, 'n'},
        {"rounds", required_argument, NULL, 'r'},
        {"slice", required_argument, NULL, 's'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    bool ok = true;
    int c;

    *o = (struct ratio_opts){
        .count = s->default_count,
        .rounds = s->default_rounds,
        .slice = s->default_slice,
    };
    while (ok &&
           (c = getopt_long(argc, argv, "n:r:s:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            ok = parse_count(s, s->count_opt, optarg, s->max_count, &o->count);
            break;
        case 'r':
            ok = parse_count(s, "rounds", optarg, RATIO_MAX_ROUNDS, &o->rounds);
            break;
        case 's':
            ok = parse_count(s, "slice", optarg, s->max_count, &o->slice);
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            usage(s, stdout);
            exit(0);
        default:
            ok = false;
        }
    }
    if (!ok || optind != argc) {
        usage(s, stderr);
        return -EINVAL;
    }
    if (o->slice > o->count)
        o->slice = o->count;
    return 0;
}

/* ---- measuring ------------------------------------------------------ */

/* ns per unit of every timed slice of each loop, round after round. */
struct samples {
    long per_round; /* slices per loop per round */
    long n;         /* slices per loop in all */
    double *ns[RATIO_NLOOPS];
    double *round_ratio; /* per round: median measured / median base */
};

static void samples_free(struct samples *s)
{
    for (int which = 0; which < RATIO_NLOOPS; which++)
        free(s->ns[which]);
    free(s->round_ratio);
}

static int samples_alloc(struct samples *s, const struct ratio_spec *spec,
                         const struct ratio_opts *o)
{
    *s = (struct samples){.per_round = o->count / o->slice};
    s->n = s->per_round * o->rounds;
    for (int which = 0; which < RATIO_NLOOPS; which++)
        s->ns[which] = calloc((size_t)s->n, sizeof(double));
    s->round_ratio = calloc((size_t)o->rounds, sizeof(double));
    if (!s->ns[RATIO_BASE] || !s->ns[RATIO_MEASURED] || !s->round_ratio)
        return vl_err(ENOMEM,
                      "allocating room for %ld timed slices (lower --%s or "
                      "--rounds, or raise --slice)",
                      s->n, spec->count_opt);
    return 0;
}

/* Run `count` COUNTs of one loop; *ns gets the mean cost per unit. */
static int time_loop(const struct ratio_spec *s, void *ctx, int which,
                     long count, double *ns)
{
    double t0 = ratio_now_ns();
    int r = s->loop(ctx, which, count);

    *ns = (ratio_now_ns() - t0) / ((double)count * s->units_per_count);
    return r;
}

/*
 * One round: per_round slice pairs, the first loop of each pair alternating
 * (the baseline first in even pairs, the measured loop in odd ones).
 */
static int measure_round(const struct ratio_spec *spec, void *ctx,
                         const struct ratio_opts *o, struct samples *s,
                         long round)
{
    long first = round * s->per_round;
    double base, measured;

    for (long i = first; i < first + s->per_round; i++) {
        for (int k = 0; k < RATIO_NLOOPS; k++) {
            int which = i % 2 ? RATIO_NLOOPS - 1 - k : k;
            int r = time_loop(spec, ctx, which, o->slice, &s->ns[which][i]);

            if (r < 0)
                return r;
        }
    }

    /* The round's medians; sorting its own slices leaves the others. */
    base = ratio_median(s->ns[RATIO_BASE] + first, s->per_round);
    measured = ratio_median(s->ns[RATIO_MEASURED] + first, s->per_round);
    s->round_ratio[round] = measured / base;
    if (o->verbose)
        printf("  round %ld: %s %.1f ns/%s, %s %.1f ns/%s, ratio %.3f\n",
               round + 1, spec->names[RATIO_BASE], base, spec->unit,
               spec->names[RATIO_MEASURED], measured, spec->unit,
               s->round_ratio[round]);
    return 0;
}

int ratio_measure(const struct ratio_spec *spec, void *ctx,
                  const struct ratio_opts *o, struct ratio_result *res)
{
    struct samples s __attribute__((cleanup(samples_free))) = {0};
    double ignored;
    int r;

    if ((r = samples_alloc(&s, spec, o)) < 0)
        return r;
    /* Fault in memory, warm the caches and the branch predictors of both
     * code paths before timing anything. */
    for (int which = 0; which < RATIO_NLOOPS; which++)
        if ((r = time_loop(spec, ctx, which, spec->warmup, &ignored)) < 0)
            return r;
    for (long round = 0; round < o->rounds; round++)
        if ((r = measure_round(spec, ctx, o, &s, round)) < 0)
            return r;

    res->ns[RATIO_BASE] = ratio_median(s.ns[RATIO_BASE], s.n);
    res->ns[RATIO_MEASURED] = ratio_median(s.ns[RATIO_MEASURED], s.n);
    res->ratio = res->ns[RATIO_MEASURED] / res->ns[RATIO_BASE];
    res->lo = res->hi = s.round_ratio[0];
    for (long i = 1; i < o->rounds; i++) {
        res->lo = s.round_ratio[i] < res->lo ? s.round_ratio[i] : res->lo;
        res->hi = s.round_ratio[i] > res->hi ? s.round_ratio[i] : res->hi;
    }
    res->per_round = s.per_round * o->slice;
    return 0;
}

void ratio_skip_no_kvm(void)
{
    const char *msg = vl_errmsg();
    const char *hints = strchr(msg, '\n');
    int len = hints ? (int)(hints - msg) : (int)strlen(msg);

    printf("SKIP: no usable %s (%.*s)%s\n", VL_KVM_DEVICE, len, msg,
           hints ? hints : "");
}
