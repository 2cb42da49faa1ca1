"""Compiled inner loops (numba): local fields, heat-bath and over-relaxation sweeps, replica exchange.

Convention: H = −Σ_{i<j} [J_ij S_i·S_j + D_ij·(S_i × S_j)] − Σ_i B·S_i, unit vectors S, energies
in meV. The pair list is stored twice, as CSR rows (``indptr``, ``indices``, ``J``, ``D``) with
D of the directed entry (i, j) equal to D_ij and that of (j, i) equal to D_ji = −D_ij, so that the
local field of spin i,

    h_i = −∂H/∂S_i = Σ_j [J_ij S_j + S_j × D_ij] + B,

is one loop over row i (D_ij·(S_i × S_j) = S_i·(S_j × D_ij)). The energy of spin i in that field is
−S_i·h_i and the total energy −½ Σ_i S_i·(h_i + B).

Random numbers: xoshiro256+ (Blackman & Vigna, https://prng.di.unimi.it/), implemented here, with its
state (4 × uint64) passed explicitly and seeded from ``numpy.random.SeedSequence``. Numba's own
generator costs about 15 ns per number, a third of the time budget of one spin update; this one
costs about 1.5 ns. A call with the same state returns the same result in any process or thread.

Speed. Every sweep picks the field loop (:func:`_field_dmi` or :func:`_field_iso`) with a branch
*in its own spin loop*, and no helper is marked ``inline="always"``. Both are measured choices
(``benchmarks/spins_speed.py`` prints the kernels next to a plain loop written out in one
function): a helper that returns the field from either of two loops, or numba's IR-level
inlining of helpers that take arrays, made the over-relaxation sweep with DMI 1.6 times slower
than the plain loop; with the branch at the call site LLVM inlines the helpers itself and the
kernels run at the plain loop's speed. The arithmetic, its order and the random stream are
unchanged, so the results are identical number for number. No ``fastmath``: it would reorder
the sums and change the numbers of a given seed.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_TWO_PI = 2.0 * math.pi
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U19 = np.uint64(19)
_U11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


def rng_state(seed) -> np.ndarray:
    """State (4,) uint64 of the kernels' generator from ``seed`` (int, sequence of ints or SeedSequence)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    state = ss.generate_state(4, np.uint64)
    if not state.any():  # the one forbidden state of xoshiro
        state[0] = 1
    return state


@njit(cache=True, nogil=True)
def _uniform(st):
    """Uniform double in [0, 1) from xoshiro256+; advances the state ``st`` (4,) uint64 in place."""
    s0 = st[0]
    s1 = st[1]
    s2 = st[2]
    s3 = st[3]
    r = s0 + s3
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return (r >> _U11) * _INV53


@njit(cache=True, nogil=True)
def uniforms(n, st):
    """n uniform doubles in [0, 1) (for tests of the generator)."""
    out = np.empty(n)
    for i in range(n):
        out[i] = _uniform(st)
    return out


@njit(cache=True, nogil=True)
def _gaussian(st):
    """Standard normal number (Marsaglia polar method)."""
    while True:
        x = 2.0 * _uniform(st) - 1.0
        y = 2.0 * _uniform(st) - 1.0
        r = x * x + y * y
        if 0.0 < r < 1.0:
            return x * math.sqrt(-2.0 * math.log(r) / r)


@njit(cache=True, nogil=True)
def _unit_circle(st):
    """(cos φ, sin φ) of a uniform angle φ, without trigonometric functions (rejection in the disk)."""
    while True:
        x = 2.0 * _uniform(st) - 1.0
        y = 2.0 * _uniform(st) - 1.0
        r = x * x + y * y
        if 0.0 < r <= 1.0:
            return (x * x - y * y) / r, 2.0 * x * y / r


