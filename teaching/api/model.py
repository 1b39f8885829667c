"""The taught model: its status, its versions, and predictions for clients."""

from __future__ import annotations

import io

import orjson
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from mola.api.auth import IsUserOrApiClient, is_api_client
from mola.api.pagination import Pagination
from mola.errors import InvalidInput, NotAllowed, TooLarge
from teaching import selectors
from teaching.services import predict as predict_service
from teaching.services.access import check_member


def space_for_reader(request, slug: str):
    """The space, if the caller is one of its members or holds one of its keys."""
    space = selectors.space_get(slug=slug)
    if is_api_client(request.user):
        if request.user.space_id != space.pk:
            raise NotAllowed("This API key belongs to another space.", code="wrong_space")
    else:
        check_member(space=space, user=request.user)
    return space


class VersionOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()
    teaching_revision = serializers.IntegerField()
    trained_at = serializers.DateTimeField()
    training_seconds = serializers.FloatField()
    metrics = serializers.DictField()
    timings = serializers.DictField()
    contributors = serializers.ListField(child=serializers.CharField())
    teachings = serializers.DictField()
    error = serializers.CharField()
    held_because = serializers.CharField(help_text="Why a held version was not published.")


class ModelStatusSerializer(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=["ready", "training", "untrained", "failed"])
    teaching_revision = serializers.IntegerField(allow_null=True)
    latest_teaching_revision = serializers.IntegerField()
    trained_at = serializers.DateTimeField(allow_null=True)
    training_seconds = serializers.FloatField(allow_null=True)
    metrics = serializers.DictField()
    contributors = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField()


class ModelApi(APIView):
    permission_classes = [IsUserOrApiClient]

    @extend_schema(responses={200: ModelStatusSerializer})
    def get(self, request, slug: str):
        space = space_for_reader(request, slug)
        return Response(selectors.model_status(space=space))


class VersionListApi(APIView):
    permission_classes = [IsUserOrApiClient]

    @extend_schema(responses={200: VersionOutputSerializer(many=True)})
    def get(self, request, slug: str):
        space = space_for_reader(request, slug)
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.version_list(space=space), request, view=self)
        return paginator.get_paginated_response(VersionOutputSerializer(page, many=True).data)


class VersionDetailApi(APIView):
    permission_classes = [IsUserOrApiClient]

    @extend_schema(responses={200: VersionOutputSerializer})
    def get(self, request, slug: str, version: int):
        space = space_for_reader(request, slug)
        found = selectors.version_get(space=space, version=version)
        return Response(VersionOutputSerializer(found).data)


class PredictBodyParser(BaseParser):
    """JSON bodies up to ``MAX_BODY`` bytes: 10,000 instances of a wide schema are several MB.

    DRF parses JSON through ``request.body``, which Django caps at
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB by default): a batch the API allows would be
    refused. Not a ``JSONParser`` subclass, so DRF hands it the request stream itself.
    Parsed by orjson (10,000 instances: ~10 ms, the standard library ~40 ms); what orjson
    refuses but Python's json reads (NaN, integers past 64 bits) goes to DRF's parser, so
    such values still get their per-field 400 and malformed JSON its usual parse error.
    """

    media_type = "application/json"
    MAX_BODY = 64 * 1024 * 1024

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(self.MAX_BODY + 1) if stream is not None else b""
        if len(raw) > self.MAX_BODY:
            raise TooLarge(
                f"A prediction request is at most {self.MAX_BODY // 2**20} MB.", code="too_large"
            )
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return JSONParser().parse(io.BytesIO(raw), media_type, parser_context)


class PredictRenderer(JSONRenderer):
    """JSON through orjson: 10,000 explained predictions are ~90 MB of JSON, ~0.9 s of CPU
    for the standard library's encoder and ~0.1 s for orjson. Anything orjson does not
    know (a lazy translation in an error) goes through DRF's encoder as before."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        try:
            return orjson.dumps(data)
        except TypeError:
            return super().render(data, accepted_media_type, renderer_context)


class RuleReasonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    author = serializers.CharField()
    reliability = serializers.FloatField()
    disputed = serializers.BooleanField()


class ExampleReasonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    distance = serializers.FloatField()
    disputed = serializers.BooleanField()


class ExplanationSerializer(serializers.Serializer):
    rules = RuleReasonSerializer(many=True, help_text="Rules that fired, most reliable first.")
    concepts = serializers.ListField(child=serializers.CharField())
    examples = ExampleReasonSerializer(many=True, help_text="The nearest teaching examples.")
    contributors = serializers.ListField(child=serializers.CharField())


class PredictionSerializer(serializers.Serializer):
    label = serializers.CharField()
    probabilities = serializers.DictField(child=serializers.FloatField())
    explanation = ExplanationSerializer(
        required=False, help_text='Absent when the request says `"explain": false`.'
    )


class PredictOutputSerializer(serializers.Serializer):
    model_version = serializers.IntegerField()
    teaching_revision = serializers.IntegerField()
    predictions = PredictionSerializer(many=True)


class PredictApi(APIView):
    permission_classes = [IsUserOrApiClient]
    parser_classes = [PredictBodyParser, FormParser, MultiPartParser]
    renderer_classes = [
        PredictRenderer,
        *(r for r in api_settings.DEFAULT_RENDERER_CLASSES if r is not JSONRenderer),
    ]

    class InputSerializer(serializers.Serializer):
        instances = serializers.ListField(child=serializers.JSONField())
        version = serializers.IntegerField(required=False, min_value=1)
        explain = serializers.BooleanField(
            required=False,
            default=True,
            help_text=(
                "false answers with label and probabilities only: no explanations to build "
                "or send (a 10,000-instance batch is ~90 MB with them, ~2 MB without), and "
                "no contributor credit, which counts explained predictions."
            ),
        )

    @extend_schema(request=InputSerializer, responses={200: PredictOutputSerializer})
    def post(self, request, slug: str):
        space = space_for_reader(request, slug)
        body = request.data if isinstance(request.data, dict) else {}
        version = body.get("version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise InvalidInput("version is a whole number.", code="invalid", field="version")
        explain = body.get("explain", True)
        if not isinstance(explain, bool):
            raise InvalidInput("explain is true or false.", code="invalid", field="explain")
        result = predict_service.predict(
            space=space, instances=body.get("instances"), version=version, explain=explain
        )
        return Response(result)
