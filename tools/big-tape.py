#!/usr/bin/env python3
"""Write a synthetic loan tape of N loans and a scenario that uses it, for
measuring the scenario reader and the engine on large pools
(docs/scenario-format.md, "Limits").

    tools/big-tape.py N OUTDIR [PRINCIPAL]

Loans are the reference deal's ten loans repeated with ids L000001...,
their principals scaled to PRINCIPAL each (default: the reference pool of
CNY 72,000,000 spread over the N loans, so small loans), amounts rounded
to the fen.  The scenario is the reference one with the tape and the two
tranche balances (95% / 5% of the pool) replaced.
"""
import csv
import os
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios")
n = int(sys.argv[1])
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
rows = list(csv.reader(open(os.path.join(root, "shenyang-ip-abs-loans.csv"), encoding="utf-8")))
head, loans = rows[0], rows[1:]
each = float(sys.argv[3]) if len(sys.argv) > 3 else 72000000.0 / n
cents = round(each * 100)
pool = cents * n
with open(os.path.join(out, "tape.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(head)
    for i in range(n):
        r = list(loans[i % len(loans)])
        scale = cents / 100.0 / float(r[head.index("principal")])
        r[head.index("loan_id")] = "L%06d" % (i + 1)
        r[head.index("principal")] = "%.2f" % (cents / 100.0)
        for c in ("ip_value", "disposal_cost"):
            r[head.index(c)] = "%.2f" % (float(r[head.index(c)]) * scale)
        w.writerow(r)
senior = pool * 95 // 100
text = open(os.path.join(root, "shenyang-ip-abs.yaml"), encoding="utf-8").read()
text = text.replace("tape: shenyang-ip-abs-loans.csv", "tape: tape.csv")
text = text.replace("balance: 68400000 ", "balance: %.2f " % (senior / 100.0))
text = text.replace("balance: 3600000", "balance: %.2f" % ((pool - senior) / 100.0))
open(os.path.join(out, "scenario.yaml"), "w", encoding="utf-8").write(text)
