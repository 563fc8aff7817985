"""AppTest: the Glossary page defines the studio's words, and its filter finds them."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.studio.glossary import TERMS

PAGE = "../../pages/glossary.py"
REQUIRED = (
    "GAN",
    "Generator",
    "Discriminator",
    "D(x)",
    "D(G(z))",
    "Piano-roll",
    "SVM",
    "Two-sample",
    "Temperature",
)


def headings(at: AppTest) -> list[str]:
    return [m.value.split("\n")[0] for m in at.markdown if m.value.startswith("#### ")]


def test_every_term_the_class_meets_is_defined() -> None:
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    shown = headings(at)
    assert len(shown) == len(TERMS)
    for word in REQUIRED:
        assert any(word in heading for heading in shown), word


def test_the_filter_finds_a_symbol_and_says_when_nothing_matches() -> None:
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.text_input[0].input("D(G(z))").run()
    assert headings(at) and all("D(G(z))" in m.value for m in at.markdown if m.value.startswith("#### "))
    at.text_input[0].input("xylophone").run()
    assert not headings(at)
    assert "No entry mentions" in at.info[0].value


def test_the_glossary_is_in_the_navigation() -> None:
    at = AppTest.from_file("../../streamlit_app.py", default_timeout=30).run()
    at.switch_page("pages/glossary.py").run()
    assert not at.exception
    assert at.title[0].value == "Glossary"
