//! The dataset table: [`BUILTIN_DATASETS`] lists every built-in [`DatasetEntry`] (each defined
//! in its parser's file), and [`DatasetCatalog`] looks names up, loads, and writes the help
//! texts of `--dataset` and `--augment` and the dataset list. Other crates add datasets with
//! [`DatasetCatalog::register`] (`pgl-data/tests/catalog.rs` does).

use std::path::Path;

use crate::augment::AugmentChoice;
use crate::cifar::{CIFAR10, CIFAR100};
use crate::dataset::DatasetSplits;
use crate::digits::DIGITS;
use crate::entry::{DatasetEntry, LoadOptions};
use crate::error::DataError;
use crate::idx::{FASHION_MNIST, MNIST};
use crate::stl10::STL10;
use crate::svhn::{SVHN, SVHN_EXTRA};

/// Every built-in dataset, in the order shown to users. Adding one is a line here.
pub const BUILTIN_DATASETS: &[DatasetEntry] = &[
    DIGITS,
    MNIST,
    FASHION_MNIST,
    CIFAR10,
    CIFAR100,
    STL10,
    SVHN,
    SVHN_EXTRA,
];

/// The datasets a program knows: the built-ins and any it registers.
///
/// ```
/// use pgl_data::DatasetCatalog;
///
/// let catalog = DatasetCatalog::with_builtins();
/// assert_eq!(catalog.get("cifar10").unwrap().shape.channels, 3);
/// assert!(catalog.get("cifar").unwrap_err().to_string().contains("digits, mnist"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct DatasetCatalog {
    entries: Vec<DatasetEntry>,
}

impl DatasetCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// A catalog of every built-in dataset ([`BUILTIN_DATASETS`]).
    pub fn with_builtins() -> Self {
        let mut catalog = Self::new();
        for entry in BUILTIN_DATASETS {
            catalog
                .register(*entry)
                .expect("built-in entries are consistent and distinct");
        }
        catalog
    }

    /// Adds `entry` after the others. Refuses a name already registered and an entry that
    /// contradicts itself ([`DatasetEntry::check`]).
    pub fn register(&mut self, entry: DatasetEntry) -> Result<(), DataError> {
        entry.check()?;
        if self.entries.iter().any(|e| e.name == entry.name) {
            return Err(DataError::DuplicateDataset {
                name: entry.name.to_string(),
            });
        }
        self.entries.push(entry);
        Ok(())
    }

    /// The entry called `name`; an unknown name is an error listing the known ones.
    pub fn get(&self, name: &str) -> Result<&DatasetEntry, DataError> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| DataError::UnknownDataset {
                name: name.to_string(),
                known: self.names().join(", "),
            })
    }

    /// Every entry, in registration order.
    pub fn entries(&self) -> &[DatasetEntry] {
        &self.entries
    }

    /// Every name, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.name).collect()
    }

    /// Loads the dataset called `name` ([`DatasetEntry::load`]).
    pub fn load(
        &self,
        name: &str,
        data_dir: Option<&Path>,
        options: &LoadOptions,
    ) -> Result<DatasetSplits, DataError> {
        self.get(name)?.load(data_dir, options)
    }

    /// The help text of `--dataset`: every name, embedded ones marked.
    pub fn dataset_help(&self) -> String {
        let names: Vec<String> = self
            .entries
            .iter()
            .map(|e| {
                if e.needs_data_dir() {
                    e.name.to_string()
                } else {
                    format!("{} (embedded)", e.name)
                }
            })
            .collect();
        format!(
            "Dataset: {} (see `--augment` for each one's augmentation)",
            names.join(", ")
        )
    }

    /// The help text of `--augment`: what `auto` and `on` mean for each dataset, the recipe
    /// syntax, and where flips are refused.
    pub fn augment_help(&self) -> String {
        let auto = grouped(self.entries.iter().map(|e| {
            let recipe = e.resolve_augment(AugmentChoice::Auto).ok().flatten();
            (recipe.map_or("off".to_string(), |r| r.to_string()), e.name)
        }));
        let on = grouped(
            self.entries
                .iter()
                .filter(|e| !e.augment.by_default)
                .map(|e| (e.augment.standard.to_string(), e.name)),
        );
        let no_flip: Vec<&str> = self
            .entries
            .iter()
            .filter(|e| !e.augment.flips_preserve_labels)
            .map(|e| e.name)
            .collect();
        let mut help = format!(
            "Training augmentation: auto = the dataset's default ({auto}); on = the dataset's standard recipe, also where auto is off ({on}); off; or a recipe: crop:pad=N and/or flip, joined by a comma (e.g. crop:pad=4,flip)"
        );
        if !no_flip.is_empty() {
            help += &format!(
                "; flip is refused for {} (a mirrored image changes class)",
                no_flip.join(", ")
            );
        }
        help
    }

    /// A table of every dataset for a dataset list: name, image shape, classes, what `auto`
    /// and `on` apply, whether flips are allowed, and the files it needs.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{:<14} {:<9} {:>7}  {:<16} {:<16} {:<5}  files\n",
            "name", "shape", "classes", "augment auto", "augment on", "flip"
        );
        for e in &self.entries {
            let auto = e
                .resolve_augment(AugmentChoice::Auto)
                .ok()
                .flatten()
                .map_or("off".to_string(), |r| r.to_string());
            let shape = format!("{}x{}x{}", e.shape.channels, e.shape.height, e.shape.width);
            out += &format!(
                "{:<14} {:<9} {:>7}  {:<16} {:<16} {:<5}  {}\n{:<14} {}\n",
                e.name,
                shape,
                e.classes,
                auto,
                e.augment.standard.to_string(),
                if e.augment.flips_preserve_labels {
                    "yes"
                } else {
                    "no"
                },
                e.expected_files(),
                "",
                e.summary,
            );
        }
        out
    }
}

/// `recipe for a, b; recipe for c` from `(recipe, name)` pairs, recipes in first-seen order.
fn grouped(pairs: impl Iterator<Item = (String, &'static str)>) -> String {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for (recipe, name) in pairs {
        match groups.iter_mut().find(|(r, _)| *r == recipe) {
            Some((_, names)) => names.push(name),
            None => groups.push((recipe, vec![name])),
        }
    }
    groups
        .iter()
        .map(|(recipe, names)| format!("{recipe} for {}", names.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every built-in dataset name, in the order shown to users.
pub fn dataset_names() -> Vec<&'static str> {
    BUILTIN_DATASETS.iter().map(|e| e.name).collect()
}

/// Loads the built-in dataset `name` with default [`LoadOptions`] (CIFAR-100: fine labels);
/// `data_dir` is the folder holding its files (`None`: `$PGL_DATA_DIR/<name>`).
pub fn load_dataset(name: &str, data_dir: Option<&Path>) -> Result<DatasetSplits, DataError> {
    DatasetCatalog::with_builtins().load(name, data_dir, &LoadOptions::default())
}
