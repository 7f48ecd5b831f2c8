#!/usr/bin/env python3
"""run.py -- the ipabs benchmark suite: one command, one CSV, one table.

    bench/run.sh [--quick] [--repeats N] [--build-dir DIR] [--no-build]
                 [--allow-missing-peers] [--out FILE]

1. builds what it needs (CMake, Release, tests off) unless --no-build;
2. throughput and thread scaling of the reference deal and of the A1/A2/A3
   deal (build/bench/ipabs_bench);
3. cost growth: paths per second, one thread, on synthetic scenarios
   (bench/make_tape.py) of 10..10,000 loans and 4..120 periods, with the
   least-squares exponent of seconds per path against loans and periods;
4. peers on the reference deal, in alternating rounds: the NumPy peer
   (bench/peers/numpy_reference.py) against the engine and against the
   same simplified waterfall in C, QuantLib's RandomDefaultLM
   (bench/peers/quantlib_defaults.cpp) against ipabs's default-time draws;
   the statistics both compute are compared (z-scores) and checked
   against their exact values (one-factor quadrature);
5. peak resident memory of `ipabs run` at two path counts;
6. writes bench/results/latest.csv (name, parameters, value, unit) and
   bench/results/latest.json (every raw measurement), prints a table.

Nothing is asserted about timings.  --quick runs every step on tiny sizes
(under a minute) and skips a missing peer with a note; a full run stops
with a clear message when a peer is missing, unless --allow-missing-peers.
Standard library only; the NumPy peer runs under the first Python found
that has NumPy and PyYAML.
"""
import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from statistics import NormalDist, median

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
REFERENCE = os.path.join(ROOT, "scenarios", "shenyang-ip-abs.yaml")
# The deal-structure issue's reference: three senior classes (A1/A2/A3),
# split accounts; issue 11 sets it its own throughput target.
A123 = os.path.join(ROOT, "scenarios", "shenyang-ip-abs-a123.yaml")
LOAN_SIZES = (10, 100, 1000, 10000)
PERIOD_COUNTS = (4, 12, 40, 120)


class BenchError(Exception):
    """A failure the driver reports in one line, without a traceback."""


# ---- settings ---------------------------------------------------------------

class Settings:
    def __init__(self, quick, repeats):
        self.quick = quick
        if quick:
            self.repeats = repeats or 1
            self.thread_paths = 40_000
            self.cost_seconds = 0.04
            self.peer_seconds = 0.15
            self.memory_paths = (10_000, 100_000)
        else:
            self.repeats = max(3, repeats or 3)
            self.thread_paths = 2_000_000
            self.cost_seconds = 1.5
            self.peer_seconds = 1.5
            self.memory_paths = (1_000_000, 10_000_000)


# ---- processes ----------------------------------------------------------------

