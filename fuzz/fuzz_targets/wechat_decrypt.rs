//! Safe-mode decryption with the demo key and appid on arbitrary `Encrypt` values; also a
//! round trip, since whatever we seal must open to the same text.
#![no_main]

use guanjia::channel::wechat::crypto::{self, AesKey};
use libfuzzer_sys::fuzz_target;

const AES_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const APPID: &str = "wx5823bf96d3bd56c7";

fuzz_target!(|data: &[u8]| {
    let key = AesKey::parse(AES_KEY).expect("the demo key parses");
    let text = String::from_utf8_lossy(data);
    let _ = crypto::decrypt(&key, APPID, &text);
    let _ = AesKey::parse(&text);
    let sealed = crypto::encrypt(&key, APPID, &text);
    assert_eq!(crypto::decrypt(&key, APPID, &sealed).as_deref(), Ok(&*text));
});
