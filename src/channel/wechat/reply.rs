//! What goes back to WeChat in the HTTP response: a passive text reply, optionally sealed in
//! the safe-mode envelope. `success` (no reply) is never encrypted.

use super::crypto::{self, AesKey};
use super::signature;

/// WeChat shows at most about this many bytes of a passive text reply.
pub const PASSIVE_LIMIT: usize = 2048;

/// Wraps `text` in CDATA; a `]]>` inside is split across two sections so it cannot end
/// the section early.
pub fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// The passive text reply: To/From swapped relative to the push.
pub fn text(to_user: &str, from_user: &str, create_time: i64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>{}</Content></xml>",
        cdata(to_user),
        cdata(from_user),
        cdata(content)
    )
}

/// The safe-mode envelope around `reply_xml`, signed over token, timestamp, nonce and
/// the `Encrypt` string.
pub fn encrypted(
    key: &AesKey,
    appid: &str,
    token: &str,
    reply_xml: &str,
    timestamp: i64,
    nonce: &str,
) -> String {
    let encrypt = crypto::encrypt(key, appid, reply_xml);
    envelope(token, &encrypt, timestamp, nonce)
}

pub fn envelope(token: &str, encrypt: &str, timestamp: i64, nonce: &str) -> String {
    let ts = timestamp.to_string();
    let sig = signature::sign(&[token, &ts, nonce, encrypt]);
    format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{ts}</TimeStamp><Nonce>{}</Nonce></xml>",
        cdata(encrypt),
        cdata(&sig),
        cdata(nonce)
    )
}

/// Splits a reply into the part that fits a passive reply (`limit` bytes) and the rest.
/// Cuts at the last line break in the second half of the window when there is one, else
/// at a character boundary.
pub fn split(text: &str, limit: usize) -> (&str, &str) {
    if text.len() <= limit {
        return (text, "");
    }
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    if let Some(nl) = text[..cut].rfind('\n') {
        if nl >= limit / 2 {
            cut = nl + 1;
        }
    }
    let (head, tail) = text.split_at(cut);
    (head, tail.trim_start_matches('\n'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::wechat::xml::parse_fields;

    #[test]
    fn text_reply_is_well_formed_and_swapped() {
        let x = text("o_user", "gh_account", 1700000001, "已为您登记报修");
        let f = parse_fields(&x).unwrap();
        assert_eq!(f.get("ToUserName"), Some("o_user"));
        assert_eq!(f.get("FromUserName"), Some("gh_account"));
        assert_eq!(f.get("CreateTime"), Some("1700000001"));
        assert_eq!(f.get("MsgType"), Some("text"));
        assert_eq!(f.get("Content"), Some("已为您登记报修"));
    }

    #[test]
    fn cdata_terminator_inside_content_survives() {
        let content = "a]]>b<c>&d]]>";
        let f = parse_fields(&text("u", "g", 1, content)).unwrap();
        assert_eq!(f.get("Content"), Some(content));
    }

    #[test]
    fn encrypted_envelope_opens_with_the_key_and_verifies() {
        let key = AesKey::parse("kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR").unwrap();
        let inner = text("u", "g", 1, "你好");
        let env = encrypted(&key, "wxapp", "tok", &inner, 1700000001, "12345");
        let f = parse_fields(&env).unwrap();
        let enc = f.get("Encrypt").unwrap();
        assert!(signature::verify(
            f.get("MsgSignature").unwrap(),
            &["tok", "1700000001", "12345", enc]
        ));
        assert_eq!(f.get("TimeStamp"), Some("1700000001"));
        assert_eq!(f.get("Nonce"), Some("12345"));
        assert_eq!(crypto::decrypt(&key, "wxapp", enc).unwrap(), inner);
    }

    #[test]
    fn split_respects_the_limit_and_char_boundaries() {
        assert_eq!(split("short", 2048), ("short", ""));
        let long = "报".repeat(1000); // 3000 bytes
        let (a, b) = split(&long, 2048);
        assert!(a.len() <= 2048);
        assert_eq!(a.len(), 2046);
        assert_eq!(format!("{a}{b}"), long);
        let lines = format!("{}\n{}", "a".repeat(1500), "b".repeat(1000));
        let (a, b) = split(&lines, 2048);
        assert_eq!(a, format!("{}\n", "a".repeat(1500)));
        assert_eq!(b, "b".repeat(1000));
        let early = format!("{}\n{}", "a".repeat(10), "b".repeat(3000));
        let (a, _) = split(&early, 2048);
        assert_eq!(a.len(), 2048);
    }
}