def run_cmd(argv, what, env=None, cwd=None):
    """Run argv; return stdout; raise BenchError with its stderr on failure."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd)
    except OSError as e:
        raise BenchError("%s: cannot run %s: %s" % (what, argv[0], e))
    if p.returncode != 0:
        err = (p.stderr or p.stdout).strip().splitlines()
        raise BenchError("%s failed (exit %d): %s" % (what, p.returncode,
                                                      " | ".join(err[-5:]) or "no output"))
    return p.stdout


def run_json(argv, what, env=None):
    out = run_cmd(argv, what, env=env)
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BenchError("%s: unexpected output: %r" % (what, out[:200]))


def peak_rss(exe, argv, what):
    """Peak RSS (KiB) and wall seconds of argv, measured by `ipabs_benchkit rss`:
    a child forked from this interpreter would start with Python's resident
    size as its peak (the peak survives exec), so a small C program forks it."""
    r = run_json([exe["kit"], "rss"] + argv, what)
    return r["max_rss_kib"], r["seconds"]


# ---- build ----------------------------------------------------------------------

def build(build_dir, no_build):
    exe = {
        "cli": os.path.join(build_dir, "ipabs"),
        "bench": os.path.join(build_dir, "bench", "ipabs_bench"),
        "kit": os.path.join(build_dir, "bench", "ipabs_benchkit"),
        "quantlib": os.path.join(build_dir, "bench", "quantlib_defaults"),
    }
    if not no_build:
        if shutil.which("cmake") is None:
            raise BenchError("cmake not found (install cmake, or pass --no-build with a built --build-dir)")
        if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
            print("configuring %s ..." % build_dir, flush=True)
            run_cmd(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                     "-DIPABS_TESTS=OFF", "-DIPABS_BENCH=ON"], "cmake configure")
        print("building %s ..." % build_dir, flush=True)
        run_cmd(["cmake", "--build", build_dir, "-j2"], "cmake build")
    for key in ("cli", "bench", "kit"):
        if not os.access(exe[key], os.X_OK):
            raise BenchError("%s is missing: build first (or drop --no-build)" % exe[key])
    if not os.access(exe["quantlib"], os.X_OK):
        exe["quantlib"] = None
    return exe


def find_numpy_python():
    """The first interpreter that imports numpy and yaml, or None."""
    seen = []
    for cand in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if not cand or cand in seen or not os.access(cand, os.X_OK):
            continue
        seen.append(cand)
        r = subprocess.run([cand, "-c", "import numpy, yaml"], capture_output=True)
        if r.returncode == 0:
            return cand
    return None


# ---- statistics ------------------------------------------------------------------

def zscore(m1, se1, m2, se2):
    s = math.hypot(se1, se2)
    return (m1 - m2) / s if s > 0 else (0.0 if m1 == m2 else float("inf"))


def pool_stats(runs):
    """Merge (n, mean, se) of independent runs into one (n, mean, se) per measure."""
    out = {}
    for name in runs[0]["stats"]:
        parts = [(r["paths"], r["stats"][name][0], r["stats"][name][1]) for r in runs]
        N = sum(n for n, _, _ in parts)
        M = sum(n * m for n, m, _ in parts) / N
        ss = sum((n - 1) * (se * se * n) + n * (m - M) ** 2 for n, m, se in parts)
        out[name] = [M, math.sqrt(ss / (N - 1) / N)]
    return N, out


def lsq_slope(xs, ys):
    """Least-squares slope of log y against log x."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sxx


def cum_pd(pd, years):
    return 1.0 - (1.0 - pd) ** years


def exact_reference(model):
    """Exact values (one-factor quadrature) of what the peers estimate."""
    nd = NormalDist()
    f = model["frequency"]
    loans = [(l["loading"], nd.inv_cdf(cum_pd(l["pd"], l["term"] / f)),
              cum_pd(l["pd"], l["term"] / f), l["static_loss"]) for l in model["loans"]]
    g = model["guarantor"]
    gp = cum_pd(g["pd"], model["legal_final"] / f) if g["can_default"] else 0.0
    names = [(a, thr) for a, thr, _, _ in loans]
    if gp > 0:
        names.append((g["loading"], nd.inv_cdf(gp)))

    def p_none(group):
        # Simpson's rule on z in [-8, 8]: integrand smooth, error << 1e-9.
        n, lo, hi = 1600, -8.0, 8.0
        h = (hi - lo) / n
        total = 0.0
        for k in range(n + 1):
            z = lo + k * h
            w = 1 if k in (0, n) else (4 if k % 2 else 2)
            prod = 1.0
            for a, thr in group:
                prod *= 1.0 - nd.cdf((thr - a * z) / math.sqrt(1.0 - a * a))
            total += w * prod * math.exp(-0.5 * z * z)
        return total * h / 3.0 / math.sqrt(2.0 * math.pi)

    return {
        "expected_defaults": sum(p for _, _, p, _ in loans),
        "prob_no_default": p_none([(a, thr) for a, thr, _, _ in loans]),
        "static_expected_loss": sum(p * s for _, _, p, s in loans),
        "guarantor_prob_default": gp,
        "p_no_event": p_none(names),
        "expected_events": sum(p for _, _, p, _ in loans) + gp,
    }


