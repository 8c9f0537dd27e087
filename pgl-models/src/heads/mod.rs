//! Auxiliary head designs, selectable by name for every model (`--aux-head NAME`): one file
//! per design, one line per design in [`AuxHead::ALL`] (the table `pgl models` and the CLI help
//! list). A head is also what a model uses as its network classifier.
//!
//! Adding a head: a new file here with a `pub const HEAD: AuxHead` (name, one-line design,
//! origin, builder), a `mod` line and a line in [`AuxHead::ALL`]. From another crate, register
//! it in a [`ModelCatalog`](crate::ModelCatalog) instead.
//!
//! Only `0c1f` and the AugLocal heads (`aug1`, `aug3`, `aug5`) apply to flat (MLP) features;
//! the others need spatial ones. The AugLocal heads are built at their [`HeadSite`]: they copy
//! the shapes of the blocks after their module ([`AuxHead::at_site`]).

pub mod auglocal;
mod aux_head;
pub mod mlp_sr;
pub mod one_conv_two_fc;
pub mod pool2_one_fc;
pub mod zero_conv_one_fc;

pub use aux_head::{AuxHead, HeadBuilder, HeadLayers, HeadSite, LaterBlock, SiteHeadBuilder};

use crate::error::ModelError;

// The built-in heads keep the names they had as enum variants, so existing code reads the same.
#[allow(non_upper_case_globals)]
impl AuxHead {
    /// `0c1f`: global average pool and one linear layer.
    pub const ZeroConvOneFc: AuxHead = zero_conv_one_fc::HEAD;
    /// `1c2f`: InfoPro's head, one conv and two linear layers.
    pub const OneConvTwoFc: AuxHead = one_conv_two_fc::HEAD;
    /// `mlp-sr`: DGL's spatially reduced MLP head.
    pub const MlpSr: AuxHead = mlp_sr::HEAD;
    /// `pool2-1f`: 2×2 average pool and one linear layer.
    pub const Pool2OneFc: AuxHead = pool2_one_fc::HEAD;

    /// The built-in heads, in the order shown to users: the head table.
    pub const ALL: &'static [AuxHead] = &[
        zero_conv_one_fc::HEAD,
        one_conv_two_fc::HEAD,
        mlp_sr::HEAD,
        pool2_one_fc::HEAD,
        auglocal::AUG1,
        auglocal::AUG3,
        auglocal::AUG5,
    ];

    /// The built-in head called `name`.
    pub fn parse(name: &str) -> Result<Self, ModelError> {
        find_head(Self::ALL, name)
    }
}

/// The head called `name` among `heads`, or an error listing them.
pub(crate) fn find_head(heads: &[AuxHead], name: &str) -> Result<AuxHead, ModelError> {
    heads
        .iter()
        .copied()
        .find(|h| h.name() == name)
        .ok_or_else(|| ModelError::UnknownHead {
            name: name.to_string(),
            known: heads
                .iter()
                .map(|h| h.name())
                .collect::<Vec<_>>()
                .join(", "),
        })
}
