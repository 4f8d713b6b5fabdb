//! Serde for byte buffers as one byte string rather than a sequence of
//! numbers: RAM and video memory are megabytes, and a binary format (CBOR)
//! writes a byte string in one piece where a sequence costs a header per
//! element. Reading accepts either form, so states written before a field
//! used this still load.

use serde::de::{Error, SeqAccess, Visitor};
use serde::{Deserializer, Serializer};

/// Serialize a byte buffer as a byte string (`#[serde(with = "…")]`).
pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(bytes)
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
        while let Some(b) = seq.next_element::<u8>()? {
            v.push(b);
        }
        Ok(v)
    }
}

/// Deserialize a byte buffer from a byte string or a sequence of bytes.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    d.deserialize_byte_buf(BytesVisitor)
}

/// The same for a fixed-size array (`[u8; N]`, any N): a byte string of
/// exactly N bytes.
pub mod array {
    use serde::de::Error;
    use serde::{Deserializer, Serializer};

    /// Serialize as a byte string.
    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    /// Deserialize a byte string (or sequence) of exactly N bytes.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let v = super::deserialize(d)?;
        let n = v.len();
        v.try_into()
            .map_err(|_| D::Error::custom(format!("expected {N} bytes, found {n}")))
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super")]
        v: Vec<u8>,
        #[serde(with = "super::array")]
        a: [u8; 40],
    }

    #[test]
    fn round_trips_and_reads_sequences() {
        let t = T {
            v: vec![1, 2, 255],
            a: [7; 40],
        };
        let j = serde_json::to_string(&t).unwrap();
        // JSON has no byte strings: serde_json writes a sequence, which reads back.
        assert!(j.starts_with("{\"v\":[1,2,255]"), "{j}");
        assert_eq!(serde_json::from_str::<T>(&j).unwrap(), t);
        let short = j.replace("[7,7,", "[7,");
        assert!(serde_json::from_str::<T>(&short)
            .unwrap_err()
            .to_string()
            .contains("expected 40 bytes, found 39"));
    }
}
