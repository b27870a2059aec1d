//! `ConceptMap/$translate` (R4 `group.element.target`).

use serde_json::Value;

use crate::Translation;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Translate `system#code` with an R4 ConceptMap.
pub(crate) fn translate(
    cm: &Value,
    system: &str,
    code: &str,
    target: Option<&str>,
) -> Vec<Translation> {
    let mut out = Vec::new();
    for group in cm
        .get("group")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let source = group.get("source").and_then(Value::as_str);
        if source.is_some_and(|s| s != system) {
            continue;
        }
        let group_target = text(group, "target");
        if let (Some(t), Some(g)) = (target, group_target.as_deref()) {
            if t != g {
                continue;
            }
        }
        let mut found = false;
        for el in group
            .get("element")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if el.get("code").and_then(Value::as_str) != Some(code) {
                continue;
            }
            found = true;
            for t in el
                .get("target")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.push(Translation {
                    equivalence: text(t, "equivalence").unwrap_or_else(|| "equivalent".into()),
                    system: group_target.clone(),
                    version: text(group, "targetVersion"),
                    code: text(t, "code"),
                    display: text(t, "display"),
                    comment: text(t, "comment"),
                });
            }
        }
        if found {
            continue;
        }
        // group.unmapped: what to do with codes the group does not list
        let Some(unmapped) = group.get("unmapped") else {
            continue;
        };
        match unmapped.get("mode").and_then(Value::as_str) {
            Some("provided") => out.push(Translation {
                equivalence: "equal".into(),
                system: group_target.clone(),
                version: text(group, "targetVersion"),
                code: Some(code.to_owned()),
                display: None,
                comment: None,
            }),
            Some("fixed") => out.push(Translation {
                equivalence: "equivalent".into(),
                system: group_target.clone(),
                version: text(group, "targetVersion"),
                code: text(unmapped, "code"),
                display: text(unmapped, "display"),
                comment: None,
            }),
            _ => {}
        }
    }
    out
}
