//! Training augmentation, seeded: random crop of the padded image and horizontal flip, the
//! standard CIFAR recipe (pad 4, crop back to the original size, flip with probability ½).
//! Applied to raw pixels before normalisation. The padding is black by default (`zeros`, as
//! torchvision's `RandomCrop(32, padding=4)`, which DGL uses) or the image mirrored at its
//! border without repeating the edge (`reflect`, PyTorch's `F.pad(.., mode='reflect')`, which
//! InfoPro's `train.py` applies before its crop).
//!
//! The `--augment` option is parsed here, once, into an [`AugmentChoice`]: `auto`, `on`,
//! `off`, or an explicit recipe such as `crop:pad=4,flip` or `crop:pad=4,padding=reflect,flip`. Which recipe `auto` and `on` mean,
//! and whether a flip is allowed, is a property of each dataset
//! ([`DatasetEntry::resolve_augment`](crate::entry::DatasetEntry::resolve_augment)).

use std::fmt;
use std::str::FromStr;

use crate::batch::Batch;
use crate::dataset::{ImageDataset, ImageShape};
use crate::error::DataError;
use crate::rng::SplitMix64;

/// The largest `crop:pad=N` a recipe may ask for.
pub const MAX_PAD: usize = 4096;

/// How the image is padded before a random crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Padding {
    /// Black (`padding=zeros`, the default).
    #[default]
    Zeros,
    /// The image mirrored at its border, the edge not repeated (`padding=reflect`): padded
    /// position `−i` holds pixel `i`, position `side − 1 + i` pixel `side − 1 − i`.
    Reflect,
}

impl Padding {
    /// The spelling in recipes: `zeros` or `reflect`.
    pub fn as_str(self) -> &'static str {
        match self {
            Padding::Zeros => "zeros",
            Padding::Reflect => "reflect",
        }
    }

    /// The source index of padded position `i` along a side of `n` pixels (`pad < n`), or
    /// `None` where the padding is black.
    fn source(self, i: isize, n: isize) -> Option<isize> {
        if (0..n).contains(&i) {
            return Some(i);
        }
        match self {
            Padding::Zeros => None,
            Padding::Reflect if i < 0 => Some(-i),
            Padding::Reflect => Some(2 * (n - 1) - i),
        }
    }
}

/// What augmentation to apply to training images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Augment {
    /// Padding on each side before a random crop back to the original size (0: no crop).
    pub pad: usize,
    /// Flip horizontally with probability ½.
    pub flip: bool,
    /// What the padding holds.
    pub padding: Padding,
}

impl Augment {
    /// The standard CIFAR recipe: pad 4 with zeros, random crop, horizontal flip.
    pub const CIFAR: Augment = Augment::crop(4).with_flip();

    /// A random crop of the image zero-padded by `pad` on each side, without flip.
    pub const fn crop(pad: usize) -> Self {
        Self {
            pad,
            flip: false,
            padding: Padding::Zeros,
        }
    }

    /// The same recipe with a horizontal flip (probability ½) added.
    pub const fn with_flip(self) -> Self {
        Self { flip: true, ..self }
    }

    /// The same recipe padding with `padding`.
    pub const fn with_padding(self, padding: Padding) -> Self {
        Self { padding, ..self }
    }

    /// Writes an augmented copy of `image` (shape `shape`, channels first) into `out`.
    pub fn apply(&self, image: &[u8], shape: ImageShape, rng: &mut SplitMix64, out: &mut Vec<u8>) {
        let (h, w) = (shape.height as isize, shape.width as isize);
        let pad = self.pad as isize;
        let dy = if pad > 0 {
            rng.below(2 * self.pad as u64 + 1) as isize - pad
        } else {
            0
        };
        let dx = if pad > 0 {
            rng.below(2 * self.pad as u64 + 1) as isize - pad
        } else {
            0
        };
        let flip = self.flip && rng.below(2) == 1;
        for channel in image.chunks_exact((h * w) as usize) {
            for y in 0..h {
                let sy = self.padding.source(y + dy, h);
                for x in 0..w {
                    // Crop at offset (dy, dx) of the padded image, then flip the crop.
                    let sx = self
                        .padding
                        .source(if flip { w - 1 - x } else { x } + dx, w);
                    out.push(match (sy, sx) {
                        (Some(sy), Some(sx)) => channel[(sy * w + sx) as usize],
                        _ => 0,
                    });
                }
            }
        }
    }
}

impl ImageDataset {
    /// The samples at `indices` as a normalised batch, each augmented with `augment` using
    /// `rng` (deterministic for a given generator state).
    pub fn augmented_batch(
        &self,
        indices: &[usize],
        augment: &Augment,
        rng: &mut SplitMix64,
    ) -> Batch {
        let mut scratch = Vec::with_capacity(indices.len() * self.shape.numel());
        for &i in indices {
            augment.apply(self.image(i), self.shape, rng, &mut scratch);
        }
        let labels: Vec<u8> = indices.iter().map(|&i| self.labels()[i]).collect();
        self.normalise(&scratch, &labels)
    }
}

