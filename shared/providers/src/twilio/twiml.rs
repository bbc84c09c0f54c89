//! TwiML, the answer Twilio expects from a voice webhook (docs/providers/twilio.md): what the
//! caller hears and what Twilio records. Rendered by hand: four verbs do not justify an XML
//! crate, and every text and URL goes through [`escape`].

use domain::policy::Language;
use std::fmt::Write as _;
use std::time::Duration;

/// `Content-Type` of every TwiML answer.
pub const TWIML_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// Seconds of silence after which Twilio ends a recording (its default).
const SILENCE_TIMEOUT_SECONDS: u64 = 5;

/// The voicemail prompt of the support line: a greeting, then the recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailPrompt<'a> {
    pub language: Language,
    pub greeting: &'a str,
    /// Whole seconds; at least one.
    pub max_length: Duration,
    /// Absolute URL of the recording status callback (`…/webhooks/twilio/recording`).
    pub recording_status_callback: &'a str,
    /// Absolute URL Twilio requests when the message is recorded; it answers [`goodbye`]. Twilio
    /// skips the action for an empty recording and goes on with the next verb, a `<Redirect>`
    /// to the same URL: so the call always ends there, with or without a message.
    pub action: &'a str,
}

/// `<Say>` greeting, `<Record>` with trimmed silence, a maximum length and the status callback
/// for completed recordings, then the action's polite end for callers who said nothing.
pub fn voicemail_prompt(prompt: &VoicemailPrompt<'_>) -> String {
    let voice = say_language(prompt.language);
    let max_length = prompt.max_length.as_secs().max(1);
    let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    // Writing to a String cannot fail.
    let _ = write!(
        xml,
        r#"<Say language="{voice}">{greeting}</Say><Record action="{action}" method="POST" maxLength="{max_length}" timeout="{SILENCE_TIMEOUT_SECONDS}" playBeep="true" trim="trim-silence" recordingStatusCallback="{callback}" recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="completed"/><Redirect method="POST">{action}</Redirect></Response>"#,
        greeting = escape(prompt.greeting),
        action = escape(prompt.action),
        callback = escape(prompt.recording_status_callback),
    );
    xml
}

/// The answer to the `<Record>` action: thank the caller and hang up.
pub fn goodbye(language: Language, text: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say language="{}">{}</Say><Hangup/></Response>"#,
        say_language(language),
        escape(text)
    )
}

/// Twilio's `<Say language>` tag for our languages.
fn say_language(language: Language) -> &'static str {
    match language {
        Language::German => "de-DE",
        Language::English => "en-GB",
    }
}

/// XML text and attribute escaping.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            // Control characters other than tab and newline are not allowed in XML 1.0.
            c if c.is_control() && c != '\t' && c != '\n' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt() -> VoicemailPrompt<'static> {
        VoicemailPrompt {
            language: Language::German,
            greeting: "Willkommen beim Support. Bitte sprechen Sie nach dem Signalton.",
            max_length: Duration::from_secs(180),
            recording_status_callback: "https://sla.example.com/prod/webhooks/twilio/recording",
            action: "https://sla.example.com/prod/webhooks/twilio/voice/goodbye",
        }
    }

    #[test]
    fn the_prompt_greets_records_with_the_status_callback_and_always_ends_at_the_action() {
        assert_eq!(
            voicemail_prompt(&prompt()),
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
                r#"<Say language="de-DE">Willkommen beim Support. Bitte sprechen Sie nach dem Signalton.</Say>"#,
                r#"<Record action="https://sla.example.com/prod/webhooks/twilio/voice/goodbye" method="POST" maxLength="180" timeout="5" playBeep="true" trim="trim-silence" "#,
                r#"recordingStatusCallback="https://sla.example.com/prod/webhooks/twilio/recording" recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="completed"/>"#,
                r#"<Redirect method="POST">https://sla.example.com/prod/webhooks/twilio/voice/goodbye</Redirect></Response>"#
            )
        );
    }

    #[test]
    fn texts_and_urls_cannot_break_out_of_the_xml() {
        let xml = voicemail_prompt(&VoicemailPrompt {
            language: Language::English,
            greeting: "Tom & Jerry's <b>\"support\"</b>\u{7}",
            action: "https://x.example/voice?a=1&b=2",
            ..prompt()
        });
        assert!(xml.contains(
            r#"<Say language="en-GB">Tom &amp; Jerry&apos;s &lt;b&gt;&quot;support&quot;&lt;/b&gt;</Say>"#
        ));
        assert!(xml.contains(r#"action="https://x.example/voice?a=1&amp;b=2""#));
    }

    #[test]
    fn the_goodbye_hangs_up() {
        assert_eq!(
            goodbye(Language::English, "Thank you. Goodbye."),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-GB">Thank you. Goodbye.</Say><Hangup/></Response>"#
        );
    }

    #[test]
    fn a_max_length_below_a_second_is_one_second() {
        let xml = voicemail_prompt(&VoicemailPrompt {
            max_length: Duration::from_millis(300),
            ..prompt()
        });
        assert!(xml.contains(r#"maxLength="1""#));
    }
}
