"""A stand-in for the stdlib ``syslog`` module that appends every message to $FAKE_SYSLOG_FILE.

Put on PYTHONPATH for a test run, it records exactly what a module would send to the target's syslog.
"""

import os

LOG_USER = 8
LOG_INFO = 6
LOG_WARNING = 4
LOG_ERR = 3


def openlog(*_args, **_kwargs):
    return None


def syslog(*args):
    message = args[-1]
    with open(os.environ["FAKE_SYSLOG_FILE"], "a", encoding="utf-8") as handle:
        handle.write(str(message) + "\n")


def closelog():
    return None
