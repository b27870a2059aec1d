//! The profiles that apply to a resource besides those the caller names:
//! the ones it claims in `meta.profile`, the vital-signs profile its code
//! implies, and the global profiles of the loaded implementation guides.
//!
//! Observations with a vital-sign code are validated against the core
//! vital-signs profile of that sign (R4: "If an Observation has one of these
//! codes, it SHALL conform to the profile", observation-vitalsigns.html),
//! as the HL7 Java validator does: the first coding with a LOINC code of
//! the list, else the first with a SNOMED CT code, picks the profile, and
//! an information issue says so.

use crate::walk::Walk;
use crate::CORE;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

const LOINC: &str = "http://loinc.org";
const SCT: &str = "http://snomed.info/sct";

/// (system, codes, profile id, profile name), in the order they are tried.
const VITALS: &[(&str, &[&str], &str, &str)] = &[
    (LOINC, &["85353-1"], "vitalspanel", "Vital Signs Panel"),
    (
        LOINC,
        &[
            "9279-1", "76170-0", "76172-6", "76171-8", "19840-8", "33438-3", "76270-8", "11291-2",
        ],
        "resprate",
        "Respiratory Rate",
    ),
    (
        LOINC,
        &[
            "60978-4", "73795-7", "73799-9", "76476-1", "76477-9", "8867-4", "8889-8", "8890-6",
            "8891-4", "8892-2", "8893-0", "40443-4", "55425-3", "68999-2", "11328-2", "69000-8",
            "8886-4",
        ],
        "heartrate",
        "Heart rate",
    ),
    (
        LOINC,
        &[
            "2708-6", "19224-5", "20564-1", "2709-4", "2710-2", "2713-6", "51733-4", "59408-5",
            "59417-6", "89276-0", "97549-0",
        ],
        "oxygensat",
        "Oxygen saturation",
    ),
    (
        LOINC,
        &[
            "8310-5", "60834-9", "60835-6", "60836-4", "60838-0", "60955-2", "61009-7", "75539-7",
            "75987-8", "76010-8", "76011-6", "76278-1", "8309-7", "8328-7", "8329-5", "8330-3",
            "8331-1", "8332-9", "8333-7", "8334-5", "91371-5", "98657-0", "98663-8",
        ],
        "bodytemp",
        "Body temperature",
    ),
    (
        LOINC,
        &["8302-2", "3137-7", "3138-5", "8306-3", "8308-9"],
        "bodyheight",
        "Body height",
    ),
    (
        LOINC,
        &["9843-4", "8287-5"],
        "headcircum",
        "Head circumference",
    ),
    (
        LOINC,
        &[
            "29463-7", "3141-9", "3142-7", "75292-3", "79348-9", "8350-1", "8351-9",
        ],
        "bodyweight",
        "Body weight",
    ),
    (
        LOINC,
        &["39156-5", "59574-4", "89270-3"],
        "bmi",
        "Body mass index",
    ),
    (
        LOINC,
        &[
            "85354-9", "35094-2", "8459-0", "76534-7", "55284-4", "8480-6",
        ],
        "bp",
        "Blood pressure systolic and diastolic",
    ),
    (SCT, &["46680005"], "vitalspanel", "Vital Signs Panel"),
    (
        SCT,
        &["86290005", "271625008", "271306003"],
        "bp",
        "Blood pressure systolic and diastolic",
    ),
    (
        SCT,
        &[
            "249043002",
            "444981005",
            "399017001",
            "251670001",
            "429525003",
            "429614003",
        ],
        "heartrate",
        "Heart rate",
    ),
    (
        SCT,
        &[
            "103228002",
            "442349007",
            "442476006",
            "442440005",
            "431314004",
            "442734002",
            "713194001",
        ],
        "oxygensat",
        "Oxygen saturation",
    ),
    (
        SCT,
        &[
            "386725007",
            "276885007",
            "300076005",
            "1222808002",
            "364246006",
            "307047009",
            "708499008",
            "431598003",
            "698831002",
            "698832009",
            "415882003",
            "415974002",
            "415929009",
            "415945006",
        ],
        "bodytemp",
        "Body temperature",
    ),
    (
        SCT,
        &[
            "1153637007",
            "1162419008",
            "50373000",
            "1162418000",
            "1230278008",
            "1162392001",
            "1162417005",
        ],
        "bodyheight",
        "Body height",
    ),
    (
        SCT,
        &["363812007", "169876006", "1269262007", "363811000"],
        "headcircum",
        "Head circumference",
    ),
    (
        SCT,
        &[
            "60621009",
            "735395000",
            "425024002",
            "424927000",
            "784399000",
            "1162416001",
            "1162415002",
        ],
        "bodyweight",
        "Body weight",
    ),
    (
        SCT,
        &[
            "251076008",
            "163033001",
            "163035008",
            "386534000",
            "386536003",
            "271649006",
            "271650006",
            "407556006",
            "407554009",
            "716579001",
            "399304008",
        ],
        "bp",
        "Blood pressure systolic and diastolic",
    ),
];

