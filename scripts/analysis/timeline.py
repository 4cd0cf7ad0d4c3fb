#!/usr/bin/python3
"""Supersteps over time, coloured by kind: one row per step kind (compute, exchange, sync,
stream, switch, load), each step a bar from its start to its end in microseconds at the
target's clock. Runs are laid end to end, as in `ipusim trace export-perfetto`; dashed lines
mark where each run starts.

Usage: timeline.py TRACE.h5 -o timeline.png [--run N]
"""
import numpy as np

import common
import matplotlib.pyplot as plt


def main():
    args = common.parse_args(
        __doc__.splitlines()[0],
        lambda p: p.add_argument("--run", type=int, metavar="N", help="show run N only"))
    trace = common.load(args.trace)
    if len(trace.steps) == 0:
        common.fail(f"{args.trace}: no steps in this trace")

    starts = trace.absolute_start_cycles()
    cycles = trace.steps["cycles"].astype(np.float64)
    runs = trace.steps["run"]
    run_starts = trace.run_start_cycles()
    shown = np.ones(len(starts), dtype=bool)
    origin = 0.0
    if args.run is not None:
        if not 0 <= args.run < len(trace.runs):
            common.fail(f"--run {args.run}: the trace has runs 0..{len(trace.runs) - 1}")
        shown = runs == args.run
        if not shown.any():
            common.fail(f"{args.trace}: run {args.run} has no steps")
        origin = run_starts[args.run]

    total = cycles[shown].sum()
    fig, ax = plt.subplots(figsize=(12, 3.6))
    labels = []
    for row, kind in enumerate(common.KINDS):
        mask = shown & (trace.step_kinds == kind)
        share = cycles[mask].sum() / total if total else 0.0
        labels.append(f"{kind} ({mask.sum()}, {share:.0%})")
        if not mask.any():
            continue
        bars = list(zip(trace.us(starts[mask] - origin), trace.us(cycles[mask])))
        colour = common.KIND_COLOURS[kind]
        # An edge of the bar's own colour keeps very short steps visible as hairlines.
        ax.broken_barh(bars, (row - 0.4, 0.8), facecolors=colour, edgecolors=colour, linewidth=0.6)

    if args.run is None and len(trace.runs) > 1:
        for run, start in enumerate(run_starts):
            ax.axvline(trace.us(start), color="black", linestyle="--", linewidth=0.6, alpha=0.5)
            index = int(trace.runs["index"][run])
            ax.text(trace.us(start), len(common.KINDS) - 0.45,
                    f" run {run}" + (f" (index {index})" if index >= 0 else ""),
                    fontsize=7, va="bottom", ha="left")

    ax.set_yticks(range(len(common.KINDS)), labels)
    ax.set_ylim(-0.6, len(common.KINDS) - 0.4 + (0.5 if args.run is None and len(trace.runs) > 1 else 0))
    ax.invert_yaxis()
    ax.set_xlabel(f"time (us at {trace.clock_hz / 1e9:.3g} GHz)")
    scope = f"run {args.run}" if args.run is not None else f"{len(trace.runs)} run(s)"
    ax.set_title(f"Supersteps over time: {trace.title()}, {scope}, {int(shown.sum())} steps, "
                 f"{trace.us(total):.3f} us")
    ax.grid(axis="x", alpha=0.3)
    common.save(fig, args.output)


if __name__ == "__main__":
    main()
