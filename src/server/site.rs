//! Where the site's files (the hashed browser bundle, the favicons) come from: the copy a
//! release build carries inside the binary (feature `embed-site`, see `build.rs`), or a
//! directory on disk (`LEPTOS_SITE_ROOT`, and every development build).

use std::path::Path;

use leptos::config::LeptosOptions;

/// The site's files, served by [`super::assets`].
#[derive(Clone, Debug)]
pub enum SiteFiles {
    /// In memory, from the binary: ETags, brotli and gzip by memory-serve.
    Embedded(axum::Router),
    /// The directory `LeptosOptions::site_root` names, with the `.br`/`.gz` files
    /// `cargo leptos build --precompress` leaves beside each file.
    Directory,
}

impl SiteFiles {
    /// What a server started from `executable` serves, with `options` set to match: the
    /// embedded site unless `LEPTOS_SITE_ROOT` names a directory (or the build embeds
    /// none).
    pub fn for_server(options: &mut LeptosOptions, executable: Option<&Path>) -> Self {
        if std::env::var_os("LEPTOS_SITE_ROOT").is_none()
            && let Some(embedded) = embedded::site(options)
        {
            return embedded;
        }
        // A release build hashes the bundle's names and leaves the hashes beside the
        // binary: use them whether or not LEPTOS_HASH_FILES says so, or the pages would
        // name files that do not exist.
        options.hash_files |= executable.is_some_and(|exe| hashed_build(exe, options));
        Self::Directory
    }

    /// Which kind, for the start-up log.
    pub fn describe(&self, options: &LeptosOptions) -> String {
        match self {
            Self::Embedded(_) => "embedded in the binary".to_owned(),
            Self::Directory => format!("from the directory {}", options.site_root),
        }
    }
}

/// Whether the build beside `executable` hashed the bundle's names: cargo-leptos writes
/// the hashes next to the server binary it builds.
fn hashed_build(executable: &Path, options: &LeptosOptions) -> bool {
    executable
        .parent()
        .is_some_and(|dir| dir.join(options.hash_file.as_ref()).is_file())
}

/// The name the pages give the bundle when it is embedded. Leptos finds hashed names in
/// `hash.txt` beside the executable, which a one-file server does not have; with
/// `hash_files` off it names `{output_name}.js`, `.wasm` and `.css`. So the output name
/// carries one hash of all three files' hashed names, and those three names are served
/// under it too: a new build still gets new names, and browsers may keep them a year.
pub fn bundle_name(output_name: &str, hashed_names: &[&str]) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};

    let mut hasher = DefaultHasher::new();
    hashed_names.hash(&mut hasher);
    format!("{output_name}.{:016x}", hasher.finish())
}

/// Of the bundle's file names (`dkimdash.HASH.js`, …), the one with `extension` made
/// by cargo-leptos for `output_name`.
pub fn hashed_file<'a>(
    names: impl IntoIterator<Item = &'a str>,
    output_name: &str,
    extension: &str,
) -> Option<&'a str> {
    let prefix = format!("{output_name}.");
    let suffix = format!(".{extension}");
    names.into_iter().find(|name| {
        name.strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(&suffix))
            // The hash alone: not `dkimdash.d.HASH.ts` or another dotted name.
            .is_some_and(|hash| !hash.is_empty() && !hash.contains('.'))
    })
}

#[cfg(embedded_site)]
mod embedded {
    use leptos::config::LeptosOptions;

    use super::{SiteFiles, bundle_name, hashed_file};

    /// The site embedded by `build.rs`, with `options` naming its bundle.
    pub fn site(options: &mut LeptosOptions) -> Option<SiteFiles> {
        let assets: &'static [(&str, &[memory_serve::Asset])] =
            include!(concat!(env!("OUT_DIR"), "/memory_serve_assets.rs"));
        let assets = assets.first()?.1;
        let pkg = format!("/{}/", options.site_pkg_dir.trim_matches('/'));
        let bundle: Vec<&str> = assets
            .iter()
            .filter_map(|asset| asset.route.strip_prefix(pkg.as_str()))
            .collect();
        let output_name = options.output_name.to_string();
        let mut served = memory_serve::MemoryServe::new(assets)
            .index_file(None)
            // memory-serve's defaults serve compressed files only in builds without debug
            // assertions; the site is served compressed from every build that carries it.
            .enable_brotli(true)
            .enable_gzip(true)
            // What the directory gives files that are not hashed: see super::assets.
            .cache_control(memory_serve::CacheControl::Custom(
                super::super::assets::PRIVATE,
            ));
        let mut hashed = Vec::new();
        let mut aliases = Vec::new();
        for extension in ["js", "wasm", "css"] {
            let file = hashed_file(bundle.iter().copied(), &output_name, extension)?;
            hashed.push(file);
            aliases.push((extension, file));
        }
        let name = bundle_name(&output_name, &hashed);
        for (extension, file) in aliases {
            // Leaked once at start-up: memory-serve keeps routes for the process's life.
            let from: &'static str = format!("{pkg}{name}.{extension}").leak();
            let to: &'static str = format!("{pkg}{file}").leak();
            served = served.add_alias(from, to);
        }
        options.hash_files = false;
        options.output_name = name.into();
        Some(SiteFiles::Embedded(served.into_router()))
    }
}

#[cfg(not(embedded_site))]
mod embedded {
    use leptos::config::LeptosOptions;

    /// This build embeds no site.
    pub fn site(_options: &mut LeptosOptions) -> Option<super::SiteFiles> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLE: [&str; 5] = [
        "dkimdash.--uIKPg7P2oyBxkIxI35Ng.js",
        "dkimdash.0i9Azmb1Mfntr66SkGt20A.wasm",
        "dkimdash.4KnG0qm4hv8xyCoj2YRYkQ.css",
        "dkimdash.d.QdWz--F8-H5XAg2rOt3Cyg.ts",
        "dkimdash_bg.wasm.d.Kn_NSnhbyXdAmhbl_d9QdA.ts",
    ];

    #[test]
    fn finds_each_hashed_file_of_the_bundle() {
        assert_eq!(
            hashed_file(BUNDLE, "dkimdash", "js"),
            Some("dkimdash.--uIKPg7P2oyBxkIxI35Ng.js")
        );
        assert_eq!(
            hashed_file(BUNDLE, "dkimdash", "wasm"),
            Some("dkimdash.0i9Azmb1Mfntr66SkGt20A.wasm")
        );
        assert_eq!(
            hashed_file(BUNDLE, "dkimdash", "css"),
            Some("dkimdash.4KnG0qm4hv8xyCoj2YRYkQ.css")
        );
        assert_eq!(hashed_file(BUNDLE, "dkimdash", "ts"), None);
        assert_eq!(hashed_file(BUNDLE, "other", "js"), None);
        assert_eq!(hashed_file(["dkimdash.js"], "dkimdash", "js"), None);
    }

    #[test]
    fn the_bundle_name_changes_when_any_file_does() {
        let name = bundle_name("dkimdash", &["a.js", "b.wasm", "c.css"]);
        assert!(name.starts_with("dkimdash.") && name.len() == "dkimdash.".len() + 16);
        assert_eq!(name, bundle_name("dkimdash", &["a.js", "b.wasm", "c.css"]));
        for changed in [
            ["a2.js", "b.wasm", "c.css"],
            ["a.js", "b2.wasm", "c.css"],
            ["a.js", "b.wasm", "c2.css"],
        ] {
            assert_ne!(name, bundle_name("dkimdash", &changed), "{changed:?}");
        }
    }
}
