"""Rendering a reply inside an inbox's email template (E5): the HTML part and the plain-text part.

The preview endpoint and the reply sender both call `render`, so the preview is exactly what is
sent. The HTML follows what Gmail, Outlook and Apple Mail all show the same way: nested tables,
inline CSS only (Gmail drops most <style>), a 600 px column, no scripts, no web fonts.
Every user value is escaped; link targets are re-checked to be http(s).
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from frontdesk.domain.email.template import EmailTemplate, check_url
from frontdesk.domain.errors import InvalidInput
from frontdesk.i18n import CATALOGUE, translate

__all__ = ["RenderedMail", "detect_locale", "render", "sample_reply"]

_FONT = "font-family:Arial,Helvetica,sans-serif"
_TURKISH = set("ğĞışŞİ")


@dataclass(frozen=True)
class RenderedMail:
    html: str
    text: str


def detect_locale(text: str) -> str:
    """The language of a reply's fixed words when nothing else says it: Persian when most letters
    are Arabic-script, Turkish when it has letters only Turkish uses, English otherwise."""
    letters = [c for c in text if c.isalpha()]
    arabic = sum(1 for c in letters if "\u0600" <= c <= "\u06ff" or "\ufb50" <= c <= "\ufeff")
    if letters and arabic * 2 > len(letters):
        return "fa"
    if any(c in _TURKISH for c in text):
        return "tr"
    return "en"


def sample_reply(locale: str) -> str:
    return translate(locale, "email_template.sample_reply")


def _direction_of(text: str, default: str) -> str:
    """ "rtl" or "ltr" by the first letter with a strong direction (as the Unicode bidi algorithm
    picks a paragraph's), else `default`. Each user-written paragraph gets its own, written out as
    dir="…" rather than dir="auto", which Outlook ignores: an English sentence in a Persian mail
    then keeps its full stop at its end instead of being laid out right to left."""
    for c in text:
        kind = unicodedata.bidirectional(c)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return default


def _paragraphs(text: str, style: str, rtl: bool) -> str:
    align = "right" if rtl else "left"
    default = "rtl" if rtl else "ltr"
    blocks = [p.strip("\n") for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(
        f'<p dir="{_direction_of(p, default)}" style="margin:0 0 16px 0;{style};text-align:{align}">'
        f"{html.escape(p).replace(chr(10), '<br>')}</p>"
        for p in blocks
    )


def _link(url: str | None, label: str) -> str | None:
    safe = _safe_url(url)
    if safe is None:
        return None
    return (
        f'<a href="{html.escape(safe, quote=True)}" target="_blank" rel="noopener" '
        f'style="color:#1f6feb;text-decoration:underline">{html.escape(label)}</a>'
    )


def _safe_url(url: str | None) -> str | None:
    # The template was checked when it was saved; checked again so a renderer call can never
    # emit a javascript: or data: link whatever it is given.
    try:
        return check_url(url, "url")
    except InvalidInput:
        return None


def _links_row(links: list[str], style: str) -> str:
    if not links:
        return ""
    sep = '<span style="color:#9aa0a6">&nbsp;&middot;&nbsp;</span>'
    return f'<tr><td align="center" style="padding:8px 32px 0 32px;{style}">{sep.join(links)}</td></tr>'


def render(
    template: EmailTemplate, reply_text: str, locale: str | None, header_image_url: str | None
) -> RenderedMail:
    """The reply `reply_text` in `template`, with fixed words in `locale` (detected from the
    text when None or unknown). `header_image_url` must be absolute for sent mail."""
    if locale not in CATALOGUE:
        locale = detect_locale(reply_text)
    rtl = locale == "fa"
    direction = "rtl" if rtl else "ltr"
    align = "right" if rtl else "left"

    def word(key: str) -> str:
        return translate(locale, f"email_template.{key}")

    body_style = f"{_FONT};font-size:15px;line-height:1.6;color:#1f2328"
    small_style = f"{_FONT};font-size:13px;line-height:1.5;color:#59636e"
    rows: list[str] = []
    image = _safe_url(header_image_url) if template.show_header_image else None
    if image:
        rows.append(
            '<tr><td style="padding:0"><img src="'
            f'{html.escape(image, quote=True)}" width="600" alt="" '
            'style="display:block;width:100%;max-width:600px;height:auto;border:0;outline:none"></td></tr>'
        )
    if template.heading:
        rows.append(
            f'<tr><td style="padding:32px 32px 8px 32px;text-align:{align}">'
            f'<h1 dir="{_direction_of(template.heading, direction)}" style="margin:0;{_FONT};'
            f"font-size:22px;line-height:1.3;color:#1f2328;"
            f'font-weight:bold;text-align:{align}">{html.escape(template.heading)}</h1></td></tr>'
        )
    content = _paragraphs(reply_text, body_style, rtl)
    if template.body_text:
        content += _paragraphs(template.body_text, body_style, rtl)
    top = "16px" if template.heading else "32px"
    rows.append(f'<tr><td style="padding:{top} 32px 8px 32px;text-align:{align}">{content}</td></tr>')
    if template.footnote:
        rows.append(
            '<tr><td style="padding:8px 32px 16px 32px;border-top:1px solid #e6e8eb;'
            f'text-align:{align}">{_paragraphs(template.footnote, small_style, rtl)}</td></tr>'
        )
    apps = [
        _link(template.website_url, word("website")),
        _link(template.app_store_url, word("app_store")),
        _link(template.google_play_url, word("google_play")),
    ]
    legal = [_link(template.terms_url, word("terms")), _link(template.privacy_url, word("privacy"))]
    rows.append(_links_row([a for a in apps if a], small_style))
    rows.append(_links_row([a for a in legal if a], small_style))
    rows.append('<tr><td style="padding:0 0 24px 0;font-size:0;line-height:0">&nbsp;</td></tr>')

    lang = html.escape(locale, quote=True)
    document = (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="color-scheme" content="light only">'
        f"<title>{html.escape(template.subject or template.heading)}</title></head>\n"
        f'<body dir="{direction}" style="margin:0;padding:0;background-color:#f3f4f6">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="background-color:#f3f4f6"><tr><td align="center" style="padding:24px 8px">\n'
        f'<table role="presentation" dir="{direction}" width="600" cellpadding="0" cellspacing="0" '
        'border="0" style="width:100%;max-width:600px;background-color:#ffffff;'
        f'border-collapse:collapse;text-align:{align}">\n'
        + "\n".join(r for r in rows if r)
        + "\n</table>\n</td></tr></table>\n</body></html>\n"
    )
    return RenderedMail(html=document, text=_plain(template, reply_text, word))


def _plain(template: EmailTemplate, reply_text: str, word: Callable[[str], str]) -> str:
    parts: list[str] = []
    if template.heading:
        parts.append(template.heading)
    parts.append(reply_text.replace("\r\n", "\n").strip("\n"))
    if template.body_text:
        parts.append(template.body_text)
    if template.footnote:
        parts.append("--\n" + template.footnote)
    links = [
        (word("website"), template.website_url),
        (word("app_store"), template.app_store_url),
        (word("google_play"), template.google_play_url),
        (word("terms"), template.terms_url),
        (word("privacy"), template.privacy_url),
    ]
    lines = [f"{label}: {url}" for label, url in links if _safe_url(url)]
    if lines:
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
