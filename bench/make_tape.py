#!/usr/bin/env python3
"""make_tape.py -- synthetic scenarios for the cost-growth benchmark.

Writes, into OUTDIR, scenario pairs (YAML + loan tape CSV) in the format of
docs/scenario-format.md, shaped like the reference deal
(scenarios/shenyang-ip-abs.yaml): quarterly, 30/360, a 95% senior and a
5% subordinated pass-through tranche summing exactly to the pool, the
same guarantor, fees, expenses, triggers and Gaussian one-factor model.

Two families:

  loans-N.yaml          N = 10, 100, 1000, 10000 loans; legal final 20
                        periods, loan terms 12 and 8 (as the reference);
                        annual PDs 1.8%-4.5% (the reference's range).
  periods-T-cum.yaml    100 loans; legal final T = 4, 12, 40, 120; loan
                        terms ~0.6 T and ~0.4 T.  Annual PDs are scaled so
                        that each loan's cumulative PD over its term equals
                        what its base PD gives over 12 quarters: the
                        expected number of defaults per path stays
                        constant, so cost against T measures the cost of
                        periods, not of more defaults.
  periods-T-ann.yaml    the same with the base annual PDs unscaled:
                        defaults per path grow with the term.

Every pool totals about CNY 72M whatever its number of loans (mean loan
72M / N): the cost of a path does not depend on the amounts, and ipabs's
conservation checks use an absolute tolerance (1e-6 yuan) that rounding
exceeds on pools of ~10^9 yuan (measured: a 1,000-loan pool of 7.3e9 yuan
fails with "conservation broken" in period 1).

Deterministic: the same --seed writes the same bytes.  Standard library
only.

    python3 bench/make_tape.py OUTDIR [--seed 20261127] [--loans 10,100,...]
                               [--periods 4,12,...] [--period-loans 100]
"""
import argparse
import os
import random
import sys

LOAN_SIZES = (10, 100, 1000, 10000)
PERIOD_COUNTS = (4, 12, 40, 120)
PERIOD_LOANS = 100
POOL = 72_000_000     # every synthetic pool is about the reference's size (see below)
REF_T = 20            # the reference deal's legal final
REF_TERM = 12         # and its main loan term, in quarters
AMORTS = ("level_principal", "bullet", "level_principal", "annuity")
IP_TYPES = ("patent", "software_copyright", "trademark", "patent")
SECTORS = ("equipment", "materials", "software", "biomed", "consumer")

HEADER = ("loan_id,firm,sector,principal,rate,term,amortisation,"
          "guarantee_fee_rate,annual_pd,ip_type,ip_value,recovery_mean,"
          "recovery_sd,recovery_lag,disposal_cost")


def terms_for(T):
    """Long and short loan terms for a deal of T periods (12 and 8 at 20)."""
    return max(1, round(0.6 * T)), max(1, round(0.4 * T))


def make_loans(n, T, rng, pd_mode):
    long_term, short_term = terms_for(T)
    mean = POOL / n
    unit = 1000 if mean >= 1e5 else 1
    rows, pool = [], 0
    for i in range(n):
        # 0.625x-1.39x the mean loan of a CNY 72M pool (4.5M-10M at 10 loans).
        principal = unit * rng.randint(round(0.625 * mean / unit), round(1.389 * mean / unit))
        term = short_term if i % 5 == 4 else long_term    # 20% short, as L06/L09
        base_pd = round(rng.uniform(0.018, 0.045), 4)
        if pd_mode == "cum":
            # Same cumulative PD over the term as base_pd gives over the
            # reference term: 1 - (1-pd)^(term/4) = 1 - (1-base)^(REF_TERM/4).
            pd = 1.0 - (1.0 - base_pd) ** (REF_TERM / term)
            pd = min(round(pd, 6), 0.95)
        else:
            pd = base_pd
        lag = min(8, max(1, round((T - term) / 2)))
        rows.append(",".join([
            "L%05d" % (i + 1),
            "Synthetic firm %d" % (i + 1),
            SECTORS[i % len(SECTORS)],
            "%d" % principal,
            "%.4f" % round(rng.uniform(0.040, 0.046), 4),
            "%d" % term,
            AMORTS[i % len(AMORTS)],
            "%.3f" % (0.010 if i % 3 else 0.012),
            "%.6f" % pd,
            IP_TYPES[i % len(IP_TYPES)],
            "%d" % (unit * round(principal / unit * rng.uniform(1.6, 2.4))),
            "%.2f" % (0.20 + 0.05 * (i % 3)),
            "0.15",
            "%d" % lag,
            "%d" % (unit * round(principal * 0.03 / unit)),
        ]))
        pool += principal
    return rows, pool


