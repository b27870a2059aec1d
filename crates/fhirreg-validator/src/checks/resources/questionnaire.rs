//! QuestionnaireResponse against its Questionnaire: linkIds, required
//! items and groups, answer types and counts, answer options, value limits
//! (minValue/maxValue, maxDecimalPlaces, regex), attachments (size, mime
//! type), reference target types and quantity units, with the HL7 Java
//! validator's messages.

pub(crate) mod response_structure;

use crate::checks::primitive::base64_binary;
use crate::walk::Walk;
use crate::{json_primitive_text, lower_first};
use fhirreg_element::message::{Message, Msg};
use fhirreg_element::{args, Element, Severity};
use serde_json::Value;

const SD: &str = "http://hl7.org/fhir/StructureDefinition/";

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn items(v: &Value) -> &[Value] {
    v.get("item")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Values of the extensions of `v` with url `SD + name`.
fn exts<'a>(v: &'a Value, name: &str) -> Vec<&'a Value> {
    v.get("extension")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| s(e, "url").is_some_and(|u| u.strip_prefix(SD) == Some(name)))
        .filter_map(|e| {
            e.as_object()?
                .iter()
                .find(|(k, _)| k.starts_with("value"))
                .map(|(_, v)| v)
        })
        .collect()
}

/// Compare two values of the same primitive type.
fn compare(type_code: &str, a: &str, b: &str) -> Option<std::cmp::Ordering> {
    match type_code {
        "integer" | "decimal" => a.parse::<f64>().ok()?.partial_cmp(&b.parse::<f64>().ok()?),
        _ => {
            // dates/times: compare on the common precision
            let n = a.len().min(b.len());
            Some(a.get(..n)?.cmp(b.get(..n)?))
        }
    }
}

/// The FHIR types an answer of a given item type must have.
fn answer_types(item_type: &str) -> &'static [&'static str] {
    match item_type {
        "boolean" => &["boolean"],
        "decimal" => &["decimal"],
        "integer" => &["integer"],
        "date" => &["date"],
        "dateTime" => &["dateTime"],
        "time" => &["time"],
        "string" | "text" => &["string"],
        "url" => &["uri"],
        // The Java validator accepts a string for a choice item (checked
        // against the options, when there are any).
        "choice" => &["Coding", "string"],
        "open-choice" => &["Coding", "string"],
        "attachment" => &["Attachment"],
        "reference" => &["Reference"],
        "quantity" => &["Quantity"],
        _ => &[],
    }
}

/// The FHIR type named by a choice suffix (`Coding`, `string`).
fn type_of_suffix(suffix: &str) -> String {
    match suffix {
        "Coding" | "Attachment" | "Reference" | "Quantity" => suffix.to_string(),
        _ => lower_first(suffix),
    }
}

/// The answers to question `link`, searched from the nearest scope outwards.
fn answers_to<'a>(link: &str, scope: &[Element<'a>]) -> Vec<Element<'a>> {
    fn collect<'a>(node: Element<'a>, link: &str, out: &mut Vec<Element<'a>>) {
        for it in node.children_named("item") {
            if it.child_value("linkId") == Some(link) {
                for a in it.children_named("answer") {
                    if let Some(v) = a.children().find(|c| c.name().starts_with("value")) {
                        out.push(v);
                    }
                }
            }
            collect(it, link, out);
            for a in it.children_named("answer") {
                collect(a, link, out);
            }
        }
    }
    for node in scope.iter().rev() {
        let mut out = Vec::new();
        collect(*node, link, &mut out);
        if !out.is_empty() {
            return out;
        }
    }
    Vec::new()
}

