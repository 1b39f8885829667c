"""The rules API: ``/api/v1/spaces/{slug}/rules`` and one rule's endpoints (the shared
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


@list_schema("rule")
class RuleListApi(TeachingListApi):
    kind = "rule"


@detail_schema("rule")
class RuleDetailApi(TeachingDetailApi):
    kind = "rule"


@review_schema("rule", "endorse")
class RuleEndorseApi(TeachingEndorseApi):
    kind = "rule"


@review_schema("rule", "reject")
class RuleRejectApi(TeachingRejectApi):
    kind = "rule"


@history_schema("rule")
class RuleHistoryApi(TeachingHistoryApi):
    kind = "rule"


@revert_schema("rule")
class RuleRevertApi(TeachingRevertApi):
    kind = "rule"
