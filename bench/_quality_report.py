"""bench/quality.py's printed results: the table of every method's mean accuracy per family
and scale, the verdict against the best baseline, the deletion test, quick minus refined,
and what a pool adds. ``report`` also prints the table of runs saved earlier (``--report``).
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING

from bench._quality_world import FAMILIES

if TYPE_CHECKING:
    from bench.quality import Settings

MOLA = ("mola", "mola-quick")
BASELINES = ("rf-rules", "hgb-rules", "hgb", "vote")
ABLATIONS = ("no-rules", "no-examples")
NAMES = {
    "mola": "MOLA",
    "mola-quick": "MOLA quick",
    "rf-rules": "RF rules-as-features",
    "hgb-rules": "HGB rules-as-features",
    "hgb": "HGB examples only",
    "vote": "rules' majority vote",
    "no-rules": "MOLA without rules",
    "no-examples": "MOLA without examples",
}
QUICK_SCALES = (150, 500)  # "S and M" of the quality worlds: quick vs refined is measured there


def report_quick(results: list[dict]) -> None:
    print("\nQuick (served right after one more example) minus refined, accuracy points:")
    for family in FAMILIES:
        for n in QUICK_SCALES:
            rows = [r for r in results if r["family"] == family and r["n"] == n]
            if rows:
                gaps = [100 * (r["quick"] - r["refined"]) for r in rows]
                print(f"  {family} at {n}: mean {_mean(gaps):+.2f}, worst {min(gaps):+.2f}")


def _mean(values) -> float:
    return statistics.fmean(values)


def report(results: list[dict], settings: Settings) -> bool:
    """Prints the table and the verdict; True when MOLA meets the target everywhere."""
    methods = (*MOLA, *BASELINES, *ABLATIONS)
    print()
    print(
        "| family | examples | "
        + " | ".join(NAMES[m] for m in methods)
        + " | best baseline | MOLA − best (mean / worst seed) | quick − refined | deletion test |"
    )
    print("|" + " --- |" * (len(methods) + 6))
    met = True
    misses = []
    for family in settings.families:
        for n in settings.scales:
            rows = [r for r in results if r["family"] == family and r["n"] == n]
            if not rows:
                continue
            mean = {
                m: _mean(r["accuracy"][m] for r in rows) if m in rows[0]["accuracy"] else math.nan
                for m in methods
            }
            best = max(BASELINES, key=lambda m: mean[m])
            diffs = [100 * (r["accuracy"]["mola"] - r["accuracy"][best]) for r in rows]
            quick = (
                f"{_mean(100 * (r['accuracy']['mola-quick'] - r['accuracy']['mola']) for r in rows):+.1f}"
                if "mola-quick" in rows[0]["accuracy"]
                else "–"
            )
            deleted = _mean(r["deleted"] for r in rows)
            named = _mean(r["named"] for r in rows)
            ok = mean["mola"] >= mean[best] and min(diffs) >= -1.0
            met &= ok
            if not ok:
                misses.append(f"{family} at {n} ({_mean(diffs):+.1f}, worst {min(diffs):+.1f})")
            cells = " | ".join(
                "–"
                if math.isnan(mean[m])
                else f"**{mean[m]:.3f}**"
                if m == "mola"
                else f"{mean[m]:.3f}"
                for m in methods
            )
            print(
                f"| {family} | {n} | {cells} | {NAMES[best]} | {_mean(diffs):+.1f} / "
                f"{min(diffs):+.1f}{'' if ok else ' ✗'} | {quick} | {deleted:.1%} "
                f"(of the {named:.0%} naming a rule) |"
            )
    report_pool(results, settings)
    deleted_all = _mean(r["deleted"] for r in results)
    fit_cpu = {n: _mean(r["fit_cpu"] for r in results if r["n"] == n) for n in settings.scales}
    print()
    print(
        f"Deletion test over all cells: {deleted_all:.1%}. MOLA fit CPU by scale: "
        + ", ".join(f"{n}: {s:.2f} s" for n, s in fit_cpu.items())
        + "."
    )
    if met:
        verdict = (
            "MOLA's mean is at or above the best baseline's, and no seed more than 1 point "
            "below it, at every family and scale."
        )
    else:
        verdict = "MOLA misses the target at " + "; ".join(misses) + "."
    print(f"Verdict ({settings.seeds} seeds): {verdict}")
    return met


def report_pool(results: list[dict], settings: Settings) -> None:
    """With ``--pool``: MOLA fitted with the world's unlabelled cases as its pool against
    MOLA without, per family and scale (mean and worst seed, in points)."""
    if not any("mola-pool" in r["accuracy"] for r in results):
        return
    print(f"\nWith a pool of {settings.pool} unlabelled cases (MOLA with pool − MOLA, points):")
    for family in settings.families:
        cells = []
        for n in settings.scales:
            rows = [r for r in results if r["family"] == family and r["n"] == n]
            diffs = [100 * (r["accuracy"]["mola-pool"] - r["accuracy"]["mola"]) for r in rows]
            if diffs:
                cells.append(f"{n}: {_mean(diffs):+.1f} / worst {min(diffs):+.1f}")
        print(f"  {family}: " + "; ".join(cells))
