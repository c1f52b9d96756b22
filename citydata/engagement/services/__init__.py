"""Every write of the engagement app, split by sub-domain; callers use `services.<name>`."""

from citydata.engagement.services.clock import deadlines_tick
from citydata.engagement.services.common import content_hide
from citydata.engagement.services.complaints import complaint_resolve, complaint_submit, complaint_take_down
from citydata.engagement.services.datasets import (
    comment_approve,
    comment_reply,
    comment_submit,
    error_report_answer,
    error_report_resolve,
    error_report_submit,
    moderation_mode,
    moderation_mode_set,
    rating_delete,
    rating_set,
)
from citydata.engagement.services.requests import (
    data_request_accept,
    data_request_decline,
    data_request_from_search,
    data_request_fulfil,
    data_request_route,
    data_request_submit,
    suggestion_answer,
    suggestion_submit,
)

__all__ = [
    "comment_approve",
    "comment_reply",
    "comment_submit",
    "complaint_resolve",
    "complaint_submit",
    "complaint_take_down",
    "content_hide",
    "data_request_accept",
    "data_request_decline",
    "data_request_from_search",
    "data_request_fulfil",
    "data_request_route",
    "data_request_submit",
    "deadlines_tick",
    "error_report_answer",
    "error_report_resolve",
    "error_report_submit",
    "moderation_mode",
    "moderation_mode_set",
    "rating_delete",
    "rating_set",
    "suggestion_answer",
    "suggestion_submit",
]
