/*
 * stats.h - the statistics of `hotscope bench`, in plain C (no Python):
 * the summary of one statement's repeats, and the comparison of two
 * statements (or of one statement before and after a change).
 *
 * Definitions (each matches a reference the tests check against):
 *   percentile   linear interpolation between closest ranks, h = (n-1)p/100
 *                (Hyndman & Fan type 7: numpy's default, Python's
 *                statistics.quantiles(method="inclusive"))
 *   stdev        sample standard deviation (n - 1), as statistics.stdev
 *   outliers     Tukey's fences: below Q1 - 1.5 IQR or above Q3 + 1.5 IQR
 *   U            Mann-Whitney U of the first sample, with midranks for
 *                ties: #{a_i > b_j} + #{a_i = b_j} / 2 (scipy's U1)
 *   p-value      two-sided. Exact (the null distribution of U, from the
 *                Gaussian binomial coefficient) when there are no ties and
 *                the samples are small enough; otherwise the normal
 *                approximation with tie and continuity corrections
 *                (scipy.stats.mannwhitneyu, method="asymptotic").
 *   ratio        b / a as the Hodges-Lehmann estimate on log times:
 *                exp(median over all pairs of log b_j - log a_i), with
 *                Moses' distribution-free confidence interval (the pair
 *                differences at ranks C and mn + 1 - C, C from the same
 *                U distribution as the p-value). So the interval excludes
 *                1 exactly when the test is significant, give or take the
 *                discreteness of U.
 */
#ifndef HOTSCOPE_BENCH_STATS_H
#define HOTSCOPE_BENCH_STATS_H

#include <stddef.h>

typedef struct {
    size_t n;
    double min, max, mean, stdev; /* stdev is 0 for n < 2 */
    double median, q1, q3;
    size_t outliers_low, outliers_high;
} hs_bench_summary;

typedef struct {
    double u;           /* Mann-Whitney U of sample a */
    double p_value;     /* two-sided */
    int exact;          /* 1: exact null distribution; 0: normal approximation */
    double ratio;       /* Hodges-Lehmann estimate of b / a */
    double ratio_low;   /* confidence interval of the ratio; 0 and +inf */
    double ratio_high;  /* when the samples are too small for it */
} hs_bench_comparison;

/* Status codes of the functions below. */
#define HS_BENCH_OK 0
#define HS_BENCH_NOMEM (-1)
#define HS_BENCH_BAD_VALUE (-2) /* NaN, infinite or (for compare) not > 0 */
#define HS_BENCH_EMPTY (-3)

/* The p-th percentile (0..100) of n >= 1 values sorted ascending. */
double hs_bench_percentile_sorted(const double *sorted, size_t n, double p);

/* Sorts a copy of x[0..n) (finite, any sign) and summarises it. */
int hs_bench_summarize(const double *x, size_t n, hs_bench_summary *out);

/* Compares b against a (both positive and finite) at the given
 * confidence level (0 < confidence < 1, e.g. 0.95). */
int hs_bench_compare(const double *a, size_t na, const double *b, size_t nb, double confidence,
                     hs_bench_comparison *out);

#endif