@njit(cache=True, nogil=True)
def _field_dmi(i, spins, indptr, indices, J, D, hx, hy, hz):
    """(hx, hy, hz) plus the exchange and DMI field of row i: Σ_j [J_ij S_j + S_j × D_ij] (meV)."""
    for k in range(indptr[i], indptr[i + 1]):
        j = indices[k]
        sx = spins[j, 0]
        sy = spins[j, 1]
        sz = spins[j, 2]
        jk = J[k]
        dx = D[k, 0]
        dy = D[k, 1]
        dz = D[k, 2]
        hx += jk * sx + sy * dz - sz * dy
        hy += jk * sy + sz * dx - sx * dz
        hz += jk * sz + sx * dy - sy * dx
    return hx, hy, hz


@njit(cache=True, nogil=True)
def _field_iso(i, spins, indptr, indices, J, hx, hy, hz):
    """(hx, hy, hz) plus the exchange field of row i: Σ_j J_ij S_j (meV)."""
    for k in range(indptr[i], indptr[i + 1]):
        j = indices[k]
        jk = J[k]
        hx += jk * spins[j, 0]
        hy += jk * spins[j, 1]
        hz += jk * spins[j, 2]
    return hx, hy, hz


@njit(cache=True, nogil=True)
def local_fields(spins, indptr, indices, J, D, use_dmi, field):
    """Local fields h_i (meV) of all spins, shape (n, 3)."""
    n = spins.shape[0]
    out = np.empty((n, 3))
    for i in range(n):
        if use_dmi:  # the branch here, not inside a helper: see the module docstring
            hx, hy, hz = _field_dmi(i, spins, indptr, indices, J, D, field[0], field[1], field[2])
        else:
            hx, hy, hz = _field_iso(i, spins, indptr, indices, J, field[0], field[1], field[2])
        out[i, 0] = hx
        out[i, 1] = hy
        out[i, 2] = hz
    return out


@njit(cache=True, nogil=True)
def total_energy(spins, indptr, indices, J, D, use_dmi, field):
    """Total energy (meV) −½ Σ_i S_i·(h_i + B) of one configuration."""
    n = spins.shape[0]
    e = 0.0
    for i in range(n):
        if use_dmi:  # the branch here, not inside a helper: see the module docstring
            hx, hy, hz = _field_dmi(i, spins, indptr, indices, J, D, field[0], field[1], field[2])
        else:
            hx, hy, hz = _field_iso(i, spins, indptr, indices, J, field[0], field[1], field[2])
        e -= 0.5 * (spins[i, 0] * (hx + field[0]) + spins[i, 1] * (hy + field[1]) + spins[i, 2] * (hz + field[2]))
    return e


@njit(cache=True, nogil=True)
def _heat_bath_direction(hx, hy, hz, beta, st):
    """A unit vector drawn from P(S) ∝ exp(β S·h): cos θ to h by inversion of its distribution."""
    hn = math.sqrt(hx * hx + hy * hy + hz * hz)
    a = beta * hn
    u = 1.0 - _uniform(st)  # (0, 1]
    if a < 1e-10:
        c = 2.0 * u - 1.0
        hx, hy, hz, hn = 0.0, 0.0, 1.0, 1.0
    elif a > 20.0:  # exp(-2a) < 5e-18 is below the resolution of u
        c = 1.0 + math.log(u) / a
    else:
        c = 1.0 + math.log(u + (1.0 - u) * math.exp(-2.0 * a)) / a
    c = max(c, -1.0)
    s = math.sqrt(max(0.0, 1.0 - c * c))
    cp, sp = _unit_circle(st)
    cp *= s
    sp *= s
    inv = 1.0 / hn
    ex = hx * inv
    ey = hy * inv
    ez = hz * inv
    # orthonormal basis (a, b, e) without square roots or branches on the direction
    # (Duff et al., J. Comput. Graph. Tech. 6, 1 (2017))
    sg = math.copysign(1.0, ez)
    q = -1.0 / (sg + ez)
    w = ex * ey * q
    ax, ay, az = 1.0 + sg * ex * ex * q, sg * w, -sg * ex
    bx, by, bz = w, sg + ey * ey * q, -ey
    return c * ex + cp * ax + sp * bx, c * ey + cp * ay + sp * by, c * ez + cp * az + sp * bz


