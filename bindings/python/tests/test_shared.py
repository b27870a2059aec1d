"""Tests on data outside the repository: the packages of ../shared and the
R4 examples ($FHIRREG_R4_EXAMPLES, fetched by scripts/fetch-r4-examples.sh).
Each skips with the reason when its data is absent."""

import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

import fhirreg
from conftest import shared

NO_BASIS = "hl7.fhir.no.basis#2.2.3-test"
NO_PATIENT = "http://hl7.no/fhir/ig/StructureDefinition/no-basis-Patient"



def assert_only_the_placeholder_number(outcome):
    """The example's fødselsnummer is a placeholder ("210377xxxxx"): the
    national identifier rules' only error (docs/norway.md)."""
    errors = [(i.message_id, i.expression) for i in outcome.issues if i.severity == "error"]
    assert errors == [("no-id-not-digit", "Patient.identifier[0].value")], repr(outcome)

def test_package_tgz_from_shared():
    tgz = shared("packages", NO_BASIS + ".tgz")
    v = fhirreg.Validator(load=[tgz, shared("packages", "hl7.fhir.no.kodeverk#0.6.0.tgz")])
    with tarfile.open(tgz) as tar:
        example = json.load(tar.extractfile("package/example/Patient-EspenEksempel.json"))
    assert_only_the_placeholder_number(v.validate(example, profile=NO_PATIENT))
    with pytest.raises(fhirreg.UnknownProfileError):
        fhirreg.Validator().validate(example, profile=NO_PATIENT)


def test_package_from_the_package_cache(tmp_path, monkeypatch):
    tgz = shared("packages", NO_BASIS + ".tgz")
    folder = tmp_path / NO_BASIS
    folder.mkdir()
    with tarfile.open(tgz) as tar:
        tar.extractall(folder, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(folder)
    monkeypatch.setenv("FHIR_PACKAGE_CACHE", str(tmp_path))
    v = fhirreg.Validator(packages=[NO_BASIS], profiles=[NO_PATIENT])
    assert v.packages == [NO_BASIS]
    with tarfile.open(tgz) as tar:
        example = json.load(tar.extractfile("package/example/Patient-EspenEksempel.json"))
    assert_only_the_placeholder_number(v.validate(example))
    # The profile applies: a Patient that breaks it is reported against it.
    bad = {"resourceType": "Patient", "gender": "nope"}
    assert any(NO_PATIENT in i.message or i.is_error for i in v.validate(bad).issues)


def r4_examples():
    folder = os.environ.get("FHIRREG_R4_EXAMPLES")
    if not folder or not Path(folder).is_dir():
        pytest.skip("needs $FHIRREG_R4_EXAMPLES (scripts/fetch-r4-examples.sh)")
    return Path(folder)


def test_r4_examples_batch_agrees_with_one_by_one(validator):
    folder = r4_examples()
    files = sorted(p for p in folder.glob("*.json") if p.name not in ("package.json", ".index.json"))[:400]
    data = [p.read_bytes() for p in files]
    batch = validator.validate_many(data)
    single = [validator.validate(d) for d in data]
    assert [o.issues for o in batch] == [o.issues for o in single]
    assert sum(o.valid for o in batch) > len(files) * 0.9
