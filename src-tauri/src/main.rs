// No console window behind the app in Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    fieldbook_desktop::mark_start();
    fieldbook_desktop::run()
}
