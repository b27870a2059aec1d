"""Validate FHIR resources in a Spark DataFrame.

>>> from fhirreg import spark as fhirreg_spark
>>> checked = fhirreg_spark.validate(df, "resource")        # doctest: +SKIP
>>> checked.groupBy("valid").count().show()                 # doctest: +SKIP

:func:`validate` adds three columns to the DataFrame:

* ``valid`` (boolean): no error or fatal issue;
* ``error_count`` (int): the number of error and fatal issues;
* ``issues`` (array of struct ``severity``, ``code``, ``message_id``,
  ``message``, ``expression``, ``line``, ``column``): every issue.

A row whose resource is null gets nulls. It runs with ``mapInArrow``: each
Python worker process of each executor builds one :class:`fhirreg.Validator`
(from the configuration of the one given, or the FHIR R4 core) the first time
it needs it and keeps it for every later batch and task; the resources of a
batch are validated in Rust with the GIL released. Spark decides the
parallelism (one task per core), so each validator runs on one thread
unless its configuration says otherwise (``threads=``).

Needs ``pip install fhirreg[spark]`` (pyspark and pyarrow) on the driver and
``fhirreg`` on every executor (the same wheel). On a cluster::

    spark-submit --master yarn \\
        --conf spark.executorEnv.FHIR_PACKAGE_CACHE=/shared/fhir-packages \\
        --py-files my_job.py my_job.py
"""

import pickle
from typing import TYPE_CHECKING, Any, Dict, Iterator, Optional, Sequence, Union

from fhirreg._fhirreg import Validator

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow
    from pyspark.sql import DataFrame

__all__ = ["validate", "ISSUE_FIELDS", "OUTPUT_COLUMNS"]

#: The columns :func:`validate` adds.
OUTPUT_COLUMNS = ("valid", "error_count", "issues")
#: The fields of an ``issues`` item: (name, Spark SQL type).
ISSUE_FIELDS = (
    ("severity", "string"),
    ("code", "string"),
    ("message_id", "string"),
    ("message", "string"),
    ("expression", "string"),
    ("line", "int"),
    ("column", "int"),
)

# One validator per configuration in each Python worker process.
_VALIDATORS: Dict[bytes, Validator] = {}


def _executor_validator(config: bytes) -> Validator:
    validator = _VALIDATORS.get(config)
    if validator is None:
        validator = Validator(**pickle.loads(config))
        _VALIDATORS[config] = validator
    return validator


def _issues_arrow_type(pa: Any) -> "pyarrow.DataType":
    types = {"string": pa.string(), "int": pa.int32()}
    return pa.list_(pa.struct([(name, types[kind]) for name, kind in ISSUE_FIELDS]))


def _validate_batches(
    batches: Iterator["pyarrow.RecordBatch"],
    config: bytes,
    column: str,
    profile: Optional[Sequence[str]],
) -> Iterator["pyarrow.RecordBatch"]:
    import pyarrow as pa

    validator = _executor_validator(config)
    issues_type = _issues_arrow_type(pa)
    for batch in batches:
        values = batch.column(batch.schema.get_field_index(column)).to_pylist()
        present = [i for i, v in enumerate(values) if v is not None]
        outcomes = validator.validate_many([values[i] for i in present], profile=profile)
        n = len(values)
        valid: list = [None] * n
        errors: list = [None] * n
        issues: list = [None] * n
        for i, outcome in zip(present, outcomes):
            valid[i] = outcome.valid
            errors[i] = outcome.error_count
            issues[i] = [
                {
                    "severity": issue.severity,
                    "code": issue.code,
                    "message_id": issue.message_id,
                    "message": issue.message,
                    "expression": issue.expression,
                    "line": issue.line,
                    "column": issue.column,
                }
                for issue in outcome.issues
            ]
        arrays = list(batch.columns) + [
            pa.array(valid, pa.bool_()),
            pa.array(errors, pa.int32()),
            pa.array(issues, issues_type),
        ]
        yield pa.RecordBatch.from_arrays(arrays, names=list(batch.schema.names) + list(OUTPUT_COLUMNS))


def validate(
    df: "DataFrame",
    column: str,
    profile: Union[str, Sequence[str], None] = None,
    *,
    validator: Optional[Validator] = None,
) -> "DataFrame":
    """Validate the resources of ``column`` and add ``valid``,
    ``error_count`` and ``issues`` columns (see the module documentation).

    :param df: a Spark DataFrame.
    :param column: the column holding one resource per row: JSON or XML text
        (string or binary). A struct or map column (JSON read with a schema)
        is turned into JSON text first with ``to_json`` (Spark may then have
        changed numbers: ``1.50`` read as a double is written ``1.5``).
    :param profile: canonical URL(s) of profiles to validate against too.
    :param validator: the configuration to use (its packages, profiles,
        extensions ...); its ``config`` is shipped to the executors, which
        build their own. Default: the FHIR R4 core.
    :raises ValueError: the DataFrame has no such column, or already has one
        of the output columns.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import (
        ArrayType,
        BinaryType,
        BooleanType,
        IntegerType,
        StringType,
        StructField,
        StructType,
    )

    if column not in df.columns:
        raise ValueError("the DataFrame has no column %r (columns: %s)" % (column, df.columns))
    clash = [c for c in OUTPUT_COLUMNS if c in df.columns]
    if clash:
        raise ValueError("the DataFrame already has the output column(s) %s" % clash)
    if isinstance(profile, str):
        profile = [profile]
    config: Dict[str, Any] = dict(validator.config) if validator is not None else {}
    if config.get("threads") is None:
        config["threads"] = 1  # Spark runs a task per core already.
    # Fail on the driver (an unknown package or profile), not in every task.
    Validator(**dict(config, profiles=list(config.get("profiles") or []) + list(profile or [])))
    payload = pickle.dumps(config)

    source = column
    dtype = df.schema[column].dataType
    if not isinstance(dtype, (StringType, BinaryType)):
        source = "__fhirreg_json"
        df = df.withColumn(source, F.to_json(F.col(column)))

    types = {"string": StringType(), "int": IntegerType()}
    issue = StructType([StructField(name, types[kind], True) for name, kind in ISSUE_FIELDS])
    schema = StructType(
        list(df.schema.fields)
        + [
            StructField("valid", BooleanType(), True),
            StructField("error_count", IntegerType(), True),
            StructField("issues", ArrayType(issue, True), True),
        ]
    )

    def run(batches: Iterator["pyarrow.RecordBatch"]) -> Iterator["pyarrow.RecordBatch"]:
        return _validate_batches(batches, payload, source, profile)

    out = df.mapInArrow(run, schema)
    if source != column:
        out = out.drop(source)
    return out
