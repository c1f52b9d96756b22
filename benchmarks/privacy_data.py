"""Seeded generator of labelled tables for the personal-data benchmark (bench_privacy.py).

Each table knows the truth: every span of personal data as (row, column, type, start, end), whole cells and inside
free text, and the type(s) each column is. Values are valid or deliberately invalid (wrong checksums, impossible
or future birth dates, unknown province codes, Luhn failures, unallocated mobile ranges, letters a code may not
hold); the invalid ones carry no label, so finding them costs precision. Free-text remarks mix clinical phrases,
decoys (高血压, 患者于昨日入院, order numbers) and personal data with and without context words.

    python benchmarks/privacy_data.py OUT_DIR [--rows N] [--seed N] [--pii-share F]   # CSV for `citydata pii-scan`
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import ipaddress
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from citydata.privacy.detectors import luhn_valid, resident_id_check_char, uscc_check_char  # noqa: E402

Label = tuple[int, str, str, int, int]  # row, column, type, start, end

REGIONS = [
    "510703",
    "510704",
    "510722",
    "510781",
    "510623",
    "510104",
    "510107",
    "110101",
    "110105",
    "310104",
    "310115",
    "440305",
    "440106",
    "330106",
    "420102",
    "500103",
    "610113",
    "650102",
    "370202",
    "320106",
    "210102",
    "230103",
    "350203",
    "450103",
    "460105",
    "530102",
    "120101",
    "130102",
    "140105",
    "150102",
    "220102",
    "340104",
    "360102",
    "410105",
    "430102",
    "520102",
    "540102",
    "620102",
    "630102",
    "640104",
    "810000",
    "820000",
    "830000",
]
BAD_REGIONS = ["990101", "000000", "190101", "960412"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND = ["欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐"]
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英霞平刚桂华建国文辉红玲宇浩鹏飞欣怡思雨子涵梓轩博俊晨阳婷雪琳佳嘉志新海波"
    "峰斌林春燕兰凤萍玉梅莉慧颖晶倩蕾航睿泽宁琪瑶欢成龙永亮健鑫德荣昊然诗语梦瑞凯晓丹亚光立卫红云晓琴彬"
)
MINORITY = ["阿依古丽·买买提", "努尔兰·艾力", "古丽娜尔·吐尔逊", "迪丽拜尔·阿不都"]
PLACES = [
    ("四川省", "绵阳市", ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县"]),
    ("四川省", "成都市", ["锦江区", "青羊区", "武侯区", "成华区", "双流区"]),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区"]),
    ("浙江省", "杭州市", ["西湖区", "上城区", "余杭区"]),
    ("湖北省", "武汉市", ["江汉区", "武昌区", "洪山区"]),
    ("北京市", "", ["朝阳区", "海淀区", "东城区"]),
    ("上海市", "", ["浦东新区", "徐汇区", "静安区"]),
]
ROADS = ["临园路", "长虹大道", "剑南路", "人民路", "解放路", "建设街", "文化巷", "滨江路东段", "科技大道", "中山北路"]
ESTATES = ["芙蓉汉城", "阳光花园", "翡翠城", "幸福家园", "锦绣苑", "滨江公寓"]
TOWNS = ["芦溪镇", "青义镇", "新桥镇", "石马乡"]
VILLAGES = ["李家村", "白果村", "红岩村", "金星村"]
BINS_16 = ["622588", "436742", "518710", "625807", "622155"]
BINS_19 = ["622848", "621700", "622202", "621226", "622700", "955880"]
AREAS = [("010", 8), ("021", 8), ("028", 8), ("0816", 7), ("0816", 8), ("0755", 8), ("0571", 8), ("0931", 7)]
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
MOBILE_PREFIXES = (
    [f"13{d}" for d in range(10)]
    + ["147", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "170", "173", "176", "177", "178"]
    + [f"18{d}" for d in range(10)]
    + ["191", "193", "195", "198", "199"]
)
DIAGNOSES = [
    "高血压",
    "2型糖尿病",
    "冠心病",
    "慢性胃炎",
    "支气管炎",
    "腰椎间盘突出",
    "上呼吸道感染",
    "骨折",
    "肺炎",
    "贫血",
]
CLINICAL = [
    "复查血常规，结果正常。",
    "遵医嘱按时服药，定期复诊。",
    "血压140/90mmHg，建议低盐饮食。",
    "体温36.5℃，精神可。",
    "患者主诉头痛三天，无发热。",
    "患者高热三天，予退热处理。",
    "患者于昨日入院，生命体征平稳。",
    "高血压病史十年，规律服药。",
    "王府井药店购药后症状缓解。",
    "家属陪同就诊，情绪稳定。",
    "医保结算单号20240307153012886471，已结算。",
    "检验条码2024030712345678，标本合格。",
    "住院号ZY20240307001，床位3号。",
    "版本号V2.3.1系统录入。",
    "电话随访未接通，改日再联系。",
    "建议转上级医院进一步检查。",
    "无特殊。",
    "",
]


@dataclass
class Labelled:
    """A table and its truth."""

    name: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    labels: set[Label] = field(default_factory=set)
    column_types: dict[str, frozenset[str]] = field(default_factory=dict)


class Values:
    """Valid and deliberately invalid values of every type, from one seeded generator."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def birth(self, start: int = 1930, end: int = 2015) -> dt.date:
        return dt.date(start, 1, 1) + dt.timedelta(
            days=self.rng.randrange((dt.date(end, 12, 31) - dt.date(start, 1, 1)).days)
        )

    # resident IDs
    def resident_id(self, region: str | None = None, born: dt.date | None = None) -> str:
        region = region or self.rng.choice(REGIONS)
        born = born or self.birth()
        first17 = f"{region}{born:%Y%m%d}{self.digits(3)}"
        return first17 + resident_id_check_char(first17)

    def resident_id_15(self) -> str:
        born = self.birth(1930, 1998)
        return f"{self.rng.choice(REGIONS)}{born:%y%m%d}{self.digits(3)}"

    def invalid_resident_id(self) -> str:
        kind = self.rng.randrange(5)
        if kind == 0:  # wrong check character
            good = self.resident_id()
            return good[:17] + self.rng.choice([c for c in "0123456789X" if c != good[17]])
        if kind == 1:  # 30 February, with the checksum right
            first17 = f"{self.rng.choice(REGIONS)}{self.rng.randrange(1950, 2010)}0230{self.digits(3)}"
        elif kind == 2:  # born in the future, checksum right
            first17 = f"{self.rng.choice(REGIONS)}{self.rng.randrange(2031, 2040)}0615{self.digits(3)}"
        elif kind == 3:  # no such province, checksum right
            first17 = f"{self.rng.choice(BAD_REGIONS)}{self.birth():%Y%m%d}{self.digits(3)}"
        else:  # born before 1900, checksum right
            first17 = f"{self.rng.choice(REGIONS)}1899{self.rng.randrange(1, 13):02d}15{self.digits(3)}"
        return first17 + resident_id_check_char(first17)

    # cards
    def bank_card(self) -> str:
        bin_, length = (self.rng.choice(BINS_16), 16) if self.rng.random() < 0.4 else (self.rng.choice(BINS_19), 19)
        body = bin_ + self.digits(length - 7)
        return next(body + d for d in "0123456789" if luhn_valid(body + d))

    def invalid_bank_card(self) -> str:
        good = self.bank_card()
        last = str((int(good[-1]) + self.rng.randrange(1, 10)) % 10)
        return good[:-1] + last

    def ambiguous_card(self) -> str:
        """An 18-digit UnionPay-like number that also passes every resident-ID check."""
        while True:
            first17 = f"62{self.digits(4)}{self.birth():%Y%m%d}{self.digits(3)}"
            number = first17 + resident_id_check_char(first17)
            if number[-1] != "X" and luhn_valid(number):
                return number

    @staticmethod
    def grouped(number: str) -> str:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))

    # phones
    def mobile(self) -> str:
        number = self.rng.choice(MOBILE_PREFIXES) + self.digits(8)
        style = self.rng.random()
        if style < 0.75:
            return number
        if style < 0.85:
            return f"{number[:3]}-{number[3:7]}-{number[7:]}"
        if style < 0.93:
            return f"+86 {number[:3]} {number[3:7]} {number[7:]}"
        return "0086" + number

    def invalid_mobile(self) -> str:
        return self.rng.choice(["120", "154", "100", "194", "111"]) + self.digits(8)

    def landline(self) -> str:
        area, length = self.rng.choice(AREAS)
        number = self.rng.choice("2345678") + self.digits(length - 1)
        style = self.rng.random()
        if style < 0.6:
            return f"{area}-{number}"
        if style < 0.8:
            return f"({area}){number}"
        return f"{area} {number}"

    def invalid_landline(self) -> str:
        area, length = self.rng.choice(AREAS)
        return f"{area}-{self.rng.choice('01')}{self.digits(length - 1)}"

    # codes
    def uscc(self) -> str:
        first = self.rng.choice("9999991155NY")
        second = {"9": "123", "1": "1239", "5": "1239", "N": "1239", "Y": "1"}[first]
        organisation = "".join(self.rng.choice(USCC_CHARS) for _ in range(9))
        first17 = first + self.rng.choice(second) + self.rng.choice(REGIONS[:40]) + organisation
        return first17 + uscc_check_char(first17)

    def invalid_uscc(self) -> str:
        good = self.uscc()
        if self.rng.random() < 0.5:
            return good[:17] + self.rng.choice([c for c in USCC_CHARS if c != good[17]])
        return good[:10] + self.rng.choice("IOZSV") + good[11:]

    def passport(self) -> str:
        kind = self.rng.random()
        if kind < 0.5:
            return "E" + self.digits(8)
        if kind < 0.8:
            return "E" + self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + self.digits(7)
        return "G" + self.digits(8)

    def hk_macau_permit(self) -> str:
        kind = self.rng.random()
        if kind < 0.5:
            return "C" + self.rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") + self.digits(7)
        return self.rng.choice("HM") + self.digits(self.rng.choice([8, 10]))

    def plate(self) -> str:
        head = self.rng.choice(PLATE_PROVINCES) + self.rng.choice("ABCDEFGHJKLMNPQ")
        kind = self.rng.random()
        if kind < 0.15:
            return head + self.rng.choice("DF") + self.rng.choice("ABCDEFGHJK0123456789") + self.digits(4)
        if kind < 0.2:
            return head + self.digits(5) + self.rng.choice("DF")
        body = list(self.digits(5))
        for i in self.rng.sample(range(5), self.rng.choice([0, 1, 1, 2])):
            body[i] = self.rng.choice(PLATE_LETTERS.replace("I", "").replace("O", ""))
        return head + "".join(body)

    def invalid_plate(self) -> str:
        return self.rng.choice(PLATE_PROVINCES) + self.rng.choice(["I", "O"]) + self.digits(5)

    def email(self) -> str:
        local = "".join(
            self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(self.rng.randrange(4, 12))
        )
        if self.rng.random() < 0.3:
            local = local[:3] + "." + local[3:]
        return f"{local}@{self.rng.choice(['qq.com', '163.com', '126.com', 'gmail.com', 'example.cn', 'sina.com'])}"

    def ipv4(self) -> str:
        return ".".join(str(self.rng.randrange(1, 255)) for _ in range(4))

    def ipv6(self) -> str:
        return str(ipaddress.IPv6Address(self.rng.getrandbits(128) | (0x2001 << 112)))

    def lng(self, decimals: int = 6) -> str:
        return f"{self.rng.uniform(97.3, 123.5):.{decimals}f}"

    def lat(self, decimals: int = 6) -> str:
        return f"{self.rng.uniform(21.5, 45.5):.{decimals}f}"

    # names and addresses
    def name(self) -> str:
        roll = self.rng.random()
        if roll < 0.02:
            return self.rng.choice(MINORITY)
        surname = self.rng.choice(COMPOUND) if roll < 0.06 else self.rng.choice(SURNAMES)
        given = "".join(self.rng.choice(GIVEN) for _ in range(1 if self.rng.random() < 0.3 else 2))
        return surname + given

    def address(self) -> str:
        province, city, districts = self.rng.choice(PLACES)
        district = self.rng.choice(districts)
        head = (province if self.rng.random() < 0.5 or not city else "") + city + district
        kind = self.rng.random()
        if kind < 0.5:
            return f"{head}{self.rng.choice(ROADS)}{self.rng.randrange(1, 300)}号"
        if kind < 0.85:
            r = self.rng.randrange
            building = f"{r(1, 30)}栋{r(1, 6)}单元{r(1, 33)}0{r(1, 5)}室"
            return f"{head}{self.rng.choice(ESTATES)}{building}"
        return f"{head}{self.rng.choice(TOWNS)}{self.rng.choice(VILLAGES)}{self.rng.randrange(1, 12)}组"

    def district_only(self) -> str:
        province, city, districts = self.rng.choice(PLACES)
        return f"{city or province}{self.rng.choice(districts)}"


