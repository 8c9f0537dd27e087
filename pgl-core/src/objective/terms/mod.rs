//! The built-in loss terms' descriptions, one file each ([`TermDescription`]): the term's
//! parameters as values, their spec and their checks. pgl-burn's `objective` folder computes
//! each (one file each, one line each in its term table). Adding a term is one file here with
//! one `pub mod` line, and one file there with one table line — or, from your own crate, a
//! `TermDescription` and a `pgl_burn::objective::TermEntry` of your own.

pub mod ce;
pub mod contrastive;
pub mod reconstruction;
pub mod synthetic;

#[cfg(doc)]
use super::TermDescription;

#[cfg(test)]
mod tests {
    use super::ce::CrossEntropyTerm;
    use super::contrastive::{ContrastiveTerm, ProjectionHead};
    use super::reconstruction::{Reconstruction, ReconstructionTerm};
    use crate::error::CoreError;
    use crate::objective::{TermDescription, TermSpec};

    fn round_trip<T: TermDescription + PartialEq + std::fmt::Debug>(term: T) {
        let spec = term.spec();
        assert_eq!(spec.name(), T::NAME);
        assert_eq!(T::from_spec(&spec).unwrap(), term, "{spec}");
    }

    #[test]
    fn every_built_in_term_reads_back_what_it_writes() {
        round_trip(CrossEntropyTerm);
        round_trip(super::synthetic::SyntheticGradientTerm);
        for kind in Reconstruction::ALL {
            round_trip(ReconstructionTerm { kind });
        }
        for projection in ProjectionHead::ALL {
            round_trip(ContrastiveTerm {
                temperature: 0.1,
                dim: 7,
                projection,
            });
        }
    }

    #[test]
    fn a_bad_parameter_names_the_term_and_the_key() {
        let bad = |spec: TermSpec, key: &str| {
            let err = match spec.name() {
                "ce" => CrossEntropyTerm::from_spec(&spec).map(|_| ()),
                "reconstruction" => ReconstructionTerm::from_spec(&spec).map(|_| ()),
                _ => ContrastiveTerm::from_spec(&spec).map(|_| ()),
            }
            .unwrap_err();
            assert!(
                matches!(err, CoreError::BadValue { key: ref k, .. } if k == key),
                "{spec}: {err}"
            );
        };
        bad(TermSpec::new("ce", &[("weight", "2".into())]), "weight");
        bad(
            TermSpec::new("reconstruction", &[("recon", "l1".into())]),
            "recon",
        );
        bad(TermSpec::new("reconstruction", &[]), "recon");
        let supcon = |t: &str, d: &str, p: &str| {
            let params = [
                ("temperature", t.into()),
                ("dim", d.into()),
                ("proj", p.into()),
            ];
            TermSpec::new("supcon", &params)
        };
        bad(supcon("0", "8", "aux"), "temperature");
        bad(supcon("0.1", "0", "aux"), "dim");
        bad(supcon("0.1", "8", "conv"), "proj");
    }
}
