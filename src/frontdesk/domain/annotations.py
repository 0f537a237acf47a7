"""Annotations: what the system has to say about a message (a file left out, a mail that could
not be read whole), kept beside the message as a code and its parameters, never inside the
customer's text. The text stays what the customer wrote, so the list preview and search show
only that; the dashboard words each annotation in the agent's language.

A producer builds one with the constructors below (a new kind: a member of AnnotationCode, a
constructor here, and its sentence in the dashboard's locales; until then the dashboard shows a
generic line) and hands it to the ingest action with the message (InboundMessage.annotations).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "Annotation",
    "AnnotationCode",
    "Param",
    "attachment_left_out",
    "email_unreadable",
]

Param = str | int | None


class AnnotationCode(StrEnum):
    # A file of the message was larger than the attachment limit: filename, size, limit (bytes).
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    # A file of the message was refused for another reason: filename, size, content_type and
    # reason (type_not_allowed, empty_file, content_mismatch, file_name_too_long, or another
    # refusal code).
    ATTACHMENT_REFUSED = "attachment_refused"
    # The mail could not be read completely: detail (the parser's words, technical), original
    # (the file name the whole mail is attached as).
    EMAIL_UNREADABLE = "email_unreadable"


@dataclass(frozen=True)
class Annotation:
    code: AnnotationCode
    params: Mapping[str, Param] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "code" in self.params:
            raise ValueError("an annotation's parameters cannot be named code")

    def as_json(self) -> dict[str, Param]:
        """The stored and served shape: {"code": …, **params}."""
        return {"code": self.code.value, **self.params}


def attachment_left_out(filename: str, size: int, refusal: str, limit: int, content_type: str) -> Annotation:
    """A file that was not kept; `refusal` is the machine code of why (too_large, type_not_allowed …)."""
    if refusal == "too_large":
        return Annotation(
            AnnotationCode.ATTACHMENT_TOO_LARGE, {"filename": filename, "size": size, "limit": limit}
        )
    return Annotation(
        AnnotationCode.ATTACHMENT_REFUSED,
        {"filename": filename, "size": size, "content_type": content_type, "reason": refusal},
    )


def email_unreadable(detail: str, original: str) -> Annotation:
    return Annotation(AnnotationCode.EMAIL_UNREADABLE, {"detail": detail, "original": original})
