"""Tests variable substitution: shell quoting where it runs in a shell, env secrets, unknown names."""

from __future__ import annotations

import shlex
from types import MappingProxyType

import pytest

from predeploy_tui.core.checklist import CheckSpec, Host
from predeploy_tui.engine.template import Template, TemplateError


def spec(type_: str, **params: object) -> CheckSpec:
    return CheckSpec(type_, MappingProxyType(dict(params)), None, 5.0)


def test_values_are_shell_quoted_in_shell_commands_only() -> None:
    t = Template({"version": "1.2.3; rm -rf /"}, environ={})
    check = t.check(spec("shell", run="git tag v${version}"))
    assert check.params["run"] == "git tag v'1.2.3; rm -rf /'"
    assert shlex.split(check.params["run"]) == ["git", "tag", "v1.2.3; rm -rf /"]
    argv = t.check(spec("shell", run=["git", "tag", "v${version}"]))
    assert argv.params["run"] == ["git", "tag", "v1.2.3; rm -rf /"]
    url = t.check(spec("http", url="https://x.test/v${version}"))
    assert url.params["url"] == "https://x.test/v1.2.3; rm -rf /"


def test_env_values_are_secret_and_masked_in_shown() -> None:
    t = Template({}, environ={"API_TOKEN": "s3cr3t-value"})
    check = t.check(spec("http", url="https://x.test", bearer="${env:API_TOKEN}",
                         headers={"X-Key": "k=${env:API_TOKEN}"}))
    assert check.params["bearer"] == "s3cr3t-value"
    assert check.shown["bearer"] == "***"
    assert check.shown["headers"] == {"X-Key": "k=***"}
    assert "s3cr3t-value" in t.secrets


def test_checklist_secret_variables_are_masked_too() -> None:
    t = Template({"db_password": "hunter22"}, environ={}, secret_names={"db_password"})
    check = t.check(spec("shell", run="psql --password ${db_password}"))
    assert check.params["run"] == 'psql --password "${PREDEPLOY_SECRET_1}"'
    assert dict(check.env) == {"PREDEPLOY_SECRET_1": "hunter22"}
    assert check.shown["run"] == "psql --password ***"
    assert t.secrets == {"hunter22"}


def test_unknown_variable_and_unset_env_raise_naming_them() -> None:
    t = Template({"version": "1"}, environ={})
    with pytest.raises(TemplateError, match=r"unknown variable \$\{verson\}") as info:
        t.check(spec("shell", run="echo ${verson}"))
    assert info.value.name == "verson"
    with pytest.raises(TemplateError, match="environment variable TOKEN is not set"):
        t.check(spec("shell", run="echo ${env:TOKEN}"))


def test_a_stored_secret_without_its_value_is_an_error_but_plan_tolerates_it() -> None:
    strict = Template({"pw": "***"}, environ={}, secret_names={"pw"})
    with pytest.raises(TemplateError, match="PREDEPLOY_VAR_pw"):
        strict.check(spec("shell", run="echo ${pw}"))
    lenient = Template({"pw": "***"}, environ={}, secret_names={"pw"}, strict_env=False)
    assert lenient.check(spec("shell", run="echo ${pw} ${env:NOPE}")).shown["run"] == "echo *** ***"


def test_host_fields_are_filled_plain() -> None:
    t = Template({"env": "staging"}, environ={})
    host = t.host(Host("web", host="web.${env}.example", user="deploy"))
    assert host.host == "web.staging.example"


def test_a_port_written_with_a_variable_is_a_number_once_filled() -> None:
    t = Template({"tls_port": "8443", "ssh_port": "2222"}, environ={})
    check = t.check(spec("tls", address="127.0.0.1", port="${tls_port}"))
    assert check.params["port"] == 8443
    assert check.shown["port"] == 8443
    host = t.host(Host(name="web", host="127.0.0.1", port="${ssh_port}"))
    assert host.port == 2222


@pytest.mark.parametrize("value", ["80a", "70000", "", "0"])
def test_a_port_variable_that_is_not_a_port_is_a_clear_error(value: str) -> None:
    t = Template({"p": value}, environ={})
    with pytest.raises(TemplateError, match=r"port \$\{p\} gives .* is not a port"):
        t.check(spec("redis", address="127.0.0.1", port="${p}"))
    with pytest.raises(TemplateError, match=r"host web: port \$\{p\} gives .* is not a port"):
        t.host(Host(name="web", host="127.0.0.1", port="${p}"))
