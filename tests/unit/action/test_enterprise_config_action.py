"""The action plugin's controller-side work: credentials out of the module's visible arguments, back in order."""

from ansible_collections.aiohub.claude_desktop.plugins.action.enterprise_config import (
    all_secret_values, module_arguments,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.enterprise_config_spec import INTERNAL_OPTIONS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import compose_user_settings

KEY = "sk-aiohub-unit-1111111111111111"
BOB_KEY = "sk-aiohub-unit-2222222222222222"
NESTED = "oauth-client-secret-3333"

SETTINGS = {
    "inferenceProvider": "gateway",
    "inferenceGatewayBaseUrl": "https://api.aiohub.org",
    "inferenceGatewayApiKey": KEY,
    "managedMcpServers": [{"name": "crm", "url": "https://mcp.example.com",
                           "oauth": {"clientId": "crm", "clientSecret": NESTED}}],
    "coworkEgressAllowedHosts": ["docs.aiohub.org"],
}
USER_SETTINGS = {"bob": {"inferenceGatewayApiKey": BOB_KEY, "coworkTabEnabled": False}}


def visible(arguments):
    """What the module does not mark no_log (the options listed as internal are no_log)."""
    return dict((key, value) for key, value in arguments.items()
                if key not in ("secret_settings", "user_secret_settings", "redact_values"))


def test_credentials_leave_the_visible_arguments():
    arguments = module_arguments({"users": ["all"], "path": None}, SETTINGS, USER_SETTINGS)
    shown = repr(visible(arguments))
    assert KEY not in shown and BOB_KEY not in shown
    assert arguments["settings"]["inferenceGatewayApiKey"] is None
    assert arguments["secret_settings"] == {"inferenceGatewayApiKey": KEY}
    assert arguments["user_secret_settings"] == {"bob": {"inferenceGatewayApiKey": BOB_KEY}}
    assert NESTED in arguments["redact_values"]
    assert "path" not in arguments
    assert set(INTERNAL_OPTIONS) <= set(arguments)


def test_module_puts_everything_back_in_the_original_order():
    arguments = module_arguments({}, SETTINGS, USER_SETTINGS)
    common = compose_user_settings(arguments["settings"], arguments["secret_settings"])
    assert list(common.items()) == list(SETTINGS.items())
    bob = compose_user_settings(arguments["settings"], arguments["secret_settings"], arguments["user_settings"],
                                arguments["user_secret_settings"], "bob")
    assert bob["inferenceGatewayApiKey"] == BOB_KEY
    assert list(bob) == list(SETTINGS) + ["coworkTabEnabled"]
    alice = compose_user_settings(arguments["settings"], arguments["secret_settings"], arguments["user_settings"],
                                  arguments["user_secret_settings"], "alice")
    assert alice == SETTINGS


def test_all_secret_values_cover_common_user_and_nested_secrets():
    values = all_secret_values(SETTINGS, USER_SETTINGS)
    assert {KEY, BOB_KEY, NESTED} <= set(values)
