#!/usr/bin/env python3
"""Writes the hostile-input corpus (xml/, json/, texts/) next to this file.

Prefixes say what the doors must do: `reject-` a 4xx and nothing stored, `accept-` a 200
and exactly one message stored, `any-` either, but never a 5xx. Files in texts/ are resident
texts that the tests wrap into well-formed pushes and webhook bodies: they must be accepted
and stored byte for byte. Rerun after editing: `python3 tests/data/hostile/generate.py`.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
HEAD = ("<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
        "<FromUserName><![CDATA[o_hostile]]></FromUserName>")


def push(msg_id, content="hi", create_time="1700000000", prolog="", extra=""):
    return (f"{prolog}{HEAD}<CreateTime>{create_time}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId>{extra}</xml>")


def write(sub, name, data):
    os.makedirs(os.path.join(HERE, sub), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(HERE, sub, name), mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
        f.write(data)


LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
          + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
          + ']>\n' + push("9001", "&lol9;").replace("<![CDATA[&lol9;]]>", "&lol9;"))

xml = {
    "reject-billion-laughs.xml": LAUGHS,
    "reject-xxe-file.xml": '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + push("9002").replace("<![CDATA[hi]]>", "&xxe;"),
    "reject-xxe-http.xml": '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/x">]>'
        + push("9003").replace("<![CDATA[hi]]>", "&xxe;"),
    "reject-xxe-parameter-entity.xml": '<!DOCTYPE xml [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>' + push("9004"),
    "reject-doctype-public.xml": '<!DOCTYPE xml PUBLIC "-//W3C//DTD XHTML 1.0//EN" "http://127.0.0.1:1/x.dtd">' + push("9005"),
    "reject-doctype-lowercase.xml": '<!doctype xml>' + push("9006"),
    "reject-doctype-inside-root.xml": push("9007").replace("<xml>", "<xml><!DOCTYPE x>", 1),
    "reject-undefined-entity.xml": push("9008").replace("<![CDATA[hi]]>", "&nope;"),
    "reject-deeply-nested.xml": push("9009", extra="<a>" * 8_000 + "</a>" * 7_999),
    "reject-unclosed.xml": push("9010")[:-6],
    "reject-two-roots.xml": push("9011") + push("9012"),
    "reject-text-outside-fields.xml": push("9013").replace("<xml>", "<xml>junk", 1),
    "reject-createtime-overflow.xml": push("9014", create_time="99999999999999999999999"),
    "reject-createtime-not-a-number.xml": push("9015", create_time="yesterday"),
    "reject-createtime-float.xml": push("9016", create_time="1.7e9"),
    "reject-missing-fromuser.xml": push("9017").replace("<FromUserName><![CDATA[o_hostile]]></FromUserName>", ""),
    "reject-empty.xml": "",
    "reject-not-xml.xml": "SELECT * FROM residents; --",
    "reject-json-to-wechat.xml": '{"message_id":"x","user_id":"y","text":"z"}',
    "reject-nul-in-content.xml": push("9018", "before\x00after"),
    "reject-nul-in-fromuser.xml": push("9019").replace("o_hostile", "o_\x00hostile"),
    "reject-cdata-unterminated.xml": push("9020").replace("]]></Content>", "</Content>"),
    "reject-over-64kib.xml": push("9021", "长" * 22_000),  # 66,000 bytes of content alone
    "accept-deeply-nested-skipped.xml": push("9022", extra="<Ext>" + "<a>" * 5_000 + "</a>" * 5_000 + "</Ext>"),
    "accept-createtime-i64-max.xml": push("9023", create_time="9223372036854775807"),
    "accept-createtime-negative.xml": push("9024", create_time="-9223372036854775808"),
    "accept-createtime-zero.xml": push("9025", create_time="0"),
    "accept-msgid-non-numeric.xml": push("<![CDATA[abc'; DROP TABLE inbound_messages; --]]>", "msgid test"),
    "accept-msgid-huge.xml": push("9" * 4000, "huge id"),
    "accept-wrong-encoding-declaration.xml": '<?xml version="1.0" encoding="GBK"?>' + push("9026", "编码声明是 GBK 但正文是 UTF-8"),
    "accept-latin1-declaration.xml": '<?xml version="1.0" encoding="ISO-8859-1"?>' + push("9027", "déclaré latin-1"),
    "accept-bom.xml": "\ufeff" + push("9028", "带 BOM"),
    "accept-cdata-split-terminator.xml": push("9029", "a]]]]><![CDATA[>b"),
    "accept-escaped-entities.xml": push("9030").replace("<![CDATA[hi]]>", "&lt;script&gt;&amp;&quot;&apos;&#x4E2D;&#25991;"),
    "accept-near-64kib.xml": push("9031", "满" * 21_500),
    "accept-overlong-cdata.xml": push("9032", "x" * 60_000),
    "accept-unknown-msgtype.xml": push("9033").replace("<![CDATA[text]]>", "<![CDATA[<script>]]>"),
    "reject-duplicate-fields.xml": push("9034", "first", extra="<Content><![CDATA[second]]></Content>"),
    "accept-processing-instruction.xml": '<?xml-stylesheet href="http://127.0.0.1:1/x"?>' + push("9035", "pi"),
    "accept-comment.xml": "<!-- <!DOCTYPE x> -->" + push("9036", "comment"),
    "any-control-characters.xml": push("9037", "bell\x07 esc\x1b vt\x0b"),
    "any-location-nan.xml": push("9038").replace("<![CDATA[text]]>", "<![CDATA[location]]>", 1)
        .replace("</xml>", "<Location_X>NaN</Location_X><Location_Y>inf</Location_Y></xml>"),
    "any-event-unknown.xml": push("9039").replace("<![CDATA[text]]>", "<![CDATA[event]]>", 1)
        .replace("</xml>", "<Event><![CDATA[<img src=x onerror=alert(1)>]]></Event></xml>"),
}
for name, body in xml.items():
    write("xml", name, body)

invalid_utf8 = push("9040", "MARK").encode().replace(b"MARK", b"\xff\xfe\xc3\x28 \xed\xa0\x80")
write("xml", "reject-invalid-utf8.xml", invalid_utf8)
write("xml", "reject-utf16-body.xml", push("9041", "utf16").encode("utf-16"))
write("xml", "reject-gbk-bytes.xml", ('<?xml version="1.0" encoding="GBK"?>' + push("9042", "电梯坏了")).encode("gbk"))


def msg(mid, text="hi", user="resident-hostile", **more):
    body = {"message_id": mid, "user_id": user, "text": text, "sent_at": "2026-11-22T10:00:00+08:00"}
    body.update(more)
    return json.dumps(body, ensure_ascii=False)


jsn = {
    "reject-empty.json": "",
    "reject-not-json.json": "<xml></xml>",
    "reject-array.json": "[]",
    "reject-null.json": "null",
    "reject-missing-user.json": '{"message_id":"h-1","text":"x"}',
    "reject-empty-ids.json": msg("   ", user=""),
    "reject-id-control-chars.json": msg("h-2\u0007"),
    "reject-id-too-long.json": msg("h" * 257),
    "reject-id-number.json": '{"message_id":12345,"user_id":"u","text":"x"}',
    "reject-nul-in-text.json": msg("h-3", "before\u0000after"),
    "reject-nul-in-user.json": msg("h-4", user="u\u0000v"),
    "reject-lone-surrogate.json": '{"message_id":"h-5","user_id":"u","text":"\\ud800"}',
    "accept-deeply-nested-extra-field.json": '{"message_id":"h-6","user_id":"u","text":"x","extra":' + "[" * 30_000 + "]" * 30_000 + "}",
    "reject-sent-at-out-of-range.json": msg("h-7", sent_at="+999999-01-01T00:00:00Z"),
    "reject-sent-at-garbage.json": msg("h-8", sent_at="'; DROP TABLE tickets; --"),
    "reject-over-64kib.json": msg("h-9", "长" * 22_000),
    "reject-trailing-garbage.json": msg("h-10") + "garbage",
    "accept-near-64kib.json": msg("h-11", "满" * 21_000),
    "accept-sql-in-ids.json": msg("h-12'; DROP TABLE inbound_messages; --", user="u' OR '1'='1"),
    "accept-unknown-fields.json": msg("h-13", extra={"__proto__": {"admin": True}}),
    "accept-no-text.json": '{"message_id":"h-14","user_id":"u"}',
    "accept-huge-number-field.json": msg("h-15", extra=1e308),
    "reject-duplicate-keys.json": '{"message_id":"h-16","user_id":"u","text":"a","text":"b"}',
    "any-control-chars-in-text.json": msg("h-17", "bell\u0007 esc\u001b del\u007f"),
}
for name, body in jsn.items():
    write("json", name, body)
write("json", "reject-invalid-utf8.json", msg("h-18", "MARK").encode().replace(b"MARK", b"\xff\xfe\xc3\x28"))
write("json", "reject-utf16-body.json", msg("h-19", "utf16").encode("utf-16"))

texts = {
    "sql-drop.txt": "'; DROP TABLE inbound_messages; --",
    "sql-union.txt": "1' UNION SELECT id, external_id FROM residents --",
    "sql-stacked.txt": "x'); DELETE FROM tickets; INSERT INTO tickets VALUES ('",
    "sql-comment-backslash.txt": "\\'; -- /* */ $$ $tag$ %s %d {}",
    "html-script.txt": "<script>alert('x')</script>漏水",
    "html-img-onerror.txt": "<img src=x onerror=alert(1)>3栋1101 噪音",
    "html-attr-break.txt": "\"><svg/onload=alert(1)>' onmouseover='alert(2)",
    "html-entities.txt": "&lt;script&gt; &amp;amp; &#60;b&#62;",
    "cdata-terminator.txt": "a]]>b ]]> <![CDATA[ x ]]",
    "emoji.txt": "电梯坏了😡🔥👨‍👩‍👧‍👦🏳️‍🌈 1️⃣",
    "rtl.txt": "مرحبا \u202eRTL override\u202c עברית \u200fmark",
    "zero-width.txt": "电\u200b梯\u200c坏\u200d了\ufeff\u2060",
    "combining.txt": "Z\u0351\u0313\u0338a\u0300\u0301l\u0489g\u0338o",
    "newlines-tabs.txt": "第一行\r\n第二行\n\t缩进\r",
    "format-strings.txt": "%s%s%s%n {0} ${jndi:ldap://127.0.0.1/a} {{7*7}}",
    "crlf-header-injection.txt": "x\r\nSet-Cookie: a=b\r\n\r\n<html>",
    "unicode-planes.txt": "𠀀𪚥𰻞 \U0010fffd \ufffd",
    "whitespace-only.txt": "   \u3000 ",
    "long-line-60k.txt": "投诉" * 10_000,
}
for name, body in texts.items():
    write("texts", name, body)
