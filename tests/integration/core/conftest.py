import pytest

from tests.support.sandbox import Sandbox, require_sandbox

API_KEY = "sk-aiohub-core-test-7f3c9a1e5b2d4c6f8a0b"
OTHER_KEY = "sk-aiohub-core-other-0a1b2c3d4e5f60718293"


@pytest.fixture
def sandbox(tmp_path):
    require_sandbox()
    return Sandbox(tmp_path, users=("alice", "bob"), platform="linux")


@pytest.fixture
def mac_sandbox(tmp_path):
    require_sandbox()
    return Sandbox(tmp_path, users=("carol", "dave"), platform="macos")


def gateway_settings(key=API_KEY):
    return {
        "inferenceProvider": "gateway",
        "inferenceGatewayBaseUrl": "https://api.aiohub.org",
        "inferenceGatewayApiKey": key,
        "coworkEgressAllowedHosts": ["docs.aiohub.org", "*.example.com"],
    }
