//! `pool2-1f`: average pool to 2×2 → linear; pgl's cheap head for the small CNN, in the spirit
//! of InfoPro's `0c1f` but keeping coarse spatial layout.

use pgl_burn::burn::prelude::Device;

use super::aux_head::{AuxHead, HeadLayers};
use crate::layer::pooled_linear_head;
use crate::shape::FeatureShape;

/// The `pool2-1f` head.
pub const HEAD: AuxHead = AuxHead::new("pool2-1f", DESIGN, ORIGIN, build);

const DESIGN: &str = "average pool to 2x2 -> linear";
const ORIGIN: &str = "pgl's cheap head for the small CNN";

fn build(features: FeatureShape, classes: usize, device: &Device) -> HeadLayers {
    HEAD.spatial(features)?;
    Ok(pooled_linear_head(features, 2, classes, device))
}
