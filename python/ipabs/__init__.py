"""ipabs from Python: scenarios, realisations, Monte Carlo runs and sweeps of
an intellectual-property pledge securitization, over the shared library
libipabs.so (ctypes; the standard library only, pandas and NumPy when
present).

    >>> import ipabs
    >>> s = ipabs.load("scenarios/shenyang-ip-abs.yaml", set={"model.pd_multiplier": 2})
    >>> r = s.run(paths=100000, seed=1)
    >>> r.summary            # a DataFrame: subject, measure, value, std_error, paths
    >>> r["cdr"]             # every file of `ipabs run`, by name without ".csv"

Each call returns a Results: a dict of tables named after the CSV files the
CLI writes (docs/cli.md), with the same values (they are read back from
those files), as pandas DataFrames when pandas is installed, else as lists
of dicts.  Printing a Results prints its main table.  Errors raise
ipabs.Error, which carries file, line, column, field and message.  Ctrl-C
during run() or sweep() stops the engine at its next chunk of paths, frees
everything and raises KeyboardInterrupt.
"""
import ctypes
import threading

from . import _native
from ._native import lib

try:
    import pandas as _pd
except ImportError:  # pragma: no cover - exercised when pandas is absent
    _pd = None
try:
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None

__all__ = ["load", "Scenario", "Results", "Error", "version"]

version = lib.ipabs_version().decode()
__version__ = version


class Error(Exception):
    """An ipabs error: code ("EINPUT", "EIO", ...), file, line, column,
    field, message; errors lists every error found (a scenario reports all
    its mistakes at once)."""

    def __init__(self, code, file="", line=0, column=0, field="", message="", errors=None):
        self.code, self.file, self.line, self.column = code, file, line, column
        self.field, self.message = field, message
        self.errors = errors if errors is not None else [self]
        super().__init__(self._text())

    def _text(self):
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += ":%d" % self.line
                if self.column:
                    where += ":%d" % self.column
            where += ": "
        field = self.field + ": " if self.field else ""
        more = "" if len(self.errors) <= 1 else " (and %d more)" % (len(self.errors) - 1)
        return where + field + self.message + more

    @classmethod
    def _of(cls, e, errors=None):
        return cls(_native.STATUS_NAMES.get(e.code, str(e.code)), e.file.decode(errors="replace"),
                   e.line, e.column, e.field.decode(errors="replace"),
                   e.message.decode(errors="replace"), errors)

    @classmethod
    def _of_list(cls, lst):
        errs = [cls._of(lst.items[i]) for i in range(lst.count)]
        lib.ipabs_errors_clear(ctypes.byref(lst))
        if not errs:
            return cls("EINTERNAL", message="failed without an error message")
        first = errs[0]
        return cls(first.code, first.file, first.line, first.column, first.field,
                   first.message, errs)


class Results(dict):
    """Tables by name (dict), with the main one first; `r.name` works too.
    partial is True when a run was stopped by its progress callback."""

    def __init__(self, tables, main, partial=False):
        super().__init__(tables)
        self.main = main
        self.partial = partial

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __str__(self):
        others = [k for k in self if k != self.main]
        tail = "\n[tables: %s]" % ", ".join([self.main] + others) if others else ""
        main = self[self.main]
        return (_text_table(main) if isinstance(main, list) else str(main)) + tail

    __repr__ = __str__


