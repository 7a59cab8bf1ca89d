"""Phone numbers as ``tel:`` links (issue 17): the digits a phone dials, worked out by hand here,
and the number shown as people read it."""

from __future__ import annotations

import pytest

from perception.surveys.views.phones import phone_display, tel_href


@pytest.mark.parametrize(
    ("typed", "href"),
    [
        ("13812345678", "tel:13812345678"),
        ("138 1234 5678", "tel:13812345678"),
        ("+86 10 6512-3456", "tel:+861065123456"),
        ("＋86 (10) 6512 3456", "tel:+861065123456"),
        ("010-65123456 转 802", "tel:01065123456,802"),
        ("010-65123456 ext. 12", "tel:01065123456,12"),
        ("(010) 6512 3456 x7", "tel:01065123456,7"),
        ("  ", None),
        (None, None),
        ("n/a", None),
    ],
)
def test_tel_href_keeps_the_digits_and_a_leading_plus(typed, href):
    assert tel_href(typed) == href


def test_a_bare_mobile_number_reads_in_groups_and_others_stay_as_typed():
    assert phone_display("13812345678") == "138 1234 5678"
    assert phone_display("+86 10 6512-3456") == "+86 10 6512-3456"
    assert phone_display(None) == ""
