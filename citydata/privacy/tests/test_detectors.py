"""Each detector with valid values and deliberately invalid ones, the registry, and masking."""

from __future__ import annotations

import datetime as dt

import pytest

from citydata.privacy import detectors, scan
from citydata.privacy.tests.conftest import ambiguous_unionpay, id_check, luhn_complete, resident_id


def is_cell(code: str, value: str) -> bool:
    return detectors.get(code).is_cell(value)


def spans(text: str, **kwargs) -> list[tuple[str, str]]:
    return [(s.type, text[s.start : s.end]) for s in scan.find_in_text(text, **kwargs)]


# --- resident ID ---


def test_a_1990_mianyang_id_with_a_correct_checksum_is_a_resident_id(mianyang_id):
    assert mianyang_id.startswith("5107031990")
    assert is_cell("resident_id", mianyang_id)
    assert is_cell("resident_id", resident_id("51070419850101002"))  # Youxian district, 510704
    assert spans(f"患者身份证{mianyang_id}。") == [("resident_id", mianyang_id)]


def test_the_check_character_x_and_the_15_digit_legacy_form():
    with_x = next(resident_id(f"1101051949123100{n}") for n in range(10) if id_check(f"1101051949123100{n}") == "X")
    assert is_cell("resident_id", with_x) and is_cell("resident_id", with_x.lower())
    assert is_cell("resident_id", "510703900307123")  # 15 digits: 1990-03-07


def test_invalid_resident_ids_are_refused(mianyang_id):
    wrong = mianyang_id[:17] + ("0" if mianyang_id[17] != "0" else "1")
    assert not is_cell("resident_id", wrong)  # wrong checksum
    assert not is_cell("resident_id", resident_id("51070319900230123"))  # 30 February
    future = dt.date.today().year + 1
    assert not is_cell("resident_id", resident_id(f"510703{future}0101123"))  # born next year
    assert not is_cell("resident_id", resident_id("51070318991231123"))  # before 1900
    assert not is_cell("resident_id", resident_id("99070319900307123"))  # no province 99
    assert not is_cell("resident_id", "510703901307123")  # 15 digits, month 13
    assert spans(f"订单号{mianyang_id}9") == []  # 19 digits are not an ID inside a longer number


# --- phones ---


@pytest.mark.parametrize(
    "value", ["13812345678", "19912345678", "16612345678", "+86 138 1234 5678", "0086-13812345678", "138-1234-5678"]
)
def test_mobile_numbers(value):
    assert is_cell("mobile", value)


@pytest.mark.parametrize("value", ["12812345678", "15412345678", "10012345678", "1381234567"])
def test_not_mobile_numbers(value):
    assert not is_cell("mobile", value)


def test_a_mobile_number_inside_a_longer_number_is_not_one():
    assert spans("流水号2013812345678") == []
    assert spans("电话13812345678。") == [("mobile", "13812345678")]


@pytest.mark.parametrize("value", ["0816-2345678", "0816-23456789", "(028)85123456", "010-62345678", "0816 2345678"])
def test_landlines(value):
    assert is_cell("landline", value)


@pytest.mark.parametrize("value", ["0816-1234567", "010-2345678", "0016-2345678", "0816-234567"])
def test_not_landlines(value):
    assert not is_cell("landline", value)


# --- bank cards and the UnionPay / resident-ID ambiguity ---


def test_bank_cards_pass_luhn_and_invalid_ones_do_not():
    card = luhn_complete("622848012345678901")  # 19 digits
    assert is_cell("bank_card", card)
    assert is_cell("bank_card", " ".join(card[i : i + 4] for i in range(0, 19, 4)))
    assert is_cell("bank_card", luhn_complete("436742123456789"))  # 16 digits
    broken = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert not is_cell("bank_card", broken)
    assert not is_cell("bank_card", luhn_complete("62284801234"))  # too short


def test_an_18_digit_number_that_passes_both_checks_is_decided_by_context():
    number = ambiguous_unionpay()
    assert is_cell("bank_card", number) and is_cell("resident_id", number)
    assert spans(f"退费银行卡号{number}") == [("bank_card", number)]
    assert spans(f"账号：{number}，户名张三") == [("bank_card", number), ("person_name", "张三")]
    assert spans(f"身份证号{number}") == [("resident_id", number)]
    # the nearest word decides: the ID word comes after the bank word here
    assert spans(f"在银行办理，身份证{number}") == [("resident_id", number)]
    # a header names the type when the text does not
    assert spans(number, hint="bank_card") == [("bank_card", number)]
    # with no context at all the more sensitive reading wins
    assert spans(number) == [("resident_id", number)]


def test_a_card_without_a_valid_birth_date_is_a_card_whatever_the_words_say():
    # digits 7-14 are 20231399 (no 13th month): it cannot be an ID, so 身份证 before it changes nothing
    number = next(n for s in range(1000) if (n := luhn_complete("622848" + "20231399" + f"{s:03d}")) and n[-1] != "X")
    assert not is_cell("resident_id", number)
    assert spans(f"身份证{number}") == [("bank_card", number)]


# --- codes, documents, plates ---


def test_unified_social_credit_codes():
    code = "91510703MA62AB3C4"
    valid = code + detectors.uscc_check_char(code)
    assert is_cell("uscc", valid)
    letters = "N2510703MA62AB3C4"  # letters are legal in positions 1-2 (N: agriculture authority)
    assert is_cell("uscc", letters + detectors.uscc_check_char(letters))
    wrong = valid[:17] + ("0" if valid[17] != "0" else "1")
    assert not is_cell("uscc", wrong)
    assert not is_cell("uscc", "91510703MA62AB3I4" + "0")  # I is not in the character set
    assert spans(f"统一社会信用代码：{valid}。") == [("uscc", valid)]


