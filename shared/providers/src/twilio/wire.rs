//! Twilio's recording status callback, an `application/x-www-form-urlencoded` body
//! (docs/providers/twilio.md).
//!
//! Two decoders on purpose: the signature is computed over leniently decoded parameters
//! (as Twilio's libraries do), before anything else; then the strict decoder refuses what a
//! form encoder never produces (a `%` without two hex digits, bytes that are not UTF-8).

use std::borrow::Cow;

/// The string Twilio signs after the URL: every parameter, sorted by name and then value,
/// as `name` + `value` URL-decoded, without separators.
pub(super) fn signed_params<N: AsRef<str> + Ord, V: AsRef<str> + Ord>(pairs: &[(N, V)]) -> String {
    let mut sorted: Vec<&(N, V)> = pairs.iter().collect();
    sorted.sort_unstable();
    let mut signed = String::with_capacity(
        pairs
            .iter()
            .map(|(n, v)| n.as_ref().len() + v.as_ref().len())
            .sum(),
    );
    for (name, value) in sorted {
        signed.push_str(name.as_ref());
        signed.push_str(value.as_ref());
    }
    signed
}

/// The parameters as Twilio's libraries decode them when a body is not well-formed: invalid
/// escapes kept literally, invalid UTF-8 replaced. Only used to check the signature of a body
/// that the strict decoder refuses, so the refusal can be a 400 after a valid signature.
pub(super) fn decode_lenient(body: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    form_urlencoded::parse(body).collect()
}

/// Decode a form body, refusing malformed percent-encoding and non-UTF-8 content.
pub(super) fn decode_strict(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .enumerate()
        .map(|(index, pair)| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            let name = decode_component(name)
                .map_err(|why| format!("parameter {}: name {why}", index + 1))?;
            let value = decode_component(value)
                .map_err(|why| format!("parameter {} ({name}): value {why}", index + 1))?;
            Ok((name, value))
        })
        .collect()
}

fn decode_component(raw: &[u8]) -> Result<String, &'static str> {
    if !raw.iter().any(|b| matches!(b, b'%' | b'+')) {
        // Nothing to decode: the common case for sids, statuses and numbers.
        return std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| "is not UTF-8");
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&byte, tail)) = rest.split_first() {
        match byte {
            b'+' => {
                bytes.push(b' ');
                rest = tail;
            }
            b'%' => {
                let (high, low) = match tail {
                    [high, low, ..] => (hex_value(*high), hex_value(*low)),
                    _ => (None, None),
                };
                let (Some(high), Some(low)) = (high, low) else {
                    return Err("has a bad percent-encoding");
                };
                bytes.push(high << 4 | low);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(byte);
                rest = tail;
            }
        }
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8")
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// The parameters of a recording status callback that we read (Twilio sends no `From`/`To`
/// with it: the call is found by `CallSid`).
#[derive(Debug, Default)]
pub(super) struct RecordingCallback {
    pub account_sid: Option<String>,
    pub call_sid: Option<String>,
    pub recording_sid: Option<String>,
    pub recording_status: Option<String>,
    pub recording_url: Option<String>,
    pub recording_duration: Option<String>,
    pub recording_start_time: Option<String>,
}

impl TryFrom<Vec<(String, String)>> for RecordingCallback {
    type Error = String;

    /// Unknown parameters are ignored (Twilio adds some without notice); one that we read and
    /// that appears twice is ambiguous and refused.
    fn try_from(pairs: Vec<(String, String)>) -> Result<Self, String> {
        let mut callback = Self::default();
        read(pairs, Self::slot, &mut callback)?;
        Ok(callback)
    }
}

impl RecordingCallback {
    fn slot<'a>(name: &str, callback: &'a mut Self) -> Option<&'a mut Option<String>> {
        match name {
            "AccountSid" => Some(&mut callback.account_sid),
            "CallSid" => Some(&mut callback.call_sid),
            "RecordingSid" => Some(&mut callback.recording_sid),
            "RecordingStatus" => Some(&mut callback.recording_status),
            "RecordingUrl" => Some(&mut callback.recording_url),
            "RecordingDuration" => Some(&mut callback.recording_duration),
            "RecordingStartTime" => Some(&mut callback.recording_start_time),
            _ => None,
        }
    }
}

/// The parameters of a voice request that we read: the incoming call ("a call comes in"),
/// and the same parameters plus `RecordingUrl`/`RecordingDuration` on the `<Record>` action.
#[derive(Debug, Default)]
pub(super) struct VoiceRequest {
    pub account_sid: Option<String>,
    pub call_sid: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub caller_name: Option<String>,
    pub recording_url: Option<String>,
    pub recording_duration: Option<String>,
}

impl TryFrom<Vec<(String, String)>> for VoiceRequest {
    type Error = String;

    fn try_from(pairs: Vec<(String, String)>) -> Result<Self, String> {
        let mut request = Self::default();
        read(pairs, Self::slot, &mut request)?;
        Ok(request)
    }
}

impl VoiceRequest {
    fn slot<'a>(name: &str, request: &'a mut Self) -> Option<&'a mut Option<String>> {
        match name {
            "AccountSid" => Some(&mut request.account_sid),
            "CallSid" => Some(&mut request.call_sid),
            "From" => Some(&mut request.from),
            "To" => Some(&mut request.to),
            "CallerName" => Some(&mut request.caller_name),
            "RecordingUrl" => Some(&mut request.recording_url),
            "RecordingDuration" => Some(&mut request.recording_duration),
            _ => None,
        }
    }
}

/// Fills the slots `slot` names; blank values count as missing, a repeated one is refused.
fn read<T>(
    pairs: Vec<(String, String)>,
    slot: for<'a> fn(&str, &'a mut T) -> Option<&'a mut Option<String>>,
    target: &mut T,
) -> Result<(), String> {
    for (name, value) in pairs {
        let Some(slot) = slot(name.as_str(), target) else {
            continue;
        };
        if slot.is_some() {
            return Err(format!("parameter {name} appears more than once"));
        }
        let value = value.trim();
        *slot = (!value.is_empty()).then(|| value.to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn plus_is_a_space_and_percent_2b_is_a_plus() {
        let pairs = decode_strict(b"From=%2B4915791234567&Name=Max+M%C3%BCller").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("From".to_owned(), "+4915791234567".to_owned()),
                ("Name".to_owned(), "Max Müller".to_owned())
            ]
        );
    }

    #[test]
    fn bad_percent_encodings_are_refused() {
        for body in [&b"A=%zz"[..], b"A=%4", b"A=%", b"A%G1=1", b"A=%C3%28"] {
            assert!(
                decode_strict(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn the_signed_string_sorts_by_name_then_value() {
        let body = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234";
        let expected = "Digits1234Digits5678SidCA123SidAccountAC123";
        assert_eq!(signed_params(&decode_strict(body).unwrap()), expected);
        assert_eq!(signed_params(&decode_lenient(body)), expected);
    }

    #[test]
    fn both_decoders_agree_on_well_formed_bodies() {
        let body = b"From=%2B4915791234567&Name=Max+M%C3%BCller&Empty=&Flag&Raw=\xc3\xbc";
        let strict = decode_strict(body).unwrap();
        let lenient: Vec<(String, String)> = decode_lenient(body)
            .into_iter()
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(strict, lenient);
    }
}
