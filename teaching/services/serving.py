"""Which model a web process answers with, and keeping the newest one loaded before it is
asked for (warm serving).

Versions are immutable, so unpickled models are kept per process by version id. When a
version is published, the worker announces it (``announce``, after the commit): in the
cache (``mola:serving:{space}`` = the version's id, and ``LATEST_KEY``) and, with Redis, on
the ``mola:serving`` channel, or without Redis by ringing the doorbells of the machine's
watchers (``mola.doorbell``). Every process that answers for a space runs one watcher
thread (started by its first prediction) that wakes on the channel or its doorbell, and
reads ``LATEST_KEY`` every ``SERVING_POLL_SECONDS`` (and its spaces' keys when that moved)
in case a notice was lost; it loads the announced version and warms it up (its explanation
tables built, one prediction made), so no client pays the load.

Until a newer version is loaded, the process keeps answering with the version it holds —
for at most ``SERVING_CATCH_UP_SECONDS`` after the newer one was published; past that (a
missed notice, a watcher behind) a request loads it itself, as a process that holds no
version of the space does (and every request, when that setting is 0: warm serving off). A pinned ``version`` is always the one asked for.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.utils import timezone

from mola import doorbell
from mola.engine.lru import LRU
from mola.engine.table import table_from_rows
from teaching.models import ModelStatus, ModelVersion, Space
from teaching.services.artefacts import model_read

log = logging.getLogger(__name__)

CHANNEL = "mola:serving"
# What serving reads of a version (its metrics and teachings are big JSON).
SERVING_FIELDS = ("id", "space_id", "version", "teaching_revision", "status", "trained_at")
_CACHE_SIZE = 8
_models: LRU[int, Any] = LRU(_CACHE_SIZE)
# Taken with ``_generation``: a load under way when ``forget`` is called holds nothing.
_models_lock = threading.Lock()


@dataclass(frozen=True)
class Held:
    """The newest version of a space this process has loaded, and its model."""

    version: ModelVersion
    model: Any

    @property
    def order(self) -> tuple[int, int]:
        return (self.version.teaching_revision, self.version.version)


# At most _CACHE_SIZE spaces, the one held longest dropped first (with the LRU
# of ``_models``, a process holds at most 2 × _CACHE_SIZE models).
_held: LRU[int, Held] = LRU(_CACHE_SIZE, on_evict=lambda space_id, _: _checked.pop(space_id, None))
# When the database last confirmed, per space, that the held version is the newest: for
# RECHECK_SECONDS a request answers with it without asking (a notice, or a version saved
# ready in this process, clears it at once; the recheck bounds a lost notice).
_checked: dict[int, float] = {}
RECHECK_SECONDS = 1.0
_generation = 0
# A GET /model that comes while this process loads the newest version waits this long for
# it (``_arrived``: notified when one is held) rather than report the one before: a quick
# version at M loads in ~10–20 ms, and a polling client would see it only at its next poll.
SHOW_WAIT_SECONDS = 0.1
_arrived = threading.Condition()


def notice_key(space_id: int) -> str:
    return f"mola:serving:{space_id}"


# The last version announced in any space: a watcher reads this one key each poll and the
# spaces' keys only when it moved, so a short poll costs one cache read whatever the number
# of spaces a process holds.
LATEST_KEY = "mola:serving:latest"
# Every this many polls a watcher reads its spaces' keys anyway (a lost ``LATEST_KEY``
# write, a cache restarted), as it does when Redis wakes it.
FULL_READ_EVERY = 10


def doorbells() -> Path:
    """The folder of this machine's watchers' doorbells (without Redis)."""
    return Path(settings.DATA_DIR) / "serving"


def load_model(version: ModelVersion):
    """The version's TaughtModel, unpickled once per process."""
    model = _models.get(version.pk)
    if model is not None:
        return model
    model = model_read(version.pk)
    _remember(version.pk, model)
    return model


def _remember(pk: int, model) -> None:
    _models.put(pk, model)
    with _arrived:
        _arrived.notify_all()


def keep_fitted(*, space_id: int, version_id: int, model) -> None:
    """Keep a model fitted in this process, if it answers for the space (else it is a
    worker, which does not)."""
    if space_id in _held:
        _remember(version_id, model)
        recheck(space_id)


def _loaded(pk: int):
    return _models.peek(pk)


def forget() -> None:
    """Drop every model this process holds (tests: ids repeat between rolled-back tests)."""
    global _generation
    with _models_lock:
        _generation += 1  # a load under way when this was called holds nothing
        _models.clear()
        _held.clear()
        _checked.clear()


