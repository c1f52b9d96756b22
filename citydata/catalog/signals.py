"""Signals of the catalog for the parts that follow it (the search index). Services that change a dataset or a
rule of the standard with a queryset update, which sends no model signal, send these themselves."""

from django.dispatch import Signal

dataset_changed = Signal()  # sender=Dataset, dataset_id=int
standard_changed = Signal()  # sender=StandardRule, rule_id=int
