#!/usr/bin/python3
"""Tiles: one PNG with two panels sharing the tile axis.
Top: the compute heat map, tile x compute step, coloured by the tile's cycles in that step
(white: the tile did not compute). Bottom: each tile's memory (code, vertex state, constants,
variables; bytes) against the tile limit, the dashed line.

By default the tile axis stops after the last tile that computes or holds memory (the rest are
idle); --all-tiles shows every tile. The memory panel uses a log scale, with one bar per tile
(its peak), when the fullest tile uses under 10% of the limit (--memory-scale auto); stacked
bars on a log scale would misstate the parts.

Usage: tiles.py TRACE.h5 -o tiles.png [--all-tiles] [--memory-scale auto|linear|log]
"""
import numpy as np

import common
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

PARTS = [("code", "tab:blue"), ("vertex_state", "tab:orange"), ("constants", "tab:green"),
         ("variables", "tab:purple")]


def options(parser):
    parser.add_argument("--all-tiles", action="store_true", help="show every tile of the target")
    parser.add_argument("--memory-scale", choices=["auto", "linear", "log"], default="auto",
                        help="the memory panel's y scale (default: log when the fullest tile "
                             "uses under 10%% of the limit)")


def main():
    args = common.parse_args(__doc__.splitlines()[0], options)
    trace = common.load(args.trace)
    compute = trace.compute_cycles  # [compute steps, tiles]
    memory = trace.memory
    peak = memory["peak"].astype(np.float64)

    used = np.zeros(trace.tiles, dtype=bool)
    if compute.size:
        used |= compute.sum(axis=0) > 0
    used |= peak > 0
    shown = trace.tiles if args.all_tiles or not used.any() else int(np.flatnonzero(used).max()) + 1
    shown = max(shown, min(trace.tiles, 16))  # a few tiles at least, so bars stay bars
    tiles = np.arange(shown)

    fig, (heat, bars) = plt.subplots(2, 1, figsize=(12, 8), sharex=True,
                                     gridspec_kw={"height_ratios": [3, 2]})
    fig.suptitle(f"Tiles: {trace.title()}, tiles 0..{shown - 1} of {trace.tiles}")

    if compute.shape[0] == 0:
        heat.text(0.5, 0.5, "no per-tile compute detail in this trace", transform=heat.transAxes,
                  ha="center", va="center")
        heat.set_yticks([])
    else:
        data = np.ma.masked_equal(compute[:, :shown].astype(np.float64), 0)
        cmap = plt.get_cmap("viridis").copy()
        cmap.set_bad("white")
        image = heat.imshow(data, aspect="auto", interpolation="nearest", cmap=cmap,
                            extent=(-0.5, shown - 0.5, compute.shape[0] - 0.5, -0.5))
        # Above the map, so both panels keep the same width and their tile axes line up.
        fig.colorbar(image, ax=heat, label="cycles", location="top", fraction=0.06, pad=0.02,
                     aspect=60)
        names = trace.step_names[trace.step_kinds == "compute"]
        runs = trace.steps["run"][trace.step_kinds == "compute"]
        if len(names) <= 40:
            heat.set_yticks(range(len(names)), [f"r{r}: {n}" for r, n in zip(runs, names)], fontsize=7)
        heat.set_ylabel("compute step")
        busiest = int(np.argmax(compute.sum(axis=0)))
        heat.set_title(f"compute cycles per tile and step ({compute.shape[0]} compute steps; "
                       f"busiest tile {busiest})", fontsize=10)

    limit = trace.bytes_per_tile
    scale = args.memory_scale
    if scale == "auto":
        scale = "log" if peak.max(initial=0) < 0.1 * limit else "linear"
    if scale == "log":
        bars.bar(tiles, peak[:shown], width=1.0, color="tab:blue", label="peak (all parts)")
        bars.set_yscale("log")
    else:
        bottom = np.zeros(shown)
        for part, colour in PARTS:
            values = memory[part][:shown].astype(np.float64)
            bars.bar(tiles, values, bottom=bottom, width=1.0, color=colour, label=part)
            bottom += values
    limit_text = f"{limit // 1024} KiB" if limit % 1024 == 0 else f"{limit} bytes"
    bars.axhline(limit, color="red", linestyle="--", linewidth=1, label=f"tile limit ({limit_text})")
    # Room above the limit line, so it is always in view.
    bars.set_ylim(1 if scale == "log" else 0, limit * (3 if scale == "log" else 1.1))
    fullest = int(np.argmax(peak))
    bars.set_title(f"memory per tile ({scale} scale); fullest tile {fullest}: {int(peak[fullest])} "
                   f"bytes, {limit - int(peak[fullest])} bytes headroom", fontsize=10)
    bars.set_ylabel("bytes")
    bars.set_xlabel("tile")
    bars.set_xlim(-0.5, shown - 0.5)
    bars.xaxis.set_major_locator(MaxNLocator(integer=True))
    # Below the axis, where it can hide neither a bar nor the limit line.
    bars.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=5, frameon=False)
    common.save(fig, args.output)


if __name__ == "__main__":
    main()
