//! `--augment`: parsed once into an [`AugmentChoice`], resolved per dataset. `auto` is what it
//! always was; `on` never flips a dataset whose labels flips change; explicit recipes
//! round-trip to their canonical string; bad ones are errors naming the option; reflect
//! padding mirrors the image.

use pgl_data::Padding;
use pgl_data::augment::MAX_PAD;
use pgl_data::{
    Augment, AugmentChoice, BUILTIN_DATASETS, DataError, DatasetCatalog, EpochPlan, ImageShape,
    SplitMix64, load_dataset,
};
use proptest::prelude::*;

fn resolve(dataset: &str, choice: &str) -> Result<Option<Augment>, DataError> {
    DatasetCatalog::with_builtins()
        .get(dataset)
        .unwrap()
        .resolve_augment(AugmentChoice::parse(choice)?)
}

#[test]
fn auto_is_unchanged_for_every_dataset() {
    // What `--augment auto` applied before datasets declared their own recipes.
    let before = [
        ("digits", None),
        ("mnist", None),
        ("fashion-mnist", None),
        (
            "cifar10",
            Some(Augment {
                pad: 4,
                flip: true,
                padding: Padding::Zeros,
            }),
        ),
        (
            "cifar100",
            Some(Augment {
                pad: 4,
                flip: true,
                padding: Padding::Zeros,
            }),
        ),
        (
            "stl10",
            Some(Augment {
                pad: 12,
                flip: true,
                padding: Padding::Zeros,
            }),
        ),
        // Added with the datasets (InfoPro's and AugLocal's SVHN crop: pad 2, no flip).
        (
            "svhn",
            Some(Augment {
                pad: 2,
                flip: false,
                padding: Padding::Zeros,
            }),
        ),
        (
            "svhn-extra",
            Some(Augment {
                pad: 2,
                flip: false,
                padding: Padding::Zeros,
            }),
        ),
    ];
    assert_eq!(before.len(), BUILTIN_DATASETS.len());
    for (dataset, augment) in before {
        assert_eq!(resolve(dataset, "auto").unwrap(), augment, "{dataset}");
        assert_eq!(resolve(dataset, "off").unwrap(), None, "{dataset}");
    }
    assert_eq!(AugmentChoice::default(), AugmentChoice::Auto);
}

#[test]
fn digits_are_never_flipped_with_on() {
    assert_eq!(resolve("digits", "on").unwrap(), Some(Augment::crop(1)));
    assert_eq!(resolve("mnist", "on").unwrap(), Some(Augment::crop(2)));
    // Clothes keep their class when mirrored; CIFAR's `on` is its `auto`.
    assert_eq!(
        resolve("fashion-mnist", "on").unwrap(),
        Some(Augment::crop(2).with_flip())
    );
    assert_eq!(resolve("cifar10", "on").unwrap(), Some(Augment::CIFAR));
    for entry in BUILTIN_DATASETS {
        for choice in [AugmentChoice::Auto, AugmentChoice::On] {
            let recipe = entry.resolve_augment(choice).unwrap();
            if !entry.augment.flips_preserve_labels {
                assert!(!recipe.is_some_and(|r| r.flip), "{} {choice}", entry.name);
            }
        }
    }

    // The images a digits epoch with `on` delivers are crops, never mirrored: every augmented
    // image equals its source shifted by (dy, dx) in -1..=1 with zero fill, unflipped. With
    // mean 0, std 1 and pixel_max 1, batches hold the raw pixel values.
    let mut data = load_dataset("digits", None).unwrap().train;
    (data.pixel_max, data.mean, data.std) = (1.0, vec![0.0], vec![1.0]);
    let plan = EpochPlan::new(&data, 64, 3, 0, resolve("digits", "on").unwrap());
    let mut shifts = std::collections::HashSet::new();
    for b in 0..plan.order.num_batches() {
        let batch = plan.make_batch(&data, b);
        for (&i, out) in plan
            .order
            .batch_indices(b)
            .iter()
            .zip(batch.images.chunks(64))
        {
            let out: Vec<u8> = out.iter().map(|&v| v as u8).collect();
            let shift = unflipped_shift(data.image(i), &out)
                .unwrap_or_else(|| panic!("image {i} of batch {b} is not an unflipped crop"));
            shifts.insert(shift);
        }
    }
    assert_eq!(shifts.len(), 9, "every shift in -1..=1 occurs: {shifts:?}");
}

