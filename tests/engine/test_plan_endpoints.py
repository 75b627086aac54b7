"""``predeploy plan`` names where each check connects, resolved as a run would, and no password."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from predeploy_tui.engine.redact import Redactor

ROOT = Path(__file__).resolve().parents[2]
PREDEPLOY = [sys.executable, "-m", "predeploy_tui.cli"]

CHECKLIST = """\
id: where
title: Where checks go
hosts:
  app: {host: app-alias, port: 2200}
  db: {host: db.internal, user: postgres, proxy_jump: "ops@bastion.example.com:2222,inner"}
sections:
  - id: s
    title: S
    groups:
      - title: G
        items:
          - {id: remote, title: remote, check: {type: ssh, host: app, run: "uptime"}}
          - {id: behind, title: behind, check: {type: ssh, host: db, run: "uptime"}}
          - {id: aliased, title: aliased, check: {type: ssh, host: web7, run: "uptime"}}
          - id: pg
            title: pg
            check: {type: postgres, dsn: "postgresql://app:Hunter2pg@db.internal:5432/app", query: "select 1"}
          - id: pgkv
            title: pgkv
            check: {type: postgres, dsn: "host=db.internal user=app password=Hunter2kv dbname=app",
                    query: "select 1"}
          - {id: rd, title: rd, check: {type: redis, url: "redis://:Hunter2rd@cache.internal:6379/0"}}
          - id: web
            title: web
            check: {type: http, url: "https://admin:Hunter2web@api.internal/health"}
          - id: basic
            title: basic
            check: {type: http, url: "https://api.internal/health",
                    basic: {user: admin, password: Hunter2basic}}
          - {id: k8s, title: k8s, check: {type: kubernetes, kubeconfig: KUBECONFIG_PATH, context: prod}}
          - {id: s3, title: s3, check: {type: aws, probe: bucket, bucket: releases}}
          - {id: secret, title: secret, check: {type: aws, probe: secret_rotation, secret_id: db/prod,
                                               endpoint_url: "https://vpce.example.com"}}
"""

SSH_CONFIG = """\
Host app-alias
    HostName 10.1.2.3
    User deploy
Host web7
    HostName web7.internal
    User www
    Port 2022
    ProxyJump jump1
Host jump1
    HostName 192.0.2.10
    User hop
Host inner
    HostName inner.internal
    User relay
    Port 2200
"""

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: dev
clusters:
  - name: dev-cluster
    cluster: {server: "https://dev.k8s.internal:6443"}
  - name: prod-cluster
    cluster: {server: "https://prod.k8s.internal:6443"}
contexts:
  - name: dev
    context: {cluster: dev-cluster, user: someone}
  - name: prod
    context: {cluster: prod-cluster, user: someone}
users:
  - name: someone
    user: {token: not-a-real-token}
"""


def test_plan_shows_ssh_targets_hops_api_servers_endpoints_and_no_password(tmp_path: Path) -> None:
    # Given a checklist with SSH hosts (some through jump hosts), Kubernetes, AWS, and passwords
    # written into a DSN, a Redis URL and HTTP URLs
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    checklist = tmp_path / "where.yaml"
    checklist.write_text(CHECKLIST.replace("KUBECONFIG_PATH", str(kubeconfig)))
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text(SSH_CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONPATH=str(ROOT), PREDEPLOY_SSH_CONFIG=str(ssh_config),
               PREDEPLOY_KNOWN_HOSTS=str(tmp_path / "known_hosts"), USER="tester",
               AWS_ENDPOINT_URL="http://127.0.0.1:4566", AWS_DEFAULT_REGION="eu-west-1",
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    # When the plan is printed
    proc = subprocess.run([*PREDEPLOY, "plan", str(checklist)], env=env, capture_output=True,
                          text=True, timeout=120)
    # Then every SSH target is user@address:port with its hops, from checklist and ssh_config
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    lines = out.splitlines()
    assert "  app  deploy@10.1.2.3:2200" in lines
    assert ("  db  postgres@db.internal:22  via ops@bastion.example.com:2222, "
            "relay@inner.internal:2200") in lines
    assert "  web7  www@web7.internal:2022  via hop@192.0.2.10:22" in lines
    # ...the Kubernetes API server of the check's context, and the AWS endpoints botocore would use
    assert any(line.startswith("  https://prod.k8s.internal:6443  (kubeconfig ") for line in lines), out
    assert "  s3: http://127.0.0.1:4566 (region eu-west-1)" in lines
    assert "  secretsmanager: https://vpce.example.com (region eu-west-1)" in lines
    # ...and no password, though each place that takes one is still named
    assert "Hunter2" not in out
    assert "postgresql://app:***@db.internal:5432/app" in out
    assert "password=***" in out
    assert "redis://:***@cache.internal:6379/0" in out
    assert "https://admin:***@api.internal/health" in out
    assert "(basic auth)" in out


def test_url_passwords_are_masked_in_text_and_data() -> None:
    mask_url_passwords = Redactor().redact
    assert mask_url_passwords("redis://:pw@h:6379/0 and https://u:p%40ss@h/x") == \
        "redis://:***@h:6379/0 and https://u:***@h/x"
    assert Redactor().redact_data({"dsn": ["postgres://a:b@h/db"], "n": 3}) == \
        {"dsn": ["postgres://a:***@h/db"], "n": 3}
    assert mask_url_passwords("https://user@h/ and ssh://h") == "https://user@h/ and ssh://h"


def test_plan_of_an_unresolvable_ssh_config_says_so(tmp_path: Path) -> None:
    checklist = tmp_path / "c.yaml"
    checklist.write_text(textwrap.dedent("""\
        id: c
        title: C
        sections:
          - id: s
            title: S
            groups:
              - title: G
                items:
                  - {id: r, title: r, check: {type: ssh, host: loop, run: "true"}}
        """))
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text("Host loop\n    ProxyJump loop2\nHost loop2\n    ProxyJump loop\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREDEPLOY_SSH_CONFIG": str(ssh_config)}
    proc = subprocess.run([*PREDEPLOY, "plan", str(checklist)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "  loop  cannot resolve: the ProxyJump chain goes through more than 8 hops" in proc.stdout
