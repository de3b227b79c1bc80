"""Names in every script a patient's name may be written in print in embedded fonts, shaped, in order, and read back."""

from __future__ import annotations

import io
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import SimpleDocTemplate

from checklist_app.note import fonts, note_content, render_pdf
from checklist_app.note.layout import markup, paragraph
from checklist_app.note.styles import styles
from tests.conftest import setup_kwargs
from tests.note.note_cases import pdf_pages
from tests.note.pdf_fonts import drawn, drawn_text

# Synthetic, obviously fake names, one per script (the patient; the operator gets the same name).
NAMES = {
    "latin": "Zoë O'Brien-Łukasiewicz",
    "greek": "Γιώργος Παπαδόπουλος",
    "cyrillic": "Иван Петров",
    "vietnamese": "Nguyễn Thị Hương",
    "chinese": "王小明",
    "japanese": "山田花子",
    "korean": "김민준",
    "devanagari": "राम शर्मा",
    "thai": "สมชาย ใจดี",
    "arabic": "محمد أحمد",
    "hebrew": "דוד כהן",
}
FONT_OF = {
    "chinese": "DroidSansFallback",
    "japanese": "DroidSansFallback",
    "korean": "NotoSansCJKkr",
    "devanagari": "NotoSansDevanagari",
    "thai": "NotoSansThai",
    "arabic": "NotoSansArabic",
    "hebrew": "NotoSansHebrew",
}


def note_for(service, patient: str, staff: str, mrn: str = "TEST0001") -> bytes:
    """The note of a case started through the service for `patient`, with `staff` as operator and assistant."""
    team = {"operator": staff, "nurse": "Nurse Dana Demo", "anaesthesia": "Dr Gita Demo", "assistants": [staff]}
    patient_fields = {"name": patient, "weight_kg": 70.0, "mrn": mrn, "date_of_birth": "1950-04-01", "sex": "female"}
    case_id = service.start_case(**setup_kwargs(patient=patient_fields, team=team)).case_id
    return render_pdf(note_content(service.state(case_id)))


def small_pdf(*texts: str) -> bytes:
    """A page of note paragraphs (the note's own markup and styles), one per text."""
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, invariant=1).build([paragraph(markup(t), styles().body) for t in texts])
    return buffer.getvalue()


@pytest.mark.parametrize("script", sorted(NAMES))
def test_patient_and_staff_names_in_every_script_print_in_embedded_fonts_and_read_back(service, script):
    name = NAMES[script]
    pdf = note_for(service, name, name)
    text = "".join(pdf_pages(pdf))
    assert text.count(name) >= 3  # header of page 1, team table (operator, assistant)
    codes = drawn(pdf)
    assert all(d.glyph is not None for d in codes), "every font is embedded"
    assert [d for d in codes if d.glyph == 0] == [], "no code is drawn with the .notdef glyph (a tofu box)"
    for ch in set(name) - {" "}:
        font = fonts.font_for(ch)
        assert font is not None and ord(ch) in pdfmetrics.getFont(font.name).face.charToGlyph, ch
    if script in FONT_OF:
        assert any(FONT_OF[script] in d.font for d in codes)


def test_arabic_patient_name_is_shaped_and_extractable(service):
    pdf = note_for(service, NAMES["arabic"], "Dr Ada Demo")
    assert NAMES["arabic"] in "".join(pdf_pages(pdf))
    arabic = [d for d in drawn(pdf) if "NotoSansArabic" in d.font]
    # محمد starts with an initial meem and has a medial one: two different glyphs both reading as م.
    assert len({d.glyph for d in arabic if d.text == "م"}) >= 2
    # Every letter of محمد is drawn in a joining form, none as the isolated letter its code maps to.
    font = _chain_font("NoteArabic")
    shaped, _ = font.shape("محمد", 10, rtl=True)
    drawn_glyphs = [font.face.charToGlyph[ord(ch)] for ch in shaped]
    isolated = [font.face.charToGlyph[ord(ch)] for ch in reversed("محمد")]
    assert all(a != b for a, b in zip(drawn_glyphs, isolated, strict=True))


def _chain_font(name: str):
    fonts.register(next(f for f in fonts.CHAIN if f.name == name))
    return pdfmetrics.getFont(name)


