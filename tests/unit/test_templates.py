"""The shipped procedure templates follow SPEC §3, and broken templates are refused with a precise message."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path

import pytest

from checklist_app.domain.catalogue import BalloonProduct, CementProduct
from checklist_app.domain.settings import Settings
from checklist_app.domain.template import Template, TemplateError, load_template
from checklist_app.domain.units import canonical_unit, convert

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"

# SPEC §3 in SPEC order: step id -> (phase, repeat, milestone).
SPEC_STEPS: dict[str, tuple[str, str, str | None]] = {
    "patient_in_room": ("before", "once", "PIR"),
    "identity_consent": ("before", "once", None),
    "prechecks": ("before", "once", None),
    "sign_in": ("before", "once", None),
    "anesthesia_start": ("before", "once", "AS"),
    "antibiotic": ("before", "once", None),
    "prone_positioning": ("before", "once", None),
    "imaging_setup": ("before", "once", None),
    "level_localization": ("before", "per_level", None),
    "skin_prep": ("before", "once", None),
    "time_out": ("before", "once", None),
    "local_anesthetic": ("level", "per_level", None),
    "incision": ("level", "per_level", "PST"),
    "cannula_placement": ("level", "per_side", None),
    "biopsy": ("level", "per_level", None),
    "balloon_inflation": ("level", "per_side", None),
    "balloon_removal": ("level", "per_side", None),
    "cement_injection": ("level", "per_side", None),
    "hardening_wait": ("level", "per_level", None),
    "cannula_removal": ("level", "per_level", None),
    "closure": ("after", "once", None),
    "procedure_finish": ("after", "once", "PF"),
    "radiation_dose": ("after", "once", None),
    "sign_out": ("after", "once", None),
    "anesthesia_finish": ("after", "once", "AF"),
    "patient_out_of_room": ("after", "once", "POR"),
}
BALLOON_STEPS = {"balloon_kit", "balloon_inflation", "balloon_removal"}
PRODUCT_CLASSES = {"cement": CementProduct, "balloon": BalloonProduct}


def shipped() -> list[Path]:
    return sorted(TEMPLATES.glob("*.toml"))


@pytest.fixture(scope="module")
def kypho() -> Template:
    return load_template(TEMPLATES / "kyphoplasty.toml")


@pytest.fixture(scope="module")
def vertebro() -> Template:
    return load_template(TEMPLATES / "vertebroplasty.toml")


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.name)
def test_every_shipped_template_loads(path: Path) -> None:
    template = load_template(path)
    assert template.id == path.stem
    assert template.procedure in ("kyphoplasty", "vertebroplasty")
    assert all(step.help for step in template.steps), "every step has help for the nurse"


def test_both_procedures_are_shipped() -> None:
    assert {p.stem for p in shipped()} >= {"kyphoplasty", "vertebroplasty"}


@pytest.mark.parametrize("name", ["kyphoplasty", "vertebroplasty"])
def test_template_has_every_spec_step_in_spec_order_with_phase_repeat_and_milestone(name: str) -> None:
    template = load_template(TEMPLATES / f"{name}.toml")
    expected = [s for s in SPEC_STEPS if name == "kyphoplasty" or s not in BALLOON_STEPS]
    in_template = [step.id for step in template.steps if step.id in SPEC_STEPS]
    assert in_template == expected
    for step_id in expected:
        step = template.step(step_id)
        assert (step.phase, step.repeat, step.milestone) == SPEC_STEPS[step_id], step_id


def test_phases_run_before_then_level_then_after(kypho: Template, vertebro: Template) -> None:
    for template in (kypho, vertebro):
        phases = [step.phase for step in template.steps]
        assert phases == sorted(phases, key=("before", "level", "after").index)


def test_balloon_steps_exist_only_in_kyphoplasty(kypho: Template, vertebro: Template) -> None:
    assert all(kypho.has_step(step_id) for step_id in BALLOON_STEPS)
    assert not any(vertebro.has_step(step_id) for step_id in BALLOON_STEPS)


def test_steps_shared_by_both_procedures_are_identical(kypho: Template, vertebro: Template) -> None:
    assert [s.id for s in vertebro.steps] == [s.id for s in kypho.steps if s.id not in BALLOON_STEPS]
    for step in vertebro.steps:
        if step.id == "level_outcome":  # only a kyphoplasty level can be converted to vertebroplasty
            continue
        assert _without_procedure_words(step) == _without_procedure_words(kypho.step(step.id)), step.id


def _without_procedure_words(step):
    """A step with the time-out's implants label set aside: a vertebroplasty's never names balloon kits."""
    if step.id != "time_out":
        return step
    fields = tuple(replace(f, label="") if f.id == "implants_available" else f for f in step.fields)
    return replace(step, fields=fields)


def test_a_vertebroplasty_time_out_never_mentions_balloon_kits(kypho: Template, vertebro: Template) -> None:
    """SPEC §7: a vertebroplasty note never mentions balloons; nor does its checklist in the room."""
    assert vertebro.step("time_out").field("implants_available").label == "Implants available (cement)"
    assert "balloon" in kypho.step("time_out").field("implants_available").label
    for step in vertebro.steps:
        words = [step.title, step.help, *(f.label for f in step.fields), *(f.help or "" for f in step.fields)]
        words += [c.label for f in step.fields for c in f.choices]
        assert not any("balloon" in w.lower() for w in words if w), step.id


def test_a_vertebroplasty_level_can_be_abandoned_but_not_converted(kypho: Template, vertebro: Template) -> None:
    outcomes = {t.id: [c.value for c in t.step("level_outcome").field("outcome").choices] for t in (kypho, vertebro)}
    assert outcomes == {"kyphoplasty": ["converted_to_vertebroplasty", "abandoned"], "vertebroplasty": ["abandoned"]}
    converted = kypho.step("level_outcome").field("outcome").choices[0]
    assert set(converted.waives) == {"balloon_inflation", "balloon_removal"}


INVASIVE = ("local_anesthetic", "incision", "cannula_placement")


def test_every_invasive_step_and_everything_later_is_gated_on_the_time_out(kypho: Template, vertebro: Template) -> None:
    """SPEC §3 (Joint Commission UP.01.03.01): no local anaesthetic, incision, cannula or later step
    before a completed time-out."""
    for template in (kypho, vertebro):
        level_steps = [s for s in template.steps if s.phase == "level" and s.repeat != "any" and not s.on_demand]
        assert {s.id for s in level_steps} >= set(INVASIVE)
        for step in level_steps:
            gates = {g.id: g for g in step.gates}
            assert "time_out" in gates, step.id
            gate = gates["time_out"]
            assert (gate.requires, gate.scope, gate.countdown) == ("time_out", "case", None)
            assert gate.message == "WHO time-out not completed: no invasive step before the time-out"


def test_a_cement_injection_is_gated_on_its_batch_window(kypho: Template, vertebro: Template) -> None:
    for template in (kypho, vertebro):
        gates = {g.id: g for g in template.step("cement_injection").gates}
        assert gates["batch_window"].kind == "batch_window"


def test_cannula_removal_is_gated_on_the_hardening_countdown(kypho: Template, vertebro: Template) -> None:
    for template in (kypho, vertebro):
        gate = {g.id: g for g in template.step("cannula_removal").gates}["hardening"]
        assert (gate.id, gate.requires, gate.scope, gate.countdown) == (
            "hardening",
            "hardening_wait",
            "level",
            "hardening",
        )
        assert "hardening countdown" in gate.message


def test_only_biopsy_is_optional_and_its_answers_depend_on_taken(kypho: Template) -> None:
    assert [step.id for step in kypho.steps if step.optional] == ["biopsy"]
    biopsy = kypho.step("biopsy")
    assert biopsy.field("taken").type == "bool" and biopsy.field("taken").required
    for field_id in ("side", "container", "label_read_back", "sent"):
        assert biopsy.field(field_id).required_if == "taken"
        assert not biopsy.field(field_id).required


def test_antibiotic_records_drug_and_dose_when_given_or_a_reason(kypho: Template) -> None:
    step = kypho.step("antibiotic")
    assert step.field("given").type == "bool"
    assert step.field("drug").required_if == "given"
    assert step.field("dose").required_if == "given" and step.field("dose").unit == "mg"
    assert step.field("not_given_reason").type == "text" and not step.field("not_given_reason").required


def test_numbers_the_nurse_types_have_clinical_limits_and_warnings(kypho: Template) -> None:
    gauge = kypho.step("cannula_placement").field("gauge")
    assert (gauge.type, gauge.unit, gauge.min, gauge.max, gauge.typical) == (
        "integer",
        "G",
        6,
        18,
        "catalogue:cannula_gauge",
    )
    cement = kypho.step("cement_injection").field("volume")
    assert (cement.unit, cement.min, cement.max, cement.warn_above) == (
        "mL",
        0.5,
        12,
        "setting:cement_volume_warn_ml",
    )
    pressure = kypho.step("balloon_inflation").field("pressure")
    assert (pressure.unit, pressure.accept_units, pressure.min, pressure.max) == ("psi", ("psi", "atm"), 0, 700)
    assert pressure.warn_above == "product:max_pressure_psi"
    kap = kypho.step("radiation_dose").field("kap")
    assert kap.unit == "Gy·cm²"
    assert set(kap.accept_units) == {"Gy·cm²", "dGy·cm²", "mGy·cm²", "cGy·cm²", "µGy·m²"}


def test_cement_injection_records_batch_leak_and_symptoms(kypho: Template) -> None:
    step = kypho.step("cement_injection")
    assert step.field("batch").type == "batch"
    leak = step.field("leak")
    # SPEC §3: none, or one or more of the leak sites.
    assert leak.type == "multi" and leak.exclusive == ("none",)
    assert [c.value for c in leak.choices] == [
        "none",
        "venous",
        "ivc_azygos",
        "pulmonary",
        "paravertebral",
        "intradiscal",
        "epidural",
        "foraminal",
        "needle_tract",
    ]
    assert step.field("symptomatic").type == "bool" and step.field("symptomatic").required


def test_alcohol_based_skin_preps_are_recognisable_by_their_value(kypho: Template) -> None:
    values = [c.value for c in kypho.step("skin_prep").field("agent").choices]
    assert {"chlorhexidine_alcohol", "povidone_iodine_alcohol"} <= set(values)
    assert any(not v.endswith("_alcohol") for v in values), "aqueous preps are offered too"


def test_implant_steps_name_their_catalogue(kypho: Template) -> None:
    assert kypho.step("cement_mix").field("product").catalogue == "cement"
    assert kypho.step("balloon_kit").field("product").catalogue == "balloon"
    assert kypho.step("balloon_inflation").field("kit").record == "balloon_kit"
    assert kypho.step("cement_injection").field("batch").record == "cement_mix"
    assert kypho.step("time_out").field("team").type == "staff"


def test_no_step_asks_for_a_time_because_the_event_time_is_the_clinical_time(kypho: Template) -> None:
    assert not [(s.id, f.id) for s in kypho.steps for f in s.fields if f.id == "time" or f.type == "time"]


def test_every_unit_is_known_and_every_accepted_unit_converts_to_it(kypho: Template) -> None:
    for step in kypho.steps:
        for spec in step.fields:
            if spec.unit is None:
                continue
            assert canonical_unit(spec.unit) == spec.unit, (step.id, spec.id)
            for accepted in spec.accept_units:
                assert convert(1.0, accepted, spec.unit) > 0, (step.id, spec.id, accepted)


def test_warning_references_name_a_real_setting_or_product_limit(kypho: Template) -> None:
    settings = {f.name for f in dataclasses.fields(Settings)}
    for step in kypho.steps:
        products = [f.catalogue for f in step.fields if f.type == "product"]
        for spec in step.fields:  # or the product of the batch or kit the step refers to
            if spec.type == "batch":
                record = kypho.step(spec.record)
                products += [f.catalogue for f in record.fields if f.type == "product"]
        for spec in step.fields:
            if not isinstance(spec.warn_above, str):
                continue
            kind, name = spec.warn_above.split(":", 1)
            if kind == "setting":
                assert name in settings, (step.id, spec.id)
            else:
                assert len(products) == 1, (step.id, spec.id)
                limits = {f.name for f in dataclasses.fields(PRODUCT_CLASSES[products[0]])}
                assert name in limits, (step.id, spec.id)


def test_required_if_always_points_at_a_yes_no_answer(kypho: Template) -> None:
    for step in kypho.steps:
        for spec in step.fields:
            if spec.required_if is not None:
                assert step.field(spec.required_if).type == "bool", (step.id, spec.id)


def test_choices_have_human_labels(kypho: Template) -> None:
    for step in kypho.steps:
        for spec in step.fields:
            for choice in spec.choices:
                assert choice.label and choice.label != choice.value, (step.id, spec.id, choice.value)


# A small valid template; each broken case changes one thing in it.
MINI = """
[template]
id = "mini"
name = "Mini"
procedure = "kyphoplasty"
version = 1

