"""AppTest: the home page renders and explains the studio."""

from streamlit.testing.v1 import AppTest


def home() -> AppTest:
    return AppTest.from_file("../../streamlit_app.py", default_timeout=30).run()


def text_of(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_home_renders_pipeline_and_objective() -> None:
    at = home()
    assert not at.exception
    assert at.title[0].value == "GAN Music Studio"
    assert any("min_G" in latex.value for latex in at.latex)


def test_home_explains_the_symbols_the_loss_used_and_that_generate_works_at_once() -> None:
    """Defect 11: no word on E, p_z and z, on the non-saturating loss, or on going straight to Generate."""
    words = text_of(home())
    for symbol in ("z ~ p_z", "E[…]", "x ~ p_data", "D(G(z))"):
        assert symbol in words, symbol
    assert "non-saturating" in words and "shipped model was trained" in words
    assert "straight to Generate" in words
    assert "harmonise a melody" in words  # the four-voice model is one pick away
