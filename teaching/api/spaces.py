"""Spaces, schemas, members and client keys."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from mola.api.pagination import Pagination
from mola.engine.schema import FEATURE_KINDS
from teaching import selectors
from teaching.models import Expertise, Role
from teaching.services import keys as key_services
from teaching.services import spaces as services
from teaching.services.access import VISIBILITIES, check_moderator, check_reader, readable_spaces


class FeatureSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=list(FEATURE_KINDS))
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    unit = serializers.CharField(required=False, allow_blank=True, max_length=32)
    min = serializers.FloatField(required=False, allow_null=True)
    max = serializers.FloatField(required=False, allow_null=True)
    choices = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=200
    )
    # text features: characters a value may have (default 10,000; checked by the engine)
    max_length = serializers.IntegerField(required=False, allow_null=True)


class LabelSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RegressionGuardSerializer(serializers.Serializer):
    max_broken = serializers.IntegerField(min_value=0, max_value=1_000_000)


class SettingsSerializer(serializers.Serializer):
    """A space's settings; a name that is none of these is refused (400 naming it)."""

    visibility = serializers.ChoiceField(
        choices=VISIBILITIES,
        required=False,
        help_text="public (default): any signed-in user reads the teachings, threads, "
        "contradictions, contributors and members; members: only members see the space.",
    )
    review_novice_teachings = serializers.BooleanField(required=False)
    sample_predictions_into_pool = serializers.BooleanField(
        required=False, help_text="Copy a sample of client predictions into the case pool."
    )
    evaluation_agreement = serializers.FloatField(
        required=False,
        min_value=0.5,
        max_value=1.0,
        help_text="Share of the weight one label needs for an evaluation case to be agreed.",
    )
    evaluation_min_labels = serializers.IntegerField(
        required=False, min_value=1, max_value=100, help_text="Labels an agreed case needs."
    )
    regression_guard = RegressionGuardSerializer(
        required=False,
        allow_null=True,
        help_text="Hold a version that turns more than max_broken agreed cases from right "
        "to wrong; null turns the guard off.",
    )

    def to_internal_value(self, data):
        unknown = [key for key in data if key not in self.fields] if isinstance(data, dict) else []
        if unknown:
            problems = {
                key: serializers.ErrorDetail("No such setting.", code="unknown") for key in unknown
            }
            raise serializers.ValidationError(problems)
        return super().to_internal_value(data)


class SpaceOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    features = serializers.ListField(child=serializers.DictField())
    labels = serializers.ListField(child=serializers.DictField())
    settings = serializers.DictField()
    teaching_revision = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    members = serializers.IntegerField(source="member_count", required=False)


def _clean(items: list[dict]) -> list[dict]:
    """Drop unset optional keys so the stored schema holds only what was given."""
    return [{k: v for k, v in item.items() if v is not None} for item in items]


class SpaceListApi(APIView):
    pagination_class = Pagination

    class InputSerializer(serializers.Serializer):
        slug = serializers.SlugField(max_length=64)
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=5000
        )
        features = FeatureSerializer(many=True, max_length=200)
        labels = LabelSerializer(many=True, max_length=100)
        settings = SettingsSerializer(required=False)

    @extend_schema(responses={200: SpaceOutputSerializer(many=True)})
    def get(self, request):
        paginator = self.pagination_class()
        spaces = readable_spaces(spaces=selectors.space_list(), user=request.user)
        page = paginator.paginate_queryset(spaces, request, view=self)
        return paginator.get_paginated_response(SpaceOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SpaceOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["features"] = _clean(values["features"])
        values["labels"] = _clean(values["labels"])
        space = services.space_create(user=request.user, **values)
        return Response(SpaceOutputSerializer(space).data, status=status.HTTP_201_CREATED)


class SpaceDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
        features = FeatureSerializer(many=True, required=False, max_length=200)
        labels = LabelSerializer(many=True, required=False, max_length=100)
        settings = SettingsSerializer(required=False)

    @extend_schema(responses={200: SpaceOutputSerializer})
    def get(self, request, slug: str):
        space = selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        return Response(SpaceOutputSerializer(space).data)

    @extend_schema(request=InputSerializer, responses={200: SpaceOutputSerializer})
    def patch(self, request, slug: str):
        space = selectors.space_get(slug=slug)
        check_moderator(space=space, user=request.user)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        for key in ("features", "labels"):
            if key in values:
                values[key] = _clean(values[key])
        space = services.space_update(space=space, user=request.user, **values)
        return Response(SpaceOutputSerializer(space).data)


class MemberOutputSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()
    expertise = serializers.CharField()
    expertise_verified = serializers.SerializerMethodField()
    joined_at = serializers.DateTimeField()

    def get_expertise_verified(self, membership) -> bool:
        return membership.expertise_verified_by_id is not None


class MemberListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses={200: MemberOutputSerializer(many=True)})
    def get(self, request, slug: str):
        space = selectors.space_get(slug=slug)
        check_reader(space=space, user=request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.member_list(space=space), request, view=self)
        return paginator.get_paginated_response(MemberOutputSerializer(page, many=True).data)

    @extend_schema(request=None, responses={201: MemberOutputSerializer})
    def post(self, request, slug: str):
        space = selectors.space_get(slug=slug)
        membership = services.member_join(space=space, user=request.user)
        return Response(MemberOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices, required=False)
        expertise = serializers.ChoiceField(choices=Expertise.choices, required=False)

    @extend_schema(request=InputSerializer, responses={200: MemberOutputSerializer})
    def patch(self, request, slug: str, username: str):
        space = selectors.space_get(slug=slug)
        check_moderator(space=space, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_update(
            space=space, user=request.user, username=username, **data.validated_data
        )
        return Response(MemberOutputSerializer(membership).data)


class KeyListApi(APIView):
    pagination_class = Pagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50)

    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        key = serializers.CharField()
        prefix = serializers.CharField()

    class ListItemSerializer(serializers.Serializer):
        name = serializers.CharField()
        prefix = serializers.CharField()
        created = serializers.DateTimeField()
        created_by = serializers.CharField(source="created_by.username")
        revoked = serializers.BooleanField()

    @extend_schema(responses={200: ListItemSerializer(many=True)})
    def get(self, request, slug: str):
        """The space's client keys (moderators and owners): names and prefixes, never keys."""
        space = selectors.space_get(slug=slug)
        check_moderator(space=space, user=request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.api_key_list(space=space), request, view=self)
        return paginator.get_paginated_response(self.ListItemSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, slug: str):
        space = selectors.space_get(slug=slug)
        check_moderator(space=space, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        api_key, key = key_services.api_key_create(
            space=space, user=request.user, name=data.validated_data["name"]
        )
        body = {"name": api_key.name, "key": key, "prefix": api_key.prefix}
        return Response(body, status=status.HTTP_201_CREATED)


class KeyDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, slug: str, prefix: str):
        """Revoke a client key for good (moderators and owners)."""
        space = selectors.space_get(slug=slug)
        key_services.api_key_revoke(space=space, user=request.user, prefix=prefix)
        return Response(status=status.HTTP_204_NO_CONTENT)
