# Runs the site's own command for a step (deploy, rollback test, restore test) and reports it.
# Sourced by deploy_staging.sh, test_rollback.sh and test_backup_restore.sh; not run directly.
#
# The command comes from an environment variable (e.g. DEPLOY_STAGING_COMMAND) or, when that is
# unset, from the file conf/<name>.command beside the scripts ($PREDEPLOY_CHECKS_CONF overrides the
# folder). Without either the step is refused: these scripts never guess what to run.
#
# Exit codes follow the Nagios plugin convention: 0 the command succeeded, 2 it failed, 3 the step
# could not be tried (no command configured, or a usage error in the calling script).
# The first line names the step and where its command came from; the command's own output
# follows live (a deployment can take minutes) and the last line says how it ended.

# run_configured NAME VARIABLE WHAT
run_configured() {
    local name="$1" variable="$2" what="$3"
    local conf_dir="${PREDEPLOY_CHECKS_CONF:-$(dirname "$0")/conf}"
    local file="$conf_dir/$name.command"
    local command="${!variable:-}" source="\$$variable"
    if [ -z "$command" ] && [ -r "$file" ]; then
        command="$(grep -v '^[[:space:]]*#' "$file")"
        source="$file"
    fi
    if [ -z "${command//[[:space:]]/}" ]; then
        echo "refusing to run the $what: no command configured." >&2
        echo "Set $variable or write the command into $file." >&2
        return 3
    fi
    echo "$what, with the command from $source"
    local started=$SECONDS status=0
    bash -c "$command" || status=$?
    local took=$((SECONDS - started))
    if [ "$status" -eq 0 ]; then
        echo "$what succeeded (${took}s)"
        return 0
    fi
    echo "$what FAILED: the command exited with $status (${took}s)"
    return 2
}
