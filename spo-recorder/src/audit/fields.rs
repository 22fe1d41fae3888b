//! Byte-level helpers for audit records: `key=value` fields, numbers, hex-encoded strings.
//! Everything here is total: bad input yields `None`, never a panic.

use std::borrow::Cow;

/// One `key=value` field (or a bare word, with an empty value and `bare = true`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
    /// The value was inside double quotes.
    pub quoted: bool,
    /// Offset just past the field in the scanned slice.
    pub end: usize,
}

/// Iterates the space-separated fields of a record body. Quoted values (`"…"`, `'…'`) may
/// contain spaces; an unterminated quote runs to the end of the body.
pub(crate) struct Fields<'a> {
    body: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Self {
        Fields { body, pos: 0 }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        let b = self.body;
        let mut i = self.pos;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() {
            self.pos = i;
            return None;
        }
        let key_start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b' ' {
            i += 1;
        }
        let key = &b[key_start..i];
        if i >= b.len() || b[i] == b' ' {
            self.pos = i;
            return Some(Field {
                key,
                value: &[],
                quoted: false,
                end: i,
            });
        }
        // b[i] == '='
        i += 1;
        let (value, quoted, end) = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let start = i + 1;
                match memchr::memchr(q, b.get(start..).unwrap_or_default()) {
                    Some(n) => (&b[start..start + n], q == b'"', start + n + 1),
                    None => (&b[start..], q == b'"', b.len()),
                }
            }
            _ => {
                // Unquoted values are short: a plain loop beats a memchr call here.
                let start = i;
                let mut j = start;
                while j < b.len() && b[j] != b' ' {
                    j += 1;
                }
                (&b[start..j], false, j)
            }
        };
        self.pos = end;
        Some(Field {
            key,
            value,
            quoted,
            end,
        })
    }
}

/// Parses an unsigned decimal number (no sign, no spaces); `None` on overflow or junk.
pub(crate) fn dec_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// [`dec_u64`] narrowed to `u32`.
pub(crate) fn dec_u32(s: &[u8]) -> Option<u32> {
    dec_u64(s).and_then(|v| u32::try_from(v).ok())
}

/// Parses up to 8 leading hex digits (an optional `0x` prefix is skipped); anything after
/// them is ignored (a record copied without its `\x1d` separator glues the next field onto
/// `code=`, as in `code=0x7ffc0000AUID="unset"`).
pub(crate) fn hex_prefix_u32(s: &[u8]) -> Option<u32> {
    let s = s
        .strip_prefix(b"0x")
        .or_else(|| s.strip_prefix(b"0X"))
        .unwrap_or(s);
    let mut v: u32 = 0;
    let mut any = false;
    for &c in s.iter().take(8) {
        let Some(d) = hex_digit(c) else { break };
        v = (v << 4) | u32::from(d);
        any = true;
    }
    any.then_some(v)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Text of a byte slice: borrowed when it is UTF-8, else a lossy copy.
pub(crate) fn text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(String::from_utf8_lossy(b).into_owned()),
    }
}

/// The value of an "untrusted string" field (`exe`, `comm`, `name`, `profile`, `path`…):
/// the kernel writes it quoted, or — when it holds spaces, quotes or control characters —
/// as unquoted upper-case hex of its bytes. `(null)` and `?` stay as they are.
pub(crate) fn untrusted(value: &[u8], quoted: bool) -> Cow<'_, str> {
    if !quoted
        && !value.is_empty()
        && value.len().is_multiple_of(2)
        && value.iter().all(|c| c.is_ascii_hexdigit())
    {
        let bytes: Vec<u8> = value
            .chunks_exact(2)
            .filter_map(|p| Some(hex_digit(p[0])? << 4 | hex_digit(p[1])?))
            .collect();
        return Cow::Owned(String::from_utf8_lossy(&bytes).into_owned());
    }
    text(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_quoted_and_bare_values() {
        let body = br#"a=1 exe="/app/x y" bare msg='op=x y' z="unterminated"#;
        let f: Vec<_> = Fields::new(body)
            .map(|f| (f.key.to_vec(), f.value.to_vec(), f.quoted))
            .collect();
        assert_eq!(f[0], (b"a".to_vec(), b"1".to_vec(), false));
        assert_eq!(f[1], (b"exe".to_vec(), b"/app/x y".to_vec(), true));
        assert_eq!(f[2], (b"bare".to_vec(), b"".to_vec(), false));
        assert_eq!(f[3], (b"msg".to_vec(), b"op=x y".to_vec(), false));
        assert_eq!(f[4], (b"z".to_vec(), b"unterminated".to_vec(), true));
        assert_eq!(f.len(), 5);
    }

    #[test]
    fn numbers() {
        assert_eq!(dec_u64(b"123"), Some(123));
        assert_eq!(dec_u64(b"99999999999999999999"), None);
        assert_eq!(dec_u64(b""), None);
        assert_eq!(dec_u32(b"4294967296"), None);
        assert_eq!(hex_prefix_u32(b"0x7ffc0000AUID"), Some(0x7ffc_0000));
        assert_eq!(hex_prefix_u32(b"c000003e"), Some(0xc000_003e));
        assert_eq!(hex_prefix_u32(b"zz"), None);
    }

    #[test]
    fn hex_encoded_strings_are_decoded() {
        assert_eq!(untrusted(b"2F612062", false), "/a b");
        assert_eq!(untrusted(b"2F612062", true), "2F612062");
        assert_eq!(untrusted(b"(null)", false), "(null)");
    }
}
