"""Draw the app icon (static/description/icon.png): a clipboard with a wrench.

Run with any Python that has Pillow: python tooling/draw_icon.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
SCALE = 4  # draw large, then downsample for smooth edges
S = SIZE * SCALE


def box(x0, y0, x1, y1):
    return [int(v * S) for v in (x0, y0, x1, y1)]


def point(x, y):
    return (int(x * S), int(y * S))


def main():
    img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    # background: rounded square, vertical teal-to-blue gradient
    gradient = Image.new("RGBA", (S, S))
    top, bottom = (0, 160, 170), (20, 90, 160)
    for y in range(S):
        t = y / S
        colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        ImageDraw.Draw(gradient).line([(0, y), (S, y)], fill=colour + (255,))
    mask = Image.new("L", (S, S), 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        box(0, 0, 1, 1), radius=int(0.18 * S), fill=255
    )
    img.paste(gradient, (0, 0), mask)
    # clipboard
    draw.rounded_rectangle(
        box(0.22, 0.17, 0.78, 0.86), radius=int(0.05 * S), fill=(255, 255, 255, 255)
    )
    draw.rounded_rectangle(
        box(0.38, 0.11, 0.62, 0.22), radius=int(0.03 * S), fill=(255, 196, 61, 255)
    )
    # check lines on the clipboard
    ink = (20, 90, 160, 255)
    for row in (0.33, 0.47, 0.61):
        draw.line(
            [point(0.30, row + 0.02), point(0.34, row + 0.06)],
            fill=(0, 160, 120, 255),
            width=int(0.025 * S),
        )
        draw.line(
            [point(0.34, row + 0.06), point(0.41, row - 0.01)],
            fill=(0, 160, 120, 255),
            width=int(0.025 * S),
        )
        draw.rounded_rectangle(
            box(0.46, row + 0.015, 0.70, row + 0.045), radius=int(0.01 * S), fill=ink
        )
    # wrench across the lower right corner
    wrench = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    wd = ImageDraw.Draw(wrench)
    grey = (70, 80, 95, 255)
    wd.rounded_rectangle(box(0.47, 0.70, 0.93, 0.78), radius=int(0.04 * S), fill=grey)
    wd.ellipse(box(0.80, 0.63, 0.98, 0.85), fill=grey)
    wd.rectangle(box(0.89, 0.69, 0.99, 0.79), fill=(0, 0, 0, 0))
    wrench = wrench.rotate(
        35, center=(int(0.72 * S), int(0.74 * S)), resample=Image.BICUBIC
    )
    img.alpha_composite(wrench)
    img = img.resize((SIZE, SIZE), Image.LANCZOS)
    target = Path(__file__).resolve().parent.parent / "static/description/icon.png"
    img.save(target, optimize=True)


if __name__ == "__main__":
    main()
