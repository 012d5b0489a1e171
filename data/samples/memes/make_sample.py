"""Generate the synthetic meme/photo/screenshot sample in this folder, deterministically.

Photos are crops, flips and colour shifts of public-domain and CC photographs that ship inside
scikit-image and scikit-learn; memes are such photos with a classic top/bottom caption in a
bold outlined font; screenshots are rendered social-media posts on light and dark themes. All
text comes from the shipped NaijaSenti sample (`../naijasenti`). The same seed gives the same
bytes (with the same Pillow and FreeType).

    python data/samples/memes/make_sample.py [--seed 7] [--per-class 60] [--out FOLDER]

Needs scikit-image (`pip install -e '.[samples]'`) for its bundled photographs.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

HERE = Path(__file__).resolve().parent
TWEETS = HERE.parent / "naijasenti"
SIZE = 192
"""Photos and memes are SIZE x SIZE; screenshots SIZE wide."""
JPEG_QUALITY = 75
NO_GLYPHS_FROM = 0x2500
"""Characters from here on (emoji, mostly) have no glyph in DejaVu Sans: they are dropped."""
SKIMAGE_PHOTOS = ("astronaut.png", "camera.png", "chelsea.png", "coffee.png", "rocket.jpg")
SKIMAGE_PHOTOS += ("hubble_deep_field.jpg",)
SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")
PLATFORMS = ("whatsapp", "x", "facebook")
NAMES = ("Amaka Obi", "Musa Bello", "Tunde Ade", "Ngozi Eze", "Halima Sani", "Segun Ojo")
NAMES += ("Chinedu Okafor", "Aisha Yusuf", "Bola Akin", "Emeka Nwosu", "Zainab Lawal")
THEMES = {
    "light": {"background": "#ffffff", "text": "#0f1419", "muted": "#536471", "rule": "#eff3f4"},
    "dark": {"background": "#15202b", "text": "#f7f9f9", "muted": "#8b98a5", "rule": "#38444d"},
}


@dataclass(frozen=True)
class Materials:
    """What every image is made from: source photographs, post texts and two fonts."""

    photos: list[Image.Image]
    texts: list[str]
    bold: Path
    regular: Path


def load_materials() -> Materials:
    """The bundled photographs (RGB), the sample's tweets and matplotlib's DejaVu fonts."""
    import matplotlib
    import skimage
    import sklearn.datasets

    skimage_dir = Path(skimage.__file__).parent / "data"
    sklearn_dir = Path(sklearn.datasets.__file__).parent / "images"
    paths = [skimage_dir / n for n in SKIMAGE_PHOTOS] + [sklearn_dir / n for n in SKLEARN_PHOTOS]
    photos = []
    for path in paths:
        with Image.open(path) as image:
            photos.append(image.convert("RGB"))
    texts = []
    for tsv in sorted(TWEETS.glob("*/train.tsv")):
        with tsv.open(encoding="utf-8", newline="") as handle:
            texts += [row["text"] for row in csv.DictReader(handle, delimiter="\t")]
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return Materials(photos, texts, fonts / "DejaVuSans-Bold.ttf", fonts / "DejaVuSans.ttf")


def photo(rng: random.Random, materials: Materials) -> Image.Image:
    """A random square crop of a source photograph, maybe mirrored, with its colour,
    brightness and contrast shifted."""
    source = rng.choice(materials.photos)
    side = int(min(source.size) * rng.uniform(0.45, 0.95))
    left = rng.randrange(source.width - side + 1)
    top = rng.randrange(source.height - side + 1)
    image = source.crop((left, top, left + side, top + side)).resize((SIZE, SIZE), Image.LANCZOS)
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    for enhancer in (ImageEnhance.Color, ImageEnhance.Brightness, ImageEnhance.Contrast):
        image = enhancer(image).enhance(rng.uniform(0.7, 1.3))
    return image


def _words(rng: random.Random, texts: list[str], most: int) -> list[str]:
    """Up to `most` words in a row of a random tweet, no emoji (DejaVu has none) or links."""
    text = "".join(c for c in rng.choice(texts) if ord(c) < NO_GLYPHS_FROM)
    words = [w for w in text.split() if w != "@user" and not w.startswith("http")] or ["abeg"]
    start = rng.randrange(max(1, len(words) - most + 1))
    return words[start : start + most]


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    """Greedy word wrap to `width` pixels (a word wider than that gets a line of its own)."""
    lines: list[str] = []
    for word in text.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(joined, font=font) <= width:
            lines[-1] = joined
        else:
            lines.append(word)
    return lines


def _caption(draw: ImageDraw.ImageDraw, words: list[str], font_path: Path, top: bool) -> None:
    """Upper-case white text with a black outline, centred, at the top or bottom edge."""
    text = " ".join(words).upper()
    for size in (22, 19, 16, 13):
        font = ImageFont.truetype(str(font_path), size)
        lines = _wrap(draw, text, font, SIZE - 8)
        if len(lines) <= 2:
            break
    lines = lines[:2]
    height = len(lines) * (size + 3)
    y = 4 if top else SIZE - height - 6
    for line in lines:
        x = (SIZE - draw.textlength(line, font=font)) / 2
        draw.text((x, y), line, font=font, fill="white", stroke_width=2, stroke_fill="black")
        y += size + 3


def meme(rng: random.Random, materials: Materials) -> Image.Image:
    """A photo with a classic caption: top and bottom, or (one in four) bottom only."""
    image = photo(rng, materials)
    draw = ImageDraw.Draw(image)
    if rng.random() < 0.75:
        _caption(draw, _words(rng, materials.texts, 6), materials.bold, top=True)
    _caption(draw, _words(rng, materials.texts, 7), materials.bold, top=False)
    return image


def _avatar(draw: ImageDraw.ImageDraw, rng: random.Random, name: str, font_path: Path) -> None:
    colour = tuple(rng.randrange(40, 220) for _ in range(3))
    draw.ellipse((8, 8, 36, 36), fill=colour)
    font = ImageFont.truetype(str(font_path), 14)
    draw.text((22, 22), name[0], font=font, fill="white", anchor="mm")


def _action_bar(draw: ImageDraw.ImageDraw, rng: random.Random, y: int, theme: dict) -> None:
    """Reply, repost, like and share: small outlined icons, each with a count."""
    font = ImageFont.load_default(10)
    for index in range(4):
        x = 44 + index * 38
        if index == 2:
            draw.ellipse((x, y, x + 9, y + 9), outline=theme["muted"], width=1)
        else:
            draw.rounded_rectangle((x, y, x + 10, y + 9), 2, outline=theme["muted"], width=1)
        if index < 3:
            draw.text((x + 13, y - 1), str(rng.randrange(1, 999)), font=font, fill=theme["muted"])


def screenshot(rng: random.Random, materials: Materials) -> Image.Image:
    """A rendered post: avatar, name, handle, time, wrapped text, an optional photo and
    the action bar, on a light or dark theme."""
    theme = THEMES[rng.choice(sorted(THEMES))]
    name = rng.choice(NAMES)
    handle = "@" + name.split()[0].lower() + str(rng.randrange(10, 999))
    regular = ImageFont.truetype(str(materials.regular), 11)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    body = _wrap(measure, " ".join(_words(rng, materials.texts, 40)), regular, SIZE - 52)[:8]
    attached = photo(rng, materials).resize((SIZE - 52, 72)) if rng.random() < 0.3 else None
    height = 52 + 14 * len(body) + (80 if attached else 0) + 30
    image = Image.new("RGB", (SIZE, height), theme["background"])
    draw = ImageDraw.Draw(image)
    _avatar(draw, rng, name, materials.bold)
    draw.text((44, 8), name, font=ImageFont.truetype(str(materials.bold), 11), fill=theme["text"])
    small = ImageFont.truetype(str(materials.regular), 9)
    draw.text((44, 23), f"{handle} · {rng.randrange(1, 23)}h", font=small, fill=theme["muted"])
    y = 44
    for line in body:
        draw.text((44, y), line, font=regular, fill=theme["text"])
        y += 14
    if attached is not None:
        image.paste(attached, (44, y + 4))
        y += 80
    draw.line((0, y + 6, SIZE, y + 6), fill=theme["rule"])
    _action_bar(draw, rng, y + 14, theme)
    return image


MAKERS: dict[str, Callable[[random.Random, Materials], Image.Image]] = {
    "meme": meme,
    "photo": photo,
    "screenshot": screenshot,
}


def make_sample(out: Path, seed: int, per_class: int) -> list[tuple[str, str, str]]:
    """Write `<class>/<class>_NNN.jpg` and `images.csv` (image, label, platform) into `out`.

    Args:
        out: the folder to write into (created if missing).
        seed: the random seed; the same seed writes the same files.
        per_class: images per class.

    Returns:
        The rows of images.csv.

    Example:
        >>> make_sample(Path("/tmp/memes"), seed=7, per_class=5)[0]
        ('meme/meme_000.jpg', 'meme', 'whatsapp')
    """
    materials = load_materials()
    rng = random.Random(seed)
    rows = []
    for label, maker in MAKERS.items():
        (out / label).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            name = f"{label}/{label}_{index:03d}.jpg"
            maker(rng, materials).save(out / name, "JPEG", quality=JPEG_QUALITY)
            rows.append((name, label, rng.choice(PLATFORMS)))
    with (out / "images.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["image", "label", "platform"])
        writer.writerows(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    rows = make_sample(args.out, args.seed, args.per_class)
    print(f"wrote {len(rows)} images and images.csv to {args.out}")


if __name__ == "__main__":
    main()
