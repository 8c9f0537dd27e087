//! The dataset table: the built-ins are what they declare, and a dataset defined outside the
//! crate is one entry registered into a catalog — it then loads, resolves `--augment`, and
//! appears in the help texts and in the "unknown dataset" message like a built-in.

use std::path::Path;

use pgl_data::Padding;
use pgl_data::cifar::{self, CIFAR10_TRAIN_FILES, encode_cifar10, encode_cifar100};
use pgl_data::svhn;
use pgl_data::synthetic::random_splits;
use pgl_data::{
    Augment, AugmentChoice, AugmentPolicy, BUILTIN_DATASETS, DataError, DatasetCatalog,
    DatasetEntry, DatasetSource, DatasetSplits, ImageShape, LoadOptions, dataset_names, idx, stl10,
};

/// Shapes of traffic signs: mirrored signs mean something else, so flips are refused.
fn load_signs(_: &LoadOptions) -> Result<DatasetSplits, DataError> {
    Ok(random_splits(ImageShape::new(3, 16, 16), 4, 20, 5, 9))
}

const SIGNS: DatasetEntry = DatasetEntry {
    name: "signs",
    summary: "synthetic 16x16 traffic signs",
    shape: ImageShape::new(3, 16, 16),
    classes: 4,
    source: DatasetSource::Embedded(load_signs),
    augment: AugmentPolicy {
        standard: Augment {
            pad: 2,
            flip: false,
            padding: Padding::Zeros,
        },
        by_default: true,
        flips_preserve_labels: false,
    },
};

/// A folder dataset in MNIST's format, read from `--data-dir`.
fn load_scans(dir: &Path, _: &LoadOptions) -> Result<DatasetSplits, DataError> {
    idx::load_mnist_dir(dir, "scans", 0.5, 0.25)
}

const SCANS: DatasetEntry = DatasetEntry {
    name: "scans",
    summary: "28x28 grey scans, IDX files",
    shape: ImageShape::new(1, 28, 28),
    classes: 10,
    source: DatasetSource::Folder {
        files: "train-* and t10k-* IDX files",
        load: load_scans,
    },
    augment: AugmentPolicy {
        standard: Augment {
            pad: 3,
            flip: true,
            padding: Padding::Zeros,
        },
        by_default: false,
        flips_preserve_labels: true,
    },
};

#[test]
fn a_dataset_registered_from_another_crate_works_like_a_builtin() {
    let mut catalog = DatasetCatalog::with_builtins();
    catalog.register(SIGNS).unwrap();
    catalog.register(SCANS).unwrap();
    assert_eq!(
        catalog.names(),
        [
            "digits",
            "mnist",
            "fashion-mnist",
            "cifar10",
            "cifar100",
            "stl10",
            "svhn",
            "svhn-extra",
            "signs",
            "scans"
        ]
    );

    let signs = catalog
        .load("signs", None, &LoadOptions::default())
        .unwrap();
    assert_eq!((signs.train.len(), signs.test.len()), (20, 5));
    assert_eq!(signs.train.shape, SIGNS.shape);

    let tmp = tempfile::tempdir().unwrap();
    let px = |n: usize| (0..n * 784).map(|i| (i % 7) as u8).collect::<Vec<u8>>();
    idx::write_mnist_dir(tmp.path(), 28, 28, (&px(2), &[4, 5]), (&px(1), &[6])).unwrap();
    let scans = catalog
        .load("scans", Some(tmp.path()), &LoadOptions::default())
        .unwrap();
    assert_eq!(scans.train.labels(), &[4, 5]);
    assert_eq!(scans.test.name, "scans");

    // Augmentation follows the entry.
    let signs = catalog.get("signs").unwrap();
    assert_eq!(
        signs.resolve_augment(AugmentChoice::Auto).unwrap(),
        Some(Augment {
            pad: 2,
            flip: false,
            padding: Padding::Zeros,
        })
    );
    let e = signs
        .resolve_augment(AugmentChoice::parse("crop:pad=2,flip").unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`augment` = `crop:pad=2,flip`") && e.contains("`signs`"),
        "{e}"
    );
    let scans = catalog.get("scans").unwrap();
    assert_eq!(scans.resolve_augment(AugmentChoice::Auto).unwrap(), None);
    assert_eq!(
        scans.resolve_augment(AugmentChoice::On).unwrap(),
        Some(Augment {
            pad: 3,
            flip: true,
            padding: Padding::Zeros
        })
    );

    // Help texts and messages come from the table.
    let help = catalog.dataset_help();
    assert!(help.contains("digits (embedded), mnist"), "{help}");
    assert!(help.contains("signs (embedded), scans"), "{help}");
    let help = catalog.augment_help();
    assert!(
        help.contains("crop:pad=2 for svhn, svhn-extra, signs"),
        "{help}"
    );
    assert!(help.contains("crop:pad=3,flip for scans"), "{help}");
    assert!(
        help.contains("flip is refused for digits, mnist, svhn, svhn-extra, signs"),
        "{help}"
    );
    let list = catalog.describe();
    assert!(list.contains("synthetic 16x16 traffic signs"), "{list}");
    assert!(list.contains("train-* and t10k-* IDX files"), "{list}");
    let e = catalog.get("sign").unwrap_err().to_string();
    assert!(e.contains("unknown dataset `sign`"), "{e}");
    assert!(e.contains("svhn-extra, signs, scans"), "{e}");
}

