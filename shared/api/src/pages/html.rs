//! What every page shares: HTML escaping, the page frame, times and durations as shown, and
//! the response headers of a page.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Timestamp;
use domain::jiff::tz::TimeZone;
use std::fmt::Write as _;

/// `text` with the five HTML metacharacters replaced by entities: safe as element content and
/// as a quoted attribute value. Every customer text (subjects, names, labels) passes here.
pub(crate) fn escape(text: &str) -> String {
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

/// A link target from stored data, only when it is an `http(s)` URL: a `javascript:` or
/// `data:` link in a provider's payload must not become clickable.
pub(crate) fn safe_href(url: &str) -> Option<&str> {
    let url = url.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url)
}

/// Which page the navigation marks as current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Board,
    Reports,
    Case,
}

/// A whole page: head, navigation, `main`, the script. `now` is the server's clock (the
/// countdown runs from it, not from the browser's).
pub(crate) fn page(title: &str, nav: Nav, now: Timestamp, main: &str) -> String {
    let mut out = String::with_capacity(main.len() + 1024);
    let current = |which: Nav| {
        if nav == which {
            " aria-current=\"page\""
        } else {
            ""
        }
    };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · support-sla</title>\n\
         <link rel=\"stylesheet\" href=\"/assets/style.css\">\n</head>\n\
         <body data-now=\"{now}\">\n<header><strong>support-sla</strong>\n<nav>\
         <a href=\"/\"{board}>Board</a> <a href=\"/reports\"{reports}>Reports</a></nav></header>\n\
         <main>\n{main}</main>\n<script src=\"/assets/board.js\"></script>\n</body>\n</html>\n",
        title = escape(title),
        now = rfc3339(now),
        board = current(Nav::Board),
        reports = current(Nav::Reports),
    );
    out
}

/// An instant as the browser's `Date.parse` reads it: UTC, whole seconds, `Z`.
pub(crate) fn rfc3339(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An instant on the policy's wall clock, to the minute: `2026-12-01 09:30`.
pub(crate) fn local(at: Timestamp, time_zone: &TimeZone) -> String {
    time_zone
        .to_datetime(at)
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// A time left as shown: `45m`, `2h 05m`, `3d 04h`, negative with a minus (`-1h 20m`).
/// Seconds are dropped towards zero, so `59s` is `0m` and `-59s` is `-0m`.
pub(crate) fn time_left(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let minutes = seconds.unsigned_abs() / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if days > 0 {
        format!("{sign}{days}d {hours:02}h")
    } else if hours > 0 {
        format!("{sign}{hours}h {minutes:02}m")
    } else {
        format!("{sign}{minutes}m")
    }
}

/// A page answer: HTML that no cache keeps (it shows customer data) and that runs only this
/// server's own script and style (a defence in depth behind the escaping).
pub(crate) fn respond(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                 connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ],
        body,
    )
        .into_response()
}

/// A plain error page (bad query, unknown case, store unavailable).
pub(crate) fn error_page(status: StatusCode, now: Timestamp, message: &str) -> Response {
    let main = format!(
        "<h1>{}</h1>\n<p class=\"error\">{}</p>\n",
        status,
        escape(message)
    );
    respond(status, page("Error", Nav::Case, now, &main))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_html_metacharacter_is_escaped() {
        assert_eq!(
            escape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("Plain text, ümlaut"), "Plain text, ümlaut");
    }

    #[test]
    fn only_http_and_https_links_are_kept() {
        assert_eq!(
            safe_href("https://acme.zendesk.com/agent/tickets/1"),
            Some("https://acme.zendesk.com/agent/tickets/1")
        );
        assert_eq!(
            safe_href("HTTP://example.com/x"),
            Some("HTTP://example.com/x")
        );
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href(" data:text/html,<b>x</b>"), None);
        assert_eq!(safe_href("//evil.example/x"), None);
        assert_eq!(safe_href(""), None);
    }

    #[test]
    fn time_left_is_shown_in_the_largest_units_with_a_sign_when_overdue() {
        assert_eq!(time_left(0), "0m");
        assert_eq!(time_left(59), "0m");
        assert_eq!(time_left(45 * 60), "45m");
        assert_eq!(time_left(2 * 3600 + 5 * 60 + 30), "2h 05m");
        assert_eq!(time_left(3 * 86_400 + 4 * 3600 + 59 * 60), "3d 04h");
        assert_eq!(time_left(-(80 * 60)), "-1h 20m");
        assert_eq!(time_left(-59), "-0m");
    }
}
