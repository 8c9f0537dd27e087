//! The listing subcommands: `pgl schedules`, `lr-schedules`, `objectives` and `models`, each
//! printed from the process's plugin tables (built-ins and an app's own plugins alike).

use crate::plugins::plugins;

/// `pgl schedules`.
pub(crate) fn print_schedules() {
    println!("Guidance schedules (use with --schedule SPEC):\n");
    for (name, summary) in plugins().schedules.describe() {
        println!("  {name:<12} {summary}");
    }
    println!(
        "\nExamples: local-only, end-to-end, periodic:every=10, periodic:every=2,len=1,unit=epochs,\n\
         warmup:epochs=1,then=periodic:every=10, any(periodic:every=50,plateau:patience=20)"
    );
}

/// `pgl lr-schedules`.
pub(crate) fn print_lr_schedules() {
    println!(
        "Learning-rate schedules (use with --lr-schedule SPEC; the factor scales --lr every iteration):\n"
    );
    for (name, summary) in plugins().lr_schedules.entries() {
        println!("  {name:<14} {summary}");
    }
    println!(
        "\nExamples: constant, cosine, cosine:min=0.01,unit=epochs, multistep:at=(80,120),gamma=0.1,\n\
         linear-warmup:iters=500,then=cosine (InfoPro's CIFAR recipe: cosine over the run)"
    );
}

/// `pgl objectives`.
pub(crate) fn print_objectives() {
    println!(
        "Local objectives (use with --local-objective SPEC; what module k < K learns from in local steps,\n\
         the last module always learns from the classifier's cross-entropy; global steps are unchanged):\n"
    );
    for (name, summary) in plugins().objectives.entries() {
        println!("  {name:<8} {summary}");
    }
    println!(
        "\nDefault: {} (chosen by the guidance study, docs/results/guidance/).",
        pgl_core::objective::DEFAULT_OBJECTIVE
    );
    println!(
        "Examples: ce (DGL), infopro, infopro:class=supcon (InfoPro's published setting),\n\
         infopro:ixx_1=5,ixy_1=0,ixx_2=0,ixy_2=2, supcon:temperature=0.07"
    );
}

/// `pgl models [--json]`.
pub(crate) fn print_models(json: bool) -> anyhow::Result<()> {
    let models = &plugins().models;
    let catalog = models.describe(&pgl_burn::burn::prelude::Device::flex());
    if json {
        println!("{}", serde_json::to_string_pretty(&catalog)?);
        return Ok(());
    }
    println!(
        "{:<10} {:>10} {:>6} {:>12} {:>9}  {:<12} description",
        "model", "params", "max K", "infopro K", "head", "input"
    );
    for m in &catalog {
        let infopro: Vec<String> = m.infopro_modules.iter().map(usize::to_string).collect();
        let input = format!(
            "{}x{}x{}",
            m.reference_input[0], m.reference_input[1], m.reference_input[2]
        );
        println!(
            "{:<10} {:>10} {:>6} {:>12} {:>9}  {:<12} {}",
            m.name,
            m.params,
            m.units,
            if infopro.is_empty() {
                "-".to_string()
            } else {
                infopro.join(",")
            },
            m.default_head,
            input,
            m.description
        );
    }
    println!(
        "\nparams: the network with 10 classes and no aux head. K may be 1..=max K (--split even);\n\
         --split infopro uses InfoPro's tables.\n\nAux heads (--aux-head NAME):"
    );
    for head in models.heads() {
        println!("  {:<9} {} [{}]", head.name(), head.design(), head.origin());
    }
    Ok(())
}
