"""Offline stand-in for get-pip.py, ansible-test's pip bootstrap.

ansible-test normally downloads get-pip.py from ci-files.testing.ansible.com, which is not reachable
from CI. This seeds pip from the standard library's ensurepip, then lets that pip install what
ansible-test asked for (pip==24.2 ...) from the reachable package index.
"""

import ensurepip
import os
import subprocess
import sys

# ensurepip sets PIP_CONFIG_FILE=/dev/null in os.environ; keep the original environment for pip.
ENVIRONMENT = dict(os.environ)
ensurepip.bootstrap(upgrade=True)
ARGS = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + ARGS, env=ENVIRONMENT))