/// The `(dy, dx)` with `out[y][x] == image[y + dy][x + dx]` (0 outside) on 8×8 images.
fn unflipped_shift(image: &[u8], out: &[u8]) -> Option<(isize, isize)> {
    let at = |y: isize, x: isize| {
        if (0..8).contains(&y) && (0..8).contains(&x) {
            image[(y * 8 + x) as usize]
        } else {
            0
        }
    };
    let mut found = None;
    for dy in -1..=1 {
        for dx in -1..=1 {
            let matches =
                (0..8).all(|y| (0..8).all(|x| out[(y * 8 + x) as usize] == at(y + dy, x + dx)));
            if matches && found.is_none() {
                found = Some((dy, dx));
            }
        }
    }
    found
}

#[test]
fn an_explicit_flip_is_refused_where_flips_change_labels() {
    for dataset in ["digits", "mnist"] {
        for recipe in ["crop:pad=2,flip", "flip"] {
            let e = resolve(dataset, recipe).unwrap_err().to_string();
            assert!(
                e.contains(&format!("`augment` = `{recipe}`"))
                    && e.contains(&format!("dataset `{dataset}`"))
                    && e.contains("changes the labels"),
                "{e}"
            );
        }
        assert_eq!(
            resolve(dataset, "crop:pad=2").unwrap(),
            Some(Augment::crop(2))
        );
    }
    assert_eq!(
        resolve("fashion-mnist", "flip").unwrap(),
        Some(Augment::crop(0).with_flip())
    );
    assert_eq!(
        resolve("cifar10", "crop:pad=2").unwrap(),
        Some(Augment::crop(2))
    );
    let e = resolve("digits", "crop:pad=8").unwrap_err().to_string();
    assert!(e.contains("not smaller than the image side 8"), "{e}");
    assert_eq!(
        resolve("digits", "crop:pad=7").unwrap(),
        Some(Augment::crop(7))
    );
}

#[test]
fn explicit_recipes_parse_and_round_trip_to_their_canonical_string() {
    let cases = [
        ("auto", "auto", AugmentChoice::Auto),
        ("on", "on", AugmentChoice::On),
        ("off", "off", AugmentChoice::Off),
        (
            "crop:pad=4,flip",
            "crop:pad=4,flip",
            AugmentChoice::Recipe(Augment::CIFAR),
        ),
        (
            "flip,crop:pad=4",
            "crop:pad=4,flip",
            AugmentChoice::Recipe(Augment::CIFAR),
        ),
        (
            "crop:pad=2",
            "crop:pad=2",
            AugmentChoice::Recipe(Augment::crop(2)),
        ),
        (
            "crop:pad=02",
            "crop:pad=2",
            AugmentChoice::Recipe(Augment::crop(2)),
        ),
        (
            "flip",
            "flip",
            AugmentChoice::Recipe(Augment::crop(0).with_flip()),
        ),
    ];
    for (text, canonical, value) in cases {
        let parsed: AugmentChoice = text.parse().unwrap();
        assert_eq!(parsed, value, "{text}");
        assert_eq!(parsed.to_string(), canonical, "{text}");
        assert_eq!(
            AugmentChoice::parse(canonical).unwrap(),
            value,
            "{canonical}"
        );
    }
    assert_eq!(
        Augment::crop(0).to_string(),
        "off",
        "the recipe that does nothing"
    );
}

