"""Documents indexed before facet combinations existed get theirs, so facet counts work before the next rebuild.
The signature is computed as `index._signature` computes it (written out here: a migration must not change when the
code does)."""

import hashlib
import json

from django.db import migrations

COLUMNS = ("kind", "department_code", "open_type", "frequency", "domains", "formats")
BATCH = 2000


def fill(apps, schema_editor):
    FacetSet = apps.get_model("search", "FacetSet")
    SearchDocument = apps.get_model("search", "SearchDocument")
    known: dict[str, int] = dict(FacetSet.objects.values_list("signature", "id"))
    last = 0
    while True:
        rows = list(
            SearchDocument.objects.filter(id__gt=last, facet_set__isnull=True)
            .order_by("id")
            .values("id", *COLUMNS)[:BATCH]
        )
        if not rows:
            return
        last = rows[-1]["id"]
        signatures = {}
        for row in rows:
            values = [row[name] for name in COLUMNS]
            signatures[row["id"]] = hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()
            if signatures[row["id"]] not in known:
                known[signatures[row["id"]]] = FacetSet.objects.create(
                    signature=signatures[row["id"]], **{name: row[name] for name in COLUMNS}
                ).id
        documents = [SearchDocument(id=pk, facet_set_id=known[sig]) for pk, sig in signatures.items()]
        SearchDocument.objects.bulk_update(documents, ["facet_set"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("search", "0006_facet_sets")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
