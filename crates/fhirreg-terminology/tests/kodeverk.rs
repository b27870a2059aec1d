//! Norwegian code systems from the hl7.fhir.no.kodeverk package in the
//! shared test data (skipped with a note when the data is absent).

use std::path::PathBuf;

use fhirreg_registry::Registry;
use fhirreg_terminology::{IssueKind, Severity, Terminology};

fn kodeverk() -> Option<Terminology> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/packages/hl7.fhir.no.kodeverk#0.6.0.tgz");
    if !path.exists() {
        println!("skipping: {} is not present", path.display());
        return None;
    }
    let registry = Registry::builder()
        .add_path(&path)
        .build()
        .expect("the kodeverk package loads");
    Some(Terminology::new(registry))
}

#[test]
fn volven_code_systems() {
    let Some(tx) = kodeverk() else { return };
    let cs = "http://helsedir.no/fhir/CodeSystem/no-kodeverk-8116";
    let r = tx
        .validate_code_in_system(cs, "FNR", Some("Fødselsnummer"))
        .unwrap();
    assert!(r.valid && !r.unknown && r.issues.is_empty(), "{r:?}");
    let r = tx.validate_code_in_system(cs, "XYZ", None).unwrap();
    assert!(!r.valid);
    assert_eq!(
        r.message().unwrap(),
        "The code 'XYZ' is not defined in version '0.6.0' of the code system 'http://helsedir.no/fhir/CodeSystem/no-kodeverk-8116'"
    );
    let r = tx
        .validate_code_in_system(cs, "FNR", Some("Personnummer"))
        .unwrap();
    assert!(r.has(IssueKind::InvalidDisplay));
    // content = not-present: cannot be checked, never an error
    let r = tx
        .validate_code_in_system(
            "http://helsedir.no/fhir/CodeSystem/no-kodeverk-3108",
            "1",
            None,
        )
        .unwrap();
    assert!(r.valid && r.unknown, "{r:?}");
    assert_eq!(r.severity(), Some(Severity::Warning));
    // the Norwegian ICD-10 stub: not shippable, information only
    let r = tx
        .validate_code_in_system("http://hl7.org/fhir/sid/icd-10-no", "J06.9", None)
        .unwrap();
    assert!(r.valid && r.unknown);
    assert_eq!(r.severity(), Some(Severity::Information));
}
