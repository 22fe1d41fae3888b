//! Differential tests of the fast YAML subset parser against the full parser: whenever the
//! subset accepts a document, its value must equal the full parser's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Map, Value};
use spo_core::yaml_subset::parse;

fn full(text: &str) -> Option<Value> {
    serde_yaml::from_str::<Value>(text).ok()
}

/// Every `*.yaml`/`*.yml` file of the workspace outside `target/`.
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            if name != "target" && !name.starts_with('.') {
                yaml_files(&p, out);
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(p);
        }
    }
}

/// Documents of a stream split the way `parse_stream` does.
fn chunks(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for line in text.split_inclusive('\n') {
        let t = line.trim_end_matches(['\n', '\r']);
        if t == "---" || t.starts_with("--- ") || t == "..." {
            out.push(String::new());
        } else {
            out.last_mut().unwrap().push_str(line);
        }
    }
    out
}

// covers: VER-01 (decoding every manifest the workspace ships gives the same values)
#[test]
fn every_workspace_manifest_parses_to_the_full_parsers_value() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    assert!(files.len() > 20, "found only {} YAML files", files.len());
    let (mut accepted, mut total) = (0, 0);
    // The ratio is taken over profile manifests, the documents the subset exists for; the
    // equality holds for every document (CRDs, deploy/ objects and fixtures too).
    let is_profile = |v: &Option<Value>| {
        let kind = v
            .as_ref()
            .and_then(|v| v.get("kind"))
            .and_then(Value::as_str);
        matches!(
            kind,
            Some("SeccompProfile" | "SelinuxProfile" | "RawSelinuxProfile" | "AppArmorProfile")
        )
    };
    let (mut all_accepted, mut all_total) = (0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for chunk in chunks(&text) {
            let profile = is_profile(&full(&chunk));
            all_total += 1;
            total += usize::from(profile);
            if let Some(fast) = parse(&chunk) {
                all_accepted += 1;
                accepted += usize::from(profile);
                assert_eq!(
                    Some(fast),
                    full(&chunk),
                    "{}: subset and full parser differ on\n{chunk}",
                    f.display()
                );
            }
        }
    }
    eprintln!(
        "subset accepted {all_accepted} of {all_total} documents, {accepted} of {total} profiles"
    );
    assert!(total > 20, "found only {total} profile manifests");
    // The subset is only worth having if real profiles stay within it.
    assert!(
        accepted * 10 >= total * 7,
        "the subset accepted only {accepted} of {total} profile manifests"
    );
}

/// Scalars, including ones that YAML resolves to other types or that need quoting.
const STRINGS: &[&str] = &[
    "read",
    "SCMP_ACT_ALLOW",
    "oci://registry:5000/p:v1",
    "a b",
    "it's",
    "say \"hi\"",
    "a: b",
    "a #b",
    "a#b",
    "yes",
    "no",
    "null",
    "~",
    "true",
    "False",
    "0",
    "12",
    "012",
    "0x1f",
    "1.5",
    "-3",
    "+4",
    ".inf",
    "- x",
    "[x]",
    "{x}",
    "&a",
    "*a",
    "!t",
    "|",
    "",
    " lead",
    "trail ",
    "x,y",
    "é/ü",
];

const KEYS: &[&str] = &[
    "name", "names", "action", "args", "a", "b.c/d", "x-y_z", "1", "true", "a b", "q'uote",
];

fn scalar(strings: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![
        (0..strings.len()).prop_map(move |i| Value::String(strings[i].into())),
        any::<u64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
    .boxed()
}

/// Trees of mappings and sequences over `strings` and `keys`, with a mapping at the top.
fn tree(strings: &'static [&'static str], keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    let map = move |inner: BoxedStrategy<Value>| {
        prop::collection::vec((0..keys.len(), inner), 1..5).prop_map(move |kv| {
            let mut m = Map::new();
            for (k, v) in kv {
                m.insert(keys[k].to_string(), v);
            }
            Value::Object(m)
        })
    };
    let node = scalar(strings).prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            map(inner),
        ]
        .boxed()
    });
    map(node.boxed()).boxed()
}

/// Strings that need no quoting and keys that are plain strings.
const SIMPLE_STRINGS: &[&str] = &[
    "read",
    "SCMP_ACT_ALLOW",
    "a b",
    "oci://registry:5000/p:v1",
    "a#b",
];
const SIMPLE_KEYS: &[&str] = &["name", "names", "action", "args", "a", "b.c/d", "x-y_z"];

