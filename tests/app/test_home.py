"""AppTest: the home page renders and explains the studio."""

from streamlit.testing.v1 import AppTest


def test_home_renders_pipeline_and_objective() -> None:
    at = AppTest.from_file("../../streamlit_app.py", default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "GAN Music Studio"
    assert any("min_G" in latex.value for latex in at.latex)
