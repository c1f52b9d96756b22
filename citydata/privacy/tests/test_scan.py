"""Column classification (shares, header hints, samples), free-text findings with offsets, and every input kind."""

from __future__ import annotations

import duckdb
import pytest

from citydata.privacy import scan
from citydata.privacy.tables import TableError
from citydata.privacy.tests.conftest import ambiguous_unionpay, resident_id


def people(n: int) -> list[list[str]]:
    surnames, given = "王李张刘陈杨黄赵吴周", "伟芳娜敏静丽强磊军洋"
    rows = []
    for i in range(n):
        rows.append(
            [
                surnames[i % 10] + given[(i * 7) % 10] + given[(i * 3) % 10],
                resident_id(f"510703{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"),
                f"13{i % 10}{i:08d}",
                f"四川省绵阳市涪城区临园路{i % 300 + 1}号",
                "复查血常规" if i % 4 else f"患者{surnames[i % 10]}明因发热就诊，电话1391234{i % 10000:04d}",
            ]
        )
    return rows


def by_name(columns: list[scan.ColumnClass]) -> dict[str, scan.ColumnClass]:
    return {c.name: c for c in columns}


def test_columns_are_classified_with_share_and_confidence():
    columns = by_name(scan.classify_columns((["姓名", "身份证号", "手机", "住址", "备注"], people(200))))
    for name, code in (("姓名", "person_name"), ("身份证号", "resident_id"), ("手机", "mobile"), ("住址", "address")):
        top = columns[name].types[0]
        assert top.type == code and top.share == pytest.approx(1.0) and top.confidence > 0.9, name
        assert top.examples and all("*" in e.masked for e in top.examples)
    assert columns["备注"].free_text and columns["备注"].types == []


def test_a_header_hint_raises_confidence_and_the_cells_still_decide():
    rows = people(60)
    hinted = by_name(scan.classify_columns((["联系人", "x"], [[r[0], ""] for r in rows])))["联系人"]
    bare = by_name(scan.classify_columns((["字段1", "x"], [[r[0], ""] for r in rows])))["字段1"]
    assert hinted.hint == "person_name" and bare.hint is None
    assert hinted.types[0].type == bare.types[0].type == "person_name"
    assert hinted.types[0].confidence > bare.types[0].confidence
    # a header alone makes nothing personal: a 姓名 column of department names has no names
    wards = by_name(scan.classify_columns((["姓名"], [["内科"], ["外科"], ["儿科"]] * 20)))["姓名"]
    assert wards.types == []


def test_unionpay_numbers_are_cards_under_a_card_header_and_ids_under_an_id_header():
    numbers = [[ambiguous_unionpay()]] * 30
    card = scan.classify_columns((["银行卡号"], numbers))[0]
    ident = scan.classify_columns((["身份证号"], numbers))[0]
    assert [t.type for t in card.types] == ["bank_card"]
    assert [t.type for t in ident.types] == ["resident_id"]


def test_mixed_phone_column_reports_both_types():
    rows = [[f"1381234{i:04d}"] for i in range(80)] + [[f"0816-23{i:05d}"] for i in range(20)]
    column = scan.classify_columns((["联系电话"], rows))[0]
    assert {t.type: round(t.share, 2) for t in column.types} == {"mobile": 0.8, "landline": 0.2}


def test_classification_reads_a_sample_of_big_tables_and_says_so():
    rows = [[f"1381234{i % 10000:04d}", str(i)] for i in range(30_000)]
    column = scan.classify_columns((["手机", "编号"], rows), sample_rows=2_000)[0]
    assert 1_500 < column.sampled < 2_500 and column.types[0].share == pytest.approx(1.0)


