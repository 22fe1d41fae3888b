//! Limits every reader of untrusted text follows, so hostile input costs linear time.
//!
//! - [`MAX_INPUT_SIZE`]: the default cap on one input (readers in binaries enforce it; the
//!   crates take text, not files).
//! - [`MAX_NESTING`]: how deeply collections may nest. [`check_nesting`] finds a violation
//!   in one linear pass over the text, before any parser (YAML, JSON or the fast subset) can
//!   spend superlinear time on it; [`crate::parse_stream`] calls it on every document.

/// The default size limit of one input: 16 MiB.
pub const MAX_INPUT_SIZE: u64 = 16 << 20;

/// Deepest collection nesting accepted. Profiles nest fewer than 10 levels.
pub const MAX_NESTING: usize = 64;

/// Where nesting first went over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

/// Characters after which `[`, `{` or a quote start a collection or quoted scalar (rather
/// than being part of a plain scalar like `a[0]` or `don't`).
fn structural(prev: Option<char>) -> bool {
    matches!(prev, None | Some('-' | ':' | '?' | ',' | '[' | '{'))
}

/// Checks that no collection in `text` (YAML block or flow style, or JSON) nests deeper than
/// `max`. Linear in the text. It over-approximates the depth a parser sees (a block line's
/// depth is its indentation levels plus its compact `- ` entries plus open flow brackets), so
/// it never lets deeper input through; real profiles stay far below the limit.
pub fn check_nesting(text: &str, max: usize) -> Result<(), TooDeep> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote: Option<char> = None;
    let mut block_scalar: Option<usize> = None;
    for (line_no, line) in (1usize..).zip(text.split('\n')) {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = line[indent..].trim_end_matches(['\r', ' ', '\t']);
        if let Some(parent) = block_scalar {
            if content.is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let mut depth_base = 0;
        let mut chars = content.char_indices().peekable();
        if flow == 0 && quote.is_none() {
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            while indents.last().is_some_and(|top| *top >= indent) {
                indents.pop();
            }
            indents.push(indent);
            let mut compact = 0;
            let mut rest = content;
            while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
                compact += 1;
                rest = r.trim_start_matches(' ');
            }
            depth_base = indents.len() - 1 + compact;
            if depth_base > max {
                return Err(TooDeep {
                    line: line_no,
                    column: indent + 1,
                });
            }
            if content.ends_with('|')
                || content.ends_with('>')
                || content
                    .rsplit_once([' ', ':', '-'])
                    .is_some_and(|(_, tail)| {
                        (tail.starts_with('|') || tail.starts_with('>'))
                            && tail[1..]
                                .chars()
                                .all(|c| matches!(c, '-' | '+' | '0'..='9'))
                    })
            {
                block_scalar = Some(indent);
            }
        }
        let mut prev: Option<char> = None;
        let mut col = indent;
        while let Some((i, c)) = chars.next() {
            col += 1;
            match quote {
                Some('"') => match c {
                    '\\' => {
                        chars.next();
                        col += 1;
                    }
                    '"' => quote = None,
                    _ => {}
                },
                Some(_) => {
                    if c == '\'' {
                        quote = None;
                    }
                }
                None => match c {
                    '#' if i == 0 || content[..i].ends_with([' ', '\t']) => break,
                    '"' | '\'' if structural(prev) => quote = Some(c),
                    '[' | '{' if flow > 0 || structural(prev) => {
                        flow += 1;
                        if depth_base + flow > max {
                            return Err(TooDeep {
                                line: line_no,
                                column: col,
                            });
                        }
                    }
                    ']' | '}' if flow > 0 => flow -= 1,
                    _ => {}
                },
            }
            if !c.is_whitespace() {
                prev = Some(c);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_and_block_nesting_is_found() {
        let deep = "[".repeat(100_000);
        assert_eq!(
            check_nesting(&deep, MAX_NESTING),
            Err(TooDeep {
                line: 1,
                column: 65
            })
        );
        assert!(check_nesting(&"{a: ".repeat(100_000), MAX_NESTING).is_err());
        assert!(check_nesting(&"- ".repeat(100_000), MAX_NESTING).is_err());
        let stairs: String = (0..100).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
        assert!(check_nesting(&stairs, MAX_NESTING).is_err());
    }

    #[test]
    fn ordinary_documents_pass() {
        let ok = "apiVersion: v1 # c [[[[\nkind: X\nmetadata: {name: a, labels: {a: '[[['}}\n\
                  spec:\n  names: [read, \"w[r\", 'it''s']\n  policy: |\n    {{{{{{{{{{\n    \"\n  \
                  note: a[0] don't {x\n  list:\n  - - - a\n";
        let ok = ok.repeat(1000);
        assert_eq!(check_nesting(&ok, 8), Ok(()));
        let json = r#"{"a": [{"b": [1, 2, {"c": "]]]]"}]}], "d": "\"[["}"#;
        assert_eq!(check_nesting(json, 6), Ok(()));
        assert!(check_nesting(json, 4).is_err());
    }
}