/// Does an answer satisfy one enableWhen condition?
fn condition_holds(cond: &Value, answers: &[Element<'_>]) -> bool {
    let op = s(cond, "operator").unwrap_or("=");
    let expected = cond
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.starts_with("answer")));
    if op == "exists" {
        let want = expected.and_then(|(_, v)| v.as_bool()).unwrap_or(true);
        return answers.is_empty() != want;
    }
    let Some((_, want)) = expected else {
        return false;
    };
    answers.iter().any(|a| {
        let same = match want {
            Value::Object(o) => {
                // Coding: system and code
                o.get("code").and_then(Value::as_str) == a.child_value("code")
                    && o.get("system")
                        .and_then(Value::as_str)
                        .map_or(true, |sys| Some(sys) == a.child_value("system"))
            }
            other => json_primitive_text(other).as_deref() == a.value(),
        };
        let ord = || -> Option<std::cmp::Ordering> {
            let w = json_primitive_text(want)?;
            let v = a.value()?;
            match (w.parse::<f64>(), v.parse::<f64>()) {
                (Ok(x), Ok(y)) => y.partial_cmp(&x),
                _ => Some(v.cmp(w.as_str())),
            }
        };
        match op {
            "=" => same,
            "!=" => !same,
            ">" => ord() == Some(std::cmp::Ordering::Greater),
            "<" => ord() == Some(std::cmp::Ordering::Less),
            ">=" => matches!(
                ord(),
                Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
            ),
            "<=" => matches!(
                ord(),
                Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
            ),
            _ => true,
        }
    })
}