#[test]
fn bad_recipes_are_errors_naming_the_option() {
    let cases = [
        ("maybe", "unknown item `maybe`"),
        ("", "empty recipe item"),
        ("crop", "unknown item `crop`"),
        ("crop:pad=4,", "empty recipe item"),
        (
            "crop:pad=0",
            "crop padding `0` is not an integer in 1..=4096",
        ),
        ("crop:pad=-1", "crop padding `-1`"),
        ("crop:pad=4097", "crop padding `4097`"),
        ("crop:pad=x,flip", "crop padding `x`"),
        ("flip,flip", "`flip` is given twice"),
        ("crop:pad=2,crop:pad=3", "`crop` is given twice"),
        ("Flip", "unknown item `Flip`"),
        (" crop:pad=4", "unknown item ` crop:pad=4`"),
        ("on,flip", "unknown item `on`"),
        ("crop:size=4", "unknown item `crop:size=4`"),
        (
            "crop:pad=4,padding=mirror",
            "padding `mirror` is neither zeros nor reflect",
        ),
        (
            "crop:pad=4,padding=reflect,padding=zeros",
            "`padding` is given twice",
        ),
        ("padding=reflect,flip", "`padding` needs a crop"),
    ];
    for (text, reason) in cases {
        let e = AugmentChoice::parse(text).unwrap_err();
        assert!(matches!(e, DataError::BadAugment { .. }), "{text}: {e}");
        let message = e.to_string();
        assert!(
            message.starts_with(&format!("`augment` = `{text}`: {reason}")),
            "{text}: {message}"
        );
        assert!(
            message.contains("expected auto, on, off, or a recipe"),
            "{message}"
        );
    }
}

proptest! {
    #[test]
    fn every_recipe_round_trips(pad in 0..=MAX_PAD, flip in any::<bool>(), reflect in any::<bool>()) {
        prop_assume!(pad > 0 || flip);
        let padding = if reflect && pad > 0 { Padding::Reflect } else { Padding::Zeros };
        let choice = AugmentChoice::Recipe(Augment { pad, flip, padding });
        let text = choice.to_string();
        prop_assert_eq!(AugmentChoice::parse(&text).unwrap(), choice);
    }

    /// A reflect-padded crop is the image mirrored at its border (PyTorch's `mode='reflect'`):
    /// every output is one of the (2·pad + 1)² crops (flipped or not) of the reflected image,
    /// and the zero-padded crop drawn with the same generator state is the same crop with
    /// black where it leaves the image.
    #[test]
    fn reflect_padding_mirrors_the_image(seed in any::<u64>(), pad in 1usize..4, flip in any::<bool>()) {
        let shape = ImageShape { channels: 2, height: 5, width: 4 };
        let image: Vec<u8> = (1..=40).collect();
        let reflect = Augment::crop(pad).with_padding(Padding::Reflect);
        let reflect = if flip { reflect.with_flip() } else { reflect };
        let zeros = Augment { padding: Padding::Zeros, ..reflect };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        reflect.apply(&image, shape, &mut SplitMix64::new(seed), &mut a);
        zeros.apply(&image, shape, &mut SplitMix64::new(seed), &mut b);
        let mirror = |i: isize, n: isize| if i < 0 { -i } else if i >= n { 2 * (n - 1) - i } else { i };
        let (h, w, p) = (5isize, 4isize, pad as isize);
        let crop = |dy: isize, dx: isize, flipped: bool, black: bool| -> Vec<u8> {
            let mut out = Vec::new();
            for c in 0..2isize {
                for y in 0..h {
                    for x in 0..w {
                        let (sy, sx) = (y + dy, if flipped { w - 1 - x } else { x } + dx);
                        let inside = (0..h).contains(&sy) && (0..w).contains(&sx);
                        out.push(if black && !inside {
                            0
                        } else {
                            image[(c * h * w + mirror(sy, h) * w + mirror(sx, w)) as usize]
                        });
                    }
                }
            }
            out
        };
        // (A flipped crop can equal an unflipped one of the mirrored image: keep every match.)
        let found: Vec<_> = (-p..=p).flat_map(|dy| (-p..=p).map(move |dx| (dy, dx)))
            .flat_map(|(dy, dx)| [(dy, dx, false), (dy, dx, true)])
            .filter(|&(_, _, f)| flip || !f)
            .filter(|&(dy, dx, f)| crop(dy, dx, f, false) == a)
            .collect();
        prop_assert!(!found.is_empty(), "the reflect crop is a crop of the mirrored image");
        prop_assert!(!a.contains(&0), "reflection never pads with black");
        prop_assert!(found.iter().any(|&(dy, dx, f)| crop(dy, dx, f, true) == b));
    }

    #[test]
    fn parsing_never_panics_and_what_parses_round_trips(text in "[a-z:=,0-9]{0,24}") {
        if let Ok(choice) = AugmentChoice::parse(&text) {
            prop_assert_eq!(AugmentChoice::parse(&choice.to_string()).unwrap(), choice);
        }
    }
}
