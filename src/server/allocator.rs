//! mimalloc gives memory back to the system as soon as it is freed, instead of a second
//! later. Its delayed purges run only when the thread that freed the memory allocates or
//! frees again after the delay, so a server that went quiet after a burst of work (pages
//! under load, an export, a scrape of `/metrics`) kept what the burst had freed for as
//! long as it stayed quiet. Figures at 100,000 identities: README, "Memory".

/// mimalloc's `purge_delay` option: its place in mimalloc 3's `mi_option_t`.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Purges at once what is freed, unless the operator set `MIMALLOC_PURGE_DELAY` (mimalloc
/// reads it at start; it then stands).
pub fn release_freed_memory_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's option values; any value is valid for this one.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_set_is_the_purge_delay() {
        // SAFETY: reads and sets mimalloc's option values.
        unsafe {
            // mimalloc 3's purge delay is 1,000 ms by default: no other option's is.
            if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
                assert_eq!(libmimalloc_sys::mi_option_get(PURGE_DELAY), 1000);
            }
            release_freed_memory_promptly();
            if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
                assert_eq!(libmimalloc_sys::mi_option_get(PURGE_DELAY), 0);
            }
        }
    }
}