@njit(cache=True, nogil=True)
def heat_bath_sweep(spins, indptr, indices, J, D, use_dmi, field, beta, st):
    """One heat-bath sweep (every spin once, in order); returns the energy change (meV)."""
    n = spins.shape[0]
    de = 0.0
    for i in range(n):
        if use_dmi:  # the branch here, not inside a helper: see the module docstring
            hx, hy, hz = _field_dmi(i, spins, indptr, indices, J, D, field[0], field[1], field[2])
        else:
            hx, hy, hz = _field_iso(i, spins, indptr, indices, J, field[0], field[1], field[2])
        nx, ny, nz = _heat_bath_direction(hx, hy, hz, beta, st)
        de -= (nx - spins[i, 0]) * hx + (ny - spins[i, 1]) * hy + (nz - spins[i, 2]) * hz
        spins[i, 0] = nx
        spins[i, 1] = ny
        spins[i, 2] = nz
    return de


@njit(cache=True, nogil=True)
def over_relaxation_sweep(spins, indptr, indices, J, D, use_dmi, field):
    """One over-relaxation sweep: each spin reflected about its local field (energy unchanged)."""
    n = spins.shape[0]
    for i in range(n):
        if use_dmi:  # the branch here, not inside a helper: see the module docstring
            hx, hy, hz = _field_dmi(i, spins, indptr, indices, J, D, field[0], field[1], field[2])
        else:
            hx, hy, hz = _field_iso(i, spins, indptr, indices, J, field[0], field[1], field[2])
        h2 = hx * hx + hy * hy + hz * hz
        if h2 > 0.0:
            p = 2.0 * (spins[i, 0] * hx + spins[i, 1] * hy + spins[i, 2] * hz) / h2
            sx = p * hx - spins[i, 0]
            sy = p * hy - spins[i, 1]
            sz = p * hz - spins[i, 2]
            # renormalise: keeps |S| = 1 against rounding over millions of reflections
            r = 1.0 / math.sqrt(sx * sx + sy * sy + sz * sz)
            spins[i, 0] = sx * r
            spins[i, 1] = sy * r
            spins[i, 2] = sz * r


@njit(cache=True, nogil=True)
def random_spins(n, st):
    """n unit vectors uniform on the sphere, shape (n, 3); advances the generator state ``st``."""
    out = np.empty((n, 3))
    for i in range(n):
        c = 2.0 * _uniform(st) - 1.0
        s = math.sqrt(1.0 - c * c)
        cp, sp = _unit_circle(st)
        out[i, 0] = s * cp
        out[i, 1] = s * sp
        out[i, 2] = c
    return out


#: Columns of the per-temperature sums returned by :func:`parallel_tempering`.
SUM_COLUMNS = ("e", "e2", "m", "m2", "m4", "mz")


