"""Bring your own CRM: profile an export before the first run, and machine-readable results after it.

* :mod:`salesops.onboarding.profile` - ``python -m salesops profile``: what is in an export (rows,
  mapped/unmapped/empty columns, picklist values vs the policy, date and number formats, owner
  references), which checks can be evaluated on it, and a starter policy overlay + column map draft.
* :mod:`salesops.onboarding.results` - ``python -m salesops metrics --json`` / ``quality --json``.
"""
