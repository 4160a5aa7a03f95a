//! WeChat's request signatures: the lowercase hex SHA-1 of the lexicographically sorted
//! concatenation of the token, timestamp, nonce and (in safe mode) the `Encrypt` string.
//! Comparisons run in constant time so a forger learns nothing from response timing.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// The signature over `parts` (token, timestamp, nonce[, encrypt]).
pub fn sign(parts: &[&str]) -> String {
    let mut sorted: Vec<&str> = parts.to_vec();
    sorted.sort_unstable();
    let mut hasher = Sha1::new();
    for part in sorted {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Whether `given` is the signature over `parts`. Case-insensitive in the hex digits, as
/// some SDKs send uppercase.
pub fn verify(given: &str, parts: &[&str]) -> bool {
    let expected = sign(parts);
    let given = given.to_ascii_lowercase();
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_msg_signature_of_the_official_documentation() {
        let encrypt = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=";
        assert_eq!(
            sign(&["AAAAA", "1714112445", "415670741", encrypt]),
            "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
        );
        assert!(verify(
            "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3",
            &["AAAAA", "1714112445", "415670741", encrypt]
        ));
    }

    #[test]
    fn order_of_the_parts_does_not_matter() {
        assert_eq!(sign(&["b", "a", "c"]), sign(&["c", "b", "a"]));
    }

    #[test]
    fn a_wrong_or_truncated_signature_fails() {
        let good = sign(&["token", "1", "2"]);
        assert!(verify(&good, &["token", "1", "2"]));
        assert!(verify(&good.to_uppercase(), &["token", "1", "2"]));
        assert!(!verify(&good[..39], &["token", "1", "2"]));
        assert!(!verify("", &["token", "1", "2"]));
        assert!(!verify(&good, &["token", "1", "3"]));
    }
}
