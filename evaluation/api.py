"""Evaluation and change: cases and labels, agreement, a version's changes, publishing a held
version, and what changed since a member's last visit."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from evaluation import selectors
from evaluation.services import cases as case_services
from evaluation.services.visits import since_last_visit
from mola.api.pagination import Pagination
from teaching import selectors as teaching_selectors
from teaching.api.model import VersionOutputSerializer, space_for_reader
from teaching.services.access import check_reader
from teaching.services.versions import version_publish_held


class EvaluationCaseInputSerializer(serializers.Serializer):
    features = serializers.JSONField()
    label = serializers.JSONField()


class CaseLabelInputSerializer(serializers.Serializer):
    label = serializers.JSONField()


class MemberLabelSerializer(serializers.Serializer):
    username = serializers.CharField()
    label = serializers.CharField()


class EvaluationCaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    features = serializers.DictField()
    status = serializers.ChoiceField(choices=list(selectors.STATUSES))
    label = serializers.CharField(required=False, help_text="The agreed label (agreed cases).")
    labels = MemberLabelSerializer(
        many=True, required=False, help_text="Every member's label, once you have answered."
    )
    shares = serializers.DictField(required=False, help_text="Share of the weight per label.")
    answered = serializers.BooleanField()
    my_label = serializers.CharField(allow_null=True)
    settled = serializers.BooleanField()
    contradiction = serializers.IntegerField(allow_null=True)


def _body(request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


class EvaluationCaseListApi(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=[OpenApiParameter("status", str, description=", ".join(selectors.STATUSES))],
        responses={200: EvaluationCaseOutputSerializer(many=True)},
    )
    def get(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        cases = selectors.cases_list(
            space=space, user=request.user, status=request.query_params.get("status")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(cases, request, view=self)
        items = selectors.case_items(cases=list(page), user=request.user)
        return paginator.get_paginated_response(
            EvaluationCaseOutputSerializer(items, many=True).data
        )

    @extend_schema(
        request=EvaluationCaseInputSerializer, responses={201: EvaluationCaseOutputSerializer}
    )
    def post(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        body = _body(request)
        case = case_services.case_propose(
            space=space, user=request.user, features=body.get("features"), label=body.get("label")
        )
        (item,) = selectors.case_items(cases=[case], user=request.user)
        return Response(EvaluationCaseOutputSerializer(item).data, status=status.HTTP_201_CREATED)


class CaseLabelApi(APIView):
    @extend_schema(
        request=CaseLabelInputSerializer, responses={201: EvaluationCaseOutputSerializer}
    )
    def post(self, request, case_id: int):
        case = case_services.case_get(case_id=case_id)
        case, created = case_services.case_label(
            case=case, user=request.user, label=_body(request).get("label")
        )
        (item,) = selectors.case_items(cases=[case], user=request.user)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(EvaluationCaseOutputSerializer(item).data, status=code)


class AgreementApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        return Response(selectors.agreement(space=space, user=request.user))


class VersionChangesApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, slug: str, version: int):
        space = space_for_reader(request, slug)
        found = teaching_selectors.version_get(space=space, version=version)
        return Response(selectors.version_changes(version=found))


class VersionPublishApi(APIView):
    @extend_schema(request=None, responses={200: VersionOutputSerializer})
    def post(self, request, slug: str, version: int):
        space = teaching_selectors.space_get(slug=slug)
        published = version_publish_held(space=space, user=request.user, version=version)
        return Response(VersionOutputSerializer(published).data)


class SinceLastVisitApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("mark", bool, description="false: look without marking")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        mark = request.query_params.get("mark", "true") != "false"
        return Response(since_last_visit(space=space, user=request.user, mark=mark))
