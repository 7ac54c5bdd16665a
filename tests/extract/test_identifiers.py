"""Direct identifiers are found by the documented rule, named, and never printed."""

from __future__ import annotations

import pandas as pd

from reporter.extract.identifiers import find_identifiers
from tests.conftest import read_adult


def test_contact_details_and_numbers_are_flagged_by_what_they_look_like() -> None:
    frame = pd.DataFrame(
        {
            "contact": ["ana@example.org", "bo.li@mail.example.com", "x", None],
            "tel": ["+44 20 7946 0958", "(555) 010-4477", "555.010.9999", "n/a"],
            "tax": ["078-05-1120", "219-09-9999", "457-55-5462", "123-45-6789"],
            "card": ["4111 1111 1111 1111", "5500-0000-0000-0004", "4012888888881881", "1234 5678 9012 3456"],
            "host": ["192.168.0.1", "10.0.0.255", "8.8.8.8", "bad"],
            "city": ["Lyon", "Oslo", "Lima", "Pune"],
            "Last Name": ["A", "B", "C", "D"],
            "zip": [12345, 23456, 34567, 45678],
        }
    )
    found = {f.column: f for f in find_identifiers(frame)}
    assert {c: f.kind for c, f in found.items()} == {
        "contact": "e-mail address",
        "tel": "phone number",
        "tax": "US social security number",
        "card": "payment card number",
        "host": "IP address",
        "Last Name": "named as an identifier",
    }
    assert found["contact"].share == round(2 / 3, 4)  # of the non-missing values
    assert found["card"].share == 0.75  # the last number fails the Luhn check
    assert found["Last Name"].share is None
    assert "ana@example.org" not in repr(found)


def test_the_census_data_has_no_direct_identifiers() -> None:
    assert find_identifiers(read_adult("adult.test", skiprows=1, na_values="?")) == []
