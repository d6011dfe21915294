"""Compiled kernels of the fast bias-variance engine (numba; imported only when that engine runs).

Many small least-squares problems are factored side by side: ``LANES``
datasets share one working array laid out ``(column, row, lane)``, so every
step of the Householder QR, of the triangular inverse and of the moments is
the same arithmetic on ``LANES`` independent numbers — one SIMD vector —
and no sum is reordered across datasets. Each dataset therefore gets the same
rounding whichever lane, chunk, block, thread or process it lands in: the
numbers depend on the seed only.

Lanes are handled as tuples (``_ld`` loads one row of lanes, ``_fma``,
``_mul``, ``_sub`` work lane by lane, ``_st`` stores): every load of a step
comes before its stores, which lets LLVM's SLP vectorizer turn each of them
into one vector instruction. Numba leaves that vectorizer off by default, so
it is switched on while this module compiles (and restored after).

The kernels release the GIL (``nogil``), so the engine runs blocks in threads
of one process; they never start numba's own thread pool. (Splitting each
block over numba's threads with ``prange`` instead measured 1.4-4x slower on
2 cores: drawing the datasets stayed serial, and its OpenMP threads suffer
most when the machine is shared.) Compiled code is cached next to this file
(``cache=True``): the compile is paid once per install (see
:data:`COMPILE_SECONDS`).
"""

from __future__ import annotations

import time

import numba
import numpy as np
from numba import njit

#: Datasets factored side by side: one AVX-512 vector of doubles, two AVX2 ones. The lane helpers
#: below spell out 8 lanes.
LANES = 8

