"""Cases and practice: the pool, its coverage, and the queue of cases worth an answer."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors
from cases.formats import rows_from_csv, rows_from_ndjson
from cases.services import coverage as coverage_service
from cases.services import pool as pool_service
from cases.services import practice as practice_service
from mola.api.pagination import Pagination
from mola.api.parsers import JSONBodyParser
from mola.errors import InvalidInput, TooLarge
from teaching import selectors as teaching_selectors
from teaching.api.serializers import OUTPUT_SERIALIZERS
from teaching.api.throttles import TeachingWriteThrottle
from teaching.services.access import check_member

MAX_BODY = 128 * 1024 * 1024


def _read_body(stream) -> bytes:
    """The request body, read from the stream: Django's 2.5 MB cap on ``request.body``
    would refuse an import the API allows (100,000 cases)."""
    raw = stream.read(MAX_BODY + 1) if stream is not None else b""
    if len(raw) > MAX_BODY:
        raise TooLarge(f"An import is at most {MAX_BODY // 2**20} MB.", code="too_large")
    return raw


class CasesJsonParser(JSONBodyParser):
    """``{"cases": [...]}``: the API's JSON parser (depth, integer range and text checked)
    with an import's larger size limit."""

    max_body = MAX_BODY


class CasesNdjsonParser(BaseParser):
    """One case per line: ``application/x-ndjson`` (or ``application/jsonl``)."""

    media_type = "application/x-ndjson"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"cases": rows_from_ndjson(_read_body(stream))}  # each line checked as JSON


class CasesJsonlParser(CasesNdjsonParser):
    media_type = "application/jsonl"


class CasesCsvParser(BaseParser):
    """``text/csv`` with a header row of feature names; the raw bytes are typed by the
    space's schema in the view."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"csv": _read_body(stream)}


def space_for_member(request, slug: str):
    space = teaching_selectors.space_get(slug=slug)
    check_member(space=space, user=request.user)
    return space


class AnswerSerializer(serializers.Serializer):
    example = serializers.IntegerField(source="answer_id")
    label = serializers.CharField(source="answer.label")
    answered_at = serializers.DateTimeField()


class CaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    features = serializers.DictField()
    source = serializers.CharField()
    created_at = serializers.DateTimeField()
    answer = serializers.SerializerMethodField()

    def get_answer(self, case) -> dict | None:
        if case.answer_id is None:
            return None
        return AnswerSerializer(case).data


class ImportOutputSerializer(serializers.Serializer):
    imported = serializers.IntegerField()
    total = serializers.IntegerField()


class DeleteOutputSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
    total = serializers.IntegerField()


class CaseListApi(APIView):
    pagination_class = Pagination
    parser_classes = [CasesJsonParser, CasesNdjsonParser, CasesJsonlParser, CasesCsvParser]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "where", str, description="Only cases this condition holds for (rule syntax)."
            )
        ],
        responses={200: CaseOutputSerializer(many=True)},
    )
    def get(self, request, slug: str):
        space = space_for_member(request, slug)
        pool_service.pool_sample_traffic(space=space)
        cases = selectors.case_list(space=space, where=request.query_params.get("where"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(cases, request, view=self)
        return paginator.get_paginated_response(CaseOutputSerializer(page, many=True).data)

    @extend_schema(
        request={
            "application/json": OpenApiTypes.OBJECT,
            "application/x-ndjson": OpenApiTypes.STR,
            "text/csv": OpenApiTypes.STR,
        },
        responses={201: ImportOutputSerializer},
    )
    def post(self, request, slug: str):
        space = space_for_member(request, slug)
        body = request.data if isinstance(request.data, dict) else {}
        rows = rows_from_csv(body["csv"], space.schema) if "csv" in body else body.get("cases")
        result = pool_service.cases_import(space=space, user=request.user, rows=rows)
        return Response(result, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "where", str, required=True, description='The cases to delete ("true": all).'
            )
        ],
        responses={200: DeleteOutputSerializer},
        operation_id="v1_spaces_cases_delete_where",
    )
    def delete(self, request, slug: str):
        space = space_for_member(request, slug)
        where = request.query_params.get("where", "").strip()
        if not where:
            raise InvalidInput(
                'Say which cases to delete with ?where= ("true" deletes them all).',
                code="required",
                field="where",
            )
        cases = selectors.case_list(space=space, where=where)
        ids = cases.ids if isinstance(cases, selectors.CaseList) else []
        return Response(pool_service.cases_delete_where(space=space, user=request.user, ids=ids))


class CaseDetailOutputSerializer(CaseOutputSerializer):
    model = serializers.DictField(
        allow_null=True,
        help_text="The serving model's answer on the case: version, teaching_revision, "
        "label, probabilities, explanation (null before a model exists).",
    )


class CaseDetailApi(APIView):
    @extend_schema(responses={200: CaseDetailOutputSerializer})
    def get(self, request, slug: str, case_id: int):
        space = space_for_member(request, slug)
        case = selectors.case_get(space=space, case_id=case_id)
        model = practice_service.case_model_answer(space=space, case=case)
        return Response({**CaseOutputSerializer(case).data, "model": model})

    @extend_schema(responses={204: None})
    def delete(self, request, slug: str, case_id: int):
        space = teaching_selectors.space_get(slug=slug)
        pool_service.case_delete(space=space, user=request.user, case_id=case_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CoverageApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, slug: str):
        space = space_for_member(request, slug)
        pool_service.pool_sample_traffic(space=space)
        return Response(coverage_service.pool_coverage(space=space))


class PracticeItemSerializer(serializers.Serializer):
    case = serializers.DictField(help_text="{id, features}")
    reason = serializers.ChoiceField(
        choices=["uncertain", "conflict", "uncovered", "experts_disagree"]
    )
    score = serializers.FloatField(help_text="How much an answer may teach, higher first.")
    difficulty = serializers.FloatField()
    model = serializers.DictField(
        help_text="{version, teaching_revision, label, probabilities, explanation}"
    )


class PracticeApi(APIView):
    class QuerySerializer(serializers.Serializer):
        limit = serializers.IntegerField(
            min_value=1, max_value=100, default=10, help_text="Items, 1 to 100 (10)."
        )

    @extend_schema(parameters=[QuerySerializer], responses={200: PracticeItemSerializer(many=True)})
    def get(self, request, slug: str):
        space = space_for_member(request, slug)
        pool_service.pool_sample_traffic(space=space)
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        queue = practice_service.practice_queue(space=space, user=request.user, limit=limit)
        return Response(queue)


class PracticeAnswerApi(APIView):
    throttle_classes = [TeachingWriteThrottle]

    class InputSerializer(serializers.Serializer):
        label = serializers.CharField(max_length=64)
        note = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    @extend_schema(request=InputSerializer, responses={201: OUTPUT_SERIALIZERS["example"]})
    def post(self, request, slug: str, case_id: int):
        space = teaching_selectors.space_get(slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        example, revision = practice_service.practice_answer(
            space=space, user=request.user, case_id=case_id, **data.validated_data
        )
        body = {
            **OUTPUT_SERIALIZERS["example"](example).data,
            "teaching_revision": revision,
            "case": case_id,
        }
        return Response(body, status=status.HTTP_201_CREATED)
