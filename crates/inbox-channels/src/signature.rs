//! HMAC-SHA256 signatures, as the providers use them (A4, S7, N5): computed over the raw body,
//! compared in constant time.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The HMAC-SHA256 of `message` under `key`.
#[must_use]
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The HMAC-SHA256 of `message` under `key`, in lower-case hex.
#[must_use]
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    hmac_sha256(key, message)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The HMAC-SHA256 of `message` under `key`, in standard base64.
#[must_use]
pub fn hmac_sha256_base64(key: &[u8], message: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key, message))
}

/// Whether `signature_hex` (any case) is the HMAC-SHA256 of `message` under `key`, compared in
/// constant time.
#[must_use]
pub fn verify_hex(key: &[u8], message: &[u8], signature_hex: &str) -> bool {
    let Some(signature) = decode_hex(signature_hex.trim()) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.verify_slice(&signature).is_ok()
}

/// Whether `signature_base64` is the HMAC-SHA256 of `message` under `key`, compared in
/// constant time.
#[must_use]
pub fn verify_base64(key: &[u8], message: &[u8], signature_base64: &str) -> bool {
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature_base64.trim())
    else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.verify_slice(&signature).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231, test case 2.
    const KEY: &[u8] = b"Jefe";
    const DATA: &[u8] = b"what do ya want for nothing?";
    const MAC: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn a4_rfc_4231_vector_in_hex_and_base64() {
        assert_eq!(hmac_sha256_hex(KEY, DATA), MAC);
        assert!(verify_hex(KEY, DATA, MAC));
        assert!(verify_hex(KEY, DATA, &MAC.to_uppercase()));
        assert!(verify_base64(KEY, DATA, &hmac_sha256_base64(KEY, DATA)));
    }

    #[test]
    fn a4_wrong_or_malformed_signatures_are_refused() {
        let mut wrong = MAC.to_owned();
        wrong.replace_range(0..1, "6");
        assert!(!verify_hex(KEY, DATA, &wrong));
        assert!(!verify_hex(KEY, DATA, "not hex"));
        assert!(!verify_hex(KEY, DATA, &MAC[..10]));
        assert!(!verify_hex(KEY, b"what do ya want for nothing!", MAC));
        assert!(!verify_base64(KEY, DATA, "%%%"));
    }
}
