"""Shared pytest set-up: the collection must be importable and ansible must find it.

``scripts/env.sh`` links the working tree as ``.cache/collections/ansible_collections/aiohub/claude_desktop``
and exports ``ANSIBLE_COLLECTIONS_PATH``; this makes the same hold for a bare ``pytest`` run.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "aiohub" / "claude_desktop"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(REPO)
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_NOCOWS", "1")
os.environ.setdefault("ANSIBLE_LOCALHOST_WARNING", "false")
os.environ.setdefault("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false")
# Hypothesis keeps caches even without an example database: put them under .cache, not the repository root.
try:
    from hypothesis.configuration import set_hypothesis_home_dir
except ImportError:  # pragma: no cover - hypothesis is in tests/requirements.txt
    pass
else:
    set_hypothesis_home_dir(str(REPO / ".cache" / "hypothesis"))
if "ANSIBLE_HOME" not in os.environ:
    # pytest run on its own (not through scripts/test): a throw-away ANSIBLE_HOME, removed at exit.
    import atexit
    import shutil
    import tempfile
    os.environ["ANSIBLE_HOME"] = tempfile.mkdtemp(prefix="aiohub-ansible-home.")
    atexit.register(shutil.rmtree, os.environ["ANSIBLE_HOME"], True)


import pytest  # noqa: E402  (after the path set-up above)

from tests.support import leakscan  # noqa: E402


@pytest.fixture(autouse=True)
def no_credential_in_any_ansible_output(request):
    """Every test of the suite: no credential constant the test can see appears in the stdout or stderr of
    any Ansible run it made (plain, base64, hex or escaped). Runs are recorded by tests/support's
    Sandbox.run and Fleet.playbook, and by the suites that start Ansible themselves."""
    del leakscan.RECORDED[:]
    yield
    if request.node.get_closest_marker("leaks_on_purpose") or not leakscan.RECORDED:
        return
    secrets = leakscan.secrets_of(vars(request.module))
    if secrets:
        scan = leakscan.LeakScan(secrets)
        for where, completed in leakscan.RECORDED:
            scan.run(completed, where)
        scan.assert_clean("the Ansible output of %s" % request.node.nodeid)
