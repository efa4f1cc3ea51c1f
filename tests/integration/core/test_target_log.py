"""What the module logs on the target (syslog) never contains a secret."""

from pathlib import Path

from tests.integration.core.conftest import API_KEY
from tests.integration.core.test_enterprise_config import assert_ok, task

FAKE_SYSLOG = Path(__file__).parent / "fake_syslog"
NESTED_SECRET = "mcp-oauth-secret-3c5e7a9b1d"


def test_target_syslog_holds_no_secret(sandbox):
    log = sandbox.root / "syslog.txt"
    settings = {
        "inferenceProvider": "gateway",
        "inferenceGatewayBaseUrl": "https://api.aiohub.org",
        "inferenceGatewayApiKey": API_KEY,
        "managedMcpServers": [{"name": "crm", "url": "https://mcp.example.com",
                               "oauth": {"clientId": "crm-client", "clientSecret": NESTED_SECRET}}],
    }
    playbook = sandbox.write_playbook("syslog", [task(settings=settings, user_settings={"bob": {
        "inferenceGatewayApiKey": API_KEY + "-bob"}})])
    result = sandbox.playbook(playbook, env={"PYTHONPATH": str(FAKE_SYSLOG), "FAKE_SYSLOG_FILE": str(log)})
    assert_ok(result)
    logged = log.read_text()
    assert "Invoked with" in logged and "inferenceGatewayBaseUrl" in logged
    for secret in (API_KEY, API_KEY + "-bob", NESTED_SECRET):
        assert secret not in logged
    assert sandbox.read_config("bob")["enterpriseConfig"]["inferenceGatewayApiKey"] == API_KEY + "-bob"
    assert sandbox.read_config("alice")["enterpriseConfig"]["inferenceGatewayApiKey"] == API_KEY
