"""fhirreg.fhirpath."""

from decimal import Decimal

import fhirreg
from fhirreg import fhirpath
from conftest import PATIENT


def test_compile_once_evaluate_many():
    expr = fhirpath.compile("name.given.first()")
    assert expr.source == "name.given.first()"
    assert repr(expr) == "Expression('name.given.first()')" or repr(expr) == 'Expression("name.given.first()")'
    assert [expr.evaluate(PATIENT) for _ in range(3)] == [["Peter"]] * 3
    assert isinstance(expr, fhirpath.Expression)


def test_result_kinds():
    assert fhirpath.evaluate("active", PATIENT) == [True]
    assert fhirpath.evaluate("name.given.count()", PATIENT) == [2]
    assert fhirpath.evaluate("1.5 + 1", PATIENT) == [2.5]
    assert fhirpath.evaluate("birthDate", PATIENT) == ["1974-12-25"]
    assert fhirpath.evaluate("name", PATIENT) == PATIENT["name"]
    assert fhirpath.evaluate("telecom", PATIENT) == []
    assert fhirpath.evaluate("%resource.id", PATIENT) == ["example"]


def test_variables():
    wanted = fhirpath.compile("name.given.where($this in %wanted)")
    assert wanted.evaluate(PATIENT, variables={"wanted": ["James", "Nobody"]}) == ["James"]
    assert fhirpath.evaluate("%d > 1.4", PATIENT, variables={"d": Decimal("1.5")}) == [True]
    other = {"resourceType": "Patient", "id": "other"}
    assert fhirpath.evaluate("%other.id", PATIENT, variables={"other": other}) == ["other"]
    assert fhirpath.evaluate("%nothing.empty()", PATIENT, variables={"nothing": None}) == [True]


def test_xml_and_text():
    xml = '<Patient xmlns="http://hl7.org/fhir"><name><given value="Ann"/></name></Patient>'
    assert fhirpath.evaluate("name.given", xml) == ["Ann"]
    assert fhirpath.evaluate("name.given", xml.encode()) == ["Ann"]


def test_with_a_validator():
    v = fhirreg.Validator()
    assert fhirpath.evaluate("name.family", PATIENT, validator=v) == ["Chalmers"]
    assert fhirpath.compile("gender").evaluate(PATIENT, validator=v) == ["male"]