_jit = dict(cache=True, nogil=True, error_model="numpy")
_t0 = time.perf_counter()
_slp = numba.config.SLP_VECTORIZE
numba.config.SLP_VECTORIZE = 1
try:
    @njit
    def _ld(a):
        return (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])

    @njit
    def _st(a, t):
        for l in range(LANES):
            a[l] = t[l]

    @njit
    def _fma(c, a, b):  # c + a * b, rounded twice as numpy would
        return (c[0] + a[0] * b[0], c[1] + a[1] * b[1], c[2] + a[2] * b[2], c[3] + a[3] * b[3],
                c[4] + a[4] * b[4], c[5] + a[5] * b[5], c[6] + a[6] * b[6], c[7] + a[7] * b[7])

    @njit
    def _mul(a, b):
        return (a[0] * b[0], a[1] * b[1], a[2] * b[2], a[3] * b[3], a[4] * b[4], a[5] * b[5], a[6] * b[6],
                a[7] * b[7])

    @njit
    def _sub(a, b):
        return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3], a[4] - b[4], a[5] - b[5], a[6] - b[6],
                a[7] - b[7])

    _ZERO = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

    # -- loading a chunk of datasets ------------------------------------------------

    @njit(**_jit)
    def _load_design(Phi, Y, i0, W):
        """W[j, r, l] = Phi[i0 + l, r, j], W[P, r, l] = Y[i0 + l, r]: each lane's augmented design [A | y].
        Lanes past the last dataset repeat it (their results are dropped)."""
        B, n, P = Phi.shape
        for l in range(LANES):
            i = min(i0 + l, B - 1)
            for r in range(n):
                for j in range(P):
                    W[j, r, l] = Phi[i, r, j]
                W[P, r, l] = Y[i, r]

    @njit(**_jit)
    def _load_recurrence(U, Y, i0, a, b, phi0, P, W):
        """Like _load_design, the coordinates evaluated at the windowed inputs U by the three-term
        recurrence with the operations of ``fast.TestBasis.__call__`` in its order (same rounding)."""
        B, n = U.shape
        u = np.empty(LANES)
        for r in range(n):
            for l in range(LANES):
                i = min(i0 + l, B - 1)
                u[l] = U[i, r]
                W[P, r, l] = Y[i, r]
                W[0, r, l] = phi0
            if P > 1:
                c1 = phi0 / b[0]
                for l in range(LANES):
                    W[1, r, l] = (u[l] - a[0]) * c1
            for k in range(1, P - 1):
                ak, bk, bk1 = a[k], b[k], b[k - 1]
                uu, p1, p0 = _ld(u), _ld(W[k, r]), _ld(W[k - 1, r])
                for l in range(LANES):
                    W[k + 1, r, l] = ((uu[l] - ak) * p1[l] - p0[l] * bk1) / bk

    # -- the factorization ----------------------------------------------------------

    @njit
    def _reflect(W, k, j, n, tau, width):
        """Apply the reflector I - tau v v^T held in column k (v_k = 1 implicit) to columns j..j+width-1
        (width 4, 2 or 1: columns share the loads of v and keep independent sums)."""
        a0 = _ld(W[j, k])
        a1 = _ld(W[j + 1, k]) if width > 1 else _ZERO
        a2 = _ld(W[j + 2, k]) if width > 2 else _ZERO
        a3 = _ld(W[j + 3, k]) if width > 2 else _ZERO
        for r in range(k + 1, n):
            v = _ld(W[k, r])
            a0 = _fma(a0, v, _ld(W[j, r]))
            if width > 1:
                a1 = _fma(a1, v, _ld(W[j + 1, r]))
            if width > 2:
                a2 = _fma(a2, v, _ld(W[j + 2, r]))
                a3 = _fma(a3, v, _ld(W[j + 3, r]))
        w0, w1, w2, w3 = _mul(a0, tau), _mul(a1, tau), _mul(a2, tau), _mul(a3, tau)
        _st(W[j, k], _sub(_ld(W[j, k]), w0))
        if width > 1:
            _st(W[j + 1, k], _sub(_ld(W[j + 1, k]), w1))
        if width > 2:
            _st(W[j + 2, k], _sub(_ld(W[j + 2, k]), w2))
            _st(W[j + 3, k], _sub(_ld(W[j + 3, k]), w3))
        for r in range(k + 1, n):
            v = _ld(W[k, r])
            x0 = _ld(W[j, r])
            if width == 1:
                _st(W[j, r], _sub(x0, _mul(w0, v)))
            elif width == 2:
                x1 = _ld(W[j + 1, r])
                _st(W[j, r], _sub(x0, _mul(w0, v)))
                _st(W[j + 1, r], _sub(x1, _mul(w1, v)))
            else:
                x1, x2, x3 = _ld(W[j + 1, r]), _ld(W[j + 2, r]), _ld(W[j + 3, r])
                _st(W[j, r], _sub(x0, _mul(w0, v)))
                _st(W[j + 1, r], _sub(x1, _mul(w1, v)))
                _st(W[j + 2, r], _sub(x2, _mul(w2, v)))
                _st(W[j + 3, r], _sub(x3, _mul(w3, v)))

    @njit
    def _reflector(alpha, ss):
        """dlarfg's reflector for a column with alpha on the diagonal and squared norm ss below it:
        (new diagonal beta, tau, the factor that turns the column below into v). Nothing below the
        diagonal (ss = 0) leaves H = I. Written without branches, so that the lanes vectorize."""
        beta = -np.copysign(np.sqrt(alpha * alpha + ss), alpha)
        some = ss != 0.0
        return (beta if some else alpha, (beta - alpha) / beta if some else 0.0,
                1.0 / (alpha - beta) if some else 0.0)

    @njit(**_jit)
    def _qr_nested(W, P, t, C):
        """Nested least squares of the LANES augmented designs in W (P + 1 columns, n >= P rows).

        Householder QR as LAPACK's dgeqr2 (reflectors chosen as dlarfg does), leaving R and z = Q^T y
        in W; then, row j of R^-1 at a time (t is scratch), ``C[d, j] = sum_{k=j..d} R^-1[j, k] z[k]``:
        coefficient j of the degree-d fit, accumulated over d as the LAPACK path's cumsum."""
        n = W.shape[1]
        for k in range(P):
            ss = _ZERO
            for r in range(k + 1, n):
                x = _ld(W[k, r])
                ss = _fma(ss, x, x)
            a = _ld(W[k, k])
            h0, h1, h2, h3 = _reflector(a[0], ss[0]), _reflector(a[1], ss[1]), _reflector(a[2], ss[2]), \
                _reflector(a[3], ss[3])
            h4, h5, h6, h7 = _reflector(a[4], ss[4]), _reflector(a[5], ss[5]), _reflector(a[6], ss[6]), \
                _reflector(a[7], ss[7])
            _st(W[k, k], (h0[0], h1[0], h2[0], h3[0], h4[0], h5[0], h6[0], h7[0]))
            tt = (h0[1], h1[1], h2[1], h3[1], h4[1], h5[1], h6[1], h7[1])
            sc = (h0[2], h1[2], h2[2], h3[2], h4[2], h5[2], h6[2], h7[2])
            for r in range(k + 1, n):
                _st(W[k, r], _mul(_ld(W[k, r]), sc))   # v, its leading 1 implicit
            j = k + 1
            while j + 3 <= P:                            # columns k+1..P, y (column P) included
                _reflect(W, k, j, n, tt, 4)
                j += 4
            while j + 1 <= P:
                _reflect(W, k, j, n, tt, 2)
                j += 2
            if j == P:
                _reflect(W, k, j, n, tt, 1)
        # row j of R^-1: Rinv[j, i] = -(sum_{k=j..i-1} Rinv[j, k] R[k, i]) / R[i, i], the sums kept in t
        for j in range(P):
            for d in range(j):
                _st(C[d, j], _ZERO)
            for i in range(j + 1, P):
                _st(t[i], _ZERO)
            c = _ZERO
            for i in range(j, P):
                rii = _ld(W[i, i])
                s = _ld(t[i])
                if i == j:
                    rji = (1.0 / rii[0], 1.0 / rii[1], 1.0 / rii[2], 1.0 / rii[3], 1.0 / rii[4], 1.0 / rii[5],
                           1.0 / rii[6], 1.0 / rii[7])
                else:
                    rji = (-s[0] / rii[0], -s[1] / rii[1], -s[2] / rii[2], -s[3] / rii[3], -s[4] / rii[4],
                           -s[5] / rii[5], -s[6] / rii[6], -s[7] / rii[7])
                c = _fma(c, rji, _ld(W[P, i]))
                _st(C[i, j], c)
                for k in range(i + 1, P):
                    _st(t[k], _fma(_ld(t[k]), rji, _ld(W[k, i])))

    # -- drivers --------------------------------------------------------------------

    @njit("Tuple((f8[:, :, ::1], f8[:, ::1]))(f8[:, :, ::1], f8[:, ::1])", **_jit)
    def nested_lstsq(Phi, Y):
        """Every nested degree's least-squares coefficients ``out[b, j, d]`` and ``|R_jj|``
        (see fast.nested_lstsq)."""
        B, n, P = Phi.shape
        out = np.empty((B, P, P))
        rdiag = np.empty((B, P))
        W = np.empty((P + 1, n, LANES))
        t = np.empty((P, LANES))
        C = np.empty((P, P, LANES))
        for i0 in range(0, B, LANES):
            _load_design(Phi, Y, i0, W)
            _qr_nested(W, P, t, C)
            for l in range(min(LANES, B - i0)):
                for d in range(P):
                    for j in range(P):
                        out[i0 + l, j, d] = C[d, j, l]
                    rdiag[i0 + l, d] = abs(W[d, d, l])
        return out, rdiag

    @njit(**_jit)
    def _fit_chunk(U, Y, i0, a, b, phi0, degrees, g, r, e, rho, noise, W, t, C, F, dist, error):
        """The fits of datasets i0..i0+LANES-1 of a block, their distances to ȳ and their errors.

        ``F[m, j]`` (lanes) is coefficient j of model m (degree ``degrees[m]``); per dataset and model,
        ``dist = |c - g|^2 + r`` is mean_x (h - ȳ)^2 and ``error = dist - 2 ((c - g)·e - rho) + noise``
        is mean_x (h - y)^2 against the fresh test noise whose coordinates are e."""
        B = U.shape[0]
        P = g.shape[0]
        _load_recurrence(U, Y, i0, a, b, phi0, P, W)
        _qr_nested(W, P, t, C)
        for j in range(P):                 # the test noise's coordinates, lane by lane (t is free again)
            for l in range(LANES):
                t[j, l] = e[min(i0 + l, B - 1), j]
        for m in range(degrees.size):
            d = degrees[m]
            s2 = _ZERO
            s1 = _ZERO
            for j in range(d + 1):
                c = _ld(C[d, j])
                _st(F[m, j], c)
                gj = g[j, m]
                dv = (c[0] - gj, c[1] - gj, c[2] - gj, c[3] - gj, c[4] - gj, c[5] - gj, c[6] - gj, c[7] - gj)
                s2 = _fma(s2, dv, dv)
                s1 = _fma(s1, dv, _ld(t[j]))
            for j in range(d + 1, P):
                _st(F[m, j], _ZERO)
            for l in range(min(LANES, B - i0)):
                i = i0 + l
                dist[i, m] = s2[l] + r[m]
                error[i, m] = dist[i, m] - 2.0 * (s1[l] - rho[i, m]) + noise[i]

    _FITS = ("Tuple((f8[:, :, :, ::1], f8[:, ::1], f8[:, ::1]))(f8[:, ::1], f8[:, ::1], f8[::1], f8[::1], f8, "
             "i8[::1], f8[:, ::1], f8[::1], f8[:, ::1], f8[:, ::1], f8[::1])")

    @njit(_FITS, **_jit)
    def block_fits(U, Y, a, b, phi0, degrees, g, r, e, rho, noise):
        """A block's fits F (chunks, M, P, LANES), distances to ȳ (B, M) and errors (B, M): one compiled
        loop over its chunks of LANES datasets (dataset i is lane i % LANES of chunk i // LANES)."""
        B, n = U.shape
        P = g.shape[0]
        F = np.empty(((B + LANES - 1) // LANES, degrees.size, P, LANES))
        dist = np.empty((B, degrees.size))
        error = np.empty((B, degrees.size))
        W = np.empty((P + 1, n, LANES))
        t = np.empty((P, LANES))
        C = np.empty((P, P, LANES))
        for c in range(F.shape[0]):
            _fit_chunk(U, Y, c * LANES, a, b, phi0, degrees, g, r, e, rho, noise, W, t, C, F[c], dist, error)
        return F, dist, error

    @njit(**_jit)
    def _scatter_model(F, B, m, k, mean, cov):
        """Model m's mean coefficients over the block's B datasets, and the scatter of their deviations
        from it over the k coordinates its degree spans: sums lane by lane over the chunks, then over the
        lanes (a fixed order). Lanes past the last dataset are weighted 0."""
        n_chunks = F.shape[0]
        last = B - (n_chunks - 1) * LANES
        mask = (1.0, 1.0 if last > 1 else 0.0, 1.0 if last > 2 else 0.0, 1.0 if last > 3 else 0.0,
                1.0 if last > 4 else 0.0, 1.0 if last > 5 else 0.0, 1.0 if last > 6 else 0.0,
                1.0 if last > 7 else 0.0)
        ones = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
        D = np.empty((k, LANES))
        A = np.zeros((k, k, LANES))
        for j in range(k):
            s = _ZERO
            for c in range(n_chunks):
                s = _fma(s, _ld(F[c, m, j]), mask if c == n_chunks - 1 else ones)
            mean[j, m] = (s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7]) / B
        for c in range(n_chunks):
            w = mask if c == n_chunks - 1 else ones
            for j in range(k):
                mj = mean[j, m]
                x = _ld(F[c, m, j])
                _st(D[j], _mul((x[0] - mj, x[1] - mj, x[2] - mj, x[3] - mj, x[4] - mj, x[5] - mj, x[6] - mj,
                                x[7] - mj), w))
            for j in range(k):
                dj = _ld(D[j])
                for q in range(j + 1):
                    _st(A[j, q], _fma(_ld(A[j, q]), dj, _ld(D[q])))
        for j in range(k):
            for q in range(j + 1):
                x = _ld(A[j, q])
                cov[m, j, q] = x[0] + x[1] + x[2] + x[3] + x[4] + x[5] + x[6] + x[7]
                cov[m, q, j] = cov[m, j, q]

    _SCATTER = "Tuple((f8[:, ::1], f8[:, :, ::1]))(f8[:, :, :, ::1], i8, i8[::1])"

    @njit(_SCATTER, **_jit)
    def block_scatter(F, B, degrees):
        """Mean coefficients (P, M) and scatter (M, P, P) of a block's fits F (from block_fits)."""
        M, P = F.shape[1], F.shape[2]
        mean = np.zeros((P, M))
        cov = np.zeros((M, P, P))
        for m in range(M):
            _scatter_model(F, B, m, degrees[m] + 1, mean, cov)
        return mean, cov
finally:
    numba.config.SLP_VECTORIZE = _slp

#: Seconds this module took to compile or load its kernels at import (once per install it compiles).
COMPILE_SECONDS = time.perf_counter() - _t0
