"""Concepts, rules and examples: the views all three kinds share, and their OpenAPI
descriptions. Each kind's views are small subclasses naming the kind, in
``teaching/api/concepts.py``, ``rules.py`` and ``examples.py``.

Each view: fetch the space, validate the body's shape, call one service, return the
teaching with the space's new ``teaching_revision``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from mola.api.pagination import Pagination
from mola.errors import InvalidInput
from teaching import selectors
from teaching.api.serializers import (
    INPUT_SERIALIZERS,
    OUTPUT_SERIALIZERS,
    ExampleBatchInputSerializer,
    RevisionOutputSerializer,
)
from teaching.api.throttles import TeachingWriteThrottle
from teaching.services import common, examples, history, trust
from teaching.services.access import (
    check_can_edit,
    check_member,
    check_moderator,
    check_reader,
    check_trusted,
)
from teaching.services.common import teaching_get
from teaching.services.teachings import teaching_create, teaching_update


def written(kind: str, teaching, revision: int, code: int = 200, **extra: Any) -> Response:
    body = {**OUTPUT_SERIALIZERS[kind](teaching).data, "teaching_revision": revision, **extra}
    return Response(body, status=code)


class TeachingListApi(APIView):
    pagination_class = Pagination
    kind = ""
    throttle_classes = [TeachingWriteThrottle]

    def get(self, request, slug: str):
        space = selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        queryset = selectors.teaching_list(
            space=space, kind=self.kind, filters=request.query_params
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(OUTPUT_SERIALIZERS[self.kind](page, many=True).data)

    def post(self, request, slug: str):
        space = selectors.space_get(slug=slug)
        check_member(space=space, user=request.user)
        if self.kind == "example" and isinstance(request.data, dict) and "examples" in request.data:
            return self._batch(request, space)
        data = INPUT_SERIALIZERS[self.kind](data=request.data)
        data.is_valid(raise_exception=True)
        teaching, revision = teaching_create(
            space=space, user=request.user, kind=self.kind, **data.validated_data
        )
        return written(self.kind, teaching, revision, status.HTTP_201_CREATED)

    def _batch(self, request, space) -> Response:
        batch = ExampleBatchInputSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        items, problems = [], []
        for index, item in enumerate(batch.validated_data["examples"]):
            one = INPUT_SERIALIZERS["example"](data=item)
            if one.is_valid():
                items.append(dict(one.validated_data))
            else:
                problems.extend(
                    {
                        "field": f"examples.{index}.{field}",
                        "code": str(errors[0].code),
                        "message": str(errors[0]),
                    }
                    for field, errors in one.errors.items()
                )
        if problems:
            raise InvalidInput(problems=problems)
        created, revision = examples.examples_create(space=space, user=request.user, items=items)
        body = {
            "examples": OUTPUT_SERIALIZERS["example"](created, many=True).data,
            "teaching_revision": revision,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class TeachingDetailApi(APIView):
    kind = ""
    throttle_classes = [TeachingWriteThrottle]

    def get(self, request, slug: str, teaching_id: int):
        space = selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        teaching = teaching_get(space=space, kind=self.kind, teaching_id=teaching_id)
        return Response(OUTPUT_SERIALIZERS[self.kind](teaching).data)

    def patch(self, request, slug: str, teaching_id: int):
        space = selectors.space_get(slug=slug)
        check_can_edit(
            teaching=teaching_get(space=space, kind=self.kind, teaching_id=teaching_id),
            user=request.user,
        )
        data = INPUT_SERIALIZERS[self.kind](data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        teaching, revision, extra = teaching_update(
            space=space,
            user=request.user,
            kind=self.kind,
            teaching_id=teaching_id,
            **data.validated_data,
        )
        return written(self.kind, teaching, revision, **extra)

    def delete(self, request, slug: str, teaching_id: int):
        space = selectors.space_get(slug=slug)
        teaching, revision = common.teaching_retire(
            space=space, kind=self.kind, teaching_id=teaching_id, user=request.user
        )
        return written(self.kind, teaching, revision)


class ReviewInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TeachingReviewApi(APIView):
    """A trusted member (expert, master, moderator) endorses or rejects a proposed teaching."""

    kind = ""
    review = staticmethod(trust.teaching_endorse)

    @extend_schema(request=ReviewInputSerializer)
    def post(self, request, slug: str, teaching_id: int):
        space = selectors.space_get(slug=slug)
        check_trusted(space=space, user=request.user)
        data = ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        teaching, revision = self.review(
            space=space,
            kind=self.kind,
            teaching_id=teaching_id,
            user=request.user,
            **data.validated_data,
        )
        return written(self.kind, teaching, revision)


class TeachingEndorseApi(TeachingReviewApi):
    review = staticmethod(trust.teaching_endorse)


class TeachingRejectApi(TeachingReviewApi):
    review = staticmethod(trust.teaching_reject)


class TeachingHistoryApi(APIView):
    pagination_class = Pagination
    kind = ""

    @extend_schema(responses={200: RevisionOutputSerializer(many=True)})
    def get(self, request, slug: str, teaching_id: int):
        space = selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        teaching_get(space=space, kind=self.kind, teaching_id=teaching_id)
        revisions = selectors.teaching_history(space=space, kind=self.kind, teaching_id=teaching_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(revisions, request, view=self)
        return paginator.get_paginated_response(RevisionOutputSerializer(page, many=True).data)


class TeachingRevertApi(APIView):
    kind = ""
    throttle_classes = [TeachingWriteThrottle]

    class InputSerializer(serializers.Serializer):
        revision = serializers.IntegerField(min_value=1)

    @extend_schema(request=InputSerializer)
    def post(self, request, slug: str, teaching_id: int):
        space = selectors.space_get(slug=slug)
        check_can_edit(
            teaching=teaching_get(space=space, kind=self.kind, teaching_id=teaching_id),
            user=request.user,
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        teaching, revision = history.teaching_revert(
            space=space,
            kind=self.kind,
            teaching_id=teaching_id,
            user=request.user,
            revision=data.validated_data["revision"],
        )
        return written(self.kind, teaching, revision)


class MemberRollbackApi(APIView):
    class InputSerializer(serializers.Serializer):
        since = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, slug: str, username: str):
        space = selectors.space_get(slug=slug)
        check_moderator(space=space, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        touched, revision = history.member_rollback(
            space=space,
            user=request.user,
            username=username,
            since=data.validated_data.get("since"),
        )
        return Response(
            {
                "reverted": [{"type": t.kind, "id": t.pk} for t in touched],
                "teaching_revision": revision if revision is not None else space.teaching_revision,
            }
        )


# The OpenAPI description of each kind's views (``teaching/api/{concepts,rules,examples}.py``
# apply them): the kind's own serializers and operation ids.


def list_schema(kind: str):
    out, inp = OUTPUT_SERIALIZERS[kind], INPUT_SERIALIZERS[kind]
    return extend_schema_view(
        get=extend_schema(operation_id=f"{kind}_list", responses={200: out(many=True)}),
        post=extend_schema(operation_id=f"{kind}_create", request=inp, responses={201: out}),
    )


def detail_schema(kind: str):
    out, inp = OUTPUT_SERIALIZERS[kind], INPUT_SERIALIZERS[kind]
    return extend_schema_view(
        get=extend_schema(operation_id=f"{kind}_read", responses={200: out}),
        patch=extend_schema(operation_id=f"{kind}_update", request=inp, responses={200: out}),
        delete=extend_schema(operation_id=f"{kind}_retire", responses={200: out}),
    )


def review_schema(kind: str, verb: str):
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"{kind}_{verb}",
            request=ReviewInputSerializer,
            responses={200: OUTPUT_SERIALIZERS[kind]},
        )
    )


def history_schema(kind: str):
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"{kind}_history", responses={200: RevisionOutputSerializer(many=True)}
        )
    )


def revert_schema(kind: str):
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"{kind}_revert",
            request=TeachingRevertApi.InputSerializer,
            responses={200: OUTPUT_SERIALIZERS[kind]},
        )
    )
