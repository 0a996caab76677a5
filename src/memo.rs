//! A value built from some inputs and kept until any of them changes: what every request
//! would otherwise recompute from the same snapshot (the DNS view, the overview's
//! figures) is built once per change and shared.

use std::sync::{Arc, Mutex, Weak};

use crate::unpoisoned::lock;

/// The last value built and the inputs it was built from. Readers that find other inputs
/// build anew (one at a time: the others wait and take what it built).
pub struct Memo<K, T> {
    slot: Mutex<Option<(K, Arc<T>)>>,
}

impl<K, T> Default for Memo<K, T> {
    fn default() -> Self {
        Self {
            slot: Mutex::new(None),
        }
    }
}

impl<K, T> std::fmt::Debug for Memo<K, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").finish_non_exhaustive()
    }
}

impl<K: PartialEq, T> Memo<K, T> {
    /// The value kept for `inputs`, else `build()`'s, kept for the next reader.
    pub fn get(&self, inputs: K, build: impl FnOnce() -> T) -> Arc<T> {
        self.get_or_follow(inputs, |_| build())
    }

    /// [`Memo::get`], where `build` sees the value kept for the inputs before, if any, to
    /// build from what did not change.
    pub fn get_or_follow(&self, inputs: K, build: impl FnOnce(Option<&T>) -> T) -> Arc<T> {
        let mut slot = lock(&self.slot);
        if let Some((kept_for, value)) = slot.as_ref()
            && *kept_for == inputs
        {
            return value.clone();
        }
        let value = Arc::new(build(slot.as_ref().map(|(_, kept)| &**kept)));
        *slot = Some((inputs, value.clone()));
        value
    }
}

/// An input compared by identity: the same allocation, not an equal value. Holds the
/// allocation weakly, so a kept value does not keep its inputs alive, and a new input can
/// never reuse the address of one still compared against.
pub struct Same<T>(Weak<T>);

impl<T> Same<T> {
    /// `arc`, by identity.
    pub fn of(arc: &Arc<T>) -> Self {
        Self(Arc::downgrade(arc))
    }
}

impl<T> PartialEq for Same<T> {
    fn eq(&self, other: &Self) -> bool {
        Weak::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_once_per_change_of_its_inputs() {
        let memo: Memo<(Same<String>, u64), usize> = Memo::default();
        let input = Arc::new("a".to_owned());
        let builds = std::cell::Cell::new(0);
        let build = || {
            builds.set(builds.get() + 1);
            builds.get()
        };
        let first = memo.get((Same::of(&input), 1), build);
        let again = memo.get((Same::of(&input), 1), build);
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(builds.get(), 1);
        // An equal value in another allocation is another input.
        let equal = Arc::new("a".to_owned());
        assert_eq!(*memo.get((Same::of(&equal), 1), build), 2);
        assert_eq!(*memo.get((Same::of(&equal), 2), build), 3);
        assert_eq!(*memo.get((Same::of(&equal), 2), build), 3);
    }
}
