"""AppTest: the hostile corpus uploaded through the Dataset page gives the same outcome per file as the core
API, shows names as plain text, and never raises."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.hostile_midi import CASES, HOSTILE_TEXT
from tests.support.hostile_uploads import long_but_tiny_zip, long_name
from tests.support.midi_files import make_midi

PAGE = "../../pages/dataset.py"
TIMEOUT = 90


pytestmark = pytest.mark.usefixtures("fresh_server_folders")


def upload(files: list[tuple[str, bytes]]) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    at.radio[0].set_value("Upload MIDI files").run()
    at.file_uploader[0].set_value([(name, data, "audio/midi") for name, data in files]).run()
    assert not at.exception, at.exception
    return at


def report_rows(at: AppTest) -> list[dict]:
    return at.dataframe[0].value.to_dict("records")


def test_every_hostile_case_is_reported_as_expected() -> None:
    cases = {f"{name}.mid": make() for name, make in CASES.items()}
    at = upload([(name, case.data) for name, case in cases.items()])
    rows = report_rows(at)
    assert [row["file"] for row in rows] == list(cases)
    for row, case in zip(rows, cases.values(), strict=True):
        assert row["status"] == ("accepted" if case.loads else "rejected"), row
        if not case.loads:
            assert case.error in row["details"], row
    accepted = [name for name, case in cases.items() if case.loads]
    assert f"{len(accepted)} accepted, {len(cases) - len(accepted)} rejected." in [
        m.value for m in at.markdown
    ]
    assert at.selectbox[0].options == accepted
    assert len(at.get("plotly_chart")) == 7


def test_hostile_file_names_are_shown_as_plain_text() -> None:
    """Streamlit itself refuses a file name with a NUL byte (no browser sends one), so it is left out."""
    hostile = HOSTILE_TEXT.replace("\x00", "")
    at = upload([(f"{hostile}{'x' * 300}.mid", make_midi()), (f"{hostile}.mid", b"junk")])
    shown = [row["file"] for row in report_rows(at)]
    for text in shown:
        assert "\x00" not in text and "\x1b" not in text and len(text) <= 120
    assert shown[1] == "[31m<script>alert(1)</script>../../etc/passwd[0m.mid"
    for element in at.markdown:
        assert not (element.proto.allow_html and "<script>" in element.value)


def zip_of(members: list[tuple[str, bytes]], stored: tuple[str, ...] = ()) -> bytes:
    """A deflated archive; members named in ``stored`` are stored uncompressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data, zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_hostile_zip_members_are_refused_one_by_one() -> None:
    good = make_midi([(60, 0.0, 1.0), (64, 1.0, 2.0)])
    members = [
        ("songs/good.mid", good),
        ("../../escape.mid", good),
        ("/etc/absolute.mid", good),
        ("C:/windows/drive.mid", good),
        ("/".join(["deep"] * 12) + "/nested.mid", good),
        ("bomb.mid", bytes(1 << 20)),
        ("readme.txt", b"hello"),
        ("songs/broken.mid", CASES["delta_time_of_640_kb"]().data),
    ]
    at = upload([("class.zip", zip_of(members, stored=("songs/broken.mid",)))])  # deflated, it looks a bomb
    rows = {row["file"]: row for row in report_rows(at)}
    assert rows["songs/good.mid"]["status"] == "accepted"
    reasons = {
        "../../escape.mid": "leaves the archive",
        "/etc/absolute.mid": "leaves the archive",
        "C:/windows/drive.mid": "leaves the archive",
        "bomb.mid": "zip bomb",
        "readme.txt": "only .mid and .midi",
        "songs/broken.mid": "longer than the 4 bytes",
    }
    for name, reason in reasons.items():
        assert rows[name]["status"] == "rejected" and reason in rows[name]["details"], rows[name]
    nested = next(row for name, row in rows.items() if name.endswith("nested.mid"))
    assert "folders deep" in nested["details"]
    assert at.selectbox[0].options == ["songs/good.mid"]


def test_an_archive_that_is_not_a_zip_is_one_clear_rejection() -> None:
    at = upload([("fake.zip", b"PK\x03\x04" + bytes(64)), ("good.mid", make_midi())])
    rows = {row["file"]: row for row in report_rows(at)}
    assert rows["fake.zip"]["status"] == "rejected"
    assert "not a readable zip archive" in rows["fake.zip"]["details"]
    assert rows["good.mid"]["status"] == "accepted"


def test_the_250_file_zip_answers_with_a_line_per_file() -> None:
    at = upload([long_but_tiny_zip(250)])
    rows = report_rows(at)
    assert len(rows) == 250 and "62 accepted, 188 rejected." in [m.value for m in at.markdown]
    assert all("only its first" in row["details"] for row in rows[:62])
    left_out = "left out: the corpus already holds 500,000 steps"
    assert all(row["details"].startswith(left_out) for row in rows[62:])
    assert len(at.selectbox[0].options) == 62


def test_a_5000_character_name_is_shortened_with_a_note() -> None:
    at = upload([(long_name(), make_midi())])
    (row,) = report_rows(at)
    assert row["status"] == "accepted" and len(row["file"]) <= 120
    assert row["details"].endswith("(its 5,000-character file name was shortened to 255)")


def test_markup_in_a_name_is_escaped_once_in_the_piano_roll_title() -> None:
    at = upload([("<b>x</b> & y.mid", make_midi())])
    title = json.loads(at.get("plotly_chart")[-1].proto.spec)["layout"]["title"]["text"]
    assert title == "Piano-roll of &lt;b&gt;x&lt;/b&gt; &amp; y.mid"  # Plotly shows <b>x</b> & y.mid
