//! FHIR resource validation against StructureDefinitions.
