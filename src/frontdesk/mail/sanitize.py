"""Sanitising the HTML of incoming mail before an agent's browser sees it: nothing runs, nothing
is submitted, and nothing remote loads until the agent asks for it."""

from __future__ import annotations

import html as html_lib
import re

import nh3

# Mail is laid out with tables and inline styles; these are kept. Scripts, styles, forms,
# iframes, objects and event handlers are not in the lists, so nh3 drops them.
_TAGS = set(nh3.ALLOWED_TAGS) | {"font", "tfoot"}
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"style", "dir", "lang", "title", "align", "valign", "width", "height", "bgcolor"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing", "align", "width", "summary"},
}
# CSS that can fetch (background-image, list-style-image, content, …) is left out on purpose.
_STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "text-align",
    "text-decoration",
    "text-transform",
    "line-height",
    "letter-spacing",
    "white-space",
    "direction",
    "unicode-bidi",
    "vertical-align",
    "margin",
    "margin-top",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "padding",
    "padding-top",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "border",
    "border-top",
    "border-bottom",
    "border-left",
    "border-right",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "border-radius",
    "width",
    "max-width",
    "min-width",
    "height",
    "max-height",
    "display",
}
_DROPPED_WITH_CONTENT = {"script", "style", "title", "head"}
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_DROPPED_WITH_CONTENT,
    attributes=_ATTRIBUTES,
    url_schemes={"http", "https", "mailto", "tel", "cid", "data"},
    filter_style_properties=_STYLE_PROPERTIES,
    # Relative and scheme-relative ("//host/x.png") URLs would load from somewhere unknown.
    url_relative="deny",
)
# nh3 serialises every attribute as name="value", which makes these rewrites reliable.
# Attribute values may contain ">" (html5ever escapes only & " and nbsp in them), so the tag is
# matched attribute by attribute.
_IMG = re.compile(r'<img\b(?:\s+[^\s"=/>]+(?:="[^"]*")?)*\s*/?>', re.IGNORECASE)
_REMOTE_SRC = re.compile(r'\ssrc="((?:https?:)[^"]*)"', re.IGNORECASE)
_DATA_SRC = re.compile(r'\ssrc="data:(?!image/(?:png|jpeg|gif|webp)[;,])[^"]*"', re.IGNORECASE)
_CID_SRC = re.compile(r'\ssrc="cid:(?:&lt;)?([^"&]*)(?:&gt;)?"', re.IGNORECASE)


def _rewrite_img(match: re.Match[str]) -> str:
    tag = match.group(0)
    tag = _DATA_SRC.sub("", tag)  # only inline raster images; data:image/svg+xml can carry script
    tag = _CID_SRC.sub(lambda m: f' src="cid:{m.group(1).strip()}"', tag)
    # Remote images wait in data-src: the dashboard moves them to src when the agent asks.
    return _REMOTE_SRC.sub(lambda m: f' data-src="{m.group(1)}"', tag)


# Malformed markup that an HTML parser resolves by swallowing the text after it; mail is often
# cut or hand-made, and losing what the customer wrote is worse than showing a stray "<".
_CDATA = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|$)", re.DOTALL)
# The cleaner drops an element it does not allow but keeps its text, except for names it knows
# from SVG and MathML (svg, text, g, path, mi, desc…), whose text goes too. Renamed, every element
# it would drop is one it does not know (x-text), so only its tags go; the ones whose content
# must go (scripts, styles) keep their names.
_KNOWN = _TAGS | _DROPPED_WITH_CONTENT
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)")
_COMMENT_END = re.compile(r"--!?>")


def _escape_open_comments(html: str) -> str:
    """A comment that never ends would hide everything after it: its opener becomes text."""
    pos = 0
    while (start := html.find("<!--", pos)) != -1:
        end = _COMMENT_END.search(html, start + 2)
        if end is None:
            html = html[:start] + "&lt;!--" + html[start + 4 :]
            pos = start + 7
        else:
            pos = end.end()
    return html


def _repair(html: str) -> str:
    """The same document with the text that malformed markup would hide turned into text."""
    html = _CDATA.sub(lambda m: html_lib.escape(m.group(1), quote=False), html)
    html = _escape_open_comments(html)
    # A tag still open at the end (no ">" after its "<") is dropped with all it spans.
    last = html.rfind(">")
    html = html[: last + 1] + html[last + 1 :].replace("<", "&lt;")
    return _TAG.sub(_rename_unknown, html)


def _rename_unknown(match: re.Match[str]) -> str:
    slash, name = match.groups()
    return match.group(0) if name.lower() in _KNOWN else f"<{slash}x-{name}"


def sanitize_html(html: str) -> str:
    """Safe HTML to show an agent: see the module docstring. Text after malformed markup (an
    unclosed tag or comment, CDATA) is kept as text."""
    return _IMG.sub(_rewrite_img, _CLEANER.clean(_repair(html)))
