"""Search relevance on the demo catalog and search API latency on a generated catalog of 100,000 datasets.

    python benchmarks/bench_search.py [--relevance] [--latency [--docs 100000] [--rounds 3] [--reuse] [--cpu]]
                                      [--no-postgres] [--fresh] [--failures]

Relevance ranks every query of `benchmarks/search_queries.tsv` (graded judgments: 3 the exact dataset, 2 clearly
relevant, 1 partly relevant) with four systems:

- CityData's engine (`citydata.search.engine.search`) on SQLite and on PostgreSQL, each in a subprocess over its
  own demo catalog (`citydata demo`; the PostgreSQL one in a scratch database);
- SQLite FTS5 with its default tokenizer (unicode61) over title, description and tags, matching the query's
  whitespace-separated tokens, each quoted, in bm25 order;
- SQLite FTS5 over character bigrams: every text indexed as the overlapping character pairs of its Chinese runs
  plus its other words; the query likewise, all of its bigrams required, bm25 order.

Metrics: MRR (1 / rank of the first result graded 2 or 3, within the first 100), recall@10 (the share of the
results graded 2 or 3 found in the first ten, out of at most ten) and nDCG@10 (gain 2^grade - 1), overall and
per query type.

Latency generates a seeded catalog (district × department topic × aspect × year titles), bulk-loads it with the
ORM into a scratch database, times `reindex_all()`, then measures `GET /api/v1/search?q=…` (facets included)
over HTTP against `citydata serve --no-worker` on 127.0.0.1: one warm-up pass, then `--rounds` passes of about
50 queries, one client, keep-alive. Everything generated goes under `--data-dir` (default /tmp/searchbench).

`--cpu` times the same requests in-process instead, through Django's test client: two warm-up passes, then
`--rounds` passes, each request's CPU time in its own thread (`time.thread_time`, SQLite's work included) and its
wall time. On a machine shared with other work, wall time mostly measures waiting for a core; CPU time does not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUERIES = ROOT / "benchmarks" / "search_queries.tsv"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_PREFIX = "citydata_searchbench"  # scratch databases <prefix>_demo and <prefix>_synth (--pg-prefix)
SYSTEMS = {
    "sqlite": "CityData · SQLite",
    "postgres": "CityData · PostgreSQL",
    "fts5": "FTS5 unicode61",
    "bigram": "FTS5 bigrams",
}
TYPES = (
    "exact",
    "partial",
    "colloquial",
    "synonym",
    "pinyin",
    "initials",
    "typo_homophone",
    "typo_other",
    "traditional",
    "fullwidth",
    "english",
    "mixed",
)
# The acceptance queries of issue 5 (one homophone and one other typo variant added).
ACCEPTANCE = ("公交实时", "gongjiao", "公共汽车位置", "医院床位", "企业信用信息", "公交实事", "医院床住")
DEPTH = 100


# --- query set and metrics ---------------------------------------------------------------------------------


def load_queries(path: Path = QUERIES) -> list[dict]:
    """Rows of the query file: id, type, query and {slug: grade}."""
    rows = []
    with path.open(encoding="utf-8") as f:
        next(f)
        for line in f:
            if not line.strip("\n"):
                continue
            qid, kind, text, judged = line.rstrip("\n").split("\t")
            grades = {slug: int(g) for slug, g in (item.split("=") for item in judged.split())}
            rows.append({"id": qid, "type": kind, "query": text, "grades": grades})
    return rows


def reciprocal_rank(ranking: list[str], grades: dict[str, int]) -> float:
    for i, slug in enumerate(ranking[:DEPTH]):
        if grades.get(slug, 0) >= 2:
            return 1.0 / (i + 1)
    return 0.0


def recall_at_10(ranking: list[str], grades: dict[str, int]) -> float:
    relevant = {s for s, g in grades.items() if g >= 2}
    if not relevant:
        return 0.0
    return len(relevant & set(ranking[:10])) / min(10, len(relevant))


def ndcg_at_10(ranking: list[str], grades: dict[str, int]) -> float:
    def dcg(gains: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:10]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(s, 0) for s in ranking]) / ideal if ideal else 0.0


def first_good_rank(ranking: list[str], grades: dict[str, int]) -> int | None:
    best = max(grades.values())
    for i, slug in enumerate(ranking[:DEPTH]):
        if grades.get(slug, 0) == best:
            return i + 1
    return None


# --- baselines ---------------------------------------------------------------------------------------------

_CJK_RUN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_BIGRAM_PIECE = re.compile(rf"{_CJK_RUN}+|[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def bigram_text(text: str) -> list[str]:
    """Overlapping character pairs of each Chinese run (a lone character stays), other word runs as they are."""
    out: list[str] = []
    for piece in _BIGRAM_PIECE.findall(text or ""):
        if re.fullmatch(f"{_CJK_RUN}+", piece):
            out += [piece[i : i + 2] for i in range(max(1, len(piece) - 1))]
        else:
            out.append(piece.lower())
    return out


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


class Fts5Baseline:
    """An in-memory FTS5 table over title, description and tags, as unicode61 text or as bigrams."""

    def __init__(self, catalog: list[dict], *, bigrams: bool):
        self.bigrams = bigrams
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE docs USING fts5(slug UNINDEXED, title, description, tags)")
        prepare = (lambda t: " ".join(bigram_text(t))) if bigrams else (lambda t: t)
        self.db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?)",
            [
                (d["slug"], prepare(d["title"]), prepare(d["description"]), prepare(" ".join(d["tags"])))
                for d in catalog
            ],
        )

    def search(self, query: str) -> list[str]:
        tokens = bigram_text(query) if self.bigrams else query.split()
        if not tokens:
            return []
        expression = " AND ".join(_quoted(t) for t in tokens)
        try:
            rows = self.db.execute(
                "SELECT slug FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (expression, DEPTH)
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        return [r[0] for r in rows]


# --- subprocesses ------------------------------------------------------------------------------------------


def _env(var: Path, database_url: str = "") -> dict[str, str]:
    return {
        **os.environ,
        "CITYDATA_VAR_DIR": str(var),
        "DATABASE_URL": database_url,
        "CITYDATA_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "citydata.settings",
    }


def _psql(sql: str, db: str = "postgres") -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed client, local server
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAc", sql], capture_output=True, text=True
    )


def postgres_available() -> bool:
    return shutil.which("psql") is not None and _psql("SELECT 1").returncode == 0


def _published_count_sqlite(var: Path) -> int:
    path = var / "citydata.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT count(*) FROM search_searchdocument").fetchone()[0]
    except sqlite3.Error:
        return 0


def _published_count_postgres(db: str) -> int:
    done = _psql("SELECT count(*) FROM search_searchdocument", db)
    return int(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip().isdigit() else 0


def _recreate_pg_database(db: str) -> None:
    _psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    done = _psql(f"CREATE DATABASE {db} ENCODING 'UTF8' TEMPLATE template0")
    if done.returncode:
        raise RuntimeError(done.stderr)


def ensure_demo(var: Path, database_url: str = "", pg_db: str = "", fresh: bool = False) -> float:
    """Build the demo catalog unless it is already there; the seconds it took (0 when reused)."""
    if not fresh:
        count = _published_count_postgres(pg_db) if pg_db else _published_count_sqlite(var)
        if count:
            return 0.0
    if pg_db:
        _recreate_pg_database(pg_db)
    elif var.exists():
        shutil.rmtree(var)
    var.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run(  # noqa: S603
        [str(BIN / "citydata"), "demo", "--quiet-logins"],
        env=_env(var, database_url),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def run_worker(task: str, env: dict[str, str], out: Path, *extra: str) -> dict:
    subprocess.run(  # noqa: S603
        [sys.executable, str(Path(__file__).resolve()), "--worker", task, "--out", str(out), *extra],
        env=env,
        check=True,
    )
    return json.loads(out.read_text(encoding="utf-8"))


# --- workers (run inside a configured Django process) ------------------------------------------------------


def _django():
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def worker_rank(out: Path) -> None:
    """Rank every query with the engine; also dump the published catalog for the baselines."""
    _django()
    from citydata.catalog.models import Dataset, DatasetStatus
    from citydata.search import engine

    engine.search("预热")  # jieba's dictionary and the caches load once, outside the timings
    rankings, millis = {}, {}
    for row in load_queries():
        started = time.perf_counter()
        hits = engine.search(row["query"]).hits
        millis[row["id"]] = (time.perf_counter() - started) * 1000
        # results of other kinds (the standard's rules) stay in the ranking, named so no dataset slug can match them
        rankings[row["id"]] = [h.document.slug if h.kind == "dataset" else f"{h.kind}:{h.document.slug}" for h in hits]
        rankings[row["id"]] = rankings[row["id"]][:DEPTH]
    catalog = [
        {"slug": s, "title": t, "description": d, "tags": [str(x) for x in (tags or [])]}
        for s, t, d, tags in Dataset.objects.filter(status=DatasetStatus.PUBLISHED).values_list(
            "slug", "title", "description", "tags"
        )
    ]
    out.write_text(json.dumps({"rankings": rankings, "ms": millis, "catalog": catalog}, ensure_ascii=False))


# Vocabularies of the generated catalog: regions, and topics as (object, department, domain, fields, what).
_REGION_TEXT = """
锦江区 青羊区 金牛区 武侯区 成华区 龙泉驿区 青白江区 新都区 温江区 双流区 郫都区 新津区
简阳市 都江堰市 彭州市 邛崃市 崇州市 金堂县 大邑县 蒲江县 自流井区 贡井区 大安区 沿滩区
荣县 富顺县 东区 西区 仁和区 米易县 盐边县 江阳区 纳溪区 龙马潭区 泸县 合江县 叙永县
古蔺县 旌阳区 罗江区 广汉市 什邡市 绵竹市 中江县 涪城区 游仙区 安州区 江油市 三台县
盐亭县 梓潼县 北川羌族自治县 平武县 利州区 昭化区 朝天区 旺苍县 青川县 剑阁县 苍溪县
船山区 安居区 射洪市 蓬溪县 大英县 市中区 东兴区 威远县 资中县 隆昌市 沙湾区 五通桥区
金口河区 峨眉山市 犍为县 井研县 夹江县 沐川县 顺庆区 高坪区 嘉陵区 阆中市 南部县 营山县
蓬安县 仪陇县 西充县 东坡区 彭山区 仁寿县 洪雅县 丹棱县 青神县 翠屏区 南溪区 叙州区
江安县 长宁县 高县 珙县 筠连县 兴文县 屏山县 广安区 前锋区 华蓥市 岳池县 武胜县 邻水县
通川区 达川区 万源市 宣汉县 开江县 大竹县 渠县 雨城区 名山区 荥经县 汉源县 石棉县 天全县
芦山县 宝兴县 巴州区 恩阳区 通江县 南江县 平昌县 雁江区 安岳县 乐至县 马尔康市 西昌市
康定市
"""
REGIONS = _REGION_TEXT.split()
DEPARTMENTS = {
    "JT": "交通运输局",
    "WJ": "卫生健康委员会",
    "SJ": "市场监督管理局",
    "JY": "教育和体育局",
    "MZ": "民政局",
    "RS": "人力资源和社会保障局",
    "ZJ": "住房和城乡建设局",
    "SH": "生态环境局",
    "NY": "农业农村局",
    "GA": "公安局",
    "WL": "文化广播电视和旅游局",
    "SW": "商务局",
    "CG": "城市管理行政执法局",
    "YJ": "应急管理局",
    "SF": "司法局",
    "TJ": "统计局",
    "CZ": "财政局",
    "ZR": "自然资源和规划局",
    "YB": "医疗保障局",
    "FG": "发展和改革委员会",
    "KJ": "科学技术局",
    "SWJ": "税务局",
    "QX": "气象局",
    "SLJ": "水利局",
    "ZW": "政务服务管理局",
}
T = "机构名称 地址 经度 纬度 联系电话 开放时间"
TOPICS = [
    ("公交站点", "JT", "transport", "站点名称 经度 纬度 途经线路 候车亭", "公交站点的名称、位置和途经线路"),
    ("公交线路", "JT", "transport", "线路名称 起点站 终点站 首班时间 末班时间 票价", "公交线路的起讫站和票价"),
    ("公交车辆实时位置", "JT", "transport", "车辆编号 线路名称 经度 纬度 速度 更新时间", "公交车辆的实时位置"),
    ("出租汽车企业", "JT", "transport", "统一社会信用代码 机构名称 车辆数 经营类别", "巡游和网约出租汽车经营企业"),
    ("道路客运站", "JT", "transport", f"{T} 站级 主要班线", "汽车客运站的等级和班线"),
    ("公共自行车站点", "JT", "transport", "站点名称 经度 纬度 车桩数", "公共自行车租赁站点和车桩数量"),
    ("医院", "WJ", "health", f"{T} 医院等级 诊疗科目", "医院的等级、地址和诊疗科目"),
    ("医院床位", "WJ", "health", "机构名称 科室 开放床位 空余床位 更新时间", "医院各科室的开放床位和空余床位"),
    ("疫苗接种点", "WJ", "health", f"{T} 可接种疫苗", "预防接种门诊的地址和接种时间"),
    ("发热门诊", "WJ", "health", f"{T} 是否24小时接诊", "设置发热门诊的医疗机构"),
    ("献血点", "WJ", "health", T, "固定献血点和流动献血车停靠点"),
    ("母婴室", "WJ", "health", f"{T} 设施配置", "公共场所母婴室的位置和设施"),
    ("医保定点医药机构", "YB", "health", f"{T} 机构类别 支持异地结算", "医疗保障定点医疗机构和零售药店"),
    ("药品零售企业", "SJ", "health", f"{T} 药品经营许可证号", "持证药店的名称、地址和许可证号"),
    (
        "企业工商登记",
        "SJ",
        "economy",
        "统一社会信用代码 机构名称 企业类型 法定代表人 注册资本 成立日期",
        "企业的登记信息",
    ),
    ("个体工商户", "SJ", "economy", "统一社会信用代码 机构名称 经营者 经营范围 登记日期", "个体工商户的登记信息"),
    ("食品安全抽检", "SJ", "commerce", "食品名称 抽检环节 被抽样单位 检验结果", "食品安全监督抽检结果"),
    ("行政处罚决定", "SJ", "credit", "统一社会信用代码 行政相对人 处罚内容 处罚决定日期", "行政处罚决定双公示信息"),
    ("行政许可决定", "ZW", "credit", "统一社会信用代码 行政相对人 许可事项 决定日期", "行政许可决定双公示信息"),
    ("失信被执行人", "FG", "credit", "被执行人 统一社会信用代码 案号 执行法院", "纳入失信被执行人名单的法人和组织"),
    ("纳税信用A级纳税人", "SWJ", "credit", "纳税人名称 统一社会信用代码 评价年度", "纳税信用评价为A级的纳税人"),
    ("幼儿园", "JY", "culture-education", f"{T} 办园性质 班级数", "公办和民办幼儿园的办园性质和地址"),
    ("中小学校", "JY", "culture-education", f"{T} 学段 招生范围", "中小学的学段和招生范围"),
    ("校外培训机构", "JY", "culture-education", f"{T} 培训类别 办学许可证号", "经审批登记的校外培训机构"),
    ("公共体育场馆", "JY", "culture-education", f"{T} 运动项目 是否免费", "向社会开放的体育场馆"),
    ("养老服务机构", "MZ", "civil-affairs", f"{T} 床位数 收费标准", "养老院和日间照料中心"),
    ("老年人助餐点", "MZ", "civil-affairs", f"{T} 供餐时间 优惠政策", "社区老年食堂和助餐点"),
    ("婚姻登记机关", "MZ", "civil-affairs", f"{T} 预约方式", "婚姻登记处的地址和办公时间"),
    (
        "城乡低保",
        "MZ",
        "civil-affairs",
        "统计日期 所属区县 城市低保人数 农村低保人数 保障金支出",
        "最低生活保障对象人数",
    ),
    ("社保经办服务网点", "RS", "social-security", f"{T} 可办理业务", "社会保险经办窗口和社保卡网点"),
    ("就业服务机构", "RS", "social-security", f"{T} 服务内容", "公共就业服务机构和人力资源服务机构"),
    ("企业社保缴纳", "RS", "social-security", "统一社会信用代码 月份 参保人数 是否欠费", "企业参保人数和缴费状态"),
    ("公共停车场", "ZJ", "transport", f"{T} 泊位数 收费标准", "公共停车场的泊位数和收费标准"),
    ("停车位实时", "ZJ", "transport", "机构名称 总泊位 空余泊位 更新时间", "停车场的实时空余泊位"),
    ("在建工程项目", "ZJ", "urban", "项目名称 地址 建设单位 施工单位 开工日期", "在建房屋建筑和市政工程"),
    ("住宅小区物业服务", "ZJ", "urban", "小区名称 地址 物业服务企业 物业费标准", "住宅小区的物业服务企业和收费"),
    ("空气质量", "SH", "environment", "监测站点 空气质量指数 PM2.5浓度 更新时间", "空气质量监测站点的AQI和PM2.5"),
    ("地表水水质", "SH", "environment", "监测断面 统计日期 水质类别", "河流断面的水质类别"),
    ("农产品价格", "NY", "agriculture", "统计日期 品种 均价 市场", "农产品批发市场的蔬菜、肉类价格"),
    ("农民专业合作社", "NY", "agriculture", "统一社会信用代码 机构名称 成员数 主营产品", "农民专业合作社的成员和产品"),
    ("家庭农场", "NY", "agriculture", "机构名称 经营类型 经营面积", "家庭农场的经营类型和面积"),
    ("公安派出所", "GA", "public-safety", T, "公安派出所的地址和户籍窗口办公时间"),
    ("交通违法", "GA", "public-safety", "违法地点 违法行为 处理情况 统计日期", "道路交通违法行为的统计"),
    ("A级旅游景区", "WL", "culture-education", f"{T} 景区等级 门票价格", "A级旅游景区的等级和门票"),
    ("文物保护单位", "WL", "culture-education", "名称 保护级别 年代 地址", "各级文物保护单位"),
    ("图书馆", "WL", "culture-education", f"{T} 馆藏总量", "公共图书馆的馆藏和开放时间"),
    ("农贸市场", "SW", "commerce", f"{T} 摊位数", "农贸市场的摊位数和开市时间"),
    ("加油加气站", "SW", "commerce", f"{T} 油气品种", "加油站和加气站的油品种类"),
    ("电动汽车充电设施", "SW", "resources", f"{T} 充电桩数 单桩功率", "公共充电站的充电桩数量和功率"),
    ("公共厕所", "CG", "urban", "公厕名称 地址 经度 纬度 无障碍设施", "城市公共厕所的位置和无障碍设施"),
    ("生活垃圾分类投放点", "CG", "urban", "投放点名称 地址 可投放类别", "生活垃圾分类投放点"),
    ("公园广场", "CG", "urban", f"{T} 面积", "城市公园和广场的位置和面积"),
    ("应急避难场所", "YJ", "public-safety", f"{T} 有效面积 可容纳人数", "应急避难场所的面积和容量"),
    ("消防救援站", "YJ", "public-safety", T, "消防救援站的位置和值守电话"),
    ("公共法律服务机构", "SF", "government", f"{T} 服务内容", "公证处和法律援助中心"),
    ("主要经济指标", "TJ", "economy", "统计日期 指标名称 数值 同比增长", "地区生产总值等主要经济指标"),
    ("财政预决算", "CZ", "economy", "年度 科目 预算数 决算数", "一般公共预算收支的预算和决算"),
    ("国有建设用地供应", "ZR", "geospatial", "地块编号 地址 土地用途 面积 成交价", "国有建设用地出让和划拨"),
    ("医疗保险参保", "YB", "social-security", "统计日期 所属区县 险种 参保人数", "基本医疗保险参保人数"),
    ("高新技术企业", "KJ", "science", "统一社会信用代码 机构名称 证书编号 有效期至", "经认定的高新技术企业"),
    ("专利授权", "KJ", "science", "专利号 专利名称 专利类型 专利权人 授权日期", "发明、实用新型和外观设计专利"),
    ("气象预警", "QX", "environment", "预警类型 预警级别 影响区域 发布时间", "暴雨、高温、大风等预警信号"),
    ("河道水位", "SLJ", "resources", "监测站 水位 警戒水位 更新时间", "主要河道监测站的实时水位"),
    ("政务服务网点", "ZW", "government", f"{T} 可办事项数", "政务服务中心和便民服务中心"),
]
ASPECTS = ("信息", "名录", "统计", "基本信息", "分布", "年度报告", "目录", "明细", "实时监测", "汇总")
EXTRA = (
    "数据来源于部门业务系统，经审核后发布。",
    "按月更新，历史数据可追溯。",
    "不含个人隐私信息。",
    "可用于公众查询和便民服务。",
    "按季度汇总发布。",
    "数据经脱敏处理后开放。",
    "支持按区县和日期筛选。",
    "提供文件下载和接口调用两种方式。",
)


def worker_load_synthetic(out: Path, docs: int, seed: int) -> None:
    """Migrate, bulk-load `docs` generated datasets with the ORM (no per-dataset service), then reindex, timed."""
    from django.core.management import call_command

    _django()
    from django.utils import timezone

    from citydata.accounts.models import Department
    from citydata.catalog.models import Dataset, DatasetField, DatasetStatus, Domain, Frequency, OpenType, Resource
    from citydata.search import index

    call_command("migrate", interactive=False, verbosity=0)
    rng = random.Random(seed)
    now = timezone.now()
    Department.objects.bulk_create(
        [Department(code=f"S{code}", name=f"省{name}") for code, name in DEPARTMENTS.items()], ignore_conflicts=True
    )
    department_ids = dict(Department.objects.filter(code__startswith="S").values_list("code", "id"))
    domain_ids = dict(Domain.objects.values_list("code", "id"))
    frequencies = [f.value for f in Frequency]
    open_types = [OpenType.OPEN] * 6 + [OpenType.CONDITIONAL] * 3 + [OpenType.CLOSED]
    formats = ("CSV", "XLSX", "JSON", "API", "XML")
    through = Dataset.domains.through
    started = time.perf_counter()
    titles: list[str] = []
    batch = 5000
    for start in range(0, docs, batch):
        specs = []
        for i in range(start, min(docs, start + batch)):
            obj, dept, domain, field_text, what = TOPICS[rng.randrange(len(TOPICS))]
            region = REGIONS[rng.randrange(len(REGIONS))]
            aspect = ASPECTS[rng.randrange(len(ASPECTS))]
            year = f"{rng.randint(2016, 2025)}年" if rng.random() < 0.4 else ""
            title = f"{year}{region}{obj}{aspect}"[:120]
            description = f"{region}{what}{aspect}。" + "".join(rng.sample(EXTRA, 2))
            updated = now - dt.timedelta(days=rng.randint(0, 900))
            dataset = Dataset(
                slug=f"syn-{i:06d}",
                title=title,
                description=description,
                department_id=department_ids[f"S{dept}"],
                tags=[region, obj] + ([year] if year else []),
                open_type=open_types[rng.randrange(len(open_types))],
                update_frequency=frequencies[rng.randrange(len(frequencies))],
                status=DatasetStatus.PUBLISHED,
                published_at=updated,
                last_data_update=updated,
                created_at=updated,
                updated_at=updated,
                view_count=int(rng.paretovariate(1.2) * 10),
                download_count=int(rng.paretovariate(1.5) * 2),
            )
            fields = field_text.split()
            specs.append((dataset, domain, fields[: rng.randint(max(2, len(fields) - 2), len(fields))]))
            titles.append(title)
        created = Dataset.objects.bulk_create([s[0] for s in specs])
        DatasetField.objects.bulk_create(
            [
                DatasetField(dataset_id=d.pk, position=k, name=f"col{k}", title=name)
                for d, (_ds, _dom, fields) in zip(created, specs, strict=True)
                for k, name in enumerate(fields)
            ]
        )
        links = [
            through(dataset_id=d.pk, domain_id=domain_ids[dom])
            for d, (_ds, dom, _f) in zip(created, specs, strict=True)
        ]
        through.objects.bulk_create(links)
        Resource.objects.bulk_create(
            [
                Resource(dataset_id=d.pk, name=d.title[:120], format=formats[rng.randrange(len(formats))])
                for d in created
            ]
        )
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    report = index.reindex_all()
    reindex_seconds = time.perf_counter() - started
    sample = random.Random(seed + 1).sample(titles, 8)
    out.write_text(
        json.dumps(
            {"load_s": load_seconds, "reindex_s": reindex_seconds, "indexed": report["indexed"], "titles": sample},
            ensure_ascii=False,
        )
    )


# --- relevance ---------------------------------------------------------------------------------------------


def relevance(args) -> dict:
    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    queries = load_queries()
    rankings: dict[str, dict[str, list[str]]] = {}
    engine_ms: dict[str, dict[str, float]] = {}
    built = ensure_demo(Path(args.demo_var), fresh=args.fresh)
    result = run_worker("rank", _env(Path(args.demo_var)), data / "rank-sqlite.json")
    rankings["sqlite"], engine_ms["sqlite"] = result["rankings"], result["ms"]
    catalog = result["catalog"]
    notes = [f"demo catalog: {len(catalog)} published datasets" + (f" (built in {built:.0f} s)" if built else "")]
    if args.postgres and postgres_available():
        pg_db = f"{args.pg_prefix}_demo"
        url = f"{PG_SERVER}/{pg_db}"
        var = data / "var-demo-pg"
        built = ensure_demo(var, url, pg_db=pg_db, fresh=args.fresh)
        result = run_worker("rank", _env(var, url), data / "rank-postgres.json")
        rankings["postgres"], engine_ms["postgres"] = result["rankings"], result["ms"]
        if built:
            notes.append(f"PostgreSQL demo built in {built:.0f} s")
    for name, bigrams in (("fts5", False), ("bigram", True)):
        baseline = Fts5Baseline(catalog, bigrams=bigrams)
        rankings[name], engine_ms[name] = {}, {}
        for row in queries:
            started = time.perf_counter()
            rankings[name][row["id"]] = baseline.search(row["query"])
            engine_ms[name][row["id"]] = (time.perf_counter() - started) * 1000
    systems = [s for s in SYSTEMS if s in rankings]
    scores: dict[str, dict[str, dict[str, float]]] = {s: {} for s in systems}
    for system in systems:
        for row in queries:
            ranking = rankings[system][row["id"]]
            scores[system][row["id"]] = {
                "mrr": reciprocal_rank(ranking, row["grades"]),
                "r10": recall_at_10(ranking, row["grades"]),
                "ndcg": ndcg_at_10(ranking, row["grades"]),
                "zero": float(not ranking),
            }
    print(f"\n## Search relevance ({len(queries)} queries; {'; '.join(notes)})\n")
    _overall_table(queries, systems, scores, engine_ms)
    for metric, label in (("ndcg", "nDCG@10"), ("mrr", "MRR"), ("r10", "recall@10")):
        _type_table(queries, systems, scores, metric, label)
    _acceptance_table(queries, systems, rankings)
    if "postgres" in rankings:
        same = sum(rankings["sqlite"][r["id"]][:10] == rankings["postgres"][r["id"]][:10] for r in queries)
        print(f"\nSQLite and PostgreSQL return the same top 10 for {same} of {len(queries)} queries.")
        for r in queries:
            if rankings["sqlite"][r["id"]][:10] != rankings["postgres"][r["id"]][:10]:
                print(f"- differs: {r['id']} {r['query']}")
    if args.failures:
        _failures(queries, rankings, scores)
    (data / "relevance.json").write_text(
        json.dumps({"rankings": rankings, "scores": scores}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return scores


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _overall_table(queries, systems, scores, engine_ms) -> None:
    print("| system | MRR | recall@10 | nDCG@10 | no result | median ms/query |")
    print("|---|---:|---:|---:|---:|---:|")
    for s in systems:
        rows = [scores[s][q["id"]] for q in queries]
        print(
            f"| {SYSTEMS[s]} | {_mean(r['mrr'] for r in rows):.3f} | {_mean(r['r10'] for r in rows):.3f} | "
            f"{_mean(r['ndcg'] for r in rows):.3f} | {_mean(r['zero'] for r in rows):.0%} | "
            f"{statistics.median(engine_ms[s].values()):.1f} |"
        )


def _type_table(queries, systems, scores, metric, label) -> None:
    print(f"\n**{label} by query type**\n")
    print("| type | n | " + " | ".join(SYSTEMS[s] for s in systems) + " |")
    print("|---|---:|" + "---:|" * len(systems))
    for kind in (*TYPES, "all"):
        chosen = [q for q in queries if kind in ("all", q["type"])]
        if not chosen:
            continue
        cells = [f"{_mean(scores[s][q['id']][metric] for q in chosen):.3f}" for s in systems]
        print(f"| {kind} | {len(chosen)} | " + " | ".join(cells) + " |")


def _acceptance_table(queries, systems, rankings) -> None:
    print("\n**Issue 5 acceptance queries: rank of the best-graded dataset (— = not in the first 100)**\n")
    print("| query | " + " | ".join(SYSTEMS[s] for s in systems) + " |")
    print("|---|" + "---:|" * len(systems))
    by_text = {q["query"]: q for q in queries}
    for text in ACCEPTANCE:
        q = by_text.get(text)
        if q:
            cells = [str(first_good_rank(rankings[s][q["id"]], q["grades"]) or "—") for s in systems]
            print(f"| {text} | " + " | ".join(cells) + " |")


def _failures(queries, rankings, scores) -> None:
    print("\n**CityData (SQLite) queries with nDCG@10 < 0.5**\n")
    for q in queries:
        s = scores["sqlite"][q["id"]]
        if s["ndcg"] < 0.5:
            top = " ".join(rankings["sqlite"][q["id"]][:3]) or "(nothing)"
            best = [slug for slug, g in q["grades"].items() if g == max(q["grades"].values())][:2]
            print(f"- {q['id']} {q['type']} `{q['query']}` nDCG {s['ndcg']:.2f}: top {top}; wanted {' '.join(best)}")


# --- latency -----------------------------------------------------------------------------------------------

LATENCY_QUERIES = {
    "short word": ["公交", "医院", "企业", "学校", "停车场", "信息", "统计"],
    "several words": ["江油市 公交站点", "医院 床位", "企业 信用", "锦江区 幼儿园", "2023年 空气质量", "养老 床位"],
    "pinyin/initials": ["gongjiao", "yiyuan", "tingchechang", "jiangyou gongjiao", "gj", "yycw"],
    "typo": ["公交实事", "医院床味", "停车厂", "幼儿圆", "医院床住", "空气质最"],
    "colloquial": [
        "我想查公交车现在在哪",
        "哪里可以打疫苗",
        "附近的充电桩在哪里",
        "医院还有没有空床位",
        "今天空气怎么样",
    ],
    "English/mixed": ["PM2.5", "AQI", "2023年 PM2.5", "GDP", "A级景区"],
    "no match": ["量子计算机", "火星基地", "xyzqwv", "区块链专利交易"],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, float, bytes]:
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    return response.status, (time.perf_counter() - started) * 1000, body


def _measure(var: Path, database_url: str, queries: dict[str, list[str]], rounds: int) -> dict:
    port = _free_port()
    log = (var / "serve.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [str(BIN / "citydata"), "serve", "--port", str(port), "--no-worker"],
        env=_env(var, database_url),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    timings: dict[str, list[float]] = defaultdict(list)
    totals: dict[str, int] = {}
    errors = 0
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/api/v1/search?q=x")
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"citydata serve did not start; see {var / 'serve.log'}") from None
                time.sleep(0.5)
        flat = [(cls, q) for cls, qs in queries.items() for q in qs]
        for round_no in range(rounds + 2):  # two warm-up passes: each gunicorn worker loads jieba and its caches
            for cls, q in flat:
                path = "/api/v1/search?q=" + quote(q) + "&size=20"
                try:
                    status, ms, body = _get(conn, path)
                except (OSError, http.client.HTTPException):
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    status, ms, body = _get(conn, path)
                if status != 200:
                    errors += 1
                    continue
                if round_no >= 2:
                    timings[cls].append(ms)
                    totals[q] = json.loads(body)["total"]
    finally:
        server.terminate()  # `citydata serve` stops its gunicorn on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    return {"timings": timings, "totals": totals, "errors": errors, "queries": queries}


def worker_cpu(out: Path, queries_file: Path, rounds: int) -> None:
    """Every latency query through the test client in this process: CPU and wall milliseconds per request."""
    _django()
    from django.test import Client

    queries = json.loads(queries_file.read_text(encoding="utf-8"))
    client = Client(HTTP_HOST="127.0.0.1")
    cpu: dict[str, list[float]] = defaultdict(list)
    wall: dict[str, list[float]] = defaultdict(list)
    totals: dict[str, int] = {}
    estimated: dict[str, bool] = {}
    load = [os.getloadavg()[0]]
    for round_no in range(rounds + 2):  # two warm-up passes: jieba, the caches and SQLite's pages load once
        for cls, qs in queries.items():
            for q in qs:
                started_cpu, started = time.thread_time(), time.perf_counter()
                response = client.get("/api/v1/search", {"q": q, "size": 20})
                spent_cpu, spent = time.thread_time() - started_cpu, time.perf_counter() - started
                if response.status_code != 200:
                    raise RuntimeError(f"{q}: {response.status_code} {response.content[:200]!r}")
                if round_no >= 2:
                    cpu[cls].append(spent_cpu * 1000)
                    wall[cls].append(spent * 1000)
                    body = response.json()
                    totals[q], estimated[q] = body["total"], bool(body.get("facets_estimated"))
    load.append(os.getloadavg()[0])
    out.write_text(
        json.dumps({"cpu": cpu, "wall": wall, "totals": totals, "estimated": estimated, "load": load}),
        encoding="utf-8",
    )


def cpu_latency(args) -> None:
    """The latency queries timed in-process (CPU and wall) on the SQLite catalog the latency part built."""
    data = Path(args.data_dir)
    var = data / "var-synth-sqlite"
    loaded = data / "load-SQLite.json"
    if not loaded.exists() or _published_count_sqlite(var) < args.docs:
        raise SystemExit(f"no complete generated catalog under {data}: run --latency first")
    subprocess.run([str(BIN / "citydata"), "migrate", "-v0"], env=_env(var), check=True)  # noqa: S603
    load = json.loads(loaded.read_text(encoding="utf-8"))
    queries = {**LATENCY_QUERIES, "exact title": load["titles"][:6]}
    queries_file = data / "cpu-queries.json"
    queries_file.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    env = {**_env(var), "CITYDATA_RATE_ANON_PER_MINUTE": "100000000"}
    result = run_worker("cpu", env, data / "cpu.json", "--queries", str(queries_file), "--rounds", str(args.rounds))
    requests = sum(len(v) for v in result["cpu"].values())
    print(
        f"\n## Search API in-process, SQLite ({args.docs:,} generated datasets, {requests} requests, "
        f"load average {result['load'][0]:.1f} → {result['load'][1]:.1f})\n"
    )
    print("| query class | requests | CPU p50 ms | CPU p95 ms | CPU mean ms | wall p50 ms | wall p95 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    classes = list(result["cpu"])
    for cls in [*classes, "all"]:
        chosen = classes if cls == "all" else [cls]
        cpu = [v for c in chosen for v in result["cpu"][c]]
        wall = [v for c in chosen for v in result["wall"][c]]
        print(
            f"| {cls} | {len(cpu)} | {_pct(cpu, 0.5):.1f} | {_pct(cpu, 0.95):.1f} | {statistics.mean(cpu):.1f} | "
            f"{_pct(wall, 0.5):.1f} | {_pct(wall, 0.95):.1f} |"
        )
    estimated = sorted(q for q, flag in result["estimated"].items() if flag)
    if estimated:
        print("\nFacet counts estimated (more matches than are counted exactly): " + ", ".join(estimated))


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))]


def latency(args) -> None:
    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    backends = [("SQLite", data / "var-synth-sqlite", "", "")]
    if args.postgres and postgres_available():
        pg_db = f"{args.pg_prefix}_synth"
        backends.append(("PostgreSQL", data / "var-synth-pg", f"{PG_SERVER}/{pg_db}", pg_db))
    results = {}
    for label, var, url, pg_db in backends:
        loaded = data / f"load-{label}.json"
        count = _published_count_postgres(pg_db) if pg_db else _published_count_sqlite(var)
        if args.reuse and loaded.exists() and count >= args.docs:
            load = json.loads(loaded.read_text(encoding="utf-8"))  # measure the catalog built last time
            subprocess.run([str(BIN / "citydata"), "migrate", "-v0"], env=_env(var, url), check=True)  # noqa: S603
        else:
            if var.exists():
                shutil.rmtree(var)
            var.mkdir(parents=True)
            if pg_db:
                _recreate_pg_database(pg_db)
            load = run_worker("load", _env(var, url), loaded, "--docs", str(args.docs))
        queries = {**LATENCY_QUERIES, "exact title": load["titles"][:6]}
        measured = _measure(var, url, queries, args.rounds)
        results[label] = (load, measured)
    print(f"\n## Search API latency ({args.docs:,} generated datasets, {args.rounds} rounds, one client)\n")
    print("| backend | bulk load s | reindex_all s | indexed rows/s |")
    print("|---|---:|---:|---:|")
    for label, (load, _m) in results.items():
        rate = load["indexed"] / load["reindex_s"] if load["reindex_s"] else 0
        print(f"| {label} | {load['load_s']:.0f} | {load['reindex_s']:.0f} | {rate:,.0f} |")
    _latency_table(results)
    labels = list(results)
    for lb in labels:
        if results[lb][1]["errors"]:
            print(f"\n{lb}: {results[lb][1]['errors']} requests did not answer 200.")
    (data / "latency.json").write_text(
        json.dumps(
            {lb: {"load": r[0], "totals": r[1]["totals"], "timings": r[1]["timings"]} for lb, r in results.items()},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


def _latency_table(results: dict) -> None:
    """p50/p95/max per query class and backend; `total` is what the API reports (the engine caps it)."""
    labels = list(results)
    head = " | ".join(f"{lb} p50 ms | {lb} p95 ms | {lb} max ms" for lb in labels)
    print(f"\n| query class | requests | {head} | median API total |")
    print("|---|---:|" + "---:|---:|---:|" * len(labels) + "---:|")
    first = results[labels[0]][1]
    classes = list(first["timings"])
    for cls in [*classes, "all"]:
        chosen = classes if cls == "all" else [cls]
        cells = []
        for lb in labels:
            values = [v for c in chosen for v in results[lb][1]["timings"][c]] or [math.nan]
            cells.append(f"{_pct(values, 0.5):.0f} | {_pct(values, 0.95):.0f} | {max(values):.0f}")
        totals = [first["totals"].get(q, 0) for c in chosen for q in first["queries"][c]]
        requests = sum(len(first["timings"][c]) for c in chosen)
        print(f"| {cls} | {requests} | " + " | ".join(cells) + f" | {statistics.median(totals):.0f} |")


# --- entry -------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--relevance", action="store_true", help="Run the relevance part (default: both parts)")
    parser.add_argument("--latency", action="store_true", help="Run the latency part (default: both parts)")
    parser.add_argument("--docs", type=int, default=100_000, help="Generated datasets for the latency part")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument("--no-postgres", dest="postgres", action="store_false", help="SQLite only")
    parser.add_argument("--fresh", action="store_true", help="Rebuild the demo catalogs even if present")
    parser.add_argument(
        "--reuse", action="store_true", help="Latency: measure the generated catalog of the last run if it is complete"
    )
    parser.add_argument(
        "--cpu", action="store_true", help="Latency: time the requests in-process (CPU and wall) instead of over HTTP"
    )
    parser.add_argument("--failures", action="store_true", help="List the queries CityData answers badly")
    parser.add_argument("--data-dir", default="/tmp/searchbench", help="Scratch data (never committed)")
    parser.add_argument("--demo-var", default="/tmp/searchbench-var", help="CITYDATA_VAR_DIR of the SQLite demo")
    parser.add_argument(
        "--pg-prefix", default=PG_PREFIX, help="PostgreSQL scratch databases: <prefix>_demo and <prefix>_synth"
    )
    parser.add_argument("--worker", choices=("rank", "load", "cpu"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--queries", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "rank":
        return worker_rank(Path(args.out))
    if args.worker == "load":
        return worker_load_synthetic(Path(args.out), args.docs, args.seed)
    if args.worker == "cpu":
        return worker_cpu(Path(args.out), Path(args.queries), args.rounds)
    both = not (args.relevance or args.latency)
    if args.relevance or both:
        relevance(args)
    if (args.latency or both) and args.cpu:
        cpu_latency(args)
    elif args.latency or both:
        latency(args)


if __name__ == "__main__":
    main()
