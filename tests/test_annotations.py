"""The annotation value type (domain/annotations.py): the stored and served shape of each kind."""

from __future__ import annotations

import pytest

from frontdesk.domain.annotations import Annotation, AnnotationCode, attachment_left_out, email_unreadable


def test_each_kind_has_its_code_and_parameters_flat() -> None:
    big = attachment_left_out("x.png", 14_000_000, "too_large", 10_485_760, "image/png")
    assert big.as_json() == {
        "code": "attachment_too_large",
        "filename": "x.png",
        "size": 14_000_000,
        "limit": 10_485_760,
    }
    refused = attachment_left_out("a.exe", 20, "type_not_allowed", 10, "application/x-msdownload")
    assert refused.as_json() == {
        "code": "attachment_refused",
        "filename": "a.exe",
        "size": 20,
        "content_type": "application/x-msdownload",
        "reason": "type_not_allowed",
    }
    assert email_unreadable("cut off", "message.eml").as_json() == {
        "code": "email_unreadable",
        "detail": "cut off",
        "original": "message.eml",
    }


def test_a_parameter_cannot_hide_the_code() -> None:
    with pytest.raises(ValueError, match="code"):
        Annotation(AnnotationCode.EMAIL_UNREADABLE, {"code": "other"})
