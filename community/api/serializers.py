"""Shapes the community API shares."""

from __future__ import annotations

from rest_framework import serializers


class RefSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["concept", "rule", "example"])
    id = serializers.IntegerField(min_value=1)


def refs_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=RefSerializer(), max_length=50, **kwargs)
