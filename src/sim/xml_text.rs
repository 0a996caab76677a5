//! Text escaped for XML, as the SES v1 (Query) and Route 53 (REST-XML) simulators both
//! answer in XML.

/// `text` with the five reserved characters escaped, for an element or an attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_reserved_characters_and_nothing_else() {
        assert_eq!(
            escape(r#"a&b<c>d"e'f é"#),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f é"
        );
    }
}
