"""Threads, posts, resolutions and appeals. Each view: fetch, validate the body's shape,
call one service, return the thread as ``GET /threads/{id}`` shows it."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from community.api.serializers import RefSerializer, refs_field
from community.selectors import threads as selectors
from community.services import appeals, outcomes, posts, resolutions, resolve_preview, threads
from mola.api.pagination import Pagination
from teaching import selectors as teaching_selectors
from teaching.services.access import check_member, check_reader


class ThreadSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    space = serializers.CharField(source="space.slug")
    title = serializers.CharField()
    status = serializers.CharField()
    teachings = serializers.ListField(child=RefSerializer())
    posts = serializers.IntegerField(source="post_count")
    opened_by = serializers.CharField(source="opened_by.username", allow_null=True, default=None)
    assigned_to = serializers.CharField(
        source="assigned_to.username", allow_null=True, default=None
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PostOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField()
    expertise = serializers.CharField()
    body = serializers.CharField()
    supports = serializers.ListField(child=RefSerializer())
    created_at = serializers.DateTimeField()


class SupporterSerializer(serializers.Serializer):
    username = serializers.CharField()
    expertise = serializers.CharField()
    weight = serializers.IntegerField()


class PositionSerializer(serializers.Serializer):
    teaching = RefSerializer()
    raw = serializers.IntegerField()
    weighted = serializers.IntegerField()
    supporters = SupporterSerializer(many=True)


class ThreadOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    space = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    opened_by = serializers.CharField(allow_null=True)
    assigned_to = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    contradictions = serializers.ListField(child=serializers.JSONField())
    open_contradictions = serializers.IntegerField()
    teachings = serializers.ListField(child=serializers.JSONField())
    posts = PostOutputSerializer(many=True)
    positions = PositionSerializer(many=True)
    position_weights = serializers.DictField(child=serializers.IntegerField())
    resolution = serializers.JSONField(allow_null=True)
    resolutions = serializers.ListField(child=serializers.JSONField())


def thread_response(thread, code: int = 200, **extra) -> Response:
    fresh = selectors.thread_get(thread_id=thread.pk)  # the service changed it
    body = ThreadOutputSerializer(selectors.thread_detail(thread=fresh)).data
    return Response({**body, **extra}, status=code)


class ThreadListApi(APIView):
    pagination_class = Pagination

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=500)
        teachings = refs_field(min_length=1)
        body = serializers.CharField(required=False, allow_blank=True, max_length=20_000)

    @extend_schema(responses={200: ThreadSummarySerializer(many=True)})
    def get(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        queryset = selectors.thread_list(space=space, filters=request.query_params)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(ThreadSummarySerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ThreadOutputSerializer})
    def post(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        check_member(space=space, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        thread = threads.thread_create(space=space, user=request.user, **data.validated_data)
        return thread_response(thread, status.HTTP_201_CREATED)


class ThreadDetailApi(APIView):
    @extend_schema(responses={200: ThreadOutputSerializer})
    def get(self, request, thread_id: int):
        thread = selectors.thread_get(thread_id=thread_id)
        check_reader(space=thread.space, user=request.user)
        body = ThreadOutputSerializer(selectors.thread_detail(thread=thread)).data
        return Response(body)


class PostCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        body = serializers.CharField(max_length=20_000)
        supports = refs_field(required=False)

    @extend_schema(request=InputSerializer, responses={201: ThreadOutputSerializer})
    def post(self, request, thread_id: int):
        thread = selectors.thread_get(thread_id=thread_id)
        check_member(space=thread.space, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = posts.post_create(thread=thread, user=request.user, **data.validated_data)
        return thread_response(thread, status.HTTP_201_CREATED, post=post.pk)


class ResolveInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=outcomes.OUTCOMES)
    keep = refs_field(required=False)
    retire = refs_field(required=False)
    order = refs_field(required=False)
    contradictions = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=500, required=False
    )
    note = serializers.CharField(max_length=5000)


class ThreadResolveApi(APIView):
    @extend_schema(request=ResolveInputSerializer, responses={200: ThreadOutputSerializer})
    def post(self, request, thread_id: int):
        thread = selectors.thread_get(thread_id=thread_id)
        resolutions.resolve_authorize(thread=thread, user=request.user)  # 403 before 400
        data = ResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _, revision = resolutions.thread_resolve(
            thread=thread, user=request.user, **data.validated_data
        )
        return thread_response(thread, teaching_revision=revision)


class ResolvePreviewInputSerializer(ResolveInputSerializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class ThreadResolvePreviewApi(APIView):
    """What ``resolve`` with this body would close and change, without writing (an
    addition to the contract)."""

    @extend_schema(request=ResolvePreviewInputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, thread_id: int):
        thread = selectors.thread_get(thread_id=thread_id)
        resolutions.resolve_authorize(thread=thread, user=request.user)
        data = ResolvePreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            resolve_preview.resolution_preview(
                thread=thread, user=request.user, **data.validated_data
            )
        )


class ThreadAppealApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=5000)

    @extend_schema(request=InputSerializer, responses={201: ThreadOutputSerializer})
    def post(self, request, thread_id: int):
        thread = selectors.thread_get(thread_id=thread_id)
        check_member(space=thread.space, user=request.user)
        appeals.appealable_resolution(thread=thread, user=request.user)  # 403/409 before 400
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = appeals.thread_appeal(thread=thread, user=request.user, **data.validated_data)
        return thread_response(thread, status.HTTP_201_CREATED, appeal=appeal.pk)
