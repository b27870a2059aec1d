"""Thread safety (validate_many from several threads at once) and pickling."""

import json
import pickle
import threading

import fhirreg
from conftest import BAD_PATIENT, BAD_PATIENT_ERRORS, PATIENT


def test_validate_many_from_several_threads(validator):
    resources = [PATIENT, BAD_PATIENT, json.dumps(PATIENT), b"garbage"] * 50
    expected = [[i.message_id for i in o.issues] for o in validator.validate_many(resources)]
    results = {}
    errors = []

    def work(n):
        try:
            for _ in range(5):
                got = [[i.message_id for i in o.issues] for o in validator.validate_many(resources)]
                assert got == expected
                assert validator.validate(BAD_PATIENT).error_count == BAD_PATIENT_ERRORS
            results[n] = True
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 8


def test_the_gil_is_released(validator):
    # While one thread validates a large batch, another runs Python code.
    resources = [PATIENT] * 3000
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.001)

    t = threading.Thread(target=tick)
    t.start()
    try:
        validator.validate_many(resources)
    finally:
        done.set()
        t.join()
    assert len(ticks) > 1


def test_pickle_round_trip(tmp_path):
    vitals = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
    original = fhirreg.Validator(
        profiles=[vitals],
        extensions=["http://acme.org/"],
        max_issues=5,
        threads=2,
        max_depth=100,
        load=[("extra.json", json.dumps({"resourceType": "Basic", "code": {"text": "x"}}).encode())],
    )
    clone = pickle.loads(pickle.dumps(original))
    assert isinstance(clone, fhirreg.Validator)
    assert clone.config == original.config
    assert clone.config["profiles"] == [vitals]
    assert clone.config["max_issues"] == 5
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    assert [i.message_id for i in clone.validate(obs).issues] == [
        i.message_id for i in original.validate(obs).issues
    ]
    # A validator in a container pickles too (as shipped to workers).
    box = pickle.loads(pickle.dumps({"v": original, "n": 1}))
    assert repr(box["v"]) == repr(original)


def test_pickle_load_paths_are_absolute(tmp_path, monkeypatch):
    (tmp_path / "basic.json").write_text(json.dumps({"resourceType": "Basic", "code": {"text": "x"}}))
    monkeypatch.chdir(tmp_path)
    v = fhirreg.Validator(load=["basic.json"])
    assert v.config["load"] == [str(tmp_path / "basic.json")]
    monkeypatch.chdir("/")
    assert pickle.loads(pickle.dumps(v)).config == v.config