[[steps]]
id = "time_out"
title = "WHO Time Out"
phase = "before"

[[steps]]
id = "cannula_placement"
title = "Cannula placed"
phase = "level"
repeat = "per_side"

[[steps.fields]]
id = "approach"
label = "Approach"
type = "choice"
choices = ["transpedicular"]

[[steps.fields]]
id = "gauge"
label = "Gauge"
type = "integer"
unit = "G"
min = 8
max = 15

[[steps.fields]]
id = "tip_ok"
label = "Tip confirmed"
type = "bool"

[[steps.fields]]
id = "remark"
label = "Remark"
type = "text"
required = false
required_if = "tip_ok"

[[steps.gates]]
id = "time_out"
requires = "time_out"
scope = "case"
message = "no cannula before the time-out"
"""

BROKEN = {
    "bad_toml": (('[template]\nid = "mini"', '[template\nid = "mini"'), ["not valid TOML"]),
    "missing_id": (('id = "cannula_placement"\n', ""), ["step #2", "'id'"]),
    "unknown_phase": (('phase = "level"', 'phase = "during"'), ["step 'cannula_placement'", "'phase'", "during"]),
    "duplicate_step": (('id = "cannula_placement"', 'id = "time_out"'), ["step 'time_out'", "defined twice"]),
    "per_side_outside_level": (('phase = "level"', 'phase = "after"'), ["step 'cannula_placement'", "per_side"]),
    "choice_without_choices": (('choices = ["transpedicular"]', ""), ["field 'approach'", "'choices'"]),
    "number_without_unit": (('unit = "G"\n', ""), ["field 'gauge'", "'unit'"]),
    "min_above_max": (("min = 8\nmax = 15", "min = 15\nmax = 8"), ["field 'gauge'", "'min'", "'max'"]),
    "gate_requires_unknown_step": (
        ('requires = "time_out"', 'requires = "timeout"'),
        ["step 'cannula_placement'", "gate 'time_out'", "'timeout'"],
    ),
    "bad_required_if": (
        ('required_if = "tip_ok"', 'required_if = "tip_confirmed"'),
        ["step 'cannula_placement'", "field 'remark'", "required_if", "'tip_confirmed'"],
    ),
    "required_if_not_yes_no": (
        ('required_if = "tip_ok"', 'required_if = "gauge"'),
        ["field 'remark'", "required_if", "yes/no", "'gauge'"],
    ),
    "required_not_true_false": (("required = false", 'required = "no"'), ["field 'remark'", "'required'"]),
    "max_length_not_a_number": (
        ("required = false", 'required = false\nmax_length = "long"'),
        ["field 'remark'", "max_length"],
    ),
    "unknown_accepted_unit": (
        ('unit = "G"', 'unit = "G"\naccept_units = ["G", "furlong"]'),
        ["field 'gauge'", "furlong"],
    ),
    "unknown_countdown": (
        ('scope = "case"', 'scope = "case"\ncountdown = "egg_timer"'),
        ["gate 'time_out'", "countdown"],
    ),
}


def test_the_small_template_the_broken_cases_start_from_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(MINI, encoding="utf-8")
    assert [s.id for s in load_template(path).steps] == ["time_out", "cannula_placement"]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_template_is_refused_naming_file_step_and_field(tmp_path: Path, case: str) -> None:
    (old, new), expected = BROKEN[case]
    assert MINI.count(old) == 1, "each broken case changes exactly one place"
    path = tmp_path / f"{case}.toml"
    path.write_text(MINI.replace(old, new), encoding="utf-8")
    with pytest.raises(TemplateError) as refused:
        load_template(path)
    message = str(refused.value)
    assert str(path) in message
    for part in expected:
        assert part in message, (part, message)


def test_missing_template_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(TemplateError, match=r"absent\.toml"):
        load_template(path)
