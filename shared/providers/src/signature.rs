//! HMAC helpers. Every comparison goes through `Mac::verify_slice`, constant-time (via
//! `subtle`), so the time to reject a forged signature tells nothing about how much was right.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

type HmacSha1 = Hmac<Sha1>;
type HmacSha256 = Hmac<Sha256>;

fn mac_of<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Option<M> {
    // HMAC accepts keys of any length; the error case cannot happen, but is not unwrapped.
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac)
}

/// Decode a base64 signature header (standard alphabet, padded), tolerating surrounding spaces.
pub(crate) fn decode_base64(header: &[u8]) -> Option<Vec<u8>> {
    STANDARD.decode(header.trim_ascii()).ok()
}

pub(crate) fn sha256_verifies(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    mac_of::<HmacSha256>(key, parts).is_some_and(|mac| mac.verify_slice(tag).is_ok())
}

pub(crate) fn sha1_verifies(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    mac_of::<HmacSha1>(key, parts).is_some_and(|mac| mac.verify_slice(tag).is_ok())
}

pub(crate) fn sha256_base64(key: &[u8], parts: &[&[u8]]) -> String {
    mac_of::<HmacSha256>(key, parts)
        .map(|mac| STANDARD.encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

pub(crate) fn sha1_base64(key: &[u8], parts: &[&[u8]]) -> String {
    mac_of::<HmacSha1>(key, parts)
        .map(|mac| STANDARD.encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

pub(crate) fn sha1_hex(key: &[u8], parts: &[&[u8]]) -> String {
    mac_of::<HmacSha1>(key, parts)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

pub(crate) fn sha256_hex(key: &[u8], parts: &[&[u8]]) -> String {
    mac_of::<HmacSha256>(key, parts)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}
