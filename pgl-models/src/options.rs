//! [`ModelOptions`]: how to cut a model ([`SplitKind`], K) and which auxiliary heads to give it.

use crate::error::ModelError;
use crate::heads::AuxHead;

/// How the split units of a model become K modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitKind {
    /// As equal as possible (the first modules take the extra units).
    Even,
    /// InfoPro's published tables (ResNet-32 and ResNet-110, K = 2, 4, 8, 16).
    InfoPro,
}

impl SplitKind {
    /// Parses `even` or `infopro`.
    pub fn parse(name: &str) -> Result<Self, ModelError> {
        match name {
            "even" => Ok(SplitKind::Even),
            "infopro" => Ok(SplitKind::InfoPro),
            _ => Err(ModelError::UnknownSplit {
                name: name.to_string(),
            }),
        }
    }
}

/// How to cut a model and which auxiliary heads to give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelOptions {
    /// Number of modules K.
    pub modules: usize,
    /// How to place the module boundaries.
    pub split: SplitKind,
    /// Auxiliary head design (`None`: the model's default).
    pub aux_head: Option<AuxHead>,
}

impl ModelOptions {
    /// `modules` modules, even split, default heads.
    pub fn even(modules: usize) -> Self {
        Self {
            modules,
            split: SplitKind::Even,
            aux_head: None,
        }
    }
}
