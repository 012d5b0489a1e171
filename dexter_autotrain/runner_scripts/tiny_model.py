"""Run inside the AutoTrain runner: build a tiny, randomly initialised model for smoke runs.

Text tasks get a 2-layer BERT (hidden size 32) and a WordPiece tokenizer whose vocabulary is
the job's own training text: every character, and its most frequent words; image tasks a
2-layer ViT on 32x32 images. Nothing is downloaded.

    python tiny_model.py INPUT_KIND TRAIN_JSONL OUTPUT_DIR   (text, tokens or image)
"""

import json
import sys
from collections import Counter

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import (
    BertConfig,
    BertModel,
    BertTokenizerFast,
    ViTConfig,
    ViTImageProcessor,
    ViTModel,
)

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCAB_SIZE = 4000
TINY_LAYERS = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
}


def training_texts(train_jsonl: str, input_kind: str) -> list[str]:
    """The prepared training inputs as texts (`input_kind` is the prepared key: `text`, or
    `tokens`, a sentence's words)."""
    with open(train_jsonl, encoding="utf-8") as handle:
        values = [json.loads(line)[input_kind] for line in handle]
    return [" ".join(value) if isinstance(value, list) else value for value in values]


def wordpiece_vocab(texts: list[str], normalizer, pre_tokenizer) -> dict[str, int]:
    """Every character, alone and as a continuation, then the most frequent words (ties in
    alphabetical order). Built here because the WordPiece trainer's vocabulary changes from
    run to run (hash-map order: huggingface/tokenizers#1794), and a smoke run of the same job
    and data must give the same model."""
    words: Counter[str] = Counter()
    for text in texts:
        pieces = pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))
        words.update(piece for piece, _ in pieces)
    characters = sorted({character for word in words for character in word})
    tokens = [*SPECIAL_TOKENS, *characters, *(f"##{c}" for c in characters)]
    known = set(tokens)
    by_count = sorted(words.items(), key=lambda item: (-item[1], item[0]))
    tokens += [word for word, _ in by_count if word not in known][: VOCAB_SIZE - len(tokens)]
    return {token: index for index, token in enumerate(tokens)}


def text_model(texts: list[str], output_dir: str) -> None:
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    vocab = wordpiece_vocab(texts, normalizer, pre_tokenizer)
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    fast = BertTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=512,
    )
    fast.save_pretrained(output_dir)
    config = BertConfig(
        vocab_size=len(fast),
        **TINY_LAYERS,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(output_dir)


def image_model(output_dir: str) -> None:
    config = ViTConfig(
        image_size=32,
        patch_size=8,
        **TINY_LAYERS,
    )
    ViTModel(config).save_pretrained(output_dir)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(output_dir)


def main() -> None:
    input_kind, train_jsonl, output_dir = sys.argv[1:4]  # the task's TaskKind.input_kind
    torch.manual_seed(0)
    if input_kind == "image":
        image_model(output_dir)
    else:
        text_model(training_texts(train_jsonl, input_kind), output_dir)


if __name__ == "__main__":
    main()
