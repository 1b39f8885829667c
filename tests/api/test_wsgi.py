"""mola/wsgi.py: a web process freezes what its imports made out of the cyclic garbage
collector's sight, so that a full collection walks only what came after."""

from tests.probe import probe

_PROBE = """
import gc
import mola.wsgi
from teaching.api import model  # a view module: imported with the URLconf, so frozen
frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())
print(frozen, tracked)
"""


def test_the_web_process_freezes_its_imports_out_of_full_collections():
    frozen, tracked = probe(_PROBE)
    assert int(frozen) > 50_000  # Django, the URLconf's views, the engine
    # A full collection walks only these (its time is bench/retrain.py's to show, not a
    # unit test's: ~100 ms of CPU at M without the freeze, ~3 ms with it).
    assert int(tracked) < int(frozen) // 20
