/*
 * stats.c - summary and comparison statistics of `hotscope bench`
 * (definitions in stats.h).
 *
 * The ratio's confidence interval needs order statistics of all m*n pair
 * differences log b_j - log a_i. They are never materialised: with both
 * samples sorted, how many differences are <= t is counted in O(m + n)
 * with two pointers, and the k-th smallest is found by bisecting over the
 * doubles themselves (their bit patterns, mapped to ordered integers), so
 * at most 64 counts give the exact floating-point value, for any m and n.
 *
 * The exact null distribution of U (no ties) is the coefficient list of
 * the Gaussian binomial [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) /
 * (1 - q^i) (Mann & Whitney 1947; Andrews, The Theory of Partitions,
 * ch. 3): m multiplications and exact divisions of a polynomial of degree
 * m*n, so O(m * m * n) work, used only while that stays small.
 */
#include "stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Above this many operations the normal approximation is used. */
#define EXACT_WORK_LIMIT 5000000.0
#define EXACT_DEGREE_LIMIT 250000.0

static int compare_doubles(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static double *sorted_copy(const double *x, size_t n) {
    double *s = malloc(n * sizeof *s);
    if (!s)
        return NULL;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, compare_doubles);
    return s;
}

double hs_bench_percentile_sorted(const double *sorted, size_t n, double p) {
    if (n == 0)
        return NAN;
    if (!(p > 0.0))
        return sorted[0];
    if (p >= 100.0)
        return sorted[n - 1];
    double h = (double)(n - 1) * p / 100.0;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return sorted[n - 1];
    double frac = h - (double)lo;
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

int hs_bench_summarize(const double *x, size_t n, hs_bench_summary *out) {
    memset(out, 0, sizeof *out);
    if (n == 0)
        return HS_BENCH_EMPTY;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return HS_BENCH_BAD_VALUE;
    double *s = sorted_copy(x, n);
    if (!s)
        return HS_BENCH_NOMEM;
    out->n = n;
    out->min = s[0];
    out->max = s[n - 1];
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += s[i];
    out->mean = sum / (double)n;
    if (n > 1) {
        /* Two passes: the deviations are small next to the values. */
        double squares = 0.0;
        for (size_t i = 0; i < n; i++)
            squares += (s[i] - out->mean) * (s[i] - out->mean);
        out->stdev = sqrt(squares / (double)(n - 1));
    }
    out->median = hs_bench_percentile_sorted(s, n, 50.0);
    out->q1 = hs_bench_percentile_sorted(s, n, 25.0);
    out->q3 = hs_bench_percentile_sorted(s, n, 75.0);
    double iqr = out->q3 - out->q1;
    double low_fence = out->q1 - 1.5 * iqr, high_fence = out->q3 + 1.5 * iqr;
    for (size_t i = 0; i < n; i++) {
        out->outliers_low += s[i] < low_fence;
        out->outliers_high += s[i] > high_fence;
    }
    free(s);
    return HS_BENCH_OK;
}

/* ---- ranks ------------------------------------------------------------- */

typedef struct {
    double rank_sum_a;  /* midranks of a's values in the pooled sample */
    double tie_term;    /* sum over tie groups of t^3 - t */
} rank_info;

static rank_info pooled_ranks(const double *sa, size_t na, const double *sb, size_t nb) {
    rank_info r = {0.0, 0.0};
    size_t i = 0, j = 0, seen = 0;
    while (i < na || j < nb) {
        double v = (j >= nb || (i < na && sa[i] <= sb[j])) ? sa[i] : sb[j];
        size_t from_a = 0, from_b = 0;
        while (i < na && sa[i] == v)
            i++, from_a++;
        while (j < nb && sb[j] == v)
            j++, from_b++;
        double t = (double)(from_a + from_b);
        double midrank = (double)seen + (t + 1.0) / 2.0;
        r.rank_sum_a += midrank * (double)from_a;
        r.tie_term += t * t * t - t;
        seen += from_a + from_b;
    }
    return r;
}

/* ---- the exact null distribution of U ------------------------------------ */

/* Cumulative probabilities P(U <= u), u = 0..m*n, or NULL (no memory).
 * Symmetric in m and n, so the smaller is used as the product's length. */
static double *exact_cdf(size_t m, size_t n) {
    if (m > n) {
        size_t t = m;
        m = n;
        n = t;
    }
    size_t degree = m * n;
    double *c = calloc(degree + m + 1, sizeof *c);
    if (!c)
        return NULL;
    c[0] = 1.0;
    size_t current = 0;
    for (size_t i = 1; i <= m; i++) {
        size_t shift = n + i;
        current += shift;
        for (size_t k = current; k >= shift; k--)
            c[k] -= c[k - shift];
        current -= i;
        for (size_t k = i; k <= current; k++)
            c[k] += c[k - i];
        /* The quotient is exact: what lies above its degree is zero. */
        for (size_t k = current + 1; k <= current + i; k++)
            c[k] = 0.0;
    }
    double total = 0.0;
    for (size_t k = 0; k <= degree; k++) {
        total += c[k];
        c[k] = total;
    }
    for (size_t k = 0; k <= degree; k++)
        c[k] /= total;
    return c;
}

/* ---- order statistics of pair differences -------------------------------- */

/* Doubles to unsigned integers in the same order (finite values only). */
static uint64_t order_key(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return (u >> 63) ? ~u : (u | (1ULL << 63));
}

static double from_order_key(uint64_t key) {
    uint64_t u = (key >> 63) ? (key & ~(1ULL << 63)) : ~key;
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* How many pairs have ly[j] - lx[i] <= t (both arrays ascending). The
 * rounded difference is monotone in each argument, so two pointers work. */
static uint64_t pairs_at_most(const double *lx, size_t m, const double *ly, size_t n, double t) {
    uint64_t count = 0;
    size_t j = 0;
    for (size_t i = 0; i < m; i++) {
        while (j < n && ly[j] - lx[i] <= t)
            j++;
        count += j;
    }
    return count;
}

/* The k-th smallest (1-based, 1 <= k <= m*n) of ly[j] - lx[i]. */
static double kth_pair_difference(const double *lx, size_t m, const double *ly, size_t n, uint64_t k) {
    double smallest = ly[0] - lx[m - 1];
    double largest = ly[n - 1] - lx[0];
    if (pairs_at_most(lx, m, ly, n, smallest) >= k)
        return smallest;
    uint64_t lo = order_key(smallest), hi = order_key(largest); /* count(lo) < k <= count(hi) */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (pairs_at_most(lx, m, ly, n, from_order_key(mid)) >= k)
            hi = mid;
        else
            lo = mid;
    }
    return from_order_key(hi);
}

/* The standard normal quantile, by bisection on erfc: only called once
 * per comparison, so simplicity beats a rational approximation. */
static double normal_quantile(double probability) {
    double lo = -40.0, hi = 40.0;
    for (int i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2.0;
        if (0.5 * erfc(-mid / sqrt(2.0)) < probability)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2.0;
}

/* ---- the comparison ------------------------------------------------------- */

int hs_bench_compare(const double *a, size_t na, const double *b, size_t nb, double confidence,
                     hs_bench_comparison *out) {
    memset(out, 0, sizeof *out);
    if (na == 0 || nb == 0)
        return HS_BENCH_EMPTY;
    if (!(confidence > 0.0 && confidence < 1.0))
        return HS_BENCH_BAD_VALUE;
    for (size_t i = 0; i < na; i++)
        if (!(isfinite(a[i]) && a[i] > 0.0))
            return HS_BENCH_BAD_VALUE;
    for (size_t j = 0; j < nb; j++)
        if (!(isfinite(b[j]) && b[j] > 0.0))
            return HS_BENCH_BAD_VALUE;

    int status = HS_BENCH_NOMEM;
    double *sa = sorted_copy(a, na), *sb = sorted_copy(b, nb), *cdf = NULL;
    if (!sa || !sb)
        goto done;

    double m = (double)na, n = (double)nb, mn = m * n;
    rank_info ranks = pooled_ranks(sa, na, sb, nb);
    out->u = ranks.rank_sum_a - m * (m + 1.0) / 2.0;
    double alpha_half = (1.0 - confidence) / 2.0;

    double small = na < nb ? m : n;
    out->exact = ranks.tie_term == 0.0 && small * mn <= EXACT_WORK_LIMIT && mn <= EXACT_DEGREE_LIMIT;
    uint64_t c; /* Moses' rank: the interval is differences C and mn + 1 - C */
    if (out->exact) {
        cdf = exact_cdf(na, nb);
        if (!cdf)
            goto done;
        size_t u = (size_t)out->u, top = na * nb;
        /* P(U >= u) = P(U <= mn - u) by symmetry. */
        double lower_tail = cdf[u], upper_tail = cdf[top - u];
        double p = 2.0 * (lower_tail < upper_tail ? lower_tail : upper_tail);
        out->p_value = p > 1.0 ? 1.0 : p;
        c = 0;
        while (c < top && cdf[c] <= alpha_half)
            c++;
    } else {
        double sigma = sqrt(mn / 12.0 * ((m + n + 1.0) - ranks.tie_term / ((m + n) * (m + n - 1.0))));
        if (sigma > 0.0) {
            double z = (fabs(out->u - mn / 2.0) - 0.5) / sigma;
            double p = z > 0.0 ? erfc(z / sqrt(2.0)) : 1.0;
            out->p_value = p > 1.0 ? 1.0 : p;
        } else {
            out->p_value = 1.0; /* every value the same */
        }
        double z = normal_quantile(1.0 - alpha_half);
        double rank = floor(mn / 2.0 + 0.5 - z * sigma);
        c = rank > 0.0 ? (uint64_t)rank : 0;
    }
    uint64_t pairs = (uint64_t)na * (uint64_t)nb;
    if (c > (pairs + 1) / 2)
        c = (pairs + 1) / 2;

    /* Log times, for the ratio (in place: the sorted copies are ours). */
    for (size_t i = 0; i < na; i++)
        sa[i] = log(sa[i]);
    for (size_t j = 0; j < nb; j++)
        sb[j] = log(sb[j]);
    double middle = kth_pair_difference(sa, na, sb, nb, (pairs + 1) / 2);
    if (pairs % 2 == 0)
        middle = (middle + kth_pair_difference(sa, na, sb, nb, pairs / 2 + 1)) / 2.0;
    out->ratio = exp(middle);
    if (c >= 1) {
        out->ratio_low = exp(kth_pair_difference(sa, na, sb, nb, c));
        out->ratio_high = exp(kth_pair_difference(sa, na, sb, nb, pairs + 1 - c));
    } else {
        out->ratio_low = 0.0;
        out->ratio_high = INFINITY;
    }
    status = HS_BENCH_OK;
done:
    free(sa);
    free(sb);
    free(cdf);
    return status;
}
