"""The cowork role on an SSH fleet that fights back.

Each case breaks one thing on one host (or for one user) and runs the role over the whole fleet at
-vvvv. Every case checks that:
- every other host and user finished with the settings written (file and configLibrary entry);
- nothing is partial: each config file parses or is byte-for-byte what it was, no ``.*.aiohub-tmp`` file
  is left anywhere, /etc is untouched;
- the failure names host, user, path and cause (Ansible's failure line and the per-user result);
- no API key is anywhere in the -vvvv output, the task results, the drift reports, the backups or the
  hosts' logs (tests/support/leakscan.py).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest

from tests.integration.hostile.conftest import (
    MCP_TOKEN, OLD_KEY, USERS, app_dir, config_path, expected_key, run_tail, seed_bytes,
)

pytestmark = [pytest.mark.fleet, pytest.mark.slow]


def test_plain_run_converges_every_user_then_changes_nothing(hostile):
    before = hostile.inspect()
    run = hostile.run()
    assert run.returncode == 0, run_tail(run)
    after = hostile.inspect()
    hostile.assert_intact(before, after)
    hostile.assert_converged(after, run)
    backups = [path for snapshot in after.values() for user in USERS for path in snapshot.files(user)
               if path.endswith(".bak")]
    assert len(backups) == len(after) * len(USERS), backups   # one per user (the config file changed)

    rerun = hostile.run()
    assert rerun.returncode == 0, run_tail(rerun)
    assert all(rerun.host_status(name) == "ok" for name in hostile.names), rerun.results
    hostile.assert_no_leak(hostile.inspect())


# -- one user's files are hostile -------------------------------------------------------------------------

def _home_full(hostile, host, user):
    """The user's home is a small tmpfs (mounted in the host's own mount namespace), filled up."""
    uid = hostile.fleet.uid(host, user)
    script = (
        "set -e; home=/Users/{u}; cp -a $home/.config /tmp/hostile-config-{u}; "
        "mount -t tmpfs -o size=192k,mode=0755,uid={uid},gid={uid} tmpfs $home; "
        "cp -a /tmp/hostile-config-{u} $home/.config; rm -rf /tmp/hostile-config-{u}; "
        "dd if=/dev/zero of=$home/hostile-filler bs=4k 2>/dev/null || true; chown {u}: $home/hostile-filler; "
        "test $(df --output=avail $home | tail -1) -eq 0"
    ).format(u=user, uid=uid)
    hostile.fleet.run_on(host, script)


def _home_read_only(hostile, host, user):
    hostile.fleet.run_on(host, "mount --bind /Users/{u} /Users/{u} && mount -o remount,bind,ro /Users/{u}"
                         .format(u=user))


def _owned_by_another_user(hostile, host, user):
    other = next(name for name in USERS if name != user)
    hostile.fleet.run_on(host, ["chown", "%s:%s" % (other, other), config_path(user)])


def _app_dir_links_to_etc(hostile, host, user):
    hostile.fleet.run_on(host, "rm -rf {d} && ln -s /etc {d} && chown -h {u}: {d}".format(d=app_dir(user), u=user))


def _file_of_50_mb(hostile, host, user):
    # Valid JSON, so only its size is wrong.
    script = ("import json; padding = 'x' * (50 * 1024 * 1024); "
              "open('%s', 'w').write(json.dumps({'mcpServers': {}, 'padding': padding}))" % config_path(user))
    hostile.fleet.run_on(host, ["python3", "-c", script], user=user)


def _not_utf8(hostile, host, user):
    data = seed_bytes(user).replace(b'"quickEntryShortcut": "off"', b'"quickEntryShortcut": "caf\xe9 \xff"')
    hostile.fleet.write_file(host, config_path(user), data, user=user)


HOSTILE_FILES = {
    # case: (setup, host, user, path in the error, cause in the error)
    "home-on-a-full-filesystem": (_home_full, "host-h3", "bob", app_dir("bob"), r"No space left on device"),
    "read-only-home": (_home_read_only, "host-h4", "carol", app_dir("carol"), r"Read-only file system"),
    "config-owned-by-another-user": (_owned_by_another_user, "host-h1", "alice", config_path("alice"),
                                     r"owned by bob, not by alice"),
    "config-dir-is-a-symlink-to-etc": (_app_dir_links_to_etc, "host-h2", "bob", app_dir("bob"),
                                       r"is a symlink; refusing to follow"),
    "file-of-50-mb": (_file_of_50_mb, "host-h2", "carol", config_path("carol"),
                      r"52428\d\d\d bytes, more than max_file_size"),
    "file-not-utf8": (_not_utf8, "host-h3", "alice", config_path("alice"), r"not valid UTF-8 \(invalid byte 0xe9"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_FILES))
def test_one_hostile_user_fails_alone_and_is_left_untouched(hostile, case):
    setup, host, user, path, cause = HOSTILE_FILES[case]
    setup(hostile, host, user)
    before = hostile.inspect()
    run = hostile.run()
    after = hostile.inspect()

    assert run.returncode == 2, run_tail(run)
    hostile.assert_error_names(run, host, user, path, cause)
    # With the app directory a symlink nothing below it may appear; otherwise the library may be written.
    untouched = None if case == "config-dir-is-a-symlink-to-etc" else ["claude_desktop_config.json"]
    hostile.assert_untouched(before, after, host, user, untouched)
    # The user's configLibrary is a location of its own: written if it could be, else untouched.
    library = [entry for entry in run.user_results(host, user) if entry["layout"] == "config_library"]
    assert len(library) == 1, run.user_results(host, user)
    if library[0]["error"]:
        assert not [p for p in after[host].files(user) if p.startswith("configLibrary/")], after[host].users[user]
    else:
        entry = [p for p in after[host].files(user) if p.startswith("configLibrary/") and "_meta" not in p]
        assert after[host].document(user, entry[0])["inferenceGatewayApiKey"] == expected_key(user)
    hostile.assert_intact(before, after)
    hostile.assert_converged(after, run, except_for=[(host, user)])
    assert all(run.host_status(name) == "changed" for name in hostile.names if name != host), run.results
    hostile.assert_no_leak(after)


def test_bom_and_crlf_file_converges_rewritten_canonical(hostile):
    host, user = "host-h4", "bob"
    original = seed_bytes(user).replace(b"\n", b"\r\n")
    hostile.fleet.write_file(host, config_path(user), b"\xef\xbb\xbf" + original, user=user)
    before = hostile.inspect()
    run = hostile.run()
    after = hostile.inspect()

    assert run.returncode == 0, run_tail(run)
    hostile.assert_intact(before, after)
    hostile.assert_converged(after, run)
    data = after[host].content(user)
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data, data[:80]
    document = json.loads(data)
    assert document["preferences"] == {"menuBarEnabled": True, "quickEntryShortcut": "off"}
    assert document["mcpServers"]["github"]["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"] == MCP_TOKEN

    rerun = hostile.run()
    assert rerun.returncode == 0, run_tail(rerun)
    assert rerun.host_status(host) == "ok", rerun.module_result(host)
    hostile.assert_no_leak(hostile.inspect())


# -- the host goes away ------------------------------------------------------------------------------------

def test_host_whose_sshd_dies_mid_run(hostile):
    host = "host-h2"
    # host-h2's users have big files, so its module is still at work when its sshd and sessions are killed.
    for user in USERS:
        hostile.fleet.write_file(host, config_path(user), _big_seed(user, 2), user=user)
    before = hostile.inspect()
    watched = hostile.fleet.host(host).upper / config_path("alice").lstrip("/")
    first = os.stat(watched).st_ino
    proc = hostile.start(diff=False)
    deadline = time.monotonic() + 120
    while os.stat(watched).st_ino == first:     # the module has replaced alice's file: it is mid-run there
        assert proc.poll() is None, "the run ended before sshd died:\n" + proc.communicate()[0][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.002)
    hostile.fleet.stop_sshd(host)
    run = hostile.finish(proc)
    after = hostile.inspect()

    assert run.returncode in (2, 4), run_tail(run)
    assert run.host_status(host) in ("unreachable", "failed"), run.results.get(host)
    lines = run.fatal_lines(host)
    # Ansible names the host and the cause: the ssh session to it broke (ssh's own words, when it has any, follow).
    cause = re.compile(r"UNREACHABLE.*(Failed to connect to the host via ssh|Data could not be sent to remote host)"
                       r"|FAILED.*(MODULE FAILURE|Shared connection to \S+ closed)", re.S)
    assert any(cause.search(line) for line in lines), lines
    # Each of host-h2's files is whole: as it was, or completely converged (never partial).
    for user in USERS:
        document = after[host].document(user)
        if document != before[host].document(user):
            assert document["enterpriseConfig"]["inferenceGatewayApiKey"] == expected_key(user), user
    assert after[host].document("alice") != before[host].document("alice")   # the kill came after a write
    hostile.assert_intact(before, after)
    hostile.assert_converged(after, run, except_for=[(host, None)])
    hostile.assert_no_leak(after)

    hostile.fleet.start_sshd(host)
    rerun = hostile.run(diff=False)
    assert rerun.returncode == 0, run_tail(rerun)
    hostile.assert_converged(hostile.inspect(), rerun)


# -- the app writes while we write ---------------------------------------------------------------------------

# Claude Desktop stand-in: read the file, bump a counter in its own preferences (keeping every other key,
# ours included), write it back atomically (temp file + rename), every few milliseconds until told to stop.
# Reports each version it wrote and every time it read an older version than its last write (a lost update).
WRITER = r"""
import json, os, sys, time
path, stop, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
last = written = 0
lost = []
while not os.path.exists(stop):
    with open(path, "rb") as handle:
        document = json.loads(handle.read().decode("utf-8-sig"))
    seen = document.setdefault("preferences", {}).get("appWrites", 0)
    if seen < last:
        lost.append([last, seen])
    last = seen + 1
    document["preferences"]["appWrites"] = last
    document["appState"] = {"version": last, "payload": "v%d-" % last * 200}
    temp = "%s.app-%d" % (path, last)
    with open(temp, "w") as handle:
        handle.write(json.dumps(document, indent=2))
    os.rename(temp, path)
    written += 1
    time.sleep(interval)
