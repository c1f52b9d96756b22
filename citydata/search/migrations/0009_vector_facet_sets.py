"""PostgreSQL keeps each document's facet combination beside its tsvector, so facet counts read the rows the match
reads anyway instead of joining the documents (SQLite reads a narrow index of the documents instead)."""

from django.db import migrations


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE search_vector ADD COLUMN IF NOT EXISTS facet_set bigint")
    schema_editor.execute(
        "UPDATE search_vector v SET facet_set = d.facet_set_id FROM search_searchdocument d WHERE d.id = v.id"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE search_vector DROP COLUMN IF EXISTS facet_set")


class Migration(migrations.Migration):
    dependencies = [("search", "0008_click_kinds")]
    operations = [migrations.RunPython(add, drop)]