def _fill(template: str, parts: dict[str, tuple[str, str | None]]) -> tuple[str, list[tuple[str, int, int]]]:
    """Put values into a template ({name} → value); the spans of labelled values come back with the text."""
    text, spans, rest = "", [], template
    while "{" in rest:
        before, _, after = rest.partition("{")
        key, _, rest = after.partition("}")
        text += before
        value, kind = parts[key]
        if kind:
            spans.append((kind, len(text), len(text) + len(value)))
        text += value
    return text + rest, spans


class Remarks:
    """Free-text remarks: clinical phrases, decoys, and personal data with or without context."""

    def __init__(self, values: Values):
        self.v = values

    def make(self, pii_share: float) -> tuple[str, list[tuple[str, int, int]]]:
        rng, v = self.v.rng, self.v
        if rng.random() >= pii_share:
            return rng.choice(CLINICAL), []
        n = v.name()
        age = str(rng.randrange(1, 95))
        templates = [
            ("患者{n}，{age}岁，因{dx}就诊。", {"n": (n, "person_name")}),
            ("家属{n}电话{m}，已告知病情。", {"n": (n, "person_name"), "m": (v.mobile(), "mobile")}),
            ("联系人：{n}，手机{m}", {"n": (n, "person_name"), "m": (v.mobile(), "mobile")}),
            ("紧急联系人{n}（配偶），电话{l}", {"n": (n, "person_name"), "l": (v.landline(), "landline")}),
            ("患者身份证号{id}，医保待审核。", {"id": (v.resident_id(), "resident_id")}),
            ("身份证{id}，信息已核对。", {"id": (v.resident_id_15(), "resident_id")}),
            ("退费请转银行卡{c}，开户行农业银行。", {"c": (v.bank_card(), "bank_card")}),
            ("退费卡号{c}", {"c": (v.grouped(v.bank_card()), "bank_card")}),
            ("退费账号{c}，户名同患者。", {"c": (v.ambiguous_card(), "bank_card")}),
            ("身份证号码{c}已登记。", {"c": (v.ambiguous_card(), "resident_id")}),
            ("家住{a}，步行可达。", {"a": (v.address(), "address")}),
            ("现住址：{a}", {"a": (v.address(), "address")}),
            ("随访地址为{a}。", {"a": (v.address(), "address")}),
            ("请联系{n}医生复诊。", {"n": (n, "person_name")}),
            ("由{n}护士负责随访", {"n": (n, "person_name")}),
            ("患者{n}的邮箱{e}", {"n": (n, "person_name"), "e": (v.email(), "email")}),
            ("检查报告发送至{e}", {"e": (v.email(), "email")}),
            ("陪护单位统一社会信用代码{u}", {"u": (v.uscc(), "uscc")}),
            ("车牌号{p}，停放于地下车库。", {"p": (v.plate(), "vehicle_plate")}),
            ("护照号码{pp}，外籍人员陪同。", {"pp": (v.passport(), "passport")}),
            ("港澳通行证{hk}", {"hk": (v.hk_macau_permit(), "hk_macau_permit")}),
            ("上报终端IP {ip}", {"ip": (v.ipv4(), "ipv4")}),
            ("终端IPv6 {ip}", {"ip": (v.ipv6(), "ipv6")}),
            ("急救定位{c}", {"c": (f"{v.lng()},{v.lat()}", "coordinates")}),
            ("经度{x}，纬度{y}", {"x": (v.lng(), "coordinates"), "y": (v.lat(), "coordinates")}),
            ("{n}，{age}岁，{dx}。", {"n": (n, "person_name")}),  # a name with no context word: a known miss
            # decoys: invalid values in context, which must not be found
            ("身份证{id}有误，请核对。", {"id": (v.invalid_resident_id(), None)}),
            ("手机号{m}为空号。", {"m": (v.invalid_mobile(), None)}),
            ("卡号{c}校验失败。", {"c": (v.invalid_bank_card(), None)}),
            ("信用代码{u}填写错误", {"u": (v.invalid_uscc(), None)}),
            ("车牌{p}识别失败", {"p": (v.invalid_plate(), None)}),
            ("座机{l}无法接通", {"l": (v.invalid_landline(), None)}),
            ("定位{c}精度不足", {"c": (f"{v.lng(2)},{v.lat(2)}", None)}),
        ]
        template, parts = rng.choice(templates)
        parts = {**parts, "age": (age, None), "dx": (rng.choice(DIAGNOSES), None)}
        return _fill(template, parts)


