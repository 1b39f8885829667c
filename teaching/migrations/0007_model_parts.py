"""Model parts: the pieces of pickled model several versions share (the fitted forest a
quick version takes from the refined one), stored once per space and linked from each
artefact that names them (``ModelPart``, ``ArtifactPart``). Stored with lz4 on PostgreSQL,
as artefacts are (0006). Existing artefacts are whole and stay as they are."""

import importlib
from functools import partial

import django.db.models.deletion
from django.db import migrations, models

compression = importlib.import_module("teaching.migrations.0006_artifact_lz4")
TABLE = "teaching_modelpart"


class Migration(migrations.Migration):
    dependencies = [("teaching", "0006_artifact_lz4")]

    operations = [
        migrations.CreateModel(
            name="ModelPart",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64)),
                ("data", models.BinaryField()),
                (
                    "space",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="teaching.space",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ArtifactPart",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "artifact",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="teaching.modelartifact",
                    ),
                ),
                (
                    "part",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.RESTRICT,
                        related_name="links",
                        to="teaching.modelpart",
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="modelpart",
            constraint=models.UniqueConstraint(
                fields=("space", "digest"), name="one_part_per_digest"
            ),
        ),
        migrations.RunPython(
            partial(compression.lz4, table=TABLE), partial(compression.pglz, table=TABLE)
        ),
    ]
