from django.db import migrations


def create(apps, schema_editor):
    from citydata.search.backends import create_index

    create_index(schema_editor)


def drop(apps, schema_editor):
    from citydata.search.backends import drop_index

    drop_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_documents")]

    operations = [migrations.RunPython(create, drop)]
