"""The signed-in user's inbox."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from community.selectors import activity
from community.services import notifications
from mola.api.pagination import Pagination


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    space = serializers.CharField(source="space.slug")
    thread = serializers.IntegerField(source="thread_id", allow_null=True)
    message = serializers.CharField()
    group = serializers.CharField()
    count = serializers.IntegerField(help_text="events folded into this item since last read")
    target = serializers.SerializerMethodField()
    data = serializers.JSONField()
    read = serializers.SerializerMethodField()
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_read(self, notification) -> bool:
        return notification.read_at is not None

    def get_target(self, notification) -> dict:
        """Where the item leads: its thread, else contradictions filtered, a teaching, the
        threads, or the member's teachings."""
        if notification.thread_id:
            return {"thread": notification.thread_id}
        return notification.data.get("target") or {}


class NotificationListApi(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("unread", bool, description="true: only unread; false: only read"),
            OpenApiParameter("space", str, description="only this space's (slug)"),
        ],
        responses={200: NotificationSerializer(many=True)},
    )
    def get(self, request):
        raw = request.query_params.get("unread")
        unread = {"true": True, "1": True, "false": False, "0": False}.get((raw or "").lower())
        queryset = activity.notification_list(
            user=request.user, unread=unread, space=request.query_params.get("space")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        response = paginator.get_paginated_response(NotificationSerializer(page, many=True).data)
        response.data["unread"] = activity.unread_count(user=request.user)
        return response


class NotificationReadApi(APIView):
    class InputSerializer(serializers.Serializer):
        ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1), required=False, max_length=1000
        )

    class OutputSerializer(serializers.Serializer):
        marked = serializers.IntegerField()
        unread = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications.notifications_mark_read(
            user=request.user, ids=data.validated_data.get("ids")
        )
        return Response({"marked": marked, "unread": activity.unread_count(user=request.user)})


class NotificationSettingsApi(APIView):
    class SettingsSerializer(serializers.Serializer):
        delivery = serializers.ChoiceField(
            choices=["immediate", "daily"],
            required=False,
            help_text="immediate: items show at once; daily: new items show at digest_hour",
        )
        digest_hour = serializers.IntegerField(
            min_value=0, max_value=23, required=False, help_text="UTC hour of the daily digest"
        )

    @extend_schema(responses={200: SettingsSerializer})
    def get(self, request):
        current = notifications.notification_settings_get(user=request.user)
        return Response(self.SettingsSerializer(current).data)

    @extend_schema(request=SettingsSerializer, responses={200: SettingsSerializer})
    def patch(self, request):
        data = self.SettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        current = notifications.notification_settings_update(
            user=request.user, **data.validated_data
        )
        return Response(self.SettingsSerializer(current).data)
