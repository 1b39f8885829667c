"""The review queue: proposed teachings with the contradictions they would bring in, and
bulk endorse / reject with a reason."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from community.selectors import review as review_selectors
from community.services import review as review_services
from mola.api.pagination import Pagination
from teaching import selectors as teaching_selectors
from teaching.api.serializers import OUTPUT_SERIALIZERS


class ReviewContradictionsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    max_severity = serializers.FloatField(allow_null=True)
    most_severe = serializers.DictField(allow_null=True)


class ReviewItemSerializer(serializers.Serializer):
    """A proposed teaching: the fields of its kind (as its own list gives them), its
    ``type`` and the contradictions it would bring in."""

    type = serializers.ChoiceField(choices=["concept", "rule", "example"])
    contradictions = ReviewContradictionsSerializer()


class ReviewQueueApi(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("order", str, description="oldest (default) or severe"),
            OpenApiParameter("kind", str, description="concept, rule or example"),
            OpenApiParameter("author", str, description="username"),
            OpenApiParameter("label", str),
        ],
        responses={200: ReviewItemSerializer(many=True)},  # paginated: see Pagination
    )
    def get(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        review_services.review_check(space=space, user=request.user)
        filters = review_selectors.review_filters(space=space, params=request.query_params)
        queue = review_selectors.review_queue(space=space, filters=filters)
        paginator = self.pagination_class()
        page = review_selectors.review_describe(
            space=space, items=paginator.paginate_queryset(queue, request, view=self)
        )
        return paginator.get_paginated_response(
            [
                {
                    **OUTPUT_SERIALIZERS[item.teaching.kind](item.teaching).data,
                    "type": item.teaching.kind,
                    "contradictions": {
                        "count": item.contradictions,
                        "max_severity": item.max_severity,
                        "most_severe": item.most_severe,
                    },
                }
                for item in page
            ]
        )


class ReviewDecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=sorted(review_services.DECISIONS))
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
        items = serializers.ListField(child=serializers.DictField(), max_length=1000)

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        review_services.review_check(space=space, user=request.user)  # 403 before 400
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = review_services.review_bulk(space=space, user=request.user, **data.validated_data)
        failed = sum(1 for r in results if "error" in r)
        return Response({"decided": len(results) - failed, "failed": failed, "results": results})
