//! The terminology operations on the validator's registry, each returning
//! the FHIR resource the matching REST operation returns (as JSON): the
//! expanded ValueSet, or a `Parameters`.

use serde_json::Value;

use fhirreg_terminology::{parameters, CodingRef, ExpandParams};

use crate::{catch, Error, Validator};

/// Options of [`Validator::expand`] (`ValueSet/$expand` parameters).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpandOptions {
    /// Keep the concepts whose code or display contains every word of
    /// this, case-insensitively (`filter`).
    pub filter: Option<String>,
    /// Skip this many concepts (`offset`).
    pub offset: usize,
    /// Return at most this many concepts (`count`).
    pub count: Option<usize>,
    /// Leave out inactive concepts (`activeOnly`).
    pub active_only: bool,
    /// Include the concepts' designations (`includeDesignations`).
    pub include_designations: bool,
}

impl ExpandOptions {
    /// Only the concepts matching `filter` (see [`ExpandOptions::filter`]).
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// One page: skip `offset` concepts, return at most `count`.
    pub fn page(mut self, offset: usize, count: usize) -> Self {
        self.offset = offset;
        self.count = Some(count);
        self
    }
}

impl Validator {
    /// `ValueSet/$expand`: the value set `url` (`url|version`) with its
    /// `expansion` (`total`, `offset`, `parameter`, `contains`).
    /// [`Error::Terminology`] when the value set is unknown, cannot be
    /// expanded locally (all of SNOMED CT), or is too large.
    ///
    /// ```
    /// use fhirreg::{ExpandOptions, Validator};
    /// let validator = Validator::builder().build().unwrap();
    /// let url = "http://hl7.org/fhir/ValueSet/administrative-gender";
    /// let all = validator.expand(url, &ExpandOptions::default()).unwrap();
    /// assert_eq!(all["expansion"]["total"], 4);
    /// let female = validator.expand(url, &ExpandOptions::default().filter("fem")).unwrap();
    /// assert_eq!(female["expansion"]["contains"][0]["code"], "female");
    /// assert!(validator.expand("http://example.org/none", &ExpandOptions::default()).is_err());
    /// ```
    pub fn expand(&self, url: &str, options: &ExpandOptions) -> Result<Value, Error> {
        let params = ExpandParams {
            filter: options.filter.clone(),
            offset: options.offset,
            count: options.count,
            active_only: options.active_only,
            include_designations: options.include_designations,
            ..Default::default()
        };
        Ok(catch(|| self.terminology.expand(url, &params))??)
    }

    /// `CodeSystem/$lookup`: a `Parameters` with the concept's `name`,
    /// `display`, `designation`s and `property`s. [`Error::Terminology`]
    /// when the system or the code is unknown.
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let p = validator.lookup("http://hl7.org/fhir/administrative-gender", "female", None).unwrap();
    /// assert_eq!(p["resourceType"], "Parameters");
    /// let display = p["parameter"].as_array().unwrap().iter().find(|p| p["name"] == "display").unwrap();
    /// assert_eq!(display["valueString"], "Female");
    /// ```
    pub fn lookup(&self, system: &str, code: &str, version: Option<&str>) -> Result<Value, Error> {
        let result = catch(|| self.terminology.lookup(system, version, code))??;
        Ok(parameters::lookup(&result))
    }

    /// `$validate-code`: is `system#code` (with an optional display) in
    /// the value set `valueset`, or, with `None`, in the code system
    /// `system`? A `Parameters` with `result` (boolean), `message`,
    /// `display` and the findings. [`Error::Terminology`] only when the
    /// value set cannot be used (a code that is not in it is a `false`
    /// result).
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let vs = Some("http://hl7.org/fhir/ValueSet/administrative-gender");
    /// let system = "http://hl7.org/fhir/administrative-gender";
    /// let ok = validator.validate_code(vs, system, "male", None).unwrap();
    /// assert_eq!(ok["parameter"][0], serde_json::json!({"name": "result", "valueBoolean": true}));
    /// let bad = validator.validate_code(vs, system, "x", None).unwrap();
    /// assert_eq!(bad["parameter"][0]["valueBoolean"], false);
    /// let in_system = validator.validate_code(None, "urn:iso:std:iso:3166", "NO", Some("Norway")).unwrap();
    /// assert_eq!(in_system["parameter"][0]["valueBoolean"], true);
    /// ```
    pub fn validate_code(
        &self,
        valueset: Option<&str>,
        system: &str,
        code: &str,
        display: Option<&str>,
    ) -> Result<Value, Error> {
        let result = catch(|| match valueset {
            None => self
                .terminology
                .validate_code_in_system(system, code, display),
            Some(url) => {
                let mut coding = CodingRef::new(system, code);
                if let Some(display) = display {
                    coding = coding.with_display(display);
                }
                self.terminology.validate_code(url, &coding)
            }
        })??;
        Ok(parameters::validate_code(&result))
    }

    /// `ConceptMap/$translate`: the mappings of `system#code` in the
    /// concept map `conceptmap`, optionally only those to the `target`
    /// system. A `Parameters` with `result` (true when something matched)
    /// and a `match` per mapping. [`Error::Terminology`] when the concept
    /// map is unknown.
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let p = validator
    ///     .translate("http://hl7.org/fhir/ConceptMap/101", "http://hl7.org/fhir/address-use", "home", None)
    ///     .unwrap();
    /// assert_eq!(p["parameter"][0]["valueBoolean"], true);
    /// assert!(p.to_string().contains(r#""code":"H""#));
    /// ```
    pub fn translate(
        &self,
        conceptmap: &str,
        system: &str,
        code: &str,
        target: Option<&str>,
    ) -> Result<Value, Error> {
        let translations = catch(|| self.terminology.translate(conceptmap, system, code, target))??;
        Ok(parameters::translate(&translations))
    }

    /// `CodeSystem/$subsumes`: how code `a` relates to code `b` in
    /// `system`; a `Parameters` with `outcome` (`equivalent`, `subsumes`,
    /// `subsumed-by`, `not-subsumed`).
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let p = validator.subsumes("http://hl7.org/fhir/administrative-gender", "male", "male").unwrap();
    /// assert_eq!(p["parameter"][0]["valueCode"], "equivalent");
    /// ```
    pub fn subsumes(&self, system: &str, a: &str, b: &str) -> Result<Value, Error> {
        let outcome = catch(|| self.terminology.subsumes(system, a, b))??;
        Ok(parameters::subsumes(outcome))
    }
}