def _label_cell(table: Labelled, row: int, column: str, value: str, kind: str | None) -> None:
    if kind and value:
        table.labels.add((row, column, kind, 0, len(value)))


def _label_text(table: Labelled, row: int, column: str, spans: list[tuple[str, int, int]]) -> None:
    for kind, start, end in spans:
        table.labels.add((row, column, kind, start, end))


def health_table(rows: int, seed: int = 2026, *, headers: list[str] | None = None, pii_share: float = 0.4) -> Labelled:
    """姓名, 性别, 年龄, 身份证号, 联系电话, 家庭住址, 就诊日期, 诊断, 备注 — the 9-column health table."""
    v = Values(seed)
    remarks = Remarks(v)
    names = ["姓名", "性别", "年龄", "身份证号", "联系电话", "家庭住址", "就诊日期", "诊断", "备注"]
    columns = headers or names
    table = Labelled("health" if headers is None else "health_unhinted", columns)
    kinds = ["person_name", None, None, "resident_id", None, "address", None, None, None]
    table.column_types = {columns[i]: frozenset({k}) for i, k in enumerate(kinds) if k}
    table.column_types[columns[4]] = frozenset({"mobile", "landline"})
    for r in range(rows):
        name = v.name()
        roll = v.rng.random()
        if roll < 0.9:
            pid, pid_kind = v.resident_id(), "resident_id"
        elif roll < 0.95:
            pid, pid_kind = v.resident_id_15(), "resident_id"
        else:
            pid, pid_kind = v.invalid_resident_id(), None
        roll = v.rng.random()
        if roll < 0.82:
            phone, phone_kind = v.mobile(), "mobile"
        elif roll < 0.97:
            phone, phone_kind = v.landline(), "landline"
        else:
            phone, phone_kind = (v.invalid_mobile(), None) if roll < 0.985 else (v.invalid_landline(), None)
        if v.rng.random() < 0.97:
            home, home_kind = v.address(), "address"
        else:
            home, home_kind = v.district_only(), None
        note, spans = remarks.make(pii_share)
        visit = dt.date(2024, 1, 1) + dt.timedelta(days=v.rng.randrange(366))
        row = [name, v.rng.choice("男女"), str(v.rng.randrange(1, 95)), pid, phone, home, visit.isoformat()]
        row += [v.rng.choice(DIAGNOSES), note]
        table.rows.append(row)
        _label_cell(table, r, columns[0], name, "person_name")
        _label_cell(table, r, columns[3], pid, pid_kind)
        _label_cell(table, r, columns[4], phone, phone_kind)
        _label_cell(table, r, columns[5], home, home_kind)
        _label_text(table, r, columns[8], spans)
    return table


