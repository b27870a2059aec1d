//! Rules of particular resource types beyond their definitions, run after
//! the resource's own plan (see `Walk::resource_rules`).

pub(crate) mod measure;
pub(crate) mod operation_definition;
pub(crate) mod questionnaire;
pub(crate) mod search_parameter;
pub(crate) mod structure_definition;
pub(crate) mod terminology;

use crate::walk::Walk;
use fhirreg_element::Element;

impl<'v> Walk<'v> {
    /// The rules of the resource type `rt` beyond its definition, for the
    /// resource `node` (at `self.path`).
    pub(crate) fn resource_rules(&mut self, node: Element<'v>, rt: &str) {
        match rt {
            "Bundle" => {
                self.bundle(node);
                self.bundle_graph(node);
            }
            "QuestionnaireResponse" => self.questionnaire_response(node),
            "StructureDefinition" => {
                self.structure_definition(node);
                self.structure_type_rules(node);
            }
            "Questionnaire" => self.questionnaire(node),
            "CodeSystem" => self.codesystem_rules(node),
            "ValueSet" => self.valueset_rules(node),
            "ConceptMap" => self.conceptmap_rules(node),
            "Measure" => self.measure(node),
            "MeasureReport" => self.measure_report(node),
            "SearchParameter" => self.search_parameter(node),
            "OperationDefinition" => self.operation_definition(node),
            _ => {}
        }
    }
}
