//! Answers to plain-HTML form posts (JavaScript off). The server function keeps its answer
//! here under an unguessable id and redirects to the page that shows it, so the operator
//! sees SES's answer and the form gets back what was typed (never a key). Memory only,
//! bounded, and short-lived: a notice is for the page load right after the post, and is
//! shown once (a reload of that URL later shows the page as it is, not an old answer).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::change_answer::Notice;

/// How long a notice waits for its page load.
const KEEP_FOR: Duration = Duration::from_secs(15 * 60);
/// The most notices kept; the oldest goes first.
const CAPACITY: usize = 512;

/// The notices not yet expired, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Notices {
    kept: Arc<Mutex<VecDeque<KeptNotice>>>,
}

#[derive(Debug)]
struct KeptNotice {
    id: String,
    at: Instant,
    notice: Notice,
}

impl Notices {
    /// Keeps `notice` and returns its id (128 random bits, hex).
    pub fn put(&self, notice: Notice) -> String {
        let id = format!("{:032x}", rand::random::<u128>());
        let mut kept = self.kept.lock().expect("notices lock");
        expire(&mut kept, Instant::now());
        if kept.len() == CAPACITY {
            kept.pop_front();
        }
        kept.push_back(KeptNotice {
            id: id.clone(),
            at: Instant::now(),
            notice,
        });
        id
    }

    /// The notice kept under `id`, unless it expired or was pushed out; it is shown once,
    /// so it is forgotten here.
    pub fn take(&self, id: &str) -> Option<Notice> {
        let mut kept = self.kept.lock().expect("notices lock");
        expire(&mut kept, Instant::now());
        let at = kept.iter().position(|k| k.id == id)?;
        kept.remove(at).map(|k| k.notice)
    }
}

fn expire(kept: &mut VecDeque<KeptNotice>, now: Instant) {
    while kept
        .front()
        .is_some_and(|k| now.duration_since(k.at) > KEEP_FOR)
    {
        kept.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app_error::AppError;
    use crate::change_answer::{FormEcho, NoticeForm};

    fn notice(text: &str) -> Notice {
        Notice {
            form: NoticeForm::Signing,
            outcome: Err(AppError::NotFound(text.to_owned())),
            typed: FormEcho::default(),
        }
    }

    #[test]
    fn a_notice_is_found_by_its_id_only() {
        let notices = Notices::default();
        let first = notices.put(notice("one"));
        let second = notices.put(notice("two"));
        assert_ne!(first, second);
        assert_eq!(first.len(), 32);
        assert_eq!(notices.take(&second), Some(notice("two")));
        assert_eq!(notices.take(&first), Some(notice("one")));
        assert_eq!(notices.take("0123"), None);
        // Shown once: a reload of the same URL finds nothing.
        assert_eq!(notices.take(&first), None);
    }

    #[test]
    fn the_oldest_notice_goes_when_full() {
        let notices = Notices::default();
        let oldest = notices.put(notice("oldest"));
        let second = notices.put(notice("second"));
        for n in 0..CAPACITY - 1 {
            notices.put(notice(&n.to_string()));
        }
        assert_eq!(notices.take(&oldest), None);
        assert_eq!(notices.take(&second), Some(notice("second")));
    }

    #[test]
    fn expired_notices_are_dropped() {
        let mut kept = VecDeque::from([KeptNotice {
            id: "a".into(),
            at: Instant::now(),
            notice: notice("a"),
        }]);
        expire(&mut kept, Instant::now() + KEEP_FOR / 2);
        assert_eq!(kept.len(), 1);
        expire(
            &mut kept,
            Instant::now() + KEEP_FOR + Duration::from_secs(1),
        );
        assert!(kept.is_empty());
    }
}
