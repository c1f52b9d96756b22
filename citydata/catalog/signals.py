"""Signals of the catalog for the parts that follow it (the search index). Services that change a dataset
with a queryset update, which sends no model signal, send `dataset_changed` themselves."""

from django.dispatch import Signal

dataset_changed = Signal()  # sender=Dataset, dataset_id=int
