"""fhirreg: fast, offline FHIR R4 validation, FHIRPath and terminology.

>>> import fhirreg
>>> validator = fhirreg.Validator()
>>> outcome = validator.validate({"resourceType": "Patient", "active": "yes"})
>>> outcome.valid
False
>>> [issue.message_id for issue in outcome.issues if issue.is_error]
['boolean-invalid']

* :class:`Validator` -- build once (packages, profiles, extensions), then
  ``validate``, ``is_valid``, ``validate_many`` (all cores, GIL released),
  ``validate_ndjson`` (streamed), the terminology operations (``expand``,
  ``lookup``, ``validate_code``, ``translate``, ``subsumes``) and ``convert``
  (JSON <-> XML).
* :class:`Outcome` -- ``valid``, ``issues``, ``to_dict()`` (an
  OperationOutcome); shown as a table in notebooks.
* :mod:`fhirreg.fhirpath` -- FHIRPath expressions.
* :mod:`fhirreg.spark` -- validate a column of a Spark DataFrame.
* :mod:`fhirreg.errors` -- the exceptions, rooted at :class:`FhirRegError`.
"""

from fhirreg.errors import (
    ConfigurationError,
    FhirPathError,
    FhirPathSyntaxError,
    FhirRegError,
    InputTypeError,
    InternalError,
    LoadError,
    ParseError,
    TerminologyError,
    UnknownPackageError,
    UnknownProfileError,
)
from fhirreg._fhirreg import (
    LANGUAGES,
    SUPPORTED_FHIR_VERSIONS,
    Issue,
    NdjsonOutcomes,
    Outcome,
    Validator,
    __version__,
)
from fhirreg import fhirpath

__all__ = [
    "Validator",
    "Outcome",
    "Issue",
    "NdjsonOutcomes",
    "fhirpath",
    "FhirRegError",
    "ParseError",
    "InputTypeError",
    "UnknownProfileError",
    "UnknownPackageError",
    "LoadError",
    "ConfigurationError",
    "FhirPathError",
    "FhirPathSyntaxError",
    "TerminologyError",
    "InternalError",
    "SUPPORTED_FHIR_VERSIONS",
    "LANGUAGES",
    "__version__",
]
