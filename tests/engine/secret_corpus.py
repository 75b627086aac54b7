"""Provides the secret corpus: secret shapes a check may print, and ordinary text that must survive.

Every value here is made up. ``SHAPES`` are (name, line, secret): the line as a check would print
it, and the part of it that must never be saved or shown. ``ENV_SECRET`` is the value of the
``${env:DEPLOY_TOKEN}`` variable of the corpus checklist; its encodings are shapes too.
``NEGATIVES`` are lines that redaction must leave exactly as they are.
"""

from __future__ import annotations

import base64
import json
import random
import string
from urllib.parse import quote


def _made_up(alphabet: str, n: int, seed: int) -> str:
    """A deterministic random-looking string (high entropy, like a real key)."""
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"

ENV_SECRET = "Zq8-tRw4#vLp2@Kx\"é"
"""The value of ``${env:DEPLOY_TOKEN}`` (has characters that JSON/URL encodings change)."""
ENV_NAME = "DEPLOY_TOKEN"

SECRET_VAR = "n0t-in-argv-Qw7e"
"""The value of the checklist's ``secret: true`` variable ``db_password``."""

_PEM_BODY = "\n".join(_made_up(B64, 64, 100 + i) for i in range(4))
_PUTTY_PRIVATE = _made_up(B64, 64, 200)
_JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
        + _made_up(ALNUM + "_-", 43, 1))
_BASIC = base64.b64encode(b"deploy:" + _made_up(ALNUM, 14, 2).encode()).decode()
_SLACK_HOOK = "T0" + _made_up(ALNUM, 7, 3) + "/B0" + _made_up(ALNUM, 7, 4) + "/" + _made_up(ALNUM, 24, 5)
_SENDGRID = "SG." + _made_up(ALNUM + "_-", 22, 6) + "." + _made_up(ALNUM + "_-", 43, 7)
_AZURE_KEY = _made_up(B64, 86, 8) + "=="
_GCP_KEY_ID = _made_up(HEX, 40, 9)
_ENV_RAW = ENV_SECRET.encode()
_ENV_SPLIT = ENV_SECRET[:7] + "\n" + ENV_SECRET[7:]
_ENV_BASIC = base64.b64encode(b"ci:" + _ENV_RAW).decode()

