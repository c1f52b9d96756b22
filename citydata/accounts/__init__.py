"""Users, organisations, departments, roles and API keys."""
