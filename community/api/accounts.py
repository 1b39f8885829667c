"""Accounts: sign up, get (rotate, revoke) a token, change the password, see yourself."""

from __future__ import annotations

from django.contrib.auth.validators import UnicodeUsernameValidator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from community.services import accounts as services
from mola.clients import client_address
from teaching import selectors as teaching_selectors


class UserCreateApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
        password = serializers.CharField(max_length=128, write_only=True)
        email = serializers.EmailField(required=False, default="", allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, token = services.user_create(**data.validated_data, address=client_address(request))
        body = {"id": user.id, "username": user.username, "token": token}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, write_only=True)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        """A new token for these credentials (the older ones keep working until they expire
        or are revoked). 429 after too many failed logins for the account or from here."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.token_obtain(**data.validated_data, address=client_address(request))
        return Response({"token": token})


class TokenRevokeApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        """Revoke the token this request is made with."""
        if request.auth is not None and hasattr(request.auth, "digest"):
            services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokensRevokeAllApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        """Revoke every token of the calling user (sign out everywhere)."""
        services.tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    class InputSerializer(serializers.Serializer):
        password = serializers.CharField(max_length=128, write_only=True)
        new_password = serializers.CharField(max_length=128, write_only=True)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        """Change the password: every token is revoked (a new one is returned) and every
        web session of the user ends."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.password_change(user=request.user, **data.validated_data)
        return Response({"token": token})


class MeApi(APIView):
    class MembershipSerializer(serializers.Serializer):
        space = serializers.CharField(source="space.slug")
        role = serializers.CharField()
        expertise = serializers.CharField()

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        memberships = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        memberships = teaching_selectors.memberships_of(user=request.user)
        return Response(
            {
                "id": request.user.id,
                "username": request.user.username,
                "memberships": self.MembershipSerializer(memberships, many=True).data,
            }
        )
