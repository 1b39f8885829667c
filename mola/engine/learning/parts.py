"""A model artefact in parts: the big pieces that versions share, stored once.

A quick retrain reuses the trees of the space's last full fit (forest_reuse.py): its model's
forest and boosting member are the very objects the refined model holds. Pickled whole,
every quick artefact carried them again (2.2 of 5.2 MB at M), and every web process read,
unpickled and walked them again for each quick version. Likewise the neighbour index of the
examples (2.2 MB at M) is the same from one version to the next while only rules change, and
the rules' and concepts' matcher (0.23 MB at M, ~5 ms to unpickle) while they do not (an
example written; the refined version after its quick one).
``dump`` pickles a model with those objects (``_shared``) replaced by references to
*parts*, each named by the digest of its bytes; a store keeps each part once, and ``load``
takes a part this process already holds (``_held``) instead of reading and unpickling it
again: the same object, so the version answers bit for bit as a whole load of it does (and
the index's reach filter, built for the last version, serves the next one at that radius).

A part object's digest is remembered while it lives (``_known``): a quick version names its
forest without pickling it again. Process-wide; thread-safe.
"""

from __future__ import annotations

import copy
import hashlib
import pickle
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mola.engine.learning.model import ARTEFACT_FORMAT, TaughtModel

PARTS_FORMAT = 2  # an artefact that may name parts; ``TaughtModel.to_bytes`` gives format 1
TREE_PARTS = ("model", "booster")  # ExampleTrees attributes stored as parts

_lock = threading.Lock()
_known: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_held: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


@dataclass(frozen=True)
class PartRef:
    """Where a part was in the pickled model."""

    digest: str


def dump(model: TaughtModel) -> tuple[bytes, dict[str, Callable[[], bytes]]]:
    """``model`` pickled with its shared objects as references, and each part's bytes by
    digest, to be asked for only by a store that lacks the part (an object this process
    has pickled or loaded before is named without pickling it again)."""
    parts: dict[str, Callable[[], bytes]] = {}

    def ref(obj: Any) -> Any:
        if obj is None:
            return None
        digest, data = _named(obj)
        parts[digest] = data
        return PartRef(digest)

    stand_in = copy.copy(model)  # the model's own objects are not touched
    if model.trees_ is not None:
        stand_in.trees_ = copy.copy(model.trees_)
        for name in TREE_PARTS:
            setattr(stand_in.trees_, name, ref(getattr(model.trees_, name)))
    if model.examples_.index.n:
        stand_in.examples_ = copy.copy(model.examples_)
        stand_in.examples_.index = ref(model.examples_.index)
    stand_in.matcher_ = ref(model.matcher_)
    data = pickle.dumps((PARTS_FORMAT, stand_in), protocol=pickle.HIGHEST_PROTOCOL)
    return data, parts


def load(data: bytes, read: Callable[[str], bytes]) -> TaughtModel:
    """A model stored by ``dump`` (or whole, by ``TaughtModel.to_bytes``). ``read(digest)``:
    a part's bytes, asked only for parts this process does not hold."""
    version, model = pickle.loads(data)
    if version not in (ARTEFACT_FORMAT, PARTS_FORMAT) or not isinstance(model, TaughtModel):
        raise ValueError(f"Not a model artefact of format {ARTEFACT_FORMAT} or {PARTS_FORMAT}.")
    if version == PARTS_FORMAT:
        trees = model.trees_
        for name in TREE_PARTS if trees is not None else ():
            if isinstance(getattr(trees, name), PartRef):
                setattr(trees, name, _part(getattr(trees, name).digest, read))
        if isinstance(model.examples_.index, PartRef):
            model.examples_.index = _part(model.examples_.index.digest, read)
        if isinstance(model.matcher_, PartRef):
            model.matcher_ = _part(model.matcher_.digest, read)
    return model


def forget() -> None:
    """Hold no part (tests: a process that has read none)."""
    with _lock:
        _known.clear()
        _held.clear()


def _named(obj: Any) -> tuple[str, Callable[[], bytes]]:
    """``obj``'s digest and its bytes when asked: pickled now unless its digest is known."""
    with _lock:
        digest = _known.get(obj)
    if digest is not None:
        # Stored already, almost always; else (the store pruned it meanwhile, or the full
        # fit that pickled it was never published) its pickle stands under that name.
        return digest, lambda: pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(data).hexdigest()
    _remember(obj, digest)
    return digest, lambda: data


def _part(digest: str, read: Callable[[str], bytes]) -> Any:
    with _lock:
        obj = _held.get(digest)
    if obj is None:
        obj = pickle.loads(read(digest))
        _remember(obj, digest)
    return obj


def _remember(obj: Any, digest: str) -> None:
    with _lock:
        _known[obj] = digest
        _held.setdefault(digest, obj)
