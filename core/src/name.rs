//! Topic and queue names: Kafka's rules.

use crate::error::shown;
use crate::Error;

/// Longest name Kafka allows.
pub(crate) const MAX_NAME: usize = 249;

/// Checks `name` against Kafka's rules (`[A-Za-z0-9._-]`, 1–249 characters, not `.`
/// or `..`). `reserved_ok` allows the bus's own `__` names.
pub(crate) fn validate(name: &str, reserved_ok: bool) -> Result<(), Error> {
    let bad = |reason: &str| {
        Err(Error::InvalidName {
            name: name.into(),
            reason: reason.into(),
        })
    };
    if name.is_empty() {
        return bad("a name must not be empty");
    }
    if name.len() > MAX_NAME {
        return bad("a name is at most 249 characters");
    }
    if name == "." || name == ".." {
        return bad("'.' and '..' are not names");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(Error::InvalidName {
            name: name.into(),
            reason: format!("{c:?} is not allowed; use letters, digits, '.', '_' and '-'"),
        });
    }
    if name.starts_with("__") && !reserved_ok {
        return bad("names starting with '__' are reserved for the bus");
    }
    Ok(())
}

/// A rule every topic name on a bus must follow (data mesh's federated governance
/// as a check at creation, not a wiki page): [`BusBuilder::naming_rule`](crate::BusBuilder::naming_rule).
///
/// [`NamingRule::template`] takes a pattern such as `<domain>.<product>.v<version>`:
/// each `<…>` stands for one or more letters, digits, `_` or `-` (no `.`), and
/// everything else is literal. [`NamingRule::regex`] takes a regular expression
/// (the `regex-lite` crate's syntax) that must match the whole name. Topics the bus
/// names for itself — `__` names and stream changelog topics — are not checked.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, Error, NamingRule, TopicConfig};
/// let bus = Bus::builder().naming_rule(NamingRule::template("<domain>.<product>.v<version>")?).build();
/// assert!(bus.topic::<u8>("sales.orders.v1", TopicConfig::default()).is_ok());
/// let Err(Error::InvalidName { reason, .. }) = bus.topic::<u8>("orders", TopicConfig::default()) else { panic!() };
/// assert!(reason.contains("<domain>.<product>.v<version>"), "{reason}");
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Clone)]
pub struct NamingRule {
    shown: String,
    re: regex_lite::Regex,
}

impl std::fmt::Debug for NamingRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("NamingRule").field(&self.shown).finish()
    }
}

impl NamingRule {
    /// A rule from a template (see the type's docs).
    ///
    /// # Errors
    ///
    /// `ConfigError` for a template with an unclosed or empty `<…>`.
    pub fn template(template: &str) -> Result<Self, Error> {
        let bad = |reason: String| Error::ConfigError {
            name: "naming rule".into(),
            reason,
        };
        let mut re = String::from("^");
        let mut rest = template;
        while let Some(open) = rest.find('<') {
            re.push_str(&regex_lite::escape(&rest[..open]));
            let after = &rest[open + 1..];
            let close = after
                .find('>')
                .ok_or_else(|| bad(format!("{} has a '<' without its '>'", shown(template))))?;
            let part = &after[..close];
            if part.is_empty() || part.contains('<') {
                return Err(bad(format!(
                    "{} has an empty or nested <…>",
                    shown(template)
                )));
            }
            re.push_str("[A-Za-z0-9_-]+");
            rest = &after[close + 1..];
        }
        if rest.contains('>') {
            return Err(bad(format!(
                "{} has a '>' without its '<'",
                shown(template)
            )));
        }
        re.push_str(&regex_lite::escape(rest));
        re.push('$');
        let re = regex_lite::Regex::new(&re).map_err(|e| bad(e.to_string()))?;
        Ok(NamingRule {
            shown: format!("{template} (each <…> is one or more letters, digits, '_' or '-')"),
            re,
        })
    }

    /// A rule from a regular expression that must match the whole name.
    ///
    /// # Errors
    ///
    /// `ConfigError` for an expression that does not compile.
    pub fn regex(pattern: &str) -> Result<Self, Error> {
        let re = regex_lite::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            Error::ConfigError {
                name: "naming rule".into(),
                reason: format!("{} is not a regular expression: {e}", shown(pattern)),
            }
        })?;
        Ok(NamingRule {
            shown: format!("the regular expression {pattern}"),
            re,
        })
    }

    /// `InvalidName` unless `name` follows the rule.
    pub(crate) fn check(&self, name: &str) -> Result<(), Error> {
        if self.re.is_match(name) {
            return Ok(());
        }
        Err(Error::InvalidName {
            name: name.into(),
            reason: format!(
                "topic names on this bus follow the naming rule {}: name it to fit",
                self.shown
            ),
        })
    }

    /// The rule as its messages show it.
    pub fn describe(&self) -> &str {
        &self.shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(validate("orders", false).is_ok());
        assert!(validate("a.b_c-D9", false).is_ok());
        assert!(validate(&"x".repeat(249), false).is_ok());
        for bad in ["", ".", "..", "a b", "ä", "a/b", "__journal"] {
            assert!(
                matches!(validate(bad, false), Err(Error::InvalidName { .. })),
                "{bad:?}"
            );
        }
        assert!(validate(&"x".repeat(250), false).is_err());
        assert!(validate("__journal", true).is_ok());
    }

    #[test]
    fn naming_rules() {
        let r = NamingRule::template("<domain>.<product>.v<version>").unwrap();
        for ok in ["sales.orders.v1", "web-shop.click_stream.v12"] {
            assert!(r.check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "orders",
            "sales.orders",
            "sales.orders.1",
            "a.b.c.v1",
            "sales..v1",
            "sales.orders.v1x.",
        ] {
            assert!(
                matches!(r.check(bad), Err(Error::InvalidName { .. })),
                "{bad}"
            );
        }
        // Literal text is literal, not a pattern.
        let r = NamingRule::template("a+<x>").unwrap();
        assert!(r.check("a+b").is_ok() && r.check("aab").is_err());
        for bad in ["<a", "a>", "<>", "<<a>>"] {
            assert!(
                matches!(NamingRule::template(bad), Err(Error::ConfigError { .. })),
                "{bad}"
            );
        }
        let r = NamingRule::regex("[a-z]+\\.v[0-9]+").unwrap();
        assert!(r.check("orders.v2").is_ok() && r.check("orders.v2.x").is_err());
        assert!(NamingRule::regex("(").is_err());
    }
}
