//! Inline SVG bar charts drawn from the report's numbers, so the HTML page needs no
//! script, no stylesheet and no image from anywhere else.

use super::escape::escape;
use super::figures::Tally;

const WIDTH: u32 = 520;
const LABEL_WIDTH: u32 = 150;
const BAR_MAX: u32 = 300;
const ROW: u32 = 26;
const BAR_HEIGHT: u32 = 18;

/// A horizontal bar chart of `tally`, one bar per label, longest bar = largest count.
/// `id` must be unique in the page: the accessible title and description refer to it.
pub fn bar_chart(id: &str, title: &str, tally: &Tally) -> String {
    let id = escape(id);
    let rows = tally.0.len() as u32;
    let height = rows.max(1) * ROW + 8;
    let max = tally.max();
    let desc: Vec<String> = tally.0.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(&desc.join(", ")),
    );
    for (i, (label, n)) in tally.0.iter().enumerate() {
        let y = i as u32 * ROW + 4;
        let width = bar_width(*n, max);
        let text_y = y + BAR_HEIGHT - 4;
        out.push_str(&format!(
            r##"<text x="{}" y="{text_y}" text-anchor="end" font-size="13" fill="#222">{}</text><rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}" fill="#2b6cb0"><title>{}: {n}</title></rect><text x="{}" y="{text_y}" font-size="13" fill="#222">{n}</text>"##,
            LABEL_WIDTH - 8,
            escape(label),
            escape(label),
            LABEL_WIDTH + width + 6,
        ));
    }
    out.push_str("</svg>");
    out
}

/// Bar length in pixels: proportional to the largest count, and at least 1 px for any
/// non-zero count so a small bar never looks like zero.
pub fn bar_width(n: u64, max: u64) -> u32 {
    if n == 0 || max == 0 {
        return 0;
    }
    let w = (n.min(max) as f64 / max as f64 * f64::from(BAR_MAX)).round() as u32;
    w.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(pairs: &[(&str, u64)]) -> Tally {
        Tally(pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect())
    }

    #[test]
    fn bars_are_proportional_to_the_largest() {
        assert_eq!(bar_width(10, 10), BAR_MAX);
        assert_eq!(bar_width(5, 10), BAR_MAX / 2);
        assert_eq!(bar_width(0, 10), 0);
        assert_eq!(bar_width(0, 0), 0);
        assert_eq!(bar_width(1, 100_000), 1);
    }

    #[test]
    fn one_bar_per_label_with_its_value() {
        let svg = bar_chart(
            "kind",
            "By kind",
            &tally(&[("repair", 4), ("complaint", 2), ("inquiry", 0)]),
        );
        assert_eq!(svg.matches("<rect ").count(), 3);
        assert!(svg.contains(r#"width="300" height="18""#), "{svg}");
        assert!(svg.contains(r#"width="150" height="18""#), "{svg}");
        assert!(svg.contains(">repair: 4</title>"));
        assert!(svg.contains("<desc id=\"kind-desc\">repair: 4, complaint: 2, inquiry: 0</desc>"));
        assert!(svg.contains(r#"role="img" aria-labelledby="kind-title kind-desc""#));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn labels_and_titles_are_escaped() {
        let svg = bar_chart(
            "x\"y",
            "<b>T</b>",
            &tally(&[("<script>alert(1)</script>", 1)]),
        );
        assert!(!svg.contains("<script>"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("x&quot;y-title"));
    }

    #[test]
    fn an_empty_tally_is_still_a_valid_chart() {
        let svg = bar_chart("e", "Empty", &Tally::default());
        assert!(svg.contains(r#"height="34""#));
        assert_eq!(svg.matches("<rect ").count(), 0);
    }
}
