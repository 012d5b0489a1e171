"""Misclassified images, shown: the model's most confident mistakes as a contact sheet PNG
(`plots/misclassified.png`), each thumbnail with its true and predicted class beneath, so a
reader of the report or the card sees what the model gets wrong, not only how often."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dexter_autotrain.report_record import Misclassified, MisclassifiedImage

SHOWN = 12
"""Mistakes on the sheet, the most confident first."""
COLUMNS = 4
THUMBNAIL = 128
CAPTION_HEIGHT = 34
PADDING = 6
PLOT_NAME = "misclassified.png"


@dataclass(frozen=True)
class Mistake:
    image: str
    """The image's file name."""
    label: str
    prediction: str
    confidence: float | None


def mistake_order(
    labels: list[str], predictions: list[str], confidence: np.ndarray | None
) -> list[int]:
    """The indices of the wrong predictions, the most confident first (ties in input order)."""
    wrong = [i for i, (y, p) in enumerate(zip(labels, predictions, strict=True)) if y != p]
    if confidence is not None:
        wrong.sort(key=lambda i: -float(confidence[i]))
    return wrong


def _cell(path: str, mistake: Mistake, font: Any) -> Any:
    """One thumbnail, fitted into a square on grey, with `true:` and `pred:` beneath."""
    from PIL import Image, ImageDraw, ImageOps

    cell = Image.new("RGB", (THUMBNAIL, THUMBNAIL + CAPTION_HEIGHT), "white")
    with Image.open(path) as opened:
        thumbnail = ImageOps.pad(opened.convert("RGB"), (THUMBNAIL, THUMBNAIL), color="#d0d0d0")
    cell.paste(thumbnail, (0, 0))
    draw = ImageDraw.Draw(cell)
    score = "" if mistake.confidence is None else f" ({mistake.confidence:.2f})"
    true, predicted = f"true: {mistake.label}", f"pred: {mistake.prediction}{score}"
    draw.text((3, THUMBNAIL + 3), _fit(draw, true, font), font=font, fill="#1a7f37")
    draw.text((3, THUMBNAIL + 18), _fit(draw, predicted, font), font=font, fill="#cf222e")
    return cell


def _fit(draw: Any, text: str, font: Any) -> str:
    """`text`, cut short with an ellipsis where it would run past the thumbnail's width."""
    while len(text) > 1 and draw.textlength(text, font=font) > THUMBNAIL - 6:
        text = text[:-2] + "…"
    return text


def contact_sheet(paths: list[str], mistakes: list[Mistake], out: Path) -> None:
    """Write the thumbnails of `mistakes` (images at `paths`) in a grid of COLUMNS to `out`.

    Example:
        >>> contact_sheet(["a.jpg"], [Mistake("a.jpg", "meme", "photo", 0.9)], Path("m.png"))
    """
    from PIL import Image, ImageFont

    font = ImageFont.load_default(11)
    columns = min(COLUMNS, len(mistakes))
    rows = -(-len(mistakes) // columns)
    step_x, step_y = THUMBNAIL + PADDING, THUMBNAIL + CAPTION_HEIGHT + PADDING
    sheet = Image.new("RGB", (columns * step_x + PADDING, rows * step_y + PADDING), "#f0f0f0")
    for index, (path, mistake) in enumerate(zip(paths, mistakes, strict=True)):
        row, column = divmod(index, columns)
        sheet.paste(_cell(path, mistake, font), (PADDING + column * step_x, PADDING + row * step_y))
    sheet.save(out, "PNG", optimize=True)


def misclassified_report(
    paths: list[str],
    labels: list[str],
    predictions: list[str],
    confidence: np.ndarray | None,
    plot_dir: Path,
) -> Misclassified:
    """Find the mistakes, draw the SHOWN most confident into `plot_dir` (none: no sheet).

    Args:
        paths: the evaluated image files.
        labels: their true classes.
        predictions: the model's classes, in the same order.
        confidence: the model's probability of its predicted class, or None.
        plot_dir: where `misclassified.png` goes (created if missing).

    Returns:
        How many were wrong, `misclassified.png` (None: no mistake) and those it shows.
    """
    wrong = mistake_order(labels, predictions, confidence)
    chosen = wrong[:SHOWN]
    shown = [
        Mistake(
            Path(paths[i]).name,
            labels[i],
            predictions[i],
            None if confidence is None else round(float(confidence[i]), 4),
        )
        for i in chosen
    ]
    if shown:
        plot_dir.mkdir(parents=True, exist_ok=True)
        contact_sheet([paths[i] for i in chosen], shown, plot_dir / PLOT_NAME)
    return Misclassified(
        wrong=len(wrong),
        plot=PLOT_NAME if shown else None,
        shown=[MisclassifiedImage.model_validate(asdict(m)) for m in shown],
    )
