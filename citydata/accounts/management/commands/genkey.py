"""`citydata genkey`: print fresh values for CITYDATA_SECRET_KEY and CITYDATA_FIELD_KEY."""

import base64
import secrets

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print new random keys to put in the environment."

    def handle(self, *args, **options):
        self.stdout.write(f"CITYDATA_SECRET_KEY={secrets.token_urlsafe(50)}")
        self.stdout.write(f"CITYDATA_FIELD_KEY={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}")