/// Is the item enabled (enableWhen with enableBehavior; default any)?
fn enabled(qi: &Value, scope: &[Element<'_>]) -> bool {
    let conds: Vec<&Value> = qi
        .get("enableWhen")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    if conds.is_empty() {
        return true;
    }
    let results = conds.iter().map(|c| {
        let q = s(c, "question").unwrap_or("");
        condition_holds(c, &answers_to(q, scope))
    });
    if s(qi, "enableBehavior") == Some("all") {
        results.collect::<Vec<bool>>().iter().all(|&b| b)
    } else {
        results.collect::<Vec<bool>>().iter().any(|&b| b)
    }
}

impl<'v> Walk<'v> {
    /// Validate a QuestionnaireResponse (the current node) against the
    /// Questionnaire it names, when the registry has it.
    pub(crate) fn questionnaire_response(&mut self, qr: Element<'v>) {
        let Some(canonical) = qr.child_value("questionnaire") else {
            return;
        };
        let Some(q) = self
            .v
            .resolve(canonical)
            .filter(|r| r.resource_type == "Questionnaire")
        else {
            self.qr_questionnaire_not_found(qr, canonical);
            return;
        };
        self.qr_items(qr, items(&q.json), &[qr]);
    }

    /// `scope` is the chain of enclosing QR nodes (outermost first), where
    /// enableWhen questions are looked up, nearest first.
    fn qr_items(&mut self, parent: Element<'v>, qitems: &[Value], scope: &[Element<'v>]) {
        self.qr_item_structure(parent, qitems);
        let len = self.path.len();
        for (i, it) in parent.children_named("item").enumerate() {
            let link = it.child_value("linkId").unwrap_or("");
            match qitems.iter().find(|q| s(q, "linkId") == Some(link)) {
                None => self.report(Msg::QrLinkIdUnknown, args![link], it),
                Some(qi) => {
                    self.path.push_str(&format!(".item[{i}]"));
                    self.qr_item(it, qi, scope);
                    self.path.truncate(len);
                }
            }
        }
        for qi in qitems {
            let required = qi.get("required").and_then(Value::as_bool) == Some(true);
            let link = s(qi, "linkId").unwrap_or("");
            // A required item with enableWhen is required while enabled.
            if required
                && enabled(qi, scope)
                && !parent
                    .children_named("item")
                    .any(|it| it.child_value("linkId") == Some(link))
            {
                let severity = response_structure::required_answer_severity(scope);
                let path = self.path.clone();
                self.report_at(severity, Msg::QrRequiredMissing, args![link], &path, parent);
            }
        }
    }

    fn qr_item(&mut self, it: Element<'v>, qi: &Value, scope: &[Element<'v>]) {
        self.qr_item_text(it, qi);
        let ty = s(qi, "type").unwrap_or("");
        let mut inner: Vec<Element<'v>> = scope.to_vec();
        inner.push(it);
        if qi.get("enableWhen").is_some()
            && !enabled(qi, scope)
            && (it.child("answer").is_some()
                || it
                    .children_named("item")
                    .any(|c| c.child("answer").is_some()))
        {
            let link = s(qi, "linkId").unwrap_or("");
            self.report(Msg::QrAnswerNotEnabled, args![link], it);
        }
        let required = qi.get("required").and_then(Value::as_bool) == Some(true);
        let enabled_always = qi.get("enableWhen").is_none();
        let answers: Vec<Element<'v>> = it.children_named("answer").collect();
        let link = s(qi, "linkId").unwrap_or("");
        match ty {
            "display" => {
                if !answers.is_empty() {
                    self.report(Msg::QrDisplayAnswered, args![], it);
                }
            }
            "group" => {
                self.qr_group_answers(it);
                if required && enabled_always && it.child("item").is_none() {
                    self.report(Msg::QrRequiredGroupEmpty, args![], it);
                }
                self.qr_items(it, items(qi), &inner);
                return;
            }
            _ => {
                if required && enabled_always && answers.is_empty() {
                    let severity = response_structure::required_answer_severity(scope);
                    let path = self.path.clone();
                    self.report_at(severity, Msg::QrRequiredMissing, args![link], &path, it);
                }
                self.qr_items_outside_answers(it);
            }
        }
        if let Some(min) = exts(qi, "questionnaire-minOccurs")
            .first()
            .and_then(|v| v.as_u64())
        {
            if (answers.len() as u64) < min {
                self.report(Msg::QrTooFewAnswers, args![min, answers.len()], it);
            }
        }
        if let Some(max) = exts(qi, "questionnaire-maxOccurs")
            .first()
            .and_then(|v| v.as_u64())
        {
            if (answers.len() as u64) > max {
                self.report(Msg::QrTooManyAnswers, args![max, answers.len()], it);
            }
        }
        let repeats = qi.get("repeats").and_then(Value::as_bool) == Some(true);
        if !repeats && answers.len() > 1 {
            self.report(Msg::QrOneAnswerOnly, args![], it);
        }
        let len = self.path.len();
        for (j, a) in answers.iter().enumerate() {
            self.path.push_str(&format!(".answer[{j}]"));
            self.qr_answer(*a, qi, ty);
            if a.child("item").is_some() {
                let mut deeper = inner.clone();
                deeper.push(*a);
                self.qr_items(*a, items(qi), &deeper);
            }
            self.path.truncate(len);
        }
        // (items beside a question's answers are reported, not read: they
        // have no place in the Questionnaire)
    }

    fn qr_answer(&mut self, a: Element<'v>, qi: &Value, ty: &str) {
        let Some(v) = a.children().find(|c| c.name().starts_with("value")) else {
            return;
        };
        let found = type_of_suffix(&v.name()["value".len()..]);
        let allowed = answer_types(ty);
        let len = self.path.len();
        self.path.push_str(&format!(".value.ofType({found})"));
        // value[x] of QuestionnaireResponse.item.answer (others are
        // unknown properties, reported by the structural walk).
        const ANSWER_TYPES: &[&str] = &[
            "boolean",
            "decimal",
            "integer",
            "date",
            "dateTime",
            "time",
            "string",
            "uri",
            "Attachment",
            "Coding",
            "Quantity",
            "Reference",
        ];
        if !ANSWER_TYPES.contains(&found.as_str()) {
            self.path.truncate(len);
            return;
        }
        if !allowed.is_empty() && !allowed.contains(&found.as_str()) {
            let (msg, args) = match allowed {
                [only] => (Msg::QrAnswerType, args![*only, &found]),
                _ => (Msg::QrAnswerTypes, args![allowed.join(", ")]),
            };
            self.report(msg, args, v);
            self.path.truncate(len);
            return;
        }
        let value = v.value();
        match (found.as_str(), value) {
            ("integer" | "decimal" | "date" | "dateTime" | "time", Some(val)) => {
                self.qr_limits(v, qi, &found, val);
                if matches!(found.as_str(), "integer" | "date" | "time") {
                    self.qr_options(v, qi, &found, val);
                }
            }
            ("string", Some(val)) => {
                if let Some(vs) = s(qi, "answerValueSet").filter(|_| ty != "open-choice") {
                    let r = self
                        .v
                        .tx
                        .validate_code(vs, &fhirreg_terminology::CodingRef::code(val));
                    if let Ok(r) = r {
                        if !r.valid && !r.unknown {
                            self.report(Msg::QrStringNotInValueSet, args![val, vs], v);
                        }
                    }
                }
                if let Some(re) = exts(qi, "regex").first().and_then(|r| r.as_str()) {
                    if let Ok(rx) = regex::Regex::new(re) {
                        if !rx.is_match(val) {
                            let format = exts(qi, "entryFormat")
                                .first()
                                .and_then(|f| f.as_str())
                                .unwrap_or("")
                                .to_string();
                            self.report(Msg::QrRegex, args![val, format, re], v);
                        }
                    }
                }
            }
            ("Coding", _) => {
                let opts: Vec<&Value> = qi
                    .get("answerOption")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|o| o.get("valueCoding"))
                    .collect();
                if !opts.is_empty() {
                    let system = v.child_value("system").unwrap_or("");
                    let code = v.child_value("code").unwrap_or("");
                    let ok = opts.iter().any(|o| {
                        s(o, "system").unwrap_or("") == system && s(o, "code") == Some(code)
                    });
                    if !ok {
                        self.path.truncate(len);
                        self.report(Msg::QrCodingNotAnOption, args![system, code], a);
                    }
                } else if let Some(vs) = s(qi, "answerValueSet") {
                    self.qr_coding_in_value_set(v, a, vs, ty, len);
                }
            }
            ("Attachment", _) => {
                self.path.truncate(len);
                if let Some(max) = exts(qi, "maxSize").first().and_then(|m| m.as_f64()) {
                    let size = v
                        .child_value("data")
                        .map(base64_binary::decoded_len)
                        .or_else(|| v.child_value("size").and_then(|x| x.parse().ok()))
                        .unwrap_or(0);
                    if size as f64 > max {
                        let allowed = exts(qi, "maxSize")
                            .first()
                            .and_then(|m| json_primitive_text(m))
                            .unwrap_or_default();
                        self.report(Msg::QrAttachmentTooLarge, args![allowed, size], a);
                    }
                }
                let mimes: Vec<&str> = exts(qi, "mimeType")
                    .iter()
                    .filter_map(|m| m.as_str())
                    .collect();
                if let Some(ct) = v.child_value("contentType") {
                    if !mimes.is_empty() && !mimes.contains(&ct) {
                        self.report(Msg::QrAttachmentType, args![ct, mimes.join(", ")], a);
                    }
                }
            }
            ("Reference", _) => self.qr_reference(v, qi),
            ("Quantity", _) => {
                if let Some(vs) = exts(qi, "questionnaire-unitValueSet")
                    .first()
                    .and_then(|x| x.as_str())
                {
                    let system = v.child_value("system");
                    let code = v.child_value("code");
                    let coding = fhirreg_terminology::CodingRef {
                        system,
                        code,
                        ..Default::default()
                    };
                    let bad = code.is_none()
                        || self
                            .v
                            .tx
                            .validate_code(vs, &coding)
                            .is_ok_and(|r| !r.valid && !r.unknown);
                    if bad {
                        let label = match system {
                            Some("http://unitsofmeasure.org") => "UCUM",
                            Some(x) => x,
                            None => "",
                        };
                        let args = args![
                            v.child_value("value").unwrap_or(""),
                            v.child_value("unit").unwrap_or(""),
                            label,
                            code.unwrap_or("null"),
                            vs
                        ];
                        self.report(Msg::QrUnitNotInValueSet, args, v);
                    }
                }
                let units: Vec<&Value> = exts(qi, "questionnaire-unitOption");
                if !units.is_empty() {
                    let system = v.child_value("system").unwrap_or("");
                    let code = v.child_value("code").unwrap_or("");
                    let ok = units.iter().any(|u| {
                        s(u, "system").unwrap_or("") == system && s(u, "code") == Some(code)
                    });
                    if !ok {
                        let label = |sys: &str| {
                            if sys == "http://unitsofmeasure.org" {
                                "UCUM".to_string()
                            } else {
                                sys.to_string()
                            }
                        };
                        let list: Vec<String> = units
                            .iter()
                            .map(|u| {
                                format!(
                                    "{} ({}#{})",
                                    s(u, "display").unwrap_or(""),
                                    label(s(u, "system").unwrap_or("")),
                                    s(u, "code").unwrap_or("")
                                )
                            })
                            .collect();
                        let args = args![
                            v.child_value("value").unwrap_or(""),
                            v.child_value("unit").unwrap_or(""),
                            label(system),
                            code,
                            list.join(", ")
                        ];
                        self.report(Msg::QrUnitNotAnOption, args, v);
                    }
                }
            }
            _ => {}
        }
        self.path.truncate(len);
    }

    fn qr_limits(&mut self, v: Element<'v>, qi: &Value, ty: &str, val: &str) {
        if let Some(min) = exts(qi, "minValue")
            .first()
            .and_then(|m| json_primitive_text(m))
        {
            if compare(ty, val, &min) == Some(std::cmp::Ordering::Less) {
                self.report(Msg::QrBelowMinimum, args![val, min], v);
            }
        }
        if let Some(max) = exts(qi, "maxValue")
            .first()
            .and_then(|m| json_primitive_text(m))
        {
            if compare(ty, val, &max) == Some(std::cmp::Ordering::Greater) {
                self.report(Msg::QrAboveMaximum, args![val, max], v);
            }
        }
        if ty == "decimal" {
            if let Some(places) = exts(qi, "maxDecimalPlaces")
                .first()
                .and_then(|m| m.as_u64())
            {
                let actual = val.split_once('.').map_or(0, |(_, f)| f.len()) as u64;
                if actual > places {
                    self.report(Msg::QrTooManyDecimals, args![val, places], v);
                }
            }
        }
    }

    fn qr_options(&mut self, v: Element<'v>, qi: &Value, ty: &str, val: &str) {
        let key = format!("value{}", crate::upper_first(ty));
        let opts: Vec<String> = qi
            .get("answerOption")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| o.get(&key).and_then(json_primitive_text))
            .collect();
        if !opts.is_empty() && !opts.iter().any(|o| o == val) {
            self.report(Msg::QrValueNotAnOption, args![ty, val], v);
        }
    }

    fn qr_reference(&mut self, v: Element<'v>, qi: &Value) {
        let Some(r) = v.child_value("reference") else {
            return;
        };
        if r.starts_with('#') {
            return;
        }
        let parts: Vec<&str> = r.split('/').collect();
        let n = parts.len();
        let ty = if n >= 4 && parts[n - 2] == "_history" {
            parts.get(n - 4)
        } else if n >= 2 {
            parts.get(n - 2)
        } else {
            None
        };
        let Some(&ty) = ty else { return };
        if !self.v.is_resource_type(ty) {
            self.report(Msg::QrReferenceTypeUnknown, args![ty, r], v);
            return;
        }
        let allowed: Vec<&str> = exts(qi, "questionnaire-referenceResource")
            .iter()
            .filter_map(|x| x.as_str())
            .collect();
        if !allowed.is_empty() && !allowed.contains(&ty) {
            let args = args![ty, r, allowed.join(", ")];
            self.report(Msg::QrReferenceTypeNotAllowed, args, v);
        }
    }
}

