"""``python -m salesops <command>``: the analyst's commands for their own CRM.

* ``profile``  - what is in an export and a starter config (:mod:`salesops.onboarding.profile`)
* ``metrics``  - every registry metric with its value, definition and status (``--json``)
* ``quality``  - every quality check of the latest run with its status (``--json``)

``make run`` (scripts/run.py) runs the chain on your data and overlay.
"""

from __future__ import annotations

import sys

from salesops.onboarding.cli import main

if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # End here: DuckDB's binding otherwise prints pages of harmless "leaked instance" lines at exit.
    import os

    os._exit(code)
