#!/usr/bin/env python3
"""numpy_reference.py -- the NumPy peer of ipabs: the same default model and
the simplified waterfall documented in bench/README.md, vectorised over
paths, in chunks so that memory stays bounded whatever the path count.

This is what a quant would write instead of using ipabs: it reads the same
scenario (YAML + loan tape), draws the one-factor Gaussian copula with
NumPy's generator, finds each loan's default period against the
precomputed thresholds Phi^-1(cumPD_i(t)), and runs the simplified
waterfall:

  for each loan i defaulting in period tau (1 <= tau <= term_i):
    EAD_i      = B_i(tau-1) + B_i(tau-1) r_i / f            (30/360)
    static_i   = P_i - clamp(min(P_i, V_i mean_i) - cost_i, 0, P_i)
    if the guarantor is alive at tau + payout_lag <= T:  payout += EAD_i
    else: plan loss += EAD_i - R_i,  R_i = max(0, min(EAD_i, V_i mean_i) - cost_i)
          if tau + lag_i <= T, else 0
  sub loss = min(plan loss, sub balance); senior loss = min(rest, senior balance)

Scope (checked, with a clear error otherwise): Gaussian copula, no sector
factors, annual PDs (no rating table or PD curves), 30/360, accelerated
guarantee payouts, unlimited capacity.

    numpy_reference.py SCENARIO.yaml (--paths N | --seconds S) [--seed S] [--chunk C]

prints one JSON object (paths, seconds, paths_per_second, the means and
standard errors of the measures, the default-count histogram, peak RSS).
Requires NumPy and PyYAML (Debian: python3-numpy, python3-yaml).
"""
import argparse
import csv
import json
import math
import os
import resource
import sys
import time
from statistics import NormalDist

try:
    import numpy as np
    import yaml
except ImportError as e:  # a clear message, not a traceback
    sys.stderr.write("numpy_reference.py: %s (install python3-numpy and python3-yaml)\n" % e)
    sys.exit(3)

PD_CAP = 1.0 - 1e-12
FREQ = {"monthly": 12, "quarterly": 4, "semiannual": 2, "annual": 1}
MEASURES = ("expected_defaults", "prob_no_default", "static_expected_loss",
            "guarantor_prob_default", "plan_loss", "senior_loss", "sub_loss",
            "guarantee_payout")


class ScopeError(Exception):
    pass


def schedule(principal, rate, term, amort, f, T):
    """Scheduled balance B(t), t = 0..T (0 after the term), as ipabs's deal.c."""
    B = np.zeros(T + 1)
    B[0] = bal = principal
    j = rate / f
    if amort == "annuity" and j > 0:
        inst = principal * j / (1.0 - (1.0 + j) ** -term)
    for t in range(1, term + 1):
        if t == term:
            paid = bal
        elif amort == "bullet":
            paid = 0.0
        elif amort == "level_principal":
            paid = principal / term
        elif amort == "annuity":
            paid = inst - bal * j if j > 0 else principal / term
        else:
            raise ScopeError("unknown amortisation %r" % amort)
        bal -= paid
        B[t] = bal
    return B


