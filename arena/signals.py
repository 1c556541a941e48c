"""The core's signals (its receivers are in ``arena.receivers``).

``verdicts_changed`` is how every writer of verdicts says that numbers computed from them are
out of date, without knowing who computed them: the core's imports and prompt-set versions,
judging (results stored with ``.update()``, which sends no model signal) and live battles send
it; the reports app (``reports.receivers``) marks the snapshots that read them stale. Senders sit
below reports in the layers, so they announce rather than call.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``source`` (``human``, ``live``, ``judge:NAME``, ``import:NAME`` or ``all``) and
# ``prompt_set`` (a slug, or None for any set), after the transaction that wrote them commits.
verdicts_changed = Signal()
