from django import forms
from django.utils.translation import gettext_lazy as _

from citydata.datastore.models import BadRowPolicy


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("数据文件"),
        help_text=_(
            "CSV、TSV（UTF-8 或 GBK 编码均可）、XLSX、XLS、JSON、JSON Lines 或 GeoJSON。第一行为表头，中文表头可以。"
        ),
    )
    bad_rows = forms.ChoiceField(
        label=_("遇到错误行时"), choices=BadRowPolicy.choices, initial=BadRowPolicy.REJECT, widget=forms.RadioSelect
    )