class Deal:
    """What the model and the simplified waterfall need, as arrays."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as fh:
            y = yaml.safe_load(fh)
        d, model = y["deal"], y.get("model") or {}
        g = y.get("guarantor")
        self.f = FREQ[d.get("frequency", "quarterly")]
        self.T = T = int(d["legal_final"])
        if d.get("day_count", "30/360") != "30/360":
            raise ScopeError("day_count must be 30/360")
        if model.get("copula", "gaussian") != "gaussian" or model.get("sectors"):
            raise ScopeError("only the one-factor Gaussian copula is implemented")
        if model.get("pd_table") or model.get("pd_curves"):
            raise ScopeError("only annual PDs are implemented")
        rho = float(model.get("correlation", 0.0))
        mult = float(model.get("pd_multiplier", 1.0))
        tape = os.path.join(os.path.dirname(os.path.abspath(path)), y["loans"]["tape"])
        with open(tape, encoding="utf-8-sig", newline="") as fh:
            rows = [r for r in csv.DictReader(fh)]
        n = self.n = len(rows)
        nd = NormalDist()
        self.term = np.array([int(float(r["term"])) for r in rows])
        a = [float(r["factor_loading"]) if r.get("factor_loading") else math.sqrt(rho)
             for r in rows]
        self.a = np.array(a)
        self.c = np.sqrt(np.maximum(0.0, 1.0 - self.a ** 2))
        self.lag = np.array([int(float(r["recovery_lag"])) for r in rows])
        # Thresholds Phi^-1(cumPD_i(t)), t = 1..term_i, padded with +inf so
        # that searchsorted never counts a period after the term.
        self.thr = np.full((n, T), np.inf)
        ead = np.zeros((n, T + 1))
        loss = np.zeros((n, T + 1))
        self.static = np.zeros(n)
        for i, r in enumerate(rows):
            if r.get("rating") or r.get("pd_curve"):
                raise ScopeError("loan %s: ratings and PD curves are not implemented" % r["loan_id"])
            pd = min(float(r["annual_pd"]) * mult, PD_CAP)
            P, rate = float(r["principal"]), float(r["rate"])
            V, mean = float(r["ip_value"]), float(r["recovery_mean"])
            cost = float(r["disposal_cost"])
            term = self.term[i]
            for t in range(1, term + 1):
                cum = 1.0 - (1.0 - pd) ** (t / self.f)
                self.thr[i, t - 1] = nd.inv_cdf(cum) if cum > 0 else -np.inf
            B = schedule(P, rate, term, r["amortisation"], self.f, T)
            for tau in range(1, term + 1):
                e = B[tau - 1] * (1.0 + rate / self.f)
                rec = max(0.0, min(e, V * mean) - cost) if tau + self.lag[i] <= T else 0.0
                ead[i, tau], loss[i, tau] = e, e - rec
            self.static[i] = P - min(max(min(P, V * mean) - cost, 0.0), P)
        self.ead, self.loss = ead, loss
        # Loans with the same thresholds are searched together.
        self.groups = []
        _, inverse = np.unique(self.thr, axis=0, return_inverse=True)
        for k in np.unique(inverse):
            idx = np.nonzero(inverse.ravel() == k)[0]
            self.groups.append((idx, self.thr[idx[0]]))
        # Guarantor.
        if g is None:
            self.g_can_default, self.g_alive_pays = False, False
            self.ga, self.plag = 0.0, 0
            self.gthr = np.full(T, -np.inf)
        else:
            if g.get("payout_style", "accelerated") != "accelerated":
                raise ScopeError("only accelerated guarantee payouts are implemented")
            if g.get("capacity", "unlimited") != "unlimited":
                raise ScopeError("only unlimited guarantor capacity is implemented")
            gpd = min(float(g.get("annual_pd", 0.0)) * mult, PD_CAP)
            self.g_can_default, self.g_alive_pays = gpd > 0, True
            self.ga = float(g["factor_loading"]) if "factor_loading" in g else math.sqrt(rho)
            self.plag = int(g.get("payout_lag", 0))
            self.gthr = np.array([nd.inv_cdf(1.0 - (1.0 - gpd) ** (t / self.f)) if gpd > 0
                                  else -np.inf for t in range(1, T + 1)])
        self.gc = math.sqrt(max(0.0, 1.0 - self.ga ** 2))
        tranches = y["plan"]["tranches"]
        self.senior = sum(float(t["balance"]) for t in tranches if t["class"] == "senior")
        self.sub = sum(float(t["balance"]) for t in tranches if t["class"] != "senior")


def simulate_chunk(deal, rng, m, sums, counts):
    """m paths: default model + simplified waterfall; adds to sums, counts."""
    n, T = deal.n, deal.T
    Z = rng.standard_normal(m)
    X = rng.standard_normal((n, m))          # loans by row: contiguous per loan
    X *= deal.c[:, None]
    X += deal.a[:, None] * Z
    tau = np.empty((n, m), dtype=np.int64)   # 1 + periods t with X > thr(t)
    for idx, thr in deal.groups:
        tau[idx] = np.searchsorted(thr, X[idx], side="left") + 1
    defaulted = tau <= deal.term[:, None]
    loan, path = np.nonzero(defaulted)
    t_def = tau[loan, path]
    # Guarantor: its default period, or T + 1 (never) when it survives.
    if deal.g_can_default:
        xg = deal.ga * Z + deal.gc * rng.standard_normal(m)
        tau_g = np.searchsorted(deal.gthr, xg, side="left") + 1
    else:
        tau_g = np.full(m, T + 1)
    g_default = tau_g <= T
    pay = t_def + deal.plag
    guaranteed = (pay <= T) & (pay < tau_g[path]) & deal.g_alive_pays
    ead = deal.ead[loan, t_def]
    plan_loss = np.bincount(path, weights=np.where(guaranteed, 0.0, deal.loss[loan, t_def]),
                            minlength=m)
    payout = np.bincount(path, weights=np.where(guaranteed, ead, 0.0), minlength=m)
    static = np.bincount(path, weights=deal.static[loan], minlength=m)
    ndef = np.bincount(path, minlength=m)
    sub = np.minimum(plan_loss, deal.sub)
    senior = np.minimum(plan_loss - sub, deal.senior)
    values = (ndef, ndef == 0, static, g_default, plan_loss, senior, sub, payout)
    for k, v in enumerate(values):
        v = v.astype(np.float64, copy=False)
        sums[k, 0] += v.sum()
        sums[k, 1] += np.dot(v, v)
    counts += np.bincount(ndef, minlength=n + 1)


def peak_rss_kib():
    """This process's peak resident memory (VmHWM; ru_maxrss would include
    the peak of the process that forked this one)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(deal, paths, seconds, seed, chunk):
    rng = np.random.default_rng(seed)
    sums = np.zeros((len(MEASURES), 2))
    counts = np.zeros(deal.n + 1, dtype=np.int64)
    done = 0
    t0 = time.perf_counter()
    while True:
        if paths > 0:
            if done >= paths:
                break
            m = min(chunk, paths - done)
        else:
            if done > 0 and time.perf_counter() - t0 >= seconds:
                break
            m = chunk
        simulate_chunk(deal, rng, m, sums, counts)
        done += m
    return done, time.perf_counter() - t0, sums, counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--paths", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--chunk", type=int, default=0,
                    help="paths per chunk (default: about 2^20 loan-path cells)")
    a = ap.parse_args(argv)
    if a.paths <= 0 and a.seconds <= 0:
        ap.error("give --paths or --seconds")
    t0 = time.perf_counter()
    try:
        deal = Deal(a.scenario)
    except ScopeError as e:
        sys.stderr.write("numpy_reference.py: %s: %s\n" % (a.scenario, e))
        return 2
    except (OSError, KeyError, ValueError, yaml.YAMLError) as e:
        sys.stderr.write("numpy_reference.py: cannot read %s: %s\n" % (a.scenario, e))
        return 2
    setup = time.perf_counter() - t0
    chunk = a.chunk or max(256, min(1 << 16, (1 << 20) // deal.n))
    done, dt, sums, counts = run(deal, a.paths, a.seconds, a.seed, chunk)
    stats = {}
    for k, name in enumerate(MEASURES):
        mean = sums[k, 0] / done
        var = max(0.0, (sums[k, 1] - sums[k, 0] * mean) / (done - 1)) if done > 1 else 0.0
        stats[name] = [mean, math.sqrt(var / done)]
    out = {
        "command": "numpy", "loans": deal.n, "periods": deal.T, "paths": done,
        "threads": 1, "chunk": chunk, "seconds": dt, "setup_seconds": setup,
        "paths_per_second": done / dt, "ns_per_path": 1e9 * dt / done,
        "numpy_version": np.__version__,
        "max_rss_kib": peak_rss_kib(),
        "stats": stats, "default_count": counts.tolist(),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
