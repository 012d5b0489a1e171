"""Run inside the AutoTrain runner: score a trained NER model the way training labels it.

Tokenizes the test split with the training script's own dataset (runner_scripts/train.py:
tags on the labelled sub-tokens, -100 elsewhere), reads the model's tags at exactly the
positions training labelled, and prints one JSON line: seqeval's strict IOB2 entity F1 over
the words, and the labelled positions of every sentence.

    python ner_training_scheme.py TRAIN_SCRIPT_DIR MODEL_DIR TEST_JSONL MAX_SEQ_LENGTH
"""

import json
import sys
from types import SimpleNamespace

import torch
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2
from transformers import AutoModelForTokenClassification, AutoTokenizer

sys.path.insert(0, sys.argv[1])
import train  # the runner's training script, from its folder
from autotrain.trainers.token_classification.dataset import TokenClassificationDataset

model_dir, test_file, max_length = sys.argv[2], sys.argv[3], int(sys.argv[4])
model = AutoModelForTokenClassification.from_pretrained(model_dir).eval()
tokenizer = AutoTokenizer.from_pretrained(model_dir)
label2id, id2label = model.config.label2id, model.config.id2label
with open(test_file, encoding="utf-8") as lines:
    rows = [json.loads(line) for line in lines if line.strip()]
data = [{"tokens": r["tokens"], "tags": [label2id[t] for t in r["tags"]]} for r in rows]
config = SimpleNamespace(tokens_column="tokens", tags_column="tags", max_seq_length=max_length)
dataset = train._first_subtoken_tags(TokenClassificationDataset)(data, tokenizer, config)

truth, guesses, positions = [], [], []
with torch.inference_mode():
    for row, item in zip(rows, (dataset[i] for i in range(len(dataset))), strict=True):
        labelled = [p for p, label in enumerate(item["labels"]) if label != -100]
        logits = model(input_ids=torch.tensor([item["input_ids"]])).logits[0]
        tags = [id2label[int(logits[p].argmax())] for p in labelled]
        tags += ["O"] * (len(row["tokens"]) - len(tags))  # words cut off by the length limit
        truth.append(row["tags"])
        guesses.append(tags)
        positions.append(labelled)
score = f1_score(truth, guesses, mode="strict", scheme=IOB2, zero_division=0)
print(json.dumps({"f1": float(score), "positions": positions}))
