//! A code system is named by its canonical URL exactly (terminologies.html):
//! `https://loinc.org` is not LOINC. A Coding.system that starts with
//! `https:` where the same URL with `http:` is a code system known to the
//! registry, or one of the external systems the specification names, is
//! an error.

use crate::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

/// External code systems of terminologies-systems.html that the registry
/// does not hold as CodeSystem resources.
const EXTERNAL: &[&str] = &[
    "http://loinc.org",
    "http://snomed.info/sct",
    "http://unitsofmeasure.org",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://hl7.org/fhir/sid/icd-10",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "http://hl7.org/fhir/sid/icd-9-cm",
    "http://hl7.org/fhir/sid/cvx",
    "http://hl7.org/fhir/sid/ndc",
    "http://www.ama-assn.org/go/cpt",
    "http://dicom.nema.org/resources/ontology/DCM",
    "http://www.whocc.no/atc",
    "http://unstats.un.org/unsd/methods/m49/m49.htm",
    "http://www.radlex.org",
];

impl<'v> Walk<'v> {
    /// Returns true when `system` was reported.
    pub(crate) fn https_coding_system(&mut self, node: Element<'v>, system: &str) -> bool {
        let Some(rest) = system.strip_prefix("https://") else {
            return false;
        };
        let http = format!("http://{rest}");
        let known = EXTERNAL.contains(&http.as_str())
            || self
                .v
                .registry
                .resolve_summary(&http)
                .is_some_and(|s| s.resource_type() == "CodeSystem");
        if known {
            self.at_child(node, "system", Msg::CodingSystemHttps, args![system, http]);
        }
        known
    }
}
