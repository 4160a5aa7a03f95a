//! WeChat's message encryption (安全模式): AES-256-CBC with IV = the key's first 16 bytes,
//! PKCS#7 padding to 32-byte blocks, and the plaintext laid out as
//! `16 random bytes ‖ 4-byte big-endian length ‖ message ‖ AppID`.
//!
//! Every check the SDKs have been caught skipping is made here: the key must be 43
//! characters of `[A-Za-z0-9]` (decoded leniently, since real keys leave trailing bits),
//! padding is checked strictly, the length must fit, and the trailing AppID must be ours.

use aes::Aes256;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use rand::RngCore;

const BLOCK: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("EncodingAESKey must be 43 characters of [A-Za-z0-9]")]
    BadKey,
    #[error("ciphertext is not valid base64")]
    BadBase64,
    #[error("ciphertext length is not a multiple of the AES block")]
    BadLength,
    #[error("bad PKCS#7 padding")]
    BadPadding,
    #[error("message length does not fit the plaintext")]
    BadMessageLength,
    #[error("message is not UTF-8")]
    NotUtf8,
    #[error("message is for another AppID")]
    WrongAppId,
}

/// A parsed EncodingAESKey: 32 bytes of AES key. Only [`AesKey::parse`] makes one.
#[derive(Clone)]
pub struct AesKey([u8; 32]);

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey(..)")
    }
}

/// Decodes base64 whose last character may carry non-zero trailing bits.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl AesKey {
    pub fn parse(encoding_aes_key: &str) -> Result<Self, CryptoError> {
        if encoding_aes_key.len() != 43
            || !encoding_aes_key.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(CryptoError::BadKey);
        }
        let bytes = LENIENT
            .decode(encoding_aes_key)
            .map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self(key))
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }
}

/// Encrypts `msg` for `appid` with a fresh random prefix; returns the base64 `Encrypt`.
pub fn encrypt(key: &AesKey, appid: &str, msg: &str) -> String {
    let mut prefix = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut prefix);
    encrypt_with_prefix(key, appid, msg, prefix)
}

/// [`encrypt`] with a given random prefix, so known vectors can be reproduced.
pub fn encrypt_with_prefix(key: &AesKey, appid: &str, msg: &str, prefix: [u8; 16]) -> String {
    let msg_len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
    let mut plain = Vec::with_capacity(20 + msg.len() + appid.len() + BLOCK);
    plain.extend_from_slice(&prefix);
    plain.extend_from_slice(&msg_len.to_be_bytes());
    plain.extend_from_slice(msg.as_bytes());
    plain.extend_from_slice(appid.as_bytes());
    let pad = BLOCK - plain.len() % BLOCK;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let cipher = cbc::Encryptor::<Aes256>::new(&key.0.into(), &key.iv().into());
    let encrypted = cipher.encrypt_padded_vec_mut::<NoPadding>(&plain);
    STANDARD.encode(encrypted)
}

/// Decrypts a base64 `Encrypt` and checks it was meant for `appid`.
pub fn decrypt(key: &AesKey, appid: &str, encrypted: &str) -> Result<String, CryptoError> {
    let (msg, receiver) = decrypt_any(key, encrypted)?;
    if receiver.as_bytes() != appid.as_bytes() {
        return Err(CryptoError::WrongAppId);
    }
    Ok(msg)
}