#[test]
fn a_folder_dataset_without_a_folder_names_its_files() {
    if std::env::var_os(pgl_data::DATA_DIR_ENV).is_some() {
        // With $PGL_DATA_DIR set, the folder is $PGL_DATA_DIR/scans instead: a missing file.
        let e = SCANS.load(None, &LoadOptions::default()).unwrap_err();
        assert!(matches!(e, DataError::MissingFile { .. }), "{e}");
        return;
    }
    let e = SCANS
        .load(None, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("dataset `scans` needs `data_dir`") && e.contains("train-* and t10k-*"),
        "{e}"
    );
}

#[test]
fn the_catalog_refuses_duplicate_and_inconsistent_entries() {
    let mut catalog = DatasetCatalog::with_builtins();
    let e = catalog.register(pgl_data::digits::DIGITS).unwrap_err();
    assert!(
        matches!(e, DataError::DuplicateDataset { ref name } if name == "digits"),
        "{e}"
    );

    let flips_changing_labels = DatasetEntry {
        augment: AugmentPolicy {
            standard: Augment {
                pad: 2,
                flip: true,
                padding: Padding::Zeros,
            },
            ..SIGNS.augment
        },
        ..SIGNS
    };
    let e = catalog
        .register(flips_changing_labels)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("dataset entry `signs`") && e.contains("standard recipe `crop:pad=2,flip`"),
        "{e}"
    );
    let too_much_padding = DatasetEntry {
        augment: AugmentPolicy {
            standard: Augment::crop(16),
            ..SIGNS.augment
        },
        ..SIGNS
    };
    let e = catalog.register(too_much_padding).unwrap_err().to_string();
    assert!(e.contains("not smaller than the image side 16"), "{e}");
    for name in ["", "my signs", "a,b"] {
        let e = catalog
            .register(DatasetEntry { name, ..SIGNS })
            .unwrap_err();
        assert!(
            matches!(e, DataError::BadDatasetEntry { .. }),
            "{name}: {e}"
        );
    }
    assert!(catalog.get("signs").is_err(), "nothing was registered");
    assert_eq!(catalog.names(), dataset_names());
}

#[test]
fn the_builtin_table_lists_every_dataset_once_in_order() {
    assert_eq!(
        dataset_names(),
        [
            "digits",
            "mnist",
            "fashion-mnist",
            "cifar10",
            "cifar100",
            "stl10",
            "svhn",
            "svhn-extra"
        ]
    );
    assert_eq!(
        DatasetCatalog::with_builtins().entries().len(),
        BUILTIN_DATASETS.len()
    );
    let help = DatasetCatalog::with_builtins().dataset_help();
    assert!(
        help.starts_with(
            "Dataset: digits (embedded), mnist, fashion-mnist, cifar10, cifar100, stl10, svhn, svhn-extra"
        ),
        "{help}"
    );
}

/// `n` images of `bytes` each, distinct.
fn images(n: usize, bytes: usize) -> Vec<u8> {
    (0..n * bytes).map(|p| (p % 253) as u8).collect()
}

/// Writes a tiny folder of every built-in folder dataset under `root/<name>`.
fn write_fixtures(root: &Path) {
    let px = images(2, 784);
    for name in ["mnist", "fashion-mnist"] {
        idx::write_mnist_dir(&root.join(name), 28, 28, (&px, &[1, 9]), (&px, &[0, 2])).unwrap();
    }
    let dir = root.join("cifar10");
    std::fs::create_dir_all(&dir).unwrap();
    let c10 = encode_cifar10(&images(2, cifar::IMAGE_BYTES), &[3, 9]);
    for name in CIFAR10_TRAIN_FILES
        .iter()
        .chain([&cifar::CIFAR10_TEST_FILE])
    {
        std::fs::write(dir.join(name), &c10).unwrap();
    }
    let dir = root.join("cifar100");
    std::fs::create_dir_all(&dir).unwrap();
    let c100 = encode_cifar100(&images(2, cifar::IMAGE_BYTES), &[(19, 99), (0, 5)]);
    for name in ["train.bin", "test.bin"] {
        std::fs::write(dir.join(name), &c100).unwrap();
    }
    let dir = root.join("stl10");
    std::fs::create_dir_all(&dir).unwrap();
    let stl = stl10::encode_images(&images(2, stl10::IMAGE_BYTES));
    for split in ["train", "test"] {
        std::fs::write(dir.join(format!("{split}_X.bin")), &stl).unwrap();
        std::fs::write(dir.join(format!("{split}_y.bin")), [1u8, 10]).unwrap();
    }
    let mat = svhn::encode_split(&images(2, svhn::IMAGE_BYTES), &[0, 9], true);
    for (name, files) in [
        ("svhn", &["train", "test"][..]),
        ("svhn-extra", &["train", "extra", "test"][..]),
    ] {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for split in files {
            std::fs::write(dir.join(format!("{split}_32x32.mat")), &mat).unwrap();
        }
    }
}

#[test]
fn every_builtin_loads_the_shape_and_classes_it_declares() {
    let tmp = tempfile::tempdir().unwrap();
    write_fixtures(tmp.path());
    for entry in BUILTIN_DATASETS {
        let dir = tmp.path().join(entry.name);
        let data = entry
            .load(Some(&dir), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", entry.name));
        for split in [&data.train, &data.test] {
            assert_eq!(split.name, entry.name);
            assert_eq!(split.shape, entry.shape, "{}", entry.name);
            assert_eq!(split.num_classes, entry.classes, "{}", entry.name);
        }
        assert_eq!(entry.needs_data_dir(), entry.name != "digits");
        assert!(!entry.expected_files().is_empty());
    }
}
