"""The job meter against hand counts: FLOPs of a small MLP's training (first epoch counted, scaled
by the epochs) and of one transformer layer's forward pass; energy from CodeCarbon's offline
tracker without the network; carbon only from a declared grid intensity."""

from __future__ import annotations

import itertools
import socket

import pytest
import torch
from torch import nn

from reporter.extract.compute import evaluation_estimate, phase_facts, training_estimate, with_carbon
from reporter.facts import ComputeFacts, EnergyFacts, HardwareFacts, NotReported
from reporter.runners.metering import JobMeter, hardware_facts, processor_name
from reporter.spec.compute import GridIntensity

ROWS, BATCH, EPOCHS = 96, 32, 3
WIDTHS = (7, 5, 3, 1)


def _linear_training_flops(rows: int, widths: tuple[int, ...]) -> int:
    """Hand count of one epoch: per linear layer, 2·in·out per row forward, 2·in·out for the weight
    gradient, and 2·in·out for the input gradient except at the first layer (its input needs none)."""
    total = 0
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        passes = 2 if index == 0 else 3
        total += passes * 2 * fan_in * fan_out * rows
    return total


def _train(meter: JobMeter, epochs: int) -> int:
    """Train a small MLP through the meter as the build does; returns the epochs reported."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(WIDTHS):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    network = nn.Sequential(*layers[:-1])
    optimizer = torch.optim.SGD(network.parameters(), lr=0.01)
    features, targets = torch.randn(ROWS, WIDTHS[0]), torch.rand(ROWS, 1)
    reported: list[int] = []
    on_epoch = meter.after_first_epoch(reported.append)
    meter.begin("training")
    for epoch in range(epochs):
        for start in range(0, ROWS, BATCH):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(network(features[start : start + BATCH]), targets[start : start + BATCH])
            loss.backward()
            optimizer.step()
        on_epoch(epoch + 1)
    return len(reported)


def test_training_flops_count_the_first_epoch_and_scale_by_the_epochs_to_the_hand_count() -> None:
    meter = JobMeter("cpu", energy=False)
    epochs = _train(meter, EPOCHS)
    reading = meter.end()
    assert not reading.counted_all and reading.flops == _linear_training_flops(ROWS, WIDTHS)
    facts = phase_facts(reading, device="cpu", epochs=epochs, estimate=(None, "none"))
    assert not isinstance(facts.flops, NotReported)
    assert facts.flops.counted == EPOCHS * _linear_training_flops(ROWS, WIDTHS)
    assert "first epoch in full, times 3 epochs" in facts.flops.method
    assert facts.device_hours == pytest.approx(reading.processor_seconds / 3600)
    assert facts.device_hours_unit == "CPU core-hours"


def test_one_transformer_layer_forward_equals_the_hand_count() -> None:
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertLayer

    hidden, heads, inner, tokens, batch = 32, 4, 64, 10, 3
    config = BertConfig(hidden_size=hidden, num_attention_heads=heads, intermediate_size=inner)
    layer = BertLayer(config).eval()
    states = torch.randn(batch, tokens, hidden)
    meter = JobMeter("cpu", energy=False)
    meter.begin("evaluation")
    with torch.inference_mode():
        layer(states)
    reading = meter.end()
    projections = 4 * 2 * tokens * hidden * hidden  # query, key, value and the attention output
    attention = 2 * 2 * tokens * tokens * hidden  # scores (Q·Kᵀ) and the weighted sum of values, all heads
    feed_forward = 2 * 2 * tokens * hidden * inner
    assert reading.counted_all and reading.flops == batch * (projections + attention + feed_forward)


def test_the_estimates_say_their_formula() -> None:
    value, formula = training_estimate(parameters=10, rows=100, epochs=3, reads_text=False)
    assert value == 6 * 10 * 300 and "6 × 10 parameters × 300 rows seen (100 × 3 epochs)" in formula
    value, formula = evaluation_estimate(parameters=10, rows=100, reads_text=False)
    assert value == 2 * 10 * 100 and "one scoring pass" in formula
    assert training_estimate(parameters=10, rows=100, epochs=3, reads_text=True)[0] is None


def test_a_failed_job_leaves_no_counter_on_the_thread() -> None:
    from torch.utils._python_dispatch import _get_current_dispatch_mode

    meter = JobMeter("cpu", energy=False)
    meter.begin("evaluation")
    meter.close()
    assert _get_current_dispatch_mode() is None
    torch.ones(2, 2) @ torch.ones(2, 2)  # runs without the counter


def test_energy_comes_from_codecarbon_offline_and_never_from_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("codecarbon")

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the energy meter reached for the network")

    monkeypatch.setattr(socket.socket, "connect", refused)
    monkeypatch.setattr(socket, "create_connection", refused)
    meter = JobMeter("cpu")
    try:
        meter.begin("evaluation")
        total = sum(float((torch.randn(200, 200) @ torch.randn(200, 200)).sum()) for _ in range(200))
        reading = meter.end()
    finally:
        meter.close()
    assert total == total  # the work ran
    energy = reading.energy
    assert isinstance(energy, EnergyFacts)
    assert energy.kwh > 0 and energy.kwh == pytest.approx(energy.cpu_kwh + energy.memory_kwh + energy.gpu_kwh)
    assert energy.method.startswith("CodeCarbon") and "offline tracker" in energy.method
    assert reading.flops == 200 * 2 * 200**3


def test_carbon_is_energy_times_the_declared_grid_and_nothing_without_one() -> None:
    meter = JobMeter("cpu", energy=False)
    meter.begin("evaluation")
    evaluation = phase_facts(meter.end(), device="cpu", epochs=1, estimate=(None, "none"))
    energy = EnergyFacts(kwh=0.25, cpu_kwh=0.2, memory_kwh=0.05, gpu_kwh=0.0, kind="estimated", method="test")
    evaluation = evaluation.model_copy(update={"energy": energy})
    hardware = HardwareFacts(cpu="x", logical_cores=1, threads=1, gpus=[], memory_gib=1.0)
    compute = ComputeFacts(hardware=hardware, training=NotReported(not_reported="loaded"), evaluation=evaluation)
    grid = GridIntensity(grams_co2e_per_kwh=56, location="FR", source="a grid operator's 2025 average")
    with_grid = with_carbon(compute, grid)
    assert isinstance(with_grid, ComputeFacts) and not isinstance(with_grid.evaluation.carbon, NotReported)
    assert with_grid.evaluation.carbon.kg_co2e == pytest.approx(0.25 * 56 / 1000)
    without = with_carbon(compute, None)
    assert isinstance(without, ComputeFacts) and isinstance(without.evaluation.carbon, NotReported)
    assert "declares no grid intensity" in without.evaluation.carbon.not_reported


def test_the_machine_is_described() -> None:
    hardware = hardware_facts("cpu")
    assert hardware.cpu == processor_name() and hardware.logical_cores >= 1 and hardware.memory_gib > 0
    assert hardware.gpus == [] and hardware.threads == torch.get_num_threads()
