"""Personal-data detection: precision and recall per type on seeded labelled tables, and throughput on a 100,000-row,
9-column health table — CityData's vectorised scan against a plain Python per-cell regex + checksum loop (the same
detectors, every cell) and jionlp's extractors, in the same run.

    python benchmarks/bench_privacy.py [--rows N] [--runs N] [--scale N] [--loop-rows N] [--jionlp-rows N]

Accuracy counts exact spans: a finding is right when row, column, type, start and end all match the label. For
CityData the classified columns are listed cell by cell (`whole_columns=True`) so they can be counted; the
throughput is that of `citydata pii-scan` (columns classified from a 10,000-row sample, free text scanned in full).
jionlp has no extractor for bank cards, credit codes, passports, permits, coordinates, names or addresses.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydata.settings")
os.environ.setdefault("CITYDATA_VAR_DIR", tempfile.mkdtemp(prefix="bench-var-"))

import django  # noqa: E402

django.setup()

import duckdb  # noqa: E402

from benchmarks import privacy_data  # noqa: E402
from citydata.privacy import detectors, scan  # noqa: E402

CHECKSUM_TYPES = {"resident_id", "bank_card", "uscc"}
JIONLP_TYPES = {"resident_id", "mobile", "landline", "email", "ipv4", "vehicle_plate"}


def _median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --- the three scanners ------------------------------------------------------------------------------------------


def citydata_findings(table: privacy_data.Labelled) -> set[tuple]:
    report = scan.scan_table((table.columns, table.rows), whole_columns=True)
    return {(f.row, f.column, f.type, f.start, f.end) for f in report.cells}


def citydata_columns(table: privacy_data.Labelled) -> dict[str, frozenset[str]]:
    return {c.name: frozenset(t.type for t in c.types) for c in scan.classify_columns((table.columns, table.rows))}


def loop_findings(columns: list[str], rows: list[list[str]]) -> set[tuple]:
    """The plain scanner: every cell through every detector in Python, the header as the only column knowledge."""
    hints = [detectors.type_for_header(c) for c in columns]
    found = set()
    for r, row in enumerate(rows):
        for column, hint, cell in zip(columns, hints, row, strict=True):
            if cell:
                for span in scan.find_in_text(cell, hint=hint):
                    found.add((r, column, span.type, span.start, span.end))
    return found


def jionlp_findings(columns: list[str], rows: list[list[str]]) -> set[tuple]:
    import jionlp

    found = set()
    for r, row in enumerate(rows):
        for column, cell in zip(columns, row, strict=True):
            if not cell:
                continue
            for item in jionlp.extract_id_card(cell, detail=True):
                found.add((r, column, "resident_id", *item["offset"]))
            for item in jionlp.extract_phone_number(cell, detail=True):
                kind = {"cell_phone": "mobile", "landline_phone": "landline"}.get(item["type"])
                if kind:
                    found.add((r, column, kind, *item["offset"]))
            for item in jionlp.extract_email(cell, detail=True):
                found.add((r, column, "email", *item["offset"]))
            for item in jionlp.extract_ip_address(cell, detail=True):
                found.add((r, column, "ipv4", *item["offset"]))
            for item in jionlp.extract_motor_vehicle_licence_plate(cell, detail=True):
                found.add((r, column, "vehicle_plate", *item["offset"]))
    return found


def _jionlp_available() -> bool:
    try:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            import jionlp  # noqa: F401 - prints a banner on import
    except ImportError:
        return False
    return True


# --- scoring -----------------------------------------------------------------------------------------------------


def _tally(counts: dict, predicted: set[tuple], truth: set[tuple], types: set[str] | None = None) -> None:
    for item in predicted:
        if types is None or item[2] in types:
            counts[item[2]]["tp" if item in truth else "fp"] += 1
    for item in truth - predicted:
        if types is None or item[2] in types:
            counts[item[2]]["fn"] += 1


def _pr(c: dict) -> tuple[float, float]:
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
    return precision, recall


def accuracy(scale: int, use_jionlp: bool) -> None:
    tables = privacy_data.evaluation_tables(scale)
    ours, loop, jio = (defaultdict(lambda: defaultdict(int)) for _ in range(3))
    column_right = column_total = 0
    wrong_columns = []
    for table in tables:
        truth = table.labels
        _tally(ours, citydata_findings(table), truth)
        _tally(loop, loop_findings(table.columns, table.rows), truth)
        if use_jionlp:
            _tally(jio, jionlp_findings(table.columns, table.rows), truth, JIONLP_TYPES)
        for name, found in citydata_columns(table).items():
            expected = table.column_types.get(name, frozenset())
            column_total += 1
            if found == expected:
                column_right += 1
            else:
                wrong_columns.append(f"{table.name}.{name}: {sorted(found)} ≠ {sorted(expected)}")
    rows = sum(len(t.rows) for t in tables)
    labels = sum(len(t.labels) for t in tables)
    print(f"\nAccuracy on {len(tables)} labelled tables, {rows:,} rows, {labels:,} labelled spans (exact span match)\n")
    print("| type | labels | CityData P | CityData R | per-cell loop P | per-cell loop R | jionlp P | jionlp R |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for code in detectors.REGISTRY:
        truth_count = ours[code]["tp"] + ours[code]["fn"]
        cells = [f"{x:.4f}" for x in (*_pr(ours[code]), *_pr(loop[code]))]
        cells += [f"{x:.4f}" for x in _pr(jio[code])] if use_jionlp and code in JIONLP_TYPES else ["—", "—"]
        marker = " ✓" if code in CHECKSUM_TYPES else ""
        print(f"| {code}{marker} | {truth_count:,} | " + " | ".join(cells) + " |")
    print(f"\nColumn classification: {column_right}/{column_total} columns typed exactly right")
    for line in wrong_columns:
        print("  ", line)


def throughput(rows: int, runs: int, loop_rows: int, jionlp_rows: int, use_jionlp: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-privacy-"))
    results = []

    def measure(label: str, fn, n: int, repeat: int = runs) -> None:
        walls, cpus = [], []
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        seconds = statistics.median(walls)
        results.append((label, n, seconds, statistics.median(cpus), n / seconds))

    tables = {}
    for share in (0.4, 0.1):
        table = privacy_data.health_table(rows, seed=7, pii_share=share)
        csv_path = privacy_data.write_csv(table, work / f"health-{share}.csv")
        parquet = work / f"health-{share}.parquet"
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar=true)) TO '{parquet}' (FORMAT parquet)")
        con.close()
        tables[share] = (table, csv_path, parquet)
        report = scan.scan_table(csv_path)
        remark = f"备注 with personal data in {share:.0%} of rows; {len(report.cells):,} findings"
        measure(f"CityData pii-scan path, CSV ({remark})", lambda p=csv_path: scan.scan_table(p), rows)
        measure(f"CityData, Parquet ({remark})", lambda p=parquet: scan.scan_table(p), rows)
    table, csv_path, _parquet = tables[0.4]
    measure(
        "CityData, CSV, every cell of the classified columns listed too (whole_columns=True)",
        lambda: scan.scan_table(csv_path, whole_columns=True),
        rows,
    )
    measure(
        "Plain Python per-cell regex + checksum loop (same detectors)",
        lambda: loop_findings(table.columns, table.rows[:loop_rows]),
        loop_rows,
    )
    if use_jionlp:
        measure(
            "jionlp extractors per cell (6 types)",
            lambda: jionlp_findings(table.columns, table.rows[:jionlp_rows]),
            jionlp_rows,
            1,
        )
    size = csv_path.stat().st_size / 1e6
    print(f"\nThroughput on the {rows:,}-row, 9-column health table ({size:.1f} MB CSV); median of {runs} runs")
    print(f"{os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}\n")
    print("| scanner | rows timed | wall s | CPU s | rows/s |")
    print("|---|---:|---:|---:|---:|")
    for label, n, seconds, cpu, rate in results:
        print(f"| {label} | {n:,} | {seconds:.3f} | {cpu:.3f} | {rate:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1, help="Size of the labelled tables (1 = 22,000 rows).")
    parser.add_argument("--loop-rows", type=int, default=20_000, help="Rows the per-cell loop is timed on.")
    parser.add_argument("--jionlp-rows", type=int, default=5_000, help="Rows jionlp is timed on.")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    use_jionlp = _jionlp_available()
    if not use_jionlp:
        print("jionlp is not installed (pip install -c constraints.txt -e '.[bench]'): its columns are skipped.")
    if not args.skip_accuracy:
        accuracy(args.scale, use_jionlp)
    throughput(args.rows, args.runs, min(args.loop_rows, args.rows), min(args.jionlp_rows, args.rows), use_jionlp)


if __name__ == "__main__":
    main()
