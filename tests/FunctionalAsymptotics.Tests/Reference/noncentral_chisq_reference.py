"""Reference values for the noncentral chi-square law, computed with mpmath at 50 significant digits.

P(chi^2_k(lambda) > x) = sum_i Pois(i; lambda/2) Q((k + 2i)/2, x/2), summed until the terms are below
1e-60 of the total. Run with `python3 noncentral_chisq_reference.py`; its output is pasted into
GeneralizedChiSquareTests.fs (noncentralReference) and must not be edited by hand.
"""
import mpmath as mp

mp.mp.dps = 50

def sf(k, lam, x):
    total = mp.mpf(0)
    i = 0
    while True:
        w = mp.exp(-lam / 2) * (lam / 2) ** i / mp.factorial(i)
        term = w * mp.gammainc(mp.mpf(k + 2 * i) / 2, x / 2, mp.inf, regularized=True)
        total += term
        if i > lam and term < total * mp.mpf("1e-60"):
            return total
        i += 1

def cdf(k, lam, x):
    total = mp.mpf(0)
    i = 0
    while True:
        w = mp.exp(-lam / 2) * (lam / 2) ** i / mp.factorial(i)
        term = w * mp.gammainc(mp.mpf(k + 2 * i) / 2, 0, x / 2, regularized=True)
        total += term
        if i > lam and term < total * mp.mpf("1e-60"):
            return total
        i += 1

cases = [(1, 0.5, 0.01), (1, 0.5, 2.0), (1, 0.5, 40.0), (3, 4.0, 1.0), (3, 4.0, 7.0), (3, 4.0, 80.0),
         (2, 20.0, 5.0), (2, 20.0, 22.0), (2, 20.0, 300.0), (5, 1.0, 1350.0)]
for k, lam, x in cases:
    k_, lam_, x_ = k, mp.mpf(lam), mp.mpf(x)
    print('            %d, %s, %s, %s, %s' % (k, repr(float(lam)), repr(float(x)),
                                              mp.nstr(cdf(k_, lam_, x_), 17, min_fixed=0, max_fixed=0),
                                              mp.nstr(sf(k_, lam_, x_), 17, min_fixed=0, max_fixed=0)))
