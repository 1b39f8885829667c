"""Contradictions and the rule preview."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from consensus import selectors
from consensus.preview import rule_preview
from mola.api.pagination import Pagination
from mola.engine.consensus import KINDS
from teaching import selectors as teaching_selectors
from teaching.services.access import check_member, check_reader


class DescribedRefSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    author = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    words = serializers.CharField()


class ContradictionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_words = serializers.CharField()
    teachings = DescribedRefSerializer(many=True)
    witness = serializers.DictField()
    region = serializers.CharField()
    evidence = serializers.DictField()
    severity = serializers.FloatField()
    thread = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    note = serializers.CharField()
    summary = serializers.CharField()
    expected = serializers.BooleanField()
    checked_revision = serializers.IntegerField()
    close_note = serializers.CharField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


_FILTER_PARAMETERS = [
    OpenApiParameter("status", str, description="open (default), resolved, dismissed or all"),
    OpenApiParameter("kind", str, description=", ".join(KINDS)),
    OpenApiParameter("teaching", str, description="type:id, e.g. rule:12"),
    OpenApiParameter("member", str, description="username of an author of either teaching"),
    OpenApiParameter("min_severity", float),
    OpenApiParameter("has_thread", bool),
]


class ContradictionListApi(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=_FILTER_PARAMETERS,
        responses={200: ContradictionOutputSerializer(many=True)},
    )
    def get(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        filters = selectors.contradiction_filters(space=space, params=request.query_params)
        queryset = selectors.contradiction_list(space=space, filters=filters)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        described = selectors.contradictions_described(space=space, rows=page)
        return paginator.get_paginated_response(
            ContradictionOutputSerializer(described, many=True).data
        )


class ContradictionGroupSerializer(serializers.Serializer):
    teaching = serializers.CharField()
    count = serializers.IntegerField()
    max_severity = serializers.FloatField()


class ContradictionByTeachingApi(APIView):
    """The filtered list grouped by teaching (an addition to the contract)."""

    pagination_class = Pagination

    @extend_schema(
        parameters=_FILTER_PARAMETERS,
        responses={200: ContradictionGroupSerializer(many=True)},
    )
    def get(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        filters = selectors.contradiction_filters(space=space, params=request.query_params)
        groups = selectors.contradictions_by_teaching(space=space, filters=filters)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(groups, request, view=self)
        return paginator.get_paginated_response(ContradictionGroupSerializer(page, many=True).data)


class RulePreviewApi(APIView):
    class InputSerializer(serializers.Serializer):
        condition = serializers.CharField(max_length=200_000, trim_whitespace=False)
        label = serializers.CharField(max_length=64)

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        check_member(space=space, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(rule_preview(space=space, **data.validated_data).as_dict())
