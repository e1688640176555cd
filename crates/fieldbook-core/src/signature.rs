//! What a customer's signature covers and how anyone can check it later.
//!
//! The signed content is a canonical JSON document (object keys sorted, no insignificant
//! whitespace, UTF-8) of the work order, its inspection answers, its repair records and the
//! signer. Its SHA-256 digest is signed by the laptop's Ed25519 key. Whoever holds the laptop's
//! public key can then verify that neither the content nor the digest changed after signing.

use ed25519_dalek::{Signature as Ed25519Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Canonical JSON text: keys sorted at every level, whatever order the map kept them in (a
/// dependency enabling serde_json's `preserve_order` must not change what was signed).
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        v => out.push_str(&v.to_string()),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The device's signature over a digest (hex in, hex out).
pub fn sign_digest(key: &SigningKey, digest_hex: &str) -> String {
    hex::encode(key.sign(digest_hex.as_bytes()).to_bytes())
}

/// Checks a device signature over a digest with the device's public key.
pub fn verify_digest(public_key_hex: &str, digest_hex: &str, signature_hex: &str) -> Result<(), String> {
    let key: [u8; 32] = hex::decode(public_key_hex).ok().and_then(|b| b.try_into().ok()).ok_or("the device public key is not 32 bytes of hex")?;
    let key = VerifyingKey::from_bytes(&key).map_err(|e| format!("the device public key is invalid: {e}"))?;
    let sig: [u8; 64] = hex::decode(signature_hex).ok().and_then(|b| b.try_into().ok()).ok_or("the device signature is not 64 bytes of hex")?;
    key.verify(digest_hex.as_bytes(), &Ed25519Signature::from_bytes(&sig)).map_err(|_| "the device signature does not match the digest".to_string())
}

/// What a laptop signs to renew its expired device token: domain-separated, so that no other
/// signature the device key makes (work-order signatures sign a hex digest) can be replayed as
/// a renewal, nor a renewal for one device or nonce as another's.
pub fn token_renewal_message(device_id: &str, nonce: &str) -> Vec<u8> {
    format!("fieldbook token renewal v1\n{device_id}\n{nonce}").into_bytes()
}

/// The device's renewal signature (hex) over [`token_renewal_message`].
pub fn sign_token_renewal(key: &SigningKey, device_id: &str, nonce: &str) -> String {
    hex::encode(key.sign(&token_renewal_message(device_id, nonce)).to_bytes())
}

/// Checks a renewal signature with the public key registered at enrolment.
pub fn verify_token_renewal(public_key_hex: &str, device_id: &str, nonce: &str, signature_hex: &str) -> Result<(), String> {
    let key: [u8; 32] = hex::decode(public_key_hex).ok().and_then(|b| b.try_into().ok()).ok_or("the device public key is not 32 bytes of hex")?;
    let key = VerifyingKey::from_bytes(&key).map_err(|e| format!("the device public key is invalid: {e}"))?;
    let sig: [u8; 64] = hex::decode(signature_hex).ok().and_then(|b| b.try_into().ok()).ok_or("the signature is not 64 bytes of hex")?;
    key.verify(&token_renewal_message(device_id, nonce), &Ed25519Signature::from_bytes(&sig)).map_err(|_| "the signature was not made with this laptop's device key".to_string())
}

/// Paths (`repair_records[0].action`) where two JSON documents differ, for telling the office
/// exactly what changed after signing.
pub fn differences(signed: &Value, now: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff(signed, now, String::new(), &mut out);
    out
}

fn diff(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                diff(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), p, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(p, q, format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a != b => out.push(if path.is_empty() { "(document)".into() } else { path }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_form_sorts_keys_at_every_level() {
        let v = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": "中文"}], "c": null}});
        assert_eq!(canonical_json(&v), r#"{"a":{"c":null,"d":[1,{"y":"中文","z":0}]},"b":1}"#);
    }

    #[test]
    fn device_signature_verifies_and_rejects_a_changed_digest() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = hex::encode(key.verifying_key().as_bytes());
        let digest = sha256_hex(b"content");
        let sig = sign_digest(&key, &digest);
        verify_digest(&public, &digest, &sig).unwrap();
        let other = sha256_hex(b"content!");
        assert!(verify_digest(&public, &other, &sig).unwrap_err().contains("does not match"));
        assert!(verify_digest("zz", &digest, &sig).is_err());
    }

    #[test]
    fn differences_name_the_changed_paths() {
        let a = json!({"repair_records": [{"action": "replaced valve"}], "x": 1});
        let b = json!({"repair_records": [{"action": "tightened valve"}], "x": 1});
        assert_eq!(differences(&a, &b), ["repair_records[0].action"]);
    }
}