def _text_table(rows, head=10, tail=5):
    """A list of dicts as an aligned text table (what print shows without
    pandas): the first and last rows when there are many."""
    if not rows:
        return "(no rows)"
    names = list(rows[0])
    shown = rows if len(rows) <= head + tail else rows[:head] + [None] + rows[-tail:]

    def cell(v):
        return "%.10g" % v if isinstance(v, float) else str(v)

    body = [[cell(r[n]) for n in names] if r is not None else ["..."] * len(names)
            for r in shown]
    widths = [max(len(n), *(len(b[i]) for b in body)) for i, n in enumerate(names)]
    lines = ["  ".join(n.rjust(w) for n, w in zip(names, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(b, widths)) for b in body]
    lines.append("[%d rows x %d columns]" % (len(rows), len(names)))
    return "\n".join(lines)


def _column(t, c, rows):
    kind = lib.ipabs_result_col_type(t, c)
    if kind == _native.COLUMN_DOUBLE:
        ptr = lib.ipabs_result_doubles(t, c)
    elif kind == _native.COLUMN_INT:
        ptr = lib.ipabs_result_ints(t, c)
    else:
        ptr = lib.ipabs_result_texts(t, c)
        return [ptr[i].decode() for i in range(rows)]
    if _np is not None and rows > 0:
        return _np.ctypeslib.as_array(ptr, shape=(rows,)).copy()
    return [ptr[i] for i in range(rows)]


def _table(t):
    rows, cols = lib.ipabs_result_rows(t), lib.ipabs_result_cols(t)
    names = [lib.ipabs_result_col_name(t, c).decode() for c in range(cols)]
    data = {names[c]: _column(t, c, rows) for c in range(cols)}
    if _pd is not None:
        return _pd.DataFrame(data, columns=names)
    return [{n: data[n][i] for n in names} for i in range(rows)]


def _results(handle, main, partial=False):
    try:
        tables = {}
        for i in range(lib.ipabs_results_count(handle)):
            t = lib.ipabs_results_at(handle, i)
            tables[lib.ipabs_result_name(t).decode()] = _table(t)
        return Results(tables, main, partial)
    finally:
        lib.ipabs_results_free(handle)


def _strings(items):
    arr = (ctypes.c_char_p * max(len(items), 1))(*[s.encode() for s in items])
    return arr, len(items)


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _run_in_thread(call, stop):
    """Run call() (a C call that releases the GIL) in a worker thread so
    that Ctrl-C reaches the main thread; on Ctrl-C set the engine's stop
    flag, wait for it to stop cleanly, and re-raise."""
    box = {}
    done = threading.Event()

    def work():
        try:
            box["value"] = call()
        except BaseException as e:  # pragma: no cover - ctypes raises nothing here
            box["error"] = e
        finally:
            done.set()

    worker = threading.Thread(target=work, name="ipabs-run", daemon=True)
    worker.start()
    interrupted = False
    # An Event, not Thread.join(): a join interrupted by Ctrl-C may report
    # a live thread as finished.
    while not done.is_set():
        try:
            done.wait(0.1)
        except KeyboardInterrupt:
            stop.value = 1
            interrupted = True
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"], interrupted


class Scenario:
    """A validated scenario (ipabs.load).  Immutable; every method runs it."""

    def __init__(self, path, set=None):
        sets = ["%s=%s" % (k, _scalar(v)) for k, v in (set or {}).items()]
        self.path, self.sets = str(path), sets
        arr, n = _strings(sets)
        handle, errs = ctypes.c_void_p(), _native.ErrorsStruct()
        status = lib.ipabs_session_open(self.path.encode(), arr, n, ctypes.byref(handle),
                                        ctypes.byref(errs))
        if status != 0:
            raise Error._of_list(errs)
        lib.ipabs_errors_clear(ctypes.byref(errs))
        self._h = handle

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            self._h = None
            try:
                lib.ipabs_session_free(h)
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    def __str__(self):
        n = lib.ipabs_session_describe(self._h, None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        lib.ipabs_session_describe(self._h, buf, n + 1)
        return buf.value.decode()

    def __repr__(self):
        return "ipabs.Scenario(%r, set=%r)" % (self.path, self.sets)

    def check(self):
        """The validated deal: tables tranches and loans."""
        out, err = ctypes.c_void_p(), _native.ErrorStruct()
        if lib.ipabs_session_check(self._h, ctypes.byref(out), ctypes.byref(err)) != 0:
            raise Error._of(err)
        return _results(out, "tranches")

    def cashflow(self, defaults=None, guarantor_default=None, out_dir=None):
        """One realisation through the waterfall: tables ledger, tranches,
        periods.  defaults: {loan: period} or {loan: (period, realisation)},
        or a list of "LOAN@PERIOD[:REALISATION]" as the CLI's --default;
        guarantor_default: the period the guarantor fails (None: never)."""
        specs = []
        if isinstance(defaults, dict):
            for loan, v in defaults.items():
                if isinstance(v, (tuple, list)):
                    specs.append("%s@%s:%s" % (loan, v[0], _scalar(float(v[1]))))
                else:
                    specs.append("%s@%s" % (loan, v))
        elif defaults is not None:
            specs = [str(d) for d in defaults]
        arr, n = _strings(specs)
        p = _native.CashflowParams(arr, n, int(guarantor_default or 0),
                                   out_dir.encode() if out_dir else None)
        out, err = ctypes.c_void_p(), _native.ErrorStruct()
        if lib.ipabs_session_cashflow(self._h, ctypes.byref(p), ctypes.byref(out),
                                      ctypes.byref(err)) != 0:
            raise Error._of(err)
        return _results(out, "periods")

    def _params(self, paths, seed, threads, out_dir, progress, stop):
        p = _native.RunParams()
        p.paths = int(paths or 0)
        p.has_seed = seed is not None
        p.seed = int(seed or 0)
        p.threads = int(threads or 0)
        p.stop = ctypes.pointer(stop)
        p.out_dir = out_dir.encode() if out_dir else None
        if progress is not None:
            # Called from an engine thread; ctypes takes the GIL for it.
            p.progress = _native.PROGRESS(lambda ctx, done, total: 1 if progress(done, total) else 0)
        return p

    def run(self, paths=None, seed=None, threads=None, progress=None, out_dir=None):
        """The Monte Carlo: tables summary (main), default_count,
        loss_distribution, cdr, run, equal to `ipabs run` with the same
        paths and seed (None: the scenario's).  progress(done, total) is
        called as paths complete; returning True stops the run, which then
        returns the completed paths (Results.partial)."""
        stop = ctypes.c_int(0)
        p = self._params(paths, seed, threads, out_dir, progress, stop)
        out, err = ctypes.c_void_p(), _native.ErrorStruct()
        status, interrupted = _run_in_thread(
            lambda: lib.ipabs_session_run(self._h, ctypes.byref(p), ctypes.byref(out),
                                          ctypes.byref(err)), stop)
        if interrupted:
            lib.ipabs_results_free(out)
            raise KeyboardInterrupt
        if status not in (0, _native.EINTERRUPTED) or not out:
            raise Error._of(err)
        return _results(out, "summary", partial=status == _native.EINTERRUPTED)

    def sweep(self, grid, paths=None, seed=None, threads=None, out_dir=None):
        """The Monte Carlo at every point of grid = {key: [values]} (scalar
        scenario keys as for set=), with one seed: table sweep."""
        specs = ["%s=%s" % (k, ",".join(_scalar(v) for v in vs)) for k, vs in grid.items()]
        arr, n = _strings(specs)
        stop = ctypes.c_int(0)
        p = self._params(paths, seed, threads, out_dir, None, stop)
        out, errs = ctypes.c_void_p(), _native.ErrorsStruct()
        status, interrupted = _run_in_thread(
            lambda: lib.ipabs_session_sweep(self._h, arr, n, ctypes.byref(p),
                                            ctypes.byref(out), ctypes.byref(errs)), stop)
        if interrupted:
            lib.ipabs_results_free(out)
            lib.ipabs_errors_clear(ctypes.byref(errs))
            raise KeyboardInterrupt
        if status != 0:
            lib.ipabs_results_free(out)
            raise Error._of_list(errs)
        lib.ipabs_errors_clear(ctypes.byref(errs))
        return _results(out, "sweep")


def load(path, set=None):
    """Read and validate a scenario (path plus overrides {"dotted.key":
    value}, as the CLI's --set).  Raises ipabs.Error on the first of its
    errors (all of them in .errors)."""
    return Scenario(path, set)