def yaml_text(name, tape, T, pool):
    senior = pool * 95 // 100
    sub = pool - senior
    scale = pool / 72_000_000          # fixed fees as the reference's, per yuan
    senior_final = max(1, round(0.8 * T))
    return f"""# Synthetic scenario written by bench/make_tape.py (not a real deal).
deal:
  name: "{name}"
  currency: CNY
  closing_date: 2025-06-30
  frequency: quarterly
  legal_final: {T}
  day_count: 30/360
loans:
  tape: {tape}
fees:
  bank_agency_rate: 0.0005
  servicing_rate: 0.0010
guarantor:
  name: "AA+ financing guarantee platform"
  rating: AA+
  annual_pd: 0.003
  payout_style: accelerated
  payout_lag: 1
  capacity: unlimited
  topup: true
  recovery_rate: 0.0
  recovery_lag: 8
  factor_loading: 0.4
plan:
  tax_rate: 0.03
  reserve:
    initial: 0
    target: 0
  tranches:
    - name: senior
      class: senior
      balance: {senior}
      coupon: 0.030
      amortisation: pass_through
      legal_final: {senior_final}
    - name: sub
      class: sub
      balance: {sub}
      coupon: 0.0
      amortisation: pass_through
      legal_final: {T}
  expenses:
    - name: plan_manager
      rate_on_senior: 0.0010
    - name: custodian
      rate_on_senior: 0.0002
    - name: rating_surveillance
      fixed_per_year: {round(100000 * scale)}
    - name: audit
      fixed_per_year: {round(50000 * scale)}
  triggers:
    guarantor_default: true
    cumulative_default_ratio: 0.20
    senior_interest_shortfall: true
model:
  copula: gaussian
  correlation: 0.20
  pd_multiplier: 1.0
  recovery_loading: 0.3
simulation:
  paths: 100000
  seed: 20261127
"""


def write_scenario(outdir, stem, n, T, seed, pd_mode):
    # One stream per scenario, keyed by its shape: adding a size does not
    # change the others.
    rng = random.Random("%d/%d/%d/%s" % (seed, n, T, pd_mode))
    rows, pool = make_loans(n, T, rng, pd_mode)
    tape = stem + "-loans.csv"
    with open(os.path.join(outdir, tape), "w", encoding="utf-8", newline="\n") as f:
        f.write(HEADER + "\n")
        f.write("\n".join(rows) + "\n")
    path = os.path.join(outdir, stem + ".yaml")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(yaml_text("Synthetic %d loans, %d periods (%s PD)" % (n, T, pd_mode),
                          tape, T, pool))
    return path


def int_list(text):
    try:
        return tuple(int(x) for x in text.split(",") if x)
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated integers, got %r" % text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--loans", type=int_list, default=LOAN_SIZES)
    ap.add_argument("--periods", type=int_list, default=PERIOD_COUNTS)
    ap.add_argument("--period-loans", type=int, default=PERIOD_LOANS)
    a = ap.parse_args(argv)
    if any(n < 1 for n in a.loans) or any(T < 2 or T > 600 for T in a.periods):
        ap.error("loans must be >= 1 and periods in 2..600")
    os.makedirs(a.outdir, exist_ok=True)
    written = []
    for n in a.loans:
        written.append(write_scenario(a.outdir, "loans-%d" % n, n, REF_T, a.seed, "ann"))
    for T in a.periods:
        for mode in ("cum", "ann"):
            written.append(write_scenario(a.outdir, "periods-%d-%s" % (T, mode),
                                          a.period_loans, T, a.seed, mode))
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
