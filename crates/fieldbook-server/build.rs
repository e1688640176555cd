//! Embeds the office console's built UI (`ui/dist-console/`, made by `npm run build` in `ui/`)
//! into the binary: writes `$OUT_DIR/console_assets.rs`, a table of every file's path and bytes
//! (`include_bytes!`). When the UI was not built, the table holds one page saying how to build it,
//! so that the server always compiles.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        if path.is_dir() {
            walk(&path, base, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
            out.push((rel, path.canonicalize().unwrap_or(path)));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dist = manifest.join("../../ui/dist-console");
    // A rerun-if-changed path that does not exist makes cargo rebuild this crate every time; until
    // the UI is built, the ui/ folder is watched instead, so that its first build is picked up.
    let watched = if dist.exists() { dist.clone() } else { manifest.join("../../ui") };
    println!("cargo:rerun-if-changed={}", watched.display());
    println!("cargo:rerun-if-changed=build.rs");
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        walk(&dist, &dist, &mut files);
        for (_, p) in &files {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    let mut code = String::from("/// The console's files: (path under /console/, bytes).\npub static FILES: &[(&str, &[u8])] = &[\n");
    for (rel, path) in &files {
        code.push_str(&format!("    ({rel:?}, include_bytes!({:?})),\n", path.display().to_string()));
    }
    code.push_str("];\n");
    code.push_str(&format!("/// Whether the UI was built when this binary was.\npub const BUILT: bool = {};\n", !files.is_empty()));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("console_assets.rs");
    std::fs::write(&out, code).expect("write console_assets.rs");
}
