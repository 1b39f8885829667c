"""The examples API: ``/api/v1/spaces/{slug}/examples`` and one example's endpoints (the shared
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


@list_schema("example")
class ExampleListApi(TeachingListApi):
    kind = "example"


@detail_schema("example")
class ExampleDetailApi(TeachingDetailApi):
    kind = "example"


@review_schema("example", "endorse")
class ExampleEndorseApi(TeachingEndorseApi):
    kind = "example"


@review_schema("example", "reject")
class ExampleRejectApi(TeachingRejectApi):
    kind = "example"


@history_schema("example")
class ExampleHistoryApi(TeachingHistoryApi):
    kind = "example"


@revert_schema("example")
class ExampleRevertApi(TeachingRevertApi):
    kind = "example"
