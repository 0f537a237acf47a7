"""Building the email of an agent's reply: multipart/alternative (plain text and HTML),
threading headers, Reply-To with the conversation's token, attachments.

With the inbox's email template (E5) both parts are the template's rendering (mail/template.py,
the same call the dashboard's preview makes); without one, the HTML part is a simple, escaped
copy of the text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from frontdesk.domain.email.template import EmailTemplate
from frontdesk.mail.template import render

__all__ = [
    "MailAddress",
    "ReplyFile",
    "ReplyMail",
    "ReplyTemplate",
    "build_reply",
    "reply_subject",
    "text_to_html",
]

# Headers longer than this are cut: a References chain grows with every reply.
MAX_REFERENCES = 20


@dataclass(frozen=True)
class MailAddress:
    name: str
    address: str


@dataclass(frozen=True)
class ReplyFile:
    file_name: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ReplyTemplate:
    """The inbox's saved template; its header image URL is absolute (mail clients fetch it)."""

    template: EmailTemplate
    header_image_url: str | None = None
    locale: str | None = None  # None: the fixed words follow the reply's own language


@dataclass(frozen=True)
class ReplyMail:
    sender: MailAddress
    to: Sequence[MailAddress]
    cc: Sequence[MailAddress]
    subject: str
    text: str
    message_id_domain: str
    in_reply_to: str | None = None  # without <>
    references: Sequence[str] = ()  # without <>, oldest first
    reply_to: str | None = None
    files: Sequence[ReplyFile] = ()
    template: ReplyTemplate | None = None


def reply_subject(subject: str) -> str:
    """ "Re: <subject>", without piling up prefixes on a subject that already has one."""
    subject = " ".join(subject.split())
    if not subject:
        return "Re:"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def text_to_html(text: str) -> str:
    """The reply as a small HTML document: escaped, paragraphs kept, direction from the text
    itself (a Persian reply reads right to left)."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join(
        f'<p dir="auto" style="margin:0 0 1em 0">{html.escape(p).replace(chr(10), "<br>")}</p>'
        for p in paragraphs
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f'<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5">\n'
        f"{body}\n</body></html>\n"
    )


def _address(value: MailAddress) -> Address:
    # Address refuses line breaks and splits the address itself; a bad one raises ValueError.
    local, _, domain = value.address.rpartition("@")
    if not local or not domain:
        raise ValueError(f"not an email address: {value.address!r}")
    return Address(display_name=value.name, username=local, domain=domain)


def _ids(values: Sequence[str]) -> str:
    return " ".join(f"<{v.strip('<>')}>" for v in values if v.strip("<> "))


def build_reply(reply: ReplyMail) -> tuple[EmailMessage, str]:
    """The message and its Message-ID (without <>). Raises ValueError for an unusable address."""
    if not reply.to:
        raise ValueError("a reply needs a recipient")
    msg = EmailMessage()
    message_id = make_msgid(domain=reply.message_id_domain)
    msg["Message-ID"] = message_id
    msg["Date"] = formatdate(localtime=False)
    msg["From"] = _address(reply.sender)
    msg["To"] = [_address(a) for a in reply.to]
    if reply.cc:
        msg["Cc"] = [_address(a) for a in reply.cc]
    msg["Subject"] = reply.subject.replace("\r", " ").replace("\n", " ")
    if reply.reply_to:
        msg["Reply-To"] = _address(MailAddress("", reply.reply_to))
    if reply.in_reply_to:
        msg["In-Reply-To"] = _ids([reply.in_reply_to])
    references = [*reply.references, *([reply.in_reply_to] if reply.in_reply_to else [])]
    if references:
        # The first (the thread's root) and the latest ones, as RFC 5322 suggests when trimming.
        kept = references if len(references) <= MAX_REFERENCES else [references[0], *references[-19:]]
        msg["References"] = _ids(list(dict.fromkeys(kept)))
    # Our replies must not start an auto-reply war either (RFC 3834).
    msg["Auto-Submitted"] = "no"
    if reply.template is None:
        msg.set_content(reply.text)
        msg.add_alternative(text_to_html(reply.text), subtype="html")
    else:
        wrap = reply.template
        rendered = render(wrap.template, reply.text, wrap.locale, wrap.header_image_url)
        msg.set_content(rendered.text)
        msg.add_alternative(rendered.html, subtype="html")
    for file in reply.files:
        maintype, _, subtype = file.content_type.partition("/")
        msg.add_attachment(
            file.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=file.file_name,
        )
    return msg, message_id.strip("<>")
