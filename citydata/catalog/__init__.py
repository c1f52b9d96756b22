"""The catalog: datasets and their resources and fields, domains, and each department's data inventory."""
