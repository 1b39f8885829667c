"""The taught model: its status, its versions, and predictions for clients."""

from __future__ import annotations

import json

import orjson
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from mola.api.auth import IsUserOrApiClient, is_api_client
from mola.api.pagination import Pagination
from mola.api.parsers import JSONBodyParser, StrictFormParser, StrictMultiPartParser
from mola.engine import collector
from mola.engine.learning.explaining import COMPACT_RULES
from mola.errors import InvalidInput, NotAllowed
from teaching import selectors
from teaching.services import predict as predict_service
from teaching.services.access import check_member


def space_for_reader(request, slug: str):
    """The space, if the caller is one of its members or holds one of its keys."""
    if is_api_client(request.user):
        space = request.auth.space  # read with the key (SpaceApiKeyManager): no query
        if space.slug != slug:
            selectors.space_get(slug=slug)  # a space that does not exist is not found
            raise NotAllowed("This API key belongs to another space.", code="wrong_space")
        return space
    space = selectors.space_get(slug=slug)
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
    pagination_class = Pagination
    permission_classes = [IsUserOrApiClient]

    @extend_schema(responses={200: VersionOutputSerializer(many=True)})
    def get(self, request, slug: str):
        space = space_for_reader(request, slug)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.version_list(space=space), request, view=self)
        return paginator.get_paginated_response(VersionOutputSerializer(page, many=True).data)


class VersionDetailApi(APIView):
    permission_classes = [IsUserOrApiClient]

    @extend_schema(responses={200: VersionOutputSerializer})
    def get(self, request, slug: str, version: int):
        space = space_for_reader(request, slug)
        found = selectors.version_get(space=space, version=version)
        return Response(VersionOutputSerializer(found).data)


INSTANCES_PER_CALL = 10_000


def predict_body_limit(space) -> int:
    """Bytes a predict body of ``INSTANCES_PER_CALL`` instances of the space's schema needs:
    every feature's name (as an ASCII-escaping encoder writes it) and its longest value,
    with the separators' spaces, plus room for the envelope. A body past it is refused
    before it is read: 10,000 instances of the test schema take 1.4 MB, where any body up
    to 64 MB used to be read (a 20 MB one added ~100 MB to a web worker)."""
    per_instance = 2
    for feature in space.features:
        if feature["kind"] == "category":
            value = max((len(json.dumps(c)) for c in feature.get("choices") or [""]), default=2)
        elif feature["kind"] == "boolean":
            value = 5
        else:
            value = 24  # -1.2345678901234567e+300
        per_instance += len(json.dumps(feature["name"])) + 4 + value
    return INSTANCES_PER_CALL * per_instance + 64 * 1024


class PredictBodyParser(JSONBodyParser):
    """The predict view sets ``max_body`` to what its space's schema needs (see
    ``predict_body_limit``) before reading the body; this is the bound for any schema."""

    max_body = 64 * 1024 * 1024


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
    decides = serializers.BooleanField(
        help_text=(
            "The rule's vote raises the predicted label, and switching the rule off (its vote "
            "and the forest's use of it) lowers that label's probability."
        )
    )


class ExampleReasonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    distance = serializers.FloatField()
    disputed = serializers.BooleanField()


class ExplanationSerializer(serializers.Serializer):
    rules = RuleReasonSerializer(
        many=True,
        help_text=(
            "Rules that fired, most reliable first. Compact: only deciding rules (their vote "
            f"raises the predicted label), at most {COMPACT_RULES}, most reliable first."
        ),
    )
    concepts = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Absent when compact."
    )
    examples = ExampleReasonSerializer(
        many=True, help_text="The nearest teaching examples (compact: the nearest one)."
    )
    contributors = serializers.ListField(
        child=serializers.CharField(),
        help_text="Everyone whose teaching took part (compact: the people it names).",
    )
    deciding = serializers.IntegerField(
        required=False, help_text="Compact only: how many fired rules decide the prediction."
    )
    more_rules = serializers.IntegerField(
        required=False, help_text="Compact only: how many fired rules are not listed."
    )


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


# What a request's "explain" may be, and the service's mode for it.
EXPLAIN_MODES = {True: "full", "full": "full", "compact": "compact", False: "none"}


def _hashable(value):
    # 1 == True as a dict key: only real booleans and strings name a mode.
    return value if isinstance(value, (bool, str)) else None


@extend_schema_field(
    {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["full", "compact"]}]}
)
class ExplainField(serializers.JSONField):
    """true / false / "full" / "compact" (described as such in the OpenAPI schema)."""


class PredictApi(APIView):
    permission_classes = [IsUserOrApiClient]
    parser_classes = [PredictBodyParser, StrictFormParser, StrictMultiPartParser]
    renderer_classes = [
        PredictRenderer,
        *(r for r in api_settings.DEFAULT_RENDERER_CLASSES if r is not JSONRenderer),
    ]

    class InputSerializer(serializers.Serializer):
        instances = serializers.ListField(child=serializers.JSONField())
        version = serializers.IntegerField(required=False, min_value=1)
        explain = ExplainField(
            required=False,
            default=True,
            help_text=(
                'true or "full" (the default): every explanation in full. "compact": the '
                f"deciding rules (at most {COMPACT_RULES}, most reliable first), how many "
                "rules decide and how many more fired, the nearest example and the people "
                "named (a 10,000-instance batch is ~6 MB instead of ~90 MB). false: label "
                "and probabilities only, and no contributor credit, which counts explained "
                "predictions."
            ),
        )

    def dispatch(self, request, *args, **kwargs):
        # Parsing up to 10,000 instances, predicting and rendering the answer make hundreds
        # of thousands of short-lived objects: the cycle collector waits until the answer
        # is rendered (mola/engine/collector.py; 10,000 rows: its passes cost up to 0.2 s).
        with collector.paused():
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response

    @extend_schema(request=InputSerializer, responses={200: PredictOutputSerializer})
    def post(self, request, slug: str):
        space = space_for_reader(request, slug)
        for parser in request.parsers:  # read no more of the body than this space needs
            if isinstance(parser, PredictBodyParser):
                parser.max_body = predict_body_limit(space)
        body = request.data if isinstance(request.data, dict) else {}
        version = body.get("version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise InvalidInput("version is a whole number.", code="invalid", field="version")
        explain = EXPLAIN_MODES.get(_hashable(body.get("explain", True)))
        if explain is None:
            raise InvalidInput(
                'explain is true, false, "full" or "compact".', code="invalid", field="explain"
            )
        result = predict_service.predict(
            space=space, instances=body.get("instances"), version=version, explain=explain
        )
        return Response(result)
