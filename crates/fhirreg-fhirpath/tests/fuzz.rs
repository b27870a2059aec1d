//! Random expressions over random small element trees: compile and
//! evaluate must never panic (errors are fine).

use std::sync::OnceLock;

use fhirreg_element::{Document, NodeId, Position, ValueKind};
use fhirreg_fhirpath::{EvalContext, Expression, Limits};
use fhirreg_registry::model::FhirPathModel;
use proptest::prelude::*;

fn model() -> &'static FhirPathModel {
    static M: OnceLock<FhirPathModel> = OnceLock::new();
    M.get_or_init(|| {
        FhirPathModel::new(fhirreg_registry::Registry::builder().build().expect("core"))
    })
}

const NAMES: &[&str] = &[
    "name",
    "given",
    "family",
    "value",
    "valueQuantity",
    "valueString",
    "extension",
    "url",
    "birthDate",
    "active",
    "code",
    "contained",
    "id",
    "reference",
    "entry",
    "resource",
    "use",
];

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("'a'".to_string()),
        Just("''".to_string()),
        (-5i64..100).prop_map(|i| i.to_string()),
        Just("2.50".to_string()),
        Just("@2015-02".to_string()),
        Just("@2015-02-04T14:34:28.1+02:00".to_string()),
        Just("@T10:30".to_string()),
        Just("true".to_string()),
        Just("{}".to_string()),
        Just("$this".to_string()),
        Just("$index".to_string()),
        Just("$total".to_string()),
        Just("%resource".to_string()),
        Just("%context".to_string()),
        Just("5 'mg'".to_string()),
        Just("3 days".to_string()),
        Just("Patient".to_string()),
        prop::sample::select(NAMES).prop_map(|s| s.to_string()),
    ]
}

const FUNCS0: &[&str] = &[
    "empty",
    "exists",
    "count",
    "first",
    "last",
    "tail",
    "distinct",
    "not",
    "children",
    "descendants",
    "toString",
    "toInteger",
    "toDecimal",
    "toDate",
    "toDateTime",
    "toQuantity",
    "length",
    "upper",
    "abs",
    "floor",
    "sqrt",
    "ln",
    "exp",
    "hasValue",
    "getValue",
    "resolve",
    "allTrue",
    "anyFalse",
    "type",
    "precision",
    "lowBoundary",
    "highBoundary",
    "toChars",
    "sort",
    "today",
    "now",
    "trim",
    "single",
    "isDistinct",
];
const FUNCS1: &[&str] = &[
    "where",
    "select",
    "all",
    "repeat",
    "exists",
    "skip",
    "take",
    "union",
    "combine",
    "intersect",
    "exclude",
    "subsetOf",
    "indexOf",
    "substring",
    "startsWith",
    "contains",
    "matches",
    "split",
    "join",
    "round",
    "power",
    "log",
    "extension",
    "trace",
    "aggregate",
    "memberOf",
    "conformsTo",
    "encode",
    "decode",
    "sort",
];
const OPS: &[&str] = &[
    "+", "-", "*", "/", "div", "mod", "&", "|", "=", "!=", "~", "!~", "<", "<=", ">", ">=", "and",
    "or", "xor", "implies", "in", "contains",
];

fn expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(5, 48, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(FUNCS0)).prop_map(|(a, f)| format!("{a}.{f}()")),
            (inner.clone(), prop::sample::select(FUNCS1), inner.clone())
                .prop_map(|(a, f, b)| format!("{a}.{f}({b})")),
            (inner.clone(), prop::sample::select(OPS), inner.clone())
                .prop_map(|(a, o, b)| format!("{a} {o} {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            inner.clone().prop_map(|a| format!("{a} is Quantity")),
            inner.clone().prop_map(|a| format!("{a}.ofType(string)")),
            (inner.clone(), prop::sample::select(NAMES)).prop_map(|(a, n)| format!("{a}.{n}")),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(a, b, c)| format!("iif({a}, {b}, {c})")),
        ]
    })
}

/// A generated node, made into a document by [`root`].
#[derive(Clone, Debug)]
struct Spec {
    name: &'static str,
    value: Option<String>,
    children: Vec<Spec>,
    resource: bool,
    number: bool,
}

fn tree() -> impl Strategy<Value = Spec> {
    let leaf = (
        prop::sample::select(NAMES),
        prop::option::of(prop_oneof![
            Just("1974-12-25".to_string()),
            Just("true".to_string()),
            Just("12.5".to_string()),
            Just("#x".to_string()),
            "[a-z0-9 ]{0,6}",
        ]),
    )
        .prop_map(|(n, v)| Spec {
            name: n,
            value: v,
            children: Vec::new(),
            resource: false,
            number: false,
        });
    leaf.prop_recursive(4, 40, 5, |inner| {
        (
            prop::sample::select(NAMES),
            prop::collection::vec(inner, 0..5),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(n, children, resource, number)| Spec {
                name: n,
                value: None,
                children,
                resource,
                number,
            })
    })
}

fn root(children: Vec<Spec>) -> Document {
    fn add(doc: &mut Document, parent: NodeId, s: &Spec) {
        let id = doc.add_child(parent, s.name, Position::default());
        if let Some(v) = &s.value {
            doc.set_value(id, v, ValueKind::String);
        }
        if s.resource {
            doc.set_resource_type(id, "Patient");
        }
        if s.number {
            doc.set_value_kind(id, ValueKind::Number);
        }
        for c in &s.children {
            add(doc, id, c);
        }
    }
    let mut doc = Document::new("Patient");
    let r = doc.root().id();
    for c in &children {
        add(&mut doc, r, c);
    }
    doc
}

fn run(src: &str, doc: &Document) {
    let Ok(e) = Expression::compile(src) else {
        return;
    };
    let limits = Limits {
        max_items: 10_000,
        ..Limits::default()
    };
    let tree = doc.root();
    let _ = e.evaluate(&EvalContext::new(tree).with_limits(limits.clone()));
    let _ = e.evaluate(
        &EvalContext::new(tree)
            .with_model(model())
            .strict(true)
            .with_limits(limits),
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn structured_expressions_never_panic(src in expr(), children in prop::collection::vec(tree(), 0..6)) {
        run(&src, &root(children));
    }

    #[test]
    fn arbitrary_text_never_panics(src in "[a-zA-Z0-9 .()\\[\\]'@%$+*/&|<>=~!,{}`\"\\\\-]{0,40}", children in prop::collection::vec(tree(), 0..3)) {
        run(&src, &root(children));
    }
}