@pytest.mark.parametrize("script", ["arabic", "hebrew"])
def test_right_to_left_name_is_drawn_right_to_left_and_reads_back_in_logical_order(script):
    name = NAMES[script]
    line = f"Patient {name} (MRN 12345) arrived"
    pdf = small_pdf(line)
    order = drawn_text(pdf)
    # Drawn left to right: the Latin words, then the name's letters last-first, then the MRN.
    visual = name[::-1]
    assert order.index("Patient") < order.index(visual) < order.index("12345") < order.index("arrived")
    # pypdf puts right-to-left stretches back in logical order; numbers and Latin stay as drawn.
    extracted = "".join(pdf_pages(pdf))
    assert name in extracted and "MRN 12345" in extracted and name[::-1] not in extracted


def test_right_to_left_name_with_its_own_digits_keeps_the_digits_left_to_right():
    pdf = small_pdf("דוד כהן 123")
    # Numbers inside right-to-left text read left to right: drawn as "123", then the name reversed.
    assert drawn_text(pdf).replace(" ", "").startswith("123ןהכדוד")


LONG_ARABIC = "عبد الرحمن بن محمد بن عبد الله الأنصاري"


def narrow_pdf(text: str, width: float) -> bytes:
    """`text` as a note paragraph laid out in a column `width` points wide."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, invariant=1, leftMargin=72, rightMargin=595 - 72 - width)
    doc.build([paragraph(markup(text, fit=(width, styles().body.fontSize)), styles().body)])
    return buffer.getvalue()


def test_a_right_to_left_name_wider_than_its_column_wraps_first_words_first():
    pdf = narrow_pdf(LONG_ARABIC, 80)  # narrower than "عبد الرحمن بن محمد" at the body's 8.5 pt
    order = drawn_text(pdf)
    # Lines are drawn top to bottom: the first words of the name are on the first line.
    assert order.index("الرحمن"[::-1]) < order.index("محمد"[::-1])
    assert [d for d in drawn(pdf) if d.glyph == 0] == []
    lines = [line for line in "".join(pdf_pages(pdf)).splitlines() if line.strip()]
    assert len(lines) > 1 and " ".join(lines) == LONG_ARABIC  # each line reads back in logical order


def test_a_right_to_left_word_wider_than_its_column_is_split_without_boxes():
    pdf = narrow_pdf("محمد" * 12, 60)
    assert [d for d in drawn(pdf) if d.glyph == 0] == []


def test_devanagari_vowel_sign_i_is_drawn_before_its_consonant_and_reads_back_after():
    font = _chain_font("NoteDevanagari")
    shaped, _ = font.shape("कि", 10, rtl=False)
    glyphs = [font.face.charToGlyph[ord(ch)] for ch in shaped]
    # Two glyphs: the vowel sign (a form sized to its consonant) on the left, then the consonant.
    assert len(glyphs) == 2 and glyphs[1] == font.face.charToGlyph[0x0915] != glyphs[0]
    pdf = small_pdf("किरण शर्मा")
    assert "किरण शर्मा" in "".join(pdf_pages(pdf))


def test_devanagari_reph_is_a_glyph_of_its_own_and_the_cluster_reads_back_whole():
    pdf = small_pdf(NAMES["devanagari"])
    deva = [d for d in drawn(pdf) if "NotoSansDevanagari" in d.font]
    assert "र्मा" in {d.text for d in deva}  # the cluster ra-virama-ma-aa is one piece of text
    assert NAMES["devanagari"] in "".join(pdf_pages(pdf))


def test_thai_tone_mark_is_positioned_by_the_font():
    shaped, _ = _chain_font("NoteThai").shape("ปั้น", 10, rtl=False)
    # The tone mark moves left, off the tall stem of ป (GPOS mark positioning), and does not advance.
    offsets = [(d.x_offset, d.x_advance) for d in shaped.__shapeData__]
    assert any(x < 0 and advance == 0 for x, advance in offsets)


def test_a_thai_mark_moved_beside_a_tall_consonant_reads_back_without_a_gap():
    # ป and ฟ have tall stems: the font moves the vowel and tone marks left, off the stem.
    pdf = small_pdf("ปิ่น ฟ้า ปั้น")
    assert "ปิ่น ฟ้า ปั้น" in "".join(pdf_pages(pdf))


def test_an_arabic_name_with_shadda_reads_back_in_order_even_next_to_digits():
    # A run whose first drawn glyph is a raised mark (shadda) once made reportlab 5.1 fail.
    pdf = small_pdf("Dr محمّد عزّ ٢ and بّ٢")
    assert [d for d in drawn(pdf) if d.glyph == 0] == []
    assert "محمّد عزّ" in "".join(pdf_pages(pdf))


def test_a_character_no_font_has_prints_as_its_code_point():
    pdf = small_pdf("Tesfaye ሀ")  # Ethiopic: not in the chain
    text = "".join(pdf_pages(pdf))
    assert "[U+1200]" in text
    assert [d for d in drawn(pdf) if d.glyph == 0] == []


def test_a_private_use_character_typed_by_someone_prints_as_its_code_point_not_a_stand_in():
    small_pdf("محمد")  # shaping has handed out stand-ins in the supplementary private use planes
    pdf = small_pdf("Ann \U000f0000")
    assert "[U+F0000]" in "".join(pdf_pages(pdf))


def test_invisible_format_characters_are_left_out_of_the_drawing():
    # Isolates (refused in names, possible in free text) have no glyph in any font of the chain.
    pdf = small_pdf("Anna Maria \u2067Smith\u2069, \u202eseen")
    assert [d for d in drawn(pdf) if d.glyph == 0] == []
    assert "Anna Maria Smith, seen" in "".join(pdf_pages(pdf))


def test_names_in_several_scripts_render_to_the_same_bytes_whatever_was_printed_before(service):
    team = {"operator": NAMES["devanagari"], "nurse": NAMES["thai"], "anaesthesia": NAMES["korean"]}
    patient = {"name": NAMES["arabic"], "weight_kg": 70.0, "mrn": "TEST0001", "date_of_birth": "1950-04-01"}
    case_id = service.start_case(**setup_kwargs(patient=patient, team=team)).case_id
    content = note_content(service.state(case_id))
    first = render_pdf(content)
    note_for(service, "ปั้น กุ้ง " + NAMES["hebrew"], "क्षत्रिय श्री किरण")  # other clusters, other stand-ins
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("checklist_app.note.shaping.RESET_AFTER", 0)  # every font starts its table afresh
        assert render_pdf(content) == first
    assert render_pdf(content) == first


def test_every_name_character_is_in_the_font_the_chain_gives_it():
    for name in NAMES.values():
        for ch in name:
            font = fonts.font_for(ch)
            assert font is not None, f"U+{ord(ch):04X} {unicodedata.name(ch)}"


# Letters, marks, joiners, digits and punctuation of every script above, mixed at random.
ALPHABET = "".join(
    dict.fromkeys(
        "AaZzéŁłO'Brien-αβγΩάΐЖжЁёăâđêôơưạảấầẩẫậ\u0301\u0303\u0323"
        "王小明山田花子佐々木﨑髙あいうカタナー김민준한국\u1100\u1161\u11a8"
        "रामशर्मािीुूेैोौंँः्क्षत्रज्ञ\u200c\u200d"
        "สมชายใจดีปั้นกุ้งน้ำ่้๊๋ั"
        "محمدأحمدلاإعبدالله\u064e\u0650\u0651یک"
        "דוכהןשָׁ"
        "0123456789٠١٢ -'.,()"
    )
)
names = st.text(alphabet=ALPHABET, min_size=1, max_size=24).map(str.strip).filter(bool)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patient=names, staff=names)
def test_any_mix_of_these_scripts_renders_without_error_and_without_a_box(service, patient, staff):
    codes = drawn(note_for(service, patient, staff))
    assert all(d.glyph is not None for d in codes)
    assert [d for d in codes if d.glyph == 0] == []


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=ALPHABET + "    ", min_size=1, max_size=80), width=st.sampled_from([30, 60, 120, 400]))
def test_any_mix_of_these_scripts_wraps_in_any_column_width_without_error_or_box(text, width):
    codes = drawn(narrow_pdf(text.strip() or "x", width))
    assert [d for d in codes if d.glyph == 0] == []
