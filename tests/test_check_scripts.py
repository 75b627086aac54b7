"""The site scripts under checks/ that the seed checklist runs: a pass and a fail case each.

Every script runs for real in a temporary folder; the only server is a loopback HTTP server that
answers like Alertmanager's v2 API. The scripts follow the Nagios plugin convention (0 OK,
1 WARNING, 2 CRITICAL, 3 UNKNOWN: could not check) and put their summary on the first line.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from subprocess import CompletedProcess, run

import pytest

CHECKS = Path(__file__).resolve().parents[1] / "checks"
SCRIPTS = ["check_env_vars.sh", "validate_configs.py", "check_feature_flags.py", "audit_api_keys.py",
           "security_scan.sh", "send_test_alert.sh", "deploy_staging.sh", "test_rollback.sh",
           "test_backup_restore.sh"]
"""The scripts the seed names, in seed order."""

# Variables that would change what the scripts do if the machine running the tests had them set.
_SCRIPT_VARIABLES = ("CHECK_ENV_DIR", "FEATURE_FLAGS_FILE", "FEATURE_FLAG_RULES", "API_KEY_INVENTORY",
                     "SECURITY_SCANNERS", "ALERTMANAGER_URL", "DEPLOY_STAGING_COMMAND",
                     "ROLLBACK_TEST_COMMAND", "BACKUP_RESTORE_COMMAND", "PREDEPLOY_CHECKS_CONF")


def script(name: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> CompletedProcess[str]:
    """Run a script of checks/ in ``cwd``; python ones with this interpreter."""
    base = {k: v for k, v in os.environ.items() if k not in _SCRIPT_VARIABLES}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    command = [sys.executable, str(CHECKS / name)] if name.endswith(".py") else [str(CHECKS / name)]
    return run([*command, *args], cwd=cwd, env=base | (env or {}), capture_output=True, text=True,
               timeout=60, check=False)


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_explains_itself(name: str, tmp_path: Path) -> None:
    proc = script(name, "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "usage" in proc.stdout.lower()
    assert "exit codes" in proc.stdout.lower()


# ---------------------------------------------------------------------------------------------
# check_env_vars.sh

def test_env_vars_all_set_passes(tmp_path: Path) -> None:
    (tmp_path / "staging.required").write_text("# names only\nDATABASE_URL\n\nREDIS_URL  # cache\n")
    proc = script("check_env_vars.sh", "--dir", str(tmp_path), "staging", cwd=tmp_path,
                  env={"DATABASE_URL": "postgres://db", "REDIS_URL": "redis://cache"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == "all 2 required variables for staging are set"


def test_env_vars_missing_names_fail_without_showing_values(tmp_path: Path) -> None:
    (tmp_path / "staging.required").write_text("DATABASE_URL\nREDIS_URL\nSENTRY_DSN\n")
    proc = script("check_env_vars.sh", "staging", cwd=tmp_path,
                  env={"CHECK_ENV_DIR": str(tmp_path), "DATABASE_URL": "hunter2-secret",
                       "SENTRY_DSN": ""})
    assert proc.returncode == 2
    assert proc.stdout.startswith("2 of 3 required variables for staging are missing")
    assert "REDIS_URL" in proc.stdout
    assert "SENTRY_DSN" in proc.stdout
    assert "hunter2" not in proc.stdout + proc.stderr


def test_env_vars_shipped_production_list(tmp_path: Path) -> None:
    names = [line.strip() for line in (CHECKS / "env" / "production.required").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    proc = script("check_env_vars.sh", "production", cwd=tmp_path, env=dict.fromkeys(names, "set"))
    assert proc.returncode == 0, proc.stdout
    proc = script("check_env_vars.sh", "nowhere", cwd=tmp_path)
    assert proc.returncode == 3
    assert "nowhere.required not found" in proc.stderr


# ---------------------------------------------------------------------------------------------
# validate_configs.py

def test_configs_that_parse_pass(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    (configs / "nested").mkdir(parents=True)
    (configs / "app.yaml").write_text("workers: 4\nmodels: [small, large]\n---\nsecond: doc\n")
    (configs / "nested" / "limits.json").write_text('{"rate": 10}\n')
    (configs / "nested" / "pool.toml").write_text('[pool]\nsize = 5\n')
    (configs / "README.md").write_text("not a config: [unclosed\n")
    proc = script("validate_configs.py", cwd=tmp_path)  # default folder: ./configs
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.splitlines()[0] == "3 file(s) checked, 0 with errors"


def test_config_syntax_errors_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{\n  "a": 1,\n  "b": \n}\n')
    (tmp_path / "bad.yaml").write_text("a: 1\nb: [1, 2\nc: 3\n")
    (tmp_path / "bad.toml").write_text("[pool]\nsize = \n")
    (tmp_path / "good.yml").write_text("ok: true\n")
    proc = script("validate_configs.py", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.splitlines()[0] == "4 file(s) checked, 3 with errors"
    assert f"{tmp_path}/bad.json:4:1: Expecting value" in proc.stdout
    assert f"{tmp_path}/bad.toml:2:" in proc.stdout
    assert f"{tmp_path}/bad.yaml:3:" in proc.stdout
    assert "good.yml" not in proc.stdout
    assert script("validate_configs.py", "missing", cwd=tmp_path).returncode == 3


# ---------------------------------------------------------------------------------------------
# check_feature_flags.py (with the shipped rules)

def test_feature_flags_that_follow_the_rules_pass(tmp_path: Path) -> None:
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps({"production": {"new_player": True, "stem_export": 25,
                                                "debug_toolbar": False}}))
    proc = script("check_feature_flags.py", "--env", "production", "--flags", str(flags), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == "3 production flag(s) follow the rules"


def test_feature_flags_that_break_the_rules_fail(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "feature_flags.json").write_text(json.dumps(
        {"production": {"debug_toolbar": True, "stem_export": 150},
         "staging": {"debug_toolbar": True}}))
    proc = script("check_feature_flags.py", "--env", "production", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.startswith("2 problem(s) in 2 production flag(s)")
    assert "debug_toolbar: is true, must be false" in proc.stdout
    assert "stem_export: 150 is neither" in proc.stdout
    assert "stem_export: not defined on staging" in proc.stdout
    proc = script("check_feature_flags.py", "--env", "qa", cwd=tmp_path)
    assert proc.returncode == 3
    assert "no flags for 'qa'" in proc.stderr


# ---------------------------------------------------------------------------------------------
# audit_api_keys.py

def _day(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).date().isoformat()


def test_recently_rotated_keys_pass(tmp_path: Path) -> None:
    inventory = tmp_path / "keys.json"
    inventory.write_text(json.dumps({"keys": [
        {"name": "stripe-live", "created": _day(400), "rotated": _day(10)},
        {"name": "sendgrid", "created": _day(30)}]}))
    proc = script("audit_api_keys.py", "--inventory", str(inventory), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == "all 2 key(s) rotated within 90 days"


def test_old_keys_are_listed_without_their_values(tmp_path: Path) -> None:
    inventory = tmp_path / "keys.json"
    inventory.write_text(json.dumps([
        {"name": "stripe-live", "owner": "payments", "created": _day(200), "value": "sk_live_abc123"},
        {"name": "analytics", "rotated": _day(40)},
        {"name": "mystery"}]))
    proc = script("audit_api_keys.py", "--max-age-days", "30", cwd=tmp_path,
                  env={"API_KEY_INVENTORY": str(inventory)})
    assert proc.returncode == 2
    assert proc.stdout.startswith("3 of 3 key(s) need rotation (limit 30 days)")
    assert "stripe-live (owner: payments): 200 days since creation" in proc.stdout
    assert "analytics: 40 days since rotation" in proc.stdout
    assert "mystery: no created or rotated date" in proc.stdout
    assert "sk_live" not in proc.stdout
    assert script("audit_api_keys.py", "--inventory", "nope.json", cwd=tmp_path).returncode == 3


# ---------------------------------------------------------------------------------------------
# security_scan.sh (ruff's security rules are the scanner that is installed here)

@pytest.fixture
def ruff_on_path() -> None:
    if not (Path(sys.executable).parent / "ruff").exists() and shutil.which("ruff") is None:
        pytest.skip("ruff is not installed")


@pytest.mark.usefixtures("ruff_on_path")
def test_security_scan_of_clean_code_passes_and_names_missing_scanners(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import json\n\nprint(json.dumps({'ok': True}))\n")
    proc = script("security_scan.sh", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = proc.stdout.splitlines()[0]
    assert summary.startswith("clean (ran: ")
    assert "ruff: clean" in proc.stdout
    absent = [name for name in ("bandit", "gitleaks", "trivy") if shutil.which(name) is None]
    for name in absent:
        assert name in summary.split("missing (not installed):")[1]


@pytest.mark.usefixtures("ruff_on_path")
def test_security_scan_finding_fails(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import subprocess\n\n"
                                     "subprocess.call(input(), shell=True)\nprint(eval(input()))\n")
    proc = script("security_scan.sh", str(tmp_path), cwd=tmp_path,
                  env={"SECURITY_SCANNERS": "ruff"})
    assert proc.returncode == 2
    assert proc.stdout.startswith("findings from ruff (ran: ruff)")
    assert "S307" in proc.stdout
    assert "S602" in proc.stdout


def test_security_scan_without_any_scanner_says_so(tmp_path: Path) -> None:
    if shutil.which("gitleaks"):
        pytest.skip("gitleaks is installed here")
    proc = script("security_scan.sh", str(tmp_path), cwd=tmp_path, env={"SECURITY_SCANNERS": "gitleaks"})
    assert proc.returncode == 3
    assert proc.stdout.startswith("no scanner is installed")
    assert "missing (not installed): gitleaks" in proc.stdout


# ---------------------------------------------------------------------------------------------
# send_test_alert.sh against a loopback server shaped like Alertmanager's v2 API

class _Alertmanager(BaseHTTPRequestHandler):
    received: list[tuple[str, object]]
    answer: int

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def alertmanager() -> Iterator[tuple[str, type[_Alertmanager]]]:
    handler = type("Handler", (_Alertmanager,), {"received": [], "answer": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_test_alert_accepted(tmp_path: Path, alertmanager: tuple[str, type[_Alertmanager]]) -> None:
    url, handler = alertmanager
    proc = script("send_test_alert.sh", "--url", url + "/", "--severity", "info", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "accepted" in proc.stdout
    [(path, alerts)] = handler.received
    assert path == "/api/v2/alerts"
    assert isinstance(alerts, list)
    assert alerts[0]["labels"]["alertname"] == "PredeployTestAlert"
    assert alerts[0]["labels"]["severity"] == "info"
    assert alerts[0]["endsAt"] > alerts[0]["startsAt"]


def test_test_alert_refused_fails(tmp_path: Path, alertmanager: tuple[str, type[_Alertmanager]]) -> None:
    url, handler = alertmanager
    handler.answer = 500
    proc = script("send_test_alert.sh", cwd=tmp_path, env={"ALERTMANAGER_URL": url})
    assert proc.returncode == 2
    assert "HTTP 500" in proc.stdout
    assert len(handler.received) == 1


def test_test_alert_needs_a_url(tmp_path: Path) -> None:
    proc = script("send_test_alert.sh", cwd=tmp_path)
    assert proc.returncode == 3
    assert "no Alertmanager URL" in proc.stderr


# ---------------------------------------------------------------------------------------------
# deploy_staging.sh, test_rollback.sh, test_backup_restore.sh: the site's own command, or nothing

def test_staging_deploy_runs_the_configured_command(tmp_path: Path) -> None:
    proc = script("deploy_staging.sh", "1.4.0", cwd=tmp_path, env={
        "DEPLOY_STAGING_COMMAND": 'echo "$DEPLOY_VERSION to $TARGET_ENV" > deployed.txt'})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "deployed.txt").read_text() == "1.4.0 to staging\n"
    assert "staging deployment of 1.4.0 succeeded" in proc.stdout


def test_staging_deploy_failure_and_refusal(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "deploy_staging.command").write_text("# the site's deploy\necho rolling out; exit 4\n")
    proc = script("deploy_staging.sh", cwd=tmp_path, env={"PREDEPLOY_CHECKS_CONF": str(conf)})
    assert proc.returncode == 2
    assert "rolling out" in proc.stdout
    assert "exited with 4" in proc.stdout
    proc = script("deploy_staging.sh", cwd=tmp_path, env={"PREDEPLOY_CHECKS_CONF": str(tmp_path / "x")})
    assert proc.returncode == 3
    assert "no command configured" in proc.stderr


def test_rollback_test_on_staging(tmp_path: Path) -> None:
    command = {"ROLLBACK_TEST_COMMAND": 'echo "$TARGET_ENV" > rolled-back'}
    proc = script("test_rollback.sh", "staging", cwd=tmp_path, env=command)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "rolled-back").read_text() == "staging\n"


def test_rollback_test_failure_and_production_refused(tmp_path: Path) -> None:
    proc = script("test_rollback.sh", "staging", cwd=tmp_path, env={"ROLLBACK_TEST_COMMAND": "false"})
    assert proc.returncode == 2
    assert "FAILED" in proc.stdout
    proc = script("test_rollback.sh", "production", cwd=tmp_path,
                  env={"ROLLBACK_TEST_COMMAND": "touch ran"})
    assert proc.returncode == 3
    assert "refusing" in proc.stderr
    assert not (tmp_path / "ran").exists()


def test_backup_restore_runs_the_configured_command(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "test_backup_restore.command").write_text('echo "restored into $TARGET_ENV"\n')
    proc = script("test_backup_restore.sh", cwd=tmp_path, env={"PREDEPLOY_CHECKS_CONF": str(conf)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "restored into staging" in proc.stdout


def test_backup_restore_failure_and_production_refused(tmp_path: Path) -> None:
    failing = {"BACKUP_RESTORE_COMMAND": "echo 'row count mismatch' >&2; exit 1"}
    proc = script("test_backup_restore.sh", "--target", "qa", cwd=tmp_path, env=failing)
    assert proc.returncode == 2
    assert "row count mismatch" in proc.stderr
    proc = script("test_backup_restore.sh", "--target", "production", cwd=tmp_path,
                  env={"BACKUP_RESTORE_COMMAND": "touch ran"})
    assert proc.returncode == 3
    assert not (tmp_path / "ran").exists()
    assert script("test_backup_restore.sh", cwd=tmp_path).returncode == 3


# ---------------------------------------------------------------------------------------------
# WARNING (exit 1): passed, but something deserves a look.

def test_warnings(tmp_path: Path) -> None:
    inventory = tmp_path / "keys.json"
    inventory.write_text(json.dumps([{"name": "stripe-live", "rotated": _day(80)}]))
    proc = script("audit_api_keys.py", "--inventory", str(inventory), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.startswith("1 of 1 key(s) due for rotation within 14 days")

    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps({"production": {"new_player": True}, "staging": {}}))
    proc = script("check_feature_flags.py", "--env", "production", "--flags", str(flags), cwd=tmp_path)
    assert proc.returncode == 1
    assert "new_player: not defined on staging" in proc.stdout

    (tmp_path / "app.yaml").write_text("ok: true\n")
    # -S leaves site-packages (and so PyYAML) out: the YAML file cannot be checked.
    proc = run([sys.executable, "-S", str(CHECKS / "validate_configs.py"), str(tmp_path)],
               capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert "1 not checked (PyYAML or tomllib missing)" in proc.stdout.splitlines()[0]


@pytest.mark.usefixtures("ruff_on_path")
def test_security_scan_warns_when_a_scanner_asked_for_is_missing(tmp_path: Path) -> None:
    if shutil.which("gitleaks"):
        pytest.skip("gitleaks is installed here")
    (tmp_path / "app.py").write_text("print('ok')\n")
    proc = script("security_scan.sh", str(tmp_path), cwd=tmp_path,
                  env={"SECURITY_SCANNERS": "ruff gitleaks"})
    assert proc.returncode == 1
    assert proc.stdout.startswith("clean, but not every scanner asked for ran")
