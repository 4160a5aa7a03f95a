//! The WeChat push parser on arbitrary text: it may refuse, it must not panic.
#![no_main]

use guanjia::channel::wechat::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // PostgreSQL text cannot hold NUL, so nothing with one may pass the parser.
        if xml::parse_push(text).is_ok() {
            assert!(!text.contains('\0'));
        }
        let _ = xml::parse_envelope(text);
    }
});