def test_passports_and_permits():
    for value in ("E12345678", "EA1234567", "G12345678"):
        assert is_cell("passport", value), value
    for value in ("E1234567", "A12345678", "E00000000"):
        assert not is_cell("passport", value), value
    for value in ("C12345678", "CA1234567", "H12345678", "M1234567801"):
        assert is_cell("hk_macau_permit", value), value
    for value in ("C1234567", "H1234567", "K12345678"):
        assert not is_cell("hk_macau_permit", value), value


@pytest.mark.parametrize("value", ["川B12345", "川BA1234", "京A·12345", "粤BD12345", "粤BF12345", "沪A12345D"])
def test_vehicle_plates(value):
    assert is_cell("vehicle_plate", value)


@pytest.mark.parametrize("value", ["川I12345", "川BABCDE", "XX12345", "川B1234"])
def test_not_vehicle_plates(value):
    assert not is_cell("vehicle_plate", value)


# --- e-mail, IP, coordinates ---


def test_email_and_ip_addresses():
    assert is_cell("email", "zhang.san@example.cn") and not is_cell("email", ".zhang@example.cn")
    assert is_cell("ipv4", "10.20.30.40") and not is_cell("ipv4", "256.1.1.1") and not is_cell("ipv4", "01.2.3.4")
    assert spans("版本1.2.3.4.5发布") == []  # five dotted numbers are not an address
    assert is_cell("ipv6", "2001:db8::8a2e:370:7334") and not is_cell("ipv6", "12:30:45")
    assert not is_cell("ipv6", "::1")


def test_coordinates_need_four_decimals_inside_china():
    assert is_cell("coordinates", "104.065735,30.659462") and is_cell("coordinates", "30.659462, 104.065735")
    assert not is_cell("coordinates", "104.06,30.65")  # about 1 km: not precise
    assert not is_cell("coordinates", "2.352222,48.856614")  # Paris
    assert spans("定位104.065735,30.659462") == [("coordinates", "104.065735,30.659462")]
    assert spans("经度104.065735，纬度30.659462") == [("coordinates", "104.065735"), ("coordinates", "30.659462")]
    assert spans("检验值104.065735") == []  # one number with no word saying it is a coordinate


# --- names and addresses ---


def test_names_need_a_context_word_in_running_text():
    assert spans("患者张三因发热入院") == [("person_name", "张三")]
    assert spans("联系人：欧阳娜娜，电话未留") == [("person_name", "欧阳娜娜")]
    assert spans("请联系王建国先生复诊") == [("person_name", "王建国")]
    assert spans("家属阿依古丽·买买提，陪同") == [("person_name", "阿依古丽·买买提")]
    for text in ("张三因发热入院", "高血压病史", "王府井药店购药", "患者高热三天", "患者于昨日入院", "患者主诉头痛"):
        assert spans(text) == [], text
    assert is_cell("person_name", "张三") and is_cell("person_name", "司马光")
    assert not is_cell("person_name", "内科") and not is_cell("person_name", "高血压")
    assert spans("张三", hint="person_name") == [("person_name", "张三")]


def test_addresses_need_a_part_finer_than_a_district():
    assert is_cell("address", "四川省绵阳市涪城区临园路东段12号")
    assert is_cell("address", "绵阳市游仙区芙蓉汉城3栋2单元501室")
    assert is_cell("address", "三台县芦溪镇李家村3组")
    assert not is_cell("address", "绵阳市涪城区")
    text = "患者家住绵阳市涪城区临园路12号，步行可达"
    assert spans(text) == [("address", "绵阳市涪城区临园路12号")]


# --- registry and masks ---


def test_every_detector_is_documented_and_has_a_chinese_label():
    assert {
        "resident_id",
        "mobile",
        "landline",
        "bank_card",
        "uscc",
        "passport",
        "hk_macau_permit",
        "vehicle_plate",
        "email",
        "ipv4",
        "ipv6",
        "coordinates",
        "person_name",
        "address",
    } <= set(detectors.REGISTRY)
    for detector in detectors.detectors():
        assert len(detector.doc) > 40, detector.code
        assert any("\u4e00" <= ch <= "\u9fa5" for ch in str(detector.label)), detector.code


def test_a_new_detector_plugs_in_and_a_duplicate_code_is_refused():
    @detectors.register(code="test_student_id", label="学号", pattern="XH[0-9]{8}", header_hints=("学号",))
    def student_id(candidate: str) -> bool:
        """学号 of the test university: XH and eight digits."""
        return True

    try:
        assert scan.find_in_text("学号XH20240001") == [scan.Span("test_student_id", 2, 12)]
        assert detectors.type_for_header("学号") == "test_student_id"
        with pytest.raises(ValueError, match="twice"):
            detectors.register(code="test_student_id", label="学号", pattern="x")(student_id)
    finally:
        del detectors.REGISTRY["test_student_id"]


def test_masks(mianyang_id):
    assert scan.mask(mianyang_id, "resident_id") == "510703********" + mianyang_id[-4:]
    assert scan.mask("13812345678", "mobile") == "138****5678"
    assert scan.mask("+86 138 1234 5678", "mobile") == "138****5678"
    assert scan.mask("张三", "person_name") == "张*"
    assert scan.mask("欧阳娜娜", "person_name") == "欧阳**"
    assert scan.mask("zhang@example.cn", "email") == "z***@example.cn"
    assert scan.mask("四川省绵阳市涪城区临园路12号", "address").startswith("四川省绵阳市涪城区*")
