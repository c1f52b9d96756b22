"""`citydata settings_doc`: print the table of environment settings for docs/configuration.md."""

from django.core.management.base import BaseCommand

from citydata.config import BASE_DIR, SETTINGS


def _default(value) -> str:
    if isinstance(value, list):
        value = ",".join(value)
    text = str(value)
    if text.startswith(str(BASE_DIR)):
        text = "<project>" + text[len(str(BASE_DIR)) :]
    return f"`{text}`" if text != "" else "(empty)"


class Command(BaseCommand):
    help = "Print every setting read from the environment as a Markdown table."

    def handle(self, *args, **options):
        self.stdout.write("| variable | type | default | what it does |")
        self.stdout.write("|---|---|---|---|")
        for item in SETTINGS.values():
            help_text = item.help.replace("|", "\\|")
            self.stdout.write(f"| `{item.name}` | {item.kind.__name__} | {_default(item.default)} | {help_text} |")
