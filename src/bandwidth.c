/*
 * bandwidth.c -- the sums behind Sheather and Jones' bandwidth rule for
 * the density estimates of sbcondstats() (R/sbcondstats.R, sj_bandwidth()).
 *
 * The rule (Sheather and Jones 1991, JRSS B 53) needs the functionals
 * psi_r = n^-2 sum_ij phi^(r)_g(X_i - X_j) of the Gaussian kernel's
 * fourth and sixth derivatives, at several bandwidths g.  As in
 * stats::bw.SJ(), the draws are put in nb equal bins first and a pair's
 * distance is the distance between their bins: the sums then run over
 * the nb possible distances, weighted by the number of pairs at each,
 * which are counted once per set of draws.
 *
 * Plain C on pointers, no R API (interface.c holds the glue).
 */
#include "sbcg.h"

/* Pairs of draws by the distance between their bins: w[k] draws in bin k
 * (k < nb); cnt[m] the number of pairs of distinct draws m bins apart
 * (cnt[0]: pairs in one bin).  For each occupied bin, the pairs it makes
 * with the bins above it are added in one pass over those bins, two
 * distances at a time (independent sums, so in any order the same
 * values); products and sums of whole numbers below 2^53 are exact in
 * double precision, and so are the counts.  wd: scratch for nb doubles. */
void sj_pair_counts(const int *w, int nb, double *cnt, double *wd)
{
    for (int m = 0; m < nb; m++) {
        cnt[m] = 0.0;
        wd[m] = (double) w[m];
    }
    for (int i = 0; i < nb; i++) {
        double wi = wd[i];
        if (wi == 0.0)
            continue;
        cnt[0] += 0.5 * wi * (wi - 1.0);
        const double *above = wd + i;
        int len = nb - i;
        /* distances m and m + 1 together, then the last one if left */
        int m = 1;
        for (; m + 1 < len; m += 2) {
            double a0 = cnt[m] + wi * above[m];
            double a1 = cnt[m + 1] + wi * above[m + 1];
            cnt[m] = a0;
            cnt[m + 1] = a1;
        }
        if (m < len)
            cnt[m] += wi * above[m];
    }
}

/* psi_4 (order 4) or psi_6 (order 6) at bandwidth h from the pair counts
 * cnt of n draws in bins of width d: with u = (m d / h)^2 the squared
 * distance of m bins in units of h, phi^(4)(x) = (u^2 - 6u + 3) phi(x)
 * and phi^(6)(x) = (u^3 - 15u^2 + 45u - 15) phi(x), each pair counted
 * twice (i, j and j, i) and the n pairs of a draw with itself at 0.
 * exp(-u / 2) = exp(-c^2 m^2 / 2), c = d / h, is carried from one m to the
 * next by two multiplications (the factor exp(-c^2 (2m - 1) / 2) itself
 * shrinks by exp(-c^2) a step), whose rounding errors add up to about
 * 1e-13 of the value over 1000 bins.  Distances with u >= 1000 add
 * nothing in double precision (the normal density there is below
 * exp(-500)). */
double sj_psi(int n, double d, const double *cnt, int nb, double h, int order)
{
    double c = d / h;
    double step = exp(-c * c);
    double g = exp(-0.5 * c * c); /* exp(-c^2 (2m - 1) / 2) at m = 1 */
    double e = 1.0;               /* exp(-c^2 m^2 / 2) at m = 0 */
    double sum = 0.0;
    for (int m = 0; m < nb; m++) {
        double u = m * c;
        u *= u;
        if (u >= 1000.0)
            break;
        double poly = order == 4 ? (u * u - 6.0 * u + 3.0)
                                 : ((u - 15.0) * u + 45.0) * u - 15.0;
        sum += cnt[m] * e * poly;
        e *= g;
        g *= step;
    }
    double nn = (double) n;
    double self = order == 4 ? 3.0 * nn : -15.0 * nn;
    double hp = order == 4 ? pow(h, 5.0) : pow(h, 7.0);
    /* 1 / sqrt(2 pi) */
    return (2.0 * sum + self) * 0.398942280401432678 / (nn * (nn - 1.0) * hp);
}
