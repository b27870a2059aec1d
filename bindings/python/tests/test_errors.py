"""Bad input and bad configuration raise the right FhirRegError subclass;
no Rust panic reaches Python."""

import json
import math
import pickle
from decimal import Decimal

import pytest

import fhirreg
from fhirreg import errors


def test_hierarchy():
    assert issubclass(fhirreg.FhirRegError, ValueError)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), fhirreg.FhirRegError)
    assert issubclass(fhirreg.InputTypeError, TypeError)
    assert issubclass(fhirreg.FhirPathSyntaxError, fhirreg.FhirPathError)
    assert fhirreg.ParseError.__module__ == "fhirreg.errors"


@pytest.mark.parametrize(
    "text, line, column",
    [
        ('{"resourceType": "Patient",', 1, 28),
        ('{"resourceType": "Patient",\n "active": @\n}', 2, 12),
        ("hello", 1, 1),
        ("", 1, 1),
        ("<Patient xmlns='http://hl7.org/fhir'><active value='true'>", 1, 59),
    ],
)
def test_not_json_is_a_parse_error_with_position(validator, text, line, column):
    with pytest.raises(fhirreg.ParseError) as info:
        validator.validate(text)
    assert (info.value.line, info.value.column) == (line, column), str(info.value)
    assert "line %d" % line in str(info.value)
    # The predicate says False instead of raising.
    assert validator.is_valid(text) is False


@pytest.mark.parametrize(
    "resource",
    [None, 42, 4.2, ["resourceType"], {"resourceType"}, object()],
    ids=["None", "int", "float", "list", "set", "object"],
)
def test_wrong_python_types(validator, resource):
    with pytest.raises(fhirreg.InputTypeError) as info:
        validator.validate(resource)
    assert "must be a dict, str or bytes" in str(info.value)
    with pytest.raises(TypeError):
        validator.validate_many([resource])


@pytest.mark.parametrize(
    "resource, where, cls",
    [
        ({"resourceType": "Patient", "name": [{"given": {"a"}}]}, "resource['name'][0]['given']", fhirreg.InputTypeError),
        ({"resourceType": "Patient", 1: "x"}, "resource", fhirreg.InputTypeError),
        ({"resourceType": "Patient", "x": object()}, "resource['x']", fhirreg.InputTypeError),
        ({"resourceType": "Observation", "valueQuantity": {"value": math.nan}}, "resource['valueQuantity']['value']", fhirreg.ParseError),
        ({"resourceType": "Patient", "x": "\ud800"}, "resource['x']", fhirreg.ParseError),
    ],
)
def test_dicts_that_are_not_json(validator, resource, where, cls):
    with pytest.raises(cls) as info:
        validator.validate(resource)
    assert str(info.value).startswith(where.replace("'", '"') + ":"), str(info.value)


def test_dict_values_that_are_json(validator):
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "valueQuantity": {"value": Decimal("1.50"), "unit": "kg"},
        "component": (),
    }
    outcome = validator.validate(obs)
    # The tuple is an (empty) array, reported as such; the Decimal is read.
    assert [i.message_id for i in outcome.issues if i.is_error] == ["json-empty-array"]
    big = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueInteger": 2**70}
    assert not validator.validate(big).valid  # read, then out of range


def test_deeply_nested_dict(validator):
    deep = {}
    node = deep
    for _ in range(100_000):
        node["extension"] = [{}]
        node = node["extension"][0]
    resource = {"resourceType": "Patient", "extension": [deep]}
    with pytest.raises(fhirreg.ParseError) as info:
        validator.validate(resource)
    assert "depth limit" in str(info.value)
    assert "more" in str(info.value)  # the path is cut
    # In a batch it is that resource's fatal issue; the others go on.
    outcomes = validator.validate_many([resource, {"resourceType": "Patient"}])
    assert outcomes[0].issues[0].severity == "fatal"
    assert outcomes[1].valid
    assert validator.is_valid(resource) is False


def test_self_referencing_dict(validator):
    loop = {"resourceType": "Patient"}
    loop["contained"] = [loop]
    with pytest.raises(fhirreg.ParseError):
        validator.validate(loop)


