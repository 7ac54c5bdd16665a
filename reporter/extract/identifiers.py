"""Direct identifiers in a data file: columns whose values look like e-mail addresses, phone
numbers, US social security numbers, payment card numbers or IP addresses, or whose name says
they hold names or identity numbers.

A documented rule rather than a library: Presidio's analyzer engine fetches a spaCy model, and its
e-mail recognizer, which works alone, first tries to download the public suffix list; a build
makes no network requests. The rule only reads text
columns (numbers stored as numbers are measurements, not identifiers), flags a column when at
least `MATCH_SHARE` of its non-missing values match one pattern, and reports the share, never a
value.
"""

from __future__ import annotations

import re

import pandas as pd

from reporter.facts import IdentifierFinding

MATCH_SHARE = 0.5
PATTERNS: dict[str, str] = {
    "e-mail address": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "US social security number": r"\d{3}-\d{2}-\d{4}",
    "payment card number": r"(?:\d[ -]?){13,19}",
    "IP address": r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)",
    "phone number": r"\+?\(?\d{1,4}\)?(?:[\s.-]?\(?\d{2,4}\)?){2,5}",
}
"""Most specific first: a column is flagged as the first kind enough of its values match (an SSN
also looks like a phone number)."""
IDENTIFYING_NAMES = frozenset(
    {
        "name", "first_name", "firstname", "given_name", "last_name", "lastname", "surname", "family_name",
        "full_name", "fullname", "email", "e_mail", "email_address", "phone", "phone_number", "telephone",
        "mobile", "ssn", "social_security_number", "passport", "passport_number", "national_id", "address",
        "street_address", "ip_address", "credit_card", "card_number", "iban",
    }
)  # fmt: skip
RULE = (
    f"text columns with at least {MATCH_SHARE:.0%} of their values matching one pattern ("
    + ", ".join(PATTERNS)
    + "), and columns named as holding names, contact details or identity numbers"
)


def _digits_ok(kind: str, value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    if kind == "phone number":
        return 7 <= len(digits) <= 15
    if kind == "payment card number":
        total = sum(
            d if i % 2 == 0 else (2 * d - 9 if 2 * d > 9 else 2 * d) for i, d in enumerate(map(int, digits[::-1]))
        )
        return total % 10 == 0  # Luhn check
    return True


def _share(values: pd.Series, kind: str, pattern: str) -> float:
    matched = values.str.fullmatch(pattern)
    hits = [_digits_ok(kind, v) for v in values[matched]]
    return sum(hits) / len(values)


def find_identifiers(frame: pd.DataFrame) -> list[IdentifierFinding]:
    """Columns that look like direct identifiers, by the documented `RULE`."""
    findings = []
    for column in frame.columns:
        name = re.sub(r"[^a-z0-9]+", "_", str(column).lower()).strip("_")
        if name in IDENTIFYING_NAMES:
            findings.append(IdentifierFinding(column=str(column), kind="named as an identifier", share=None))
            continue
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        values = series.dropna().astype(str).str.strip()
        if values.empty:
            continue
        for kind, pattern in PATTERNS.items():
            share = _share(values, kind, pattern)
            if share >= MATCH_SHARE:
                findings.append(IdentifierFinding(column=str(column), kind=kind, share=round(share, 4)))
                break
    return findings
