// No console window behind the app in Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    fieldbook_desktop::mark_start();
    // WebKitGTK and GDK read these once, so they are set here, before GTK or any thread starts
    // (see webkit_memory for what each one saves); a value the user set wins.
    #[cfg(target_os = "linux")]
    fieldbook_desktop::webkit_memory::configure_env();
    fieldbook_desktop::run()
}
