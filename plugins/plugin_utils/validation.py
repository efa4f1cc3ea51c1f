# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller-side validation of Claude Desktop settings: the JSON Schema plus the rules of reference 6.1.

Every message names the key, the rule and how to fix it, and never contains a credential value.
Validation runs before anything is sent to a host, so a bad value touches nothing.
"""

from __future__ import annotations

import difflib
import json
import re

from ansible.errors import AnsibleError

from ansible_collections.aiohub.claude_desktop.plugins.module_utils import config_keys as ck
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import (
    Redactor, is_secret_name, secret_values_in,
)
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.schema import settings_schema

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported on the controller
    raise

try:
    import jsonschema
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = _exc

ERROR = "error"
WARNING = "warning"
LOCAL = "local"
MANAGED = "managed"

_V1_SUFFIX = re.compile(r"/v1/?$")
_LOOPBACK_ALIASES = ("localhost", "::1")
_WINDOWS_ABS = re.compile(r"^([A-Za-z]:[\\/]|\\\\)")
_CLAUDE_LIKE = re.compile(r"claude|anthropic|sonnet|opus|haiku", re.IGNORECASE)
_VALIDATOR_CACHE = {}


class Finding(object):
    def __init__(self, level, key, rule, message):
        self.level = level
        self.key = key
        self.rule = rule
        self.message = message

    def __str__(self):
        return "%s: %s (rule: %s)" % (self.key, self.message, self.rule)


class ValidationOptions(object):
    def __init__(self, strict=False, allow_v1_base_url=False, check_required_keys=True, allow_deprecated=False,
                 target=LOCAL):
        self.strict = strict
        self.allow_v1_base_url = allow_v1_base_url
        self.check_required_keys = check_required_keys
        self.allow_deprecated = allow_deprecated
        self.target = target

    @classmethod
    def from_params(cls, params, target=LOCAL):
        return cls(strict=bool(params.get("strict")), allow_v1_base_url=bool(params.get("allow_v1_base_url")),
                   check_required_keys=params.get("check_required_keys", True) is not False,
                   allow_deprecated=bool(params.get("allow_deprecated")), target=target)


class SettingsValidationError(AnsibleError):
    """Raised with every error at once, so a user fixes them in one go."""

    def __init__(self, findings, where="settings"):
        self.findings = findings
        lines = ["%s: %d problem(s) found, nothing was changed on any host:" % (where, len(findings))]
        lines.extend("  - %s" % finding for finding in findings)
        super(SettingsValidationError, self).__init__("\n".join(lines))


# --- schema ---------------------------------------------------------------------------------------

def _validator():
    if not HAS_JSONSCHEMA:
        raise AnsibleError("the Python library 'jsonschema' is required on the controller to validate Claude Desktop "
                           "settings: pip install jsonschema (%s)" % JSONSCHEMA_IMPORT_ERROR)
    if "settings" not in _VALIDATOR_CACHE:
        _VALIDATOR_CACHE["settings"] = jsonschema.Draft202012Validator(settings_schema())
    return _VALIDATOR_CACHE["settings"]


def _path_text(path):
    text = ""
    for part in path:
        text += "[%d]" % part if isinstance(part, int) else ("." if text else "") + str(part)
    return text or "settings"


def _hidden(path):
    return any(isinstance(part, str) and (part in ck.SECRET_KEYS or is_secret_name(part)) for part in path)


def _shown(value, path):
    if _hidden(path):
        return "the value (hidden)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _json_kind(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dictionary"
    return "null" if value is None else type(value).__name__


def _looks_json_encoded(value):
    if not isinstance(value, str) or not value.strip()[:1] in ("[", "{"):
        return False
    try:
        return isinstance(json.loads(value), (list, dict))
    except ValueError:
        return False


def _type_message(error, path):
    wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    names = " or ".join({"array": "list", "object": "dictionary"}.get(item, item) for item in wanted)
    got = _json_kind(error.instance)
    if _looks_json_encoded(error.instance) and ("array" in wanted or "object" in wanted):
        return ("must be a native %s, but a JSON-encoded string was given; write it as a YAML list/dictionary "
                "(the string form is only for plist and registry values, which this collection encodes itself)"
                % names, "native types in local JSON")
    if isinstance(error.instance, str) and "boolean" in wanted and error.instance.lower() in ("true", "false"):
        return ("must be a boolean, got the string %s; write true/false without quotes" % _shown(error.instance, path),
                "type")
    if isinstance(error.instance, str) and "integer" in wanted and error.instance.strip().isdigit():
        return "must be an integer, got a string of digits; write the number without quotes", "type"
    return "must be %s, got %s; give a value of the documented type" % (_article(names), _article(got)), "type"


def _article(word):
    return ("an %s" if word[:1] in "aeiou" else "a %s") % word


def _pattern_message(error, path):
    pattern = error.validator_value
    if "[0-9a-fA-F]{8}" in pattern:
        return ("must be a UUID like 6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5, got %s; generate one once (uuidgen) and "
                "keep it stable" % _shown(error.instance, path), "UUID format")
    if "[0-9A-Fa-f]{6}" in pattern:
        return "must be a colour #RRGGBB, got %s" % _shown(error.instance, path), "colour format"
    if pattern == r"^[^\r\n]*$":
        return "must be a single line; remove the line breaks", "single line"
    if pattern == r"^[0-9]{12}$":
        return "must be the 12-digit AWS account ID, got %s" % _shown(error.instance, path), "AWS account ID"
    if pattern == r"^[^\s/]+$":
        return ("must be a host name or pattern such as docs.example.com or *.example.com (no scheme, path or "
                "spaces), got %s" % _shown(error.instance, path), "egress host format")
    return "does not match %s (got %s)" % (pattern, _shown(error.instance, path)), "pattern"


def _one_of_message(error, path):
    key = path[-1] if path else ""
    if key in ("inferenceModels",) or (len(path) >= 2 and path[-2] == "inferenceModels"):
        return (_path_text(path), "each model must be a model ID string or a dictionary with at least 'name' "
                "(optional labelOverride, supports1m, prefer1m, anthropicFamilyTier, isFamilyDefault)",
                "model entry shape")
    # A type mismatch of a whole branch says little: prefer what is wrong inside the branch that fits.
    inside = [item for item in error.context if item.validator != "type" or item.relative_path]
    best = jsonschema.exceptions.best_match(inside or error.context) if error.context else None
    if best is not None:
        return _schema_message(best)
    return _path_text(path), "is not one of the documented forms", "shape"


def _schema_message(error):
    path = list(error.absolute_path)
    validator = error.validator
    if validator == "type":
        message, rule = _type_message(error, path)
    elif validator == "enum":
        allowed = ", ".join(str(item) for item in error.validator_value)
        message, rule = "must be one of: %s (got %s)" % (allowed, _shown(error.instance, path)), "allowed values"
    elif validator in ("minimum", "maximum"):
        bound = "at least" if validator == "minimum" else "at most"
        message, rule = ("must be %s %s (got %s); choose a value in the documented range"
                         % (bound, error.validator_value, _shown(error.instance, path)), "range")
    elif validator == "maxLength":
        message, rule = ("must be at most %d characters (got %d); shorten it"
                         % (error.validator_value, len(error.instance)), "length")
    elif validator in ("minLength", "minItems"):
        message, rule = "must not be empty", "not empty"
    elif validator == "pattern":
        message, rule = _pattern_message(error, path)
    elif validator == "required":
        message, rule = "%s; add it" % error.message.replace("'", ""), "required field"
    elif validator == "uniqueItems":
        message, rule = "must not contain the same entry twice; remove the duplicates", "unique entries"
    elif validator in ("oneOf", "anyOf"):
        return _one_of_message(error, path)
    else:
        message, rule = "is invalid (%s)" % validator, validator
    return _path_text(path), message, rule


def schema_findings(settings):
    findings = []
    for error in sorted(_validator().iter_errors(settings), key=lambda item: list(map(str, item.absolute_path))):
        where, message, rule = _schema_message(error)
        findings.append(Finding(ERROR, where, rule, message))
    return findings


# --- rules a schema cannot say (reference 6.1) ------------------------------------------------------

def _url_findings(key, value, require_https, allow_loopback_http=False):
    findings = []
    if not isinstance(value, str):
        return findings
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
    except ValueError as exc:
        findings.append(Finding(ERROR, key, "absolute URL",
                                "is not a valid URL (%s); write it as https://host[:port][/path]" % exc))
        return findings
    if parts.username is not None or parts.password is not None:
        findings.append(Finding(ERROR, key, "no credentials in URLs",
                                "embeds credentials (user:password@) in the URL, which app 1.32352.0 and later reject; "
                                "remove them and use the API key or custom-header settings"))
        return findings
    if parts.scheme not in ("https", "http") or not parts.hostname:
        findings.append(Finding(ERROR, key, "absolute URL",
                                "must be an absolute %s URL, got %s" % ("https://" if require_https else "http(s)://",
                                                                        _shown(value, [key]))))
        return findings
    if require_https and parts.scheme == "http":
        if allow_loopback_http and parts.hostname == "127.0.0.1":
            return findings
        if allow_loopback_http and parts.hostname in _LOOPBACK_ALIASES:
            findings.append(Finding(ERROR, key, "https or http on 127.0.0.1",
                                    "uses http://%s, which does not always pass the app's loopback check; "
                                    "write http://127.0.0.1 instead" % parts.hostname))
        else:
            findings.append(Finding(ERROR, key, "https or http on 127.0.0.1",
                                    "must use https:// (plain http is only accepted on the loopback address "
                                    "127.0.0.1); the app refuses it with 'baseUrl: must use https (or http on "
                                    "loopback)'"))
    return findings


def _base_url_findings(settings, options):
    key = "inferenceGatewayBaseUrl"
    value = settings.get(key)
    if not isinstance(value, str):
        return []
    findings = _url_findings(key, value, require_https=True, allow_loopback_http=True)
    if any(finding.rule in ("no credentials in URLs", "absolute URL") for finding in findings):
        return findings
    path = urlsplit(value).path
    if (_V1_SUFFIX.search(path) or "/v1/messages" in path) and not options.allow_v1_base_url:
        findings.append(Finding(ERROR, key, "no /v1 in the base URL",
                                "%s ends in /v1 or contains /v1/messages, but the app appends /v1/messages and "
                                "/v1/models itself; use the gateway root (e.g. https://api.aiohub.org), or set "
                                "allow_v1_base_url: true if the gateway really serves /v1/v1/..." % _shown(value, [key])))
    return findings


def _other_url_findings(settings):
    findings = []
    https_keys = [name for name, spec in ck.KEYS.items() if spec.get("format") in ("https_url", "https_origin")]
    for key in https_keys:
        findings.extend(_url_findings(key, settings.get(key), require_https=True))
    for key in ("otlpEndpoint",):
        findings.extend(_url_findings(key, settings.get(key), require_https=False))
    for key in ("egressProxyUrl", "egressProxyPacUrl"):
        value = settings.get(key)
        if isinstance(value, str) and value.lower().startswith("socks"):
            findings.append(Finding(ERROR, key, "no SOCKS proxies", "SOCKS proxy URLs are rejected by the app; use "
                                                                    "an http(s) proxy"))
        else:
            findings.extend(_url_findings(key, value, require_https=False))
    banner = settings.get("banner")
    if isinstance(banner, dict):
        findings.extend(_url_findings("banner.linkUrl", banner.get("linkUrl"), require_https=True))
    for index, server in enumerate(settings.get("managedMcpServers") or []):
        findings.extend(_mcp_server_findings(index, server))
    return findings


def _mcp_server_findings(index, server):
    if not isinstance(server, dict):
        return []
    where = "managedMcpServers[%d]" % index
    transport = server.get("transport", "http")
    findings = []
    if transport in ("http", "sse") and not server.get("server"):
        if not server.get("url"):
            findings.append(Finding(ERROR, where + ".url", "url for http/sse",
                                    "is required for transport %s; add the server's https:// URL" % transport))
        else:
            findings.extend(_url_findings(where + ".url", server.get("url"), require_https=True))
    if transport == "stdio" and not server.get("command"):
        findings.append(Finding(ERROR, where + ".command", "command for stdio",
                                "is required for transport stdio; give the absolute path of the server binary"))
    return findings


# Static keys the app sends in an HTTP header (x-api-key, Authorization, api-key).
HEADER_CREDENTIAL_KEYS = frozenset(ck.STATIC_CREDENTIAL_KEYS.values())


def _secret_findings(settings):
    findings = []
    for key in sorted(ck.SECRET_KEYS):
        value = settings.get(key)
        if not isinstance(value, str):
            continue
        if not value.strip():
            findings.append(Finding(ERROR, key, "credential not empty",
                                    "is empty; the app then starts in standard mode. Give the key, a placeholder if "
                                    "the gateway authenticates by network identity, or remove it and set "
                                    "inferenceCredentialKind (helper-script or interactive)"))
        elif value != value.strip():
            findings.append(Finding(ERROR, key, "credential without surrounding whitespace",
                                    "has leading or trailing whitespace (a trailing newline from a file lookup or a "
                                    "secret store?); the app would send it as is and the gateway would reject it. "
                                    "Strip it, e.g. lookup(...) | trim"))
        elif key in HEADER_CREDENTIAL_KEYS and any(ord(char) < 0x21 or ord(char) > 0x7e for char in value):
            findings.append(Finding(ERROR, key, "credential an HTTP header can carry",
                                    "contains spaces, control or non-ASCII characters, which cannot travel in an "
                                    "HTTP header; check that the whole value is the key"))
    return findings


def _auth_scheme_findings(settings, options):
    value = settings.get("inferenceGatewayAuthScheme")
    if value not in ck.LEGACY_AUTH_SCHEMES:
        return []
    if value == "sso":
        text = ("'sso' is deprecated; use inferenceCredentialKind: interactive together with inferenceGatewayOidc, "
                "and write bearer or x-api-key here")
    else:
        text = ("'auto' only existed in app 1.3036 and its rule is undocumented; write bearer or x-api-key explicitly")
    level = WARNING if options.allow_deprecated else ERROR
    if level == WARNING:
        text += " (accepted because allow_deprecated is set)"
    return [Finding(level, "inferenceGatewayAuthScheme", "bearer or x-api-key", text)]


def _has_all(settings, keys):
    return all(settings.get(key) not in (None, "", []) for key in keys)


def _required_findings(settings, options):
    provider = settings.get("inferenceProvider")
    rules = ck.PROVIDER_REQUIREMENTS.get(provider)
    if not options.check_required_keys or not rules:
        return []
    findings = []
    missing = [key for key in rules["required"] if settings.get(key) in (None, "", [])]
    if missing:
        findings.append(Finding(ERROR, "inferenceProvider", "required keys for %s" % provider,
                                "%s needs %s; add %s (or set check_required_keys: false if another task writes them)"
                                % (provider, ", ".join(rules["required"]), ", ".join(missing))))
    kind = settings.get("inferenceCredentialKind")
    if kind is not None:
        return findings + _credential_kind_findings(settings, provider, kind)
    if rules["credential"] and not any(_has_all(settings, keys) for keys in rules["credential"]):
        options_text = " or ".join("+".join(keys) for keys in rules["credential"] + (("inferenceCredentialKind",),))
        text = "%s has no credential, so the app would start in standard mode; set one of: %s" % (provider, options_text)
        if provider == "gateway":
            text += " (with the cowork role: cowork_gateway_api_key, or a key per user in cowork_user_api_keys)"
        findings.append(Finding(ERROR, "inferenceProvider", "credential for %s" % provider, text))
    return findings


def _credential_kind_findings(settings, provider, kind):
    """With inferenceCredentialKind set the app uses that source only (no fallback): it must be complete."""
    needed = {"static": ck.STATIC_CREDENTIAL_KEYS.get(provider), "helper-script": "inferenceCredentialHelper"}.get(kind)
    if needed and settings.get(needed) in (None, ""):
        return [Finding(ERROR, "inferenceCredentialKind", "credential for kind %s" % kind,
                        "is %s, which uses %s only (there is no fallback), but %s is not set; add it, or choose the "
                        "kind that matches the credential you deliver" % (kind, needed, needed))]
    return []


def _helper_and_key_findings(settings):
    static = [key for key in ck.STATIC_CREDENTIAL_KEYS.values() if settings.get(key)]
    if settings.get("inferenceCredentialHelper") and static and settings.get("inferenceCredentialKind") != "static":
        return [Finding(WARNING, static[0], "one credential source",
                        "is set together with inferenceCredentialHelper; the helper always wins, so the key is "
                        "ignored. Remove one, or set inferenceCredentialKind to say which to use")]
    return []


def _bedrock_sso_findings(settings):
    keys = ("inferenceBedrockSsoStartUrl", "inferenceBedrockSsoRegion", "inferenceBedrockSsoAccountId",
            "inferenceBedrockSsoRoleName")
    given = [key for key in keys if key in settings]
    if given and len(given) != len(keys):
        return [Finding(ERROR, given[0], "all four Bedrock SSO keys",
                        "in-app AWS sign-in needs all four of %s; missing %s"
                        % (", ".join(keys), ", ".join(key for key in keys if key not in given)))]
    return []


def _oidc_findings(settings):
    findings = []
    for key in ("inferenceGatewayOidc", "inferenceVertexWorkforceOidc"):
        oidc = settings.get(key)
        if not isinstance(oidc, dict):
            continue
        issuer = oidc.get("issuer")
        if isinstance(issuer, str) and "/.well-known/" in issuer:
            findings.append(Finding(ERROR, key + ".issuer", "issuer base URL",
                                    "must be the issuer base URL without /.well-known/openid-configuration (the app "
                                    "adds it; the doubled path fails with HTTP 404/405)"))
        if not issuer and not (oidc.get("authorizationUrl") and oidc.get("tokenUrl")):
            findings.append(Finding(ERROR, key, "issuer or endpoints",
                                    "needs issuer, or both authorizationUrl and tokenUrl"))
        if oidc.get("bearerTokenType") == "access_token" and not oidc.get("scopes"):
            findings.append(Finding(ERROR, key + ".scopes", "scopes for access_token",
                                    "is required when bearerTokenType is access_token; add the API scope"))
    return findings


def _path_findings(settings):
    findings = []
    for key, spec in ck.KEYS.items():
        value = settings.get(key)
        if spec.get("format") != "abs_path" or not isinstance(value, str) or not value:
            continue
        if value.startswith("~") or "$" in value or re.search(r"%[^%]+%", value):
            findings.append(Finding(ERROR, key, "absolute path, no expansion",
                                    "%s uses ~ or an environment variable, which the app does not expand; write the "
                                    "absolute path" % _shown(value, [key])))
        elif not (value.startswith("/") or _WINDOWS_ABS.match(value)):
            findings.append(Finding(ERROR, key, "absolute path", "%s is not an absolute path" % _shown(value, [key])))
    return findings


def _model_findings(settings):
    findings = []
    models = settings.get("inferenceModels")
    if settings.get("modelDiscoveryEnabled") is False and not models:
        findings.append(Finding(ERROR, "inferenceModels", "models when discovery is off",
                                "is required (non-empty, full model IDs) when modelDiscoveryEnabled is false"))
    if isinstance(models, list) and settings.get("inferenceProvider") in ("gateway", None):
        for entry in models:
            name = entry if isinstance(entry, str) else (entry.get("name") if isinstance(entry, dict) else None)
            tier = entry.get("anthropicFamilyTier") if isinstance(entry, dict) else None
            if isinstance(name, str) and not tier and not _CLAUDE_LIKE.search(name):
                findings.append(Finding(WARNING, "inferenceModels", "Claude-like model names",
                                        "'%s' does not look like a Claude model; gateway discovery hides it and app "
                                        "1.6259.1+ rejects the whole list. Use the gateway's Claude ID or set "
                                        "anthropicFamilyTier" % name))
    if settings.get("inferenceProvider") == "vertex" and settings.get("toolSearchEnabled") is True:
        findings.append(Finding(WARNING, "toolSearchEnabled", "not on Vertex",
                                "must not be enabled with Vertex; Vertex rejects the experimental beta headers"))
    return findings


def _egress_findings(settings):
    hosts = settings.get("coworkEgressAllowedHosts")
    if not isinstance(hosts, list):
        return []
    findings = []
    if "*" in hosts:
        findings.append(Finding(WARNING, "coworkEgressAllowedHosts", "egress filtering",
                                "contains '*', which turns egress filtering off entirely"))
    ported = [host for host in hosts if isinstance(host, str) and re.search(r":\d+$", host)]
    if ported:
        findings.append(Finding(WARNING, "coworkEgressAllowedHosts", "ports need a recent app",
                                "%s has a :port suffix; older app builds reject the whole list when one entry has a "
                                "port" % ", ".join(ported)))
    return findings


def _header_findings(settings):
    findings = []
    for key in ("inferenceCustomHeaders", "otlpHeaders", "bootstrapHeaders"):
        headers = settings.get(key)
        if isinstance(headers, dict):
            secret_names = [name for name in headers if is_secret_name(name)]
            if secret_names:
                findings.append(Finding(WARNING, key, "no credentials in headers",
                                        "carries %s, which looks like a credential; the documentation reserves this "
                                        "key for non-secret routing headers (use the API key or a credential helper). "
                                        "Its values are redacted in all output" % ", ".join(secret_names)))
    return findings


def _catalogue_findings(settings, options):
    findings = []
    for key in settings:
        spec = ck.KEYS.get(key)
        if spec is None:
            findings.append(_unknown_key(key, options))
            continue
        if spec.get("renamed_to"):
            findings.append(Finding(WARNING, key, "current key name",
                                    "is the old name of %s; the app still accepts it for now, rename it"
                                    % spec["renamed_to"]))
        if spec.get("deprecated"):
            findings.append(Finding(WARNING, key, "deprecated", spec["deprecated"]))
        if spec.get("no_effect"):
            findings.append(Finding(WARNING, key, "no effect", "%s; remove it" % spec["no_effect"]))
        if spec.get("mdm_only") and options.target == LOCAL:
            findings.append(Finding(WARNING, key, "managed sources only",
                                    "is read only from managed sources (MDM profile, policy registry); the app ignores "
                                    "it in a local file. Deliver it with cowork_mode: managed"))
    if settings.get("deploymentOrganizationUuid") == ck.PLACEHOLDER_ORGANIZATION_UUID:
        findings.append(Finding(WARNING, "deploymentOrganizationUuid", "own organisation UUID",
                                "is the shared placeholder; generate your own UUID once and keep it (changing it later "
                                "orphans user data)"))
    return findings


def _unknown_key(key, options):
    level = ERROR if options.strict else WARNING
    close = difflib.get_close_matches(key, list(ck.KEYS), n=1)
    hint = " Did you mean %s?" % close[0] if close else ""
    if "." in key:
        hint = " Dotted sub-keys are never read: give %s as one dictionary value." % key.split(".", 1)[0]
    text = "is not a documented Claude Desktop key, so the app ignores it.%s" % hint
    if level == WARNING:
        text += " (strict: true makes this an error)"
    return Finding(level, key, "known keys", text)


def _settings_only(rule):
    """Adapt a rule that needs only the settings to the (settings, options) signature."""
    def adapted(settings, _options):
        return rule(settings)
    return adapted


RULES = (
    _base_url_findings,
    _settings_only(_other_url_findings),
    _settings_only(_secret_findings),
    _auth_scheme_findings,
    _required_findings,
    _settings_only(_bedrock_sso_findings),
    _settings_only(_oidc_findings),
    _settings_only(_path_findings),
    _settings_only(_model_findings),
    _settings_only(_egress_findings),
    _settings_only(_header_findings),
    _settings_only(_helper_and_key_findings),
    _catalogue_findings,
)


def normalize(settings):
    """Harmless fixes the reference recommends: strip a trailing slash from the gateway base URL."""
    normalized = dict(settings)
    notes = []
    url = normalized.get("inferenceGatewayBaseUrl")
    if isinstance(url, str) and url.endswith("/") and urlsplit(url).path not in ("", "/v1/"):
        normalized["inferenceGatewayBaseUrl"] = url.rstrip("/")
        notes.append("inferenceGatewayBaseUrl: trailing slash removed (the app appends /v1/messages to it)")
    return normalized, notes


def check(settings, options):
    """All findings for one settings dictionary: schema first, then the rules."""
    if not isinstance(settings, dict):
        return [Finding(ERROR, "settings", "dictionary", "must be a dictionary of Claude Desktop keys")]
    findings = schema_findings(settings)
    for rule in RULES:
        findings.extend(rule(settings, options))
    redactor = Redactor(secret_values_in(settings))
    for finding in findings:
        finding.message = redactor.text(finding.message)
    return findings


def _uncovered_users_findings(settings, user_settings, options, users):
    """Users without an entry in ``user_settings`` get only the common settings: those must be complete."""
    if not user_settings or not options.check_required_keys:
        return []
    named = [user for user in (users or ["all"]) if user != "all"]
    if named and "all" not in (users or []) and all(user in user_settings for user in named):
        return []
    who = ("users not listed in user_settings (%s)" % ", ".join(user for user in named if user not in user_settings)
           if named and "all" not in (users or []) else "with users: all, users not listed in user_settings")
    findings = []
    for finding in _required_findings(settings, options):
        finding.message = ("%s get only the common settings, where %s; list the users explicitly, add the missing "
                           "key to settings, or set check_required_keys: false" % (who, finding.message))
        findings.append(finding)
    return findings


def validate_request(settings, user_settings, options, remove=(), state="present", users=None):
    """Validate what a task asks for. Returns (settings, user_settings, warnings); raises on errors.

    ``settings`` are checked alone and merged with each user's ``user_settings`` (what that user gets);
    ``users`` (the task's ``users`` option) tells whether some users get the common settings alone.
    With ``state: absent`` values are ignored: only key names matter.
    """
    if state == "absent":
        names = list(settings or {}) + list(remove or [])
        findings = [_unknown_key(key, options) for key in names if key not in ck.KEYS]
        return _finish(findings, settings or {}, user_settings or {}, [])
    settings, notes = normalize(settings or {})
    if user_settings is None:
        user_settings = {}
    if not isinstance(user_settings, dict):
        user_settings = {"": user_settings}
    common_options = options
    if user_settings and options.check_required_keys:
        # The credential may come per user: judge completeness on what each user gets.
        common_options = ValidationOptions(options.strict, options.allow_v1_base_url, False, options.allow_deprecated,
                                           options.target)
    findings = check(settings, common_options)
    known = set(str(finding) for finding in findings)
    per_user = {}
    for user, extra in user_settings.items():
        if not isinstance(extra, dict):
            findings.append(Finding(ERROR, "user_settings.%s" % user, "dictionary",
                                    "must map user names to dictionaries of Claude Desktop keys"))
            continue
        extra, user_notes = normalize(extra)
        per_user[user] = extra
        notes.extend("user %s: %s" % (user, note) for note in user_notes)
        combined = dict(settings)
        combined.update(extra)
        for finding in check(combined, options):
            if str(finding) not in known:
                known.add(str(finding))
                finding.key = "user_settings.%s.%s" % (user, finding.key)
                findings.append(finding)
    findings.extend(_uncovered_users_findings(settings, per_user, options, users))
    for key in remove or []:
        if key not in ck.KEYS:
            findings.append(_unknown_key(key, options))
    return _finish(findings, settings, per_user, notes)


def _finish(findings, settings, user_settings, notes):
    errors = [finding for finding in findings if finding.level == ERROR]
    if errors:
        raise SettingsValidationError(errors)
    warnings = ["%s" % finding for finding in findings if finding.level == WARNING] + notes
    seen = set()
    unique = [text for text in warnings if not (text in seen or seen.add(text))]
    return settings, user_settings, unique
