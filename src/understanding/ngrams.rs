//! Character n-grams as features: the surface of the words, beside the encoder's reading of
//! their meaning. Short Chinese messages turn on one or two characters (希望, 吗, 建议) that a
//! sentence vector blurs; hashed unigrams, bigrams and English words keep them, in a fixed
//! number of buckets so the heads' size does not grow with the vocabulary.

/// Width, case and script folded first (`normalize::prepare`), so 漏水/漏水/漏水 and
/// LEAK/leak share features.
pub fn features(text: &str, dim: usize, scale: f32) -> Vec<f32> {
    let mut v = vec![0f32; dim];
    if dim == 0 {
        return v;
    }
    let prepared = super::normalize::prepare(text);
    let chars: Vec<char> = prepared.chars().filter(|c| !c.is_whitespace()).collect();
    let mut add = |tag: u8, parts: &[char]| {
        let mut h: u64 = 0xcbf29ce484222325 ^ u64::from(tag);
        h = h.wrapping_mul(0x100000001b3);
        for c in parts {
            for b in (*c as u32).to_le_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x100000001b3);
            }
        }
        v[(h % dim as u64) as usize] += 1.0;
    };
    for c in &chars {
        add(b'u', std::slice::from_ref(c));
    }
    for pair in chars.windows(2) {
        add(b'b', pair);
    }
    for word in prepared
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() > 1)
    {
        let w: Vec<char> = word.chars().collect();
        add(b'w', &w);
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x *= scale / norm;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_widths_share_features_and_the_length_is_fixed() {
        let a = features("電梯壞了", 256, 0.5);
        assert_eq!(a.len(), 256);
        assert_eq!(a, features("电梯坏了", 256, 0.5));
        assert_eq!(features("LEAK", 64, 1.0), features("leak", 64, 1.0));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 0.5).abs() < 1e-5);
        assert!(features("", 8, 1.0).iter().all(|x| *x == 0.0));
    }
}
