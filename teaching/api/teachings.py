"""Concepts, rules and examples: one set of views serves all three kinds.

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
from teaching.services import common, concepts, examples, history, rules, trust
from teaching.services.common import teaching_get

CREATE = {
    "concept": concepts.concept_create,
    "rule": rules.rule_create,
    "example": examples.example_create,
}


def _update(kind: str, *, space, user, teaching_id: int, **changes):
    """Run the kind's update service; returns (teaching, revision, extra response fields)."""
    if kind == "concept":
        concept, revision, dependents = concepts.concept_update(
            space=space, user=user, concept_id=teaching_id, **changes
        )
        return concept, revision, {"dependents": dependents}
    if kind == "rule":
        rule, revision = rules.rule_update(space=space, user=user, rule_id=teaching_id, **changes)
        return rule, revision, {}
    example, revision = examples.example_update(
        space=space, user=user, example_id=teaching_id, **changes
    )
    return example, revision, {}


def written(kind: str, teaching, revision: int, code: int = 200, **extra: Any) -> Response:
    body = {**OUTPUT_SERIALIZERS[kind](teaching).data, "teaching_revision": revision, **extra}
    return Response(body, status=code)


class TeachingListApi(APIView):
    kind = ""
    throttle_classes = [TeachingWriteThrottle]

    def get(self, request, slug: str):
        space = selectors.space_get(slug=slug)
        queryset = selectors.teaching_list(
            space=space, kind=self.kind, filters=request.query_params
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(OUTPUT_SERIALIZERS[self.kind](page, many=True).data)

    def post(self, request, slug: str):
        space = selectors.space_get(slug=slug)
        if self.kind == "example" and isinstance(request.data, dict) and "examples" in request.data:
            return self._batch(request, space)
        data = INPUT_SERIALIZERS[self.kind](data=request.data)
        data.is_valid(raise_exception=True)
        teaching, revision = CREATE[self.kind](
            space=space, user=request.user, **data.validated_data
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
        teaching = teaching_get(space=space, kind=self.kind, teaching_id=teaching_id)
        return Response(OUTPUT_SERIALIZERS[self.kind](teaching).data)

    def patch(self, request, slug: str, teaching_id: int):
        space = selectors.space_get(slug=slug)
        data = INPUT_SERIALIZERS[self.kind](data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        teaching, revision, extra = _update(
            self.kind,
            space=space,
            user=request.user,
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
    """Endorse (``review = trust.teaching_endorse``) or reject a proposed teaching."""

    kind = ""
    review = staticmethod(trust.teaching_endorse)

    @extend_schema(request=ReviewInputSerializer)
    def post(self, request, slug: str, teaching_id: int):
        space = selectors.space_get(slug=slug)
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
    kind = ""

    @extend_schema(responses={200: RevisionOutputSerializer(many=True)})
    def get(self, request, slug: str, teaching_id: int):
        space = selectors.space_get(slug=slug)
        teaching_get(space=space, kind=self.kind, teaching_id=teaching_id)
        revisions = selectors.teaching_history(space=space, kind=self.kind, teaching_id=teaching_id)
        paginator = Pagination()
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


def views_for(kind: str) -> dict[str, type[APIView]]:
    """One subclass per kind and endpoint, so the OpenAPI schema shows each kind's shapes."""
    out, inp = OUTPUT_SERIALIZERS[kind], INPUT_SERIALIZERS[kind]
    title = kind.capitalize()
    docs = {
        "list": (
            TeachingListApi,
            {
                "get": extend_schema(operation_id=f"{kind}_list", responses={200: out(many=True)}),
                "post": extend_schema(
                    operation_id=f"{kind}_create", request=inp, responses={201: out}
                ),
            },
        ),
        "detail": (
            TeachingDetailApi,
            {
                "get": extend_schema(operation_id=f"{kind}_read", responses={200: out}),
                "patch": extend_schema(
                    operation_id=f"{kind}_update", request=inp, responses={200: out}
                ),
                "delete": extend_schema(operation_id=f"{kind}_retire", responses={200: out}),
            },
        ),
        "endorse": (
            TeachingEndorseApi,
            {
                "post": extend_schema(
                    operation_id=f"{kind}_endorse",
                    request=ReviewInputSerializer,
                    responses={200: out},
                )
            },
        ),
        "reject": (
            TeachingRejectApi,
            {
                "post": extend_schema(
                    operation_id=f"{kind}_reject",
                    request=ReviewInputSerializer,
                    responses={200: out},
                )
            },
        ),
        "history": (
            TeachingHistoryApi,
            {
                "get": extend_schema(
                    operation_id=f"{kind}_history",
                    responses={200: RevisionOutputSerializer(many=True)},
                )
            },
        ),
        "revert": (
            TeachingRevertApi,
            {
                "post": extend_schema(
                    operation_id=f"{kind}_revert",
                    request=TeachingRevertApi.InputSerializer,
                    responses={200: out},
                )
            },
        ),
    }
    views = {}
    for name, (base, methods) in docs.items():
        view = type(f"{title}{base.__name__}", (base,), {"kind": kind})
        views[name] = extend_schema_view(**methods)(view)
    return views
