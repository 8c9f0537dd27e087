//! Every recipe's model has the parameter counts of the public PyTorch code it follows, part
//! by part: the network, the auxiliary classifiers, InfoPro's decoders and contrastive heads.
//! The reference counts come from that code itself (`bench/reference/recipe_params.py`,
//! output committed as `bench/reference/recipe_params.json`); DGL's recipes also put their
//! module boundaries where DGL's code does. Two documented differences are accounted for:
//! InfoPro's decoders and contrastive heads of modules whose weight for them is 0 (pgl does not
//! build those), and DGL's auxiliary BatchNorm that its code never applies.

use std::path::{Path, PathBuf};

use pgl_burn::burn::prelude::Device;
use pgl_burn::objective::{InputImages, ObjectiveHeads};
use pgl_core::ObjectiveRegistry;
use pgl_models::options::{Shortcut, parse_conv_init};
use pgl_models::{ModelCatalog, ModelInput, ModelOptions, SplitKind, trainable_params};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `(file stem, recipe)` of every recipe.
fn recipes() -> Vec<(String, toml::Table)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("recipes"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let name = file.file_stem().unwrap().to_str().unwrap().to_string();
            let recipe = toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            (name, recipe)
        })
        .collect()
}

/// The reference entry a recipe's model follows: a PGL twin has its baseline's model.
fn reference_name(recipe: &str) -> String {
    let name = recipe.strip_prefix("pgl-").unwrap_or(recipe);
    if name.starts_with("infopro-") || name.starts_with("dgl-") {
        name.to_string()
    } else {
        format!("infopro-{name}")
    }
}

/// Parameter counts of one model, part by part, as the reference file names them.
#[derive(Debug, PartialEq, Eq)]
struct Parts {
    network: usize,
    aux_ce: usize,
    decoders: usize,
    contrastive_heads: usize,
}

fn string<'a>(recipe: &'a toml::Table, key: &str) -> &'a str {
    recipe[key].as_str().unwrap()
}

fn pgl_parts(recipe: &toml::Table) -> Parts {
    let device = Device::flex().autodiff();
    let catalog = ModelCatalog::with_builtins();
    let modules = recipe["modules"].as_integer().unwrap() as usize;
    let options = ModelOptions {
        modules,
        split: SplitKind::parse(string(recipe, "split")).unwrap(),
        aux_head: Some(catalog.head(string(recipe, "aux_head")).unwrap()),
        shortcut: Shortcut::parse(string(recipe, "shortcut")).unwrap(),
        conv_init: parse_conv_init(string(recipe, "conv_init")).unwrap(),
    };
    let model = string(recipe, "model");
    let net = catalog
        .build(model, ModelInput::CIFAR10, &options, 1, &device)
        .unwrap();
    let objective = ObjectiveRegistry::with_builtins()
        .build(string(recipe, "local_objective"))
        .unwrap();
    let input = InputImages::unnormalised([3, 32, 32]);
    let heads = ObjectiveHeads::build(&*objective, &net, &input, 1, &device).unwrap();
    let last = modules - 1;
    let mut parts = Parts {
        network: trainable_params(&net.stages[last].head),
        aux_ce: 0,
        decoders: 0,
        contrastive_heads: 0,
    };
    for (k, stage) in net.stages.iter().enumerate() {
        parts.network += trainable_params(&stage.body);
        if k < last {
            parts.aux_ce += trainable_params(&stage.head);
        }
        if let Some(h) = heads.module(k) {
            let count = |name| h.head_of(name).map_or(0, trainable_params);
            parts.decoders += count("reconstruction");
            parts.contrastive_heads += count("supcon");
        }
    }
    parts
}

#[test]
fn every_recipe_has_the_parameter_counts_of_the_code_it_follows() {
    let path = root().join("bench/reference/recipe_params.json");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let recipes = recipes();
    assert!(
        recipes.len() >= 22,
        "InfoPro and DGL recipes with their PGL twins"
    );
    for (name, recipe) in recipes {
        let key = reference_name(&name);
        let r = &reference[key.as_str()];
        assert!(r.is_object(), "{name}: no reference counts for `{key}`");
        let count = |part: &str| r[part].as_u64().unwrap() as usize;
        // InfoPro builds a decoder and a contrastive head for every aux module, also where
        // their weight is 0 (no gradient reaches them); pgl only where it is not: count the
        // reference's heads of the modules whose weight is > 0.
        let objective = ObjectiveRegistry::with_builtins()
            .build(string(&recipe, "local_objective"))
            .unwrap();
        let modules = recipe["modules"].as_integer().unwrap() as usize;
        let used = |part: &str, term: &str| -> usize {
            match r.get(format!("{part}_per_module")) {
                None => count(part),
                Some(list) => {
                    let list = list.as_array().unwrap();
                    assert_eq!(list.len(), modules - 1, "{key}: one per aux module");
                    (0..modules - 1)
                        .filter(|&k| objective.terms(k, modules).weight_of(term) > 0.0)
                        .map(|k| list[k].as_u64().unwrap() as usize)
                        .sum()
                }
            }
        };
        // The reference's parameters it never uses (DGL's auxiliary `bn`) have no pgl twin.
        let expected = Parts {
            network: count("network"),
            aux_ce: count("aux_ce") - count("unused"),
            decoders: used("decoders", "reconstruction"),
            contrastive_heads: used("contrastive_heads", "supcon"),
        };
        assert_eq!(pgl_parts(&recipe), expected, "{name} against {key}");
        if let Some(points) = r.get("split_points") {
            let points: Vec<usize> = points
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(
                SplitKind::parse(string(&recipe, "split")).unwrap(),
                SplitKind::At(points),
                "{name}: DGL's module boundaries"
            );
        }
    }
}
