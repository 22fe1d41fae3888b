//! A fast parser for the plain block-style YAML that profile manifests are written in.
//!
//! Profiles are mostly nested block mappings and sequences of short plain or quoted scalars,
//! with an occasional one-line flow collection (`names: [read, write]`, `metadata: {name: x}`).
//! A general YAML parser spends most of its time on machinery such documents never use;
//! [`parse`] reads exactly this subset, several times faster.
//!
//! It is an accelerator, never an authority: whenever the text leaves the subset — anchors,
//! tags, block scalars, multi-line scalars, escapes, tabs, directives, complex keys, a scalar
//! that YAML might resolve to something other than a string, `null`, `true`/`false` or an
//! unsigned decimal — it returns `None` and the caller uses the full YAML parser, which also
//! produces every syntax error. When it returns a value, that value equals what the full
//! parser produces (tested differentially against it).

use serde_json::{Map, Number, Value};

/// Parses one YAML document (no `---` markers) if it stays within the subset.
///
/// ```
/// let v = spo_core::yaml_subset::parse("a:\n  - b: [c, 'd']\n    e: 1\n").unwrap();
/// assert_eq!(v, serde_json::json!({"a": [{"b": ["c", "d"], "e": 1}]}));
/// assert!(spo_core::yaml_subset::parse("a: &anchor b\n").is_none());
/// ```
pub fn parse(text: &str) -> Option<Value> {
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.chars().any(|c| c.is_control() || c == '\u{feff}') {
            return None;
        }
        let content = raw.trim_start_matches(' ');
        let indent = raw.len() - content.len();
        let content = strip_comment(content)?.trim_end_matches(' ');
        if content.is_empty() {
            continue;
        }
        if content.starts_with('%') || content.starts_with("---") || content.starts_with("...") {
            return None;
        }
        lines.push(Line {
            indent,
            text: content,
        });
    }
    let first = lines.first()?.indent;
    let mut p = Parser {
        lines,
        pos: 0,
        depth: 0,
    };
    let v = p.node(first)?;
    (p.pos == p.lines.len()).then_some(v)
}

/// One non-blank line: its indentation and its content without comment.
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// The content before a comment. A line with both a comment and a quote character is left
/// to the full parser (a `#` inside quotes is not a comment, and quotes inside plain scalars
/// are literal), so `None`.
fn strip_comment(s: &str) -> Option<&str> {
    let bytes = s.as_bytes();
    let hash = (0..bytes.len()).find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1] == b' '));
    match hash {
        None => Some(s),
        Some(i) if s[..i].contains(['"', '\'']) => None,
        Some(i) => Some(&s[..i]),
    }
}

/// Deepest nesting (block and flow together) the subset reads; deeper documents go to the
/// full parser, whose own limit (128) then decides. Keeps the recursion's stack use bounded.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    /// The block node whose first line is the current one, indented by `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let v = if is_seq_entry(self.peek()?.text) {
            self.seq(indent)
        } else {
            self.map(indent)
        };
        self.depth -= 1;
        v
    }

    /// Fails when the next line is indented deeper than a finished node at `indent`: that
    /// would be a continuation (multi-line scalar) or bad indentation.
    fn no_deeper(&self, indent: usize) -> Option<()> {
        match self.peek() {
            Some(l) if l.indent > indent => None,
            _ => Some(()),
        }
    }

    fn seq(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent != indent || !is_seq_entry(line.text) {
                break;
            }
            let rest = line.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                self.pos += 1;
                match self.peek() {
                    Some(next) if next.indent > indent => items.push(self.node(next.indent)?),
                    _ => items.push(Value::Null),
                }
            } else if is_seq_entry(rest) || split_key(rest).is_some() {
                // A compact nested node: it continues on the following lines at the
                // column where it starts.
                let column = indent + line.text.len() - rest.len();
                self.lines[self.pos] = Line {
                    indent: column,
                    text: rest,
                };
                items.push(self.node(column)?);
            } else {
                self.pos += 1;
                items.push(inline_value(rest, self.depth)?);
            }
            self.no_deeper(indent)?;
        }
        // Doubling leaves up to half of each list unused; large profiles hold a million
        // entries in these lists until the model is built (peak memory, issue 9).
        items.shrink_to_fit();
        Some(Value::Array(items))
    }

    fn map(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::new();
        while let Some(line) = self.peek() {
            if line.indent != indent {
                break;
            }
            let (key, rest) = split_key(line.text)?;
            if map.contains_key(&key) {
                return None;
            }
            self.pos += 1;
            let value = if rest.is_empty() {
                match self.peek() {
                    Some(next) if next.indent > indent => self.node(next.indent)?,
                    Some(next) if next.indent == indent && is_seq_entry(next.text) => {
                        self.seq(indent)?
                    }
                    _ => Value::Null,
                }
            } else {
                inline_value(rest, self.depth)?
            };
            map.insert(key, value);
            self.no_deeper(indent)?;
        }
        Some(Value::Object(map))
    }
}