# ---- results ------------------------------------------------------------------

class Results:
    def __init__(self):
        self.rows = []      # (name, parameters, value, unit)
        self.raw = {}
        self.notes = []

    def add(self, name, params, value, unit):
        p = ";".join("%s=%s" % (k, v) for k, v in params.items())
        self.rows.append((name, p, value, unit))

    def note(self, text):
        self.notes.append(text)
        print("note: " + text, flush=True)

    def write_csv(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            import csv
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["name", "parameters", "value", "unit"])
            for name, params, value, unit in self.rows:
                w.writerow([name, params, fmt_value(value), unit])
        os.replace(tmp, path)

    def write_json(self, path):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"rows": self.rows, "raw": self.raw, "notes": self.notes}, f, indent=1)
        os.replace(tmp, path)


def fmt_value(v):
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if v == 0 or not math.isfinite(v):
        return repr(v)
    return "%.6g" % v


# ---- the benchmarks ---------------------------------------------------------------

def machine(res):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    res.raw["machine"] = {"nproc": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
                          "python": sys.version.split()[0],
                          "loadavg_start": os.getloadavg()}
    res.add("machine", {"cpu": cpu.replace(";", ","), "nproc": os.cpu_count()},
            "%.2f" % os.getloadavg()[0], "load average (1 min) at start")
    return cpu


