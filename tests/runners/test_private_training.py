"""Differentially private training and the membership audit of models trained in the build."""

from __future__ import annotations

import logging
import subprocess

import pytest

from reporter.pipeline import build_facts
from reporter.project import Project, load_project_specs
from reporter.settings import BuildSettings
from tests.conftest import TABULAR_SPEC, reporter

DP_SPEC = TABULAR_SPEC.replace(
    "hyperparameters: {epochs: 2, hidden_sizes: [16]}",
    "hyperparameters: {epochs: 2, hidden_sizes: [16], differential_privacy: {target_epsilon: 2.0, delta: 1.0e-4}}",
)


@pytest.mark.slow
def test_dp_training_reaches_its_target_as_opacus_accounts_it(make_project) -> None:  # noqa: ANN001
    """The guarantee in the facts is what Opacus' PRV accountant gives for the recorded noise,
    sample rate and steps, recomputed independently; the training is reproducible."""
    from opacus.accountants import PRVAccountant

    root = make_project({"private": DP_SPEC, "plain": TABULAR_SPEC})
    project = Project(root=root)
    handlers = list(logging.getLogger().handlers)
    built = build_facts(project, load_project_specs(project), BuildSettings(quiet=True, bootstrap_samples=50))
    private, plain = (next(f for f in built if f.slug == slug) for slug in ("private", "plain"))
    assert logging.getLogger().handlers == handlers  # importing Opacus leaves the build's logging alone
    guarantee = private.privacy.guarantee
    assert guarantee.epsilon <= guarantee.target_epsilon == 2.0 and guarantee.epsilon > 1.9
    assert guarantee.delta == 1e-4 and guarantee.max_grad_norm == 1.0 and guarantee.accountant == "prv (Opacus)"
    train_rows = private.training.train_rows
    batches = -(-train_rows // 256)  # Opacus samples each row with chance 1 / batches per epoch
    assert guarantee.sample_rate == pytest.approx(1 / batches) and guarantee.steps == 2 * batches
    accountant = PRVAccountant()
    accountant.history = [(guarantee.noise_multiplier, guarantee.sample_rate, guarantee.steps)]
    assert accountant.get_epsilon(delta=guarantee.delta) == pytest.approx(guarantee.epsilon, rel=1e-6)
    assert "DP-SGD" in private.training.optimizer
    assert plain.privacy.guarantee.not_reported.startswith("trained without a formal privacy guarantee")
    for facts in (private, plain):
        overall = facts.privacy.membership.overall
        assert overall.members == overall.nonmembers == 800  # the evaluation sample bounds both sides
        assert 0.4 < overall.roc_auc.value < 0.6
    [spec] = [s for s in load_project_specs(project) if s.slug == "private"]
    [again] = build_facts(project, [spec], BuildSettings(quiet=True, bootstrap_samples=50, use_cache=False))
    assert again.weights.fingerprint == private.weights.fingerprint


@pytest.mark.slow
def test_a_dp_build_prints_no_log_lines_of_its_libraries(make_project) -> None:  # noqa: ANN001
    root = make_project({"private": DP_SPEC})
    result: subprocess.CompletedProcess[str] = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    assert ":INFO:" not in result.stderr and "UserWarning" not in result.stderr
