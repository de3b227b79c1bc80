"""The note's vocabulary rules (SPEC §7): each test is named after the rule it holds the note to."""

from __future__ import annotations

from checklist_app.note import note_content, render_pdf
from checklist_app.note.model import Table
from checklist_app.note.tables import DEVICES_HEADING
from checklist_app.note.words import access, lower_first
from tests.conftest import setup_kwargs
from tests.note.note_cases import body_text, finish, pdf_pages, record_default, squash, walk


def every_word(content) -> str:
    """All the words of all three documents, with the table headers, captions and sub-headings."""
    extra = [
        " ".join([*b.header, b.caption, *(b.totals or ())])
        for s in content.sections
        for b in s.blocks
        if isinstance(b, Table)
    ]
    return "\n".join([content.plain_text(), *extra])


def test_a_vertebroplasty_note_never_mentions_balloons(vertebro):
    state, content = vertebro
    assert [d.key for d in content.documents] == ["report", "nursing", "audit"]
    assert "balloon" not in every_word(content).lower()
    assert "balloon" not in "".join(pdf_pages(render_pdf(content))).lower()
    # The shared time-out item names balloon kits in the template: the note words it for the procedure.
    assert "implants available (cement)" in content.section("WHO checks").blocks[0].rows[1][1].lower()


def test_a_vertebroplasty_note_never_mentions_balloons_even_before_anything_is_recorded(service):
    content = note_content(service.start_case(**setup_kwargs("vertebroplasty")))
    assert "balloon" not in every_word(content).lower()


def test_a_removed_balloon_is_a_device_not_an_implant(kypho):
    _, content = kypho
    table = next(b for b in content.section("Implants").blocks if isinstance(b, Table))
    (heading,) = table.groups
    implants, devices = table.rows[:heading], table.rows[heading + 1 :]
    assert table.rows[heading][0] == DEVICES_HEADING == "Devices used (not implanted)"
    assert {r[0] for r in implants} == {"Bone cement"} and {r[0] for r in devices} == {"Balloon kit"}
    kit = devices[0]
    assert kit[1].startswith("Example inflatable bone tamp") and kit[2] == "BK12345" and "(01)" in kit[4]
    # Printed: the kits under their own caption, after the cement, with the column headings again.
    body = body_text(pdf_pages(render_pdf(content)), content)
    start = body.index(squash("Implants Item Product Lot Expiry UDI (GS1) Use"))
    devices_at = body.index(squash(f"{DEVICES_HEADING} Item Product Lot Expiry UDI (GS1) Use"), start)
    assert body.index("CM0001", start) < devices_at < body.index("BK12345", devices_at)


def _case_with_approaches(service, clock, approaches: dict[tuple[str, str], str], levels=None) -> str:
    case_id = service.start_case(**setup_kwargs(levels=levels)).case_id
    special = {
        ("cannula_placement", level, side): (lambda a=approach: record_default(service, clock, case_id, approach=a))
        for (level, side), approach in approaches.items()
    }
    walk(service, clock, case_id, special)
    return case_id


def test_a_level_whose_sides_used_different_approaches_is_bilateral_never_bipedicular(service, clock):
    case_id = _case_with_approaches(service, clock, {("T12", "left"): "extrapedicular"})
    finish(service, clock, case_id, findings={"findings": "Good fill."})
    state = service.state(case_id)
    assert access(state, "T12", ("left", "right")) == "bilateral"
    assert access(state, "L1", ("left", "right")) == "bipedicular", "both sides transpedicular"
    content = note_content(state)
    procedure = content.section("Procedure").blocks[0].rows[0][1]
    assert procedure == "Balloon kyphoplasty, T12 (bilateral) and L1 (bipedicular)"
    labels = [b.label for b in content.section("Technique").blocks]
    assert "T12 (bilateral)." in labels and "L1 (bipedicular)." in labels
    assert "T12 (bipedicular)" not in every_word(content)


def test_bipedicular_means_both_sides_transpedicular_and_one_side_is_unipedicular_or_unilateral(service, clock):
    levels = [{"level": "T12", "sides": ["left", "right"]}, ("L1", "left"), ("L2", "right")]
    approaches = {
        ("T12", "left"): "costotransverse",
        ("T12", "right"): "costotransverse",
        ("L2", "right"): "extrapedicular",
    }
    state = service.state(_case_with_approaches(service, clock, approaches, levels))
    assert access(state, "T12", ("left", "right")) == "bilateral", "the same approach, but not transpedicular"
    assert access(state, "L1", ("left",)) == "unipedicular, left"
    assert access(state, "L2", ("right",)) == "unilateral, right"


def test_a_level_planned_but_not_yet_reached_is_bilateral_until_its_approaches_are_recorded(service):
    state = service.start_case(**setup_kwargs())
    assert access(state, "T12", ("left", "right")) == "bilateral"
    assert "bipedicular" not in note_content(state).plain_text()


def test_the_sacrum_wording_has_no_pedicle(service, clock):
    levels = [{"level": "S1", "sides": ["left", "right"]}]
    draft = service.start_case(**setup_kwargs("vertebroplasty", levels=levels))
    assert "pedic" not in every_word(note_content(draft)).lower()
    assert access(draft, "S1", ("left", "right")) == "bilateral"
    case_id = _case_with_approaches(service, clock, {}, levels)  # the nurse records the template's approach
    finish(service, clock, case_id, findings={"findings": "Good fill."})
    state = service.state(case_id)
    assert access(state, "S1", ("left", "right")) == "bilateral", "never bipedicular: the sacrum has no pedicles"
    text = every_word(note_content(state))
    for label in (c.label for c in state.template.step("cannula_placement").field("approach").choices):
        text = text.replace(label, "").replace(lower_first(label), "")  # what the nurse chose prints as chosen
    assert "pedic" not in text.lower()
