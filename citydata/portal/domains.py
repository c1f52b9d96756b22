"""The plan's seven priority domains (R1.1), shown on the home page until the catalog makes them data."""

from django.utils.translation import gettext_lazy as _

PRIORITY_DOMAINS = [
    (_("防疫复工"), _("确诊统计、病例详情、救助机构")),
    (_("卫生健康"), _("公共卫生、医疗资源、药品安全")),
    (_("交通出行"), _("地面公交、静态交通、路网运行")),
    (_("文化教育"), _("在线教学、文化场馆、博物馆藏")),
    (_("信用服务"), _("企业工商、失信、行政处罚")),
    (_("商业服务"), _("食品安全、商业场所、市场监管")),
    (_("普惠金融"), _("民政、三农、水电气")),
]
