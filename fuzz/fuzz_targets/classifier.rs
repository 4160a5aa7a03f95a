//! The classifier on arbitrary UTF-8 with the shipped lexicon.
#![no_main]

use std::sync::OnceLock;

use guanjia::understanding::Classifier;
use libfuzzer_sys::fuzz_target;

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| {
        let lexicon = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/lexicon.toml");
        Classifier::load(std::path::Path::new(lexicon)).expect("the lexicon loads")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let c = classifier().classify(text);
        assert!(c.confidence.is_finite());
        let _ = guanjia::understanding::detect_locale(text);
    }
});
