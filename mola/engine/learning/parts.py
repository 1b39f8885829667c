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

A neighbour index that follows another (``follows``: the fit's index after the last fit's,
an example written) is stored as that index's part and an ``IndexDelta``: the rows between
the ones both share at the start and at the end (the same bytes). After an example write at
M that is a few hundred bytes where the whole index is 2.2 MB: the worker neither pickles,
hashes nor saves 2 MB, and a process that holds the base (the version before) rebuilds the
index from it (``np.concatenate`` of the same bytes: the same points, bit for bit). An
artefact names every part of its chain, so a base stays stored while a kept version needs
it (retention deletes unnamed parts only). A chain is at most ``MAX_DELTAS`` long, and a
delta with more than ``MAX_DELTA_SHARE`` of the rows is stored whole instead.
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

import numpy as np

from mola.engine.learning.model import ARTEFACT_FORMAT, TaughtModel
from mola.engine.learning.neighbours import ExampleIndex

# An artefact that may name parts (3: its index part may be an ``IndexDelta``, which a
# reader of format 2 would not know); ``TaughtModel.to_bytes`` gives format 1.
PARTS_FORMAT = 3
READABLE_FORMATS = (ARTEFACT_FORMAT, 2, PARTS_FORMAT)
TREE_PARTS = ("model", "booster")  # ExampleTrees attributes stored as parts
MAX_DELTAS = 8  # deltas in a chain at most: then the index is stored whole again
MAX_DELTA_SHARE = 0.25  # a delta with more rows than this share of the index: stored whole

_lock = threading.Lock()
_known: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_held: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
# An index stored as a delta → (its chain's length, every part its load needs: its own
# first, then its base's). The bytes of a delta are kept, a whole base by its object: a
# store that lacks them (pruned meanwhile, never published) is given them again.
_chains: weakref.WeakKeyDictionary[ExampleIndex, tuple[int, tuple]] = weakref.WeakKeyDictionary()
# An index → the index of the fit before it (``follows``), to be stored as a delta of it.
_previous: weakref.WeakKeyDictionary[ExampleIndex, ExampleIndex] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class PartRef:
    """Where a part was in the pickled model."""

    digest: str


@dataclass(frozen=True)
class IndexDelta:
    """A neighbour index as its ``base`` part's points with the rows ``[head, n - tail)``
    replaced by ``rows``; ``depth``: the deltas in its chain, this one included."""

    base: str
    depth: int
    head: int
    tail: int
    rows: np.ndarray


def follows(index: ExampleIndex, previous: ExampleIndex | None) -> None:
    """``index`` is the next fit's of ``previous`` (the same space): ``dump`` stores it as a
    delta of it where that is small. Only the newest index remembers its previous one, so a
    series of fits never holds more than the last two."""
    with _lock:
        if previous is not None and previous is not index:
            _previous.pop(previous, None)
            _previous[index] = previous


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
        index = model.examples_.index
        chain = _chain(index) or _derived(index)
        if chain is None:
            stand_in.examples_.index = ref(index)
        else:
            parts.update(chain[1])
            stand_in.examples_.index = PartRef(chain[1][0][0])
    stand_in.matcher_ = ref(model.matcher_)
    data = pickle.dumps((PARTS_FORMAT, stand_in), protocol=pickle.HIGHEST_PROTOCOL)
    return data, parts


def load(data: bytes, read: Callable[[str], bytes]) -> TaughtModel:
    """A model stored by ``dump`` (or whole, by ``TaughtModel.to_bytes``). ``read(digest)``:
    a part's bytes, asked only for parts this process does not hold."""
    version, model = pickle.loads(data)
    if version not in READABLE_FORMATS or not isinstance(model, TaughtModel):
        raise ValueError(f"Not a model artefact of a format in {READABLE_FORMATS}.")
    if version != ARTEFACT_FORMAT:
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
        _chains.clear()


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
        data = read(digest)
        obj = pickle.loads(data)
        if isinstance(obj, IndexDelta):
            obj = _rebuilt([(digest, data, obj)], read)
        _remember(obj, digest)
    return obj