def finance_table(rows: int, seed: int = 2027) -> Labelled:
    """Account holders: cards (some 18-digit numbers that also pass the resident-ID check), IDs, company codes."""
    v = Values(seed)
    remarks = Remarks(v)
    columns = ["户名", "证件号码", "银行卡号", "开户行", "联系电话", "电子邮箱", "单位名称", "统一社会信用代码", "备注"]
    table = Labelled("finance", columns)
    table.column_types = {
        "户名": frozenset({"person_name"}),
        "证件号码": frozenset({"resident_id"}),
        "银行卡号": frozenset({"bank_card"}),
        "联系电话": frozenset({"mobile", "landline"}),
        "电子邮箱": frozenset({"email"}),
        "统一社会信用代码": frozenset({"uscc"}),
    }
    banks = ["中国农业银行绵阳分行", "中国建设银行涪城支行", "中国工商银行", "绵阳市商业银行"]
    companies = ["绵阳市涪城区某某商贸有限公司", "四川某某科技有限公司", "某某餐饮店", "某某农民专业合作社"]
    for r in range(rows):
        name = v.name()
        pid, pid_kind = (v.resident_id(), "resident_id") if v.rng.random() < 0.95 else (v.invalid_resident_id(), None)
        roll = v.rng.random()
        if roll < 0.7:
            card, card_kind = v.bank_card(), "bank_card"
        elif roll < 0.8:
            card, card_kind = v.ambiguous_card(), "bank_card"
        elif roll < 0.9:
            card, card_kind = v.grouped(v.bank_card()), "bank_card"
        else:
            card, card_kind = v.invalid_bank_card(), None
        phone, phone_kind = (v.mobile(), "mobile") if v.rng.random() < 0.7 else (v.landline(), "landline")
        code, code_kind = (v.uscc(), "uscc") if v.rng.random() < 0.93 else (v.invalid_uscc(), None)
        note, spans = remarks.make(0.3)
        table.rows.append([name, pid, card, v.rng.choice(banks), phone, v.email(), v.rng.choice(companies), code, note])
        _label_cell(table, r, "户名", name, "person_name")
        _label_cell(table, r, "证件号码", pid, pid_kind)
        _label_cell(table, r, "银行卡号", card, card_kind)
        _label_cell(table, r, "联系电话", phone, phone_kind)
        _label_cell(table, r, "电子邮箱", table.rows[-1][5], "email")
        _label_cell(table, r, "统一社会信用代码", code, code_kind)
        _label_text(table, r, "备注", spans)
    return table


