//! `reconstruction:recon=bce|mse`: a small decoder per module reconstructs the input image
//! from the module's output (InfoPro's `ixx` term).

use crate::error::CoreError;
use crate::objective::{TermDescription, TermSpec};

/// How a reconstruction term compares the decoder's output with the input image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reconstruction {
    /// InfoPro's: the decoder's output through a sigmoid, binary cross-entropy against the
    /// image de-normalised to `[0, 1]` (`recon=bce`).
    #[default]
    Bce,
    /// The mean squared error of the decoder's output against the normalised image
    /// (`recon=mse`; pgl's reconstruction before issue 22).
    Mse,
}

impl Reconstruction {
    /// The spelling in specs: `bce` or `mse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reconstruction::Bce => "bce",
            Reconstruction::Mse => "mse",
        }
    }

    /// Every choice, in the order help texts list them.
    pub const ALL: [Reconstruction; 2] = [Reconstruction::Bce, Reconstruction::Mse];

    /// The choice spelled `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// The reconstruction term: a decoder per module, compared with the image as `kind` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReconstructionTerm {
    /// How the reconstruction is compared with the image.
    pub kind: Reconstruction,
}

impl TermDescription for ReconstructionTerm {
    const NAME: &'static str = "reconstruction";

    fn spec(&self) -> TermSpec {
        TermSpec::new(Self::NAME, &[("recon", self.kind.as_str().to_string())])
    }

    fn from_spec(spec: &TermSpec) -> Result<Self, CoreError> {
        let raw = spec.required("recon")?;
        let kind =
            Reconstruction::parse(raw).ok_or_else(|| spec.bad_value("recon", raw, "bce or mse"))?;
        Ok(Self { kind })
    }
}
