"""The aws check type against moto's server mode on loopback, reached by boto3 through endpoint_url."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import moto as ms
from servers.run_check import run_check, undocumented

from predeploy_tui.core.results import Status
from predeploy_tui.engine.checks.aws import explain

pytestmark = pytest.mark.integration

BACKUPS = "musicgen-backups"
AUDIO = "musicgen-audio"
SECRET = "musicgen/prod"
OLD_SECRET = "musicgen/legacy"
EDGE_SECRET = "musicgen/edge"
"""Created 90 days and 2 minutes ago: just over a 90-day limit."""
DAY = 86400.0


def _distribution(ref: str, enabled: bool) -> dict[str, Any]:
    return {
        "CallerReference": ref, "Comment": ref, "Enabled": enabled,
        "Origins": {"Quantity": 1, "Items": [{"Id": "audio", "DomainName": f"{AUDIO}.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "audio", "ViewerProtocolPolicy": "https-only",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": False,
                                                                  "Cookies": {"Forward": "none"}}},
    }


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with ms.running(tmp_path_factory.mktemp("aws")) as server:
        s3 = server.client("s3")
        for bucket in (BACKUPS, AUDIO):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": ms.REGION})
        s3.put_object(Bucket=BACKUPS, Key="db/2024-01-01.dump", Body=b"old")
        s3.put_object(Bucket=BACKUPS, Key="db/latest.dump", Body=b"new")
        s3.put_object(Bucket=BACKUPS, Key="media/only.tar", Body=b"stale")
        ms.age_object(BACKUPS, "db/2024-01-01.dump", dt.timedelta(days=3))
        ms.age_object(BACKUPS, "media/only.tar", dt.timedelta(hours=30))
        sm = server.client("secretsmanager")
        sm.create_secret(Name=SECRET, SecretString="x")
        sm.create_secret(Name=OLD_SECRET, SecretString="y")
        ms.age_secret(OLD_SECRET, dt.timedelta(days=120))
        sm.create_secret(Name=EDGE_SECRET, SecretString="z")
        ms.age_secret(EDGE_SECRET, dt.timedelta(days=90, minutes=2))
        cf = server.client("cloudfront")
        enabled = cf.create_distribution(DistributionConfig=_distribution("on", True))
        disabled = cf.create_distribution(DistributionConfig=_distribution("off", False))
        yield {"endpoint": server.endpoint_url, "enabled": enabled["Distribution"]["Id"],
               "disabled": disabled["Distribution"]["Id"], "server": server}


def p(aws: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"region": ms.REGION, "endpoint_url": aws["endpoint"], **fields}


async def test_bucket_reachable_and_missing(aws: dict[str, Any]) -> None:
    ok = await run_check("aws", p(aws, probe="bucket", bucket=AUDIO))
    assert ok.status is Status.PASS, ok.summary
    assert ok.obs is not None
    assert undocumented("aws", ok.obs.data) == []
    assert ok.obs.data["exists"] is True
    assert ok.summary == f"bucket {AUDIO} reachable"
    gone = await run_check("aws", p(aws, probe="bucket", bucket="musicgen-nope"))
    assert gone.status is Status.FAIL
    assert gone.summary == "bucket musicgen-nope does not exist"


async def test_backup_freshness(aws: dict[str, Any]) -> None:
    fresh = await run_check("aws", p(aws, probe="newest_object", bucket=BACKUPS, prefix="db/"),
                            expect={"max_age": DAY})
    assert fresh.status is Status.PASS, fresh.summary
    assert fresh.obs is not None
    assert undocumented("aws", fresh.obs.data) == []
    assert fresh.obs.data["key"] == "db/latest.dump"
    assert fresh.obs.data["objects"] == 2
    assert fresh.obs.data["age_seconds"] < 600
    assert "db/latest.dump" in fresh.obs.summary

    stale = await run_check("aws", p(aws, probe="newest_object", bucket=BACKUPS, prefix="media/"),
                            expect={"max_age": DAY})
    assert stale.status is Status.FAIL
    assert stale.obs is not None
    assert stale.obs.data["key"] == "media/only.tar"
    assert 29 * 3600 < stale.obs.data["age_seconds"] < 31 * 3600
    assert "30.0 h old (max 24.0 h)" in stale.summary

    empty = await run_check("aws", p(aws, probe="newest_object", bucket=BACKUPS, prefix="none/"),
                            expect={"max_age": DAY})
    assert empty.status is Status.FAIL
    assert empty.summary == f"no objects under s3://{BACKUPS}/none/"


async def test_secret_rotation_age(aws: dict[str, Any]) -> None:
    recent = await run_check("aws", p(aws, probe="secret_rotation", secret_id=SECRET),
                             expect={"max_age": 90 * DAY})
    assert recent.status is Status.PASS, recent.summary
    old = await run_check("aws", p(aws, probe="secret_rotation", secret_id=OLD_SECRET),
                          expect={"max_age": 90 * DAY})
    assert old.status is Status.FAIL
    assert old.obs is not None
    assert undocumented("aws", old.obs.data) == []
    assert old.obs.data["last_rotated"] is None
    assert old.obs.data["created"] is not None
    assert 119 < old.obs.data["age_days"] < 121
    assert "120 days old (max 90 days)" in old.summary
    missing = await run_check("aws", p(aws, probe="secret_rotation", secret_id="nope"))
    assert missing.status is Status.ERROR
    assert "ResourceNotFoundException" in missing.summary


async def test_secret_age_days_are_not_rounded_to_the_limit(aws: dict[str, Any]) -> None:
    out = await run_check("aws", p(aws, probe="secret_rotation", secret_id=EDGE_SECRET),
                          expect={"jmespath": "age_days", "le": 90})
    assert out.status is Status.FAIL, out.summary
    assert out.obs is not None
    assert out.obs.data["age_days"] > 90


async def test_cloudfront_status(aws: dict[str, Any]) -> None:
    on = await run_check("aws", p(aws, probe="cloudfront", distribution_id=aws["enabled"]))
    assert on.status is Status.PASS, on.summary
    assert on.obs is not None
    assert undocumented("aws", on.obs.data) == []
    assert on.obs.data["status"] == "Deployed"
    assert on.obs.data["enabled"]
    off = await run_check("aws", p(aws, probe="cloudfront", distribution_id=aws["disabled"]))
    assert off.status is Status.FAIL
    assert "DISABLED" in off.summary


async def test_general_call_with_jmespath(aws: dict[str, Any]) -> None:
    out = await run_check("aws", p(aws, call="s3.list_objects_v2",
                                   params={"Bucket": BACKUPS, "Prefix": "db/"}),
                          expect={"jmespath": "KeyCount", "eq": 2})
    assert out.status is Status.PASS, out.summary
    assert out.obs is not None
    assert "ResponseMetadata" not in out.obs.data
    # Datetimes become ISO text, so max_age works on them through JMESPath too.
    stamps = [o["LastModified"] for o in out.obs.data["Contents"]]
    assert all(isinstance(s, str) and "T" in s for s in stamps)
    newest = await run_check("aws", p(aws, call="s3.ListObjectsV2",
                                      params={"Bucket": BACKUPS, "Prefix": "db/"}),
                             expect={"jmespath": "max_by(Contents, &LastModified).LastModified",
                                     "max_age": DAY})
    assert newest.status is Status.PASS, newest.summary
    bad = await run_check("aws", p(aws, call="s3.no_such_operation"))
    assert bad.status is Status.ERROR
    assert "no operation" in bad.summary


async def test_missing_credentials(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # Only loopback is ever reached: no instance metadata lookups.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    out = await run_check("aws", p(aws, probe="bucket", bucket=AUDIO), timeout=5)
    assert out.status is Status.ERROR
    assert out.summary.startswith("no AWS credentials found")
    assert out.elapsed < 6
    profile = await run_check("aws", p(aws, probe="bucket", bucket=AUDIO, profile="nobody"), timeout=5)
    assert profile.status is Status.ERROR
    assert "nobody" in profile.summary
    assert "not be found" in profile.summary


async def test_access_denied_and_unknown_key(aws: dict[str, Any], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.authorization import enable_iam_authentication

    iam = aws["server"].client("iam")
    iam.create_user(UserName="no-rights")
    key = iam.create_access_key(UserName="no-rights")["AccessKey"]
    creds = tmp_path / "credentials"
    creds.write_text(f"[no-rights]\naws_access_key_id = {key['AccessKeyId']}\n"
                     f"aws_secret_access_key = {key['SecretAccessKey']}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    with enable_iam_authentication():
        denied = await run_check("aws", p(aws, probe="secret_rotation", secret_id=SECRET,
                                          profile="no-rights"), timeout=5)
        unknown = await run_check("aws", p(aws, probe="secret_rotation", secret_id=SECRET),
                                  timeout=5)
    assert denied.status is Status.ERROR
    assert denied.summary.startswith("access denied by AWS (AccessDenied: User: arn:aws:iam::")
    assert "not authorized to perform: secretsmanager:DescribeSecret" in denied.summary
    assert unknown.status is Status.ERROR
    assert unknown.summary.startswith("AWS credentials expired or invalid")


def test_expired_and_throttled_read_as_people_say_them() -> None:
    from botocore.exceptions import ClientError

    def error(code: str, message: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message},
                            "ResponseMetadata": {"HTTPStatusCode": 400}}, "DescribeSecret")

    assert explain(error("ExpiredTokenException", "The security token included in the request is "
                         "expired")) == ("AWS credentials expired or invalid (ExpiredTokenException: "
                                         "The security token included in the request is expired) in "
                                         "DescribeSecret")
    assert explain(error("ThrottlingException", "Rate exceeded")).startswith(
        "throttled by AWS (ThrottlingException: Rate exceeded) in DescribeSecret")


async def test_unreachable_endpoint_within_timeout(aws: dict[str, Any]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = await run_check("aws", {"region": ms.REGION, "endpoint_url": f"http://127.0.0.1:{port}",
                                  "probe": "bucket", "bucket": AUDIO}, timeout=3)
    assert out.status is Status.ERROR
    assert out.summary.startswith("cannot reach AWS")
    assert out.elapsed < 4


def test_a_hung_endpoint_keeps_no_process_alive_past_the_timeout(silent_port: int,
                                                                  tmp_path: Path) -> None:
    # Given an endpoint that accepts connections and never answers, and a 3 s timeout
    import subprocess
    import sys
    import time

    import predeploy_tui

    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(
        "id: hung\ntitle: Hung AWS\nsections:\n  - id: aws\n    title: AWS\n    groups:\n"
        "      - title: All\n        items:\n"
        "          - {id: bucket, title: bucket reachable, check: {type: aws, probe: bucket, "
        f"bucket: {AUDIO}, region: {ms.REGION}, endpoint_url: 'http://127.0.0.1:{silent_port}', "
        "timeout: 3s}}\n")
    (tmp_path / "aws").mkdir()
    for name in ("config", "credentials"):
        (tmp_path / "aws" / name).write_text("")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **ms.FAKE_ENV,
           "AWS_CONFIG_FILE": str(tmp_path / "aws" / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws" / "credentials"),
           "AWS_EC2_METADATA_DISABLED": "true",
           # The package under test, not whichever one the console script was installed from
           "PYTHONPATH": str(Path(predeploy_tui.__file__).parents[1])}
    session = tmp_path / "session.toml"
    # When predeploy runs it headless
    started = time.monotonic()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "predeploy"), "run", str(checklist), "--headless",
         "--session", str(session), "--deployer", "tester"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    elapsed = time.monotonic() - started
    # Then the item is an error, and the process is gone soon after the timeout: botocore's
    # retries ran on past it before (3 attempts of 3 s each), holding the process open
    from predeploy_tui.core import store

    item = store.load(session).items["aws.bucket"]
    assert item.runs[-1].status is Status.ERROR, item.runs[-1].summary
    assert done.returncode != 0, done.stdout + done.stderr
    assert elapsed < 3 + 4, elapsed


def _aws_cli(aws: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    """The AWS CLI, the reference client, against the same moto endpoint and credentials."""
    return subprocess.run(["aws", "--endpoint-url", aws["endpoint"], "--region", ms.REGION,
                           "--output", "json", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AWS_PAGER": ""})


def _when(text: str | float) -> dt.datetime:
    """A time as the CLI prints it (ISO 8601, or epoch seconds where it passes them through)."""
    if isinstance(text, int | float) or text.replace(".", "", 1).isdigit():
        return dt.datetime.fromtimestamp(float(text), dt.UTC)
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@pytest.mark.skipif(shutil.which("aws") is None, reason="aws (the AWS CLI) not installed")
async def test_probes_as_the_aws_cli_reads_them(aws: dict[str, Any]) -> None:
    import json

    # A bucket that is there, and one that is not
    for bucket in (AUDIO, "musicgen-nope"):
        theirs = _aws_cli(aws, "s3api", "head-bucket", "--bucket", bucket)
        ours = await run_check("aws", p(aws, probe="bucket", bucket=bucket))
        assert ours.obs is not None, ours.summary
        assert ours.obs.data["exists"] is (theirs.returncode == 0), theirs.stderr
    # The newest backup: same count, same key, same time
    listed = json.loads(_aws_cli(aws, "s3api", "list-objects-v2", "--bucket", BACKUPS,
                                 "--prefix", "db/").stdout)
    newest = max(listed["Contents"], key=lambda o: _when(o["LastModified"]))
    ours = await run_check("aws", p(aws, probe="newest_object", bucket=BACKUPS, prefix="db/"))
    assert ours.obs is not None, ours.summary
    assert ours.obs.data["objects"] == len(listed["Contents"])
    assert ours.obs.data["key"] == newest["Key"]
    assert _when(ours.obs.data["last_modified"]) == _when(newest["LastModified"])
    # A secret's dates
    described = json.loads(_aws_cli(aws, "secretsmanager", "describe-secret", "--secret-id",
                                    OLD_SECRET).stdout)
    ours = await run_check("aws", p(aws, probe="secret_rotation", secret_id=OLD_SECRET))
    assert ours.obs is not None, ours.summary
    assert ours.obs.data["name"] == described["Name"]
    assert _when(ours.obs.data["created"]) == _when(described["CreatedDate"])
    assert ours.obs.data["last_rotated"] is None
    assert "LastRotatedDate" not in described
    # A distribution's state
    for dist in (aws["enabled"], aws["disabled"]):
        got = json.loads(_aws_cli(aws, "cloudfront", "get-distribution", "--id", dist).stdout)
        ours = await run_check("aws", p(aws, probe="cloudfront", distribution_id=dist))
        assert ours.obs is not None, ours.summary
        assert ours.obs.data["status"] == got["Distribution"]["Status"]
        assert ours.obs.data["enabled"] is got["Distribution"]["DistributionConfig"]["Enabled"]