SHAPES: list[tuple[str, str, str]] = [
    ("PEM RSA private key", "-----BEGIN RSA PRIVATE KEY-----\n" + _PEM_BODY
     + "\n-----END RSA PRIVATE KEY-----", _PEM_BODY.splitlines()[1]),
    ("PEM OpenSSH private key", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + _PEM_BODY[::-1]
     + "\n-----END OPENSSH PRIVATE KEY-----", _PEM_BODY[::-1].splitlines()[2]),
    ("PEM EC private key", "-----BEGIN EC PRIVATE KEY-----\n" + _PEM_BODY.upper()
     + "\n-----END EC PRIVATE KEY-----", _PEM_BODY.upper().splitlines()[0]),
    ("PuTTY key file", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\n"
     "Public-Lines: 1\nAAAAC3NzaC1lZDI1NTE5AAAAIHh0\nPrivate-Lines: 1\n" + _PUTTY_PRIVATE
     + "\nPrivate-MAC: " + _made_up(HEX, 64, 201), _PUTTY_PRIVATE),
    ("AWS access key id", "aws_access_key_id = AKIA" + _made_up("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 10),
     "AKIA" + _made_up("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 10)),
    ("AWS secret key", "aws_secret_access_key = " + _made_up(B64, 40, 11), _made_up(B64, 40, 11)),
    ("AWS session key id", "AccessKeyId: ASIA" + _made_up("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 12),
     "ASIA" + _made_up("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 12)),
    ("bearer token", "Authorization: Bearer " + _made_up(ALNUM, 32, 13), _made_up(ALNUM, 32, 13)),
    ("basic auth header", "Authorization: Basic " + _BASIC, _BASIC),
    ("basic auth lower-case", "authorization: basic " + _BASIC, _BASIC),
    ("JWT", "session cookie " + _JWT, _JWT),
    ("JWT in JSON", json.dumps({"id_token": _JWT}), _JWT.split(".")[2]),
    ("GitHub classic token", "GITHUB_TOKEN ghp_" + _made_up(ALNUM, 36, 14), "ghp_" + _made_up(ALNUM, 36, 14)),
    ("GitHub app token", "ghs_" + _made_up(ALNUM, 36, 15), "ghs_" + _made_up(ALNUM, 36, 15)),
    ("GitHub fine-grained", "github_pat_" + _made_up(ALNUM, 22, 16) + "_" + _made_up(ALNUM, 59, 17),
     _made_up(ALNUM, 22, 16)),
    ("GitLab token", "glpat-" + _made_up(ALNUM + "_-", 20, 18), "glpat-" + _made_up(ALNUM + "_-", 20, 18)),
    ("Slack bot token", "xoxb-" + "1234567890-1234567890123-" + _made_up(ALNUM, 24, 19),
     _made_up(ALNUM, 24, 19)),
    ("Slack app token", "SLACK_APP_TOKEN xapp-1-A0" + _made_up("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 9, 20)
     + "-1234567890123-" + _made_up(HEX, 64, 21), _made_up(HEX, 64, 21)),
    ("Slack webhook URL", "posting to https://hooks.slack.com/services/" + _SLACK_HOOK, _SLACK_HOOK),
    ("Stripe live secret", "STRIPE_KEY sk_live_" + _made_up(ALNUM, 24, 22),
     "sk_live_" + _made_up(ALNUM, 24, 22)),
    ("Stripe restricted", "rk_live_" + _made_up(ALNUM, 24, 23), "rk_live_" + _made_up(ALNUM, 24, 23)),
    ("Google API key", "maps key AIza" + _made_up(ALNUM + "_-", 35, 24),
     "AIza" + _made_up(ALNUM + "_-", 35, 24)),
    ("SendGrid key", "SENDGRID " + _SENDGRID, _SENDGRID),
    ("Azure storage AccountKey", "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=" + _AZURE_KEY
     + ";EndpointSuffix=core.windows.net", _AZURE_KEY),
    ("Azure SharedAccessKey", "Endpoint=sb://bus.servicebus.windows.net/;SharedAccessKeyName=root;"
     "SharedAccessKey=" + _made_up(B64, 43, 25) + "=", _made_up(B64, 43, 25)),
    ("GCP private_key_id", '"private_key_id": "' + _GCP_KEY_ID + '",', _GCP_KEY_ID),
    ("GCP private_key JSON", '"private_key": "-----BEGIN PRIVATE KEY-----\\n' + _made_up(B64, 64, 26)
     + '\\n-----END PRIVATE KEY-----\\n",', _made_up(B64, 64, 26)),
    ("npm token", "//registry.npmjs.org/:_authToken=npm_" + _made_up(ALNUM, 36, 27),
     "npm_" + _made_up(ALNUM, 36, 27)),
    ("PyPI token", "pypi-AgEIcHlwaS5vcmc" + _made_up(ALNUM + "_-", 60, 28), _made_up(ALNUM + "_-", 60, 28)),
    ("Hashicorp Vault token", "VAULT_TOKEN=hvs." + _made_up(ALNUM + "_-", 90, 29),
     _made_up(ALNUM + "_-", 90, 29)),
    ("Twilio key", "SK" + _made_up(HEX, 32, 30), "SK" + _made_up(HEX, 32, 30)),
    ("Shopify token", "shpat_" + _made_up(HEX, 32, 31), "shpat_" + _made_up(HEX, 32, 31)),
    ("DigitalOcean token", "dop_v1_" + _made_up(HEX, 64, 32), _made_up(HEX, 64, 32)),
    ("postgres URL password", "postgres://app:Tr0ub4dor-3x@db.internal:5432/app", "Tr0ub4dor-3x"),
    ("URL password with @", "mysql://root:p@ss@w0rd!@db:3306/x", "p@ss@w0rd!"),
    ("redis URL no user", "redis://:Rz9-cache-pw@cache.internal:6379/0", "Rz9-cache-pw"),
    ("amqp URL", "amqp://guest:Mq7-broker-pw@mq:5672/", "Mq7-broker-pw"),
    ("https URL credentials", "cloning https://ci:Hx4-git-pw@git.example.com/repo.git", "Hx4-git-pw"),
    ("netrc one line", "machine api.example.com login deploy password Nr8-netrc-pw", "Nr8-netrc-pw"),
    ("netrc own line", "machine api.example.com\n  login deploy\n  password Nl2-netrc-pw\n", "Nl2-netrc-pw"),
    ("curl --user", "curl --user deploy:Cu5-curl-pw https://api.example.com", "Cu5-curl-pw"),
    ("curl -u quoted", "curl -s -u 'ops:Cq6-curl-pw' https://api.example.com", "Cq6-curl-pw"),
    ("password assignment", "DB_PASSWORD=correcthorse-77 port=5432", "correcthorse-77"),
    ("password colon", "password: letmein-99", "letmein-99"),
    ("passwd colon", "passwd: S3cure-pass", "S3cure-pass"),
    ("secret quoted", "client_secret='abc123def456'", "abc123def456"),
    ("token JSON", '{"token": "tok-998877665544"}', "tok-998877665544"),
    ("api key assignment", "api_key=AbCd1234EfGh", "AbCd1234EfGh"),
    ("passphrase", "ssh key passphrase = Pp0-phrase-long", "Pp0-phrase-long"),
    ("YAML password", "  password: \"Yq1-yaml-pw\"", "Yq1-yaml-pw"),
    ("credentials", "credentials=Cr3d-Xy-99", "Cr3d-Xy-99"),
    ("Docker auth JSON", '{"auths": {"reg.io": {"auth": "' + _BASIC + '"}}}', _BASIC),
    ("Heroku style API key",
     "HEROKU_API_KEY=" + _made_up(HEX, 8, 33) + "-1234-4abc-8def-" + _made_up(HEX, 12, 34),
     _made_up(HEX, 12, 34)),
    ("env secret plain", "token is " + ENV_SECRET, ENV_SECRET),
    ("env secret hex", "hex " + _ENV_RAW.hex(), _ENV_RAW.hex()),
    ("env secret HEX", "HEX " + _ENV_RAW.hex().upper(), _ENV_RAW.hex().upper()),
    ("env secret upper-cased", "SHOUT " + ENV_SECRET.upper(), ENV_SECRET.upper()),
    ("env secret lower-cased", "quiet " + ENV_SECRET.lower(), ENV_SECRET.lower()),
    ("env secret reversed", "rev " + ENV_SECRET[::-1], ENV_SECRET[::-1]),
    ("env secret JSON-escaped", "json " + json.dumps(ENV_SECRET)[1:-1], json.dumps(ENV_SECRET)[1:-1]),
    ("env secret JSON-escaped UTF-8", json.dumps({"t": ENV_SECRET}, ensure_ascii=False),
     json.dumps(ENV_SECRET, ensure_ascii=False)[1:-1]),
    ("env secret URL-encoded", "url " + quote(ENV_SECRET, safe=""), quote(ENV_SECRET, safe="")),
    ("env secret base64", "b64 " + base64.b64encode(_ENV_RAW).decode(), base64.b64encode(_ENV_RAW).decode()),
    ("env secret split across lines", "first half " + _ENV_SPLIT + " end", ENV_SECRET[7:]),
    ("env secret in Basic", "X-Auth: " + _ENV_BASIC, _ENV_BASIC),
    ("secret variable plain", "db says " + SECRET_VAR, SECRET_VAR),
    ("secret variable base64url", "b64url " + base64.urlsafe_b64encode(SECRET_VAR.encode()).decode(),
     base64.urlsafe_b64encode(SECRET_VAR.encode()).decode()),
]

NEGATIVES: list[str] = [
    "set password: *** in the check",
    "the password policy passed in the check",
    "password reset is done by the check in the pipeline",
    "token bucket refilled; tokenizer ready",
    "deployed 3 pods in 4.2 s; see https://example.com/docs?page=2",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b Merge pull request #42",
    "request 123e4567-e89b-12d3-a456-426614174000 finished in 12 ms",
    "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae pulled",
    "basic checks passed in the staging environment",
    "git push -u origin release/v1.4.0",
    "the secret rotation policy is 90 days",
    "api version v1 is ready in every region",
    "key rotation finished for the staging cluster",
    "connecting to https://api.example.com:443/v1/health",
    "user deploy logged in at 10:42",
]
