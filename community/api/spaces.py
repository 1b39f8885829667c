"""A space's community pages: contributors, the audit log."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from community.selectors import activity, contributors
from mola.api.pagination import Pagination
from teaching import selectors as teaching_selectors
from teaching.services.access import check_member, check_reader


class ContributorSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField()
    expertise = serializers.CharField()
    expertise_verified = serializers.BooleanField()
    teachings = serializers.DictField(child=serializers.IntegerField())
    accepted = serializers.IntegerField()
    resolutions_in_favour = serializers.IntegerField()
    resolutions_against = serializers.IntegerField()
    rolled_back = serializers.IntegerField()
    predictions = serializers.IntegerField()
    share = serializers.FloatField()
    in_model = serializers.BooleanField()
    reputation = serializers.IntegerField()


class ContributorListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses={200: ContributorSerializer(many=True)})
    def get(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        credit = contributors.contributor_list(space=space)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(credit["contributors"], request, view=self)
        response = paginator.get_paginated_response(ContributorSerializer(page, many=True).data)
        response.data.update(
            window_hours=credit["window_hours"],
            predictions=credit["predictions"],
            model_version=credit["model_version"],
        )
        return response


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    target = serializers.JSONField()
    note = serializers.CharField()
    data = serializers.JSONField()
    created_at = serializers.DateTimeField()


class AuditListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses={200: AuditEntrySerializer(many=True)})
    def get(self, request, slug: str):
        space = teaching_selectors.space_get(slug=slug)
        check_member(space=space, user=request.user)
        queryset = activity.audit_list(space=space, filters=request.query_params)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(AuditEntrySerializer(page, many=True).data)
