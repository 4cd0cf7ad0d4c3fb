"""Shared by the ipusim trace scripts: opening a trace (with the schema check), the command
line every script takes (TRACE.h5 -o OUT.png), and reading the tables as numpy arrays.

The schema is docs/trace-schema.md; this module and traces/trace_schema.h must agree.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only: no display needed, none opened

import h5py  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402

SCHEMA_VERSION = 1
FORMAT = "ipusim-trace"
# Step kinds in the order of the /steps `kind` enum.
KINDS = ["compute", "exchange", "sync", "stream", "switch", "load"]
# One colour per kind, used by every script (matplotlib's tab10).
KIND_COLOURS = {
    "compute": "tab:blue",
    "exchange": "tab:orange",
    "sync": "tab:gray",
    "stream": "tab:green",
    "switch": "tab:purple",
    "load": "tab:red",
}


class TraceError(Exception):
    """A trace file that cannot be used: reported as one line, exit code 1."""


def fail(message):
    prog = os.path.basename(sys.argv[0]) or "ipusim-trace"
    print(f"{prog}: error: {message}", file=sys.stderr)
    sys.exit(1)


def parse_args(description, add_options=None):
    """TRACE.h5 and -o OUT.png, plus whatever `add_options(parser)` adds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("trace", help="an ipusim trace (.h5), as written by `ipusim run --trace`")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.png", help="the PNG to write")
    if add_options:
        add_options(parser)
    return parser.parse_args()


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def open_trace(path):
    """Opens an ipusim trace read-only, or raises TraceError saying what the file is not."""
    if not os.path.exists(path):
        raise TraceError(f"{path}: no such file")
    if os.path.isdir(path):
        raise TraceError(f"{path}: is a folder, not a trace file")
    if not h5py.is_hdf5(path):
        raise TraceError(f"{path}: not an HDF5 file, so not an ipusim trace")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise TraceError(f"{path}: cannot open the HDF5 file: {e}") from None
    if _text(f.attrs.get("format", "")) != FORMAT:
        f.close()
        raise TraceError(f'{path}: an HDF5 file, but not an ipusim trace '
                         f'(no root attribute format = "{FORMAT}")')
    version = f.attrs.get("schema_version")
    if version is None or int(version) != SCHEMA_VERSION:
        f.close()
        raise TraceError(f"{path}: trace schema version {version}, but these scripts read "
                         f"version {SCHEMA_VERSION} (docs/trace-schema.md)")
    for name in ("steps", "tiles/compute_cycles", "tiles/exchange_bytes", "tiles/memory",
                 "runs", "requests"):
        if name not in f:
            f.close()
            raise TraceError(f"{path}: malformed ipusim trace: missing dataset /{name}")
    return f


class Trace:
    """The tables of a trace as numpy arrays, plus its root attributes."""

    def __init__(self, f, path):
        self.path = path
        attrs = f.attrs
        self.executable = _text(attrs["executable"])
        self.target = _text(attrs["target"])
        self.ipusim_version = _text(attrs["ipusim_version"])
        self.clock_hz = float(attrs["clock_hz"])
        self.tiles = int(attrs["tiles"])
        self.bytes_per_tile = int(attrs["bytes_per_tile"])

        steps = f["steps"][()]
        self.steps = steps
        # The kind enum's own names, so the scripts never depend on its numbering.
        enum = h5py.check_enum_dtype(f["steps"].dtype["kind"]) or {k: i for i, k in enumerate(KINDS)}
        names = {value: name for name, value in enum.items()}
        self.step_kinds = np.array([names[int(k)] for k in steps["kind"]], dtype=object)
        self.step_names = np.array([_text(n) for n in steps["name"]], dtype=object)
        self.compute_cycles = f["tiles/compute_cycles"][()]
        self.exchange_bytes = f["tiles/exchange_bytes"][()]
        self.memory = f["tiles/memory"][()]
        self.runs = f["runs"][()]
        self.requests = f["requests"][()]
        self.request_strategies = np.array([_text(s) for s in self.requests["strategy"]], dtype=object)

    def us(self, cycles):
        """Cycles at the target's clock, in microseconds."""
        return np.asarray(cycles, dtype=np.float64) / self.clock_hz * 1e6

    def run_start_cycles(self):
        """Where each run starts on one timeline: runs laid end to end, each as long as its
        steps (as in `ipusim trace export-perfetto`)."""
        run_cycles = np.zeros(len(self.runs), dtype=np.float64)
        np.add.at(run_cycles, self.steps["run"].astype(np.int64), self.steps["cycles"].astype(np.float64))
        return np.concatenate([[0.0], np.cumsum(run_cycles)[:-1]]) if len(run_cycles) else run_cycles

    def absolute_start_cycles(self):
        """Each step's start on that timeline."""
        starts = self.run_start_cycles()
        return starts[self.steps["run"].astype(np.int64)] + self.steps["start_cycle"].astype(np.float64)

    def title(self):
        return f"{os.path.basename(self.executable)} on {self.target} ({self.clock_hz / 1e9:.3g} GHz)"


def load(path):
    """Reads a whole trace; exits with one clear line when the file is not a usable trace."""
    try:
        with open_trace(path) as f:
            return Trace(f, path)
    except TraceError as e:
        fail(str(e))
    except (KeyError, ValueError, OSError) as e:
        fail(f"{path}: malformed ipusim trace: {e}")


def save(fig, path):
    """Writes the figure; a folder that does not exist is one clear error."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        fail(f"cannot write {path}: folder {folder} does not exist")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    print(f"wrote {path}")
