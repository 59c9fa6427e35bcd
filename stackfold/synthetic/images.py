"""Product pictures of the synthetic twin: one drawn object on a white background.

The object has a random size and position (so cropping and rescaling matter), the shape
family of its group and colours mostly from its class palette. A share of products gets
an uninformative picture instead: a grey placeholder, random clutter, or the style of
another class, as real listings do. Drawing uses a few PIL primitives, so a 500x500
picture costs a few milliseconds.
"""

from dataclasses import dataclass
from io import BytesIO

import numpy as np
from PIL import Image, ImageDraw

from stackfold.synthetic.catalogue import load_catalogue
from stackfold.synthetic.styles import CLASS_COLOURS, COLOURS, GROUP_COLOURS, GROUP_SHAPES

JPEG_QUALITY = 85
Box = tuple[float, float, float, float]
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class ImageKnobs:
    """Difficulty settings of the pictures, tuned so colour features score like on real data."""

    uninformative_share: float = 0.18  # placeholder, clutter or another class's style
    class_colour_share: float = 0.55  # each colour: from the class palette, else neutral or group accent
    jitter: int = 30  # per-channel colour noise of each product


def draw_product(code: int, rng: np.random.Generator, size: int, knobs: ImageKnobs = ImageKnobs()) -> Image.Image:
    """The picture of one product of class ``code`` as a ``size`` x ``size`` RGB image."""
    image = Image.new("RGB", (size, size), _background(rng))
    draw = ImageDraw.Draw(image)
    catalogue = load_catalogue()
    if rng.random() < knobs.uninformative_share:
        kind = int(rng.integers(3))
        if kind == 0:
            _placeholder(draw, size, rng)
            return image
        if kind == 1:
            _clutter(draw, size, rng)
            return image
        code = catalogue.codes[int(rng.integers(len(catalogue.codes)))]
    group = catalogue.group_of[code]
    shapes = GROUP_SHAPES[group]
    shape = shapes[int(rng.integers(len(shapes)))]
    colours = [_colour(code, group, rng, knobs) for _ in range(3)]
    box = _object_box(size, rng, _ASPECT[shape])
    _SHAPES[shape](draw, box, colours, rng)
    return image


def encode_jpeg(image: Image.Image) -> bytes:
    """Baseline JPEG bytes at a fixed quality (deterministic for identical pixels)."""
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _background(rng: np.random.Generator) -> RGB:
    """Pure white mostly, sometimes an off-white studio background."""
    if rng.random() < 0.8:
        return (255, 255, 255)
    v = int(rng.integers(232, 255))
    return (v, v, v)


def _colour(code: int, group: str, rng: np.random.Generator, knobs: ImageKnobs) -> RGB:
    """A jittered colour from the class palette (dominant first) or from the group palette."""
    if rng.random() < knobs.class_colour_share:
        palette = CLASS_COLOURS[code]
        name = palette[min(int(rng.geometric(0.55)) - 1, len(palette) - 1)]
    else:
        palette = GROUP_COLOURS[group]
        name = palette[int(rng.integers(len(palette)))]
    noise = rng.integers(-knobs.jitter, knobs.jitter + 1, size=3)
    return tuple(int(v) for v in np.clip(np.array(COLOURS[name]) + noise, 0, 255))  # type: ignore[return-value]


def _object_box(size: int, rng: np.random.Generator, aspect: tuple[float, float]) -> Box:
    """A random box for the object: 30-95 % of the picture, any aspect in ``aspect``, anywhere inside."""
    scale = rng.uniform(0.3, 0.95) * size
    ratio = rng.uniform(*aspect)  # width / height
    w, h = (scale, scale / ratio) if ratio >= 1 else (scale * ratio, scale)
    x0 = rng.uniform(0, size - w)
    y0 = rng.uniform(0, size - h)
    return (x0, y0, x0 + w, y0 + h)


def _inset(box: Box, fx: float, fy: float | None = None) -> Box:
    """``box`` shrunk by a fraction ``fx`` (and ``fy``) of its width (and height) on each side."""
    x0, y0, x1, y1 = box
    fy = fx if fy is None else fy
    dx, dy = (x1 - x0) * fx, (y1 - y0) * fy
    return (x0 + dx, y0 + dy, x1 - dx, y1 - dy)


