#!/usr/bin/env bash
# Posts one short-lived test alert to Alertmanager, so a person can confirm it was routed to the
# on-call channel. No network is touched unless a URL is given. Exit codes follow the Nagios
# plugin convention; the output is one line.
set -u
usage() {
    cat <<'USAGE'
Usage: send_test_alert.sh [--url URL] [--severity LEVEL] [--timeout SECONDS] [--dry-run]

Posts a test alert (alertname=PredeployTestAlert) to URL/api/v2/alerts. It resolves itself
after 5 minutes.

  --url URL        Alertmanager base URL (default: $ALERTMANAGER_URL)
  --severity LEVEL the alert's severity label (default: test)
  --timeout SEC    give up after this many seconds (default 10)
  --dry-run        print the alert instead of sending it

Exit codes (Nagios convention): 0 Alertmanager accepted the alert, 2 it refused it or could
not be reached, 3 not tried (no URL configured, or a usage error).
USAGE
}
url="${ALERTMANAGER_URL:-}" severity=test timeout=10 dry_run=0
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --url|--severity|--timeout)
            [ $# -ge 2 ] || { echo "send_test_alert: $1 needs a value" >&2; exit 3; }
            case "$1" in --url) url="$2" ;; --severity) severity="$2" ;; --timeout) timeout="$2" ;; esac
            shift 2 ;;
        --dry-run) dry_run=1; shift ;;
        *) echo "send_test_alert: unexpected argument $1 (see --help)" >&2; exit 3 ;;
    esac
done
[[ "$timeout" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "send_test_alert: --timeout needs seconds" >&2; exit 3; }
if [ -z "$url" ] && [ "$dry_run" -eq 0 ]; then
    echo "refusing to send: no Alertmanager URL (use --url or set ALERTMANAGER_URL)" >&2
    exit 3
fi
case "$url" in ""|http://*|https://*) ;; *) echo "send_test_alert: $url is not an http(s) URL" >&2; exit 3 ;; esac

URL="$url" SEVERITY="$severity" TIMEOUT="$timeout" DRY_RUN="$dry_run" exec python3 - <<'PY'
import getpass, json, os, socket, sys, urllib.error, urllib.request
from datetime import UTC, datetime, timedelta

now = datetime.now(UTC)
alert = [{
    "labels": {"alertname": "PredeployTestAlert", "severity": os.environ["SEVERITY"],
               "source": "predeploy", "instance": socket.gethostname()},
    "annotations": {"summary": f"Pre-deployment test alert from {getpass.getuser()}"
                               f"@{socket.gethostname()}: check it reached on-call"},
    "startsAt": now.isoformat(timespec="seconds"),
    "endsAt": (now + timedelta(minutes=5)).isoformat(timespec="seconds"),
}]
body = json.dumps(alert).encode()
if os.environ["DRY_RUN"] == "1":
    print(json.dumps(alert, indent=2))
    sys.exit(0)
target = os.environ["URL"].rstrip("/") + "/api/v2/alerts"
request = urllib.request.Request(target, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=float(os.environ["TIMEOUT"])) as response:
        status = response.status
except urllib.error.HTTPError as exc:
    print(f"Alertmanager refused the test alert: HTTP {exc.code} {exc.reason} from {target}")
    sys.exit(2)
except (urllib.error.URLError, OSError) as exc:
    reason = getattr(exc, "reason", exc)
    print(f"cannot reach Alertmanager at {target}: {reason}")
    sys.exit(2)
print(f"test alert PredeployTestAlert (severity {os.environ['SEVERITY']}) accepted by {target} "
      f"(HTTP {status}); confirm it reached the on-call channel")
PY
