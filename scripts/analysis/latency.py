#!/usr/bin/python3
"""Request latency per strategy, from /requests (written by `ipusim compare --trace`): one
PNG with two panels, the latency CDF of each strategy (left) and a box plot per strategy
(right; whiskers at 1.5 IQR). Prints each strategy's count, mean, p50, p90, p99 and max in
microseconds (numpy's linear-interpolated percentiles). Axes turn logarithmic when the
latencies span more than a factor of 100 (a reload next to an index switch).

Usage: latency.py TRACE.h5 -o latency.png
"""
import numpy as np

import common
import matplotlib.pyplot as plt


def readable(us):
    """A latency in the unit that reads best: 4.47 us, 12.5 ms, 1.2 s."""
    if us < 1e3:
        return f"{us:.3g} us"
    if us < 1e6:
        return f"{us / 1e3:.3g} ms"
    return f"{us / 1e6:.3g} s"


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    trace = common.load(args.trace)
    requests = trace.requests
    if len(requests) == 0:
        common.fail(f"{args.trace}: no requests in this trace (`ipusim compare --trace` fills "
                    f"/requests)")

    strategies = sorted(set(trace.request_strategies))
    latencies = {s: np.sort(requests["latency_us"][trace.request_strategies == s].astype(np.float64))
                 for s in strategies}
    for s in strategies:
        lat = latencies[s]
        switched = int(requests["switched"][trace.request_strategies == s].astype(bool).sum())
        p50, p90, p99 = np.percentile(lat, [50, 90, 99])
        print(f"{s}: {len(lat)} requests, mean {lat.mean():.3f} us, p50 {p50:.3f} us, "
              f"p90 {p90:.3f} us, p99 {p99:.3f} us, max {lat.max():.3f} us, {switched} switched")

    everything = np.concatenate(list(latencies.values()))
    positive = everything[everything > 0]
    log = len(positive) > 0 and positive.max() / positive.min() > 100

    fig, (cdf, box) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    fig.suptitle(f"Request latency: {trace.title()}, {len(requests)} requests")
    for s in strategies:
        lat = latencies[s]
        fraction = np.arange(1, len(lat) + 1) / len(lat)
        cdf.step(lat, fraction, where="post", label=f"{s} (p99 {readable(np.percentile(lat, 99))})")
    cdf.set_xlabel("latency (us)")
    cdf.set_ylabel("fraction of requests")
    cdf.set_ylim(0, 1.02)
    cdf.grid(alpha=0.3)
    cdf.legend()
    cdf.set_title("CDF", fontsize=10)

    box.boxplot([latencies[s] for s in strategies], labels=strategies)
    box.set_ylabel("latency (us)")
    box.grid(axis="y", alpha=0.3)
    box.set_title("per strategy", fontsize=10)
    if log:
        cdf.set_xscale("log")
        box.set_yscale("log")
    common.save(fig, args.output)


if __name__ == "__main__":
    main()
