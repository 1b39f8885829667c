"""The taught model: its status, its versions, and predictions for clients."""

from __future__ import annotations

import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from mola.api.auth import IsUserOrApiClient, is_api_client
from mola.api.pagination import Pagination
from mola.errors import NotAllowed, TooLarge
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
    """

    media_type = "application/json"
    MAX_BODY = 64 * 1024 * 1024

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(self.MAX_BODY + 1) if stream is not None else b""
        if len(raw) > self.MAX_BODY:
            raise TooLarge(
                f"A prediction request is at most {self.MAX_BODY // 2**20} MB.", code="too_large"
            )
        return JSONParser().parse(io.BytesIO(raw), media_type, parser_context)


class PredictApi(APIView):
    permission_classes = [IsUserOrApiClient]
    parser_classes = [PredictBodyParser, FormParser, MultiPartParser]

    class InputSerializer(serializers.Serializer):
        instances = serializers.ListField(child=serializers.JSONField())
        version = serializers.IntegerField(required=False, min_value=1)

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, slug: str):
        space = space_for_reader(request, slug)
        body = request.data if isinstance(request.data, dict) else {}
        version = body.get("version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            from mola.errors import InvalidInput

            raise InvalidInput("version is a whole number.", code="invalid", field="version")
        result = predict_service.predict(
            space=space, instances=body.get("instances"), version=version
        )
        return Response(result)
