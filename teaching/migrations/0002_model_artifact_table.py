"""Model artifacts move out of ``ModelVersion`` into ``ModelArtifact`` (one row per version
that has one), so that no read of a version's metadata walks through a multi-MB value."""

import django.db.models.deletion
from django.db import migrations, models


def artifacts_to_their_table(apps, schema_editor):
    ModelVersion = apps.get_model("teaching", "ModelVersion")
    ModelArtifact = apps.get_model("teaching", "ModelArtifact")
    stored = ModelVersion.objects.filter(artifact__isnull=False).values_list("pk", flat=True)
    for pk in list(stored):  # one artifact in memory at a time: each is several MB
        data = ModelVersion.objects.values_list("artifact", flat=True).get(pk=pk)
        ModelArtifact.objects.create(version_id=pk, data=data)


def artifacts_back_to_versions(apps, schema_editor):
    ModelVersion = apps.get_model("teaching", "ModelVersion")
    ModelArtifact = apps.get_model("teaching", "ModelArtifact")
    for pk in list(ModelArtifact.objects.values_list("pk", flat=True)):
        data = ModelArtifact.objects.values_list("data", flat=True).get(pk=pk)
        ModelVersion.objects.filter(pk=pk).update(artifact=data)


class Migration(migrations.Migration):
    dependencies = [
        ("teaching", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ModelArtifact",
            fields=[
                (
                    "version",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="teaching.modelversion",
                    ),
                ),
                ("data", models.BinaryField()),
            ],
        ),
        migrations.RunPython(artifacts_to_their_table, artifacts_back_to_versions),
        migrations.RemoveField(
            model_name="modelversion",
            name="artifact",
        ),
    ]
