"""What the module logs on the target (syslog) never contains a secret."""

from pathlib import Path

from tests.integration.core.conftest import API_KEY
from tests.integration.core.test_enterprise_config import assert_ok, task

FAKE_SYSLOG = Path(__file__).parent / "fake_syslog"
NESTED_SECRET = "mcp-oauth-secret-3c5e7a9b1d"
# Header values under names no credential pattern knows: every value of a headers map is a secret.
APIM_KEY = "apim-canary-7f3a9c2e4d6b"
MCP_HEADER = "mcp-pat-canary-55aa77cc99ee"


def test_target_syslog_holds_no_secret(sandbox):
    log = sandbox.root / "syslog.txt"
    settings = {
        "inferenceProvider": "gateway",
        "inferenceGatewayBaseUrl": "https://api.aiohub.org",
        "inferenceGatewayApiKey": API_KEY,
        "inferenceCustomHeaders": {"Ocp-Apim-Subscription-Key": APIM_KEY},
        "managedMcpServers": [{"name": "crm", "url": "https://mcp.example.com",
                               "oauth": {"clientId": "crm-client", "clientSecret": NESTED_SECRET}},
                              {"name": "wiki", "url": "https://wiki.example.com/mcp",
                               "headers": {"X-Atlassian-PAT": MCP_HEADER}}],
    }
    playbook = sandbox.write_playbook("syslog", [task(settings=settings, user_settings={"bob": {
        "inferenceGatewayApiKey": API_KEY + "-bob"}})])
    result = sandbox.playbook(playbook, env={"PYTHONPATH": str(FAKE_SYSLOG), "FAKE_SYSLOG_FILE": str(log)},
                              diff=True, verbosity=4)
    assert_ok(result)
    logged = log.read_text()
    assert "Invoked with" in logged and "inferenceGatewayBaseUrl" in logged
    for secret in (API_KEY, API_KEY + "-bob", NESTED_SECRET, APIM_KEY, MCP_HEADER):
        assert secret not in logged
        assert secret not in result.stdout + result.stderr
    assert sandbox.read_config("bob")["enterpriseConfig"]["inferenceGatewayApiKey"] == API_KEY + "-bob"
    assert sandbox.read_config("alice")["enterpriseConfig"]["inferenceGatewayApiKey"] == API_KEY


def test_no_log_options_are_not_echoed(sandbox):
    salt = "salt-canary-5b7d9f1e3c"
    playbook = sandbox.write_playbook("salt", [dict(task(users=["alice"], settings={"coworkTabEnabled": True},
                                                         fingerprint_salt=salt)),
                                               {"name": "Show", "ansible.builtin.debug": {"var": "outcome.invocation"}}])
    result = sandbox.playbook(playbook, verbosity=4)
    assert_ok(result)
    assert salt not in result.stdout + result.stderr
    assert '"fingerprint_salt": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in result.stdout
