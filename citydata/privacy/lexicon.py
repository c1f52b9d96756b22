"""Word lists the detectors rely on: Chinese surnames, province-level divisions and province codes, and the words
around personal data that tell one kind from another. Facts, kept apart so detectors.py stays readable."""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The Hundred Family Surnames (百家姓, single-character part) and the common modern surnames it lacks. Surnames
# that are also everyday words and almost never names in practice (有, 年, 爱, 法, 后, 福, 言, 第) are left out:
# they cost precision when a column of short words is classified.
_HUNDRED_FAMILY = (
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎"
    "鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞齐康伍余元卜顾孟平黄"
    "和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童颜郭"
    "梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪干解应宗丁宣贲邓郁单杭洪包诸左石崔吉钮龚"
    "程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫"
    "宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴郁胥能苍双"
    "闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍郤璩桑桂濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连茹习宦艾鱼容"
    "向古易慎戈廖庾终暨居衡步都耿满弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空"
    "曾毋沙乜养鞠须丰巢关蒯相查荆红游竺权逯盖益桓公晋楚闫汝鄢涂钦岳帅缑亢况琴佘佴墨哈谯笪阳佟商"
)
_MODERN = "付肖代兰覃冼仝邸练粟揭银战遇蹇隋苟种芦琚郗邝植区麦"

SINGLE_SURNAMES: frozenset[str] = frozenset(_HUNDRED_FAMILY + _MODERN)

COMPOUND_SURNAMES: frozenset[str] = _words(
    """万俟 司马 上官 欧阳 夏侯 诸葛 闻人 东方 赫连 皇甫 尉迟 公羊 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠
    公孙 仲孙 轩辕 令狐 钟离 宇文 长孙 慕容 鲜于 闾丘 司徒 司空 亓官 司寇 子车 颛孙 端木 巫马 公西 漆雕
    乐正 壤驷 公良 拓跋 夹谷 宰父 谷梁 段干 百里 东郭 南门 呼延 归海 羊舌 微生 梁丘 左丘 东门 西门 南宫
    第五"""
)

# Last characters that end place names, institutions and illnesses, and almost never a given name: a cell that
# ends with one of them is not taken for a person's name.
NON_NAME_ENDINGS = frozenset("病症炎瘤癌伤痛科区市县省路街巷院局所站室部处司厂店馆校队组村镇乡楼号厅会库场")

# Characters that, right after a surname and one given character, more likely start the next word than end a
# two-character given name ("患者张三因发热入院", "家属李四电话…"). A limit of the method: names whose second given
# character is one of these lose that character.
AFTER_NAME = frozenset(
    "因于在的是到来去和与及等说称电联住系入出就诉主自为已今昨前后共现曾被把向从对给让将要有无不也都又还所"
    "以之而或先女男同年月日岁性身手家父母妻夫儿之患病诊头腹胸咳发突反复持昨今经需需签确核本户陪"
)

# Words that name a person just before the name: headers and running text.
NAME_CONTEXT = (
    "姓名",
    "患者",
    "病人",
    "联系人",
    "紧急联系人",
    "申请人",
    "家属",
    "监护人",
    "户主",
    "就诊人",
    "投诉人",
    "举报人",
    "当事人",
    "法定代表人",
    "法人",
    "负责人",
    "经办人",
    "收件人",
    "寄件人",
    "签字人",
    "驾驶人",
    "驾驶员",
    "车主",
    "持卡人",
    "户名",
    "开户人",
    "医生",
    "医师",
    "护士",
    "姓名为",
    "本人",
    "委托人",
    "受托人",
    "被保险人",
    "投保人",
    "学生",
    "员工",
    "职工",
)
# Titles just after a name.
NAME_TITLES = ("先生", "女士", "同志", "老师", "医生", "医师", "护士", "师傅")

# Province-level divisions, as they open an address.
PROVINCES = (
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
    "台湾",
    "香港",
    "澳门",
)

# GB/T 2260 province-level codes (the first two digits of a resident ID and of a region code); 83 is used by
# residence permits of Taiwan residents. Only this level is checked: county codes change, and old IDs keep
# codes that no current table lists (Mianyang's 510703/510704).
PROVINCE_CODES: frozenset[str] = _words(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83"
)

# One-character abbreviations that open a vehicle plate.
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

# Words just before a value that tell which kind it is; they decide between a bank card and a resident ID when an
# 18-digit number passes both checks.
BANK_CONTEXT = ("银行卡", "卡号", "银行", "账号", "帐号", "账户", "帐户", "储蓄卡", "信用卡", "借记卡", "开户", "银联")
ID_CONTEXT = ("身份证", "公民身份", "身份号", "证件号", "证件号码", "证号", "身份证号码", "居民身份")
USCC_CONTEXT = ("信用代码", "社会信用", "营业执照", "纳税人识别号", "税号", "机构代码", "企业代码")

# Words that start with a surname character but begin a clinical or everyday phrase, not a name
# ("患者高热三天", "患者家属张三", "患者于昨日入院").
NOT_NAME_STARTS = _words(
    """于昨 于今 于前 于当 于本 于近 于去 于上 于下 于早 于晚 于次 于入 于门 于家 于外 于我 于该 于年 于月 于日
    家属 家中 家人 家里 高热 高烧 高血 高度 双下 双侧 双眼 双肺 双手 左侧 左下 左上 左眼 左手 右侧 全身 全部 明显
    明日 经治 经检 经过 经查 有无 时有 时感 常规 平素 平时 同意 安静 方便 能够 成功 通过 向家 和家 从事 文化 单位
    本人 国家 公司 公安 石家 伍佰 万元 于是 于此 江苏 江西 广东 广西 山东 山西 云南 湖北 湖南 宁夏 吉林 安徽 福建
    海南 贵州 甘肃 青海 黑龙 辽宁 河南 河北 四川 重庆 上海 天津 北京 西藏 新疆 香港 澳门 台湾 内蒙"""
)
LEADING_WORDS = frozenset("和向从于给让叫跟同与及")

# After a name with a middle dot, whose transliterated parts (阿不都, 买买提) use characters of every kind: only the
# characters that surely start the next word end it (电话, 的, 手机, 身份证, 因…).
AFTER_DOTTED_NAME = frozenset("电的手身因于在是和与及等说称联住家已今昨为被向从陪，")
