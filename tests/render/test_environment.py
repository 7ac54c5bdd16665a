"""Untrusted text is shown as text; templates are strict and their errors are located."""

from __future__ import annotations

from pathlib import Path

import markdown
import pytest

from reporter.errors import TemplateError
from reporter.render.environment import code, escape_text, make_environment
from reporter.templating import render_template

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "**bold** _it_ `code` # heading | pipe",
    "{{ 7 * 7 }} {% raw %}",
    'Tom & Jerry\'s "quote"',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_the_same_text(text: str) -> None:
    html = markdown.markdown(str(escape_text(text)), extensions=["tables", "attr_list"])
    assert "<script" not in html and "<img" not in html and "<a " not in html and "<strong>" not in html
    import html as html_lib
    import re

    visible = html_lib.unescape(re.sub(r"<[^>]+>", "", html))
    assert visible.strip() == text


@pytest.mark.parametrize("text", ["plain", "has `ticks` inside", "`starts", "<b>x</b>"])
def test_code_spans_show_their_text_verbatim(text: str) -> None:
    html = markdown.markdown(str(code(text)))
    import html as html_lib
    import re

    inner = re.search(r"<code>(.*)</code>", html).group(1)
    assert html_lib.unescape(inner).strip() == text


def test_values_are_escaped_even_without_a_filter(tmp_path: Path) -> None:
    (tmp_path / "page.md.j2").write_text("# {{ title }}\n")
    env = make_environment(tmp_path)
    out = render_template(env, "page.md.j2", title="{{ 7 * 7 }} <script>")
    assert "49" not in out and "<script>" not in out and "&lt;script&gt;" in out


def test_override_templates_take_precedence(tmp_path: Path) -> None:
    (tmp_path / "compare.md.j2").write_text("overridden {{ records | length }}\n")
    env = make_environment(tmp_path)
    assert render_template(env, "compare.md.j2", records=[1, 2]) == "overridden 2\n"


def test_syntax_errors_name_the_template_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.md.j2").write_text("line one\n{% if %}\n")
    with pytest.raises(TemplateError, match=r"broken\.md\.j2:2: template syntax error"):
        render_template(make_environment(tmp_path), "broken.md.j2")


def test_missing_facts_are_errors_not_blanks(tmp_path: Path) -> None:
    (tmp_path / "strict.md.j2").write_text("ok\n{{ facts.nothing }}\n")
    with pytest.raises(TemplateError, match=r"strict\.md\.j2:2"):
        render_template(make_environment(tmp_path), "strict.md.j2", facts={})