@njit(cache=True, nogil=True)
def parallel_tempering(spins, betas, indptr, indices, J, D, use_dmi, field, n_therm, n_measure, n_overrelax, st):
    """Heat-bath + over-relaxation Monte Carlo at several temperatures with replica exchange.

    Parameters
    ----------
    spins : (n_T, n, 3) float64, modified in place; replica k starts at temperature k.
    betas : (n_T,) 1/(k_B T) in 1/meV, increasing or decreasing.
    n_therm, n_measure : sweeps discarded, then measured (one measurement per sweep).
    n_overrelax : over-relaxation sweeps after each heat-bath sweep.
    st : (4,) uint64 generator state (:func:`rng_state`), advanced in place.

    Returns
    -------
    sums : (n_T, 6) sums over the measurements of e, e², |m|, m², m⁴, m_z per temperature, with
        e = E/n (meV) and m = |Σ_i S_i|/n.
    accepted : (n_T − 1,) accepted exchanges between temperatures k and k + 1.
    attempts : (n_T − 1,) attempted exchanges.
    energies : (n_T,) tracked total energy (meV) of the replica at each temperature at the end.
    replica : (n_T,) which replica sits at each temperature at the end.
    """
    n_t = spins.shape[0]
    n = spins.shape[1]
    replica = np.arange(n_t)
    energies = np.empty(n_t)
    for k in range(n_t):
        energies[k] = total_energy(spins[k], indptr, indices, J, D, use_dmi, field)
    sums = np.zeros((n_t, 6))
    accepted = np.zeros(max(n_t - 1, 0), dtype=np.int64)
    attempts = np.zeros(max(n_t - 1, 0), dtype=np.int64)
    inv_n = 1.0 / n
    for sweep in range(n_therm + n_measure):
        for k in range(n_t):
            r = replica[k]
            energies[r] += heat_bath_sweep(spins[r], indptr, indices, J, D, use_dmi, field, betas[k], st)
            for _ in range(n_overrelax):
                over_relaxation_sweep(spins[r], indptr, indices, J, D, use_dmi, field)
        # replica exchange between neighbouring temperatures, even and odd pairs alternately
        for k in range(sweep % 2, n_t - 1, 2):
            a = replica[k]
            b = replica[k + 1]
            x = (betas[k] - betas[k + 1]) * (energies[a] - energies[b])
            attempts[k] += 1
            if x >= 0.0 or _uniform(st) < math.exp(x):
                replica[k] = b
                replica[k + 1] = a
                accepted[k] += 1
        if sweep >= n_therm:
            for k in range(n_t):
                r = replica[k]
                s = spins[r]
                mx = 0.0
                my = 0.0
                mz = 0.0
                for i in range(n):
                    mx += s[i, 0]
                    my += s[i, 1]
                    mz += s[i, 2]
                m2 = (mx * mx + my * my + mz * mz) * inv_n * inv_n
                e = energies[r] * inv_n
                sums[k, 0] += e
                sums[k, 1] += e * e
                sums[k, 2] += math.sqrt(m2)
                sums[k, 3] += m2
                sums[k, 4] += m2 * m2
                sums[k, 5] += mz * inv_n
        # refresh the tracked energies now and then against rounding drift
        if sweep % 256 == 255:
            for r in range(n_t):
                energies[r] = total_energy(spins[r], indptr, indices, J, D, use_dmi, field)
    ordered = np.empty(n_t)
    for k in range(n_t):
        ordered[k] = energies[replica[k]]
    return sums, accepted, attempts, ordered, replica


@njit(cache=True, nogil=True)
def _rotate(sx, sy, sz, wx, wy, wz):
    """S rotated by the angle |w| about w (Rodrigues): exact, keeps |S|."""
    th = math.sqrt(wx * wx + wy * wy + wz * wz)
    if th < 1e-300:
        return sx, sy, sz
    kx = wx / th
    ky = wy / th
    kz = wz / th
    c = math.cos(th)
    s = math.sin(th)
    kd = (kx * sx + ky * sy + kz * sz) * (1.0 - c)
    return (
        sx * c + (ky * sz - kz * sy) * s + kx * kd,
        sy * c + (kz * sx - kx * sz) * s + ky * kd,
        sz * c + (kx * sy - ky * sx) * s + kz * kd,
    )


