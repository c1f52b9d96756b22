"""`citydata workdays add DATE N` and `citydata workdays between A B`: the same rules from the command line."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from citydata.workdays.tests.factories import enter_2027


def run(*args: str) -> str:
    out = StringIO()
    call_command("workdays", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_add_and_between_print_the_answer_first_in_chinese_and_english():
    assert run("add", "2026-09-30", "5").startswith("2026-10-13  2026-09-30 之后第 5 个工作日，星期二")
    assert "(working day 5 after 2026-09-30, Tuesday)" in run("add", "2026-09-30", "5")
    assert run("add", "2026-02-13", "5").startswith("2026-02-27 ")
    assert run("add", "2026-03-07", "0").startswith("2026-03-07 ")
    assert run("between", "2026-01-01", "2026-12-31").startswith("248  ")
    assert run("between", "2025-12-31", "2026-01-05").startswith("2  2025-12-31 之后至 2026-01-05（含）的工作日数")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "2026-02-30", "5"), "日期“2026-02-30”无效"),
        (("add", "2026/09/30", "5"), "日期“2026/09/30”无效"),
        (("add", "2026-09-30", "-1"), "工作日数“-1”无效"),
        (("add", "2026-09-30", "five"), "工作日数“five”无效"),
        (("between", "2026-01-01", "tomorrow"), "日期“tomorrow”无效"),
        (("add", "2026-12-28", "5"), "2027 年的工作日历尚未录入"),
        (("between", "2026-12-01", "2027-01-31"), "no working-day calendar for 2027"),
    ],
)
def test_bad_input_and_missing_years_are_clear_errors(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


@pytest.mark.django_db
def test_2027_computes_once_entered_and_confirmed(user_with_role):
    enter_2027(user_with_role("operator"))
    assert run("add", "2027-02-05", "1").startswith("2027-02-15  ")
    assert run("between", "2026-12-31", "2027-02-28").startswith("36  ")


@pytest.mark.django_db(transaction=True)
def test_the_console_script(child_database_url, settings):
    script = Path(sys.executable).with_name("citydata")
    env = {**os.environ, "DATABASE_URL": child_database_url, "CITYDATA_VAR_DIR": str(settings.VAR_DIR)}
    done = subprocess.run(  # noqa: S603
        [str(script), "workdays", "add", "2026-09-30", "5"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2026-10-13  ")
    bad = subprocess.run(  # noqa: S603
        [str(script), "workdays", "add", "2026-13-01", "5"], env=env, capture_output=True, text=True, timeout=120
    )
    assert bad.returncode != 0 and "日期“2026-13-01”无效" in bad.stderr and bad.stdout == ""