def _stripes(draw: ImageDraw.ImageDraw, box: Box, colour: RGB, rng: np.random.Generator) -> None:
    """Horizontal, vertical or dotted texture inside ``box``."""
    x0, y0, x1, y1 = box
    kind = int(rng.integers(3))
    step = max(4.0, (y1 - y0) / rng.uniform(4, 12))
    width = max(1, int(step / 3))
    if kind == 0:
        for y in np.arange(y0 + step / 2, y1, step):
            draw.line((x0, y, x1, y), fill=colour, width=width)
    elif kind == 1:
        for x in np.arange(x0 + step / 2, x1, step):
            draw.line((x, y0, x, y1), fill=colour, width=width)
    else:
        r = step / 4
        for y in np.arange(y0 + step / 2, y1 - r, step):
            for x in np.arange(x0 + step / 2, x1 - r, step):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def _book(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A cover with a title band and a few lines of text."""
    x0, y0, x1, y1 = box
    draw.rectangle(box, fill=c[0], outline=(60, 60, 60))
    band = _inset(box, 0.1, 0.12)
    draw.rectangle((band[0], band[1], band[2], band[1] + (y1 - y0) * 0.18), fill=c[1])
    for i in range(int(rng.integers(2, 6))):
        y = band[1] + (y1 - y0) * (0.3 + 0.08 * i)
        draw.line((band[0], y, band[0] + (band[2] - band[0]) * rng.uniform(0.4, 1), y), fill=c[2], width=max(1, int((y1 - y0) / 40)))


def _stack(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """Several books or magazines side by side or piled up."""
    x0, y0, x1, y1 = box
    n = int(rng.integers(2, 6))
    w = (x1 - x0) / n
    for i in range(n):
        top = y0 + (y1 - y0) * rng.uniform(0, 0.25)
        _book(draw, (x0 + i * w, top, max(x0 + i * w, x0 + (i + 1) * w - 1), y1), [c[i % 3], c[(i + 1) % 3], c[(i + 2) % 3]], rng)


def _box(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A game or product box with a picture on the front."""
    draw.rectangle(box, fill=c[0])
    draw.rectangle((box[0], box[1], box[2], box[1] + (box[3] - box[1]) * 0.12), fill=c[2])
    draw.ellipse(_inset(box, 0.2, 0.25), fill=c[1])
    _stripes(draw, _inset(box, 0.3, 0.35), c[2], rng)


def _device(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A console, controller or pump: rounded body, buttons and a screen or grip."""
    draw.rounded_rectangle(box, radius=(box[3] - box[1]) * 0.25, fill=c[0])
    x0, y0, x1, y1 = box
    h = y1 - y0
    draw.rectangle(_inset(box, 0.3, 0.2), fill=c[1])
    for i in range(int(rng.integers(2, 5))):
        cx = x1 - (x1 - x0) * (0.12 + 0.04 * i)
        cy = y0 + h * (0.35 + 0.1 * (i % 2))
        r = h * 0.06
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=c[2])


def _pack(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A lot: a device and a few boxes around it."""
    x0, y0, x1, y1 = box
    _device(draw, (x0, y0 + (y1 - y0) * 0.5, x0 + (x1 - x0) * 0.6, y1), c, rng)
    for i in range(int(rng.integers(2, 5))):
        bx = x0 + (x1 - x0) * (0.1 + 0.2 * i)
        _box(draw, (bx, y0, bx + (x1 - x0) * 0.18, y0 + (y1 - y0) * 0.45), [c[(i + 1) % 3], c[i % 3], c[2]], rng)


def _toy(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A character or vehicle: body, head or cabin, wheels or limbs."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    draw.ellipse((x0, y0 + h * 0.35, x1, y1 - h * 0.1), fill=c[0])
    draw.ellipse((x0 + w * 0.25, y0, x0 + w * 0.75, y0 + h * 0.45), fill=c[1])
    draw.polygon([(x0 + w * 0.4, y0 + h * 0.2), (x0 + w * 0.6, y0 + h * 0.2), (x0 + w * 0.5, y0 + h * 0.32)], fill=c[2])
    for fx in (0.2, 0.8):
        r = w * 0.1
        cx, cy = x0 + w * fx, y1 - r
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=c[2])


def _board(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A board game: a board with a grid, and pawns."""
    draw.rectangle(box, fill=c[0], outline=c[2], width=3)
    x0, y0, x1, y1 = box
    n = int(rng.integers(4, 9))
    for i in range(1, n):
        x = x0 + (x1 - x0) * i / n
        y = y0 + (y1 - y0) * i / n
        draw.line((x, y0, x, y1), fill=c[1], width=2)
        draw.line((x0, y, x1, y), fill=c[1], width=2)
    for _ in range(int(rng.integers(2, 5))):
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        r = (x1 - x0) / (2 * n)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=c[2])


def _furniture(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A chair, table or sofa: seat, back and legs."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    leg = max(2, int(w * 0.04))
    if rng.random() < 0.5:
        draw.rectangle((x0 + w * 0.1, y0, x1 - w * 0.1, y0 + h * 0.5), fill=c[0])
    draw.rectangle((x0, y0 + h * 0.5, x1, y0 + h * 0.65), fill=c[0])
    _stripes(draw, (x0 + w * 0.12, y0 + h * 0.05, x1 - w * 0.12, y0 + h * 0.45), c[1], rng)
    for fx in (0.05, 0.95):
        draw.line((x0 + w * fx, y0 + h * 0.65, x0 + w * fx, y1), fill=c[2], width=leg)


def _fabric(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A cushion, curtain or towel: a soft rectangle with a pattern."""
    draw.rounded_rectangle(box, radius=(box[2] - box[0]) * 0.08, fill=c[0])
    _stripes(draw, _inset(box, 0.08), c[1], rng)


def _lamp(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A lamp or vase: a shade on a stand."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    draw.polygon([(x0 + w * 0.25, y0), (x1 - w * 0.25, y0), (x1, y0 + h * 0.45), (x0, y0 + h * 0.45)], fill=c[0])
    draw.line((x0 + w / 2, y0 + h * 0.45, x0 + w / 2, y1 - h * 0.05), fill=c[2], width=max(2, int(w * 0.05)))
    draw.ellipse((x0 + w * 0.2, y1 - h * 0.1, x1 - w * 0.2, y1), fill=c[1])


def _round(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A pool, basin, bowl or float: concentric ellipses."""
    draw.ellipse(box, fill=c[0])
    draw.ellipse(_inset(box, 0.12), fill=c[1])
    if rng.random() < 0.5:
        draw.ellipse(_inset(box, 0.3), fill=c[2])


def _tool(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """A tool or pen: a long handle and a head."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    draw.rounded_rectangle((x0, y0 + h * 0.4, x0 + w * 0.65, y0 + h * 0.6), radius=h * 0.08, fill=c[0])
    draw.polygon([(x0 + w * 0.6, y0 + h * 0.15), (x1, y0 + h * 0.3), (x1, y0 + h * 0.7), (x0 + w * 0.6, y0 + h * 0.85)], fill=c[1])
    _stripes(draw, (x0 + w * 0.05, y0 + h * 0.42, x0 + w * 0.35, y0 + h * 0.58), c[2], rng)


def _cards(draw: ImageDraw.ImageDraw, box: Box, c: list[RGB], rng: np.random.Generator) -> None:
    """Trading cards: a few framed cards, slightly offset."""
    x0, y0, x1, y1 = box
    n = int(rng.integers(1, 4))
    w = (x1 - x0) / (1 + 0.3 * (n - 1))
    for i in range(n):
        cx0 = x0 + i * 0.3 * w
        card = (cx0, y0 + i * 0.05 * (y1 - y0), cx0 + w, y1 - (n - 1 - i) * 0.05 * (y1 - y0))
        draw.rectangle(card, fill=c[0], outline=c[2], width=3)
        draw.rectangle(_inset(card, 0.1, 0.12)[:3] + (card[1] + (card[3] - card[1]) * 0.55,), fill=c[1])


def _placeholder(draw: ImageDraw.ImageDraw, size: int, rng: np.random.Generator) -> None:
    """The shop's "no picture" tile: a grey frame and a camera icon, the same for every class."""
    m = size * rng.uniform(0.05, 0.2)
    draw.rectangle((m, m, size - m, size - m), fill=(228, 228, 228), outline=(190, 190, 190), width=max(1, size // 100))
    c = size / 2
    draw.rounded_rectangle((c - size * 0.15, c - size * 0.1, c + size * 0.15, c + size * 0.1), radius=size * 0.03, fill=(175, 175, 175))
    draw.ellipse((c - size * 0.06, c - size * 0.06, c + size * 0.06, c + size * 0.06), fill=(228, 228, 228))


def _clutter(draw: ImageDraw.ImageDraw, size: int, rng: np.random.Generator) -> None:
    """A photo of something else: random shapes in random colours."""
    names = list(COLOURS)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = rng.uniform(0, size * 0.8, size=2)
        x1, y1 = x0 + rng.uniform(size * 0.05, size * 0.5), y0 + rng.uniform(size * 0.05, size * 0.5)
        fill = COLOURS[names[int(rng.integers(len(names)))]]
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=fill)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=fill)


_SHAPES = {
    "book": _book, "stack": _stack, "box": _box, "device": _device, "pack": _pack, "toy": _toy,
    "board": _board, "furniture": _furniture, "fabric": _fabric, "lamp": _lamp, "round": _round,
    "tool": _tool, "cards": _cards,
}

# Range of width / height of each shape's bounding box.
_ASPECT: dict[str, tuple[float, float]] = {
    "book": (0.6, 0.8), "stack": (0.8, 1.6), "box": (0.65, 0.85), "device": (1.2, 2.0), "pack": (1.0, 1.5),
    "toy": (0.7, 1.3), "board": (0.9, 1.1), "furniture": (0.6, 1.4), "fabric": (0.7, 1.5), "lamp": (0.4, 0.7),
    "round": (0.8, 1.6), "tool": (1.6, 3.0), "cards": (0.7, 1.0),
}
