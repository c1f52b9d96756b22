"""Demo accounts and departments: one login per role, a city's departments with named staff.

Loading is idempotent: every item is looked up by its natural key first, so a second run changes
nothing (and records nothing in the audit trail).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from citydata.accounts import services
from citydata.accounts.models import Department, DepartmentDuty, Organisation, Role, Stage, User

DEMO_PASSWORD = "Demo-2026!"  # noqa: S105 - printed on screen for the demo; never used outside it

# (code, name) of a city's data-holding departments.
DEPARTMENTS = [
    ("ZGJ", "市政务服务监督管理局"),
    ("DSJ", "市大数据中心"),
    ("FGW", "市发展和改革委员会"),
    ("JYJ", "市教育和体育局"),
    ("KJJ", "市科学技术局"),
    ("GAJ", "市公安局"),
    ("MZJ", "市民政局"),
    ("SFJ", "市司法局"),
    ("RSJ", "市人力资源和社会保障局"),
    ("ZRZYJ", "市自然资源和规划局"),
    ("STHJJ", "市生态环境局"),
    ("ZJJ", "市住房和城乡建设局"),
    ("JTJ", "市交通运输局"),
    ("NYJ", "市农业农村局"),
    ("SWJ", "市商务局"),
    ("WGLJ", "市文化广播电视和旅游局"),
    ("WJW", "市卫生健康委员会"),
    ("YJJ", "市应急管理局"),
    ("SCJ", "市市场监督管理局"),
    ("YBJ", "市医疗保障局"),
    ("GJJ", "市住房公积金管理中心"),
    ("SWGS", "市水务集团"),
]


@dataclass(frozen=True)
class DemoUser:
    role_label: str
    email: str
    mobile: str
    name: str
    role: str | None = None
    department: str | None = None
    landing: str = ""


DEMO_USERS = [
    DemoUser("平台运营方", "operator@demo.citydata.cn", "13800000001", "王运营", Role.OPERATOR, landing="/console/"),
    DemoUser(
        "数据提供部门（交通运输局）",
        "jtj@demo.citydata.cn",
        "13800000002",
        "李交通",
        Role.PROVIDER,
        "JTJ",
        "/workspace/",
    ),
    DemoUser(
        "数据提供部门（卫健委）", "wjw@demo.citydata.cn", "13800000003", "张卫健", Role.PROVIDER, "WJW", "/workspace/"
    ),
    DemoUser(
        "安全审计员", "auditor@demo.citydata.cn", "13800000004", "赵审计", Role.AUDITOR, landing="/security/audit/"
    ),
    DemoUser("专家", "expert@demo.citydata.cn", "13800000005", "钱专家", Role.EXPERT, landing="/expert/"),
    DemoUser("专家（二）", "expert2@demo.citydata.cn", "13800000008", "吴专家", Role.EXPERT, landing="/expert/"),
    DemoUser("组织管理员（银行）", "bank@demo.citydata.cn", "13800000006", "孙金融", landing="/account/"),
    DemoUser("注册用户（市民）", "citizen@demo.citydata.cn", "13800000007", "周市民", landing="/account/"),
]

DEMO_BANK = ("绵阳示范商业银行股份有限公司", "91510700MA62Q0XK36")

DUTIES = {
    "JTJ": {
        Stage.INVENTORY: "jtj@demo.citydata.cn",
        Stage.PUBLISHING: "jtj@demo.citydata.cn",
        Stage.APPLICATION_REVIEW: "jtj@demo.citydata.cn",
        Stage.FEEDBACK: "jtj@demo.citydata.cn",
        Stage.SECURITY: "jtj@demo.citydata.cn",
    },
    "WJW": {Stage.INVENTORY: "wjw@demo.citydata.cn", Stage.PUBLISHING: "wjw@demo.citydata.cn"},
}


@transaction.atomic
def load() -> dict[str, int]:
    """Create whatever of the demo is missing. Returns how many items were created, by kind."""
    created = {"departments": 0, "users": 0, "roles": 0, "duties": 0, "organisations": 0}
    departments = {}
    for code, name in DEPARTMENTS:
        department = Department.objects.filter(code=code).first()
        if department is None:
            department = services.department_create(by=None, code=code, name=name)
            created["departments"] += 1
        departments[code] = department

    users = {}
    for spec in DEMO_USERS:
        user = User.objects.filter(email=spec.email).first()
        if user is None:
            user = services.user_create(
                by=None, email=spec.email, mobile=spec.mobile, password=DEMO_PASSWORD, display_name=spec.name
            )
            created["users"] += 1
        users[spec.email] = user
        if spec.role:
            department = departments.get(spec.department) if spec.department else None
            if not user.role_assignments.filter(role=spec.role, department=department).exists():
                services.role_grant(by=None, user=user, role=spec.role, department=department)
                created["roles"] += 1

    for code, stages in DUTIES.items():
        for stage, email in stages.items():
            if not DepartmentDuty.objects.filter(department=departments[code], stage=stage, user=users[email]).exists():
                services.duty_assign(by=None, department=departments[code], stage=stage, user=users[email])
                created["duties"] += 1

    name, uscc = DEMO_BANK
    bank_admin = users["bank@demo.citydata.cn"]
    if not Organisation.objects.filter(uscc=uscc).exists():
        services.organisation_create(by=bank_admin, name=name, uscc=uscc, type="bank")
        created["organisations"] += 1
    return created
