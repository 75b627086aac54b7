#!/usr/bin/env bash
# Tests the rollback procedure in a non-production environment with the site's own command.
set -u
usage() {
    cat <<'USAGE'
Usage: test_rollback.sh ENVIRONMENT

Runs the rollback test command configured for this site with TARGET_ENV=ENVIRONMENT in its
environment. Rolling back production is not a test: "production" is refused.

The command comes from $ROLLBACK_TEST_COMMAND, else from conf/test_rollback.command beside this
script ($PREDEPLOY_CHECKS_CONF names another folder). Without one, nothing runs.

Exit codes (Nagios convention): 0 the rollback worked, 2 it failed, 3 not tried (no
command configured, a usage error, or production asked for).
USAGE
}
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
[ $# -eq 1 ] && [ -n "$1" ] || { usage >&2; exit 3; }
case "$1" in
    prod|production) echo "test_rollback: refusing to test a rollback on $1; use staging" >&2; exit 3 ;;
    -*) echo "test_rollback: unknown option $1" >&2; exit 3 ;;
esac
# shellcheck source=lib/configured_command.sh
. "$(dirname "$0")/lib/configured_command.sh"
export TARGET_ENV="$1"
run_configured test_rollback ROLLBACK_TEST_COMMAND "rollback test on $1"
