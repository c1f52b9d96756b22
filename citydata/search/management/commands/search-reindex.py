"""`citydata search-reindex`: rebuild the search index from the catalog (after an import, or a restore)."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Rebuild the search index from the catalog."

    def handle(self, *args, **options):
        from citydata.search import index

        report = index.reindex_all()
        indexed, removed = report["indexed"], report["removed"]
        self.stdout.write(f"已索引 {indexed} 个数据集，移除 {removed} 个 / indexed {indexed}, removed {removed}")