@njit(cache=True, nogil=True)
def _omega(spins, noise, rate, alpha, indptr, indices, J, D, use_dmi, field, out):
    """Angular velocities Ω_i = c_i (H_i + α S_i × H_i), H_i = h_i + ξ_i, so that dS_i/dt = Ω_i × S_i."""
    n = spins.shape[0]
    for i in range(n):
        if use_dmi:  # the branch here, not inside a helper: see the module docstring
            hx, hy, hz = _field_dmi(i, spins, indptr, indices, J, D, field[0], field[1], field[2])
        else:
            hx, hy, hz = _field_iso(i, spins, indptr, indices, J, field[0], field[1], field[2])
        hx += noise[i, 0]
        hy += noise[i, 1]
        hz += noise[i, 2]
        sx = spins[i, 0]
        sy = spins[i, 1]
        sz = spins[i, 2]
        c = rate[i]
        out[i, 0] = c * (hx + alpha * (sy * hz - sz * hy))
        out[i, 1] = c * (hy + alpha * (sz * hx - sx * hz))
        out[i, 2] = c * (hz + alpha * (sx * hy - sy * hx))


@njit(cache=True, nogil=True)
def llg_heun(spins, rate, noise_scale, alpha, dt, n_steps, record_every, indptr, indices, J, D, use_dmi, field, st):
    """Stochastic Landau–Lifshitz–Gilbert dynamics, Heun predictor–corrector on the sphere.

    dS_i/dt = −c_i [S_i × H_i + α S_i × (S_i × H_i)] = Ω_i × S_i, with c_i = rate[i] (rad/(ps meV))
    and H_i = h_i + ξ_i, ξ_i Gaussian with standard deviation ``noise_scale[i]`` (meV) per component,
    drawn once per step and used in both stages (Stratonovich). Each stage rotates S_i about
    Ω_i by |Ω_i| dt, so |S_i| = 1 is kept exactly: predictor S' = R(Ω(S) dt) S, corrector
    S(t + dt) = R(½[Ω(S) + Ω(S')] dt) S.

    Returns (energies (n_rec,), magnetisation (n_rec, 3) = Σ S / N), recorded every ``record_every``
    steps starting with the initial state; ``spins`` is advanced in place.
    """
    n = spins.shape[0]
    n_rec = n_steps // record_every + 1
    energies = np.empty(n_rec)
    mag = np.empty((n_rec, 3))
    noise = np.zeros((n, 3))
    w1 = np.empty((n, 3))
    w2 = np.empty((n, 3))
    pred = np.empty((n, 3))
    rec = 0
    for step in range(n_steps + 1):
        if step % record_every == 0:
            energies[rec] = total_energy(spins, indptr, indices, J, D, use_dmi, field)
            mx = 0.0
            my = 0.0
            mz = 0.0
            for i in range(n):
                mx += spins[i, 0]
                my += spins[i, 1]
                mz += spins[i, 2]
            mag[rec, 0] = mx / n
            mag[rec, 1] = my / n
            mag[rec, 2] = mz / n
            rec += 1
        if step == n_steps:
            break
        for i in range(n):
            s = noise_scale[i]
            if s > 0.0:
                noise[i, 0] = s * _gaussian(st)
                noise[i, 1] = s * _gaussian(st)
                noise[i, 2] = s * _gaussian(st)
        _omega(spins, noise, rate, alpha, indptr, indices, J, D, use_dmi, field, w1)
        for i in range(n):
            x, y, z = _rotate(spins[i, 0], spins[i, 1], spins[i, 2], w1[i, 0] * dt, w1[i, 1] * dt, w1[i, 2] * dt)
            pred[i, 0] = x
            pred[i, 1] = y
            pred[i, 2] = z
        _omega(pred, noise, rate, alpha, indptr, indices, J, D, use_dmi, field, w2)
        for i in range(n):
            x, y, z = _rotate(
                spins[i, 0],
                spins[i, 1],
                spins[i, 2],
                0.5 * (w1[i, 0] + w2[i, 0]) * dt,
                0.5 * (w1[i, 1] + w2[i, 1]) * dt,
                0.5 * (w1[i, 2] + w2[i, 2]) * dt,
            )
            spins[i, 0] = x
            spins[i, 1] = y
            spins[i, 2] = z
    return energies, mag