def test_free_text_findings_carry_row_column_type_and_offsets(mianyang_id):
    notes = [
        "复查血常规，结果正常。",
        f"患者张三因发热入院，电话13812345678，身份证{mianyang_id}。",
        "家住绵阳市涪城区临园路12号，邮箱zhang.san@example.cn",
    ]
    report = scan.scan_table((["编号", "备注"], [[str(i), n] for i, n in enumerate(notes)]))
    found = [(f.row, f.column, f.type, notes[f.row][f.start : f.end]) for f in report.cells]
    assert found == [
        (1, "备注", "person_name", "张三"),
        (1, "备注", "mobile", "13812345678"),
        (1, "备注", "resident_id", mianyang_id),
        (2, "备注", "address", "绵阳市涪城区临园路12号"),
        (2, "备注", "email", "zhang.san@example.cn"),
    ]
    second = report.cells[1]
    assert (second.start, second.end) == (notes[1].index("138"), notes[1].index("138") + 11)
    assert second.masked == "138****5678"
    note = by_name(report.columns)["备注"]
    assert {t.type for t in note.text_types} == {"person_name", "mobile", "resident_id", "address", "email"}


def test_the_vectorised_scan_finds_what_the_per_cell_python_loop_finds():
    rows = people(400)
    report = scan.scan_table((["a", "b", "c", "d", "备注"], [["", "", "", "", r[4]] for r in rows]))
    vectorised = {(f.row, f.type, f.start, f.end) for f in report.cells}
    loop = {(i, s.type, s.start, s.end) for i, r in enumerate(rows) for s in scan.find_in_text(r[4])}
    assert vectorised == loop and len(loop) == 200


def test_whole_columns_lists_every_valid_cell_of_a_classified_column(mianyang_id):
    rows = [[mianyang_id], [mianyang_id[:17] + "0" if mianyang_id[17] != "0" else "1"], [f" {mianyang_id} "]] * 10
    report = scan.scan_table((["身份证号"], rows), whole_columns=True)
    assert [(f.row, f.start, f.end) for f in report.cells[:2]] == [(0, 0, 18), (2, 1, 19)]
    assert len(report.cells) == 20


def test_parquet_files_and_duckdb_relations(tmp_path, mianyang_id):
    path = tmp_path / "people.parquet"
    con = duckdb.connect()
    sql = f"COPY (SELECT '{mianyang_id}' AS 身份证号, 13812345678::BIGINT AS 手机, '电话13912345678' AS 备注 "
    con.execute(sql + f"FROM range(50)) TO '{path}' (FORMAT parquet)")
    report = scan.scan_table(path)
    assert [c.types[0].type for c in report.columns[:2]] == ["resident_id", "mobile"]
    assert len(report.cells) == 50 and report.cells[-1].row == 49
    relation = con.sql(f"SELECT * FROM read_parquet('{path}')")  # noqa: S608 - a test path
    assert [c.types[0].type for c in scan.classify_columns(relation)[:2]] == ["resident_id", "mobile"]


def test_gbk_csv_and_excel_files(tmp_path, mianyang_id):
    from openpyxl import Workbook

    gbk = tmp_path / "gbk.csv"
    gbk.write_text(f"姓名,身份证号,备注\n张三,{mianyang_id},联系人李四电话13912345678\n", encoding="gbk")
    report = scan.scan_table(gbk)
    assert [c.name for c in report.columns] == ["姓名", "身份证号", "备注"]
    assert {f.type for f in report.cells} == {"person_name", "mobile"}
    book = Workbook()
    book.active.append(["身份证号", "备注"])
    book.active.append([mianyang_id, "手机13912345678"])
    book.save(tmp_path / "people.xlsx")
    report = scan.scan_table(tmp_path / "people.xlsx")
    assert report.columns[0].types[0].type == "resident_id" and report.cells[0].type == "mobile"


def test_bad_input_is_a_table_error(tmp_path):
    with pytest.raises(TableError, match="找不到文件"):
        scan.scan_table(tmp_path / "missing.csv")
    (tmp_path / "x.docx").write_text("x")
    with pytest.raises(Exception, match="不支持的文件类型"):
        scan.scan_table(tmp_path / "x.docx")


