"""`citydata serve`: the web server and a background worker, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the platform on 127.0.0.1 (gunicorn) with a background worker beside it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--web-threads", type=int, default=4, help="threads per worker process")
        parser.add_argument(
            "--no-worker", action="store_true", help="Serve pages only; run `citydata worker` elsewhere."
        )
        parser.add_argument(
            "--simulate", action="store_true", help="Also run the demo's real-time feeds (`citydata simulate`)."
        )

    def handle(
        self, *args, port: int, host: str, web_workers: int, web_threads: int, no_worker: bool, simulate=False, **opts
    ):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "citydata.settings")}
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "citydata.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(web_workers),
            "--threads",
            str(web_threads),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ]
        children = [subprocess.Popen(web, env=env)]  # noqa: S603 - fixed argument list
        if not no_worker:
            worker = [sys.executable, "-m", "citydata", "worker"]
            children.append(subprocess.Popen(worker, env=env))  # noqa: S603
        if simulate:
            feeds = [sys.executable, "-m", "citydata", "simulate"]
            children.append(subprocess.Popen(feeds, env=env))  # noqa: S603
        self.stdout.write(self.style.SUCCESS(f"CityData 已启动 / running: http://{host}:{port}/  (Ctrl+C 停止)"))

        def stop(signum=None, frame=None):
            for child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()

        signal.signal(signal.SIGTERM, lambda s, f: (stop(), sys.exit(0)))
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
        failed = [c.returncode for c in children if c.returncode not in (0, None, -signal.SIGTERM)]
        if failed:
            sys.exit(1)
