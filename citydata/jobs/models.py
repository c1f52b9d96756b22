"""Claims on schedule slots: one row per (job, slot), so a job runs once per slot however many workers tick."""

from django.db import models


class ScheduleRun(models.Model):
    name = models.CharField(max_length=100)
    slot = models.DateTimeField()
    claimed_by = models.CharField(max_length=64)
    claimed_at = models.DateTimeField(auto_now_add=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="schedule_run_once_per_slot")]
        indexes = [models.Index(fields=["name", "-slot"])]

    def __str__(self) -> str:
        return f"{self.name} @ {self.slot:%Y-%m-%d %H:%M}"
