//! The container layer of a MAT-file: data elements (an 8-byte tag, or a 4-byte one with up to
//! 4 bytes inline, then the bytes padded to 8), each checked against the bytes left, and the
//! bounded inflation of an `miCOMPRESSED` element.

use std::io::Read;
use std::path::Path;

use super::{MAX_VARIABLE_BYTES, MI_COMPRESSED, bad};
use crate::error::DataError;

/// A data element: its type, its bytes and where the next one starts.
pub(super) struct Element<'a> {
    /// The MAT data type (`miMATRIX`, `miUINT8`, …).
    pub(super) kind: u32,
    /// The element's bytes, without tag or padding.
    pub(super) data: &'a [u8],
    /// Where the next element starts (at most the end of the bytes).
    pub(super) next: usize,
}

impl<'a> Element<'a> {
    /// The element at byte `pos` of `bytes` (read from `path`); its byte count is checked
    /// against the bytes left before anything is taken.
    pub(super) fn at(bytes: &'a [u8], pos: usize, path: &Path) -> Result<Self, DataError> {
        let word = |at: usize| -> Result<u32, DataError> {
            bytes
                .get(at..at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| bad(path, format!("truncated at byte {at}")))
        };
        let first = word(pos)?;
        if first >> 16 != 0 {
            // Small element: type and size in one word, up to 4 bytes of data inline.
            let size = (first >> 16) as usize;
            if size > 4 {
                return Err(bad(
                    path,
                    format!("small element of {size} bytes at byte {pos}"),
                ));
            }
            let data = bytes
                .get(pos + 4..pos + 4 + size)
                .ok_or_else(|| bad(path, format!("truncated at byte {pos}")))?;
            return Ok(Self {
                kind: first & 0xffff,
                data,
                next: pos + 8,
            });
        }
        let size = word(pos + 4)? as usize;
        let start = pos + 8;
        let left = bytes.len().saturating_sub(start);
        if size > left {
            return Err(DataError::WrongLength {
                path: path.to_path_buf(),
                reason: format!("MAT element at byte {pos} (type {first})"),
                expected: size as u64,
                found: left as u64,
            });
        }
        let padded = if first == MI_COMPRESSED {
            size
        } else {
            size.div_ceil(8) * 8
        };
        Ok(Self {
            kind: first,
            data: &bytes[start..start + size],
            next: (start + padded).min(bytes.len()),
        })
    }
}

/// The zlib stream `data` of an `miCOMPRESSED` element, inflated to at most
/// [`MAX_VARIABLE_BYTES`].
pub(super) fn inflate(data: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    let gzip = |e: std::io::Error| DataError::Gzip {
        path: path.to_path_buf(),
        reason: format!("a compressed MAT variable: {e}"),
    };
    let mut decoder = flate2::read::ZlibDecoder::new(data);
    // The inner element's tag says how much follows: reserve that (within the limit) at once
    // instead of doubling up to it.
    let mut tag = [0u8; 8];
    decoder.read_exact(&mut tag).map_err(gzip)?;
    let declared = u64::from(u32::from_le_bytes([tag[4], tag[5], tag[6], tag[7]]));
    let mut out = Vec::with_capacity((8 + declared).min(MAX_VARIABLE_BYTES) as usize);
    out.extend_from_slice(&tag);
    decoder
        .take(MAX_VARIABLE_BYTES + 1 - 8)
        .read_to_end(&mut out)
        .map_err(gzip)?;
    if out.len() as u64 > MAX_VARIABLE_BYTES {
        return Err(bad(
            path,
            format!("a compressed variable expands beyond {MAX_VARIABLE_BYTES} bytes"),
        ));
    }
    Ok(out)
}
