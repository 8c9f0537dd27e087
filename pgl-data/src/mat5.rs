//! A reader for the numeric arrays of a MATLAB level-5 MAT-file (the format of `save -v7`
//! and of SVHN's cropped digits), little-endian, zlib-compressed variables included.
//!
//! A file is a 128-byte header (text starting `MATLAB 5.0`, version `0x0100`, byte-order mark
//! `IM`) and a list of data elements, each an 8-byte tag (type, byte count; or a 4-byte tag
//! with up to 4 bytes inline) and its bytes padded to 8. A variable is an `miMATRIX` element
//! (flags, dimensions, name, real part), possibly wrapped in an `miCOMPRESSED` element (a zlib
//! stream holding the `miMATRIX` element). Arrays are column-major. Only real, non-sparse
//! numeric arrays are read; other variables are skipped by name.
//!
//! Allocation is bounded: a file is at most [`MAX_FILE_BYTES`], an element's byte count is
//! checked against the bytes left before anything is copied, a compressed variable may not
//! expand beyond [`MAX_VARIABLE_BYTES`], and an array's stored bytes must be exactly its
//! dimensions' count times its type's width before any value is converted (arrays widened to `f64` are
//! limited to [`MAX_WIDENED_VALUES`]). Version 7.3 files (HDF5) are refused with the way out.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use crate::error::DataError;

mod element;
mod write;

use element::{Element, inflate};
pub use write::write_arrays;

/// Largest decompressed variable accepted: 4 GiB (SVHN's `extra_32x32.mat` holds 1.6 GB).
pub const MAX_VARIABLE_BYTES: u64 = 4 << 30;

/// Most values of a non-`uint8` array accepted (they are widened to `f64`: 2 GiB at most).
pub const MAX_WIDENED_VALUES: usize = 1 << 28;

/// Largest MAT-file read: 4 GiB (SVHN's `extra_32x32.mat` is 1.33 GB).
pub const MAX_FILE_BYTES: u64 = 4 << 30;
const _: () = assert!(
    MAX_FILE_BYTES >= 1_400_000_000,
    "SVHN's extra_32x32.mat (1.33 GB) must fit"
);

const HEADER: usize = 128;
const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
/// `mxSPARSE_CLASS`, the only array class without a dense real part.
const MX_SPARSE: u32 = 5;
/// Array flag: the array has an imaginary part.
const COMPLEX: u32 = 0x0800;

/// One numeric variable of a MAT-file: its name, dimensions (MATLAB's order, column-major
/// data) and values as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MatArray {
    /// The variable's name.
    pub name: String,
    /// Its dimensions, first one varying fastest.
    pub dims: Vec<usize>,
    /// Its values as stored in the file.
    pub data: MatData,
}

/// The stored values of a [`MatArray`].
#[derive(Debug, Clone, PartialEq)]
pub enum MatData {
    /// Bytes (`uint8` storage): images.
    U8(Vec<u8>),
    /// Any other numeric storage, widened to `f64`.
    F64(Vec<f64>),
}