/// An item of a Questionnaire in document order: its node, expression and
/// the index of the item after its last descendant.
struct QItem<'e> {
    node: Element<'e>,
    path: String,
    end: usize,
}

fn collect_items<'e>(parent: Element<'e>, path: &str, out: &mut Vec<QItem<'e>>, depth: usize) {
    // (bounded by the document's nesting, which the reader limits)
    for (i, it) in parent.children_named("item").enumerate() {
        let p = format!("{path}.item[{i}]");
        let at = out.len();
        out.push(QItem {
            node: it,
            path: p.clone(),
            end: at + 1,
        });
        if depth < 256 {
            collect_items(it, &p, out, depth + 1);
        }
        let end = out.len();
        if let Some(q) = out.get_mut(at) {
            q.end = end;
        }
    }
}

impl<'v> Walk<'v> {
    /// Questionnaire rules: enableWhen refers to an existing question that
    /// is not the item itself nor inside it (and comes before it).
    pub(crate) fn questionnaire(&mut self, q: Element<'v>) {
        let mut all = Vec::new();
        collect_items(q, "", &mut all, 0);
        let len = self.path.len();
        for (k, item) in all.iter().enumerate() {
            for ew in item.node.children_named("enableWhen") {
                self.path.truncate(len);
                self.path.push_str(&item.path);
                let Some(ql) = ew.child_value("question") else {
                    self.report(Msg::QEnableWhenNoQuestion, args![], item.node);
                    continue;
                };
                let link = item.node.child_value("linkId").unwrap_or("");
                let Some(t) = all
                    .iter()
                    .position(|x| x.node.child_value("linkId") == Some(ql))
                else {
                    self.report(Msg::QEnableWhenUnknownQuestion, args![ql, link], item.node);
                    continue;
                };
                if t == k || ql == link {
                    self.report(Msg::QEnableWhenSelf, args![], item.node);
                } else if t > k && t < item.end {
                    self.report(Msg::QEnableWhenInner, args![], item.node);
                } else if t > k {
                    self.report(Msg::QEnableWhenAfter, args![ql], item.node);
                }
            }
        }
        self.path.truncate(len);
    }
}

