//! A code system is named by its canonical URL exactly (terminologies.html):
//! `https://loinc.org` is not LOINC. A Coding.system that starts with
//! `https:` where the same URL with `http:` is a code system known to the
//! registry, or one of the external systems the specification names, is
//! an error.

use crate::walk::Walk;
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
    /// A Coding.system that is the address of a page of the specification
    /// (hl7.org/fhir or terminology.hl7.org, `.html`) or of its build server: a code system is identified by
    /// its canonical URL. Returns true when `system` was reported.
    pub(crate) fn page_coding_system(&mut self, node: Element<'v>, system: &str) -> bool {
        let build = ["http://build.fhir.org/", "https://build.fhir.org/"]
            .iter()
            .find_map(|b| system.strip_prefix(b));
        if let Some(rest) = build {
            let rest = rest.trim_end_matches(".html");
            let correct = format!("http://hl7.org/fhir/{rest}");
            self.at_child(
                node,
                "system",
                Msg::CodingSystemBuildServer,
                args![system, correct],
            );
            return true;
        }
        // Pages of the specification only: other code systems may well be
        // identified by a web page's address (m49.htm).
        let spec = [
            "http://hl7.org/fhir/",
            "https://hl7.org/fhir/",
            "http://terminology.hl7.org/",
            "https://terminology.hl7.org/",
        ]
        .iter()
        .any(|p| system.starts_with(p));
        let Some(page) = system
            .strip_suffix(".html")
            .or_else(|| system.strip_suffix(".htm"))
            .filter(|_| spec)
        else {
            return false;
        };
        // terminology.hl7.org pages are CodeSystem-x.html for CodeSystem/x
        let correct = match page.rsplit_once('/') {
            Some((base, last)) => match last.strip_prefix("CodeSystem-") {
                Some(id) => format!("{base}/CodeSystem/{id}"),
                None => page.to_string(),
            },
            None => page.to_string(),
        };
        self.at_child(
            node,
            "system",
            Msg::CodingSystemHtmlPage,
            args![system, correct],
        );
        true
    }

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
