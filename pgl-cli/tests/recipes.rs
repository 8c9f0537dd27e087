//! Every file in `recipes/` is a configuration `pgl train --config` accepts and runs unchanged
//! but for the data size and the backend: one epoch on a few written CIFAR-10 records on the
//! CPU, checking that the run's `config.json` holds the recipe's settings.

mod common;

use std::path::{Path, PathBuf};

use common::{pgl, text, write_cifar10};

fn recipes() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../recipes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_recipe_trains_from_the_cli() {
    let files = recipes();
    assert!(
        files.len() >= 22,
        "InfoPro and PGL recipes for ResNet-32/110 and K = 2, 4, 8, 16; DGL and PGL recipes \
         for ResNet-110 and K = 2, 4, 8"
    );
    let tmp = tempfile::tempdir().unwrap();
    write_cifar10(&tmp.path().join("cifar-10-batches-bin"), 4, 8);
    for file in files {
        let name = file.file_stem().unwrap().to_str().unwrap();
        let recipe: toml::Table = toml::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let out_dir = tmp.path().join(name);
        let out = pgl(
            &[
                "train",
                "--config",
                file.to_str().unwrap(),
                "--data-dir",
                tmp.path().to_str().unwrap(),
                "--backend",
                "cpu",
                "--epochs",
                "1",
                "--batch-size",
                "10",
                "--out",
                out_dir.to_str().unwrap(),
            ],
            tmp.path(),
        );
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out_dir.join("config.json")).unwrap())
                .unwrap();
        for (key, value) in &recipe {
            if ["backend", "epochs", "batch_size"].contains(&key.as_str()) {
                continue; // overridden above
            }
            let written = &config[key.as_str()];
            let expected = serde_json::to_value(value).unwrap();
            assert_eq!(written, &expected, "{name}: `{key}` in config.json");
        }
        let stem_model = &recipe["model"];
        assert!(
            name.contains(stem_model.as_str().unwrap()),
            "{name}: file name names the model"
        );
    }
}
