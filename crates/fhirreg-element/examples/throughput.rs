//! Reader/writer throughput over a directory of FHIR JSON files:
//! `cargo run --release -p fhirreg-element --example throughput -- DIR`.

use fhirreg_element::{json, xml, ParseOptions};
use std::time::{Duration, Instant};

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: throughput DIR");
        std::process::exit(2);
    };
    let files: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .filter_map(|p| std::fs::read(p).ok())
                .collect()
        })
        .unwrap_or_default();
    let opts = ParseOptions::default();
    let json_bytes: usize = files.iter().map(Vec::len).sum();
    // Read and drop (as a validator does), three rounds, best kept.
    let mut t_json = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        for f in &files {
            let _ = std::hint::black_box(json::parse(f, &opts));
        }
        t_json = t_json.min(t.elapsed());
    }
    let docs: Vec<_> = files
        .iter()
        .filter_map(|f| json::parse(f, &opts).ok())
        .collect();
    let t = Instant::now();
    let xmls: Vec<String> = docs.iter().map(|d| xml::write(d.root(), false)).collect();
    let t_xml_w = t.elapsed();
    let t = Instant::now();
    let jsons: usize = docs
        .iter()
        .map(|d| json::write(d.root(), false).len())
        .sum();
    let t_json_w = t.elapsed();
    let xml_bytes: usize = xmls.iter().map(String::len).sum();
    let t = Instant::now();
    let ok = xmls
        .iter()
        .filter(|x| xml::parse(x.as_bytes(), &opts).is_ok())
        .count();
    let t_xml = t.elapsed();
    let mbs = |b: usize, d: Duration| b as f64 / 1e6 / d.as_secs_f64().max(1e-9);
    println!("{} files", files.len());
    println!(
        "JSON read : {:>7.1} MB/s ({json_bytes} bytes)",
        mbs(json_bytes, t_json)
    );
    println!("JSON write: {:>7.1} MB/s", mbs(jsons, t_json_w));
    println!("XML read  : {:>7.1} MB/s ({ok} ok)", mbs(xml_bytes, t_xml));
    println!("XML write : {:>7.1} MB/s", mbs(xml_bytes, t_xml_w));
}
