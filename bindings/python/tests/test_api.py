"""The Validator / Outcome / Issue API."""

import json
import re

import pytest

import fhirreg
from conftest import BAD_PATIENT, BAD_PATIENT_ERRORS, PATIENT, REPO

XML_PATIENT = '<Patient xmlns="http://hl7.org/fhir"><active value="yes"/></Patient>'


def test_version_and_constants():
    assert re.match(r"^\d+\.\d+\.\d+", fhirreg.__version__)
    assert "4.0.1" in fhirreg.SUPPORTED_FHIR_VERSIONS
    assert fhirreg.LANGUAGES == ["en", "nb"]


def test_validate_dict_str_bytes_agree(validator):
    text = json.dumps(BAD_PATIENT)
    outcomes = [
        validator.validate(BAD_PATIENT),
        validator.validate(text),
        validator.validate(text.encode()),
        validator.validate(bytearray(text.encode())),
        validator.validate(memoryview(text.encode())),
    ]
    ids = [[i.message_id for i in o.issues] for o in outcomes]
    assert all(x == ids[0] for x in ids)
    assert not outcomes[0].valid
    assert "boolean-invalid" in ids[0]


def test_valid_resource(validator):
    outcome = validator.validate(PATIENT)
    assert outcome.valid
    assert outcome.error_count == 0
    assert validator.is_valid(PATIENT)
    assert all(not i.is_error for i in outcome.issues)


def test_issue_fields(validator):
    outcome = validator.validate('{"resourceType": "Patient",\n  "active": "yes"}')
    issue = next(i for i in outcome.issues if i.message_id == "boolean-invalid")
    assert issue.severity == "error"
    assert issue.is_error
    assert issue.code == "invalid"
    assert issue.expression == "Patient.active"
    assert (issue.line, issue.column) == (2, 3)
    assert "boolean" in issue.message
    assert issue.java_key == "Type_Specific_Checks_DT_Boolean_Value"
    assert "boolean-invalid" in repr(issue)
    assert str(issue).startswith("2:3: error: ")
    with pytest.raises(AttributeError):
        issue.severity = "warning"


def test_xml(validator):
    outcome = validator.validate(XML_PATIENT)
    assert not outcome.valid
    assert [i.expression for i in outcome.issues if i.is_error] == ["Patient.active"]
    assert validator.is_valid(XML_PATIENT.replace("yes", "true"))


def test_to_dict_is_an_operation_outcome(validator):
    oo = validator.validate(BAD_PATIENT).to_dict()
    assert oo["resourceType"] == "OperationOutcome"
    first = oo["issue"][0]
    assert first["severity"] == "error"
    assert first["details"]["text"]
    urls = [e["url"] for e in first["extension"]]
    assert "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id" in urls
    # A valid resource still gives an OperationOutcome with one issue.
    ok = validator.validate(PATIENT).to_dict()
    assert ok["issue"][0]["severity"] == "information"
    assert json.loads(validator.validate(BAD_PATIENT).to_json()) == oo
    # And the OperationOutcome is itself a valid FHIR resource (its
    # extensions are not R4 core ones: accepted here).
    assert fhirreg.Validator(extensions=["any"]).validate(oo).valid


def test_repr_and_html(validator):
    outcome = validator.validate(BAD_PATIENT)
    text = repr(outcome)
    assert text.startswith(f"<Outcome invalid: {BAD_PATIENT_ERRORS} errors")
    assert "Patient.active" in text
    html = outcome._repr_html_()
    assert html.startswith('<div class="fhirreg-outcome">')
    assert html.count("<tr>") == len(outcome.issues) + 1
    assert "<table>" in html and "boolean-invalid" in html
    # Messages are escaped.
    evil = validator.validate({"resourceType": "Patient", "<b>x</b>": 1})
    assert "<b>x</b>" not in evil._repr_html_()
    assert "&lt;b&gt;" in evil._repr_html_()
    assert repr(validator) == "Validator(fhir_version='4.0.1')"
    assert len(outcome) == len(outcome.issues)


def test_profiles(validator):
    vitals = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "weight"}}
    assert validator.validate(obs).valid
    assert not validator.validate(obs, profile=vitals).valid
    assert not validator.validate(obs, profile=[vitals]).valid
    assert not validator.is_valid(obs, profile=vitals)
    with_profile = fhirreg.Validator(profiles=[vitals])
    assert with_profile.profiles == [vitals]
    assert not with_profile.validate(obs).valid
    assert [o.valid for o in validator.validate_many([obs, obs], profile=vitals)] == [False, False]


def test_extensions_option():
    resource = {"resourceType": "Patient", "extension": [{"url": "http://acme.org/x", "valueString": "a"}]}
    assert not fhirreg.Validator().validate(resource).valid
    assert fhirreg.Validator(extensions=["http://acme.org/"]).validate(resource).valid
    assert fhirreg.Validator(extensions=["any"]).validate(resource).valid


def test_max_issues():
    v = fhirreg.Validator(max_issues=1)
    outcome = v.validate({"resourceType": "Patient", "active": "yes", "gender": "x", "birthDate": "1985-13"})
    assert [i.message_id for i in outcome.issues][-1] == "too-many-issues"
    assert len(outcome.issues) == 2
    assert not outcome.valid


def test_lang():
    assert fhirreg.Validator(lang="en").lang == "en"
    assert fhirreg.Validator(lang="en-GB").lang == "en"
    norsk = fhirreg.Validator(lang="nb-NO")
    assert norsk.lang == "nb"
    outcome = norsk.validate({"resourceType": "Patient", "active": "ja"})
    assert any("En boolean er enten" in i.message for i in outcome.issues)


