"""A small inline SVG line chart (no script, no library): accuracy over model versions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 180
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 16, 14, 30


@dataclass
class Point:
    x: float
    y: float
    version: int
    value: float
    href: str = ""  # where the point leads (the teaching that produced the version)

    @property
    def percent(self) -> str:
        return f"{self.value * 100:.1f} %"


@dataclass
class LineChart:
    points: list[Point] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    gridlines: list[tuple[float, str]] = field(default_factory=list)
    metric: str = "accuracy"

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def baseline(self) -> float:
        return self.height - PAD_BOTTOM

    @property
    def left(self) -> int:
        return PAD_LEFT

    @property
    def right(self) -> int:
        return self.width - PAD_RIGHT

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None


def accuracy_chart(versions: Iterable) -> LineChart:
    """Accuracy on the held-out evaluation examples; without any, the cross-validated
    accuracy on the training examples (the chart says which)."""
    versions = list(versions)
    chart = metric_chart(versions, "accuracy")
    return chart if chart.points else metric_chart(versions, "cv_accuracy")


def metric_chart(versions: Iterable, metric: str) -> LineChart:
    """Ready versions, oldest first, with ``metrics[metric]`` between 0 and 1."""
    values = [
        (v.version, float(v.metrics[metric]))
        for v in sorted(versions, key=lambda v: v.version)
        if v.status == "ready" and isinstance((v.metrics or {}).get(metric), int | float)
    ]
    chart = LineChart(metric=metric)
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    plot_width = WIDTH - PAD_LEFT - PAD_RIGHT
    chart.gridlines = [
        (PAD_TOP + plot_height * (1 - level), f"{int(level * 100)} %")
        for level in (0.0, 0.25, 0.5, 0.75, 1.0)
    ]
    for index, (version, value) in enumerate(values):
        x = PAD_LEFT + (
            plot_width * index / (len(values) - 1) if len(values) > 1 else plot_width / 2
        )
        y = PAD_TOP + plot_height * (1 - min(max(value, 0.0), 1.0))
        chart.points.append(Point(x=x, y=y, version=version, value=value))
    return chart


def scorecard_chart(versions: Iterable, links: dict[int, str]) -> LineChart:
    """Accuracy on the agreed evaluation cases (``metrics.scorecard``) of the versions that
    were scored, oldest first; each point links to ``links[version]`` when given."""
    scored = [
        _Scored(
            v.version,
            v.status,
            {"accuracy": (v.metrics or {}).get("scorecard", {}).get("accuracy")},
        )
        for v in versions
        if (v.metrics or {}).get("scorecard", {}).get("n_cases")
    ]
    chart = metric_chart(scored, "accuracy")
    chart.metric = "scorecard"
    for point in chart.points:
        point.href = links.get(point.version, "")
    return chart


@dataclass
class _Scored:
    version: int
    status: str
    metrics: dict
