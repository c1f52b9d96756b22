"""Public pages, the base layout, error pages and static files."""
