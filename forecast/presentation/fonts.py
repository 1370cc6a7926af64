"""The CJK font for charts, taken from the ``mplfonts`` package, never from the system.

``mplfonts`` ships Noto Sans CJK SC (SIL Open Font License). We register that one file with
matplotlib's font manager and switch to it only inside :func:`chart_style`, an
``rc_context``: nothing here changes matplotlib's global ``rcParams``, and mplfonts'
``use_font`` (which does) is never called.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager, rc_context

from forecast.errors import ConfigError

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
LANGUAGES = ("zh", "en")

# Sizes in points for a 6.4 × 4 in figure pasted at half an A4 page width.
BASE_FONT_SIZE = 10.0
SMALL_FONT_SIZE = 9.0
TITLE_FONT_SIZE = 12.0


def cjk_font_path() -> Path:
    """The Noto Sans CJK SC file shipped inside the installed ``mplfonts`` package."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "mplfonts is not installed; it is a dependency of forecast (pip install mplfonts)")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / CJK_FONT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: mplfonts is installed but lacks {CJK_FONT_FILE}; "
                                "reinstall mplfonts")
    return path


@lru_cache(maxsize=1)
def cjk_font_family() -> str:
    """Register the mplfonts CJK file with matplotlib (once) and return its family name.

    If a system font of the same family name was already known, the mplfonts entry is moved
    in front of it so that the family name always resolves to the mplfonts file.
    """
    path = cjk_font_path()
    manager = font_manager.fontManager
    manager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    resolved = Path(manager.findfont(font_manager.FontProperties(family=family),
                                     fallback_to_default=False))
    if resolved.resolve() != path.resolve():
        ours = [entry for entry in manager.ttflist if Path(entry.fname).resolve() == path.resolve()]
        others = [entry for entry in manager.ttflist if entry not in ours]
        manager.ttflist = ours + others
        manager._findfont_cached.cache_clear()  # same call addfont makes after a change
    return family


def check_language(lang: str) -> str:
    """Return ``lang`` if charts can be drawn in it (``zh`` or ``en``), else a ConfigError."""
    if lang not in LANGUAGES:
        raise ConfigError(f"unknown chart language {lang!r}", field="lang",
                          fix="use 'zh' (Chinese labels) or 'en' (English labels)")
    return lang


def style_params(lang: str = "zh") -> dict[str, object]:
    """The rcParams every chart is drawn and saved with, for ``lang`` ``zh`` or ``en``.

    Both languages list the CJK font: first for Chinese, as a fallback for English (so a
    Chinese scenario name in an English chart still renders).
    """
    check_language(lang)
    cjk = cjk_font_family()
    families = [cjk, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", cjk]
    return {
        # An explicit list (not the generic "sans-serif") so that matplotlib falls back glyph
        # by glyph from the first font to the second.
        "font.family": families,
        "font.sans-serif": families,
        "axes.unicode_minus": False,  # ASCII hyphen-minus: present in every font
        "font.size": BASE_FONT_SIZE,
        "axes.titlesize": TITLE_FONT_SIZE,
        "axes.labelsize": BASE_FONT_SIZE,
        "xtick.labelsize": SMALL_FONT_SIZE + 0.5,
        "ytick.labelsize": SMALL_FONT_SIZE + 0.5,
        "legend.fontsize": SMALL_FONT_SIZE,
        "legend.title_fontsize": SMALL_FONT_SIZE,
        "figure.titlesize": TITLE_FONT_SIZE,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#d9d9d9",
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
        "lines.linewidth": 1.8,
        "legend.frameon": False,
        "svg.fonttype": "path",  # glyphs as outlines: the SVG needs no font installed
        "svg.hashsalt": "forecast",  # stable ids: the same chart gives the same SVG
        "pdf.fonttype": 42,
        "savefig.dpi": 200,
        "figure.dpi": 100,
    }


@contextmanager
def chart_style(lang: str = "zh") -> Iterator[None]:
    """Within this block, matplotlib draws with the project's chart style for ``lang``."""
    with rc_context(style_params(lang)):
        yield
