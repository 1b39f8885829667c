from django.urls import path

from community import api

urlpatterns = [
    path("users", api.UserCreateApi.as_view(), name="user-create"),
    path("auth/token", api.TokenObtainApi.as_view(), name="token-obtain"),
    path("me", api.MeApi.as_view(), name="me"),
]
