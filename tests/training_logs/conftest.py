"""A real training run made outside reporter, whose logs the importers read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import read_adult, tiny_bert

ROWS = 160


def adult_rows() -> tuple[list[str], list[int], list[str]]:
    """Real Adult rows written as text, their labels (1: >50K) and each row's sex."""
    rows = read_adult("adult.data").sample(ROWS, random_state=1)
    texts = ("A " + rows["age"].astype(str) + " year old " + rows["occupation"].fillna("worker") + ".").tolist()
    return texts, (rows["income"] == ">50K").astype(int).tolist(), rows["sex"].tolist()


@pytest.fixture(scope="session")
def trainer_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-layer BERT classifier fine-tuned by `transformers.Trainer` for a few steps, logging every
    other step and evaluating each epoch: the run's output folder, with the model saved in it."""
    from transformers import Trainer, TrainingArguments

    out = tmp_path_factory.mktemp("trainer") / "run"
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
        report_to=["tensorboard"],
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
    trainer.train()
    trainer.save_model(str(out / "model"))
    tokenizer.save_pretrained(out / "model")
    trainer.save_state()  # writes trainer_state.json into the output folder
    return out
