#!/usr/bin/env bash
# Restores the newest backup into a non-production environment with the site's own command.
set -u
usage() {
    cat <<'USAGE'
Usage: test_backup_restore.sh [--target ENVIRONMENT]

Runs the restore command configured for this site with TARGET_ENV=ENVIRONMENT (default staging)
in its environment; the command should restore the newest backup there and fail when the
restored data does not check out. Restoring over production is refused.

The command comes from $BACKUP_RESTORE_COMMAND, else from conf/test_backup_restore.command beside
this script ($PREDEPLOY_CHECKS_CONF names another folder). Without one, nothing runs.

Exit codes (Nagios convention): 0 restored, 2 the restore failed, 3 not tried (no
command configured, a usage error, or production asked for).
USAGE
}
target=staging
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --target) [ $# -ge 2 ] && [ -n "$2" ] || { echo "test_backup_restore: --target needs a name" >&2; exit 3; }
                  target="$2"; shift 2 ;;
        *) echo "test_backup_restore: unexpected argument $1 (see --help)" >&2; exit 3 ;;
    esac
done
case "$target" in
    prod|production) echo "test_backup_restore: refusing to restore over $target" >&2; exit 3 ;;
esac
# shellcheck source=lib/configured_command.sh
. "$(dirname "$0")/lib/configured_command.sh"
export TARGET_ENV="$target"
run_configured test_backup_restore BACKUP_RESTORE_COMMAND "backup restore to $target"
