"""What the engagement app tells the rest of the platform."""

from django.dispatch import Signal

# Sent when a department confirms a user's error report (纠错) is right: kwargs `report`, `by`.
# The quality app turns it into a rectification task.
error_report_confirmed = Signal()

# Sent when the department marks a confirmed error report fixed itself: kwargs `report`, `by`. The quality
# app closes the rectification task it opened for the report.
error_report_resolved = Signal()
