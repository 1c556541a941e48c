"""Reports: the numbers computed from every kind of verdict together.

Battles, leaderboards, rating snapshots, bias and agreement, evaluation reports, exports and SVG
plots read the core's votes and imports, the judges' judgments and the live battles, so this app
sits above ``arena`` (the core), ``judge`` and ``live`` and nothing below imports it: writers of
verdicts send ``arena.signals.verdicts_changed`` and ``reports.receivers`` listens. The models the
reports store (``RatingSnapshot``) stay in the core's tables.
"""
