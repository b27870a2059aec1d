"""fhirreg.spark in Spark local mode, on a DataFrame of a few thousand
resources. Needs pyspark and pyarrow (pip install fhirreg[spark]) and Java
17+; scripts/test.sh installs them and sets FHIRREG_REQUIRE_SPARK=1, so there
a missing piece fails instead of skipping."""

import json
import os
import shutil
import sys

import pytest

import fhirreg
from conftest import BAD_PATIENT, BAD_PATIENT_ERRORS, PATIENT

REQUIRED = os.environ.get("FHIRREG_REQUIRE_SPARK") == "1"


def _need(module):
    try:
        return __import__(module)
    except ImportError:
        if REQUIRED:
            raise
        pytest.skip("needs %s (pip install fhirreg[spark])" % module)


@pytest.fixture(scope="module")
def spark():
    _need("pyarrow")
    _need("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if REQUIRED:
            pytest.fail("Spark needs Java 17+ (java on PATH or JAVA_HOME)")
        pytest.skip("needs Java 17+ for Spark")
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("fhirreg-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "500")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def resources(n):
    out = []
    for i in range(n):
        if i % 10 == 0:
            out.append(json.dumps(BAD_PATIENT))
        elif i % 10 == 1:
            out.append('<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>')
        elif i % 10 == 2:
            out.append("not a resource")
        elif i % 10 == 3:
            out.append(None)
        else:
            p = dict(PATIENT, id="p%d" % i)
            out.append(json.dumps(p))
    return out


def test_validate_column(spark):
    from fhirreg import spark as fhirreg_spark

    data = resources(3000)
    df = spark.createDataFrame([(i, r) for i, r in enumerate(data)], "id long, resource string").repartition(4)
    checked = fhirreg_spark.validate(df, "resource")
    assert checked.columns == ["id", "resource", "valid", "error_count", "issues"]
    rows = {r["id"]: r for r in checked.collect()}
    assert len(rows) == 3000
    local = fhirreg.Validator()
    for i in (0, 1, 2, 4, 2999):
        outcome = local.validate_many([data[i]])[0]
        row = rows[i]
        assert row["valid"] == outcome.valid, i
        assert row["error_count"] == outcome.error_count
        assert [x["message_id"] for x in row["issues"]] == [x.message_id for x in outcome.issues]
        for got, issue in zip(row["issues"], outcome.issues):
            assert (got["severity"], got["line"], got["column"], got["expression"], got["message"]) == (
                issue.severity, issue.line, issue.column, issue.expression, issue.message)
    assert rows[3]["valid"] is None and rows[3]["issues"] is None
    counts = {r["valid"]: r["count"] for r in checked.groupBy("valid").count().collect()}
    assert counts == {True: 2100, False: 600, None: 300}
    # The issues column is queryable with Spark SQL.
    from pyspark.sql import functions as F

    ids = checked.select(F.explode("issues").alias("i")).where("i.severity = 'error'").groupBy("i.message_id").count()
    assert {r["message_id"]: r["count"] for r in ids.collect()}["boolean-invalid"] == 300


def test_profiles_binary_and_struct_columns(spark):
    from fhirreg import spark as fhirreg_spark

    vitals = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
    obs = json.dumps({"resourceType": "Observation", "status": "final", "code": {"text": "x"}})
    df = spark.createDataFrame([(bytearray(obs.encode()),)] * 20, "resource binary")
    plain = fhirreg_spark.validate(df, "resource").collect()
    profiled = fhirreg_spark.validate(df, "resource", profile=vitals).collect()
    assert all(r["valid"] for r in plain)
    assert not any(r["valid"] for r in profiled)
    # A struct column (JSON read with a schema) is written back as JSON.
    struct_df = spark.read.json(spark.sparkContext.parallelize([json.dumps(BAD_PATIENT)] * 5))
    struct_df = struct_df.selectExpr("struct(*) as resource")
    rows = fhirreg_spark.validate(struct_df, "resource").collect()
    assert [r["error_count"] for r in rows] == [BAD_PATIENT_ERRORS] * 5
    assert "resource" in fhirreg_spark.validate(struct_df, "resource").columns


def test_configuration_and_errors(spark):
    from fhirreg import spark as fhirreg_spark

    df = spark.createDataFrame([(json.dumps({"resourceType": "Patient", "extension": [{"url": "http://acme.org/x", "valueString": "a"}]}),)], "resource string")
    accepting = fhirreg.Validator(extensions=["http://acme.org/"])
    assert fhirreg_spark.validate(df, "resource", validator=accepting).first()["valid"]
    assert not fhirreg_spark.validate(df, "resource").first()["valid"]
    with pytest.raises(ValueError):
        fhirreg_spark.validate(df, "nope")
    with pytest.raises(fhirreg.UnknownProfileError):
        fhirreg_spark.validate(df, "resource", profile="http://example.org/nope")
    with pytest.raises(ValueError):
        fhirreg_spark.validate(df.withColumn("valid", df["resource"]), "resource")
