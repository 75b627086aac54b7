#!/usr/bin/env bash
# Runs every security scanner installed on this machine over a project folder, and names the
# ones that are missing instead of pretending they ran. Exit codes follow the Nagios plugin
# convention; the first line of output is the summary, each scanner's report follows.
set -u
usage() {
    cat <<'USAGE'
Usage: security_scan.sh [FOLDER]

Scans FOLDER (default: the current folder) with each scanner that is installed:
  bandit    Python code, medium and high severity (bandit -r -ll)
  ruff      Python code, ruff's high-severity flake8-bandit rules (eval, pickle, shell=True...)
  gitleaks  committed secrets (output redacted)
  trivy     vulnerable dependencies, HIGH and CRITICAL only
Scanners that are not installed are listed as missing. $SECURITY_SCANNERS (space-separated
names from the list above) chooses which to try; a scanner named there that is missing makes
the result a warning.

Exit codes (Nagios convention): 0 every scanner that ran is clean, 1 clean but a scanner asked
for in $SECURITY_SCANNERS is missing, 2 a scanner reported findings or failed, 3 nothing could
be scanned (no scanner installed, or a usage error).
USAGE
}
case "${1:-}" in -h|--help) usage; exit 0 ;; -*) echo "security_scan: unknown option $1" >&2; exit 3 ;; esac
[ $# -le 1 ] || { usage >&2; exit 3; }
target="${1:-.}"
[ -d "$target" ] || { echo "security_scan: $target: no such folder" >&2; exit 3; }

# flake8-bandit rules of high severity only (eval/exec, pickle, unsafe YAML, shell injection, SQL
# built from strings, TLS verification off, autoescape off): the low ones flag most projects.
RUFF_RULES=S102,S301,S307,S501,S506,S602,S604,S605,S608,S701

scan() {
    case "$1" in
        bandit) bandit -r "$target" -q -ll -x "$target/.venv,$target/node_modules,$target/.git" ;;
        ruff) ruff check --no-cache --select "$RUFF_RULES" -q "$target" ;;
        gitleaks) gitleaks detect --source "$target" --no-banner --redact ;;
        trivy) trivy fs --quiet --exit-code 1 --severity HIGH,CRITICAL "$target" ;;
    esac
}

reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT
ran=() findings=() missing=()
for name in ${SECURITY_SCANNERS:-bandit ruff gitleaks trivy}; do
    case "$name" in
        bandit|ruff|gitleaks|trivy) ;;
        *) echo "security_scan: unknown scanner '$name' in SECURITY_SCANNERS" >&2; exit 3 ;;
    esac
    if ! command -v "$name" >/dev/null 2>&1; then
        missing+=("$name")
        continue
    fi
    status=0
    # Reports are held back so that the summary can be the first line.
    scan "$name" >"$reports/$name" 2>&1 || status=$?
    ran+=("$name")
    if [ "$status" -eq 0 ]; then
        echo "$name: clean" >>"$reports/$name"
    else
        echo "$name: FINDINGS or failure (exit $status)" >>"$reports/$name"
        findings+=("$name")
    fi
done

list() { local IFS=,; echo "$*" | sed 's/,/, /g'; }
note=""
[ ${#missing[@]} -eq 0 ] || note="; missing (not installed): $(list "${missing[@]}")"
if [ ${#ran[@]} -eq 0 ]; then
    echo "no scanner is installed, nothing was scanned$note"
    exit 3
elif [ ${#findings[@]} -gt 0 ]; then
    echo "findings from $(list "${findings[@]}") (ran: $(list "${ran[@]}"))$note"
    code=2
elif [ ${#missing[@]} -gt 0 ] && [ -n "${SECURITY_SCANNERS:-}" ]; then
    echo "clean, but not every scanner asked for ran (ran: $(list "${ran[@]}"))$note"
    code=1
else
    echo "clean (ran: $(list "${ran[@]}"))$note"
    code=0
fi
for name in "${ran[@]}"; do
    printf '\n== %s ==\n' "$name"
    cat "$reports/$name"
done
exit $code
