"""Contradictions and the rule preview."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from consensus import selectors
from consensus.preview import rule_preview
from mola.api.pagination import Pagination
from teaching import selectors as teaching_selectors
from teaching.services.access import check_member


class ContradictionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    teachings = serializers.ListField(child=serializers.DictField())
    witness = serializers.DictField()
    region = serializers.CharField()
    evidence = serializers.DictField()
    severity = serializers.FloatField()
    thread = serializers.IntegerField(source="thread_id", allow_null=True)
    status = serializers.CharField()
    note = serializers.CharField()
    summary = serializers.CharField()
    expected = serializers.BooleanField()
    checked_revision = serializers.IntegerField()
    close_note = serializers.CharField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class ContradictionListApi(APIView):
    @extend_schema(responses={200: ContradictionOutputSerializer(many=True)})
    def get(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        queryset = selectors.contradiction_list(
            space=space,
            status=request.query_params.get("status"),
            kind=request.query_params.get("kind"),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(ContradictionOutputSerializer(page, many=True).data)


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
        return Response(rule_preview(space=space, **data.validated_data))