def current(space: Space) -> Held | None:
    """The held version of ``space`` while it is known to be the newest (see ``_checked``);
    None when the database must be asked (``answering``)."""
    held = _held.peek(space.pk)
    if held is None or settings.SERVING_CATCH_UP_SECONDS <= 0:
        return None
    if time.monotonic() - _checked.get(space.pk, -RECHECK_SECONDS) >= RECHECK_SECONDS:
        return None
    return held


def recheck(space_id: int) -> None:
    """The next request for ``space_id`` asks the database which version is the newest."""
    _checked.pop(space_id, None)


def answering(space: Space, newest: ModelVersion) -> tuple[ModelVersion, Any]:
    """The version (and model) this process answers for ``space`` with, given the newest
    ready one: that one once loaded; until then, while it is young, the one held (its load
    asked of the watcher); else the newest, loaded now. ``SERVING_CATCH_UP_SECONDS`` = 0
    turns warm serving off: no watcher, a request loads what it needs."""
    if settings.SERVING_CATCH_UP_SECONDS > 0:
        _watcher.start()
    model = _loaded(newest.pk)
    if model is not None:
        _set_held(space.pk, Held(newest, model))  # the database's newest: none is newer
        _checked[space.pk] = time.monotonic()
        return newest, model
    held = _catching_up(space, newest)
    if held is not None:
        _watcher.want(space.pk, newest.pk)
        return held.version, held.model
    model = load_model(newest)
    _set_held(space.pk, Held(newest, model))
    _checked[space.pk] = time.monotonic()
    return newest, model


def shown(space: Space, newest: ModelVersion | None) -> ModelVersion | None:
    """The version ``GET /model`` reports: the one this process answers with (see
    ``answering``), without loading anything on the request — while the watcher loads the
    newest, after waiting for it at most ``SHOW_WAIT_SECONDS``."""
    if newest is None or _loaded(newest.pk) is not None:
        return newest
    held = _catching_up(space, newest)
    if held is not None:
        _watcher.start()
        _watcher.want(space.pk, newest.pk)
        with _arrived:  # the watcher is loading it: a moment, then it is served
            if _arrived.wait_for(lambda: _loaded(newest.pk) is not None, SHOW_WAIT_SECONDS):
                return newest
        return ModelVersion.objects.defer("teachings", "timings").get(pk=held.version.pk)
    return newest


def _catching_up(space: Space, newest: ModelVersion) -> Held | None:
    """The older version held while ``newest`` loads, if it may still answer."""
    held = _held.peek(space.pk)
    if held is None or held.order >= (newest.teaching_revision, newest.version):
        return None
    limit = timedelta(seconds=settings.SERVING_CATCH_UP_SECONDS)
    if newest.trained_at is None or timezone.now() - newest.trained_at >= limit:
        return None
    # Ids repeat after a rolled-back transaction (tests): the held version must be the same
    # row, down to when it was trained.
    still = ModelVersion.objects.filter(
        pk=held.version.pk,
        space=space,
        version=held.version.version,
        trained_at=held.version.trained_at,
        status=ModelStatus.READY,
    ).exists()
    return held if still else None


def _hold(space_id: int, version: ModelVersion, model) -> None:
    held = _held.peek(space_id)
    if held is None or held.order < (version.teaching_revision, version.version):
        _set_held(space_id, Held(version, model))


def _set_held(space_id: int, held: Held) -> None:
    _held.put(space_id, held)  # a space dropped beyond _CACHE_SIZE leaves _checked too


def warm(space: Space | None, version: ModelVersion):
    """Load ``version`` and run one prediction through it, explanation included, so its
    explanation tables and lazily built parts exist before a client asks; then hold it
    (before it is listed as loaded, so that ``shown`` never reports a version ``current``
    does not answer with). What only batches read (the reach filter of a new set of
    examples, ~4–12 ms of CPU at M) is built after: a one-row call never waits for it, nor
    does the teacher whose write made the version (a batch in between builds it itself)."""
    generation = _generation
    model = _loaded(version.pk)
    if model is None:
        model = model_read(version.pk)
    _warm_step(version, space, lambda: model.explain(table_from_rows(space.schema, [{}])))
    _warm_step(version, space, model.prepare_explaining)
    with _models_lock:
        if generation != _generation:
            return model
    _hold(version.space_id, version, model)
    _remember(version.pk, model)
    _warm_step(version, space, model.prepare_batches)
    return model


def _warm_step(version: ModelVersion, space: Space | None, step) -> None:
    if space is None:
        return
    try:
        step()
    except Exception:  # a warm-up must never keep a version from serving
        log.exception("warming version %s up failed", version.pk)


