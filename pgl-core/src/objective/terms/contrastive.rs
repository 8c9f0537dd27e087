//! `supcon:temperature=T,dim=D,proj=auto|aux|mlp`: the supervised contrastive loss of a module's
//! output through a projection head of `D` outputs, at temperature `T`.

use crate::error::CoreError;
use crate::objective::{MAX_PROJECTION_DIM, TermDescription, TermSpec};

/// Which head the contrastive term projects a module's output through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProjectionHead {
    /// [`Aux`](Self::Aux) when the model has an aux head design to copy (every zoo model
    /// does), [`Mlp`](Self::Mlp) when it has none (a network of the user's own whose
    /// `aux_head_like` makes nothing) (`proj=auto`, the default).
    #[default]
    Auto,
    /// A head of the same design as the module's aux head with D outputs and weights of its
    /// own, as InfoPro's contrastive `AuxClassifier` (`proj=aux`).
    Aux,
    /// Global average pooling → linear D → ReLU → linear D (`proj=mlp`; pgl's projection before
    /// issue 22).
    Mlp,
}

impl ProjectionHead {
    /// The spelling in specs: `auto`, `aux` or `mlp`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectionHead::Auto => "auto",
            ProjectionHead::Aux => "aux",
            ProjectionHead::Mlp => "mlp",
        }
    }

    /// Every choice, in the order help texts list them.
    pub const ALL: [ProjectionHead; 3] = [
        ProjectionHead::Auto,
        ProjectionHead::Aux,
        ProjectionHead::Mlp,
    ];

    /// The choice spelled `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// The supervised contrastive term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContrastiveTerm {
    /// The loss's temperature (finite, `> 0`).
    pub temperature: f64,
    /// The projection head's output size (1 to [`MAX_PROJECTION_DIM`]).
    pub dim: usize,
    /// The head the term projects through.
    pub projection: ProjectionHead,
}

impl TermDescription for ContrastiveTerm {
    const NAME: &'static str = "supcon";

    fn spec(&self) -> TermSpec {
        TermSpec::new(
            Self::NAME,
            &[
                ("temperature", self.temperature.to_string()),
                ("dim", self.dim.to_string()),
                ("proj", self.projection.as_str().to_string()),
            ],
        )
    }

    fn from_spec(spec: &TermSpec) -> Result<Self, CoreError> {
        let raw = spec.required("temperature")?;
        let temperature = raw
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite() && *t > 0.0)
            .ok_or_else(|| spec.bad_value("temperature", raw, "a finite number > 0"))?;
        let raw = spec.required("dim")?;
        let dim = raw
            .parse::<usize>()
            .ok()
            .filter(|d| (1..=MAX_PROJECTION_DIM).contains(d))
            .ok_or_else(|| {
                let expected = format!("an integer in [1, {MAX_PROJECTION_DIM}]");
                spec.bad_value("dim", raw, &expected)
            })?;
        let raw = spec.required("proj")?;
        let projection = ProjectionHead::parse(raw)
            .ok_or_else(|| spec.bad_value("proj", raw, "auto, aux or mlp"))?;
        Ok(Self {
            temperature,
            dim,
            projection,
        })
    }
}
