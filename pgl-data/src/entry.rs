//! [`DatasetEntry`]: one row of the dataset table — a dataset's name, what it holds, where its
//! files come from, how to load it and how to augment it. Each parser file defines its entries
//! next to its parser (`digits::DIGITS`, `cifar::CIFAR10`, …); the table that lists them is
//! [`catalog`](crate::catalog). This module imports no parser.

use std::path::{Path, PathBuf};

use crate::augment::{Augment, AugmentChoice};
use crate::dataset::{DatasetSplits, ImageShape};
use crate::error::DataError;
use crate::files::DATA_DIR_ENV;

/// Which CIFAR-100 label to train on (ignored by every other dataset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cifar100Label {
    /// The 100 fine classes.
    #[default]
    Fine,
    /// The 20 coarse superclasses.
    Coarse,
}

impl Cifar100Label {
    /// Parses `fine` or `coarse`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "fine" => Some(Cifar100Label::Fine),
            "coarse" => Some(Cifar100Label::Coarse),
            _ => None,
        }
    }
}

/// Options a loader may read; every dataset ignores those that do not concern it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadOptions {
    /// CIFAR-100's label set.
    pub label: Cifar100Label,
}

/// Loads a dataset from the folder holding its files.
pub type LoadFromFolder = fn(&Path, &LoadOptions) -> Result<DatasetSplits, DataError>;

/// Loads a dataset built into the binary.
pub type LoadEmbedded = fn(&LoadOptions) -> Result<DatasetSplits, DataError>;

/// Where a dataset's data comes from, with the function that loads it.
#[derive(Debug, Clone, Copy)]
pub enum DatasetSource {
    /// Built into the binary: no folder needed.
    Embedded(LoadEmbedded),
    /// Read from a folder (`--data-dir`, or `$PGL_DATA_DIR/<name>`).
    Folder {
        /// The files the folder must hold, for messages and help.
        files: &'static str,
        /// The loader.
        load: LoadFromFolder,
    },
}

/// How a dataset is augmented for training: the recipe `--augment on` applies, whether
/// `--augment auto` (the default) applies it, and whether a horizontal flip keeps labels
/// true (it does for objects and clothes, not for digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AugmentPolicy {
    /// The dataset's standard recipe (what `on` means).
    pub standard: Augment,
    /// Whether `auto` applies [`standard`](Self::standard) (else `auto` is `off`).
    pub by_default: bool,
    /// Whether a horizontal flip leaves every label correct; when false, any recipe with
    /// `flip` is refused.
    pub flips_preserve_labels: bool,
}

/// One dataset: a row of the table in [`catalog`](crate::catalog).
///
/// Adding a dataset is one new parser file that defines a `pub const` entry next to its
/// loader, plus one line in [`BUILTIN_DATASETS`](crate::catalog::BUILTIN_DATASETS); or, from
/// another crate, [`DatasetCatalog::register`](crate::catalog::DatasetCatalog::register).
#[derive(Debug, Clone, Copy)]
pub struct DatasetEntry {
    /// The name used on the command line and in configs (`--dataset NAME`).
    pub name: &'static str,
    /// One line for help texts: what the images are.
    pub summary: &'static str,
    /// Shape of every image.
    pub shape: ImageShape,
    /// Number of classes with the default [`LoadOptions`].
    pub classes: usize,
    /// Where the data comes from, and its loader.
    pub source: DatasetSource,
    /// Training augmentation.
    pub augment: AugmentPolicy,
}

impl DatasetEntry {
    /// The files a folder of this dataset must hold, for messages; `(embedded)` for an
    /// embedded dataset.
    pub fn expected_files(&self) -> &'static str {
        match self.source {
            DatasetSource::Embedded(_) => "(embedded)",
            DatasetSource::Folder { files, .. } => files,
        }
    }

    /// Whether the dataset is read from a folder.
    pub fn needs_data_dir(&self) -> bool {
        matches!(self.source, DatasetSource::Folder { .. })
    }

    /// Loads the train and test splits. A folder dataset reads `data_dir`, or
    /// `$PGL_DATA_DIR/<name>` when `data_dir` is `None`; an embedded one ignores `data_dir`.
    pub fn load(
        &self,
        data_dir: Option<&Path>,
        options: &LoadOptions,
    ) -> Result<DatasetSplits, DataError> {
        let (files, load) = match self.source {
            DatasetSource::Embedded(load) => return load(options),
            DatasetSource::Folder { files, load } => (files, load),
        };
        let dir: PathBuf = match data_dir {
            Some(d) => d.to_path_buf(),
            None => match std::env::var_os(DATA_DIR_ENV) {
                Some(root) => Path::new(&root).join(self.name),
                None => {
                    return Err(DataError::NoDataDir {
                        name: self.name.to_string(),
                        files: files.to_string(),
                        env: DATA_DIR_ENV.to_string(),
                    });
                }
            },
        };
        load(&dir, options)
    }

    /// The augmentation `choice` means for this dataset: `auto` the standard recipe where the
    /// dataset applies it by default, `on` the standard recipe, `off` none, a recipe itself.
    /// A recipe that does nothing is `None`. A recipe that flips images of a dataset whose
    /// labels flips change, or that pads by the image's side or more, is an error naming the
    /// dataset and the option.
    pub fn resolve_augment(&self, choice: AugmentChoice) -> Result<Option<Augment>, DataError> {
        let policy = self.augment;
        let recipe = match choice {
            AugmentChoice::Auto if policy.by_default => policy.standard,
            AugmentChoice::Auto | AugmentChoice::Off => return Ok(None),
            AugmentChoice::On => policy.standard,
            AugmentChoice::Recipe(recipe) => recipe,
        };
        self.check_recipe(recipe)
            .map_err(|reason| DataError::AugmentForDataset {
                dataset: self.name.to_string(),
                value: recipe.to_string(),
                reason,
            })?;
        Ok((recipe != Augment::crop(0)).then_some(recipe))
    }

    /// Checks the entry itself: a usable name, at least one class, a non-empty image shape,
    /// and a standard recipe that suits the dataset.
    pub fn check(&self) -> Result<(), DataError> {
        let bad = |reason: String| DataError::BadDatasetEntry {
            name: self.name.to_string(),
            reason,
        };
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(bad(
                "a name is made of ASCII letters, digits, `-` and `_`".to_string()
            ));
        }
        if self.classes == 0 || self.shape.numel() == 0 {
            return Err(bad(
                "a dataset has at least one class and one pixel".to_string()
            ));
        }
        self.check_recipe(self.augment.standard).map_err(|reason| {
            bad(format!(
                "standard recipe `{}`: {reason}",
                self.augment.standard
            ))
        })
    }

    fn check_recipe(&self, recipe: Augment) -> Result<(), String> {
        if recipe.flip && !self.augment.flips_preserve_labels {
            return Err(
                "a horizontal flip changes the labels of its images; leave out `flip` (e.g. crop:pad=2)"
                    .to_string(),
            );
        }
        let side = self.shape.height.min(self.shape.width);
        if recipe.pad >= side {
            return Err(format!(
                "crop padding {} is not smaller than the image side {side}",
                recipe.pad
            ));
        }
        Ok(())
    }
}