def bench_threads(exe, S, res, tmpdir, label="reference", scenario=REFERENCE,
                  title="reference deal"):
    print("\n[throughput and threads] %s, %d paths, median of %d alternating runs"
          % (title, S.thread_paths, S.repeats), flush=True)
    csv_path = os.path.join(tmpdir, "threads-%s.csv" % label)
    out = run_cmd([exe["bench"], scenario, "--paths", str(S.thread_paths),
                   "--repeats", str(S.repeats), "--csv", csv_path], "ipabs_bench")
    print(out.rstrip())
    import csv
    with open(csv_path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    res.raw["threads" if label == "reference" else "threads_" + label] = rows
    for r in rows:
        p = {"scenario": label, "threads": r["threads"], "paths": r["paths"],
             "repeats": S.repeats}
        res.add("throughput", p, float(r["paths_per_second"]), "paths/s")
        res.add("speedup", p, float(r["speedup"]), "x vs 1 thread")
        res.add("parallel_efficiency", p, float(r["efficiency"]), "fraction")
    r0 = rows[0]
    res.add("fast_path_share", {"scenario": label}, float(r0["fast_path_share"]), "fraction")
    res.add("draws_time_per_path", {"scenario": label, "threads": 1},
            float(r0["draw_ns_per_path"]), "ns/path")
    rate1 = float(r0["paths_per_second"])
    res.add("waterfall_time_per_path", {"scenario": label, "threads": 1,
                                        "note": "engine time per path less the draws"},
            1e9 / rate1 - float(r0["draw_ns_per_path"]), "ns/path")


def bench_cost(exe, S, res, workdir):
    print("\n[cost growth] one thread, ~%.2g s per run, median of %d alternating rounds"
          % (S.cost_seconds, S.repeats), flush=True)
    run_cmd([sys.executable, os.path.join(BENCH, "make_tape.py"), workdir], "make_tape.py")
    scen = [("loans", n, 20, "loans-%d" % n) for n in LOAN_SIZES]
    for mode in ("cum", "ann"):
        scen += [("periods-" + mode, 100, T, "periods-%d-%s" % (T, mode)) for T in PERIOD_COUNTS]
    paths, runs = {}, {s[3]: [] for s in scen}
    for rep in range(S.repeats):
        for fam, n, T, stem in scen:
            argv = [exe["kit"], "rate", os.path.join(workdir, stem + ".yaml"), "--threads", "1"]
            argv += ["--paths", str(paths[stem])] if stem in paths else ["--seconds", str(S.cost_seconds)]
            r = run_json(argv, "ipabs rate on " + stem)
            paths[stem] = r["paths"]
            runs[stem].append(r)
    res.raw["cost"] = runs
    print("%-18s %7s %7s %10s %12s %12s %9s" % ("scenario", "loans", "periods", "paths",
                                                "ns/path", "paths/s", "defaults"))
    fams = {}
    for fam, n, T, stem in scen:
        ns = median(r["ns_per_path"] for r in runs[stem])
        r0 = runs[stem][0]
        fams.setdefault(fam, []).append((n, T, ns))
        p = {"scenario": stem, "loans": n, "periods": T, "paths": r0["paths"], "threads": 1,
             "mean_defaults": "%.3f" % r0["mean_defaults"],
             "fast_path_share": "%.4f" % r0["fast_path_share"]}
        res.add("cost_per_path", p, ns, "ns/path")
        res.add("cost_throughput", p, 1e9 / ns, "paths/s")
        print("%-18s %7d %7d %10d %12.0f %12.0f %9.2f" % (stem, n, T, r0["paths"], ns, 1e9 / ns,
                                                        r0["mean_defaults"]))
    exps = {}
    for fam, pts in fams.items():
        xs = [n for n, _, _ in pts] if fam == "loans" else [T for _, T, _ in pts]
        ys = [ns for _, _, ns in pts]
        e = lsq_slope(xs, ys)
        local = [math.log(ys[i + 1] / ys[i]) / math.log(xs[i + 1] / xs[i]) for i in range(len(xs) - 1)]
        against = "loans" if fam == "loans" else "periods"
        fixed = "periods=20" if fam == "loans" else "loans=100"
        pd = {"loans": "annual PD 1.8-4.5%", "periods-cum": "cumulative PD over the term held fixed",
              "periods-ann": "annual PD held fixed (defaults grow with the term)"}[fam]
        res.add("cost_exponent", {"against": against, "family": fam, "fixed": fixed,
                                  "range": "%d-%d" % (xs[0], xs[-1]), "pd": pd}, e, "exponent")
        for i, l in enumerate(local):
            res.add("cost_exponent_local", {"against": against, "family": fam,
                                            "from": xs[i], "to": xs[i + 1]}, l, "exponent")
        exps[fam] = (e, local)
        print("exponent of seconds/path against %-7s (%s, %s): %.3f   local: %s"
              % (against, fam, fixed, e, ", ".join("%.2f" % l for l in local)))
        if fam == "loans" and len(xs) > 2 and xs[0] < 100 <= xs[1]:
            # The range issue 11's target names: 100 to 10,000 loans.
            e100 = lsq_slope(xs[1:], ys[1:])
            res.add("cost_exponent", {"against": against, "family": "loans-from-100",
                                      "fixed": fixed, "range": "%d-%d" % (xs[1], xs[-1]),
                                      "pd": pd}, e100, "exponent")
            print("exponent of seconds/path against loans from %d to %d: %.3f"
                  % (xs[1], xs[-1], e100))
    return exps


def bench_peers(exe, S, res, py_numpy):
    print("\n[peers] reference deal, one thread each, ~%.2g s per run, %d alternating rounds"
          % (S.peer_seconds, S.repeats), flush=True)
    model = run_json([exe["kit"], "model", REFERENCE], "ipabs model")
    if not model["one_factor_gaussian_constant_hazard"]:
        raise BenchError("the reference deal is not a one-factor Gaussian constant-hazard model")
    f = model["frequency"]
    names = ",".join("%.17g:%.17g:%.17g" % (l["pd"], l["loading"], l["term"] / f)
                     for l in model["loans"])
    g = model["guarantor"]
    if g["can_default"]:
        names += ",%.17g:%.17g:%.17g" % (g["pd"], g["loading"], model["legal_final"] / f)
    env1 = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    # glibc's malloc returns the NumPy peer's chunk arrays (megabytes each)
    # to the kernel or keeps them depending on its heap's layout, which
    # moves with as little as the command line: measured 340 ns per path
    # one way and 940 ns the other (8x the page faults), same RSS.  Fixed
    # thresholds keep the arrays in the heap, so the peer is timed at its
    # best, whatever the layout (bench/README.md).
    env_numpy = dict(env1, MALLOC_MMAP_THRESHOLD_="268435456",
                     MALLOC_TRIM_THRESHOLD_="268435456")
    kinds = ["engine", "simple", "draws"]
    if py_numpy:
        kinds.append("numpy")
    if exe["quantlib"]:
        kinds += ["quantlib", "quantlib_flat"]
    paths, runs = {}, {k: [] for k in kinds}
    for rep in range(S.repeats):
        for k in kinds:
            size = ["--paths", str(paths[k])] if k in paths else ["--seconds", str(S.peer_seconds)]
            if k == "engine":
                argv = [exe["kit"], "rate", REFERENCE, "--threads", "1"] + size
            elif k in ("simple", "draws"):
                argv = [exe["kit"], k, REFERENCE] + size
            elif k == "numpy":
                # A fresh seed each round: the rounds are independent and pooled.
                argv = [py_numpy, os.path.join(BENCH, "peers", "numpy_reference.py"), REFERENCE,
                        "--seed", str(20261127 + rep)] + size
            else:
                argv = [exe["quantlib"], "--names", names, "--rng", "sobol",
                        "--curve", "flat" if k == "quantlib_flat" else "term"] + size
            r = run_json(argv, k + " peer run", env=env_numpy if k == "numpy" else env1)
            if k != "numpy":
                paths[k] = r["paths"]
            else:
                paths[k] = r["paths"]  # same size each round, calibrated by time in round 0
            runs[k].append(r)
    res.raw["peers"] = runs
    res.raw["model"] = model
    pps = {k: median(r["paths_per_second"] for r in runs[k]) for k in kinds}
    labels = {
        "engine": "ipabs engine (default model + full waterfall + all measures)",
        "simple": "ipabs draws + simplified waterfall in C",
        "draws": "ipabs default-time draws alone (the engine's draw stages)",
        "numpy": "NumPy peer (default model + simplified waterfall)",
        "quantlib": "QuantLib RandomDefaultLM, Sobol, hazard to each name's horizon",
        "quantlib_flat": "QuantLib RandomDefaultLM, Sobol, FlatHazardRate (times to 4050 days)",
    }
    print("%-72s %12s %10s" % ("run", "paths/s", "ns/path"))
    for k in kinds:
        r0 = runs[k][0]
        p = {"scenario": "reference", "threads": 1, "paths": r0["paths"], "repeats": S.repeats}
        if k.startswith("quantlib"):
            p.update(rng="sobol", curve=r0["curve"], quantlib=r0.get("quantlib_version", "?"),
                     max_rss_kib=r0.get("max_rss_kib", -1))
        if k == "numpy":
            p.update(numpy=r0.get("numpy_version", "?"), chunk=r0["chunk"],
                     max_rss_kib=r0["max_rss_kib"])
        res.add("peer_throughput_" + k, p, pps[k], "paths/s")
        print("%-72s %12.0f %10.1f" % (labels[k], pps[k], 1e9 / pps[k]))

    def ratio(a, b, name, what):
        if a in runs and b in runs:
            per_round = [x["paths_per_second"] / y["paths_per_second"] for x, y in zip(runs[a], runs[b])]
            v = median(per_round)
            res.add(name, {"numerator": a, "denominator": b, "rounds": len(per_round),
                           "per_round": "/".join("%.3g" % x for x in per_round)}, v, "x")
            print("%-60s %8.2fx  (rounds: %s)" % (what, v, ", ".join("%.2f" % x for x in per_round)))
            return v
        return None

    print()
    ratios = {
        "numpy": ratio("engine", "numpy", "ratio_engine_vs_numpy",
                       "ipabs engine (full waterfall) / NumPy peer"),
        "numpy_simple": ratio("simple", "numpy", "ratio_simple_waterfall_vs_numpy",
                              "ipabs simplified waterfall in C / NumPy peer"),
        "quantlib": ratio("draws", "quantlib", "ratio_draws_vs_quantlib",
                          "ipabs default times / QuantLib RandomDefaultLM (term curves)"),
        "quantlib_flat": ratio("draws", "quantlib_flat", "ratio_draws_vs_quantlib_flat",
                               "ipabs default times / QuantLib RandomDefaultLM (flat curves)"),
    }
    agreement(res, runs, model)
    return ratios


def agreement(res, runs, model):
    print("\n[agreement] z = (a - b) / sqrt(se_a^2 + se_b^2); |z| < 4 passes", flush=True)
    exact = exact_reference(model)
    res.raw["exact"] = exact
    eng = runs["engine"][0]
    worst = 0.0
    rows = []

    def check(name, who, m1, s1, m2, s2):
        nonlocal worst
        z = zscore(m1, s1, m2, s2)
        worst = max(worst, abs(z))
        ok = abs(z) < 4
        rows.append((name, who, m1, m2, z, ok))
        res.add("agreement_z", {"measure": name, "comparison": who,
                                "a": "%.10g" % m1, "b": "%.10g" % m2,
                                "pass": "yes" if ok else "NO"}, z, "z")

    shared = ("expected_defaults", "prob_no_default", "static_expected_loss", "guarantor_prob_default")
    for m in shared:
        check(m, "ipabs engine vs exact", eng["stats"][m][0], eng["stats"][m][1], exact[m], 0.0)
    if "numpy" in runs:
        n_np, np_stats = pool_stats(runs["numpy"])
        for m in shared:
            check(m, "NumPy vs ipabs engine", np_stats[m][0], np_stats[m][1],
                  eng["stats"][m][0], eng["stats"][m][1])
        for m in shared:
            check(m, "NumPy vs exact", np_stats[m][0], np_stats[m][1], exact[m], 0.0)
        # The default-count distribution, k by k.
        c_np = [sum(r["default_count"][k] for r in runs["numpy"]) for k in range(len(eng["default_count"]))]
        n_eng = eng["paths"]
        zs = []
        for k, (ce, cn) in enumerate(zip(eng["default_count"], c_np)):
            pe, pn = ce / n_eng, cn / n_np
            se = math.sqrt(pe * (1 - pe) / n_eng + pn * (1 - pn) / n_np)
            if ce >= 10 and cn >= 10 and se > 0:
                zs.append((abs(pn - pe) / se, k))
        zmax, kmax = max(zs)
        worst = max(worst, zmax)
        rows.append(("P(k defaults), max over k=0..%d" % zs[-1][1], "NumPy vs ipabs engine",
                     float(kmax), float(kmax), zmax, zmax < 4))
        res.add("agreement_z", {"measure": "default_count_max_abs_z", "comparison": "NumPy vs ipabs engine",
                                "at_k": kmax, "pass": "yes" if zmax < 4 else "NO"}, zmax, "z")
        # The simplified waterfall, like for like (C vs NumPy).
        sim = runs["simple"][0]
        for m in sim["stats"]:
            check(m, "NumPy vs C simplified waterfall", np_stats[m][0], np_stats[m][1],
                  sim["stats"][m][0], sim["stats"][m][1])
    if "quantlib" in runs:
        ql = runs["quantlib"][0]
        drw = runs["draws"][0]
        p = exact["p_no_event"]
        se_q = math.sqrt(p * (1 - p) / ql["paths"])
        check("P(no loan or guarantor default)", "QuantLib vs exact", ql["p_no_event"], se_q, p, 0.0)
        check("P(no loan or guarantor default)", "QuantLib vs ipabs engine", ql["p_no_event"], se_q,
              eng["fast_path_share"], math.sqrt(p * (1 - p) / eng["paths"]))
        # Standard error of the event count: the engine's, rescaled.
        se_count = eng["stats"]["expected_defaults"][1] * math.sqrt(eng["paths"] / ql["paths"])
        check("expected loan + guarantor defaults", "QuantLib vs exact", ql["expected_events"],
              se_count, exact["expected_events"], 0.0)
        check("expected loan + guarantor defaults", "ipabs draws vs exact",
              drw["mean_defaults"] + drw["guarantor_default_share"],
              eng["stats"]["expected_defaults"][1] * math.sqrt(eng["paths"] / drw["paths"]),
              exact["expected_events"], 0.0)
    print("%-34s %-33s %16s %16s %8s" % ("measure", "comparison", "a", "b", "z"))
    for name, who, a, b, z, ok in rows:
        print("%-34s %-33s %16.8g %16.8g %8.2f%s" % (name, who, a, b, z, "" if ok else "  FAIL"))
    print("worst |z| = %.2f (%s)" % (worst, "all pass" if worst < 4 else "SOME FAIL"))
    res.add("agreement_worst_abs_z", {}, worst, "z")


def bench_memory(exe, S, res, tmpdir):
    print("\n[memory] peak resident set of `ipabs run` on the reference deal (2 threads)", flush=True)
    out = {}
    floor = run_json([exe["kit"], "rss", "--self"], "ipabs_benchkit rss --self")["max_rss_kib"]
    res.add("peak_rss", {"command": "ipabs_benchkit rss --self",
                         "note": "measurement floor: a smaller peak reads as this"},
            floor / 1024, "MiB")
    base, _ = peak_rss(exe, [exe["cli"], "check", REFERENCE], "ipabs check")
    res.add("peak_rss", {"command": "ipabs check", "scenario": "reference"}, base / 1024, "MiB")
    print("%-40s %10.1f MiB" % ("measurement floor (the measuring program)", floor / 1024))
    print("%-40s %10.1f MiB" % ("ipabs check (load only)", base / 1024))
    for n in S.memory_paths:
        d = os.path.join(tmpdir, "mem-%d" % n)
        kib, dt = peak_rss(exe, [exe["cli"], "run", REFERENCE, "-o", d, "--paths", str(n),
                            "--threads", "2", "-q"], "ipabs run --paths %d" % n)
        out[n] = kib
        res.add("peak_rss", {"command": "ipabs run", "scenario": "reference", "paths": n,
                             "threads": 2, "seconds": "%.2f" % dt}, kib / 1024, "MiB")
        print("%-40s %10.1f MiB  (%.1f s)" % ("ipabs run --paths %d" % n, kib / 1024, dt))
    lo, hi = S.memory_paths
    growth = (out[hi] - out[lo]) / 1024
    res.add("peak_rss_growth", {"from_paths": lo, "to_paths": hi}, growth, "MiB")
    print("growth from %d to %d paths: %+.2f MiB" % (lo, hi, growth))
    return out


def summary(res, S):
    """The headline figures against the issue's targets."""
    def get(name, **match):
        for n, params, value, _ in res.rows:
            if n == name and all(("%s=%s" % kv) in params.split(";") for kv in match.items()):
                return value
        return None

    lines = [
        ("paths/s, reference deal, 1 thread", get("throughput", scenario="reference", threads=1), None, "%.0f"),
        ("paths/s, reference deal, 2 threads", get("throughput", scenario="reference", threads=2), ">= 10,000,000", "%.0f"),
        ("parallel efficiency, 2 threads", get("parallel_efficiency", scenario="reference", threads=2), ">= 0.90", "%.2f"),
        ("paths/s, A1/A2/A3 deal, 2 threads", get("throughput", scenario="a123", threads=2), ">= 5,000,000", "%.0f"),
        ("random draws alone (ns/path)", get("draws_time_per_path", scenario="reference"), "<= 30", "%.1f"),
        ("ipabs engine / NumPy peer (per core)", get("ratio_engine_vs_numpy"), ">= 3x", "%.2fx"),
        ("ipabs simplified waterfall in C / NumPy peer", get("ratio_simple_waterfall_vs_numpy"), ">= 10x", "%.2fx"),
        ("ipabs default times / QuantLib (term curves)", get("ratio_draws_vs_quantlib"), ">= 100x", "%.1fx"),
        ("ipabs default times / QuantLib (flat curves)", get("ratio_draws_vs_quantlib_flat"), None, "%.1fx"),
        ("cost exponent vs loans (100-10,000)", get("cost_exponent", family="loans-from-100"), "1 +- 0.1", "%.3f"),
        ("cost exponent vs loans (10-10,000)", get("cost_exponent", family="loans"), None, "%.3f"),
        ("cost exponent vs periods, defaults fixed", get("cost_exponent", family="periods-cum"), None, "%.3f"),
        ("cost exponent vs periods, annual PD fixed", get("cost_exponent", family="periods-ann"), None, "%.3f"),
        ("peak RSS, %d paths (MiB)" % S.memory_paths[1],
         get("peak_rss", command="ipabs run", paths=S.memory_paths[1]), "< 64 MiB", "%.1f"),
        ("peak RSS growth %d -> %d paths (MiB)" % S.memory_paths, get("peak_rss_growth"), "~0", "%+.2f"),
        ("worst |z|, statistics vs peers and exact", get("agreement_worst_abs_z"), "< 4", "%.2f"),
    ]
    print("\n[summary]%s" % ("  (quick mode: tiny sizes, figures not meaningful)" if S.quick else ""))
    print("%-46s %16s   %s" % ("figure", "measured", "target"))
    for label, value, target, fmt in lines:
        shown = "skipped" if value is None else (fmt % value)
        print("%-46s %16s   %s" % (label, shown, target or ""))


# ---- main ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (CI): under a minute")
    ap.add_argument("--repeats", type=int, default=0, help="alternating rounds (full: >= 3)")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--allow-missing-peers", action="store_true")
    ap.add_argument("--out", default=os.path.join(BENCH, "results", "latest.csv"))
    ap.add_argument("--workdir", default=os.path.join(BENCH, "work"),
                    help="where the synthetic scenarios are written")
    a = ap.parse_args(argv)
    S = Settings(a.quick, a.repeats)
    t_start = time.perf_counter()
    res = Results()
    try:
        exe = build(os.path.abspath(a.build_dir), a.no_build)
        py_numpy = find_numpy_python()
        missing = []
        if py_numpy is None:
            missing.append("NumPy peer: no Python with numpy and yaml "
                           "(Debian: apt-get install python3-numpy python3-yaml)")
        if exe["quantlib"] is None:
            missing.append("QuantLib peer: not built (Debian: apt-get install g++ "
                           "libquantlib0-dev, then reconfigure the build directory)")
        for m in missing:
            if a.quick or a.allow_missing_peers:
                res.note("skipped " + m)
            else:
                raise BenchError(m + "; or run with --allow-missing-peers")
        cpu = machine(res)
        print("ipabs benchmark (%s): %d cores, %s; load %.2f"
              % ("quick" if a.quick else "full", os.cpu_count(), cpu, os.getloadavg()[0]), flush=True)
        with tempfile.TemporaryDirectory(prefix="ipabs-bench-") as tmp:
            bench_threads(exe, S, res, tmp)
            bench_threads(exe, S, res, tmp, "a123", A123, "A1/A2/A3 deal")
            bench_cost(exe, S, res, os.path.abspath(a.workdir))
            bench_peers(exe, S, res, py_numpy)
            bench_memory(exe, S, res, tmp)
    except BenchError as e:
        print("bench/run.py: error: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench/run.py: interrupted", file=sys.stderr)
        return 130
    total = time.perf_counter() - t_start
    res.raw["machine"]["loadavg_end"] = os.getloadavg()
    res.add("machine_load_end", {}, "%.2f" % os.getloadavg()[0], "load average (1 min) at end")
    summary(res, S)
    res.add("run_seconds", {"mode": "quick" if a.quick else "full", "repeats": S.repeats}, total, "s")
    out = os.path.abspath(a.out)
    res.write_csv(out)
    res.write_json(os.path.splitext(out)[0] + ".json")
    print("\n%d measurements written to %s (raw: %s) in %.0f s"
          % (len(res.rows), out, os.path.splitext(out)[0] + ".json", total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
