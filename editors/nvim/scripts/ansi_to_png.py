"""Renders a terminal capture with colours (`tmux capture-pane -e -p`) to a PNG, cell by cell.

    python ansi_to_png.py capture.txt out.png [--cols 100] [--font-size 15]

Understands the SGR sequences tmux writes: bold, italic, underline, reverse, strikethrough, the 16
basic colours, 256-colour and 24-bit colours. Needs Pillow and the DejaVu Sans Mono fonts.
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

BASIC = [
    (0x1E, 0x1E, 0x1E), (0xE0, 0x6C, 0x75), (0x98, 0xC3, 0x79), (0xE5, 0xC0, 0x7B),
    (0x61, 0xAF, 0xEF), (0xC6, 0x78, 0xDD), (0x56, 0xB6, 0xC2), (0xD0, 0xD0, 0xD0),
    (0x5C, 0x63, 0x70), (0xF0, 0x7C, 0x85), (0xA8, 0xD3, 0x89), (0xF5, 0xD0, 0x8B),
    (0x71, 0xBF, 0xFF), (0xD6, 0x88, 0xED), (0x66, 0xC6, 0xD2), (0xFF, 0xFF, 0xFF),
]  # fmt: skip
DEFAULT_FG = (0xDC, 0xDF, 0xE4)
DEFAULT_BG = (0x14, 0x16, 0x1B)
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu")]
SGR = re.compile(r"\x1b\[([0-9;:]*)m")
OTHER_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|[()][A-Za-z0-9])")


def color_256(n: int) -> tuple[int, int, int]:
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[n // 36], steps[(n // 6) % 6], steps[n % 6]
    v = 8 + 10 * (n - 232)
    return v, v, v


@dataclass(frozen=True)
class Style:
    fg: tuple[int, int, int] | None = None
    bg: tuple[int, int, int] | None = None
    bold: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    reverse: bool = False


def apply_sgr(style: Style, params: str) -> Style:
    codes = [int(p) if p else 0 for p in re.split(r"[;:]", params)] if params else [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            style = Style()
        elif c == 1:
            style = replace(style, bold=True)
        elif c == 3:
            style = replace(style, italic=True)
        elif c in (4, 21):
            style = replace(style, underline=True)
        elif c == 7:
            style = replace(style, reverse=True)
        elif c == 9:
            style = replace(style, strike=True)
        elif c == 22:
            style = replace(style, bold=False)
        elif c == 23:
            style = replace(style, italic=False)
        elif c == 24:
            style = replace(style, underline=False)
        elif c == 27:
            style = replace(style, reverse=False)
        elif c == 29:
            style = replace(style, strike=False)
        elif 30 <= c <= 37:
            style = replace(style, fg=BASIC[c - 30])
        elif 90 <= c <= 97:
            style = replace(style, fg=BASIC[c - 90 + 8])
        elif 40 <= c <= 47:
            style = replace(style, bg=BASIC[c - 40])
        elif 100 <= c <= 107:
            style = replace(style, bg=BASIC[c - 100 + 8])
        elif c == 39:
            style = replace(style, fg=None)
        elif c == 49:
            style = replace(style, bg=None)
        elif c in (38, 48) and i + 1 < len(codes):
            if codes[i + 1] == 5 and i + 2 < len(codes):
                rgb = color_256(codes[i + 2])
                i += 2
            elif codes[i + 1] == 2 and i + 4 < len(codes):
                rgb = (codes[i + 2], codes[i + 3], codes[i + 4])
                i += 4
            else:
                break
            style = replace(style, fg=rgb) if c == 38 else replace(style, bg=rgb)
        i += 1
    return style


def parse(text: str) -> list[list[tuple[str, Style]]]:
    """Rows of (character, style) cells."""
    rows: list[list[tuple[str, Style]]] = []
    style = Style()
    for line in text.split("\n"):
        cells: list[tuple[str, Style]] = []
        pos = 0
        for m in SGR.finditer(line):
            for ch in OTHER_ESCAPE.sub("", line[pos : m.start()]):
                cells.append((ch, style))
                if unicodedata.east_asian_width(ch) in ("W", "F"):
                    cells.append(("", style))
            style = apply_sgr(style, m.group(1))
            pos = m.end()
        for ch in OTHER_ESCAPE.sub("", line[pos:]):
            cells.append((ch, style))
        rows.append(cells)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def render(rows, out: Path, cols: int, font_size: int) -> None:
    from PIL import Image, ImageDraw, ImageFont

    def font(name: str):
        for d in FONT_DIRS:
            if (d / name).exists():
                return ImageFont.truetype(str(d / name), font_size)
        raise FileNotFoundError(f"font {name} not found in {', '.join(map(str, FONT_DIRS))}")

    fonts = {
        (False, False): font("DejaVuSansMono.ttf"),
        (True, False): font("DejaVuSansMono-Bold.ttf"),
        (False, True): font("DejaVuSansMono-Oblique.ttf"),
        (True, True): font("DejaVuSansMono-BoldOblique.ttf"),
    }
    regular = fonts[(False, False)]
    cw = round(regular.getlength("M"))
    ascent, descent = regular.getmetrics()
    ch = ascent + descent + 2
    pad = 12
    img = Image.new("RGB", (cols * cw + 2 * pad, len(rows) * ch + 2 * pad), DEFAULT_BG)
    draw = ImageDraw.Draw(img)
    for r, cells in enumerate(rows):
        y = pad + r * ch
        for c, (char, st) in enumerate(cells[:cols]):
            x = pad + c * cw
            fg, bg = st.fg or DEFAULT_FG, st.bg or DEFAULT_BG
            if st.reverse:
                fg, bg = bg, fg
            if bg != DEFAULT_BG:
                draw.rectangle([x, y, x + cw - 1, y + ch - 1], fill=bg)
            if char.strip():
                draw.text((x, y + 1), char, font=fonts[(st.bold, st.italic)], fill=fg)
            if st.underline:
                draw.line([x, y + ch - 2, x + cw - 1, y + ch - 2], fill=fg)
            if st.strike:
                draw.line([x, y + ch // 2, x + cw - 1, y + ch // 2], fill=fg, width=2)
    img.save(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--font-size", type=int, default=15)
    args = parser.parse_args(argv)
    render(parse(args.capture.read_text()), args.out, args.cols, args.font_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
