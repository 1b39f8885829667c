"""Input and output shapes of the three kinds of teaching."""

from __future__ import annotations

from rest_framework import serializers

MAX_TEXT = 5000


class TeachingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField(source="kind")
    author = serializers.CharField(source="author.username")
    status = serializers.CharField()
    disputed = serializers.BooleanField()
    revision = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ConceptOutputSerializer(TeachingOutputSerializer):
    name = serializers.CharField()
    definition = serializers.CharField()
    description = serializers.CharField()


class RuleOutputSerializer(TeachingOutputSerializer):
    condition = serializers.CharField()
    label = serializers.CharField()
    rationale = serializers.CharField()


class ExampleOutputSerializer(TeachingOutputSerializer):
    features = serializers.DictField()
    label = serializers.CharField()
    note = serializers.CharField()
    refutes = serializers.IntegerField(source="refutes_id", allow_null=True)
    evaluation = serializers.BooleanField()


class ConceptInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    # The language has its own, clearer length error; this only stops absurd bodies.
    definition = serializers.CharField(max_length=200_000, trim_whitespace=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)


class RuleInputSerializer(serializers.Serializer):
    condition = serializers.CharField(max_length=200_000, trim_whitespace=False)
    label = serializers.CharField(max_length=64)
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)


class ExampleInputSerializer(serializers.Serializer):
    features = serializers.DictField(allow_empty=True)
    label = serializers.CharField(max_length=64)
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)
    refutes = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    evaluation = serializers.BooleanField(required=False)


class ExampleBatchInputSerializer(serializers.Serializer):
    examples = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=1000)


class RevisionOutputSerializer(serializers.Serializer):
    revision = serializers.IntegerField()
    action = serializers.CharField()
    author = serializers.CharField(source="author.username")
    content = serializers.DictField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


OUTPUT_SERIALIZERS = {
    "concept": ConceptOutputSerializer,
    "rule": RuleOutputSerializer,
    "example": ExampleOutputSerializer,
}
INPUT_SERIALIZERS = {
    "concept": ConceptInputSerializer,
    "rule": RuleInputSerializer,
    "example": ExampleInputSerializer,
}
