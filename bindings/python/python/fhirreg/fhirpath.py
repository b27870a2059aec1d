"""FHIRPath over FHIR resources.

>>> from fhirreg import fhirpath
>>> patient = {"resourceType": "Patient", "name": [{"given": ["Peter", "James"]}]}
>>> fhirpath.evaluate("name.given", patient)
['Peter', 'James']
>>> given = fhirpath.compile("name.given.where($this in %wanted)")
>>> given.evaluate(patient, variables={"wanted": ["James"]})
['James']

Results are Python values: booleans, ints and floats (FHIR decimals), str
(strings, dates, times, codes), dicts for complex elements and resources
(their FHIR JSON), ``{"value": 5.4, "unit": "mg"}`` for quantities.
Without ``validator=`` the FHIR R4 core definitions give the types; pass a
:class:`fhirreg.Validator` to use its packages and profiles.
"""

from typing import Any, Dict, List, Mapping, Optional, Union

from fhirreg._fhirreg import Expression, Validator

__all__ = ["Expression", "compile", "evaluate"]

Resource = Union[Mapping[str, Any], str, bytes]


def compile(expression: str) -> Expression:  # noqa: A001 (the FHIRPath word)
    """Compile a FHIRPath expression once, to evaluate it many times.
    Raises :class:`fhirreg.FhirPathSyntaxError` (with line and column)."""
    return Expression(expression)


def evaluate(
    expression: str,
    resource: Resource,
    variables: Optional[Dict[str, Any]] = None,
    validator: Optional[Validator] = None,
) -> List[Any]:
    """Compile and evaluate ``expression`` over one resource (a dict, or JSON
    or XML as str or bytes); returns the result collection as a list."""
    return Expression(expression).evaluate(resource, variables, validator)
