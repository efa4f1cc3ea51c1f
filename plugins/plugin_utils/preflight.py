# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The gateway preflight of one host (controller side), shared by ``gateway_preflight`` and ``enterprise_config``.

Which users get which API key, is every key usable, does the base URL follow the same rule as
``enterprise_config`` (no ``/v1``), and does the gateway accept each key (``GET {base}/v1/models``, once
per distinct key for the whole run, shared across forks by ``gateway.RunCache``). A bad key fails
exactly the hosts that would get it; the key appears nowhere, only its fingerprint.
"""

from __future__ import annotations

import os

from ansible import constants as C

from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import gateway
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.validation import (
    ERROR, ValidationOptions, check,
)

BASE_URL_KEY = "inferenceGatewayBaseUrl"
CACHE_DIRECTORY_NAME = "aiohub-gateway-preflight"


def preflight_argument_spec():
    """The options of ``gateway_preflight`` (also the defaults ``enterprise_config`` passes on)."""
    return dict(
        base_url=dict(type="str", required=True),
        auth_scheme=dict(type="str", default="bearer", choices=list(gateway.AUTH_SCHEMES)),
        api_key=dict(type="str", no_log=True),
        user_api_keys=dict(type="dict", default={}, no_log=True),
        users=dict(type="list", elements="str", default=["all"]),
        models=dict(type="list", elements="raw", default=[]),
        key_source=dict(type="str"),
        verify=dict(type="bool", default=True),
        allow_v1_base_url=dict(type="bool", default=False),
        timeout=dict(type="int", default=gateway.DEFAULT_TIMEOUT),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        proxy_url=dict(type="str"),
        use_proxy=dict(type="bool", default=True),
        anthropic_version=dict(type="str", default=gateway.ANTHROPIC_VERSION),
        fingerprint_salt=dict(type="str", no_log=True),
    )


def base_url_problems(base_url, allow_v1_base_url):
    """The errors ``enterprise_config`` would raise for this base URL (same rules, same text)."""
    findings = check({BASE_URL_KEY: base_url}, ValidationOptions(allow_v1_base_url=allow_v1_base_url))
    return [str(finding) for finding in findings if finding.level == ERROR and finding.key == BASE_URL_KEY]


def probe_options(params):
    return gateway.ProbeOptions(timeout=params["timeout"], validate_certs=params["validate_certs"],
                                ca_path=params["ca_path"], proxy_url=params["proxy_url"],
                                use_proxy=params["use_proxy"], anthropic_version=params["anthropic_version"])


def describe_use(use, redactor, key_source):
    source = " from %s" % key_source if key_source and use.label == "the default key" else ""
    return "%s %s%s, used by %s" % (use.label, redactor.value(use.key), source, ", ".join(use.users))


def failure_message(verdict, use, scheme, redactor, key_source):
    text = "%s. Key: %s, sent as %s." % (verdict.message, describe_use(use, redactor, key_source),
                                         gateway.header_shape(scheme))
    if verdict.http_status in (401, 403):
        return text + (" Check that key in your vault, and the auth scheme (bearer sends 'Authorization: Bearer', "
                       "x-api-key sends 'x-api-key').")
    if verdict.http_status is None:
        return text + (" Check the base URL, DNS, proxy and CA settings from the controller, or skip this check "
                       "(verify: false; in the role cowork_verify_gateway: false).")
    return text


def preflight(params, redactor):
    """The preflight of one host: its checks, warnings, and failure message if any (no key anywhere)."""
    url = gateway.models_url(params["base_url"])
    outcome = dict(changed=False, url=url, auth_scheme=params["auth_scheme"], checks=[], warnings=[])
    uses, problems = plan(params)
    if problems:
        return dict(outcome, failed=True, msg="Gateway preflight: nothing was sent to the gateway:\n  - %s"
                    % "\n  - ".join(problems))
    if not params["verify"]:
        return dict(outcome, msg="%d API key(s) present and usable; the gateway was not asked (verify: false)"
                    % len(uses))
    try:
        verdicts = ask_once(url, uses, params, redactor)
    except (gateway.GatewayError, OSError) as exc:
        return dict(outcome, failed=True, msg="Gateway preflight: could not share verdicts between hosts: %s"
                    % redactor.text(str(exc)))

    failures = []
    for use, (verdict, asked) in zip(uses, verdicts):
        check_result = check_entry(use, verdict, asked, params["models"], redactor)
        outcome["checks"].append(check_result)
        if verdict.failed:
            failures.append(failure_message(verdict, use, params["auth_scheme"], redactor, params["key_source"]))
        else:
            outcome["warnings"].extend(verdict_warnings(verdict, check_result))
    if failures:
        return dict(outcome, failed=True, msg="Gateway preflight failed for %d of %d API key(s):\n  - %s"
                    % (len(failures), len(uses), "\n  - ".join(failures)))
    return dict(outcome, msg="the gateway accepts %d API key(s) of this host" % len(uses))


def plan(params):
    """(key uses, problems): who gets which key, and what is wrong before anything is sent."""
    problems = base_url_problems(params["base_url"], params["allow_v1_base_url"])
    uses, key_problems = gateway.plan_key_uses(params["api_key"], params["user_api_keys"], params["users"])
    if params["key_source"]:
        key_problems = ["%s (keys from %s)" % (problem, params["key_source"]) for problem in key_problems]
    return uses, problems + key_problems


def ask_once(url, uses, params, redactor):
    """[(verdict, asked here)] per key use; each key is asked once per run (``RunCache``)."""
    cache = gateway.RunCache(os.path.join(C.DEFAULT_LOCAL_TMP, CACHE_DIRECTORY_NAME))
    options = probe_options(params)
    verdicts = []
    for use in uses:
        def ask(key=use.key):
            return gateway.list_models(params["base_url"], params["auth_scheme"], key, options, redactor)
        verdicts.append(cache.verdict(url, params["auth_scheme"], use.key, ask))
    return verdicts


def check_entry(use, verdict, asked, models, redactor):
    """One entry of RV(checks): the verdict for one key, with a fingerprint instead of the key."""
    listed = verdict.models if verdict.outcome == gateway.OK else []
    return dict(key=redactor.value(use.key), label=use.label, users=use.users, url=verdict.url,
                outcome=verdict.outcome,
                http_status=verdict.http_status, message=verdict.message, models=listed,
                missing_models=gateway.missing_models(models, listed) if verdict.outcome == gateway.OK else [],
                cached=not asked)


def verdict_warnings(verdict, check_result):
    """Identical text on every host that shares the verdict, so Ansible shows it once."""
    if verdict.outcome == gateway.UNVERIFIED:
        return [verdict.message]
    if check_result["missing_models"]:
        return ["%s does not list model(s) %s that the models setting names (the gateway lists %s); the app cannot "
                "use a model the gateway does not serve, check the IDs"
                % (verdict.url, ", ".join(check_result["missing_models"]), _shortlist(verdict.models))]
    return []


def _shortlist(names, limit=8):
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown + (" and %d more" % (len(names) - limit) if len(names) > limit else "")


API_KEY = "inferenceGatewayApiKey"
# What decides where a key is sent and how; a user whose user_settings change one of these is asked apart.
ROUTING_KEYS = ("inferenceProvider", "inferenceGatewayBaseUrl", "inferenceGatewayAuthScheme")


def settings_preflight(settings, user_settings, users, options, redactor):
    """The preflight ``enterprise_config`` runs before writing (``verify_gateway: true``).

    Each key is checked against the gateway its users will really use: users whose ``user_settings`` change
    the provider, base URL or auth scheme are asked apart, with their own settings. Returns None when there
    is nothing to ask (no gateway provider, or no static key: a credential helper or interactive sign-in),
    else the result of ``preflight`` (several of them merged, each check naming its URL).
    """
    user_settings = user_settings or {}
    rerouted = [user for user, extra in user_settings.items() if any(key in (extra or {}) for key in ROUTING_KEYS)]
    named = [user for user in (users or ["all"]) if user != "all"]
    common_users = ["all"] if not named else [user for user in named if user not in rerouted]
    groups = []
    user_keys = dict((user, extra[API_KEY]) for user, extra in user_settings.items()
                     if user not in rerouted and API_KEY in (extra or {}))
    if API_KEY not in settings:
        # Users without a key of their own sign in another way (helper, interactive; validation checked that).
        common_users = [user for user in user_keys if "all" in common_users or user in common_users]
    if common_users:
        groups.append((settings, user_keys, common_users))
    for user in rerouted:
        if not named or user in named:
            own = dict(settings, **user_settings[user])
            own_key = own.pop(API_KEY, None) if API_KEY in user_settings[user] else None
            groups.append((own, {user: own_key} if own_key is not None else {}, [user]))
    outcomes = [outcome for outcome in (_group_preflight(group, options, redactor) for group in groups) if outcome]
    return _merged(outcomes)


def _group_preflight(group, options, redactor):
    settings, user_keys, users = group
    if settings.get("inferenceProvider") != "gateway" or not settings.get("inferenceGatewayBaseUrl"):
        return None
    if API_KEY not in settings and not user_keys:
        return None
    params = dict(options)
    params.update(base_url=settings["inferenceGatewayBaseUrl"],
                  auth_scheme=settings.get("inferenceGatewayAuthScheme") or "bearer",
                  api_key=settings.get(API_KEY), user_api_keys=user_keys, users=users,
                  models=settings.get("inferenceModels") or [], verify=True)
    return preflight(params, redactor)


def _merged(outcomes):
    if len(outcomes) < 2:
        return outcomes[0] if outcomes else None
    merged = dict(outcomes[0], checks=[], warnings=[])
    for outcome in outcomes:
        merged["checks"].extend(outcome["checks"])
        merged["warnings"].extend(warning for warning in outcome["warnings"] if warning not in merged["warnings"])
    failed = [outcome["msg"] for outcome in outcomes if outcome.get("failed")]
    merged.update(failed=bool(failed), msg="\n".join(failed or [outcome["msg"] for outcome in outcomes]))
    return merged