fn is_seq_entry(t: &str) -> bool {
    t == "-" || t.starts_with("- ")
}

/// `key: rest` → the key and the trimmed rest (empty when the value follows on later lines).
fn split_key(t: &str) -> Option<(String, &str)> {
    let (key, after) = if t.starts_with(['"', '\'']) {
        let (k, after) = quoted(t)?;
        (k, after.strip_prefix(':')?)
    } else {
        let colon = t
            .match_indices(':')
            .map(|(i, _)| i)
            .find(|&i| matches!(t.as_bytes().get(i + 1), None | Some(b' ')))?;
        let key = &t[..colon];
        if !plain_key(key) {
            return None;
        }
        (key.to_owned(), &t[colon + 1..])
    };
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    Some((key, after.trim_start_matches(' ')))
}

/// A plain key the subset accepts: simple characters, and resolving to a string.
fn plain_key(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with(['-', '.'])
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && matches!(resolve_plain(key), Some(Value::String(_)))
}

/// A value written on the same line as its key or sequence dash, inside `depth` levels.
fn inline_value(s: &str, depth: usize) -> Option<Value> {
    match s.as_bytes().first()? {
        b'[' | b'{' => {
            let mut f = Flow { s, pos: 0, depth };
            let v = f.value()?;
            f.skip_spaces();
            (f.pos == s.len()).then_some(v)
        }
        b'"' | b'\'' => {
            let (v, rest) = quoted(s)?;
            rest.trim_start_matches(' ')
                .is_empty()
                .then_some(Value::String(v))
        }
        _ => {
            if starts_with_indicator(s) || s.contains(": ") || s.ends_with(':') {
                return None;
            }
            resolve_plain(s)
        }
    }
}

/// Plain scalars starting with these are left to the full parser (aliases, anchors, tags,
/// block scalars, directives, reserved characters, sequence dashes and signed numbers).
fn starts_with_indicator(s: &str) -> bool {
    s.starts_with([
        '&', '*', '!', '|', '>', '%', '@', '`', '?', '-', ':', ',', ']', '}', '#', '"', '\'',
    ])
}

/// The value YAML's core schema gives a plain scalar, or `None` when it is a number form the
/// subset does not handle (signs, floats, octal/hex, leading zeros, overflow).
fn resolve_plain(s: &str) -> Option<Value> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if s.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
        let decimal =
            s.bytes().all(|b| b.is_ascii_digit()) && (s.len() == 1 || !s.starts_with('0'));
        return decimal
            .then(|| s.parse::<u64>().ok())
            .flatten()
            .map(|n| Value::Number(Number::from(n)));
    }
    Some(Value::String(s.to_owned()))
}

/// A single- or double-quoted scalar at the start of `s` (no escapes other than `''`) and the
/// text after it.
fn quoted(s: &str) -> Option<(String, &str)> {
    let q = s.chars().next()?;
    let body = &s[1..];
    if q == '"' {
        let end = body.find('"')?;
        let v = &body[..end];
        if v.contains('\\') {
            return None;
        }
        return Some((v.to_owned(), &body[end + 1..]));
    }
    let mut out = String::new();
    let mut rest = body;
    loop {
        let end = rest.find('\'')?;
        out.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        match rest.strip_prefix('\'') {
            Some(r) => {
                out.push('\'');
                rest = r;
            }
            None => return Some((out, rest)),
        }
    }
}

/// A one-line flow collection.
struct Flow<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

