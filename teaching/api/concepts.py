"""The concepts API: ``/api/v1/spaces/{slug}/concepts`` and one concept's endpoints (the shared
views are in ``teaching/api/teachings.py``)."""

from __future__ import annotations

from teaching.api.teachings import (
    TeachingDetailApi,
    TeachingEndorseApi,
    TeachingHistoryApi,
    TeachingListApi,
    TeachingRejectApi,
    TeachingRevertApi,
    detail_schema,
    history_schema,
    list_schema,
    revert_schema,
    review_schema,
)


@list_schema("concept")
class ConceptListApi(TeachingListApi):
    kind = "concept"


@detail_schema("concept")
class ConceptDetailApi(TeachingDetailApi):
    kind = "concept"


@review_schema("concept", "endorse")
class ConceptEndorseApi(TeachingEndorseApi):
    kind = "concept"


@review_schema("concept", "reject")
class ConceptRejectApi(TeachingRejectApi):
    kind = "concept"


@history_schema("concept")
class ConceptHistoryApi(TeachingHistoryApi):
    kind = "concept"


@revert_schema("concept")
class ConceptRevertApi(TeachingRevertApi):
    kind = "concept"
