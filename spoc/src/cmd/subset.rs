//! `spoc subset A B` (is everything A allows also allowed by B? exit 0 yes, 1 no, with the
//! witnesses) and `spoc intersect A B` (a profile allowing what both allow).

use anyhow::Result;
use spo_core::Kind;

use crate::cli::{Format, Global, IntersectArgs, SubsetArgs};
use crate::cmd::diff::load_one;
use crate::output;
use crate::Outcome;

fn seccomp_pair(
    a: &std::path::Path,
    b: &std::path::Path,
) -> Result<Option<[spo_seccomp::SeccompProfile; 2]>> {
    let (x, y) = (load_one(a)?, load_one(b)?);
    for (i, p) in [(&x, a), (&y, b)] {
        if i.kind() != Kind::SeccompProfile {
            eprintln!(
                "spoc: {}: a {} — subset and intersect compare SeccompProfiles",
                p.display(),
                i.kind()
            );
            return Ok(None);
        }
    }
    Ok(Some([x.seccomp()?, y.seccomp()?]))
}

/// Checks A ⊆ B.
pub fn run(args: &SubsetArgs, global: &Global) -> Result<Outcome> {
    let Some([a, b]) = seccomp_pair(&args.a, &args.b)? else {
        return Ok(Outcome::Code(2));
    };
    let report = spo_seccomp::subset::subset(&a.spec, &b.spec);
    if global.format == Some(Format::Json) {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "subset": report.holds(),
                "exact": report.exact,
                "witnesses": report.witnesses,
            }))?
        );
    } else if report.holds() {
        println!(
            "{} ⊆ {}: everything A allows, B allows{}",
            args.a.display(),
            args.b.display(),
            if report.exact {
                ""
            } else {
                " (masked-argument conditions were checked on sampled values)"
            }
        );
    } else {
        println!(
            "{} ⊄ {}: {} call{} A allows and B does not:",
            args.a.display(),
            args.b.display(),
            report.witnesses.len(),
            if report.witnesses.len() == 1 { "" } else { "s" }
        );
        for w in &report.witnesses {
            println!("  {w}");
        }
    }
    Ok(if report.holds() {
        Outcome::Ok
    } else {
        Outcome::Code(1)
    })
}

/// Writes A ∩ B.
pub fn run_intersect(args: &IntersectArgs, global: &Global) -> Result<Outcome> {
    let Some([a, b]) = seccomp_pair(&args.a, &args.b)? else {
        return Ok(Outcome::Code(2));
    };
    let (spec, notes) = spo_seccomp::subset::intersect(&a.spec, &b.spec);
    for n in &notes {
        eprintln!("spoc: note: {n}");
    }
    let mut meta =
        spo_core::ObjectMeta::named(format!("{}-and-{}", a.metadata.name, b.metadata.name));
    meta.namespace = a.metadata.namespace.clone();
    let profile = spo_seccomp::SeccompProfile::new(meta, spec);
    let value = profile.to_manifest(spo_core::Version::V1)?;
    let text = output::render(&[value], global.data_format())?;
    output::write(args.output_file.as_deref(), &text, 0o600)?;
    Ok(Outcome::Ok)
}
