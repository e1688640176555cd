// No console window behind the app in Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    fieldbook_desktop::mark_start();
    // WebKitGTK's accelerated compositing keeps extra GPU/shared-memory surfaces per page for a
    // forms UI that has nothing to composite; without it the web process's idle memory is lower
    // (about 10 MB measured; see scripts/measure-desktop.sh), and it avoids the blank window
    // some GPU drivers show. Set only here, before any thread starts, and never over a value
    // the user chose.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    fieldbook_desktop::run()
}
