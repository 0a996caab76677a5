//! With the `embed-site` feature, a release build of the server carries the site that
//! cargo-leptos built before it (the hashed bundle and the files of `public/`), so one
//! file is the whole server. Development builds read the site from disk, as before:
//! `cargo leptos watch` rebuilds the site while the server compiles. `DKIMDASH_EMBED_SITE=1`
//! embeds it in a build of any profile (the checks' server, scripts/test.sh).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(embedded_site)");
    #[cfg(feature = "embed-site")]
    embed::site();
}

#[cfg(feature = "embed-site")]
mod embed {
    use std::fs;
    use std::path::{Path, PathBuf};

    /// Copies what the browser fetches (not the `.br`/`.gz` variants, which memory-serve
    /// makes itself, nor TypeScript declarations) and hands it to memory-serve.
    pub fn site() {
        println!("cargo::rerun-if-env-changed=LEPTOS_SITE_ROOT");
        println!("cargo::rerun-if-env-changed=DKIMDASH_EMBED_SITE");
        let asked = std::env::var("DKIMDASH_EMBED_SITE").is_ok_and(|value| value == "1");
        if std::env::var("PROFILE").as_deref() != Ok("release") && !asked {
            return;
        }
        let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
        let site_root = std::env::var_os("LEPTOS_SITE_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target/site"));
        let site_root = manifest_dir.join(site_root);
        println!("cargo::rerun-if-changed={}", site_root.display());
        if !site_root.join("pkg").is_dir() {
            panic!(
                "the embed-site feature embeds the site cargo-leptos builds, and {} has no \
                 pkg/: build with `cargo leptos build --release`, which builds the site \
                 before the server (or build the site first with `--frontend-only`)",
                site_root.display()
            );
        }
        let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
        let copy = out_dir.join("site");
        // memory-serve has cargo watch the copy, so the copy keeps the site's own times:
        // brought up to date rather than made again, each file and directory dated as its
        // original. A copy rewritten at every run (or dated when copied, after this script
        // started) made this script, and then the whole crate, run again at the next cargo
        // command.
        sync_served(&site_root, &copy);
        // memory-serve reports every file as a cargo warning; a build that went well
        // should print none.
        // SAFETY: the build script is single-threaded; nothing reads the environment
        // concurrently.
        unsafe { std::env::set_var("MEMORY_SERVE_QUIET", "1") };
        memory_serve::load_directory_with_embed(&copy, true);
        println!("cargo::rustc-cfg=embedded_site");
    }

    /// Makes `to` hold what the browser fetches from `from`, writing only files that
    /// differ and removing what `from` no longer has.
    fn sync_served(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("creating the copy of the site");
        let mut wanted = std::collections::HashSet::new();
        for entry in fs::read_dir(from).expect("reading the site") {
            let entry = entry.expect("reading the site");
            let path = entry.path();
            let name = entry.file_name();
            let text = name.to_string_lossy();
            if path.is_dir() {
                sync_served(&path, &to.join(&name));
            } else if text.ends_with(".br") || text.ends_with(".gz") || text.ends_with(".ts") {
                continue;
            } else {
                let bytes = fs::read(&path).expect("reading a file of the site");
                let target = to.join(&name);
                if fs::read(&target).ok().as_deref() != Some(&bytes[..]) {
                    fs::write(&target, &bytes).expect("copying a file of the site");
                }
                date_as(&target, &path);
            }
            wanted.insert(name);
        }
        for entry in fs::read_dir(to).expect("reading the copy of the site") {
            let entry = entry.expect("reading the copy of the site");
            if !wanted.contains(&entry.file_name()) {
                let path = entry.path();
                if path.is_dir() {
                    fs::remove_dir_all(&path).expect("removing a directory the site no longer has");
                } else {
                    fs::remove_file(&path).expect("removing a file the site no longer has");
                }
            }
        }
        date_as(to, from);
    }

    /// Gives `copy` the modification time of `original` (a file or a directory).
    fn date_as(copy: &Path, original: &Path) {
        let modified = fs::metadata(original)
            .and_then(|m| m.modified())
            .expect("reading the site's times");
        fs::File::open(copy)
            .and_then(|file| file.set_modified(modified))
            .expect("dating the copy of the site");
    }
}