/// Tries the current key, then the previous one (key rotation). Returns the message and
/// the key that opened it, so the reply can be sealed with the same one.
pub fn decrypt_with_keys<'k>(
    keys: &'k [AesKey],
    appid: &str,
    encrypted: &str,
) -> Result<(String, &'k AesKey), CryptoError> {
    let mut last = CryptoError::BadKey;
    for key in keys {
        match decrypt(key, appid, encrypted) {
            Ok(msg) => return Ok((msg, key)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Decrypts without the AppID check; returns the message and the receiver id it carries.
fn decrypt_any(key: &AesKey, encrypted: &str) -> Result<(String, String), CryptoError> {
    let data = STANDARD
        .decode(encrypted.trim())
        .map_err(|_| CryptoError::BadBase64)?;
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(CryptoError::BadLength);
    }
    let cipher = cbc::Decryptor::<Aes256>::new(&key.0.into(), &key.iv().into());
    let plain = cipher
        .decrypt_padded_vec_mut::<NoPadding>(&data)
        .map_err(|_| CryptoError::BadLength)?;
    let unpadded = strip_padding(&plain)?;
    let (msg, receiver) = split_plaintext(unpadded)?;
    let msg = String::from_utf8(msg.to_vec()).map_err(|_| CryptoError::NotUtf8)?;
    let receiver = String::from_utf8(receiver.to_vec()).map_err(|_| CryptoError::NotUtf8)?;
    Ok((msg, receiver))
}

/// Strict PKCS#7 with a 32-byte block: the pad is 1..=32 bytes, all equal to the count.
fn strip_padding(plain: &[u8]) -> Result<&[u8], CryptoError> {
    let &pad = plain.last().ok_or(CryptoError::BadPadding)?;
    let pad = usize::from(pad);
    if pad == 0 || pad > BLOCK || pad > plain.len() {
        return Err(CryptoError::BadPadding);
    }
    let (body, padding) = plain.split_at(plain.len() - pad);
    if padding.iter().any(|&b| usize::from(b) != pad) {
        return Err(CryptoError::BadPadding);
    }
    Ok(body)
}

/// `16 random ‖ len ‖ msg ‖ receiver` → (msg, receiver).
fn split_plaintext(plain: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    if plain.len() < 20 {
        return Err(CryptoError::BadMessageLength);
    }
    let len_bytes: [u8; 4] = plain[16..20]
        .try_into()
        .map_err(|_| CryptoError::BadMessageLength)?;
    let msg_len = u32::from_be_bytes(len_bytes) as usize;
    let end = 20usize
        .checked_add(msg_len)
        .ok_or(CryptoError::BadMessageLength)?;
    if end > plain.len() {
        return Err(CryptoError::BadMessageLength);
    }
    Ok((&plain[20..end], &plain[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::wechat::signature;

    fn prefix(s: &str) -> [u8; 16] {
        s.as_bytes().try_into().unwrap()
    }

    /// The plaintext as the sender laid it out, padding included, for the pad checks.
    fn raw_plain(key: &AesKey, encrypted: &str) -> Vec<u8> {
        let data = STANDARD.decode(encrypted).unwrap();
        cbc::Decryptor::<Aes256>::new(&key.0.into(), &key.iv().into())
            .decrypt_padded_vec_mut::<NoPadding>(&data)
            .unwrap()
    }

    const V1_ENCRYPT: &str = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=";

    #[test]
    fn v1_official_documentation_both_directions() {
        let key = AesKey::parse(&"A".repeat(43)).unwrap();
        let appid = "wxba5fad812f8e6fb9";
        assert!(signature::verify(
            "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3",
            &["AAAAA", "1714112445", "415670741", V1_ENCRYPT]
        ));
        let msg = decrypt(&key, appid, V1_ENCRYPT).unwrap();
        assert_eq!(
            msg,
            r#"{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}"#
        );
        let raw = raw_plain(&key, V1_ENCRYPT);
        assert_eq!(&raw[..16], b"a8eedb185eb2fecf");
        assert_eq!(u32::from_be_bytes(raw[16..20].try_into().unwrap()), 167);
        assert_eq!(*raw.last().unwrap(), 19);

        let reply = encrypt_with_prefix(
            &key,
            appid,
            r#"{"demo_resp":"good luck"}"#,
            prefix("707722b803182950"),
        );
        assert_eq!(reply, "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==");
        assert_eq!(
            signature::sign(&["AAAAA", "1713424427", "415670741", &reply]),
            "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"
        );
    }

    #[test]
    fn v2_easywechat_sample_key_xml_message() {
        let encrypt = "rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlxbgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOytpv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJoC0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBvRUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA==";
        assert!(signature::verify(
            "4f3ad57b6989f09f4eb392acce4f9e93942ed890",
            &["pamtest", "1458300676", "260774613", encrypt]
        ));
        let key = AesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
        let msg = decrypt(&key, "wxb11529c136998cb6", encrypt).unwrap();
        assert_eq!(msg, "<xml><URL><![CDATA[http://wechat.laravel.so/server]]></URL><ToUserName><![CDATA[asdasdasd]]></ToUserName><FromUserName><![CDATA[asdasdasdsadasd]]></FromUserName><CreateTime>1234567898</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>12345</MsgId></xml>");
        let raw = raw_plain(&key, encrypt);
        assert_eq!(&raw[..16], b"d43123b161a4ba84");
        assert_eq!(u32::from_be_bytes(raw[16..20].try_into().unwrap()), 293);
        assert_eq!(*raw.last().unwrap(), 21);
        // Re-encrypting with the same prefix gives the vector back byte for byte.
        assert_eq!(
            encrypt_with_prefix(&key, "wxb11529c136998cb6", &msg, prefix("d43123b161a4ba84")),
            encrypt
        );
    }

    #[test]
    fn v3_wxjava_length_counts_utf8_bytes() {
        let key = AesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
        let out = encrypt_with_prefix(
            &key,
            "wxb11529c136998cb6",
            "我是中文abcd123",
            prefix("aaaabbbbccccdddd"),
        );
        assert_eq!(out, "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==");
        assert_eq!(
            decrypt(&key, "wxb11529c136998cb6", &out).unwrap(),
            "我是中文abcd123"
        );
    }

    const V4_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
    const V4_CORP: &str = "wx49f0ab532d5d035a";

    #[test]
    fn v4_wechatpy_url_check_with_a_non_canonical_key() {
        let echostr = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";
        let sig = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96";
        assert!(signature::verify(
            sig,
            &["123456", "1411443780", "437374425", echostr]
        ));
        assert!(!signature::verify(
            sig,
            &["123456", "1411443780", "437374424", echostr]
        ));
        let key = AesKey::parse(V4_KEY).unwrap();
        assert_eq!(
            decrypt(&key, V4_CORP, echostr).unwrap(),
            "5927782489442352469"
        );
    }

    #[test]
    fn v4_wechatpy_message_both_directions() {
        let encrypt = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=";
        assert!(signature::verify(
            "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
            &["123456", "1411525903", "461056294", encrypt]
        ));
        let key = AesKey::parse(V4_KEY).unwrap();
        let msg = decrypt(&key, V4_CORP, encrypt).unwrap();
        assert_eq!(msg, "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<FromUserName><![CDATA[messense]]></FromUserName>\n<CreateTime>1411525903</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<MsgId>4363689963896700987</MsgId>\n<AgentID>1</AgentID>\n</xml>");
        let raw = raw_plain(&key, encrypt);
        assert_eq!(u32::from_be_bytes(raw[16..20].try_into().unwrap()), 281);
        assert_eq!(*raw.last().unwrap(), 1);

        let reply = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
        let out = encrypt_with_prefix(&key, V4_CORP, reply, prefix("1234567890123456"));
        assert_eq!(out, "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3");
        assert_eq!(
            signature::sign(&["123456", "1411525903", "461056294", &out]),
            "407518b7649e86ef23978113f92d27afa9296533"
        );
    }

    pub(crate) const V6_ENCRYPT: &str = "cxx8rMPxm/a7hR3cxkedKEEK4XaBSRUzkaKsAL0eqKAkuaeaUX21HJqsJBkUzdkzZfeecsJ68kZ4NSFdwl0HxdVpR4lS+tUWDfffkFuc7PGaCMqwLIBNpVyhI6hjiu0PbiCFHzK0va5l92cwjmHLLRsz3oFJxspGQpV6nu/+FGjCLZZPFqcZVLkVARxr7Reo2WkfSzKL29+EzdfkVhkUK7CilF+sPgD0Jv9UlKl6HqvVCATTCYMbAH1pjcG5VlzhUc3cZz4XYBqSSmbyoranEZ1IinuVZfq9hgHJc/fMN1UAff6UBHtHUcOgbNeU5MReiOemRLvQnCtrZ2uGOxIRsKslTD2J8kYZuL0JAGiTlTjsNvVHX6hBpdbYPwhbRsNdS1dLzUPT+HpF0tqTs3q7LtVOOXyJ6686T3Mn9yl074e6ceLSktudIcYIVpetjpYCKdnpMwxLzfoj8n3v3ABn7g==";
    pub(crate) const V6_PLAIN: &str = "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[3栋2单元1101 厨房水管漏水]]></Content><MsgId>24263517285930000</MsgId></xml>";

    #[test]
    fn v6_guanjia_chinese_message_byte_for_byte() {
        assert!(signature::verify(
            "3b97316d16553426b7529a1730af650e9b8e3ba7",
            &[
                "guanjia-vector-token",
                "1700000000",
                "1320562132",
                V6_ENCRYPT
            ]
        ));
        let key = AesKey::parse(V4_KEY).unwrap();
        let msg = decrypt(&key, "wx5823bf96d3bd56c7", V6_ENCRYPT).unwrap();
        assert_eq!(msg, V6_PLAIN);
        let raw = raw_plain(&key, V6_ENCRYPT);
        let original_prefix: [u8; 16] = raw[..16].try_into().unwrap();
        assert_eq!(
            encrypt_with_prefix(&key, "wx5823bf96d3bd56c7", V6_PLAIN, original_prefix),
            V6_ENCRYPT
        );
    }

    #[test]
    fn a_message_for_another_appid_is_refused() {
        let key = AesKey::parse(V4_KEY).unwrap();
        assert_eq!(
            decrypt(&key, "1000005", V6_ENCRYPT),
            Err(CryptoError::WrongAppId)
        );
        let sealed = encrypt(&key, "wwedab3d5fc43636d8", "hi");
        assert_eq!(
            decrypt(&key, "1000005", &sealed),
            Err(CryptoError::WrongAppId)
        );
        assert_eq!(decrypt(&key, "wwedab3d5fc43636d8", &sealed).unwrap(), "hi");
    }

    #[test]
    fn keys_are_checked_for_length_and_alphabet() {
        assert!(AesKey::parse(V4_KEY).is_ok());
        assert_eq!(
            AesKey::parse(&V4_KEY[..42]).unwrap_err(),
            CryptoError::BadKey
        );
        assert_eq!(
            AesKey::parse(&format!("{V4_KEY}A")).unwrap_err(),
            CryptoError::BadKey
        );
        assert_eq!(
            AesKey::parse(&format!("{}+", &V4_KEY[..42])).unwrap_err(),
            CryptoError::BadKey
        );
        assert_eq!(
            AesKey::parse(&format!("{}=", &V4_KEY[..42])).unwrap_err(),
            CryptoError::BadKey
        );
        assert_eq!(AesKey::parse("").unwrap_err(), CryptoError::BadKey);
        // A strict decoder refuses this key; ours must not.
        assert!(STANDARD.decode(format!("{V4_KEY}=")).is_err());
    }

    /// Seals a hand-made plaintext (no padding added) to probe the checks.
    fn seal_raw(key: &AesKey, plain: &[u8]) -> String {
        let out = cbc::Encryptor::<Aes256>::new(&key.0.into(), &key.iv().into())
            .encrypt_padded_vec_mut::<NoPadding>(plain);
        STANDARD.encode(out)
    }

    fn layout(msg: &[u8], declared_len: u32, appid: &[u8]) -> Vec<u8> {
        let mut p = b"0123456789abcdef".to_vec();
        p.extend_from_slice(&declared_len.to_be_bytes());
        p.extend_from_slice(msg);
        p.extend_from_slice(appid);
        p
    }

    #[test]
    fn padding_is_checked_strictly() {
        let key = AesKey::parse(V4_KEY).unwrap();
        let mut plain = layout(b"hello", 5, b"wxapp");
        let base = plain.len();
        let pad = 64 - base; // 34: more than one block of 32 is refused
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        assert_eq!(
            decrypt(&key, "wxapp", &seal_raw(&key, &plain)),
            Err(CryptoError::BadPadding)
        );

        let mut zero = layout(b"hello", 5, b"wxapp");
        let pad = 32 - zero.len() % 32;
        zero.extend(std::iter::repeat_n(0u8, pad));
        assert_eq!(
            decrypt(&key, "wxapp", &seal_raw(&key, &zero)),
            Err(CryptoError::BadPadding)
        );

        let mut uneven = layout(b"hello", 5, b"wxapp");
        let pad = 32 - uneven.len() % 32;
        uneven.extend(std::iter::repeat_n(pad as u8, pad));
        let n = uneven.len();
        uneven[n - 2] = pad as u8 - 1;
        assert_eq!(
            decrypt(&key, "wxapp", &seal_raw(&key, &uneven)),
            Err(CryptoError::BadPadding)
        );
    }

    #[test]
    fn a_length_beyond_the_plaintext_is_refused() {
        let key = AesKey::parse(V4_KEY).unwrap();
        let mut plain = layout(b"hello", 500, b"wxapp");
        let pad = 32 - plain.len() % 32;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        assert_eq!(
            decrypt(&key, "wxapp", &seal_raw(&key, &plain)),
            Err(CryptoError::BadMessageLength)
        );
    }

    #[test]
    fn garbage_ciphertext_is_refused() {
        let key = AesKey::parse(V4_KEY).unwrap();
        assert_eq!(
            decrypt(&key, "a", "not base64!"),
            Err(CryptoError::BadBase64)
        );
        assert_eq!(decrypt(&key, "a", "AAAA"), Err(CryptoError::BadLength));
        assert_eq!(decrypt(&key, "a", ""), Err(CryptoError::BadLength));
    }

    #[test]
    fn the_previous_key_is_tried_when_the_current_one_fails() {
        let old = AesKey::parse(V4_KEY).unwrap();
        let new = AesKey::parse(&"B".repeat(43)).unwrap();
        let keys = [new, old];
        let (msg, used) = decrypt_with_keys(&keys, "wx5823bf96d3bd56c7", V6_ENCRYPT).unwrap();
        assert_eq!(msg, V6_PLAIN);
        assert_eq!(used.0, keys[1].0);
        assert!(decrypt_with_keys(&keys[..1], "wx5823bf96d3bd56c7", V6_ENCRYPT).is_err());
    }

    #[test]
    fn round_trip_with_random_prefixes_differs_each_time() {
        let key = AesKey::parse(V4_KEY).unwrap();
        let a = encrypt(&key, "wx", "同一句话");
        let b = encrypt(&key, "wx", "同一句话");
        assert_ne!(a, b);
        assert_eq!(decrypt(&key, "wx", &a).unwrap(), "同一句话");
        assert_eq!(decrypt(&key, "wx", &b).unwrap(), "同一句话");
    }
}
