//! Continuation tokens for paged query results.
//!
//! A token is `BODY.TAG`: `BODY` is base64url (no padding) of the JSON
//! `{"v":1,"q":"<query fingerprint>","n":<page size>,"r":<resume>}` and
//! `TAG` is base64url of SipHash-2-4 of those JSON bytes under a
//! [`TokenKey`]. The executor owns `r` (an offset, a resume key, …); this
//! module only carries it, ties it to one query and detects a token that
//! was altered, truncated, made for another query or by another key.
//!
//! With [`TokenKey::default`] (all zeros) the tag only catches corruption
//! and casual edits; a server should use a secret random key so clients
//! cannot forge resume positions. The browser replica may use any key of
//! its own, as its tokens never leave it.

use serde::{Deserialize, Serialize};

use crate::ast::Query;

/// The current token format version.
const VERSION: u32 = 1;

/// Longest token text accepted by [`ContinuationToken::decode`].
pub const MAX_TOKEN_LENGTH: usize = 64 * 1024;

/// A 128-bit key for the token's tag.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TokenKey(pub [u8; 16]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// A position in a query's results, handed to the client between pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContinuationToken {
    /// [`Query::fingerprint`] of the query the token continues.
    pub query: u64,
    /// The page size the query was started with.
    pub page_size: u32,
    /// Where to resume; its meaning belongs to the executor.
    pub resume: serde_json::Value,
}

/// Why a continuation token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Too long to be one of ours.
    #[error("the continuation token is too long")]
    TooLong,
    /// Not base64url, not JSON of the right shape, or without a tag.
    #[error(
        "the continuation token is malformed; pass back the token of the previous page unchanged"
    )]
    Malformed,
    /// A format version this build does not read.
    #[error(
        "the continuation token comes from an unsupported version; run the query again without it"
    )]
    UnsupportedVersion,
    /// The tag does not match: altered, or issued under another key.
    #[error(
        "the continuation token was altered or issued by another server; run the query again without it"
    )]
    Tampered,
    /// Issued for a different query.
    #[error(
        "the continuation token belongs to a different query; pass the same query with its token"
    )]
    WrongQuery,
}

impl TokenError {
    /// A stable code for the kind of error.
    pub fn code(self) -> &'static str {
        match self {
            TokenError::TooLong => "TokenTooLong",
            TokenError::Malformed => "TokenMalformed",
            TokenError::UnsupportedVersion => "TokenUnsupportedVersion",
            TokenError::Tampered => "TokenTampered",
            TokenError::WrongQuery => "TokenWrongQuery",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: u32,
    q: String,
    n: u32,
    r: serde_json::Value,
}

impl ContinuationToken {
    /// A token for `query`'s next page.
    pub fn new(query: &Query, page_size: u32, resume: serde_json::Value) -> Self {
        ContinuationToken {
            query: query.fingerprint(),
            page_size,
            resume,
        }
    }

    /// The opaque text to send to the client.
    pub fn encode(&self, key: &TokenKey) -> String {
        let wire = Wire {
            v: VERSION,
            q: format!("{:016x}", self.query),
            n: self.page_size,
            r: self.resume.clone(),
        };
        // Serialising a struct of strings, numbers and a `Value` cannot fail.
        let body = serde_json::to_vec(&wire).unwrap_or_default();
        let tag = siphash24(&key.0, &body).to_le_bytes();
        let mut out = base64url_encode(&body);
        out.push('.');
        out.push_str(&base64url_encode(&tag));
        out
    }

    /// Reads a token produced by [`encode`](Self::encode) with the same key.
    pub fn decode(text: &str, key: &TokenKey) -> Result<Self, TokenError> {
        if text.len() > MAX_TOKEN_LENGTH {
            return Err(TokenError::TooLong);
        }
        let (body, tag) = text.trim().split_once('.').ok_or(TokenError::Malformed)?;
        let body = base64url_decode(body).ok_or(TokenError::Malformed)?;
        let tag = base64url_decode(tag).ok_or(TokenError::Malformed)?;
        let tag: [u8; 8] = tag.try_into().map_err(|_| TokenError::Malformed)?;
        let wire: Wire = serde_json::from_slice(&body).map_err(|_| TokenError::Malformed)?;
        if wire.v != VERSION {
            return Err(TokenError::UnsupportedVersion);
        }
        if u64::from_le_bytes(tag) != siphash24(&key.0, &body) {
            return Err(TokenError::Tampered);
        }
        let query = (wire.q.len() == 16)
            .then(|| u64::from_str_radix(&wire.q, 16).ok())
            .flatten()
            .ok_or(TokenError::Malformed)?;
        if wire.n == 0 {
            return Err(TokenError::Malformed);
        }
        Ok(ContinuationToken {
            query,
            page_size: wire.n,
            resume: wire.r,
        })
    }

