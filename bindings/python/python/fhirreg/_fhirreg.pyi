"""Type stubs of the native module (re-exported by ``fhirreg``)."""

import os
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
    final,
)

__all__ = [
    "_panic_for_tests",
    "Validator",
    "NdjsonOutcomes",
    "Outcome",
    "Issue",
    "Expression",
    "__version__",
    "SUPPORTED_FHIR_VERSIONS",
    "LANGUAGES",
]

__version__: str
SUPPORTED_FHIR_VERSIONS: List[str]
LANGUAGES: List[str]

#: A resource: a dict (FHIR JSON as Python objects), or JSON or XML text as
#: str or bytes.
_Resource = Union[Mapping[str, Any], str, bytes, bytearray, memoryview]
#: Definitions to load: a path, or bytes with a name (a resource, a Bundle,
#: a package .tgz).
_LoadItem = Union[str, "os.PathLike[str]", Tuple[str, bytes], bytes]
_Profiles = Union[str, Sequence[str], None]

@final
class Issue:
    """One finding about a resource."""

    #: ``fatal``, ``error``, ``warning`` or ``information``.
    severity: str
    #: The FHIR issue type (``structure``, ``code-invalid``, ...).
    code: str
    #: The text, in the validator's language.
    message: str
    #: fhirreg's stable message id (``unknown-property``).
    message_id: str
    #: Where, as the HL7 Java validator writes it (``Patient.name[0].given``);
    #: None for the whole document.
    expression: Optional[str]
    #: 1-based line in the source (None when unknown).
    line: Optional[int]
    #: 1-based column in the source (None when unknown).
    column: Optional[int]
    #: The HL7 Java validator's key for the same finding, when it has one.
    java_key: Optional[str]
    @property
    def is_error(self) -> bool:
        """True for ``fatal`` and ``error``."""

@final
class Outcome:
    """The result of validating one resource."""

    @property
    def valid(self) -> bool:
        """True when no issue is an error or fatal."""
    @property
    def issues(self) -> List[Issue]:
        """Every issue, in document order."""
    @property
    def error_count(self) -> int: ...
    @property
    def warning_count(self) -> int: ...
    @property
    def line(self) -> Optional[int]:
        """The line of the NDJSON stream (``validate_ndjson``), else None."""
    def to_dict(self) -> Dict[str, Any]:
        """The outcome as a FHIR OperationOutcome."""
    def to_json(self, pretty: bool = False) -> str:
        """The OperationOutcome as JSON text."""
    def __len__(self) -> int: ...
    def _repr_html_(self) -> str: ...

@final
class NdjsonOutcomes(Iterator[Outcome]):
    """The outcomes of an NDJSON stream, one per non-blank line (``.line``
    set), produced while the stream is read. Raises OSError if reading fails
    midway."""

    def __iter__(self) -> "NdjsonOutcomes": ...
    def __next__(self) -> Outcome: ...

@final
class Validator:
    """A configured FHIR validator: build once, use for many resources, from
    any number of threads.

    :param packages: FHIR packages from the package cache, as ``"ID#VERSION"``
        (``$FHIR_PACKAGE_CACHE`` or ``~/.fhir/packages``).
    :param load: definitions to add: files (.json, .xml, package .tgz) or
        folders, or ``(name, bytes)`` pairs.
    :param profiles: canonical URLs every resource is also validated against.
    :param fhir_version: ``"4.0.1"`` (R4) is the one supported.
    :param lang: the language of the messages (``"en"``, ``"nb"``: norsk
        bokmål).
    :param extensions: URL prefixes of extensions accepted without a
        definition (``"any"`` accepts all).
    :param max_issues: report at most this many issues per resource (the most
        severe first, plus one summary issue).
    :param threads: threads of ``validate_many``/``validate_ndjson``: None or
        0 for all cores, 1 for the calling thread only.
    :param max_depth: maximum nesting depth of a resource (512).
    :param max_size: maximum size of a resource in bytes (256 MiB).
    :raises UnknownPackageError, LoadError, UnknownProfileError,
        ConfigurationError:
    """

    def __new__(
        cls,
        packages: Optional[Sequence[str]] = None,
        load: Optional[Sequence[_LoadItem]] = None,
        profiles: Optional[Sequence[str]] = None,
        fhir_version: str = "4.0.1",
        lang: str = "en",
        extensions: Optional[Sequence[str]] = None,
        *,
        max_issues: Optional[int] = None,
        threads: Optional[int] = None,
        max_depth: Optional[int] = None,
        max_size: Optional[int] = None,
    ) -> "Validator": ...
    def validate(self, resource: _Resource, profile: _Profiles = None) -> Outcome:
        """Validate one resource against its core type, its meta.profile, the
        validator's profiles and ``profile``.

        :raises ParseError: the resource cannot be read (with line/column).
        :raises InputTypeError: not a dict, str or bytes.
        :raises UnknownProfileError: ``profile`` is not loaded.
        """
    def is_valid(self, resource: _Resource, profile: _Profiles = None) -> bool:
        """True when the resource has no error (False when it cannot be read)."""
    def validate_many(
        self, resources: Iterable[_Resource], profile: _Profiles = None
    ) -> List[Outcome]:
        """Validate many resources on all cores, GIL released; outcomes in
        input order. Unreadable resources get a fatal issue."""
    def validate_ndjson(
        self, source: Union[str, "os.PathLike[str]", bytes, bytearray]
    ) -> NdjsonOutcomes:
        """Validate an NDJSON file (a path) or NDJSON bytes, streamed."""
    def convert(self, resource: _Resource, to: str = "json", pretty: bool = False) -> str:
        """Convert between FHIR JSON and XML (``to``: ``"json"`` or ``"xml"``)."""
    def expand(
        self,
        url: str,
        filter: Optional[str] = None,
        *,
        offset: int = 0,
        count: Optional[int] = None,
        active_only: bool = False,
    ) -> Dict[str, Any]:
        """ValueSet $expand: the value set with its ``expansion``."""
    def lookup(self, system: str, code: str, version: Optional[str] = None) -> Dict[str, Any]:
        """CodeSystem $lookup: a Parameters resource."""
    def validate_code(
        self, url: Optional[str], system: str, code: str, display: Optional[str] = None
    ) -> Dict[str, Any]:
        """$validate-code against the value set ``url`` (None: the code
        system): a Parameters resource whose ``result`` says."""
    def translate(
        self, conceptmap: str, system: str, code: str, target: Optional[str] = None
    ) -> Dict[str, Any]:
        """ConceptMap $translate: a Parameters resource."""
    def subsumes(self, system: str, code_a: str, code_b: str) -> Dict[str, Any]:
        """CodeSystem $subsumes: a Parameters resource with the ``outcome``."""
    @property
    def config(self) -> Dict[str, Any]:
        """The keyword arguments the validator was built from."""
    @property
    def profiles(self) -> List[str]: ...
    @property
    def packages(self) -> List[str]: ...
    @property
    def fhir_version(self) -> str: ...
    @property
    def lang(self) -> str:
        """The language of the messages (``"en"``, ``"nb"``)."""

@final
class Expression:
    """A compiled FHIRPath expression."""

    def __new__(cls, expression: str) -> "Expression": ...
    @property
    def source(self) -> str: ...
    def evaluate(
        self,
        resource: _Resource,
        variables: Optional[Dict[str, Any]] = None,
        validator: Optional[Validator] = None,
    ) -> List[Any]:
        """The result collection over one resource, as Python values."""

def _panic_for_tests(released: bool) -> None:
    """For the tests: a Rust panic, raised as InternalError."""
