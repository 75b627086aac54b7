#!/usr/bin/env bash
# One-shot check of the gpu check type on a machine with an NVIDIA GPU.
# Run from the repository root on the GPU machine:
#   bash tests/integration/gpu_device/run.sh 2>&1 | tee $OUT/log.txt
# Wheels the machine lacks (jmespath, toml-rs for its Python) go in $WHEELS (default .gpu/whl),
# made with `pip download --no-deps --only-binary=:all: --python-version 3.12 ...`.
# h200-2026-12-04.log beside this file is its output on an NVIDIA H200.
# Overrides: PY (python, default python3), SITE (wheel target, default /tmp/site),
# SKIP_INSTALL=1 (use PY's own packages, no wheel install).
# Never stops at a failing step: each step prints its exit code.

PY=${PY:-python3}
SITE=${SITE:-/tmp/site}
export PYTHONUNBUFFERED=1
export PREDEPLOY_DEBUG=1   # a traceback instead of one line, should an internal error (70) happen
cd "$(dirname "$0")/../../.." || exit 1
WHEELS=${WHEELS:-.gpu/whl}
ROOT=$PWD
OUTDIR=${OUT:-}
WORK=$(mktemp -d /tmp/gpucheck.XXXXXX)
SESSION="$WORK/gpu-session.toml"
CHECKLIST=tests/integration/gpu_device/gpu-checklist.yaml

step() { echo; echo "===== $* ====="; }
run() {  # run CMD...: echo it, run it under timeout 120, print its exit code
    echo "+ $*"
    timeout 120 "$@"
    local rc=$?
    echo "----- exit code: $rc  ($*)"
    return 0
}

step "environment"
date -u
echo "PWD=$ROOT OUT=${OUTDIR:-<unset>} PY=$PY WORK=$WORK"
command -v "$PY"; "$PY" -VV
git -C "$ROOT" log -1 --oneline 2>/dev/null || echo "(no git history here)"

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    step "install wheels into $SITE"
    ls -l "$WHEELS"/
    if "$PY" -m pip --version >/dev/null 2>&1; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target "$SITE" "$WHEELS"/*.whl || { echo "pip install failed"; exit 1; }
    else
        # No pip: a wheel is a zip file; unpacking it is an install for import purposes.
        echo "no pip for $PY: unpacking the wheels with zipfile"
        mkdir -p "$SITE" || exit 1
        for w in "$WHEELS"/*.whl; do "$PY" -m zipfile -e "$w" "$SITE" || exit 1; done
    fi
    export PYTHONPATH="$SITE:$ROOT" || exit 1
else
    step "install skipped (SKIP_INSTALL=1)"
    export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
fi
echo "PYTHONPATH=$PYTHONPATH"

step "versions of what the checks import"
run "$PY" - <<'EOF'
import importlib, importlib.metadata as md
for mod, dist in [("pynvml", "nvidia-ml-py"), ("jmespath", "jmespath"), ("toml_rs", "toml-rs"),
                  ("yaml", "PyYAML"), ("httpx", "httpx"), ("rich", "rich"),
                  ("markdown_it", "markdown-it-py")]:
    try:
        m = importlib.import_module(mod)
        try:
            v = md.version(dist)
        except md.PackageNotFoundError:
            v = getattr(m, "__version__", "?")
        print(f"{mod:12} {v:12} {getattr(m, '__file__', '')}")
    except Exception as exc:
        print(f"{mod:12} NOT IMPORTABLE: {exc!r}")
EOF

step "nvidia-smi"
run nvidia-smi
run nvidia-smi --query-gpu=index,name,memory.total,memory.used,memory.free,driver_version,temperature.gpu,utilization.gpu,ecc.errors.uncorrected.volatile.total --format=csv

PD=("$PY" -c 'from predeploy_tui.cli import entry; entry()')

step "predeploy --version / explain gpu / validate"
run "${PD[@]}" --version
run "${PD[@]}" explain gpu
run "${PD[@]}" validate "$CHECKLIST"

step "a. tests/integration/gpu_device_check.py"
run "$PY" tests/integration/gpu_device_check.py
run "$PY" tests/integration/gpu_device_check.py --min-free 1TiB   # must fail: no GPU has 1 TiB free

step "b. predeploy run --headless $CHECKLIST"
run "${PD[@]}" run --headless --deployer gpu-device-check --session "$SESSION" "$CHECKLIST"

step "predeploy show"
run "${PD[@]}" show "$SESSION"

step "predeploy verify"
run "${PD[@]}" verify "$SESSION"

step "predeploy export --format json (the data each check saw)"
run "${PD[@]}" export "$SESSION" --format json --output "$WORK/gpu-session.json"

step "copy results"
if [ -n "$OUTDIR" ] && [ -d "$OUTDIR" ]; then
    cp -v "$SESSION" "$OUTDIR/" 2>&1
    cp -v "$WORK/gpu-session.json" "$OUTDIR/" 2>&1
else
    echo "OUT is unset or not a folder: results stay in $WORK"
fi
ls -l "$WORK"
echo "===== done ====="