    /// Checks that the token continues `query`.
    pub fn check_query(&self, query: &Query) -> Result<(), TokenError> {
        if self.query == query.fingerprint() {
            Ok(())
        } else {
            Err(TokenError::WrongQuery)
        }
    }

    /// [`decode`](Self::decode) then [`check_query`](Self::check_query).
    pub fn decode_for(text: &str, key: &TokenKey, query: &Query) -> Result<Self, TokenError> {
        let token = Self::decode(text, key)?;
        token.check_query(query)?;
        Ok(token)
    }
}

impl Query {
    /// A 64-bit fingerprint of the query's canonical text: the same query
    /// written with other white space or keyword case has the same one.
    pub fn fingerprint(&self) -> u64 {
        const KEY: [u8; 16] = *b"twinscape-query!";
        siphash24(&KEY, self.to_string().as_bytes())
    }
}

/// SipHash-2-4 (Aumasson and Bernstein), a keyed 64-bit PRF.
pub(crate) fn siphash24(key: &[u8; 16], data: &[u8]) -> u64 {
    let mut k = [0u8; 8];
    k.copy_from_slice(&key[..8]);
    let k0 = u64::from_le_bytes(k);
    k.copy_from_slice(&key[8..]);
    let k1 = u64::from_le_bytes(k);
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        let m = u64::from_le_bytes(b);
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    last[7] = (data.len() & 0xff) as u8;
    let m = u64::from_le_bytes(last);
    v[3] ^= m;
    round(&mut v);
    round(&mut v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| {
        ALPHABET
            .iter()
            .position(|&a| a == c)
            .and_then(|p| u32::try_from(p).ok())
    };
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push(((n >> (16 - 8 * i)) & 0xff) as u8);
        }
    }
    // One text per byte string: reject stray low bits in the last character.
    (base64url_encode(&out) == text).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn siphash_reference_vectors() {
        let key: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(siphash24(&key, &[]), 0x726f_db47_dd0e_0e31);
        let msg: Vec<u8> = (0..15).collect();
        assert_eq!(siphash24(&key, &msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn base64url_round_trip_and_rejects() {
        for len in 0..20 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = base64url_encode(&data);
            assert!(!text.contains('='));
            assert_eq!(
                base64url_decode(&text).as_deref(),
                Some(data.as_slice()),
                "{len}"
            );
        }
        assert_eq!(base64url_encode(b"\xfb\xff"), "-_8");
        assert!(base64url_decode("a").is_none());
        assert!(base64url_decode("ab+/").is_none());
        assert!(base64url_decode("ab=").is_none());
        assert!(
            base64url_decode("-_9").is_none(),
            "non-canonical trailing bits"
        );
    }

    #[test]
    fn tokens_round_trip_and_detect_misuse() {
        let query = parse("SELECT * FROM DIGITALTWINS T WHERE T.x > 1").unwrap();
        let same = parse("select *   from digitaltwins T where T.x>1").unwrap();
        let other = parse("SELECT * FROM DIGITALTWINS").unwrap();
        let key = TokenKey(*b"0123456789abcdef");
        let token = ContinuationToken::new(
            &query,
            50,
            serde_json::json!({"offset": 100, "after": "room-7"}),
        );
        let text = token.encode(&key);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        );
        let back = ContinuationToken::decode_for(&text, &key, &same).unwrap();
        assert_eq!(back, token);
        assert_eq!(
            ContinuationToken::decode_for(&text, &key, &other),
            Err(TokenError::WrongQuery)
        );
        assert_eq!(
            ContinuationToken::decode(&text, &TokenKey::default()),
            Err(TokenError::Tampered)
        );
        assert_eq!(
            ContinuationToken::decode("", &key),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            ContinuationToken::decode("not a token", &key),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            ContinuationToken::decode(&"a".repeat(70_000), &key),
            Err(TokenError::TooLong)
        );

        // Flip one character of the body: malformed or tampered, never accepted.
        for i in 0..text.find('.').unwrap() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            if altered != text {
                let err = ContinuationToken::decode(&altered, &key).unwrap_err();
                assert!(
                    matches!(
                        err,
                        TokenError::Malformed
                            | TokenError::Tampered
                            | TokenError::UnsupportedVersion
                    ),
                    "{err:?}"
                );
            }
        }
    }

    #[test]
    fn fingerprint_ignores_layout_not_meaning() {
        let a = parse("SELECT * FROM DIGITALTWINS WHERE x = 1").unwrap();
        let b = parse("SELECT *\nFROM digitaltwins\nWHERE x=1").unwrap();
        let c = parse("SELECT * FROM DIGITALTWINS WHERE x = 1.0").unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
