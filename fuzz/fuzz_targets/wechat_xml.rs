//! The WeChat push parser on arbitrary text: it may refuse, it must not panic.
#![no_main]

use guanjia::channel::wechat::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = xml::parse_push(text);
        let _ = xml::parse_envelope(text);
    }
});
