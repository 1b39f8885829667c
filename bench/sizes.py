"""The size presets every benchmark and the code's comments refer to by name ("at M").

name: (rules, concepts, examples); every size has 20 features and 8 labels
(``bench/synthetic.py`` builds the world, ``bench/_harness.py`` seeds a space with it).
"""

from __future__ import annotations

SIZES: dict[str, tuple[int, int, int]] = {
    "S": (50, 20, 1_000),
    "M": (500, 150, 10_000),
    "L": (2_000, 150, 100_000),
}
