"""PostgreSQL compresses a model artefact with lz4 instead of pglz.

A version's pickled model is ~5 MB at M (500 rules, 10,000 examples). Stored with
PostgreSQL's default TOAST compression (pglz), the publish's ``INSERT`` took ~350–450 ms and
the web process's read ~45–55 ms (load 6); with lz4, ~100 ms and ~40 ms, for 2.2 MB stored
against pglz's 1.9 MB (5.2 MB raw). Both sit between a teaching write and the version being
served (bench/retrain.py on PostgreSQL: the save alone was ~650 ms of a ~950 ms ``notice``).
New values only: older artefacts keep their compression. Skipped on other databases and on a
server built without lz4 (PostgreSQL 14 and later can have it).
"""

from django.db import migrations, transaction

TABLE = "teaching_modelartifact"


def lz4(apps, schema_editor, table=TABLE):
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN data SET COMPRESSION lz4")
    except Exception:  # built without lz4: pglz, as before
        pass


def pglz(apps, schema_editor, table=TABLE):
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} ALTER COLUMN data SET COMPRESSION pglz")


class Migration(migrations.Migration):
    dependencies = [("teaching", "0005_outbox_sends_and_failures")]
    operations = [migrations.RunPython(lz4, pglz)]
