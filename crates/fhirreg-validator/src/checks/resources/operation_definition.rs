//! OperationDefinition checks beyond the structure: the profiles it gives
//! for its input and output `Parameters` (`inputProfile`,
//! `outputProfile`) "SHALL not conflict with what is specified in the
//! parameters in the operation definition (max/min etc.)" (R4
//! operationdefinition.html). For each parameter of the operation, the
//! slice of `Parameters.parameter` whose `name` is fixed to the
//! parameter's name has the same cardinality, allows the same types (its
//! `resource` for a resource parameter, its `value[x]` for a data type)
//! and the same target profiles. A parameter the profile has no slice for
//! is not compared.

use crate::plan::{ElemDef, Plan};
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};
use serde_json::Value;

const PARAMETERS: &str = "http://hl7.org/fhir/StructureDefinition/Parameters";

/// A parameter slice of a Parameters profile: its fixed name, the slice
/// and its `resource` and `value[x]` elements.
struct ParameterSlice<'p> {
    name: &'p str,
    slice: &'p ElemDef,
    resource: Option<&'p ElemDef>,
    value: Option<&'p ElemDef>,
}

fn parameter_slices(plan: &Plan) -> Vec<ParameterSlice<'_>> {
    let elements = &plan.elements;
    elements
        .iter()
        .filter(|e| e.path == "Parameters.parameter" && e.slice_name.is_some())
        .filter_map(|slice| {
            let child = |name: &str| {
                slice
                    .children
                    .iter()
                    .filter_map(|&c| elements.get(c))
                    .find(|c| c.name == name)
            };
            let name = child("name")?.fixed.as_ref().and_then(Value::as_str)?;
            Some(ParameterSlice {
                name,
                slice,
                resource: child("resource"),
                value: child("value"),
            })
        })
        .collect()
}

/// A list for a message (`-` when empty).
fn listed(items: &[&str]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(", ")
    }
}

/// The type codes of an element, in order.
fn codes(def: &ElemDef) -> Vec<&str> {
    def.types.iter().map(|t| t.code.as_str()).collect()
}

impl<'v> Walk<'v> {
    pub(crate) fn operation_definition(&mut self, op: Element<'v>) {
        for (property, usage) in [("inputProfile", "in"), ("outputProfile", "out")] {
            let Some(url) = op.child_value(property) else {
                continue;
            };
            let Some(plan) = self.v.plan(url) else {
                continue; // (an unknown canonical is reported as such)
            };
            if plan.type_name != "Parameters" {
                continue;
            }
            let slices = parameter_slices(&plan);
            for (i, param) in op.children_named("parameter").enumerate() {
                if param.child_value("use") != Some(usage) {
                    continue;
                }
                let Some(name) = param.child_value("name") else {
                    continue;
                };
                let Some(slice) = slices.iter().find(|s| s.name == name) else {
                    continue;
                };
                let len = self.path.len();
                self.path.push_str(&format!(".{property}.parameter[{i}]"));
                self.compare_parameter(param, slice, name, usage, url);
                self.path.truncate(len);
            }
        }
    }

    /// One parameter against its slice in the `usage` profile `url`.
    fn compare_parameter(
        &mut self,
        param: Element<'v>,
        slice: &ParameterSlice<'_>,
        name: &str,
        usage: &str,
        url: &str,
    ) {
        let min = param.child_value("min").and_then(|m| m.parse::<u32>().ok());
        if let Some(min) = min.filter(|m| *m != slice.slice.min) {
            let args = args![name, "min", slice.slice.min, usage, url, min];
            self.report(Msg::OpDefProfileCardinality, args, param);
        }
        if let Some(max) = param.child_value("max") {
            let profile_max = match slice.slice.max {
                Some(n) => n.to_string(),
                None => "*".to_string(),
            };
            let same = match (max.parse::<u32>(), slice.slice.max) {
                (Ok(a), Some(b)) => a == b,
                _ => max == profile_max,
            };
            if !same {
                let args = args![name, "max", profile_max.as_str(), usage, url, max];
                self.report(Msg::OpDefProfileCardinality, args, param);
            }
        }
        let Some(ty) = param.child_value("type") else {
            return; // (a parameter with parts)
        };
        let is_resource = ty == "Resource" || self.v.is_resource_type(ty);
        let Some(def) = (if is_resource {
            slice.resource
        } else {
            slice.value
        }) else {
            return;
        };
        // A slice that leaves the element's types as Parameters has them
        // does not constrain them.
        if self.unconstrained_types(def, is_resource) {
            return;
        }
        let allowed = codes(def);
        for t in allowed.iter().filter(|t| **t != ty) {
            let args = args![*t, name, usage, url, ty];
            self.report(Msg::OpDefProfileTypeNotAllowed, args, param);
        }
        if !allowed.contains(&ty) {
            let args = args![ty, name, usage, url, listed(&allowed)];
            self.report(Msg::OpDefProfileTypeMissing, args, param);
        }
        let op_targets: Vec<&str> = param
            .children_named("targetProfile")
            .filter_map(|t| t.value())
            .collect();
        let profile_targets: Vec<&str> = def
            .types
            .iter()
            .flat_map(|t| t.target_profiles.iter().map(String::as_str))
            .collect();
        for t in &profile_targets {
            if !op_targets.contains(t) {
                let args = args![*t, name, usage, url, listed(&op_targets)];
                self.report(Msg::OpDefProfileTargetNotAllowed, args, param);
            }
        }
        for t in &op_targets {
            if !profile_targets.contains(t) {
                let args = args![*t, name, usage, url, listed(&profile_targets)];
                self.report(Msg::OpDefProfileTargetMissing, args, param);
            }
        }
    }

    /// Whether `def` (a parameter slice's `resource` or `value[x]`) has the
    /// types of the base Parameters definition.
    fn unconstrained_types(&self, def: &ElemDef, is_resource: bool) -> bool {
        let path = if is_resource {
            "Parameters.parameter.resource"
        } else {
            "Parameters.parameter.value[x]"
        };
        let Some(base) = self.v.plan(PARAMETERS) else {
            return true;
        };
        let Some(base_def) = base.elements.iter().find(|e| e.path == path) else {
            return true;
        };
        codes(def) == codes(base_def) && def.types.iter().all(|t| t.target_profiles.is_empty())
    }
}