impl Flow<'_> {
    fn skip_spaces(&mut self) {
        while self.s.as_bytes().get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
    }

    fn next_byte(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn value(&mut self) -> Option<Value> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self) -> Option<Value> {
        self.skip_spaces();
        match self.next_byte()? {
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_spaces();
                    if self.next_byte()? == b']' {
                        self.pos += 1;
                        return Some(Value::Array(items));
                    }
                    items.push(self.value()?);
                    if !self.separator(b']')? {
                        return Some(Value::Array(items));
                    }
                }
            }
            b'{' => {
                self.pos += 1;
                let mut map = Map::new();
                loop {
                    self.skip_spaces();
                    if self.next_byte()? == b'}' {
                        self.pos += 1;
                        return Some(Value::Object(map));
                    }
                    let key = self.key()?;
                    if map.contains_key(&key) {
                        return None;
                    }
                    let value = self.value()?;
                    map.insert(key, value);
                    if !self.separator(b'}')? {
                        return Some(Value::Object(map));
                    }
                }
            }
            b'"' | b'\'' => {
                let (v, rest) = quoted(&self.s[self.pos..])?;
                self.pos = self.s.len() - rest.len();
                Some(Value::String(v))
            }
            _ => {
                let rest = &self.s[self.pos..];
                let end = rest.find([',', '[', ']', '{', '}']).unwrap_or(rest.len());
                let scalar = rest[..end].trim_end_matches(' ');
                if scalar.is_empty() || starts_with_indicator(scalar) || scalar.contains([':', '#'])
                {
                    return None;
                }
                self.pos += end;
                resolve_plain(scalar)
            }
        }
    }

    /// After an entry: `,` (true: another entry may follow) or the closing `close` (false).
    fn separator(&mut self, close: u8) -> Option<bool> {
        self.skip_spaces();
        let b = self.next_byte()?;
        self.pos += 1;
        if b == b',' {
            Some(true)
        } else if b == close {
            Some(false)
        } else {
            None
        }
    }

    /// `key: ` of a flow mapping entry.
    fn key(&mut self) -> Option<String> {
        let rest = &self.s[self.pos..];
        let (key, after) = if rest.starts_with(['"', '\'']) {
            quoted(rest)?
        } else {
            let colon = rest.find(':')?;
            let key = &rest[..colon];
            if !plain_key(key) {
                return None;
            }
            (key.to_owned(), &rest[colon..])
        };
        let after = after.strip_prefix(": ")?;
        self.pos = self.s.len() - after.len();
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde_json::Value;

    fn full(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    /// Accepted, and equal to the full parser's value.
    fn same(text: &str) {
        let fast = parse(text).unwrap_or_else(|| panic!("subset refused:\n{text}"));
        assert_eq!(fast, full(text), "{text}");
    }

    #[test]
    fn profile_shapes_are_accepted_and_equal_the_full_parser() {
        same("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata:\n  name: demo\n  annotations:\n    example.com/x: \"a: b\"\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  architectures: [SCMP_ARCH_X86_64, 'SCMP_ARCH_X86']\n  syscalls:\n  - names:\n    - read\n    - write  # trailing comment\n    action: SCMP_ACT_ALLOW\n  -   names: [mkdir]\n      action: SCMP_ACT_ERRNO\n      errnoRet: 38\n      args:\n        - index: 0\n          value: 18446744073709551615\n          op: SCMP_CMP_EQ\n# a comment\n\nstatus: {}\n");
        same("a:\n- - x\n  - y\n- -\n  - z\nb: ~\nc:\nd: ''\ne: 'it''s'\nf: oci://reg:5000/p:v1\ng: a#b\nh: {x: [1, 2], y: {}}\ni: [a b, c,]\nj: TRUE\nk: 0\n");
        same("  indented: top\n  level: 1\n");
        same("- a\n- b: c\n  d: e\n");
    }

    #[test]
    fn everything_outside_the_subset_is_refused() {
        for text in [
            "a: &x b\nc: *x\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: >\n  text\n",
            "a: multi\n  line\n",
            "a: \"esc\\n\"\n",
            "a:\tb\n",
            "a: 1.5\n",
            "a: 0x1F\n",
            "a: 012\n",
            "a: -1\n",
            "a: 99999999999999999999999\n",
            "a: b: c\n",
            "a: 'x' # c\n",
            "? a\n: b\n",
            "a: 1\na: 2\n",
            "a: {x: 1, x: 2}\n",
            "a: [x,\n  y]\n",
            "1: a\n",
            "true: a\n",
            "a:\n  b: 1\n c: 2\n",
            "a: 1\n  b: 2\n",
            "- a\nb: c\n",
            "plain scalar\n",
            "{a: 1}\n",
            "%YAML 1.2\na: 1\n",
            "<<: {a: 1}\n",
            "a: \u{1}\n",
            "",
            "# only a comment\n",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn nesting_is_bounded_without_exhausting_the_stack() {
        let flow = format!("a: {}x{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(&flow), None);
        let block: String = (0..1_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert_eq!(parse(&block), None);
        // Up to the limit, nesting is read.
        let ok = format!("a: {}x{}\n", "[".repeat(60), "]".repeat(60));
        same(&ok);
    }
}