/// The canonical recipe string: `crop:pad=N[,padding=reflect][,flip]`, `flip`, or `off` for
/// the recipe that changes nothing. [`AugmentChoice::parse`] reads it back.
impl fmt::Display for Augment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items = Vec::new();
        if self.pad > 0 {
            items.push(format!("crop:pad={}", self.pad));
            if self.padding != Padding::Zeros {
                items.push(format!("padding={}", self.padding.as_str()));
            }
        }
        if self.flip {
            items.push("flip".to_string());
        }
        if items.is_empty() {
            return f.write_str("off");
        }
        f.write_str(&items.join(","))
    }
}

/// What the `--augment` option (the config's `augment` field) asks for, parsed once.
///
/// `auto` and `on` name no recipe: the dataset decides
/// ([`DatasetEntry::resolve_augment`](crate::entry::DatasetEntry::resolve_augment)).
///
/// ```
/// use pgl_data::{Augment, AugmentChoice};
///
/// let choice = AugmentChoice::parse("flip,crop:pad=4").unwrap();
/// assert_eq!(choice, AugmentChoice::Recipe(Augment::crop(4).with_flip()));
/// assert_eq!(choice.to_string(), "crop:pad=4,flip");
/// let reflect = AugmentChoice::parse("crop:pad=4,padding=reflect,flip").unwrap();
/// assert_eq!(reflect.to_string(), "crop:pad=4,padding=reflect,flip");
/// assert!(AugmentChoice::parse("crop:pad=x").is_err());
/// assert!(AugmentChoice::parse("padding=reflect").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AugmentChoice {
    /// `auto`: the dataset's standard recipe where the dataset applies it by default (CIFAR,
    /// STL-10), nothing elsewhere.
    #[default]
    Auto,
    /// `on`: the dataset's standard recipe, also where `auto` applies none (for digit datasets
    /// a crop without flip).
    On,
    /// `off`: no augmentation.
    Off,
    /// An explicit recipe, e.g. `crop:pad=4,flip`, `crop:pad=2` or
    /// `crop:pad=4,padding=reflect,flip`.
    Recipe(Augment),
}

impl AugmentChoice {
    /// Every keyword, in the order shown to users (recipes come on top of these).
    pub const KEYWORDS: [&'static str; 3] = ["auto", "on", "off"];

    /// The syntax of the option, for help texts and error messages.
    pub const SYNTAX: &'static str = "auto, on, off, or a recipe: crop:pad=N (with padding=zeros|reflect, default zeros) and/or flip, joined by a comma (e.g. crop:pad=4,flip or crop:pad=4,padding=reflect,flip)";

    /// Parses the option: `auto`, `on`, `off`, or a recipe made of `crop:pad=N` (N in
    /// `1..=`[`MAX_PAD`]), `padding=zeros|reflect` (only with a crop) and `flip`, joined by a
    /// comma in any order, each at most once. Errors name the option and the value.
    pub fn parse(text: &str) -> Result<Self, DataError> {
        let bad = |reason: String| DataError::BadAugment {
            value: text.to_string(),
            reason,
            expected: Self::SYNTAX,
        };
        match text {
            "auto" => return Ok(Self::Auto),
            "on" => return Ok(Self::On),
            "off" => return Ok(Self::Off),
            _ => {}
        }
        let mut pad = None;
        let mut flip = false;
        let mut padding = None;
        for item in text.split(',') {
            if item == "flip" {
                if flip {
                    return Err(bad("`flip` is given twice".to_string()));
                }
                flip = true;
            } else if let Some(value) = item.strip_prefix("crop:pad=") {
                if pad.is_some() {
                    return Err(bad("`crop` is given twice".to_string()));
                }
                let n: usize = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_PAD).contains(n))
                    .ok_or_else(|| {
                        bad(format!(
                            "crop padding `{value}` is not an integer in 1..={MAX_PAD}"
                        ))
                    })?;
                pad = Some(n);
            } else if let Some(value) = item.strip_prefix("padding=") {
                if padding.is_some() {
                    return Err(bad("`padding` is given twice".to_string()));
                }
                padding = Some(match value {
                    "zeros" => Padding::Zeros,
                    "reflect" => Padding::Reflect,
                    _ => {
                        return Err(bad(format!(
                            "padding `{value}` is neither zeros nor reflect"
                        )));
                    }
                });
            } else if item.is_empty() {
                return Err(bad("empty recipe item".to_string()));
            } else {
                return Err(bad(format!("unknown item `{item}`")));
            }
        }
        if padding.is_some() && pad.is_none() {
            return Err(bad(
                "`padding` needs a crop (e.g. crop:pad=4,padding=reflect)".to_string(),
            ));
        }
        Ok(Self::Recipe(Augment {
            pad: pad.unwrap_or(0),
            flip,
            padding: padding.unwrap_or_default(),
        }))
    }
}

/// The canonical form: `auto`, `on`, `off` or the recipe's canonical string.
impl fmt::Display for AugmentChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::On => f.write_str("on"),
            Self::Off => f.write_str("off"),
            Self::Recipe(recipe) => recipe.fmt(f),
        }
    }
}

/// [`AugmentChoice::parse`].
impl FromStr for AugmentChoice {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Self, DataError> {
        Self::parse(text)
    }
}
