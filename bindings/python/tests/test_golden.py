"""The golden cases of tests/golden (shared with crates/fhirreg/tests/golden.rs):
the Python package gives the same answers as the Rust facade."""

import pytest

import fhirreg
from conftest import golden, golden_input

VALIDATE = golden("validate.json")
FHIRPATH = golden("fhirpath.json")


@pytest.mark.parametrize("case", VALIDATE, ids=[c["name"] for c in VALIDATE])
def test_validation(case):
    options = case.get("options", {})
    validator = fhirreg.Validator(extensions=options.get("extensions"))
    expected = case["expected"]
    data = golden_input(case)
    profiles = case.get("profiles")
    if expected.get("error") == "parse":
        with pytest.raises(fhirreg.ParseError) as info:
            validator.validate(data, profile=profiles)
        assert (info.value.line, info.value.column) == (expected["line"], expected["column"])
        return
    if expected.get("error") == "unknown-profile":
        with pytest.raises(fhirreg.UnknownProfileError):
            validator.validate(data, profile=profiles)
        return
    outcome = validator.validate(data, profile=profiles)
    got = [
        {
            "severity": i.severity,
            "code": i.code,
            "message_id": i.message_id,
            "message": i.message,
            "expression": i.expression or "",
            "line": i.line,
            "column": i.column,
        }
        for i in outcome.issues
    ]
    assert outcome.valid == expected["valid"]
    assert got == expected["issues"]
    # The same through the batch path.
    assert validator.validate_many([data], profile=profiles)[0].issues == outcome.issues


@pytest.mark.parametrize("case", FHIRPATH, ids=[c["expression"] for c in FHIRPATH])
def test_fhirpath(case):
    expected = case["expected"]
    data = golden_input(case)
    if expected.get("error") == "syntax":
        with pytest.raises(fhirreg.FhirPathSyntaxError) as info:
            fhirreg.fhirpath.compile(case["expression"])
        assert (info.value.line, info.value.column) == (expected["line"], expected["column"])
        return
    expression = fhirreg.fhirpath.compile(case["expression"])
    if expected.get("error") == "evaluation":
        with pytest.raises(fhirreg.FhirPathError):
            expression.evaluate(data, case.get("variables"))
        return
    assert expression.evaluate(data, case.get("variables")) == expected["result"]
