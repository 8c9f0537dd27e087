//! [`ModelOptions`]: how to cut a model ([`SplitKind`], K), which auxiliary heads to give it,
//! its residual shortcuts ([`Shortcut`]) and how its convolutions are initialised
//! ([`ConvInit`]).

pub use pgl_burn::ConvInit;

use crate::error::ModelError;
use crate::heads::AuxHead;

/// How the split units of a model become K modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitKind {
    /// As equal as possible (the first modules take the extra units).
    Even,
    /// InfoPro's published tables (ResNet-32 and ResNet-110, K = 2, 4, 8, 16).
    InfoPro,
    /// Modules 2..K start at these split units (`at:U2,U3,..`), e.g. the boundaries a
    /// published script computes (DGL's recipes).
    At(Vec<usize>),
}

impl SplitKind {
    /// Parses `even`, `infopro` or `at:U2,U3,..` (unit indices where modules 2..K start).
    pub fn parse(name: &str) -> Result<Self, ModelError> {
        let unknown = || ModelError::UnknownSplit {
            name: name.to_string(),
        };
        match name {
            "even" => Ok(SplitKind::Even),
            "infopro" => Ok(SplitKind::InfoPro),
            _ => {
                let points = name.strip_prefix("at:").ok_or_else(unknown)?;
                points
                    .split(',')
                    .map(|p| p.trim().parse::<usize>().map_err(|_| unknown()))
                    .collect::<Result<Vec<_>, _>>()
                    .map(SplitKind::At)
            }
        }
    }
}

/// The shortcut of a residual block where its shape changes (stride 2, more channels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shortcut {
    /// He et al.'s option A (`option-a`): the identity, subsampled, with zero channels added;
    /// no parameters, so parameter counts are the paper's.
    #[default]
    OptionA,
    /// Option B (`option-b`): a 1×1 convolution with the block's stride and a batch norm, as
    /// InfoPro's ResNets (`InfoProResNet._make_layer`, `Experiments on CIFAR-SVHN-STL10/
    /// networks/resnet.py` lines 168–174) and torchvision's.
    OptionB,
}

impl Shortcut {
    /// Every choice, in the order help texts list them.
    pub const ALL: [Shortcut; 2] = [Shortcut::OptionA, Shortcut::OptionB];

    /// The name used in configs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Shortcut::OptionA => "option-a",
            Shortcut::OptionB => "option-b",
        }
    }

    /// The shortcut called `name` (`option-a`, `option-b`).
    pub fn parse(name: &str) -> Result<Self, ModelError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| ModelError::UnknownOption {
                option: "shortcut",
                name: name.to_string(),
                known: Self::ALL.map(Self::as_str).join(", "),
            })
    }
}

/// The convolution initialisation called `name` (`default`, `he-normal-fan-out`).
pub fn parse_conv_init(name: &str) -> Result<ConvInit, ModelError> {
    ConvInit::ALL
        .into_iter()
        .find(|c| c.as_str() == name)
        .ok_or_else(|| ModelError::UnknownOption {
            option: "conv-init",
            name: name.to_string(),
            known: ConvInit::ALL.map(ConvInit::as_str).join(", "),
        })
}

/// How to cut a model, which auxiliary heads to give it, its shortcuts and its convolutions'
/// initialisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOptions {
    /// Number of modules K.
    pub modules: usize,
    /// How to place the module boundaries.
    pub split: SplitKind,
    /// Auxiliary head design (`None`: the model's default).
    pub aux_head: Option<AuxHead>,
    /// The shortcut of residual blocks that change shape (models without residual blocks
    /// accept only the default).
    pub shortcut: Shortcut,
    /// How convolution weights are initialised (heads' and the local objective's extra heads'
    /// too).
    pub conv_init: ConvInit,
}

impl ModelOptions {
    /// `modules` modules, even split, default heads, option-A shortcuts, Burn's default
    /// initialisation.
    pub fn even(modules: usize) -> Self {
        Self {
            modules,
            split: SplitKind::Even,
            aux_head: None,
            shortcut: Shortcut::default(),
            conv_init: ConvInit::default(),
        }
    }

    /// The same options with `shortcut`.
    pub fn with_shortcut(self, shortcut: Shortcut) -> Self {
        Self { shortcut, ..self }
    }

    /// The same options with `conv_init`.
    pub fn with_conv_init(self, conv_init: ConvInit) -> Self {
        Self { conv_init, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_bad_ones_list_the_choices() {
        assert_eq!(SplitKind::parse("at:27").unwrap(), SplitKind::At(vec![27]));
        assert_eq!(
            SplitKind::parse("at:13, 28,43").unwrap(),
            SplitKind::At(vec![13, 28, 43])
        );
        for bad in ["at:", "at:x", "evenly"] {
            let err = SplitKind::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad) && err.contains("at:"), "{err}");
        }
        assert_eq!(Shortcut::parse("option-b").unwrap(), Shortcut::OptionB);
        let err = Shortcut::parse("b").unwrap_err().to_string();
        assert!(
            err.contains("shortcut") && err.contains("option-a, option-b"),
            "{err}"
        );
        assert_eq!(
            parse_conv_init("he-normal-fan-out").unwrap(),
            ConvInit::HeNormalFanOut
        );
        let err = parse_conv_init("xavier").unwrap_err().to_string();
        assert!(
            err.contains("conv-init") && err.contains("he-normal-fan-out"),
            "{err}"
        );
    }
}
