"""A real training run made outside reporter, whose logs the importers read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import read_adult, tiny_bert

ROWS = 160
ADULT_TEXT_EVALUATION = """\
data:
  - {id: rows, role: evaluation, file: {path: rows.csv}, license: CC-BY-4.0, description: Adult rows as text.}
evaluation:
  label: income
  positive_label: [">50K"]
  text_column: text
  model_labels: {"<=50K": "<=50K", ">50K": ">50K"}
  sensitive_features: [sex]
  min_group_size: 5
  privacy_threshold: 2
"""
"""The data and evaluation sections of a spec evaluating a text classifier on `rows.csv`, the
rows of :func:`adult_rows` (text, income, sex)."""


def adult_rows() -> tuple[list[str], list[int], list[str]]:
    """Real Adult rows written as text, their labels (1: >50K) and each row's sex."""
    rows = read_adult("adult.data").sample(ROWS, random_state=1)
    texts = ("A " + rows["age"].astype(str) + " year old " + rows["occupation"].fillna("worker") + ".").tolist()
    return texts, (rows["income"] == ">50K").astype(int).tolist(), rows["sex"].tolist()


def write_adult_rows(path: Path, rows: slice = slice(None)) -> None:
    """Those rows as the CSV file :data:`ADULT_TEXT_EVALUATION` reads."""
    texts, labels, sexes = (column[rows] for column in adult_rows())
    lines = [
        "text,income,sex",
        *(f'"{t}",{">50K" if y else "<=50K"},{s}' for t, y, s in zip(texts, labels, sexes, strict=True)),
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def trainer_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-layer BERT classifier fine-tuned by `transformers.Trainer` for a few steps, logging every
    other step to TensorBoard and to an MLflow SQLite store (`mlflow.db`) and evaluating each epoch:
    the run's output folder, with the model saved in it."""
    out = tmp_path_factory.mktemp("trainer") / "run"
    out.mkdir()
    store = {
        "MLFLOW_TRACKING_URI": f"sqlite:///{out / 'mlflow.db'}",
        "MLFLOW_EXPERIMENT_NAME": "adult-text",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    before = {key: os.environ.get(key) for key in store}
    os.environ.update(store)
    try:
        _train(out)
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return out


def _train(out: Path) -> None:
    import mlflow
    from transformers import Trainer, TrainingArguments

    classifier, tokenizer = tiny_bert("BertForSequenceClassification", ["<=50K", ">50K"])
    texts, labels, _ = adult_rows()
    encoded = tokenizer(texts, truncation=True, max_length=32, padding="max_length")
    rows = [
        {"input_ids": ids, "attention_mask": mask, "labels": label}
        for ids, mask, label in zip(encoded["input_ids"], encoded["attention_mask"], labels, strict=True)
    ]
    arguments = TrainingArguments(
        output_dir=str(out),
        num_train_epochs=2,
        per_device_train_batch_size=16,
        logging_steps=2,
        eval_strategy="epoch",
        save_strategy="no",
        report_to=["tensorboard", "mlflow"],
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=classifier,
        args=arguments,
        train_dataset=rows[:120],
        eval_dataset=rows[120:],
    )
    # The run is opened here, as a team naming its runs does, so that the final evaluation after
    # training is logged into the same MLflow run (Trainer would end a run it opened itself).
    with mlflow.start_run(run_name="tiny-bert-adult"):
        trained = trainer.train()
        trainer.save_metrics("train", trained.metrics)  # train_results.json and all_results.json
        trainer.save_metrics("eval", trainer.evaluate())  # eval_results.json, merged into all_results.json
    trainer.save_model(str(out / "model"))
    tokenizer.save_pretrained(out / "model")
    trainer.save_state()  # writes trainer_state.json into the output folder
