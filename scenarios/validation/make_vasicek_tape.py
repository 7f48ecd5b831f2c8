#!/usr/bin/env python3
"""Write vasicek-1000-loans.csv: the loan tape of the vasicek-1000 scenario.

One thousand identical loans of CNY 72,000 (a CNY 72,000,000 pool), annual
PD 2%, term 4 quarters, bullet.  The pledged IP is appraised at the
principal and realises 40% on average (sd 0.05), with no disposal cost, so
each default has a static loss of 43,200 and the pool's static loss is
43,200 x N.  With correlation 0.2 the default fraction N / 1000 is close to
the Vasicek limit; the finite-pool difference is O(1/n).

Usage: python3 make_vasicek_tape.py  (writes next to this script)
"""
import os

N_LOANS = 1000
HEADER = ("loan_id,firm,sector,principal,rate,term,amortisation,"
          "guarantee_fee_rate,annual_pd,ip_type,ip_value,recovery_mean,"
          "recovery_sd,recovery_lag,disposal_cost")


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "vasicek-1000-loans.csv")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(HEADER + "\n")
        for i in range(1, N_LOANS + 1):
            f.write(f"W{i:04d},Vasicek Firm {i:04d},equipment,72000,0.0440,4,"
                    "bullet,0.010,0.0200,patent,72000,0.40,0.05,4,0\n")


if __name__ == "__main__":
    main()