/// The vital-signs profile an Observation's code implies: (profile id,
/// name, system name, the code found).
pub(crate) fn implied_profile(
    obs: Element<'_>,
) -> Option<(&'static str, &'static str, &'static str, String)> {
    let codings: Vec<(&str, &str)> = obs
        .child("code")?
        .children_named("coding")
        .filter_map(|c| Some((c.child_value("system")?, c.child_value("code")?)))
        .collect();
    VITALS.iter().find_map(|(system, codes, id, name)| {
        let (_, code) = codings
            .iter()
            .find(|(s, c)| s == system && codes.contains(c))?;
        let sys_name = if *system == LOINC {
            "LOINC"
        } else {
            "SNOMED CT"
        };
        Some((*id, *name, sys_name, code.to_string()))
    })
}

impl<'v> Walk<'v> {
    /// Validate resource `node` (of type `rt`) against the profiles that
    /// apply to it without the caller naming them.
    pub(crate) fn applicable_profiles(&mut self, node: Element<'v>, rt: &str) {
        if !self.v.options.ignore_meta_profiles {
            let metas: Vec<String> = node
                .child("meta")
                .map(|m| {
                    m.children_named("profile")
                        .filter_map(|p| p.value().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for p in &metas {
                self.profile(node, p, false);
            }
            if rt == "Observation" {
                self.vital_signs(node, &metas);
            }
            self.global_profiles(node, rt, &metas);
        } else if rt == "Observation" {
            self.vital_signs(node, &[]);
        }
    }
}

impl<'v> Walk<'v> {
    /// Validate an Observation against the vital-signs profile its code
    /// implies (unless it claims that profile already).
    pub(crate) fn vital_signs(&mut self, node: Element<'v>, claimed: &[String]) {
        let Some((id, name, system, code)) = implied_profile(node) else {
            return;
        };
        let url = format!("{CORE}{id}");
        let args = args![name, &url, system, code];
        self.report(Msg::VitalSignsProfile, args, node);
        if claimed
            .iter()
            .any(|p| p.split('|').next() == Some(url.as_str()))
        {
            return;
        }
        if self.v.plan(&url).is_some() {
            self.profile(node, &url, false);
        }
    }
}

impl crate::Inner {
    /// The global profiles (`ImplementationGuide.global`) of the loaded
    /// implementation guides (the embedded core's example guides are not
    /// guides in use).
    fn globals(&self) -> &[(String, String, String)] {
        self.globals.get_or_init(|| {
            let mut out = Vec::new();
            for s in self.registry.resources_of_type("ImplementationGuide") {
                if s.is_core() {
                    continue;
                }
                let Some(ig) = s.canonical().and_then(|c| self.registry.resolve(&c)) else {
                    continue;
                };
                let url = ig.str("url").unwrap_or_default().to_string();
                for g in ig
                    .json
                    .get("global")
                    .and_then(serde_json::Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let ty = g.get("type").and_then(serde_json::Value::as_str);
                    let p = g.get("profile").and_then(serde_json::Value::as_str);
                    if let (Some(ty), Some(p)) = (ty, p) {
                        out.push((ty.to_string(), p.to_string(), url.clone()));
                    }
                }
            }
            out
        })
    }
}

impl<'v> Walk<'v> {
    /// A resource is validated against the global profiles the loaded
    /// implementation guides set for its type (as the HL7 Java validator).
    pub(crate) fn global_profiles(&mut self, node: Element<'v>, rt: &str, claimed: &[String]) {
        let globals: Vec<(String, String)> = self
            .v
            .globals()
            .iter()
            .filter(|(ty, p, _)| {
                ty == rt
                    && !claimed
                        .iter()
                        .any(|c| c.split('|').next() == Some(p.as_str()))
            })
            .map(|(_, p, ig)| (p.clone(), ig.clone()))
            .collect();
        for (p, ig) in globals {
            self.report(Msg::GlobalProfile, args![&p, &ig], node);
            self.profile(node, &p, false);
        }
    }
}
