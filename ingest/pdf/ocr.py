"""Words of a scanned page by OCR (rapidocr with its bundled PP-OCR models, run by ONNX
Runtime), as the same Word records the text layer gives, so one layout reads both.

OCR is the optional extra `ocr`; the models are files inside the rapidocr package and are
named explicitly, so rapidocr never looks for them anywhere else.
"""

from __future__ import annotations

import re
import statistics
from functools import lru_cache
from pathlib import Path

from wbqa.ingest.pdf.words import Word

OCR_DPI = 200
INSTALL_HINT = 'pip install -e ".[ocr]"'
_MODELS = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}


_DIGIT_LOOKALIKES = str.maketrans({"l": "1", "I": "1", "O": "0", "o": "0"})
_MOSTLY_DIGITS = re.compile(r"^[(\[]?[\dlIOo]*\d[\dlIOo]*[.,;:)\]]?$")


def mend_digits(text: str) -> str:
    """A number OCR read with a letter for a digit ("l954", "2O24") gets its digit back; a
    token of two or more digits with letters that look like digits is taken as a number."""
    if sum(c.isdigit() for c in text) < 2 or not _MOSTLY_DIGITS.match(text):
        return text
    return text.translate(_DIGIT_LOOKALIKES)


def ocr_available() -> bool:
    try:
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _engine():
    import rapidocr
    from rapidocr import RapidOCR

    folder = Path(rapidocr.__file__).parent / "models"
    params: dict = {"Global.log_level": "warning", "Global.use_cls": False}
    for key, name in _MODELS.items():
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"rapidocr model {path} is missing; reinstall rapidocr")
        params[key] = str(path)
    return RapidOCR(params=params)


def page_words(page, dpi: int = OCR_DPI) -> list[Word]:
    """The words OCR reads on a rendered page, in points from the page's top-left."""
    scale = dpi / 72
    image = page.render(scale=scale).to_numpy()
    result = _engine()(image, return_word_box=True)
    if not result.txts:
        return []
    lines = []
    for box, text, words in zip(result.boxes, result.txts, result.word_results):
        ys = [p[1] for p in box]
        lines.append((min(ys) / scale, max(ys) / scale, text, words))
    heights = [bottom - top for top, bottom, _, _ in lines]
    usual = statistics.median(heights) if heights else 10.0
    out: list[Word] = []
    for top, bottom, _text, words in lines:
        height = bottom - top
        # One size for lines of about the usual height, so a paragraph's lines match.
        size = round((usual if abs(height - usual) < 0.25 * usual else height) / 1.3, 1)
        for word_text, _score, corners in words:
            if not word_text.strip() or corners is None:
                continue
            xs = [p[0] / scale for p in corners]
            out.append(Word(mend_digits(word_text), min(xs), top, max(xs), bottom, size))
    return out
