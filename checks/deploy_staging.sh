#!/usr/bin/env bash
# Deploys a release to staging with the site's own deployment command.
set -u
usage() {
    cat <<'USAGE'
Usage: deploy_staging.sh [VERSION]

Runs the staging deployment command configured for this site, with DEPLOY_VERSION=VERSION and
TARGET_ENV=staging in its environment.

The command comes from $DEPLOY_STAGING_COMMAND, else from conf/deploy_staging.command beside this
script ($PREDEPLOY_CHECKS_CONF names another folder). Without one, nothing runs.

Exit codes (Nagios convention): 0 deployed, 2 the deployment failed, 3 not tried (no
command configured, or a usage error).
USAGE
}
case "${1:-}" in -h|--help) usage; exit 0 ;; -*) echo "deploy_staging: unknown option $1" >&2; exit 3 ;; esac
[ $# -le 1 ] || { usage >&2; exit 3; }
# shellcheck source=lib/configured_command.sh
. "$(dirname "$0")/lib/configured_command.sh"
export DEPLOY_VERSION="${1:-}" TARGET_ENV=staging
run_configured deploy_staging DEPLOY_STAGING_COMMAND "staging deployment${1:+ of $1}"