def test_reports_hold_no_raw_values(mianyang_id):
    report = scan.scan_table((["身份证号", "备注"], [[mianyang_id, f"身份证{mianyang_id}，手机13812345678"]]))
    text = repr(report) + repr(report.as_json())
    assert mianyang_id not in text and "13812345678" not in text


def test_repeated_texts_are_read_once_and_reported_in_every_row_in_row_then_column_order(mianyang_id):
    remark = f"家属张伟电话13812345678，身份证{mianyang_id}"
    rows = [[str(i), remark if i % 3 else "无特殊", "联系人李娜" if i % 2 else " "] for i in range(30)]
    report = scan.scan_table((["编号", "备注", "随访"], rows))
    loop = [
        (r, column, s.type, s.start, s.end)
        for r, row in enumerate(rows)
        for column, cell in (("备注", row[1]), ("随访", row[2]))
        for s in scan.find_in_text(cell)
    ]
    assert [(f.row, f.column, f.type, f.start, f.end) for f in report.cells] == loop
    assert report.cells[0].masked == "张*" and report.cells[1].masked == "138****5678"
    shares = {(c.name, t.type): t.share for c in report.columns for t in c.text_types}
    # 20 of 30 remarks; 15 of the 15 non-blank follow-up cells (a blank cell is not counted)
    assert shares[("备注", "mobile")] == pytest.approx(20 / 30)
    assert shares[("随访", "person_name")] == pytest.approx(1.0)


def test_many_texts_at_once_give_what_one_text_at_a_time_gives(mianyang_id):
    from citydata.privacy import detectors, text

    texts = [
        f"患者王芳身份证{mianyang_id}，手机138-1234-5678",
        f"退费账号{ambiguous_unionpay()}",
        f"身份证号码{ambiguous_unionpay()}已登记",
        "联系邮箱li.na@example.cn或致电0816-2345678",
        "家住四川省绵阳市涪城区临园路12号，经度104.123456，纬度31.123456",
        "张伟",
        "复查血常规",
    ]
    hints = [None, None, None, None, None, "person_name", None]
    dets = detectors.detectors()
    everything = (1 << len(dets)) - 1
    batch = text.find_in_texts(texts, [everything] * len(texts), hints, dets)
    for value, hint, found in zip(texts, hints, batch, strict=True):
        one = [
            (s.type, s.start, s.end, scan.mask(value[s.start : s.end], s.type))
            for s in scan.find_in_text(value, hint=hint)
        ]
        assert list(found) == one, value
    assert [f[0] for f in batch[1]] == ["bank_card"] and [f[0] for f in batch[2]] == ["resident_id"]
    assert batch[5] and not batch[6]


def test_a_csv_that_turns_out_not_to_be_utf8_after_its_first_megabyte_is_read_as_gb18030(tmp_path, mianyang_id):
    path = tmp_path / "late-gbk.csv"
    head = b"id,note\n" + b"".join(f"{i},ok\n".encode() for i in range(120_000))  # ASCII: UTF-8 and GB18030 alike
    assert len(head) > 1024 * 1024
    path.write_bytes(head + f"120000,联系人李四电话13912345678，身份证{mianyang_id}\n".encode("gb18030"))
    report = scan.scan_table(path)
    assert report.rows == 120_001 and [c.name for c in report.columns] == ["id", "note"]
    assert [(f.row, f.type) for f in report.cells] == [
        (120_000, "person_name"),
        (120_000, "mobile"),
        (120_000, "resident_id"),
    ]


def test_the_garbage_collector_is_paused_only_while_findings_are_built(mianyang_id):
    import gc

    table = (["备注"], [[f"身份证{mianyang_id}"]] * 3)
    assert gc.isenabled()
    assert len(scan.scan_table(table).cells) == 3
    assert gc.isenabled()
    gc.disable()
    try:
        scan.scan_cells(table)
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()
    with pytest.raises(TableError):
        scan.scan_table("/nonexistent/file.csv")
    assert gc.isenabled()
