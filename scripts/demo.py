"""Run the demo of scripts/demo.yml against temporary homes on localhost (see scripts/demo)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.sandbox import Sandbox  # noqa: E402  (after the path set-up)


def banner(text):
    print("\n\033[1m### %s\033[0m" % text, flush=True)


def main():
    if os.geteuid() != 0:
        sys.exit("scripts/demo needs root: it creates two throw-away users (alice, bob) visible only inside a "
                 "private mount namespace, so that their files can be owned by them. Run it with sudo.")
    root = Path(tempfile.mkdtemp(prefix="aiohub-demo."))
    sandbox = Sandbox(root, users=("alice", "bob"), platform="linux")
    sandbox.write_config("alice", {
        "mcpServers": {"files": {"command": "/usr/local/bin/mcp-files", "env": {"FILES_TOKEN": "tok-demo-8c1d"}}},
        "preferences": {"theme": "dark"},
        "enterpriseConfig": {"disableAutoUpdates": True},
    })
    banner("Temporary homes in %s (alice has an existing config, bob has none)" % sandbox.homes)
    print(json.dumps(sandbox.read_config("alice"), indent=2).replace("tok-demo-8c1d", "<alice's own token>"))

    for title, extra in (("First run, with --diff (the API key shows only as a fingerprint)", ["--diff"]),
                         ("Second run: nothing to change", [])):
        banner(title)
        command = sandbox.wrap(["ansible-playbook", "-i", str(sandbox.inventory), str(REPO / "scripts" / "demo.yml")]
                               + extra)
        environment = dict(os.environ, ANSIBLE_CALLBACK_RESULT_FORMAT="yaml")
        completed = subprocess.run(command, cwd=str(root), check=False, env=environment)
        if completed.returncode:
            sys.exit(completed.returncode)

    banner("On disk")
    for user in ("alice", "bob"):
        info = os.stat(sandbox.config_file(user))
        print("%-5s %s  mode %o  owner uid %d" % (user, sandbox.config_file(user), info.st_mode & 0o777, info.st_uid))
    if "--keep" in sys.argv[1:]:
        print("\nThe demo homes stay in %s; remove them with: rm -rf %s" % (root, root))
    else:
        shutil.rmtree(root)
        print("\nThe demo homes were removed (scripts/demo --keep leaves them for a look).")


if __name__ == "__main__":
    main()
