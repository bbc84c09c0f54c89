//! The `[chat]` texts: German by default, English available, defaults for what a file leaves out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::policy::Language;
use policy_file::{DEFAULT_POLICY_TOML, PolicyError, default_policy, parse_policy};

fn chat_section_with(extra: &str) -> String {
    let start = DEFAULT_POLICY_TOML.find("[chat]\n").unwrap();
    format!(
        "{}[chat]\nfallback_after = \"10m\"\n{extra}",
        &DEFAULT_POLICY_TOML[..start]
    )
}

#[test]
fn the_chat_fallback_speaks_german_by_default_with_an_english_variant() {
    let policy = default_policy().unwrap();
    assert_eq!(policy.chat.language, Language::German);
    assert!(policy.chat.texts().offer.contains("E-Mail"));
    assert!(policy.chat.texts().ask_email.contains("E-Mail-Adresse"));
    assert!(policy.chat.english.ask_email.contains("e-mail address"));

    let english = parse_policy(&chat_section_with("language = \"en\"\n")).unwrap();
    assert_eq!(english.chat.language, Language::English);
    assert_eq!(english.chat.texts(), &english.chat.english);
}

#[test]
fn a_chat_section_without_texts_takes_the_default_ones() {
    let policy = parse_policy(&chat_section_with("")).unwrap();
    assert_eq!(policy.chat, default_policy().unwrap().chat);
}

#[test]
fn an_own_text_replaces_only_its_key() {
    let policy = parse_policy(&chat_section_with(
        "[chat.texts.de]\noffer = \"Wir schreiben Ihnen per E-Mail.\"\n",
    ))
    .unwrap();
    assert_eq!(policy.chat.german.offer, "Wir schreiben Ihnen per E-Mail.");
    assert_eq!(
        policy.chat.german.ask_email,
        default_policy().unwrap().chat.german.ask_email
    );
}

#[test]
fn invalid_chat_settings_name_their_key() {
    for (extra, key) in [
        ("language = \"fr\"\n", "chat.language"),
        (
            "[chat.texts.en]\nask_email = \" \"\n",
            "chat.texts.en.ask_email",
        ),
    ] {
        let error = parse_policy(&chat_section_with(extra)).unwrap_err();
        assert!(
            matches!(&error, PolicyError::Invalid { key: k, .. } if k == key),
            "{extra}: {error}"
        );
    }
}
