//! Local FHIR terminology over the registry: $lookup, $validate-code, $expand, $subsumes, $translate.