impl MatData {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            MatData::U8(v) => v.len(),
            MatData::F64(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `index` as `f64`.
    pub fn get(&self, index: usize) -> f64 {
        match self {
            MatData::U8(v) => f64::from(v[index]),
            MatData::F64(v) => v[index],
        }
    }
}

fn bad(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::BadMat {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Reads the variables named in `wanted` from the MAT-file bytes `bytes` (read from `path`),
/// in file order; a wanted variable that is missing is an error naming it. A compressed
/// variable's bytes are inflated once and its values moved out of that buffer (a `uint8`
/// array is not copied again).
pub fn read_arrays(bytes: &[u8], path: &Path, wanted: &[&str]) -> Result<Vec<MatArray>, DataError> {
    check_header(bytes, path)?;
    let mut found = Vec::new();
    let mut pos = HEADER;
    while pos < bytes.len() && found.len() < wanted.len() {
        let element = Element::at(bytes, pos, path)?;
        pos = element.next;
        let array = match element.kind {
            MI_MATRIX => matrix(element.data, path, wanted)?.map(|m| {
                let data = values(m.kind, Cow::Borrowed(element.data), m.values.clone());
                m.into_array(data)
            }),
            MI_COMPRESSED => {
                let inflated = inflate(element.data, path)?;
                let inner = Element::at(&inflated, 0, path)?;
                if inner.kind != MI_MATRIX {
                    continue;
                }
                let start = inner.data.as_ptr() as usize - inflated.as_ptr() as usize;
                let Some(m) = matrix(inner.data, path, wanted)? else {
                    continue;
                };
                let range = start + m.values.start..start + m.values.end;
                let data = values(m.kind, Cow::Owned(inflated), range);
                Some(m.into_array(data))
            }
            _ => None,
        };
        found.extend(array);
    }
    for name in wanted {
        if !found.iter().any(|a| a.name == *name) {
            return Err(bad(
                path,
                format!("no variable `{name}` (expected {})", wanted.join(", ")),
            ));
        }
    }
    Ok(found)
}

/// Reads a MAT-file of at most [`MAX_FILE_BYTES`] bytes (SVHN's largest is 1.33 GB), or an
/// error naming it.
pub fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |reason: String| DataError::Io {
        path: path.to_path_buf(),
        reason,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| io(e.to_string()))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(io(format!(
            "file is larger than the {MAX_FILE_BYTES}-byte limit for MAT-files"
        )));
    }
    std::fs::read(path).map_err(|e| io(e.to_string()))
}

fn check_header(bytes: &[u8], path: &Path) -> Result<(), DataError> {
    if bytes.len() < HEADER || !bytes.starts_with(b"MATLAB") {
        return Err(bad(
            path,
            "not a MATLAB 5 MAT-file (no `MATLAB` header of 128 bytes)",
        ));
    }
    if bytes.starts_with(b"MATLAB 7.3") || bytes[124..126] == [0x00, 0x02] {
        return Err(bad(
            path,
            "a MATLAB 7.3 (HDF5) MAT-file; re-save it with `save -v7` (or use the file as downloaded)",
        ));
    }
    match &bytes[126..128] {
        b"IM" => Ok(()),
        b"MI" => Err(bad(
            path,
            "a big-endian MAT-file; only little-endian files are read",
        )),
        other => Err(bad(
            path,
            format!("byte-order mark {other:?}, expected `IM`"),
        )),
    }
}

/// A wanted array found in an `miMATRIX` element: everything but its values, which are at
/// `values` (a range of the element's bytes) stored as MAT type `kind`.
struct Found {
    name: String,
    dims: Vec<usize>,
    kind: u32,
    values: Range<usize>,
}

impl Found {
    fn into_array(self, data: MatData) -> MatArray {
        MatArray {
            name: self.name,
            dims: self.dims,
            data,
        }
    }
}

/// Bytes of one value of MAT type `kind`, `None` for a type that is not numeric.
fn width(kind: u32) -> Option<usize> {
    match kind {
        MI_INT8 | MI_UINT8 => Some(1),
        MI_INT16 | MI_UINT16 => Some(2),
        MI_INT32 | MI_UINT32 | MI_SINGLE => Some(4),
        MI_DOUBLE => Some(8),
        _ => None,
    }
}

/// The array in an `miMATRIX` element's bytes, if its name is wanted: its values are checked
/// against its dimensions (count and byte length) before anything is converted.
fn matrix(bytes: &[u8], path: &Path, wanted: &[&str]) -> Result<Option<Found>, DataError> {
    let flags = Element::at(bytes, 0, path)?;
    let dims = Element::at(bytes, flags.next, path)?;
    let name = Element::at(bytes, dims.next, path)?;
    let name_text = String::from_utf8_lossy(name.data).into_owned();
    if !wanted.contains(&name_text.as_str()) {
        return Ok(None);
    }
    let what = |reason: String| bad(path, format!("variable `{name_text}`: {reason}"));
    if flags.kind != MI_UINT32 || flags.data.len() < 4 {
        return Err(what("array flags missing".to_string()));
    }
    let flag_word =
        u32::from_le_bytes([flags.data[0], flags.data[1], flags.data[2], flags.data[3]]);
    if flag_word & 0xff == MX_SPARSE || flag_word & COMPLEX != 0 {
        return Err(what(
            "sparse or complex; expected a real dense array".to_string(),
        ));
    }
    if dims.kind != MI_INT32 || dims.data.is_empty() || dims.data.len() % 4 != 0 {
        return Err(what("dimensions missing".to_string()));
    }
    let dims: Vec<usize> = dims
        .data
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]).max(0) as usize)
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| what(format!("dimensions {dims:?} overflow")))?;
    let real = Element::at(bytes, name.next, path)?;
    let width = width(real.kind).ok_or_else(|| {
        what(format!(
            "stored as MAT type {}, not a numeric type",
            real.kind
        ))
    })?;
    if count.checked_mul(width) != Some(real.data.len()) {
        return Err(what(format!(
            "dimensions {dims:?} mean {count} values ({width} bytes each) but {} bytes are stored",
            real.data.len()
        )));
    }
    if real.kind != MI_UINT8 && count > MAX_WIDENED_VALUES {
        return Err(what(format!(
            "{count} values; at most {MAX_WIDENED_VALUES} are read from a non-uint8 array"
        )));
    }
    let start = real.data.as_ptr() as usize - bytes.as_ptr() as usize;
    Ok(Some(Found {
        name: name_text,
        dims,
        kind: real.kind,
        values: start..start + real.data.len(),
    }))
}

/// The values at `range` of `buffer`, of numeric MAT type `kind` (checked by [`matrix`]):
/// `uint8` values as they are — moved out of an owned buffer (an inflated variable) without a
/// second copy —, any other type widened to `f64`.
fn values(kind: u32, buffer: Cow<'_, [u8]>, range: Range<usize>) -> MatData {
    fn widen<const N: usize>(bytes: &[u8], f: fn([u8; N]) -> f64) -> MatData {
        MatData::F64(
            bytes
                .chunks_exact(N)
                .map(|c| f(c.try_into().expect("chunks of N")))
                .collect(),
        )
    }
    let bytes = &buffer[range.clone()];
    match kind {
        MI_UINT8 => MatData::U8(match buffer {
            Cow::Borrowed(all) => all[range].to_vec(),
            Cow::Owned(mut all) => {
                all.truncate(range.end);
                all.drain(..range.start);
                all
            }
        }),
        MI_INT8 => widen::<1>(bytes, |b| f64::from(i8::from_le_bytes(b))),
        MI_INT16 => widen::<2>(bytes, |b| f64::from(i16::from_le_bytes(b))),
        MI_UINT16 => widen::<2>(bytes, |b| f64::from(u16::from_le_bytes(b))),
        MI_INT32 => widen::<4>(bytes, |b| f64::from(i32::from_le_bytes(b))),
        MI_UINT32 => widen::<4>(bytes, |b| f64::from(u32::from_le_bytes(b))),
        MI_SINGLE => widen::<4>(bytes, |b| f64::from(f32::from_le_bytes(b))),
        // MI_DOUBLE: `matrix` admits no other type (see `width`).
        _ => widen::<8>(bytes, f64::from_le_bytes),
    }
}