def _rebuilt(deltas: list[tuple[str, bytes, IndexDelta]], read) -> ExampleIndex:
    """The index the first of ``deltas`` (digest, bytes, delta) stands for: its bases read
    down to one held or stored whole, then every delta applied to slices of it and the
    points joined once (a process that holds nothing builds no index in between)."""
    while True:
        digest = deltas[-1][2].base
        with _lock:
            base = _held.get(digest)
        if base is not None:
            break
        data = read(digest)
        obj = pickle.loads(data)
        if not isinstance(obj, IndexDelta):
            base = obj
            _remember(base, digest)
            break
        deltas.append((digest, data, obj))
    pieces = [base._points]
    for _, _, delta in reversed(deltas):
        n = sum(map(len, pieces))
        pieces = [*_rows(pieces, 0, delta.head), delta.rows, *_rows(pieces, n - delta.tail, n)]
    index = ExampleIndex(np.concatenate(pieces))
    own = tuple((digest, lambda data=data: data) for digest, data, _ in deltas)
    with _lock:
        _chains[index] = (deltas[0][2].depth, (*own, *_chain_locked(base)[1]))
    return index


def _rows(pieces: list[np.ndarray], start: int, stop: int) -> list[np.ndarray]:
    """Rows ``[start, stop)`` of the pieces joined, as views of them."""
    taken, offset = [], 0
    for piece in pieces:
        low, high = max(start - offset, 0), min(stop - offset, len(piece))
        if low < high:
            taken.append(piece[low:high])
        offset += len(piece)
    return taken


def _chain(index: ExampleIndex) -> tuple[int, tuple] | None:
    """(deltas in the chain, ((digest, its bytes when asked), …)) of an index named
    before (a whole one: no delta, its own part), None if it was not."""
    with _lock:
        return _chain_locked(index)


def _chain_locked(index: ExampleIndex) -> tuple[int, tuple] | None:
    chain = _chains.get(index)
    if chain is not None:
        return chain
    digest = _known.get(index)
    if digest is None:
        return None
    return 0, ((digest, lambda: pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)),)


def _derived(index: ExampleIndex) -> tuple[int, tuple] | None:
    """``index``'s chain as a delta of the index it follows, if that was named and the
    delta is small enough (else None: stored whole)."""
    with _lock:
        previous = _previous.get(index)
        base = None if previous is None else _chain_locked(previous)
    if base is None or base[0] >= MAX_DELTAS:
        return None
    old, new = previous._points, index._points
    if old.shape[1] != new.shape[1]:
        return None
    head, tail = _common_ends(old, new)
    if head == len(old) == len(new):  # the same points: the same part(s)
        chain = base
    else:
        rows = new[head : len(new) - tail]
        if len(rows) > MAX_DELTA_SHARE * len(new):
            return None
        delta = IndexDelta(base[1][0][0], base[0] + 1, head, tail, rows.copy())
        data = pickle.dumps(delta, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.sha256(data).hexdigest()
        chain = (delta.depth, ((digest, lambda: data), *base[1]))
    with _lock:
        _known[index] = chain[1][0][0]
        _held.setdefault(chain[1][0][0], index)
        if chain[0]:
            _chains[index] = chain
    return chain


def _common_ends(old: np.ndarray, new: np.ndarray) -> tuple[int, int]:
    """How many rows ``old`` and ``new`` share, byte for byte, at their start and then at
    their end (not overlapping)."""
    shared = min(len(old), len(new))
    a, b = old.view(np.uint32), new.view(np.uint32)
    same = (a[:shared] == b[:shared]).all(axis=1)
    head = shared if same.all() else int(np.argmin(same))
    room = shared - head
    if not room:
        return head, 0
    same = (a[len(a) - room :] == b[len(b) - room :]).all(axis=1)[::-1]
    return head, room if same.all() else int(np.argmin(same))


def _remember(obj: Any, digest: str) -> None:
    with _lock:
        _known[obj] = digest
        _held.setdefault(digest, obj)
