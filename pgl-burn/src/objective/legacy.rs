//! Objective heads saved before loss terms were plugins: `objective.bpk` then held, per
//! module, one field per head kind (`decoder`, `projection`, `aux_projection`). Such a file
//! loads into today's heads by moving each head into the field of its kind, loading, and
//! moving it back ([`ObjectiveHeads::load_file`]).

use std::path::Path;

use burn::module::Module;
use burn::store::RecordError;

use super::{Decoder, ModuleHeads, ObjectiveHeads, Projection, TermHead};
use crate::head::HeadStack;

/// One module's heads in the layout before loss terms were plugins.
#[derive(Module, Debug)]
struct LegacyModuleHeads {
    decoder: Option<Decoder>,
    projection: Option<Projection>,
    aux_projection: Option<HeadStack>,
}

/// Every module's heads in that layout.
#[derive(Module, Debug)]
struct LegacyObjectiveHeads {
    modules: Vec<LegacyModuleHeads>,
}

/// Where each head of a module went: the index of its term, per field.
#[derive(Default)]
struct Slots {
    decoder: Option<usize>,
    projection: Option<usize>,
    aux_projection: Option<usize>,
}

impl LegacyModuleHeads {
    /// `module`'s heads in the old fields, and where they came from; `None` when the module
    /// has two heads of one kind (a layout the old file cannot hold).
    fn split(module: &ModuleHeads) -> Option<(Self, Slots)> {
        let mut legacy = Self {
            decoder: None,
            projection: None,
            aux_projection: None,
        };
        let mut slots = Slots::default();
        for (i, head) in module.heads.iter().enumerate() {
            let twice = match head.clone() {
                None => false,
                Some(TermHead::Decoder(d)) => {
                    slots.decoder = Some(i);
                    legacy.decoder.replace(d).is_some()
                }
                Some(TermHead::Projection(p)) => {
                    slots.projection = Some(i);
                    legacy.projection.replace(p).is_some()
                }
                Some(TermHead::Stack(s)) => {
                    slots.aux_projection = Some(i);
                    legacy.aux_projection.replace(s).is_some()
                }
                // Written after the old layout: no old file holds a predictor.
                Some(TermHead::Predictor(_)) => return None,
            };
            if twice {
                return None;
            }
        }
        Some((legacy, slots))
    }

    /// Puts the loaded heads back into `module`'s slots.
    fn merge(self, slots: &Slots, module: &mut ModuleHeads) {
        let mut put = |slot: Option<usize>, head: Option<TermHead>| {
            if let (Some(i), Some(head)) = (slot, head) {
                module.heads[i] = Some(head);
            }
        };
        put(slots.decoder, self.decoder.map(TermHead::Decoder));
        put(slots.projection, self.projection.map(TermHead::Projection));
        put(
            slots.aux_projection,
            self.aux_projection.map(TermHead::Stack),
        );
    }
}

impl ObjectiveHeads {
    /// These heads with their values (and parameter ids) read from `path`: a file written by
    /// [`Module::save_file`] of heads like these, or one written before loss terms were plugins
    /// (one field per head kind). The error is the current layout's when neither reads.
    pub fn load_file(self, path: &Path) -> Result<Self, RecordError> {
        let current = match self.clone().try_load_file(path) {
            Ok(loaded) => return Ok(loaded),
            Err(e) => e,
        };
        self.load_legacy(path).ok_or(current)
    }

    fn load_legacy(mut self, path: &Path) -> Option<Self> {
        let mut legacy = Vec::with_capacity(self.modules.len());
        let mut slots = Vec::with_capacity(self.modules.len());
        for module in &self.modules {
            let (heads, at) = LegacyModuleHeads::split(module)?;
            legacy.push(heads);
            slots.push(at);
        }
        let loaded = LegacyObjectiveHeads { modules: legacy }
            .try_load_file(path)
            .ok()?;
        for ((heads, at), module) in loaded
            .modules
            .into_iter()
            .zip(&slots)
            .zip(&mut self.modules)
        {
            heads.merge(at, module);
        }
        Some(self)
    }
}