def announce(*, space_id: int, version_id: int) -> None:
    """Tell every web process that ``version_id`` is published (after the commit)."""
    notice = f"{space_id}:{version_id}"
    if not settings.REDIS_URL:
        # Watchers wake now, not at their next poll (~12 ms later on average); rung
        # before the cache is written, which they need only if the ring is lost.
        doorbell.ring(doorbells(), notice.encode())
    try:
        cache.set(notice_key(space_id), version_id, timeout=None)
        cache.set(LATEST_KEY, version_id, timeout=None)  # after the space's key: see above
    except Exception:  # the request path still finds the version in the database
        log.exception("announcing version %s in the cache failed", version_id)
    if settings.REDIS_URL:
        try:
            _redis().publish(CHANNEL, notice)
        except Exception:
            log.exception("announcing version %s on Redis failed", version_id)


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


class Watcher:
    """One thread per process: loads announced and wanted versions of the spaces it holds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wanted: dict[int, int] = {}  # space id -> version id
        self._notices: dict[int, int] = {}  # the last notice read per space
        self._latest: object = None  # LATEST_KEY when the spaces' keys were last read
        self._polls = 0
        self._wake = threading.Event()
        self._bell: doorbell.Doorbell | None = None  # without Redis: rung by ``announce``
        self._pid: int | None = None

    def start(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():  # a forked child starts its own
                return
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="mola-serving-watcher", daemon=True).start()

    def want(self, space_id: int, version_id: int) -> None:
        self._put(space_id, version_id)
        self._wake.set()
        bell = self._bell
        if bell is not None:
            bell.wake()

    def _put(self, space_id: int, version_id: int) -> None:
        """Load ``version_id`` next (the watcher's own thread: no wake-up needed)."""
        with self._lock:
            self._wanted[space_id] = version_id

    def _run(self) -> None:
        subscription = None
        if not settings.REDIS_URL:
            self._bell = doorbell.listen(doorbells())  # None: the watcher polls alone
        while True:
            try:
                if settings.REDIS_URL and subscription is None:
                    subscription = _redis().pubsub(ignore_subscribe_messages=True)
                    subscription.subscribe(CHANNEL)
                self._wait(subscription)
                self._load_announced()
            except Exception:
                log.exception("the serving watcher failed; trying again")
                subscription = None
                time.sleep(1)
            finally:
                close_old_connections()

    def _wait(self, subscription) -> None:
        poll = settings.SERVING_POLL_SECONDS
        notices = []
        if subscription is not None:  # a notice wakes it at once; the keys are read less
            message = subscription.get_message(timeout=poll * 10)
            notices = [message["data"]] if message is not None else []
        elif self._bell is not None:  # a ring wakes it at once; the keys are still polled
            notices = self._bell.wait(poll)
        else:
            self._wake.wait(poll)
        for notice in notices:
            if notice:  # a wake-up (``want``) has no notice
                space_id, version_id = (int(x) for x in notice.split(b":"))
                if space_id in _held:
                    recheck(space_id)
                    self._put(space_id, version_id)
        self._wake.clear()

    def _load_announced(self) -> None:
        spaces = _held.keys()
        if spaces and self._news():
            notices = cache.get_many([notice_key(s) for s in spaces])
            for space_id in spaces:
                announced = notices.get(notice_key(space_id))
                if isinstance(announced, int) and self._notices.get(space_id) != announced:
                    self._notices[space_id] = announced
                    recheck(space_id)
                    if _loaded(announced) is None:
                        self._put(space_id, announced)
        with self._lock:
            wanted, self._wanted = self._wanted, {}
        for space_id, version_id in wanted.items():
            self._load(space_id, version_id)
        if wanted:
            connection.close()

    def _news(self) -> bool:
        """Should the spaces' notices be read now: did ``LATEST_KEY`` move, or is a full
        read due?"""
        self._polls += 1
        latest = cache.get(LATEST_KEY)
        if latest != self._latest or self._polls >= FULL_READ_EVERY:
            self._latest, self._polls = latest, 0
            return True
        return False

    def _load(self, space_id: int, version_id: int) -> None:
        version = (
            ModelVersion.objects.filter(pk=version_id, space_id=space_id, status=ModelStatus.READY)
            .only(*SERVING_FIELDS)
            .first()
        )
        held = _held.peek(space_id)
        if version is None or (held and held.order >= (version.teaching_revision, version.version)):
            return
        warm(Space.objects.filter(pk=space_id).first(), version)


_watcher = Watcher()
