"""A text classifier as a function of token ids or of input embeddings, for the behavioural scan.

The module is a stock `transformers` sequence-classification architecture (BERT, DistilBERT,
RoBERTa, …) built from `config.json`, weights from safetensors, parameters frozen. The tokenizer is
read with the `tokenizers` library from `tokenizer.json` (a JSON description of the vocabulary and
the rules: no code), or from a WordPiece `vocab.txt`; `tokenizer_config.json` asking for its own
classes (`auto_map`) is refused. Trigger search works on input embeddings, so the gradient of the
loss with respect to each inserted token can rank replacement tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from airlock.errors import ModelRefused
from airlock.models.heads import freeze, head_input
from airlock.models.weights import MAX_CONFIG_BYTES, read_json

MAX_TOKENS = 64
MAX_TOKENIZER_BYTES = 64 << 20


@dataclass
class TextClassifier:
    module: torch.nn.Module  # eval mode, parameters frozen
    architecture: str
    tokenizer: Any  # tokenizers.Tokenizer
    labels: dict[int, str]
    special: frozenset[int]  # ids of special tokens ([CLS], [SEP], [PAD], …)
    pad_id: int
    device: torch.device

    @property
    def classes(self) -> int:
        return len(self.labels)

    @property
    def embeddings(self) -> torch.Tensor:
        """The input embedding matrix, vocabulary × width."""
        return self.module.get_input_embeddings().weight  # type: ignore[operator, no-any-return]

    def encode(self, texts: Sequence[str], max_tokens: int = MAX_TOKENS) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids and attention mask (N×T, padded) of `texts`, with the tokenizer's own special tokens."""
        encodings = self.tokenizer.encode_batch(list(texts))
        length = min(max(len(e.ids) for e in encodings), max_tokens)
        ids = torch.full((len(texts), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(texts), length), dtype=torch.long)
        for i, e in enumerate(encodings):
            row = e.ids[: length - 1] + e.ids[-1:] if len(e.ids) > length else e.ids  # keep the closing token
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        return ids.to(self.device), mask.to(self.device)

    def logits(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.module(input_ids=ids, attention_mask=mask).logits  # type: ignore[no-any-return]

    def logits_from_embeddings(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.module(inputs_embeds=embedded, attention_mask=mask).logits  # type: ignore[no-any-return]

    def features(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The input of the last linear layer (the pooled representation the head reads), N×D."""
        return head_input(self.module, lambda: self.logits(ids, mask), len(ids))


def build_text_classifier(
    folder: Path,
    reference: str,
    config: dict[str, Any],
    module: torch.nn.Module,
    architecture: str,
    *,
    device: torch.device,
) -> TextClassifier:
    """Freeze `module` (its weights already loaded) and read the tokenizer files (never tokenizer code)."""
    freeze(module, device)
    tokenizer_config = read_json(folder, "tokenizer_config.json", reference) or {}
    tokenizer = _tokenizer(folder, reference, tokenizer_config)
    special = {tokenizer.token_to_id(str(t)) for t in _special_tokens(tokenizer_config)}
    special |= {
        i
        for t, i in tokenizer.get_vocab(with_added_tokens=True).items()
        if t.startswith("[") and t.endswith("]")
    }
    special.discard(None)
    pad = tokenizer.token_to_id(str(tokenizer_config.get("pad_token") or "[PAD]"))
    id2label = config.get("id2label") or {str(i): str(i) for i in range(int(config.get("num_labels", 2)))}
    return TextClassifier(
        module=module,
        architecture=architecture,
        tokenizer=tokenizer,
        labels=dict(sorted((int(k), str(v)) for k, v in id2label.items())),
        special=frozenset(int(i) for i in special),
        pad_id=int(pad if pad is not None else config.get("pad_token_id") or 0),
        device=device,
    )


def _tokenizer(folder: Path, reference: str, tokenizer_config: dict[str, Any]) -> Any:
    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    if path.is_file():
        if path.stat().st_size > MAX_TOKENIZER_BYTES:
            raise ModelRefused(reference, "tokenizer.json is larger than 64 MiB")
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # noqa: BLE001  tokenizers raises plain Exception on malformed files
            raise ModelRefused(reference, f"tokenizer.json cannot be read ({exc})") from None
    elif (folder / "vocab.txt").is_file() and (folder / "vocab.txt").stat().st_size <= MAX_CONFIG_BYTES * 16:
        from tokenizers import BertWordPieceTokenizer

        tokenizer = BertWordPieceTokenizer(
            str(folder / "vocab.txt"), lowercase=bool(tokenizer_config.get("do_lower_case", True))
        )
    else:
        raise ModelRefused(reference, "a text classifier without tokenizer.json or vocab.txt")
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def _special_tokens(tokenizer_config: dict[str, Any]) -> list[str]:
    names = ("cls_token", "sep_token", "pad_token", "unk_token", "mask_token", "bos_token", "eos_token")
    out = []
    for name in names:
        value = tokenizer_config.get(name)
        if isinstance(value, dict):
            value = value.get("content")
        if isinstance(value, str):
            out.append(value)
    return out
