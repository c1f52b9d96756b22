"""`citydata simulate`: the demo's real-time feeds — Mianyang buses moving along their lines and hospital
beds filling and emptying — pushed through the same service as a provider's API calls."""

from __future__ import annotations

import math
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from citydata.catalog.models import Dataset
from citydata.datastore import streams

CENTRE = (104.741, 31.464)


def bus_records(tick: int, vehicles: int = 30) -> list[dict]:
    """Buses going round loops about the city centre, one step per tick; deterministic by tick."""
    now = timezone.localtime()
    records = []
    for n in range(vehicles):
        line = f"{(n % 12) + 1}路"
        rng = random.Random(n)
        radius = 0.01 + 0.004 * (n % 12)
        angle = (tick * 0.02 + n * 0.37) % (2 * math.pi)
        lng = CENTRE[0] + radius * math.cos(angle) + rng.uniform(-0.003, 0.003)
        lat = CENTRE[1] + radius * 0.8 * math.sin(angle) + rng.uniform(-0.002, 0.002)
        records.append(
            {
                "id": f"bus-{n}-{tick}-{int(now.timestamp())}",
                "key": f"MY-{n + 1:05d}",
                "time": now.isoformat(),
                "data": {
                    "vehicle_no": f"MY-{n + 1:05d}",
                    "line_name": line,
                    "lng": round(lng, 6),
                    "lat": round(lat, 6),
                    "speed": round(15 + 20 * abs(math.sin(angle * 3)), 1),
                    "updated_at": now.strftime("%Y-%m-%d %H:%M:%S"),
                },
            }
        )
    return records


def bed_records(tick: int) -> list[dict]:
    now = timezone.localtime()
    wards = [("市中心医院", "内科"), ("市中心医院", "外科"), ("市第三人民医院", "内科"), ("市中医医院", "儿科")]
    out = []
    for i, (hospital, ward) in enumerate(wards):
        free = max(0, int(8 + 6 * math.sin(tick / 20 + i)))
        stamp = int(now.timestamp())
        out.append(
            {
                "id": f"bed-{i}-{tick}-{stamp}",
                "key": f"{hospital}-{ward}",
                "time": now.isoformat(),
                "data": {"free_beds": free},
            }
        )
    return out


class Command(BaseCommand):
    help = "Push the demo's real-time records (bus positions, hospital beds) every few seconds."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between pushes.")
        parser.add_argument("--ticks", type=int, default=0, help="Stop after this many pushes (0: run until stopped).")

    def handle(self, *args, interval: float, ticks: int, **options):
        bus = Dataset.objects.filter(title__contains="地面公交实时位置").order_by("id").first()
        if bus is None:
            raise CommandError("没有找到“地面公交实时位置”数据集，请先运行 citydata demo。")
        beds = Dataset.objects.filter(title__contains="医院实时床位").order_by("id").first()
        bed_fields = set(beds.fields.values_list("name", flat=True)) if beds else set()
        tick = 0
        while not ticks or tick < ticks:
            streams.push(by=None, dataset=bus, records=bus_records(tick))
            if beds is not None and "free_beds" in bed_fields:
                streams.push(by=None, dataset=beds, records=bed_records(tick))
            tick += 1
            if ticks and tick >= ticks:
                break
            time.sleep(interval)
        self.stdout.write(f"已推送 {tick} 轮实时数据。 (pushed {tick} rounds)")
