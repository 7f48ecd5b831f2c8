"""ctypes bindings of ipabs/ipabs.h (the embedding API of libipabs.so).

Only this file knows the C layout; __init__.py builds the Python face on it.
The library is looked for, in order: $IPABS_LIBRARY; beside an installed
module (cmake --install records where, in _libpath.py); the build
directories of a source checkout (build/, then build-*/); the system's
library path.
"""
import ctypes
import ctypes.util
import glob
import os

STATUS_NAMES = {0: "OK", 1: "EINPUT", 2: "EIO", 3: "ENOMEM", 4: "EINTERNAL",
                5: "EINTERRUPTED"}
EINTERRUPTED = 5
COLUMN_TEXT, COLUMN_INT, COLUMN_DOUBLE = 0, 1, 2


class ErrorStruct(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("file", ctypes.c_char * 512),
                ("line", ctypes.c_int), ("column", ctypes.c_int),
                ("field", ctypes.c_char * 96), ("message", ctypes.c_char * 512)]


class ErrorsStruct(ctypes.Structure):
    _fields_ = [("items", ctypes.POINTER(ErrorStruct)), ("count", ctypes.c_size_t),
                ("capacity", ctypes.c_size_t)]


class CashflowParams(ctypes.Structure):
    _fields_ = [("defaults", ctypes.POINTER(ctypes.c_char_p)), ("n_defaults", ctypes.c_int),
                ("guarantor_default", ctypes.c_int), ("out_dir", ctypes.c_char_p)]


PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_longlong,
                            ctypes.c_longlong)


class RunParams(ctypes.Structure):
    # sig_atomic_t is int on every platform glibc supports.
    _fields_ = [("paths", ctypes.c_longlong), ("has_seed", ctypes.c_int),
                ("seed", ctypes.c_uint64), ("threads", ctypes.c_int),
                ("progress", PROGRESS), ("progress_ctx", ctypes.c_void_p),
                ("stop", ctypes.POINTER(ctypes.c_int)), ("out_dir", ctypes.c_char_p)]


def _candidates():
    env = os.environ.get("IPABS_LIBRARY")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        from . import _libpath
        prefix = here
        for _ in range(len(_libpath.PY_DIR.strip("/").split("/")) + 1):
            prefix = os.path.dirname(prefix)
        yield os.path.join(prefix, _libpath.LIBDIR, _libpath.SONAME)
    except ImportError:
        pass
    root = os.path.dirname(os.path.dirname(here))
    for build in [os.path.join(root, "build")] + sorted(glob.glob(os.path.join(root, "build-*"))):
        yield os.path.join(build, "libipabs.so")
    found = ctypes.util.find_library("ipabs")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        if os.path.sep in path and not os.path.exists(path):
            tried.append(path)
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("ipabs: cannot find libipabs.so; set IPABS_LIBRARY to its path "
                      "(looked at: %s)" % ", ".join(tried))


def _declare(lib):
    P, c = ctypes.POINTER, ctypes
    sigs = {
        "ipabs_init": (None, []),
        "ipabs_version": (c.c_char_p, []),
        "ipabs_errors_clear": (None, [P(ErrorsStruct)]),
        "ipabs_session_open": (c.c_int, [c.c_char_p, P(c.c_char_p), c.c_int,
                                         P(c.c_void_p), P(ErrorsStruct)]),
        "ipabs_session_free": (None, [c.c_void_p]),
        "ipabs_session_describe": (c.c_size_t, [c.c_void_p, c.c_char_p, c.c_size_t]),
        "ipabs_session_check": (c.c_int, [c.c_void_p, P(c.c_void_p), P(ErrorStruct)]),
        "ipabs_session_cashflow": (c.c_int, [c.c_void_p, P(CashflowParams), P(c.c_void_p),
                                             P(ErrorStruct)]),
        "ipabs_session_run": (c.c_int, [c.c_void_p, P(RunParams), P(c.c_void_p),
                                        P(ErrorStruct)]),
        "ipabs_session_sweep": (c.c_int, [c.c_void_p, P(c.c_char_p), c.c_int, P(RunParams),
                                          P(c.c_void_p), P(ErrorsStruct)]),
        "ipabs_results_free": (None, [c.c_void_p]),
        "ipabs_results_count": (c.c_int, [c.c_void_p]),
        "ipabs_results_at": (c.c_void_p, [c.c_void_p, c.c_int]),
        "ipabs_result_name": (c.c_char_p, [c.c_void_p]),
        "ipabs_result_rows": (c.c_long, [c.c_void_p]),
        "ipabs_result_cols": (c.c_int, [c.c_void_p]),
        "ipabs_result_col_name": (c.c_char_p, [c.c_void_p, c.c_int]),
        "ipabs_result_col_type": (c.c_int, [c.c_void_p, c.c_int]),
        "ipabs_result_doubles": (P(c.c_double), [c.c_void_p, c.c_int]),
        "ipabs_result_ints": (P(c.c_int64), [c.c_void_p, c.c_int]),
        "ipabs_result_texts": (P(c.c_char_p), [c.c_void_p, c.c_int]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args
    lib.ipabs_init()
    return lib


lib = _declare(_load())