/// A small deterministic generator for rendering choices.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A scalar as YAML text, in a randomly chosen style (possibly a wrong one: plain text that
/// YAML reads as another type — the parsers must still agree).
fn scalar_text(v: &Value, d: &mut Dice) -> String {
    match v {
        Value::String(s) => match d.roll(4) {
            0 => format!("'{}'", s.replace('\'', "''")),
            1 if !s.contains(['"', '\\']) => format!("\"{s}\""),
            _ => s.clone(),
        },
        Value::Null => ["", "~", "null"][d.roll(3) as usize].into(),
        other => other.to_string(),
    }
}

fn is_empty(v: &Value) -> bool {
    matches!(v, Value::Array(a) if a.is_empty()) || matches!(v, Value::Object(m) if m.is_empty())
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn flow(v: &Value, d: &mut Dice) -> String {
    match v {
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(|x| flow(x, d)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, x)| format!("{k}: {}", flow(x, d)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        // An empty scalar is not null inside a flow collection.
        Value::Null => ["~", "null"][d.roll(2) as usize].into(),
        // `:` and `#` inside flow plain scalars are left to the full parser: quote them.
        Value::String(s) if s.contains([':', '#']) && !s.contains('\'') => format!("'{s}'"),
        s => scalar_text(s, d),
    }
}

/// Sometimes a trailing comment; never on a line with quotes, which the subset leaves to the
/// full parser.
fn comment(d: &mut Dice, line: &str) -> &'static str {
    if d.roll(6) == 0 && !line.contains(['"', '\'']) {
        "  # note"
    } else {
        ""
    }
}

/// Block rendering of `v` at `indent`, as the lines after a `key:` or `-`.
fn block(v: &Value, indent: usize, out: &mut String, d: &mut Dice) {
    let pad = " ".repeat(indent);
    match v {
        Value::Array(a) => {
            for x in a {
                if is_scalar(x) || is_empty(x) || d.roll(4) == 0 {
                    let text = if is_scalar(x) {
                        scalar_text(x, d)
                    } else {
                        flow(x, d)
                    };
                    let item = format!("{pad}- {text}");
                    let c = comment(d, &item);
                    out.push_str(&format!("{item}{c}\n"));
                } else if matches!(x, Value::Object(m) if !m.is_empty()) && d.roll(2) == 0 {
                    // Compact mapping: the first key on the dash line.
                    let mut inner = String::new();
                    block(x, indent + 2, &mut inner, d);
                    out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                } else {
                    out.push_str(&format!("{pad}-\n"));
                    block(x, indent + 2, out, d);
                }
            }
            if a.is_empty() {
                out.push_str(&format!("{pad}[]\n"));
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let key = if d.roll(5) == 0 {
                    format!("\"{k}\"")
                } else {
                    k.clone()
                };
                match x {
                    Value::Array(a) if !a.is_empty() && d.roll(3) > 0 => {
                        let c = comment(d, &key);
                        out.push_str(&format!("{pad}{key}:{c}\n"));
                        // Sequences may sit at the key's own indentation.
                        let at = if d.roll(2) == 0 { indent } else { indent + 2 };
                        block(x, at, out, d);
                    }
                    Value::Object(o) if !o.is_empty() && d.roll(3) > 0 => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        block(x, indent + 2 + 2 * d.roll(2) as usize, out, d);
                    }
                    _ => {
                        let text = if is_scalar(x) {
                            scalar_text(x, d)
                        } else {
                            flow(x, d)
                        };
                        let line = format!("{pad}{key}: {text}");
                        let c = comment(d, &line);
                        out.push_str(&format!("{line}{c}\n"));
                    }
                }
            }
            if m.is_empty() {
                out.push_str(&format!("{pad}{{}}\n"));
            }
        }
        s => out.push_str(&format!("{pad}{}\n", scalar_text(s, d))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    // covers: VER-01 (the accelerator never changes what a document means)
    #[test]
    fn accepted_documents_equal_the_full_parser(v in tree(STRINGS, KEYS), seed in 1u64..) {
        let mut d = Dice(seed);
        let mut text = String::new();
        block(&v, 0, &mut text, &mut d);
        if let Some(fast) = parse(&text) {
            prop_assert_eq!(Some(fast), full(&text), "text:\n{}", text);
        }
        if let Ok(emitted) = serde_yaml::to_string(&v) {
            if let Some(fast) = parse(&emitted) {
                prop_assert_eq!(Some(fast), full(&emitted), "text:\n{}", emitted);
            }
        }
    }

    // The subset accepts plain profile-like documents (so the property above is exercised).
    #[test]
    fn simple_documents_are_accepted(v in tree(SIMPLE_STRINGS, SIMPLE_KEYS), seed in 1u64..) {
        let mut d = Dice(seed);
        let mut text = String::new();
        block(&v, 0, &mut text, &mut d);
        prop_assert_eq!(parse(&text), Some(v), "text:\n{}", text);
    }
}
