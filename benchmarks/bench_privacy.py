"""Personal-data detection: precision and recall per type on seeded labelled tables, and throughput on a 100,000-row,
9-column health table — CityData's vectorised scan against a plain Python per-cell regex + checksum loop (the same
detectors, every cell), Microsoft Presidio with equivalent pattern recognizers, and jionlp's extractors, in the same
run.

    python benchmarks/bench_privacy.py [--rows N] [--runs N] [--scale N] [--loop-rows N] [--jionlp-rows N]
                                       [--presidio-rows N]

Accuracy counts exact spans: a finding is right when row, column, type, start and end all match the label. For
CityData the classified columns are listed cell by cell (`whole_columns=True`) so they can be counted; the
throughput is that of `citydata pii-scan` (columns classified from a 10,000-row sample, free text scanned in full).
jionlp has no extractor for bank cards, credit codes, passports, permits, coordinates, names or addresses.

Presidio (presidio-analyzer with spaCy) runs offline on a blank Chinese spaCy pipeline (jieba word segmentation, no
trained components; one rule step copies each word to its lemma, which Presidio's context enhancer reads) saved to
a temporary folder and loaded from that path. It gets one PatternRecognizer per
detector: the same regex (lookarounds and all, case-sensitive), the same validator as `validate_result` (returning
None when the value passes, so the pattern score stays and context can still decide between an ID and a card, and
False when it fails), and the detector's context words and header hints as Presidio context words. Every non-empty
cell is analysed on its own with the column header passed as context; a result needs a score of 0.4 (pattern
score 0.5; a lone coordinate 0.1, raised by Presidio's context enhancer to 0.45 next to 经度/纬度/坐标). Results on
the same span are reduced to the highest score (registration order on a tie), then overlapping spans to the longer
one. Names and addresses need Presidio's NER (a trained spaCy model, which cannot be downloaded here): not measured.
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
PRESIDIO_SKIPPED = {"person_name", "address"}  # need a trained NER model
PRESIDIO_THRESHOLD = 0.4


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


def presidio_analyzer():
    """An AnalyzerEngine on a blank spaCy pipeline saved locally, with a pattern recognizer per CityData detector."""
    import re

    import spacy
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # Presidio's context enhancer compares context words with the lemmas of the words before a match; a blank
    # pipeline has no lemmatizer, so one step copies each word's text to its lemma.
    if "lemma_is_text" not in spacy.registry.factories:

        @spacy.Language.component("lemma_is_text")
        def lemma_is_text(doc):
            for token in doc:
                token.lemma_ = token.text
            return doc

    folder = Path(tempfile.mkdtemp(prefix="bench-spacy-")) / "zh_blank"
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("lemma_is_text")
    nlp.to_disk(folder)
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "zh", "model_name": str(folder)}]}
    engine = NlpEngineProvider(nlp_configuration=config).create_engine()

    class Checked(PatternRecognizer):
        def __init__(self, check, **kwargs):
            super().__init__(**kwargs)
            self.check = check

        def validate_result(self, pattern_text: str) -> bool | None:
            return None if self.check(pattern_text) else False

    registry = RecognizerRegistry(supported_languages=["zh"])
    for d in detectors.detectors():
        if d.code in PRESIDIO_SKIPPED:
            continue
        patterns = [Pattern(d.code, d.compiled.pattern, 0.5)]
        if d.code == "coordinates":  # a lng,lat pair; one number alone only with context (score 0.1 + 0.35)
            pair = r"(?<![0-9.])[0-9]{1,3}\.[0-9]{4,} *[,，/ ] *[0-9]{1,3}\.[0-9]{4,}(?![0-9])"
            patterns = [Pattern("pair", pair, 0.5), Pattern("single", detectors._COORD_SINGLE.pattern, 0.1)]
        registry.add_recognizer(
            Checked(
                d.validate,
                supported_entity=d.code,
                name=d.code,
                supported_language="zh",
                patterns=patterns,
                context=list(dict.fromkeys(d.context + d.header_hints)),
                global_regex_flags=re.DOTALL,
            )
        )
    return AnalyzerEngine(
        nlp_engine=engine,
        registry=registry,
        supported_languages=["zh"],
        default_score_threshold=PRESIDIO_THRESHOLD,
    )


def _presidio_resolve(results) -> list[tuple[int, int, str]]:
    order = {code: i for i, code in enumerate(detectors.REGISTRY)}
    best: dict[tuple[int, int], tuple[float, int, str]] = {}
    for r in results:
        candidate = (r.score, -order[r.entity_type], r.entity_type)
        if (r.start, r.end) not in best or candidate > best[(r.start, r.end)]:
            best[(r.start, r.end)] = candidate
    spans = sorted(((s, e, c[2], c[0]) for (s, e), c in best.items()), key=lambda x: (x[0], -(x[1] - x[0]), -x[3]))
    kept: list[tuple[int, int, str, float]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
        elif span[1] - span[0] > kept[-1][1] - kept[-1][0]:
            kept[-1] = span
    return [(s, e, c) for s, e, c, _score in kept]


def presidio_findings(analyzer, columns: list[str], rows: list[list[str]]) -> set[tuple]:
    found = set()
    for r, row in enumerate(rows):
        for column, cell in zip(columns, row, strict=True):
            if cell:
                results = analyzer.analyze(cell, language="zh", context=[column])
                for start, end, code in _presidio_resolve(results):
                    found.add((r, column, code, start, end))
    return found


def _presidio():
    """The analyzer, or the reason it cannot run."""
    try:
        import logging

        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        return presidio_analyzer(), None
    except ImportError as exc:
        return None, f"not installed ({exc.name}; pip install -c constraints.txt -e '.[bench]')"
    except Exception as exc:  # noqa: BLE001 - reported, the other scanners still run
        return None, f"{type(exc).__name__}: {exc}"


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


def accuracy(scale: int, use_jionlp: bool, analyzer) -> None:
    tables = privacy_data.evaluation_tables(scale)
    ours, loop, jio, pres = (defaultdict(lambda: defaultdict(int)) for _ in range(4))
    column_right = column_total = 0
    wrong_columns = []
    for table in tables:
        truth = table.labels
        _tally(ours, citydata_findings(table), truth)
        _tally(loop, loop_findings(table.columns, table.rows), truth)
        if use_jionlp:
            _tally(jio, jionlp_findings(table.columns, table.rows), truth, JIONLP_TYPES)
        if analyzer is not None:
            presidio_types = set(detectors.REGISTRY) - PRESIDIO_SKIPPED
            _tally(pres, presidio_findings(analyzer, table.columns, table.rows), truth, presidio_types)
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
    print(
        "| type | labels | CityData P | CityData R | per-cell loop P | per-cell loop R | Presidio P | Presidio R "
        "| jionlp P | jionlp R |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for code in detectors.REGISTRY:
        truth_count = ours[code]["tp"] + ours[code]["fn"]
        cells = [f"{x:.4f}" for x in (*_pr(ours[code]), *_pr(loop[code]))]
        if analyzer is not None and code not in PRESIDIO_SKIPPED:
            cells += [f"{x:.4f}" for x in _pr(pres[code])]
        else:
            cells += ["—", "—"]
        cells += [f"{x:.4f}" for x in _pr(jio[code])] if use_jionlp and code in JIONLP_TYPES else ["—", "—"]
        marker = " ✓" if code in CHECKSUM_TYPES else ""
        print(f"| {code}{marker} | {truth_count:,} | " + " | ".join(cells) + " |")
    print(f"\nColumn classification: {column_right}/{column_total} columns typed exactly right")
    for line in wrong_columns:
        print("  ", line)


def throughput(
    rows: int, runs: int, loop_rows: int, jionlp_rows: int, use_jionlp: bool, analyzer, presidio_rows: int
) -> None:
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
    if analyzer is not None:
        measure(
            "Presidio, equivalent pattern recognizers per cell (12 types)",
            lambda: presidio_findings(analyzer, table.columns, table.rows[:presidio_rows]),
            presidio_rows,
            1,
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
    parser.add_argument("--presidio-rows", type=int, default=5_000, help="Rows Presidio is timed on.")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    use_jionlp = _jionlp_available()
    if not use_jionlp:
        print("jionlp is not installed (pip install -c constraints.txt -e '.[bench]'): its columns are skipped.")
    analyzer, why = _presidio()
    if analyzer is None:
        print(f"Presidio cannot run: {why}; its columns are skipped.")
    if not args.skip_accuracy:
        accuracy(args.scale, use_jionlp, analyzer)
    throughput(
        args.rows,
        args.runs,
        min(args.loop_rows, args.rows),
        min(args.jionlp_rows, args.rows),
        use_jionlp,
        analyzer,
        min(args.presidio_rows, args.rows),
    )


if __name__ == "__main__":
    main()
