"""The exceptions of fhirreg: one hierarchy rooted at :class:`FhirRegError`.

``FhirRegError`` is a ``ValueError``, so code that catches ``ValueError``
around parsing keeps working; catch ``FhirRegError`` (or a subclass) to tell
fhirreg's problems apart. A bug inside fhirreg (a Rust panic) never crashes
the interpreter: it is raised as :class:`InternalError`.

::

    FhirRegError(ValueError)
    ├── ParseError            the resource cannot be read (.line, .column)
    ├── InputTypeError        a Python object of the wrong type (also a TypeError)
    ├── UnknownProfileError   a profile that is not loaded (.profile)
    ├── UnknownPackageError   a package that is not in the FHIR package cache
    ├── LoadError             definitions that cannot be loaded
    ├── ConfigurationError    an unsupported FHIR version or language, a bad option
    ├── FhirPathError         a FHIRPath evaluation failed
    │   └── FhirPathSyntaxError   not FHIRPath (.line, .column)
    ├── TerminologyError      unknown value set, code system, concept map or code
    └── InternalError         a bug in fhirreg
"""

from typing import Optional

__all__ = [
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
]


class FhirRegError(ValueError):
    """Base class of every error fhirreg raises."""


class ParseError(FhirRegError):
    """The resource cannot be read: not JSON or XML, malformed, or over a
    limit (nesting depth, size). ``line`` and ``column`` (1-based) tell
    where, when known (not for a dict, which has no text)."""

    def __init__(self, message: str, line: Optional[int] = None, column: Optional[int] = None):
        super().__init__(message)
        self.line = line
        self.column = column

    def __str__(self) -> str:
        text = super().__str__()
        if self.line is not None and self.column is not None:
            return "%s (line %d, column %d)" % (text, self.line, self.column)
        return text

    def __reduce__(self):
        return (type(self), (self.args[0], self.line, self.column))


class InputTypeError(FhirRegError, TypeError):
    """A Python object of the wrong type: a resource that is not a dict, str
    or bytes; a dict holding a set or an object; a key that is not a str.
    Also a ``TypeError``."""


class UnknownProfileError(FhirRegError):
    """A profile (canonical URL) that names no loaded StructureDefinition."""

    def __init__(self, message: str, profile: Optional[str] = None):
        super().__init__(message)
        self.profile = profile

    def __reduce__(self):
        return (type(self), (self.args[0], self.profile))


class UnknownPackageError(FhirRegError):
    """A package ``ID#VERSION`` that is not in the FHIR package cache
    (``$FHIR_PACKAGE_CACHE`` or ``~/.fhir/packages``)."""


class LoadError(FhirRegError):
    """Definitions (a file, a folder, a package .tgz) that cannot be loaded."""


class ConfigurationError(FhirRegError):
    """An unsupported FHIR version or language, or an invalid option."""


class FhirPathError(FhirRegError):
    """A FHIRPath evaluation failed (a type error, a collection where one
    item is needed, a variable that cannot be used)."""


class FhirPathSyntaxError(FhirPathError):
    """A FHIRPath expression that does not compile; ``line`` and ``column``
    (1-based) tell where in the expression."""

    def __init__(self, message: str, line: Optional[int] = None, column: Optional[int] = None):
        super().__init__(message)
        self.line = line
        self.column = column

    def __reduce__(self):
        return (type(self), (self.args[0], self.line, self.column))


class TerminologyError(FhirRegError):
    """A terminology operation failed: an unknown value set, code system,
    concept map or code, or an expansion too large or not possible locally."""


class InternalError(FhirRegError):
    """A bug in fhirreg (a Rust panic caught before it reached Python).
    The validator stays usable; please report it."""
