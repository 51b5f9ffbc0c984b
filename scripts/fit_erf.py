#!/usr/bin/env python3
"""Fit the float erf kernel's coefficients (ops/simd_math.cpp, erf_batch) and print them.

  /usr/bin/python3 scripts/fit_erf.py        (needs numpy and mpmath: python3-numpy, python3-mpmath)

erf(a) = a + a·p(a²) with p(t) = (2/√π − 1) + t·q(t) below a = 1, and
erf(a) = 1 − e^(−a²)·R(1/a) from 1 to 3.95. q and R are fitted by least squares in relative
error on Chebyshev nodes, against erf computed with 40 digits; each coefficient is rounded to
float in turn, lowest order first, and the rest refitted, so that the float coefficients
together stay close to the best fit. Prints both lists, highest order first, and each fit's
largest relative error on its nodes.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
NODES = 3000
SPLIT, TOP = 1.0, 3.95
Q_DEGREE, R_DEGREE = 7, 9


def chebyshev_nodes(lo, hi):
    k = np.arange(NODES)
    return lo + (hi - lo) * (1 - np.cos(np.pi * (k + 0.5) / NODES)) / 2


def fit_rounding_in_turn(u, f, degree, weight):
    """Coefficients c[0..degree] (lowest first) of Σ c_k u^k ≈ f, weighted, rounded to float one at a time."""
    vander = np.vander(u, degree + 1, increasing=True)
    c = [None] * (degree + 1)
    for k in range(degree + 1):
        free = [j for j in range(degree + 1) if c[j] is None]
        fixed = sum(vander[:, j] * c[j] for j in range(degree + 1) if c[j] is not None)
        sol, *_ = np.linalg.lstsq(vander[:, free] * weight[:, None], (f - fixed) * weight, rcond=None)
        c[k] = float(np.float32(sol[0]))
    return np.array(c), vander


def main():
    # q: (erf(a)/a − 2/√π)/a² as a polynomial in t = a², error relative to erf(a)/a
    a = np.maximum(chebyshev_nodes(0.0, SPLIT), 1e-4)
    ratio = np.array([float(mp.erf(v) / v) for v in a])
    g = np.array([float((mp.erf(v) / v - 2 / mp.sqrt(mp.pi)) / mp.mpf(v) ** 2) for v in a])
    q, vq = fit_rounding_in_turn(a * a, g, Q_DEGREE, a * a / ratio)
    q_error = np.max(np.abs(a * a * (vq @ q - g)) / ratio)
    # R: erfc(a)·e^(a²) as a polynomial in u = 1/a, relative error
    a = chebyshev_nodes(SPLIT, TOP)
    f = np.array([float(mp.erfc(v) * mp.exp(v * v)) for v in a])
    r, vr = fit_rounding_in_turn(1 / a, f, R_DEGREE, 1 / f)
    r_error = np.max(np.abs(vr @ r / f - 1))
    print("q:", ", ".join("%.9ef" % v for v in q[::-1]), "  (largest relative error of erf/a: %.2e)" % q_error)
    print("R:", ", ".join("%.9ef" % v for v in r[::-1]), "  (largest relative error: %.2e)" % r_error)


if __name__ == "__main__":
    main()
