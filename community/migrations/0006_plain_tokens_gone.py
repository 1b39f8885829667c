"""User tokens are now stored hashed (django-rest-knox): the table of plain-text tokens of
``rest_framework.authtoken`` goes (its users log in again for a new token)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("community", "0005_notification_groups")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
    ]
