//! Pure: TXT values as DNS provider APIs write them, a sequence of quoted character-strings
//! (`"v=DKIM1; k=rsa; p=MIIB…" "…rest"`), each at most 255 characters (RFC 1035 §3.3).

use crate::records::txt_chunks;

/// `value` split into quoted strings of at most 255 bytes, `"` and `\` escaped.
pub fn quoted(value: &str) -> String {
    txt_chunks(value)
        .into_iter()
        .map(|chunk| format!("\"{}\"", chunk.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A quoted TXT value's character-strings, unescaped: `"a" "b"` → `[a, b]`. `None` when
/// the value is not a sequence of quoted strings.
pub fn strings(value: &str) -> Option<Vec<String>> {
    let mut strings = Vec::new();
    let mut chars = value.trim().chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => continue,
            '"' => {
                let mut s = String::new();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => s.push(chars.next()?),
                        other => s.push(other),
                    }
                }
                strings.push(s);
            }
            _ => return None,
        }
    }
    (!strings.is_empty()).then_some(strings)
}

/// The text a TXT value carries: its strings joined, or the value itself if it is not quoted
/// (some APIs answer either way).
pub fn joined(value: &str) -> String {
    strings(value).map_or_else(|| value.to_owned(), |s| s.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_value_is_split_and_joins_back() {
        let value = format!("v=DKIM1; k=rsa; p={}", "A".repeat(400));
        let quoted = quoted(&value);
        let parts = strings(&quoted).unwrap();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.len() <= 255));
        assert_eq!(joined(&quoted), value);
    }

    #[test]
    fn quotes_and_backslashes_survive_and_bad_values_are_refused() {
        assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(strings("\"a\\\"b\" \"c\"").unwrap(), ["a\"b", "c"]);
        assert_eq!(strings("unquoted"), None);
        assert_eq!(strings("\"open"), None);
        assert_eq!(joined("plain text"), "plain text");
    }
}
