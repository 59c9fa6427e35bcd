"""The train/test shift check: can a classifier tell the test rows from the training rows, and by what?

``shift.views`` (the table of what each check reads) and ``shift.result`` (what a check found, as saved in a run
folder) sit on a lower floor than the check itself (``shift.check``), so the configuration, the run folder and
the report read them; this package's ``__init__`` imports nothing, so importing either stays light.
"""