print(json.dumps({"last": last, "written": written, "lost": lost}))
"""


@pytest.mark.parametrize("interval", [0.003, 0.05], ids=["app-writing-every-3ms", "app-writing-every-50ms"])
def test_concurrent_writer_never_leaves_a_mix(hostile, interval):
    host, user = "host-h1", "alice"
    stop = "/Users/%s/hostile-stop" % user
    writer = hostile.fleet.popen_on(host, ["python3", "-c", WRITER, config_path(user), stop, str(interval)],
                                    user=user, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        assert writer.poll() is None, writer.communicate()
        before = hostile.inspect()
        run = hostile.run()
    finally:
        hostile.fleet.run_on(host, ["touch", stop], user=user)
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    app = json.loads(out)
    after = hostile.inspect()

    final = after[host].document(user)            # parses: a valid file
    assert final["preferences"]["appWrites"] == app["last"], "not the writer's last complete version"
    assert final["appState"] == {"version": app["last"], "payload": "v%d-" % app["last"] * 200}, "a mix"
    assert not app["lost"], "the run overwrote newer versions of the app's file: %s" % app["lost"]
    ours = final.get("enterpriseConfig", {})
    entries = run.user_results(host, user)
    config_entry = [e for e in entries if e["layout"] == "config_file"]
    if config_entry and not config_entry[0]["error"]:
        # We wrote, and the app kept our keys in every later version.
        assert ours.get("inferenceGatewayApiKey") == expected_key(user), ours
    else:
        # We gave up (the file kept changing): the error says so; the app's file is the app's.
        hostile.assert_error_names(run, host, user, config_path(user), r"changed while it was being updated; it "
                                   r"kept changing, quit Claude Desktop")
    hostile.assert_intact(before, after)
    hostile.assert_converged(after, run, except_for=[(host, user)])
    hostile.assert_no_leak(after)


# -- the run is killed -----------------------------------------------------------------------------------------

def _big_seed(user, megabytes):
    """The seed file grown to about ``megabytes`` MB with MCP servers (a module run over it takes a while)."""
    document = json.loads(seed_bytes(user))
    for index in range(megabytes * 580):
        document["mcpServers"]["server-%05d" % index] = {"command": "/opt/mcp/%05d" % index, "args": ["-v"] * 120}
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def test_run_killed_with_sigkill_mid_run_then_rerun_converges(hostile):
    # host-h4's users have big files, so the module is still busy there when the kill comes.
    for user in USERS:
        hostile.fleet.write_file("host-h4", config_path(user), _big_seed(user, 2), user=user)
    # A trace of an earlier killed write: a half-written temp file next to host-h2 alice's config.
    stale = "%s/.claude_desktop_config.json.0123456789ab.aiohub-tmp" % app_dir("alice")
    hostile.fleet.write_file("host-h2", stale, b'{"enterpriseConfig": {"inferenceGatew', user="alice")
    # The kill comes as soon as the module has replaced host-h4 alice's file (seen from outside the host,
    # in its overlay's upper layer), while it works on the next users.
    watched = hostile.fleet.host("host-h4").upper / config_path("alice").lstrip("/")
    first = os.stat(watched).st_ino
    before = hostile.inspect()
    proc = hostile.start(diff=False)
    deadline = time.monotonic() + 120
    while os.stat(watched).st_ino == first:
        assert proc.poll() is None, "the run ended before the kill:\n" + proc.communicate()[0][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGKILL)       # the controller and its ssh clients, mid-run
    for host in ["host-h4"] + [h for h in hostile.names if h != "host-h4"]:   # and the modules still running
        hostile.fleet.run_on(host, "pkill -KILL -f '^/usr/bin/python3' || true")
    killed = hostile.finish(proc)
    assert killed.returncode == -signal.SIGKILL
    middle = hostile.inspect()
    written = 0
    for name, snapshot in middle.items():      # whatever the kill left is whole: old or new, never partial
        for user in USERS:
            for path, item in snapshot.files(user).items():
                if path.endswith(".json"):
                    document = json.loads(snapshot.content(user, path))
                    if path == "claude_desktop_config.json":
                        written += document["enterpriseConfig"].get("inferenceGatewayApiKey") == expected_key(user)

    assert 0 < written < len(middle) * len(USERS), "the kill did not land mid-run (%d users written)" % written

    rerun = hostile.run(diff=False)
    assert rerun.returncode == 0, run_tail(rerun)
    after = hostile.inspect()
    hostile.assert_converged(after, rerun)
    hostile.assert_intact(before, after)
    for name, snapshot in after.items():
        assert not snapshot.temp_files, "%s: %s" % (name, snapshot.temp_files)
        assert not [path for user in USERS for path in snapshot.files(user) if path.endswith(".aiohub-tmp")]
    again = hostile.run(diff=False)
    assert again.returncode == 0 and all(again.host_status(name) == "ok" for name in hostile.names), again.results
    hostile.assert_no_leak(hostile.inspect())


def test_old_key_only_ever_appears_as_a_fingerprint(hostile):
    """The seed files hold OLD_KEY; after a run with --check --diff and one that writes backups, the old key
    is in no output, report or backup (the scan of every other test covers the new keys)."""
    check = hostile.run(check=True)
    assert check.returncode == 0, run_tail(check)
    assert "<redacted:" in check.stdout
    run = hostile.run()
    assert run.returncode == 0, run_tail(run)
    after = hostile.inspect()
    backups = [(name, user, path) for name, snapshot in after.items() for user in USERS
               for path in snapshot.files(user) if path.endswith(".bak")]
    assert backups
    for name, user, path in backups:
        data = after[name].content(user, path)
        assert OLD_KEY.encode() not in data and b"<redacted:" in data, (name, user, path)
    hostile.assert_no_leak(after)
