//! The page's structure, escaping and formatting.

use super::*;
use crate::report::fixture::{sample, INJECTED};

#[test]
fn escape_covers_markup_and_quotes() {
    assert_eq!(
        escape(r#"<a href="x" onclick='y'>&</a>"#),
        "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
    );
    assert_eq!(escape("水管漏水"), "水管漏水");
}

#[test]
fn resident_text_cannot_inject_markup() {
    let page = render(&sample());
    assert!(!page.contains("<script"), "a script element got through");
    assert!(!page.contains("<b>"));
    assert!(!page.contains(INJECTED));
    assert!(
        page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;")
    );
    assert!(page.contains("垃圾没人收 &lt;b&gt;"));
}

#[test]
fn the_page_is_self_contained_and_accessible() {
    let page = render(&sample());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<html lang=\"zh-Hans\">"));
    assert!(page.contains("<title>客服工作月报 2026-11</title>"));
    assert!(page.trim_end().ends_with("</html>"));
    // Nothing fetched from elsewhere.
    for outside in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!page.contains(outside), "{outside}");
    }
    // Three charts, each labelled for screen readers.
    assert_eq!(page.matches("<svg ").count(), 3);
    assert_eq!(page.matches("role=\"img\"").count(), 3);
    for id in ["chart-kind", "chart-category", "chart-satisfaction"] {
        assert!(
            page.contains(&format!("aria-labelledby=\"{id}-title {id}-desc\"")),
            "{id}"
        );
    }
    // Every table has a caption, and headers carry a scope.
    assert_eq!(
        page.matches("<table>").count(),
        page.matches("<caption>").count()
    );
    assert!(!page.contains("<th>"));
    assert_eq!(page.matches("<main>").count(), 1);
    assert_eq!(page.matches("<h1>").count(), 1);
}

#[test]
fn the_figures_appear_on_the_page() {
    let r = sample();
    let page = render(&r);
    assert!(page.contains(&format!(
        "<th scope=\"row\">受理 Received</th><td class=\"n\">{}</td>",
        r.received
    )));
    for c in &r.serious_complaints {
        assert!(page.contains(&c.number));
    }
    assert!(page.contains(&escape(&rate(&r.satisfaction.satisfied))));
}

#[test]
fn durations_read_naturally() {
    assert_eq!(duration(None), "—");
    assert_eq!(duration(Some(40)), "40s");
    assert_eq!(duration(Some(25 * 60)), "25m");
    assert_eq!(duration(Some(3 * 3600 + 5 * 60)), "3h 05m");
    assert_eq!(duration(Some(2 * 86_400 + 3 * 3600)), "2d 03h");
}

#[test]
fn rates_show_share_and_counts() {
    assert_eq!(rate(&Rate::of(3, 4)), "75.0% (3/4)");
    assert_eq!(rate(&Rate::of(0, 0)), "— (0/0)");
}

#[test]
fn reclassifications_have_their_section() {
    let r = sample();
    assert_eq!(r.reclassified.events, 2);
    let page = render(&r);
    assert!(page.contains(
        "<th scope=\"row\">重新分类 Reclassified (events / tickets)</th><td class=\"n\">2 / 1</td>"
    ));
    let at = page
        .find("<h2 id=\"reclassified-h\">重新分类 · Reclassified</h2>")
        .expect("the section is there");
    let section = &page[at..page[at..].find("</section>").map_or(page.len(), |e| at + e)];
    assert!(section.contains("<th scope=\"row\">更正次数 Corrections</th><td class=\"n\">2</td>"));
    assert!(section.contains("<th scope=\"row\">涉及工单 Tickets</th><td class=\"n\">1</td>"));
    for (field, from, to) in [
        ("部门 department", "engineering", "customer_service"),
        ("类型 kind", "repair", "complaint"),
        ("紧急程度 urgency", "normal", "urgent"),
    ] {
        assert!(
            section.contains(&format!(
                "<tr><th scope=\"row\">{field}</th><td>{from}</td><td>{to}</td><td class=\"n\">1</td></tr>"
            )),
            "{field}: {section}"
        );
    }
}

#[test]
fn a_month_without_changes_says_so() {
    let mut r = sample();
    r.reclassified = Default::default();
    let page = render(&r);
    assert!(page.contains("<h2 id=\"reclassified-h\">"));
    assert!(page.contains("No label changed 无"));
}
