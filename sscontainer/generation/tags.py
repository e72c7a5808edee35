"""``;TAG;`` configuration: write param values into text files.

The whole tag, delimiters included, is replaced by the value, written literally
(no escape processing, whatever characters it holds). A tag naming no param is
left as it is and reported, so a typo does not pass silently.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping

from ..errors import GenerationError, SSConfigError

DEFAULT_TAG = ";"


class UnmatchedTagWarning(UserWarning):
    """A configured file holds a tag that no param fills."""


def _check_tag(tag: str) -> str:
    if not isinstance(tag, str) or not tag or any(c.isspace() or c.isalnum() for c in tag):
        raise SSConfigError(
            f"tag {tag!r} is not usable: give one or more punctuation characters, e.g. ';' or '@@'"
        )
    return tag


def configure_text(
    text: str, params: Mapping[str, str], tag: str = DEFAULT_TAG
) -> tuple[str, list[str]]:
    """Return ``text`` with every ``<tag>NAME<tag>`` replaced, and the unmatched names."""
    tag = _check_tag(tag)
    t = re.escape(tag)
    generic = re.compile(t + r"([A-Za-z0-9_][A-Za-z0-9_.\-]*)" + t)
    unmatched = sorted({m.group(1) for m in generic.finditer(text) if m.group(1) not in params})
    if not params:
        return text, unmatched
    names = sorted(params, key=len, reverse=True)
    pattern = re.compile(t + "(" + "|".join(re.escape(n) for n in names) + ")" + t)
    # a function replacement: the value is never parsed for backreferences
    return pattern.sub(lambda m: params[m.group(1)], text), unmatched


def configure_file(
    src: str, dst: str, params: Mapping[str, str], tag: str = DEFAULT_TAG
) -> list[str]:
    """Configure ``src`` into ``dst``; returns the tags no param filled (also warned)."""
    try:
        with open(src, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise GenerationError(
            f"{src} is not a UTF-8 text file and cannot be configured: "
            "attach it with to_copy instead of to_configure"
        ) from exc
    result, unmatched = configure_text(text, params, tag)
    with open(dst, "w", encoding="utf-8", newline="") as handle:
        handle.write(result)
    if unmatched:
        warnings.warn(
            f"{src}: tag(s) {', '.join(tag + n + tag for n in unmatched)} match no param "
            "and were left unchanged",
            UnmatchedTagWarning,
            stacklevel=2,
        )
    return unmatched
