"""``[core] hostname_callable`` for the test stack: each Celery worker reports its own name.

Both workers of the stack run on one machine, so the default (the machine's FQDN) would record the
same ``hostname`` on every task instance. Each worker process gets ``SALESOPS_STACK_HOSTNAME`` and
the task runner it starts records that name, which is how the stack test proves tasks ran on both.
Kept in its own tiny module: the worker's task processes import it.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("SALESOPS_STACK_HOSTNAME") or socket.getfqdn()
