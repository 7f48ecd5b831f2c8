"""Tests of the Python module python/ipabs against the CLI.

Run by tools/test.sh with Debian's interpreter and pandas:

    IPABS_LIBRARY=BUILD/libipabs.so IPABS_CLI=BUILD/ipabs PYTHONPATH=python \\
        /usr/bin/python3 -m unittest discover -s tests/python -v

What is checked: the module's tables equal the CLI's CSV files of the same
run bit for bit (summary, default_count, cdr; cashflow's periods and
ledger); a sweep's rows equal separate runs; errors carry the file, line
and column the CLI prints; a run stopped by its progress callback keeps a
prefix of paths equal to a run of that many paths; Ctrl-C stops a run
cleanly; without pandas the tables are lists of dicts.
"""
import csv
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

import ipabs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO = os.path.join(ROOT, "scenarios", "shenyang-ip-abs.yaml")
CLI = os.environ.get("IPABS_CLI", os.path.join(ROOT, "build", "ipabs"))


def bits(x):
    return struct.pack("<d", x)


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def cli(*args):
    r = subprocess.run([CLI, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("ipabs %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr))
    return r


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ipabs-py-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def assert_same_as_csv(self, frame, path, key_cols=()):
        """Every cell of the DataFrame equals the CSV's: text equal, numbers
        the same double (an empty cell is NaN)."""
        rows = read_csv(path)
        head, body = rows[0], rows[1:]
        self.assertEqual(list(frame.columns), head)
        self.assertEqual(len(frame), len(body))
        for c, name in enumerate(head):
            col = list(frame[name])
            for r, row in enumerate(body):
                got, text = col[r], row[c]
                if isinstance(got, str):
                    self.assertEqual(got, text, "%s[%d]" % (name, r))
                elif text == "":
                    self.assertTrue(math.isnan(got), "%s[%d]: expected NaN" % (name, r))
                else:
                    self.assertEqual(bits(float(got)), bits(float(text)),
                                     "%s[%d]: %r != %s" % (name, r, got, text))


class RunEqualsCli(Base):
    def test_summary_bit_for_bit(self):
        out = os.path.join(self.tmp, "run")
        cli("run", SCENARIO, "-o", out, "--paths", "30000", "--seed", "7", "--threads", "2",
            "--quiet", "--set", "model.pd_multiplier=1.5")
        s = ipabs.load(SCENARIO, set={"model.pd_multiplier": 1.5})
        # One thread here, two for the CLI: results do not depend on it.
        r = s.run(paths=30000, seed=7, threads=1)
        self.assertIsInstance(r.summary, ipabs._pd.DataFrame)
        self.assertEqual(list(r), ["summary", "default_count", "loss_distribution", "cdr",
                                   "coverage", "default_count_by_period", "run"])
        for name in ("summary", "default_count", "loss_distribution", "cdr"):
            self.assert_same_as_csv(r[name], os.path.join(out, name + ".csv"))
        self.assertEqual(r.run["overrides"][0], "model.pd_multiplier=1.5")
        self.assertEqual(int(r.run["paths"][0]), 30000)
        self.assertEqual(r.run["partial"][0], "false")
        self.assertEqual(str(r.summary.dtypes["value"]), "float64")
        self.assertEqual(str(r.cdr.dtypes["period"]), "int64")

    def test_out_dir_keeps_the_files(self):
        out = os.path.join(self.tmp, "kept")
        r = ipabs.load(SCENARIO).run(paths=5000, seed=3, out_dir=out)
        self.assert_same_as_csv(r.summary, os.path.join(out, "summary.csv"))
        self.assertTrue(os.path.exists(os.path.join(out, "run.csv")))


class CashflowEqualsCli(Base):
    def test_defaults_and_guarantor(self):
        out = os.path.join(self.tmp, "cf")
        cli("cashflow", SCENARIO, "-o", out, "--default", "L03@4:0.35", "--default", "L07@2",
            "--guarantor-default", "5")
        r = ipabs.load(SCENARIO).cashflow(defaults={"L03": (4, 0.35), "L07": 2},
                                          guarantor_default=5)
        self.assertEqual(list(r), ["ledger", "tranches", "periods"])
        for name in r:
            self.assert_same_as_csv(r[name], os.path.join(out, name + ".csv"))

    def test_bad_default(self):
        with self.assertRaises(ipabs.Error) as cm:
            ipabs.load(SCENARIO).cashflow(defaults=["L01@99"])
        e = cm.exception
        self.assertEqual((e.code, e.field), ("EINPUT", "--default"))
        self.assertIn("period must be an integer from 1 to the loan's term", e.message)


class SweepEqualsRuns(Base):
    def test_each_row_is_a_run(self):
        s = ipabs.load(SCENARIO)
        sw = s.sweep(grid={"model.correlation": [0.05, 0.3]}, paths=8192, seed=11).sweep
        self.assertEqual(list(sw["model.correlation"]), [0.05, 0.3])
        for i, rho in enumerate([0.05, 0.3]):
            summ = ipabs.load(SCENARIO, set={"model.correlation": rho}).run(
                paths=8192, seed=11).summary
            pick = summ[(summ.subject == "senior") & (summ.measure == "expected_loss")]
            self.assertEqual(bits(sw["senior.expected_loss"][i]), bits(pick["value"].iloc[0]))

    def test_bad_grid(self):
        with self.assertRaises(ipabs.Error) as cm:
            ipabs.load(SCENARIO).sweep(grid={"model.correlation": ["abc"]}, paths=100)
        self.assertEqual((cm.exception.code, cm.exception.file), ("EINPUT", "--grid"))


class Errors(Base):
    def test_position_in_the_yaml(self):
        # The scenario with one bad value, beside a copy of its tape.
        with open(SCENARIO, encoding="utf-8") as f:
            text = f.read()
        tape = "shenyang-ip-abs-loans.csv"
        shutil.copy(os.path.join(ROOT, "scenarios", tape), self.tmp)
        key = "pd_multiplier:"
        at = text.index(key)
        line = text.count("\n", 0, at) + 1
        col = at - (text.rfind("\n", 0, at) + 1) + 1
        value_col = col + len(key) + 1
        end = text.index("\n", at)
        bad = text[:at] + key + " -3" + text[end:]
        path = os.path.join(self.tmp, "bad.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(bad)
        with self.assertRaises(ipabs.Error) as cm:
            ipabs.load(path)
        e = cm.exception
        self.assertEqual((e.code, e.file, e.line, e.column), ("EINPUT", path, line, value_col))
        self.assertEqual(e.field, "model.pd_multiplier")
        # The CLI says the same thing.
        r = subprocess.run([CLI, "check", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s:%d:%d: %s: %s" % (path, line, value_col, e.field, e.message), r.stderr)

    def test_override_and_missing_file(self):
        with self.assertRaises(ipabs.Error) as cm:
            ipabs.load(SCENARIO, set={"model.correlation": "abc"})
        self.assertEqual((cm.exception.file, cm.exception.line), ("--set", 1))
        with self.assertRaises(ipabs.Error) as cm:
            ipabs.load(os.path.join(self.tmp, "absent.yaml"))
        self.assertEqual(cm.exception.code, "EIO")


class Stopping(Base):
    def test_progress_stop_keeps_a_prefix(self):
        calls = []

        def progress(done, total):
            calls.append((done, total))
            return done >= 3 * 4096

        s = ipabs.load(SCENARIO)
        r = s.run(paths=200000, seed=5, threads=1, progress=progress)
        self.assertTrue(r.partial)
        self.assertEqual(r.run["partial"][0], "true")
        done = int(r.run["paths"][0])
        self.assertGreaterEqual(done, 3 * 4096)
        self.assertLess(done, 200000)
        self.assertTrue(all(t == 200000 for _, t in calls))
        # The prefix is a run of that many paths.
        full = s.run(paths=done, seed=5)
        self.assertFalse(full.partial)
        self.assertEqual([bits(v) for v in r.summary["value"]],
                         [bits(v) for v in full.summary["value"]])

    def test_ctrl_c(self):
        code = ("import sys, ipabs\n"
                "s = ipabs.load(%r)\n"
                "print('started', flush=True)\n"
                "try:\n"
                "    s.run(paths=50_000_000, seed=1, threads=1)\n"
                "except KeyboardInterrupt:\n"
                "    print('stopped cleanly', flush=True)\n"
                "    sys.exit(0)\n"
                "sys.exit(3)\n" % SCENARIO)
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        self.assertEqual(p.stdout.readline().strip(), "started")
        time.sleep(1.0)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertIn("stopped cleanly", out)
        self.assertLess(time.monotonic() - t0, 10.0)


class WithoutPandas(Base):
    def test_lists_of_dicts(self):
        code = ("import sys; sys.modules['pandas'] = None; sys.modules['numpy'] = None\n"
                "import ipabs\n"
                "r = ipabs.load(%r).check()\n"
                "t = r['tranches']\n"
                "assert isinstance(t, list) and isinstance(t[0], dict), t\n"
                "print(t[0]['name'], t[0]['balance'], t[0]['legal_final'])\n"
                "print(r)\n" % SCENARIO)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["senior", "68400000.0", "16"])
        # print() shows the main table as aligned text.
        self.assertEqual(lines[1].split(), ["name", "class", "balance", "coupon",
                                            "amortisation", "legal_final"])
        self.assertEqual(lines[2].split(), ["senior", "senior", "68400000", "0.03",
                                            "pass_through", "16"])
        self.assertEqual(lines[-2:], ["[2 rows x 6 columns]", "[tables: tranches, loans]"])


if __name__ == "__main__":
    unittest.main()
