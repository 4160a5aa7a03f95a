//! The webhook body parser and signature check on arbitrary bytes.
#![no_main]

use guanjia::channel::webhook::message::WebhookMessage;
use guanjia::channel::webhook::signature;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = WebhookMessage::parse(data) {
        assert!(!m.message_id.is_empty() && !m.user_id.is_empty());
        assert!(!m.text.contains('\0'));
        let _ = m.to_json();
    }
    let header = String::from_utf8_lossy(data);
    let _ = signature::verify(b"secret", "1700000000", data, &header);
    let _ = signature::fresh(&header, 1_700_000_000, 300);
    let good = signature::sign(b"secret", "1700000000", data);
    assert!(signature::verify(b"secret", "1700000000", data, &good));
});