def test_validate_many_keeps_order(validator):
    resources = [PATIENT if i % 3 else BAD_PATIENT for i in range(300)]
    outcomes = validator.validate_many(resources)
    assert [o.valid for o in outcomes] == [i % 3 != 0 for i in range(300)]
    # Any iterable, any resource kind.
    mixed = validator.validate_many(iter([PATIENT, json.dumps(PATIENT), XML_PATIENT, b"garbage"]))
    assert [o.valid for o in mixed] == [True, True, False, False]
    assert mixed[3].issues[0].severity == "fatal"
    assert validator.validate_many([]) == []


def test_validate_many_single_thread_agrees():
    resources = [PATIENT, BAD_PATIENT, XML_PATIENT] * 20
    a = fhirreg.Validator(threads=1).validate_many(resources)
    b = fhirreg.Validator(threads=2).validate_many(resources)
    assert [x.issues for x in a] == [y.issues for y in b]


def test_validate_ndjson_bytes_and_path(validator, tmp_path):
    lines = [json.dumps(PATIENT), "", json.dumps(BAD_PATIENT), "not json", json.dumps(PATIENT)]
    data = ("\n".join(lines) + "\n").encode()
    outcomes = list(validator.validate_ndjson(data))
    assert [(o.line, o.valid) for o in outcomes] == [(1, True), (3, False), (4, False), (5, True)]
    path = tmp_path / "patients.ndjson"
    path.write_bytes(data)
    from_path = list(validator.validate_ndjson(str(path)))
    assert [o.issues for o in from_path] == [o.issues for o in outcomes]
    assert [o.line for o in validator.validate_ndjson(path)] == [1, 3, 4, 5]
    # The line is in the OperationOutcome too.
    ext = outcomes[1].to_dict()["extension"][0]
    assert ext["valueInteger"] == 3
    with pytest.raises(FileNotFoundError):
        validator.validate_ndjson(tmp_path / "missing.ndjson")


def test_validate_ndjson_streams(validator, tmp_path):
    # 5,000 lines: outcomes come before the whole stream is validated.
    path = tmp_path / "big.ndjson"
    line = json.dumps(BAD_PATIENT) + "\n"
    path.write_text(line * 5000)
    stream = validator.validate_ndjson(path)
    first = next(stream)
    assert first.line == 1 and not first.valid
    assert sum(1 for _ in stream) == 4999


def test_convert(validator):
    xml = validator.convert(PATIENT, to="xml")
    assert xml.startswith("<Patient")
    back = json.loads(validator.convert(xml, to="json"))
    assert back["name"] == PATIENT["name"]
    with pytest.raises(fhirreg.ConfigurationError):
        validator.convert(PATIENT, to="yaml")


def test_terminology(validator):
    gender = "http://hl7.org/fhir/ValueSet/administrative-gender"
    system = "http://hl7.org/fhir/administrative-gender"
    expanded = validator.expand(gender)
    assert expanded["expansion"]["total"] == 4
    assert [c["code"] for c in validator.expand(gender, "fem")["expansion"]["contains"]] == ["female"]
    page = validator.expand(gender, offset=1, count=2)
    assert len(page["expansion"]["contains"]) == 2
    looked = validator.lookup(system, "female")
    assert looked["resourceType"] == "Parameters"
    assert {"name": "display", "valueString": "Female"} in looked["parameter"]

    def result(p):
        return next(x["valueBoolean"] for x in p["parameter"] if x["name"] == "result")

    assert result(validator.validate_code(gender, system, "male"))
    assert not result(validator.validate_code(gender, system, "nope"))
    assert result(validator.validate_code(None, "urn:iso:std:iso:3166", "NO"))
    wrong_display = validator.validate_code(gender, system, "male", display="Female")
    assert any(p["name"] == "message" and "Female" in p["valueString"] for p in wrong_display["parameter"])
    translated = validator.translate(
        "http://hl7.org/fhir/ConceptMap/101", "http://hl7.org/fhir/address-use", "home"
    )
    assert result(translated)
    assert "H" in json.dumps(translated)
    assert validator.subsumes(system, "male", "male")["parameter"][0]["valueCode"] == "equivalent"
    with pytest.raises(fhirreg.TerminologyError):
        validator.expand("http://example.org/ValueSet/none")
    with pytest.raises(fhirreg.TerminologyError):
        validator.lookup(system, "nope")


def test_load_definitions_from_bytes_and_files(tmp_path):
    profile = {
        "resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/named-patient",
        "name": "NamedPatient",
        "status": "active",
        "fhirVersion": "4.0.1",
        "kind": "resource",
        "abstract": False,
        "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Patient.name", "path": "Patient.name", "min": 1}]},
    }
    data = json.dumps(profile).encode()
    url = profile["url"]
    for load in ([("named-patient.json", data)], [data]):
        v = fhirreg.Validator(load=load, profiles=[url])
        assert not v.validate({"resourceType": "Patient"}).valid
        assert v.validate(PATIENT).valid
    path = tmp_path / "named-patient.json"
    path.write_bytes(data)
    for load in ([str(path)], [path], [tmp_path]):
        v = fhirreg.Validator(load=load)
        assert not v.validate({"resourceType": "Patient"}, profile=url).valid


def test_readme_example_files(validator):
    ok = (REPO / "tests/data/patient-example.json").read_bytes()
    bad = (REPO / "tests/data/patient-invalid.json").read_bytes()
    assert [o.valid for o in validator.validate_many([ok, bad])] == [True, False]