impl<'v> Walk<'v> {
    /// A Coding answer is in the item's answerValueSet (an error the value
    /// set validation reports, such as a wrong display, counts), as the HL7
    /// validator checks it; open-choice items allow other codes.
    fn qr_coding_in_value_set(
        &mut self,
        v: Element<'v>,
        a: Element<'v>,
        vs: &str,
        ty: &str,
        len: usize,
    ) {
        if ty == "open-choice" {
            return;
        }
        let coding = fhirreg_terminology::CodingRef {
            system: v.child_value("system"),
            version: v.child_value("version"),
            code: v.child_value("code"),
            display: v.child_value("display"),
        };
        let (Some(system), Some(code)) = (coding.system, coding.code) else {
            return;
        };
        let Ok(r) = self.v.tx.validate_code(vs, &coding) else {
            return;
        };
        let errors: Vec<Message> = r
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.message.clone())
            .collect();
        if r.unknown || (r.valid && errors.is_empty()) {
            return;
        }
        let name = self
            .v
            .registry
            .value_set(vs)
            .and_then(|x| x.name.clone())
            .unwrap_or_else(|| vs.to_string());
        self.path.truncate(len);
        let args = args![code, system, name, errors];
        self.report(Msg::QrCodingNotInValueSet, args, a);
    }
}
