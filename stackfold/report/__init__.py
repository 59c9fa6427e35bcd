"""``stackfold report`` and ``stackfold compare``: a run (or runs side by side) as one self-contained HTML page.

The report is built by :func:`stackfold.report.build.write_report`.

Sections of a report: leaderboard with bootstrap intervals and ties, per-class F1, confusion,
diversity of the base models, calibration, tuning, data, submissions.
"""
