"""Shared fixtures: the repository's test data, ../shared when present."""

import json
import os
from pathlib import Path

import pytest

import fhirreg

REPO = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("FHIRREG_SHARED", REPO.parent / "shared"))
GOLDEN = REPO / "tests" / "golden"

PATIENT = {
    "resourceType": "Patient",
    "id": "example",
    "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Peter</div>'},
    "active": True,
    "name": [{"family": "Chalmers", "given": ["Peter", "James"]}],
    "gender": "male",
    "birthDate": "1974-12-25",
}
BAD_PATIENT = {"resourceType": "Patient", "active": "yes", "gender": "x"}
# "yes" is a JSON string where a boolean is (json-value-not-boolean) and not
# a boolean's lexical form (boolean-invalid); "x" is not a gender.
BAD_PATIENT_ERRORS = 3


@pytest.fixture(scope="session")
def validator() -> fhirreg.Validator:
    return fhirreg.Validator()


def shared(*parts: str) -> Path:
    """A path under ../shared, or a skip (with the reason) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip("needs %s (../shared is absent)" % path)
    return path


def golden(name: str):
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def golden_input(case) -> bytes:
    if "file" in case:
        return (REPO / case["file"]).read_bytes()
    return case["resource"].encode("utf-8")