def traffic_table(rows: int, seed: int = 2028) -> Labelled:
    """Vehicles and travellers: plates (new-energy too), passports, permits, IP addresses and coordinates."""
    v = Values(seed)
    remarks = Remarks(v)
    columns = ["车牌号", "车主", "护照号", "港澳通行证号", "终端IP", "经度", "纬度", "位置", "备注"]
    table = Labelled("traffic", columns)
    table.column_types = {
        "车牌号": frozenset({"vehicle_plate"}),
        "车主": frozenset({"person_name"}),
        "护照号": frozenset({"passport"}),
        "港澳通行证号": frozenset({"hk_macau_permit"}),
        "终端IP": frozenset({"ipv4", "ipv6"}),
        "经度": frozenset({"coordinates"}),
        "纬度": frozenset({"coordinates"}),
        "位置": frozenset({"coordinates"}),
    }
    for r in range(rows):
        plate, plate_kind = (v.plate(), "vehicle_plate") if v.rng.random() < 0.95 else (v.invalid_plate(), None)
        ip, ip_kind = (v.ipv4(), "ipv4") if v.rng.random() < 0.8 else (v.ipv6(), "ipv6")
        lng, lat = v.lng(), v.lat()
        note, spans = remarks.make(0.3)
        owner = v.name()
        row = [plate, owner, v.passport(), v.hk_macau_permit(), ip, lng, lat, f"{v.lng()},{v.lat()}", note]
        table.rows.append(row)
        for column, value, kind in zip(
            columns[:8],
            row[:8],
            [
                plate_kind,
                "person_name",
                "passport",
                "hk_macau_permit",
                ip_kind,
                "coordinates",
                "coordinates",
                "coordinates",
            ],
            strict=True,
        ):
            _label_cell(table, r, column, value, kind)
        _label_text(table, r, "备注", spans)
    return table


def unhinted_health_table(rows: int, seed: int = 2029) -> Labelled:
    """The health table with headers that say nothing (字段1…字段9): classification from the cells alone."""
    return health_table(rows, seed, headers=[f"字段{i}" for i in range(1, 10)])


def evaluation_tables(scale: int = 1, seed: int = 2026) -> list[Labelled]:
    return [
        health_table(10_000 * scale, seed),
        finance_table(4_000 * scale, seed + 1),
        traffic_table(4_000 * scale, seed + 2),
        unhinted_health_table(4_000 * scale, seed + 3),
    ]


def write_csv(table: Labelled, path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.columns)
        writer.writerows(table.rows)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026, help="Seed of the health table (bench_privacy.py uses 7).")
    parser.add_argument("--pii-share", type=float, default=0.4, help="Share of remarks with personal data.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    health = health_table(args.rows, seed=args.seed, pii_share=args.pii_share)
    for table in [health, finance_table(args.rows // 10), traffic_table(args.rows // 10)]:
        print(write_csv(table, args.out / f"{table.name}.csv"))


if __name__ == "__main__":
    main()
