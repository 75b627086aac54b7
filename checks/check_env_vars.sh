#!/usr/bin/env bash
# Reports which environment variables a deployment needs are missing or empty.
# The names come from env/<environment>.required next to this script (one per line, # comments).
# Exit codes follow the Nagios plugin convention, and the first line of output is the summary.
set -u

usage() {
    cat <<'USAGE'
Usage: check_env_vars.sh [--dir DIR] ENVIRONMENT

Checks that every variable named in DIR/ENVIRONMENT.required is set and not empty in the
current environment. Only names are printed, never values.

  ENVIRONMENT   staging, production, ... (the name of the .required file)
  --dir DIR     folder holding the .required files
                (default: $CHECK_ENV_DIR, else env/ beside this script)

Exit codes (Nagios convention): 0 all set, 2 some missing, 3 could not check (usage or
configuration error).
USAGE
}

dir="${CHECK_ENV_DIR:-$(dirname "$0")/env}"
environment=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --dir) [ $# -ge 2 ] || { echo "check_env_vars: --dir needs a folder" >&2; exit 3; }
               dir="$2"; shift 2 ;;
        -*) echo "check_env_vars: unknown option $1 (see --help)" >&2; exit 3 ;;
        *) [ -z "$environment" ] || { echo "check_env_vars: one environment only" >&2; exit 3; }
           environment="$1"; shift ;;
    esac
done
[ -n "$environment" ] || { usage >&2; exit 3; }
if ! [[ "$environment" =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "check_env_vars: '$environment' is not an environment name (letters, digits, - and _)" >&2
    exit 3
fi

list="$dir/$environment.required"
if [ ! -r "$list" ]; then
    echo "check_env_vars: no list of required variables for '$environment' ($list not found)" >&2
    exit 3
fi

missing=()
total=0
while IFS= read -r line || [ -n "$line" ]; do
    name="${line%%#*}"
    name="$(printf '%s' "$name" | tr -d '[:space:]')"
    [ -n "$name" ] || continue
    if ! [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
        echo "check_env_vars: $list: '$name' is not a variable name" >&2
        exit 3
    fi
    total=$((total + 1))
    if [ -z "${!name:-}" ]; then
        missing+=("$name")
    fi
done < "$list"

if [ ${#missing[@]} -eq 0 ]; then
    echo "all $total required variables for $environment are set"
    exit 0
fi
echo "${#missing[@]} of $total required variables for $environment are missing or empty:"
printf '  %s\n' "${missing[@]}"
exit 2
