//! Topic and queue names: Kafka's rules.

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
}
