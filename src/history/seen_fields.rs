//! (pure) The last seen values of one identity's followed fields, packed in one string.
//! The recorder keeps them for every identity it follows: at 100,000 identities a map of
//! owned field names and values per identity held about 70 MB before any details had
//! arrived (a B-tree node per identity, even for its one field), and twice that with them.

/// Every field the history follows, in the order they are packed. A stored field not in
/// it is not followed, so it is not kept.
pub const FIELDS: [&str; 7] = [
    "dkim_status",
    "dns",
    "key_length",
    "origin",
    "signing",
    "tokens",
    "verification",
];

/// Each field kept as its index (one digit), its value's length in bytes, `:` and the
/// value, in [`FIELDS`] order: any value fits, whatever it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeenFields(Box<str>);

impl SeenFields {
    /// The value of `field`, if known.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.iter()
            .find_map(|(name, value)| (name == field).then_some(value))
    }

    /// Every known field and its value, in [`FIELDS`] order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.entries().map(|(index, value)| (FIELDS[index], value))
    }

    /// Every known field's index in [`FIELDS`] and its value, in that order.
    fn entries(&self) -> impl Iterator<Item = (usize, &str)> {
        let mut rest = &*self.0;
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let index = usize::from(rest.as_bytes()[0] - b'0');
            let (length, after) = rest[1..].split_once(':')?;
            let length: usize = length.parse().ok()?;
            let value = &after[..length];
            rest = &after[length..];
            Some((index, value))
        })
    }

    /// Sets `field` to `value`; a field the history does not follow is not kept.
    pub fn set(&mut self, field: &str, value: &str) {
        let Some(index) = FIELDS.iter().position(|f| *f == field) else {
            return;
        };
        let mut fields: Vec<(usize, &str)> =
            self.entries().filter(|(kept, _)| *kept != index).collect();
        fields.push((index, value));
        fields.sort_unstable_by_key(|(index, _)| *index);
        self.0 = pack(fields).into_boxed_str();
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for SeenFields {
    /// The fields given; of a field given twice, the last value.
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(fields: I) -> Self {
        let mut seen = Self::default();
        for (field, value) in fields {
            seen.set(field, value);
        }
        seen
    }
}

fn pack(fields: Vec<(usize, &str)>) -> String {
    let mut packed = String::new();
    for (index, value) in fields {
        packed.push(char::from(b'0' + index as u8));
        packed.push_str(&value.len().to_string());
        packed.push(':');
        packed.push_str(value);
    }
    packed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_back_as_set_whatever_their_values() {
        let mut seen = SeenFields::default();
        seen.set("tokens", "a, b:c, 12:x");
        seen.set("dkim_status", "PENDING");
        seen.set("dns", "");
        assert_eq!(
            seen.iter().collect::<Vec<_>>(),
            [
                ("dkim_status", "PENDING"),
                ("dns", ""),
                ("tokens", "a, b:c, 12:x")
            ]
        );
        seen.set("dkim_status", "SUCCESS");
        assert_eq!(seen.get("dkim_status"), Some("SUCCESS"));
        assert_eq!(seen.get("tokens"), Some("a, b:c, 12:x"));
        assert_eq!(seen.get("origin"), None);
        assert_eq!(seen.iter().count(), 3);
    }

    #[test]
    fn a_field_not_followed_is_not_kept() {
        let seen: SeenFields = [("dkim_status", "FAILED"), ("retired_field", "x")]
            .into_iter()
            .collect();
        assert_eq!(seen.iter().collect::<Vec<_>>(), [("dkim_status", "FAILED")]);
    }

    #[test]
    fn one_string_per_identity() {
        let seen: SeenFields = [("dkim_status", "SUCCESS"), ("signing", "on")]
            .into_iter()
            .collect();
        assert_eq!(&*seen.0, "07:SUCCESS42:on");
    }
}
