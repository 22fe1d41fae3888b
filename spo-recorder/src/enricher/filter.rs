//! Enricher filter rules (spec §4.5, RC-34): rules sorted by ascending priority, the first
//! that matches decides — `Metadata` emits, `None` drops; no match emits.

use serde::Deserialize;

use crate::audit::AuditError;

/// What a matching rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub enum Level {
    /// Emit the record.
    Metadata,
    /// Drop it (no log line, no metric).
    None,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    priority: i64,
    level: Level,
    #[serde(default)]
    match_keys: Vec<String>,
    #[serde(default)]
    match_values: Vec<String>,
}

#[derive(Debug, Clone)]
struct Rule {
    priority: i64,
    level: Level,
    /// Lower-cased key paths, split on `/`.
    keys: Vec<Vec<String>>,
    values: Vec<String>,
}

/// A value a record exposes to the filters.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FieldValue<'a> {
    /// A string.
    Str(&'a str),
    /// An integer (matched by numeric filter values too).
    Int(i64),
}

/// A record the filters can look into: `get(&["resource", "pod"])` for key `resource/pod`.
/// Keys arrive lower-cased; implementations compare case-insensitively.
pub trait FilterRecord {
    /// The value at `path`, when present.
    fn get(&self, path: &[String]) -> Option<FieldValue<'_>>;
}

/// Compiled filter rules.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    rules: Vec<Rule>,
}

impl Filters {
    /// Parses the JSON array of rules; the empty string means no rules. Invalid JSON is an
    /// error (the enricher must not start).
    pub fn parse(json: &str) -> Result<Filters, AuditError> {
        if json.trim().is_empty() {
            return Ok(Filters::default());
        }
        let raw: Vec<RawRule> = serde_json::from_str(json).map_err(|e| AuditError::Filters {
            reason: e.to_string(),
        })?;
        let mut rules: Vec<Rule> = raw
            .into_iter()
            .map(|r| Rule {
                priority: r.priority,
                level: r.level,
                keys: r
                    .match_keys
                    .iter()
                    .map(|k| k.to_lowercase().split('/').map(str::to_string).collect())
                    .collect(),
                values: r.match_values,
            })
            .collect();
        // Stable: equal priorities keep their written order.
        rules.sort_by_key(|r| r.priority);
        Ok(Filters { rules })
    }

    /// No rules at all.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `record` is emitted.
    pub fn allows(&self, record: &dyn FilterRecord) -> bool {
        for rule in &self.rules {
            if rule.matches(record) {
                return rule.level == Level::Metadata;
            }
        }
        true
    }
}

impl Rule {
    fn matches(&self, record: &dyn FilterRecord) -> bool {
        self.keys.iter().any(|k| match record.get(k) {
            None => false,
            Some(_) if self.values.is_empty() => true,
            Some(v) => self.values.iter().any(|want| value_eq(v, want)),
        })
    }
}

fn value_eq(v: FieldValue<'_>, want: &str) -> bool {
    match v {
        FieldValue::Str(s) => s == want,
        FieldValue::Int(i) => want.trim().parse::<i64>().is_ok_and(|w| w == i),
    }
}

/// Filters over a JSON object (the JSON enricher's lines); keys compared case-insensitively,
/// `a/b` descends into nested objects.
impl FilterRecord for serde_json::Map<String, serde_json::Value> {
    fn get(&self, path: &[String]) -> Option<FieldValue<'_>> {
        let (first, rest) = path.split_first()?;
        let v = self
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(first))
            .map(|(_, v)| v)?;
        match v {
            serde_json::Value::Object(m) if !rest.is_empty() => FilterRecord::get(m, rest),
            _ if !rest.is_empty() => None,
            serde_json::Value::String(s) => Some(FieldValue::Str(s)),
            serde_json::Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_u64().and_then(|u| i64::try_from(u).ok()))
                .map(FieldValue::Int),
            serde_json::Value::Bool(b) => Some(FieldValue::Str(if *b { "true" } else { "false" })),
            serde_json::Value::Null => Some(FieldValue::Str("")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn rc_34_priority_order_first_match_wins() {
        let f = Filters::parse(
            r#"[{"priority": 200, "level": "Metadata", "matchKeys": ["namespace"]},
                {"priority": 100, "level": "None", "matchKeys": ["namespace"], "matchValues": ["kube-system"]}]"#,
        )
        .unwrap();
        assert!(!f.allows(&obj(json!({"namespace": "kube-system"}))));
        assert!(f.allows(&obj(json!({"namespace": "default"}))));
        // No match: emit.
        assert!(f.allows(&obj(json!({"pod": "x"}))));
    }

    #[test]
    fn rc_34_keys_case_insensitive_nested_and_numeric() {
        let f = Filters::parse(
            r#"[{"priority": 1, "level": "None", "matchKeys": ["RESOURCE/Pod"], "matchValues": ["p1"]},
                {"priority": 2, "level": "None", "matchKeys": ["uid"], "matchValues": ["x", "1000"]}]"#,
        )
        .unwrap();
        assert!(!f.allows(&obj(json!({"resource": {"pod": "p1"}}))));
        assert!(f.allows(&obj(json!({"resource": {"pod": "p2"}}))));
        assert!(!f.allows(&obj(json!({"uid": 1000}))));
        assert!(f.allows(&obj(json!({"uid": 0}))));
    }

    #[test]
    fn rc_34_invalid_json_and_empty() {
        assert!(Filters::parse("").unwrap().is_empty());
        assert!(Filters::parse("[{").is_err());
        assert!(Filters::parse(r#"[{"priority": 1, "level": "Sometimes"}]"#).is_err());
    }
}
