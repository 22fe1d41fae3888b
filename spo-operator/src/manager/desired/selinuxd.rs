//! selinuxd image selection (`operator.md` §2.5): the first rule whose regex matches the
//! manager node's `osImage` names the variable that holds the image; else
//! `RELATED_IMAGE_SELINUXD`.

use serde::Deserialize;

/// One rule of `selinuxd-image-mapping.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingRule {
    /// Regular expression on `status.nodeInfo.osImage`.
    pub regex: String,
    /// Environment variable that holds the image.
    pub image_from_var: String,
}

/// The bundled rules (used when the ConfigMap has no mapping).
pub fn bundled_rules() -> Vec<MappingRule> {
    let r = |regex: &str, var: &str| MappingRule {
        regex: regex.into(),
        image_from_var: var.into(),
    };
    vec![
        r(
            r"Red Hat Enterprise Linux CoreOS 41[0-2]",
            "RELATED_IMAGE_SELINUXD_EL8",
        ),
        r(r"Red Hat Enterprise Linux 8", "RELATED_IMAGE_SELINUXD_EL8"),
        r(
            r"Red Hat Enterprise Linux CoreOS 10\.",
            "RELATED_IMAGE_SELINUXD_EL10",
        ),
        r(
            r"Red Hat Enterprise Linux (CoreOS )?10",
            "RELATED_IMAGE_SELINUXD_EL10",
        ),
        r(
            r"Red Hat Enterprise Linux CoreOS 41[3-9]",
            "RELATED_IMAGE_SELINUXD_EL9",
        ),
        r(
            r"Red Hat Enterprise Linux CoreOS 9",
            "RELATED_IMAGE_SELINUXD_EL9",
        ),
        r(r"Red Hat Enterprise Linux 9", "RELATED_IMAGE_SELINUXD_EL9"),
        r(r"Fedora \d+", "RELATED_IMAGE_SELINUXD_FEDORA"),
    ]
}

/// Errors of the selection.
#[derive(Debug, thiserror::Error)]
pub enum SelinuxdImageError {
    /// The mapping JSON does not parse.
    #[error("selinuxd-image-mapping.json: {0}")]
    Mapping(#[from] serde_json::Error),
    /// A rule's regex is invalid.
    #[error("selinuxd-image-mapping.json: rule {index}: invalid regex {regex:?}: {source}")]
    Regex {
        /// Index of the rule.
        index: usize,
        /// The regex.
        regex: String,
        /// Why.
        source: regex::Error,
    },
    /// No variable holds an image.
    #[error(
        "no selinuxd image: set RELATED_IMAGE_SELINUXD (or the variable a mapping rule names)"
    )]
    NoImage,
}

/// Picks the selinuxd image for `os_image`. `mapping` is the ConfigMap's JSON (or `None` for
/// the bundled rules); `var` reads an environment variable.
pub fn select(
    os_image: &str,
    mapping: Option<&str>,
    var: impl Fn(&str) -> Option<String>,
) -> Result<String, SelinuxdImageError> {
    let rules = match mapping {
        Some(j) => serde_json::from_str::<Vec<MappingRule>>(j)?,
        None => bundled_rules(),
    };
    for (index, rule) in rules.iter().enumerate() {
        let re = regex::Regex::new(&rule.regex).map_err(|source| SelinuxdImageError::Regex {
            index,
            regex: rule.regex.clone(),
            source,
        })?;
        if re.is_match(os_image) {
            if let Some(img) = var(&rule.image_from_var).filter(|s| !s.is_empty()) {
                return Ok(img);
            }
            break;
        }
    }
    var("RELATED_IMAGE_SELINUXD")
        .filter(|s| !s.is_empty())
        .ok_or(SelinuxdImageError::NoImage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(k: &str) -> Option<String> {
        match k {
            "RELATED_IMAGE_SELINUXD" => Some("selinuxd:default".into()),
            "RELATED_IMAGE_SELINUXD_EL9" => Some("selinuxd:el9".into()),
            "RELATED_IMAGE_SELINUXD_FEDORA" => Some("selinuxd:fedora".into()),
            _ => None,
        }
    }

    // covers: §2.5 selinuxd image selection
    #[test]
    fn os_image_picks_the_variable() {
        let el9 = "Red Hat Enterprise Linux CoreOS 415.92.202402201450-0 (Plow)";
        assert_eq!(select(el9, None, vars).expect("img"), "selinuxd:el9");
        assert_eq!(
            select("Fedora 39 (Cloud)", None, vars).expect("img"),
            "selinuxd:fedora"
        );
        assert_eq!(
            select("Debian GNU/Linux 12", None, vars).expect("img"),
            "selinuxd:default"
        );
        let custom = r#"[{"regex":"Debian","imageFromVar":"RELATED_IMAGE_SELINUXD_FEDORA"}]"#;
        assert_eq!(
            select("Debian GNU/Linux 12", Some(custom), vars).expect("img"),
            "selinuxd:fedora"
        );
        assert!(matches!(
            select(
                "x",
                Some("[{\"regex\":\"(\",\"imageFromVar\":\"A\"}]"),
                vars
            ),
            Err(SelinuxdImageError::Regex { index: 0, .. })
        ));
        assert!(matches!(
            select("x", None, |_| None),
            Err(SelinuxdImageError::NoImage)
        ));
    }
}
