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
        if copy.exists() {
            fs::remove_dir_all(&copy).expect("clearing the previous copy of the site");
        }
        copy_served(&site_root, &copy);
        // memory-serve reports every file as a cargo warning; a build that went well
        // should print none.
        // SAFETY: the build script is single-threaded; nothing reads the environment
        // concurrently.
        unsafe { std::env::set_var("MEMORY_SERVE_QUIET", "1") };
        memory_serve::load_directory_with_embed(&copy, true);
        println!("cargo::rustc-cfg=embedded_site");
    }

    fn copy_served(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("creating the copy of the site");
        for entry in fs::read_dir(from).expect("reading the site") {
            let entry = entry.expect("reading the site");
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                copy_served(&path, &to.join(&*name));
            } else if !(name.ends_with(".br") || name.ends_with(".gz") || name.ends_with(".ts")) {
                fs::copy(&path, to.join(&*name)).expect("copying a file of the site");
            }
        }
    }
}
