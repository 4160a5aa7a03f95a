//! Reads what WeChat pushes: a flat `<xml>` of named fields. Anything that looks like a DTD
//! is refused outright (no entity expansion, ever), and every `MsgType` the platform sends
//! becomes a channel-neutral [`MessageBody`]; types we do not know become `Unsupported`.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::channel::{MessageBody, PlatformEvent};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    #[error("DOCTYPE and entity declarations are not accepted")]
    Doctype,
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("missing field {0}")]
    Missing(&'static str),
    #[error("field {0} is not valid")]
    Invalid(&'static str),
}

/// The top-level fields of a `<xml>` document, by element name. Nested elements (e.g.
/// `ScanCodeInfo`) are skipped: nothing we act on lives there.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Fields(BTreeMap<String, String>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn non_empty(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    }
}

pub fn parse_fields(xml: &str) -> Result<Fields, XmlError> {
    // XML 1.0 has no NUL, and PostgreSQL text cannot hold one: refuse it here (a 400)
    // rather than fail at the insert (a 503 the platform would retry forever).
    if xml.contains('\0') {
        return Err(XmlError::Malformed("NUL character".into()));
    }
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut fields = BTreeMap::new();
    let mut depth = 0usize;
    let mut current: Option<String> = None;
    let mut text = String::new();
    let mut saw_root = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        match event {
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Start(start) => {
                depth += 1;
                if depth == 1 {
                    if saw_root {
                        return Err(XmlError::Malformed("more than one root element".into()));
                    }
                    saw_root = true;
                } else if depth == 2 {
                    let name = std::str::from_utf8(start.name().as_ref())
                        .map_err(|_| XmlError::Malformed("element name is not UTF-8".into()))?
                        .to_owned();
                    current = Some(name);
                    text.clear();
                }
            }
            Event::Empty(start) => {
                if depth == 0 {
                    saw_root = true;
                } else if depth == 1 {
                    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                    put(&mut fields, name, String::new())?;
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    if let Some(name) = current.take() {
                        put(&mut fields, name, std::mem::take(&mut text))?;
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) if depth == 2 => {
                let unescaped = t
                    .unescape()
                    .map_err(|e| XmlError::Malformed(e.to_string()))?;
                text.push_str(&unescaped);
            }
            Event::Text(t) if depth == 0 || depth == 1 => {
                // Only whitespace may sit outside the fields.
                let raw = t.into_inner();
                if !raw.iter().all(u8::is_ascii_whitespace) {
                    return Err(XmlError::Malformed("text outside the fields".into()));
                }
            }
            Event::CData(c) if depth == 2 => {
                let raw = c.into_inner();
                let s = std::str::from_utf8(&raw)
                    .map_err(|_| XmlError::Malformed("CDATA is not UTF-8".into()))?;
                text.push_str(s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root || depth != 0 {
        return Err(XmlError::Malformed("no complete root element".into()));
    }
    Ok(Fields(fields))
}

/// A field, once: a second element of the same name is refused rather than let the last one
/// win (what the signature's owner sent first is what counts, not what was appended).
fn put(fields: &mut BTreeMap<String, String>, name: String, value: String) -> Result<(), XmlError> {
    if fields.contains_key(&name) {
        return Err(XmlError::Malformed(format!("duplicate element {name}")));
    }
    fields.insert(name, value);
    Ok(())
}

/// One push, understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub to_user: String,
    pub from_user: String,
    pub create_time: i64,
    pub msg_type: String,
    pub msg_id: Option<String>,
    pub body: MessageBody,
    /// For events: the event name and key, part of the dedup key.
    pub event: Option<(String, String)>,
    pub fields: Fields,
}

impl Push {
    /// The key that makes the platform's retries land on the same row:
    /// `appid|FromUserName|MsgId` for messages, `appid|FromUserName|CreateTime|Event|EventKey`
    /// for events (and for anything without a MsgId).
    pub fn dedup_key(&self, appid: &str) -> String {
        match (&self.msg_id, &self.event) {
            (Some(id), None) => format!("{appid}|{}|{id}", self.from_user),
            (_, Some((event, key))) => format!(
                "{appid}|{}|{}|{event}|{key}",
                self.from_user, self.create_time
            ),
            (None, None) => format!(
                "{appid}|{}|{}|{}|",
                self.from_user, self.create_time, self.msg_type
            ),
        }
    }
}

pub fn parse_push(xml: &str) -> Result<Push, XmlError> {
    let fields = parse_fields(xml)?;
    let to_user = fields
        .non_empty("ToUserName")
        .ok_or(XmlError::Missing("ToUserName"))?;
    let from_user = fields
        .non_empty("FromUserName")
        .ok_or(XmlError::Missing("FromUserName"))?;
    let create_time = fields
        .non_empty("CreateTime")
        .ok_or(XmlError::Missing("CreateTime"))?
        .parse::<i64>()
        .map_err(|_| XmlError::Invalid("CreateTime"))?;
    let msg_type = fields
        .non_empty("MsgType")
        .ok_or(XmlError::Missing("MsgType"))?;
    let msg_id = fields
        .non_empty("MsgId")
        .or_else(|| fields.non_empty("MsgID"));
    let opt = |name: &str| fields.non_empty(name);
    let mut event = None;
    let body = match msg_type.as_str() {
        "text" => MessageBody::Text {
            text: fields.get("Content").unwrap_or_default().to_owned(),
        },
        "voice" => MessageBody::Voice {
            media_id: opt("MediaId"),
            recognition: opt("Recognition"),
        },
        "image" => MessageBody::Image {
            url: opt("PicUrl"),
            media_id: opt("MediaId"),
        },
        "video" | "shortvideo" => MessageBody::Video {
            media_id: opt("MediaId"),
        },
        "location" => MessageBody::Location {
            lat: number(&fields, "Location_X")?,
            lng: number(&fields, "Location_Y")?,
            label: opt("Label"),
        },
        "link" => MessageBody::Link {
            title: opt("Title"),
            description: opt("Description"),
            url: opt("Url"),
        },
        "event" => {
            let name = fields
                .non_empty("Event")
                .ok_or(XmlError::Missing("Event"))?;
            let key = fields.get("EventKey").unwrap_or_default().trim().to_owned();
            let parsed = parse_event(&name, &key, &fields)?;
            event = Some((name, key));
            MessageBody::Event(parsed)
        }
        other => MessageBody::Unsupported {
            msg_type: other.to_owned(),
        },
    };
    Ok(Push {
        to_user,
        from_user,
        create_time,
        msg_type,
        msg_id,
        body,
        event,
        fields,
    })
}

fn parse_event(name: &str, key: &str, fields: &Fields) -> Result<PlatformEvent, XmlError> {
    let key_opt = (!key.is_empty()).then(|| key.to_owned());
    Ok(match name {
        "subscribe" => PlatformEvent::Subscribe {
            scene: key_opt.map(|k| k.strip_prefix("qrscene_").map(str::to_owned).unwrap_or(k)),
        },
        "unsubscribe" => PlatformEvent::Unsubscribe,
        "CLICK" => PlatformEvent::Click {
            key: key.to_owned(),
        },
        "VIEW" => PlatformEvent::View {
            url: key.to_owned(),
        },
        "SCAN" => PlatformEvent::Scan { key: key_opt },
        "LOCATION" => PlatformEvent::Location {
            lat: number(fields, "Latitude")?,
            lng: number(fields, "Longitude")?,
        },
        other => PlatformEvent::Other {
            name: other.to_owned(),
        },
    })
}

fn number(fields: &Fields, name: &'static str) -> Result<f64, XmlError> {
    fields
        .non_empty(name)
        .ok_or(XmlError::Missing(name))?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or(XmlError::Invalid(name))
}

/// The safe-mode envelope: its `Encrypt` field (and `ToUserName`, when present).
pub fn parse_envelope(xml: &str) -> Result<String, XmlError> {
    let fields = parse_fields(xml)?;
    fields
        .non_empty("Encrypt")
        .ok_or(XmlError::Missing("Encrypt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_malformed(xmls: &[&str]) {
        for xml in xmls {
            assert!(
                matches!(parse_fields(xml), Err(XmlError::Malformed(_))),
                "{xml:?}"
            );
        }
    }

    #[test]
    fn nul_anywhere_is_malformed() {
        all_malformed(&[
            "<xml><Content><![CDATA[a\0b]]></Content></xml>",
            "<xml><A\0>x</A\0></xml>",
            "<xml><Content>a\0</Content></xml>",
        ]);
    }

    #[test]
    fn a_field_given_twice_is_refused() {
        all_malformed(&[
            "<xml><Content><![CDATA[first]]></Content><Content><![CDATA[second]]></Content></xml>",
            "<xml><Content/><Content>x</Content></xml>",
            "<xml><FromUserName>a</FromUserName><FromUserName/></xml>",
        ]);
        // Nested elements of one name inside a field are not top-level fields.
        assert!(parse_fields("<xml><Info><A>1</A><A>2</A></Info></xml>").is_ok());
    }

    fn push(msg_type: &str, extra: &str) -> String {
        format!(
            "<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[o_user]]></FromUserName>\
             <CreateTime>1700000000</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{extra}</xml>"
        )
    }

    #[test]
    fn text_message() {
        let p = parse_push(&push(
            "text",
            "<Content><![CDATA[电梯坏了]]></Content><MsgId>24263517285930000</MsgId>",
        ))
        .unwrap();
        assert_eq!(p.to_user, "gh_account");
        assert_eq!(p.from_user, "o_user");
        assert_eq!(p.create_time, 1_700_000_000);
        assert_eq!(
            p.body,
            MessageBody::Text {
                text: "电梯坏了".into()
            }
        );
        assert_eq!(p.dedup_key("wxapp"), "wxapp|o_user|24263517285930000");
    }

    #[test]
    fn escaped_text_outside_cdata_is_unescaped() {
        let p = parse_push(&push(
            "text",
            "<Content>a &lt; b &amp; c</Content><MsgId>1</MsgId>",
        ))
        .unwrap();
        assert_eq!(p.body.text(), Some("a < b & c"));
    }

    #[test]
    fn voice_uses_recognition_as_text() {
        let p = parse_push(&push("voice", "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[水管漏水]]></Recognition><MsgId>2</MsgId>")).unwrap();
        assert_eq!(p.body.text(), Some("水管漏水"));
        let p = parse_push(&push(
            "voice",
            "<MediaId><![CDATA[m1]]></MediaId><MsgId>2</MsgId>",
        ))
        .unwrap();
        assert_eq!(
            p.body,
            MessageBody::Voice {
                media_id: Some("m1".into()),
                recognition: None
            }
        );
        assert_eq!(p.body.text(), None);
    }

    #[test]
    fn image_video_location_link() {
        let p = parse_push(&push("image", "<PicUrl><![CDATA[http://p/1.jpg]]></PicUrl><MediaId><![CDATA[m]]></MediaId><MsgId>3</MsgId>")).unwrap();
        assert_eq!(
            p.body,
            MessageBody::Image {
                url: Some("http://p/1.jpg".into()),
                media_id: Some("m".into())
            }
        );
        for t in ["video", "shortvideo"] {
            let p = parse_push(&push(t, "<MediaId><![CDATA[v]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId><MsgId>4</MsgId>")).unwrap();
            assert_eq!(
                p.body,
                MessageBody::Video {
                    media_id: Some("v".into())
                }
            );
        }
        let p = parse_push(&push("location", "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>5</MsgId>")).unwrap();
        assert_eq!(
            p.body,
            MessageBody::Location {
                lat: 23.134521,
                lng: 113.358803,
                label: Some("位置信息".into())
            }
        );
        let p = parse_push(&push("link", "<Title><![CDATA[t]]></Title><Description><![CDATA[d]]></Description><Url><![CDATA[http://u]]></Url><MsgId>6</MsgId>")).unwrap();
        assert_eq!(
            p.body,
            MessageBody::Link {
                title: Some("t".into()),
                description: Some("d".into()),
                url: Some("http://u".into())
            }
        );
    }

    #[test]
    fn a_location_without_coordinates_is_invalid() {
        assert_eq!(
            parse_push(&push(
                "location",
                "<Location_X>abc</Location_X><Location_Y>1</Location_Y><MsgId>5</MsgId>"
            ))
            .unwrap_err(),
            XmlError::Invalid("Location_X")
        );
        assert_eq!(
            parse_push(&push("location", "<MsgId>5</MsgId>")).unwrap_err(),
            XmlError::Missing("Location_X")
        );
    }

    #[test]
    fn events() {
        let ev = |e: &str| parse_push(&push("event", e)).unwrap();
        let p = ev("<Event><![CDATA[subscribe]]></Event>");
        assert_eq!(
            p.body,
            MessageBody::Event(PlatformEvent::Subscribe { scene: None })
        );
        assert_eq!(p.dedup_key("wx"), "wx|o_user|1700000000|subscribe|");
        let p = ev("<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123]]></EventKey><Ticket><![CDATA[T]]></Ticket>");
        assert_eq!(
            p.body,
            MessageBody::Event(PlatformEvent::Subscribe {
                scene: Some("123".into())
            })
        );
        assert_eq!(
            ev("<Event><![CDATA[unsubscribe]]></Event>").body,
            MessageBody::Event(PlatformEvent::Unsubscribe)
        );
        let p = ev("<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MY_TICKETS]]></EventKey>");
        assert_eq!(
            p.body,
            MessageBody::Event(PlatformEvent::Click {
                key: "MY_TICKETS".into()
            })
        );
        assert_eq!(p.dedup_key("wx"), "wx|o_user|1700000000|CLICK|MY_TICKETS");
        assert_eq!(
            ev("<Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[http://x]]></EventKey>").body,
            MessageBody::Event(PlatformEvent::View {
                url: "http://x".into()
            })
        );
        assert_eq!(
            ev("<Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[42]]></EventKey>").body,
            MessageBody::Event(PlatformEvent::Scan {
                key: Some("42".into())
            })
        );
        assert_eq!(
            ev("<Event><![CDATA[LOCATION]]></Event><Latitude>23.1</Latitude><Longitude>113.3</Longitude><Precision>119.3</Precision>").body,
            MessageBody::Event(PlatformEvent::Location { lat: 23.1, lng: 113.3 })
        );
        assert_eq!(
            ev("<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID>").body,
            MessageBody::Event(PlatformEvent::Other {
                name: "TEMPLATESENDJOBFINISH".into()
            })
        );
    }

    #[test]
    fn distinct_events_of_one_second_get_distinct_keys() {
        let a = parse_push(&push(
            "event",
            "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[A]]></EventKey>",
        ))
        .unwrap();
        let b = parse_push(&push(
            "event",
            "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[B]]></EventKey>",
        ))
        .unwrap();
        assert_ne!(a.dedup_key("wx"), b.dedup_key("wx"));
    }

    #[test]
    fn unknown_types_are_unsupported() {
        let p = parse_push(&push("miniprogrampage", "<MsgId>9</MsgId>")).unwrap();
        assert_eq!(
            p.body,
            MessageBody::Unsupported {
                msg_type: "miniprogrampage".into()
            }
        );
    }

    #[test]
    fn doctype_and_entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><xml><Content>&lol2;</Content></xml>"#;
        assert_eq!(parse_fields(bomb).unwrap_err(), XmlError::Doctype);
        let xxe = r#"<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>"#;
        assert_eq!(parse_fields(xxe).unwrap_err(), XmlError::Doctype);
        // An undeclared entity is an error, not an empty string.
        assert!(matches!(
            parse_fields("<xml><Content>&xxe;</Content></xml>"),
            Err(XmlError::Malformed(_))
        ));
    }

    #[test]
    fn malformed_documents_are_refused() {
        for bad in [
            "",
            "not xml",
            "<xml><a>1</b></xml>",
            "<xml><a>1</a>",
            "<xml></xml><xml></xml>",
            "<xml>stray<a>1</a></xml>",
        ] {
            assert!(parse_fields(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_push("<xml><ToUserName>a</ToUserName></xml>").unwrap_err(),
            XmlError::Missing("FromUserName")
        );
        assert_eq!(
            parse_push(&push("text", "<MsgId>1</MsgId>").replace("1700000000", "soon"))
                .unwrap_err(),
            XmlError::Invalid("CreateTime")
        );
    }

    #[test]
    fn nested_elements_are_skipped_and_the_envelope_is_read() {
        let f = parse_fields("<xml><A>1</A><B><C>2</C></B><D/></xml>").unwrap();
        assert_eq!(f.get("A"), Some("1"));
        assert_eq!(f.get("C"), None);
        assert_eq!(f.get("D"), Some(""));
        let e = parse_envelope(
            "<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[abc=]]></Encrypt></xml>",
        )
        .unwrap();
        assert_eq!(e, "abc=");
        assert_eq!(
            parse_envelope("<xml><ToUserName>gh</ToUserName></xml>").unwrap_err(),
            XmlError::Missing("Encrypt")
        );
    }
}
