"""Paired comparisons of benchmark passes (tests/perf): a variant against
the base (native) round by round, summarised by the median of the per-round
ratios with a distribution-free confidence interval.

Why order statistics and not a mean with a t interval: on a shared machine
a round now and then meets a build or a burst of other work, and one such
round moves a mean (and widens a t interval) far more than a median.  The
interval of the median below holds for any distribution of the per-round
ratios, as long as the rounds are independent: it is the sign test's
interval (the k-th smallest and k-th largest ratio, with k chosen from the
binomial distribution B(n, 1/2)).

Standard library only.
"""
import math
import statistics


def _binom_cdf_half(k, n):
    """P(B <= k) for B ~ Binomial(n, 1/2)."""
    return sum(math.comb(n, i) for i in range(k + 1)) / float(2 ** n)


def median_ci(values, level=0.95):
    """(median, low, high, coverage) of values: the interval
    [x_(k), x_(n+1-k)] of the sorted values with the largest k whose
    coverage 1 - 2 P(B <= k-1) is still >= level.  With too few values for
    that (n < 6 at 95 %), low/high are None; coverage is the interval's
    exact coverage."""
    xs = sorted(v for v in values if v is not None)
    n = len(xs)
    if not n:
        return None, None, None, None
    med = statistics.median(xs)
    k = 0
    while k + 1 <= n // 2 and 1.0 - 2.0 * _binom_cdf_half(k, n) >= level:
        k += 1
    if k == 0:
        return med, None, None, None
    return med, xs[k - 1], xs[n - k], 1.0 - 2.0 * _binom_cdf_half(k - 1, n)


def ratios(passes, ref, key):
    """Each pass's key against the base's pass of the same round (which ran
    next to it under the same machine load); rounds where the base is 0
    are left out."""
    return [p[key] / r[key] for p, r in zip(passes, ref) if r.get(key)]


def format_ratio(values, with_ci):
    """'m×' for one value; 'm× (min–max)' or, with_ci and enough rounds for
    it, 'm× [lo–hi] (min–max)' where [lo–hi] is median_ci()'s 95 % interval."""
    if not values:
        return ""
    if len(values) == 1:
        return "%.2f×" % values[0]
    med, lo, hi, _ = median_ci(values)
    text = "%.2f×" % med
    if with_ci and lo is not None:
        text += " [%.2f–%.2f]" % (lo, hi)
    return text + " (%.2f–%.2f)" % (min(values), max(values))


def paired(passes, ref, key, with_ci=False):
    """A variant against the base in the same rounds, formatted
    (format_ratio).  A ratio of the two medians would compare passes of
    different rounds."""
    return format_ratio(ratios(passes, ref, key), with_ci)
