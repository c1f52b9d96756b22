"""Example items of the plan's seven priority domains (R1.4), shown under each domain tile on the home page."""

from django.utils.translation import gettext_lazy as _

DOMAIN_EXAMPLES = [
    ("epidemic", _("确诊统计、病例详情、救助机构")),
    ("health", _("公共卫生、医疗资源、药品安全")),
    ("transport", _("地面公交、静态交通、路网运行")),
    ("culture-education", _("在线教学、文化场馆、博物馆藏")),
    ("credit", _("企业工商、失信、行政处罚")),
    ("commerce", _("食品安全、商业场所、市场监管")),
    ("finance", _("民政、三农、水电气")),
]
