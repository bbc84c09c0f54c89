//! Small text helpers shared by the renderers: escaping, UTF-8-safe truncation, times.

use domain::case::AlertContext;
use jiff::Timestamp;

/// At most `max` characters (not bytes, so never inside a UTF-8 sequence); a cut is marked `…`.
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// One line: control characters (newlines, tabs, NUL…) become spaces, runs of spaces collapse.
/// For titles, subjects and header values, where a newline would break the layout or worse.
pub(crate) fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// User text on one line, at most `max` characters.
pub(crate) fn clean(text: &str, max: usize) -> String {
    truncate_chars(&one_line(text), max)
}

/// Slack's three control characters in `text` and `mrkdwn`.
pub(crate) fn slack_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// HTML text and attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The URL when it is an absolute `http`/`https` URL without spaces or control characters, the
/// only links we render (a `javascript:` link from a payload must not become clickable).
pub(crate) fn web_link(url: &str) -> Option<&str> {
    let url = url.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let web = lower.starts_with("https://") || lower.starts_with("http://");
    let plain = !url.chars().any(|c| c.is_control() || c.is_whitespace());
    (web && plain && url.len() > "https://".len()).then_some(url)
}

/// `2026-03-02 10:00 UTC`, for notification text and e-mail.
pub(crate) fn utc(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// `1 min 5 s`.
pub(crate) fn duration_text(seconds: u32) -> String {
    match (seconds / 60, seconds % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

/// `zendesk-5158 (high, 12x5)`.
pub(crate) fn case_title(context: &AlertContext) -> String {
    format!(
        "{} ({}, {})",
        context.case_id, context.request.priority, context.request.plan
    )
}

/// The request's subject on one line and bounded, if it has a non-blank one.
pub(crate) fn subject(context: &AlertContext, max: usize) -> Option<String> {
    context
        .request
        .subject
        .as_deref()
        .map(|subject| clean(subject, max))
        .filter(|subject| !subject.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate_chars("Größe", 5), "Größe");
        assert_eq!(truncate_chars("Größenänderung", 5), "Größ…");
        assert_eq!(truncate_chars("🚒🚒🚒", 2), "🚒…");
    }

    #[test]
    fn one_line_removes_line_breaks_and_control_characters() {
        assert_eq!(one_line(" Site\r\ndown\t\u{0}now  "), "Site down now");
    }

    #[test]
    fn escaping_covers_the_special_characters() {
        assert_eq!(slack_escape("a & <b>"), "a &amp; &lt;b&gt;");
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn only_web_links_are_rendered() {
        assert_eq!(web_link("https://a.example/x"), Some("https://a.example/x"));
        assert_eq!(web_link(" HTTP://a.example "), Some("HTTP://a.example"));
        assert_eq!(web_link("javascript:alert(1)"), None);
        assert_eq!(web_link("https://a.example/x y"), None);
        assert_eq!(web_link("https://"), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(45), "45 s");
        assert_eq!(duration_text(120), "2 min");
        assert_eq!(duration_text(65), "1 min 5 s");
    }

    #[test]
    fn times_are_shown_in_utc() {
        let at: Timestamp = "2026-03-02T10:00:59+01:00".parse().unwrap();
        assert_eq!(utc(at), "2026-03-02 09:00 UTC");
    }
}
