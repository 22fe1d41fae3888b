//! Renders an AppArmorProfile manifest: `cargo run -p spo-apparmor --example render -- FILE [complain]`.

use spo_apparmor::{render, AppArmorProfile, Mode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: render FILE [complain]")?;
    let text = std::fs::read_to_string(path)?;
    for doc in spo_core::parse_documents(&text)? {
        let mut p = AppArmorProfile::from_document(&doc)?;
        if args.get(2).map(String::as_str) == Some("complain") {
            p.spec.mode = Some(Mode::Complain);
        }
        print!("{}", render(&p, None)?);
    }
    Ok(())
}
