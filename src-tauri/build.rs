fn main() {
    // generate_context! embeds ../ui/dist at compile time; say how to make it instead of
    // failing inside the macro.
    let dist = std::path::Path::new("../ui/dist");
    if !dist.join("index.html").exists() {
        panic!("ui/dist/index.html is missing: build the UI first with `npm --prefix ui ci && npm --prefix ui run build`");
    }
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::build()
}