def test_deeply_nested_json_text(validator):
    text = '{"resourceType": "Patient", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(fhirreg.ParseError) as info:
        validator.validate(text)
    assert info.value.line == 1


def test_huge_documents():
    small = fhirreg.Validator(max_size=100_000)
    huge = {"resourceType": "Patient", "name": [{"family": "x" * 200_000}]}
    with pytest.raises(fhirreg.ParseError) as info:
        small.validate(huge)
    assert "limit of 100000 bytes" in str(info.value)
    with pytest.raises(fhirreg.ParseError):
        small.validate(json.dumps(huge))
    # Over the default limit (256 MiB) as bytes: refused before reading.
    default = fhirreg.Validator()
    blob = b'{"resourceType":"Binary","data":"' + b"A" * (257 << 20) + b'"}'
    with pytest.raises(fhirreg.ParseError) as info:
        default.validate(blob)
    assert (info.value.line, info.value.column) == (1, 1)
    del blob


def test_configuration_errors(tmp_path, monkeypatch):
    with pytest.raises(fhirreg.ConfigurationError):
        fhirreg.Validator(fhir_version="5.0.0")
    with pytest.raises(fhirreg.ConfigurationError) as info:
        fhirreg.Validator(lang="tlh")
    assert "supported: en, nb" in str(info.value)
    with pytest.raises(fhirreg.UnknownProfileError) as info:
        fhirreg.Validator(profiles=["http://example.org/StructureDefinition/nope"])
    assert info.value.profile == "http://example.org/StructureDefinition/nope"
    with pytest.raises(fhirreg.UnknownProfileError):
        fhirreg.Validator().validate({"resourceType": "Patient"}, profile="http://example.org/nope")
    with pytest.raises(fhirreg.UnknownProfileError):
        fhirreg.Validator().validate_many([{"resourceType": "Patient"}], profile="http://example.org/nope")
    monkeypatch.setenv("FHIR_PACKAGE_CACHE", str(tmp_path))
    with pytest.raises(fhirreg.UnknownPackageError):
        fhirreg.Validator(packages=["no.such.package#1.0.0"])
    with pytest.raises(fhirreg.LoadError):
        fhirreg.Validator(load=[tmp_path / "missing.json"])
    with pytest.raises(fhirreg.InputTypeError):
        fhirreg.Validator(packages="hl7.fhir.no.basis#2.2.3")
    with pytest.raises(fhirreg.InputTypeError):
        fhirreg.Validator(profiles=[1])
    with pytest.raises(fhirreg.InputTypeError):
        fhirreg.Validator(load=[42])
    with pytest.raises(fhirreg.InputTypeError):
        fhirreg.Validator().validate_many("not a list")


def test_fhirpath_errors(validator):
    with pytest.raises(fhirreg.FhirPathSyntaxError) as info:
        fhirreg.fhirpath.compile("name.given.where(")
    assert (info.value.line, info.value.column) == (1, 18)
    with pytest.raises(fhirreg.FhirPathError):
        fhirreg.fhirpath.evaluate("name.given + 'x'", {"resourceType": "Patient", "name": [{"given": ["a", "b"]}]})
    with pytest.raises(fhirreg.ParseError):
        fhirreg.fhirpath.evaluate("name", "garbage")
    with pytest.raises(fhirreg.FhirPathError):
        fhirreg.fhirpath.evaluate("%v", {"resourceType": "Patient"}, variables={"v": {"a": 1}})
    with pytest.raises(fhirreg.InputTypeError):
        fhirreg.fhirpath.evaluate("%v", {"resourceType": "Patient"}, variables={"v": {1, 2}})


def test_exceptions_pickle():
    err = fhirreg.ParseError("bad", 3, 4)
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), back.line, back.column, str(back)) == (fhirreg.ParseError, 3, 4, str(err))
    prof = pickle.loads(pickle.dumps(fhirreg.UnknownProfileError("x", "http://p")))
    assert prof.profile == "http://p"


def test_a_rust_panic_is_an_internal_error(validator):
    from fhirreg import _fhirreg

    for released in (False, True):
        with pytest.raises(fhirreg.InternalError) as info:
            _fhirreg._panic_for_tests(released)
        assert "test panic" in str(info.value)
    # Everything still works afterwards.
    assert validator.validate({"resourceType": "Patient"}).valid
