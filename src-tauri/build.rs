fn main() {
    // generate_context! embeds ../ui/dist at compile time; say how to make it instead of
    // failing inside the macro.
    let dist = std::path::Path::new("../ui/dist");
    if !dist.join("index.html").exists() {
        panic!("ui/dist/index.html is missing: build the UI first with `npm --prefix ui ci && npm --prefix ui run build`");
    }
    println!("cargo:rerun-if-changed=../ui/dist");
    check_updater_pubkey();
    tauri_build::build()
}

/// The updater public key is compiled in (`updates::PUBKEY`) from `FIELDBOOK_UPDATER_PUBKEY`:
/// a key that does not decode would turn every update into a "bad signature", so the build
/// fails instead and says what to give. Unset or empty: a build with updates off.
fn check_updater_pubkey() {
    use base64::Engine;
    println!("cargo:rerun-if-env-changed=FIELDBOOK_UPDATER_PUBKEY");
    let Ok(key) = std::env::var("FIELDBOOK_UPDATER_PUBKEY") else {
        return;
    };
    let key = key.trim();
    if key.is_empty() {
        return;
    }
    let text = base64::engine::general_purpose::STANDARD
        .decode(key)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let ok = text
        .as_deref()
        .is_some_and(|t| minisign_verify::PublicKey::decode(t).is_ok());
    if !ok {
        panic!(
            "FIELDBOOK_UPDATER_PUBKEY is not an updater public key: give the content of the .key.pub file \
             that `tauri signer generate` wrote (one line of base64), or leave it unset for a build without updates"
        );
    }
}
