//! The writer of level-5 MAT-files ([`write_arrays`]): the inverse of the reader, for tests and
//! for making small SVHN-format files.

use super::{HEADER, MI_COMPRESSED, MI_DOUBLE, MI_INT8, MI_INT32, MI_MATRIX, MI_UINT8, MI_UINT32};
use super::{MatArray, MatData};

/// Writes a little-endian level-5 MAT-file holding `arrays` (each compressed when
/// `compress`): for tests and for making small SVHN-format files.
pub fn write_arrays(arrays: &[MatArray], compress: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER);
    let mut text = b"MATLAB 5.0 MAT-file, written by pgl-data".to_vec();
    text.resize(116, b' ');
    out.extend_from_slice(&text);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&0x0100u16.to_le_bytes());
    out.extend_from_slice(b"IM");
    for array in arrays {
        let matrix = matrix_element(array);
        if compress {
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut encoder, &matrix).expect("in memory");
            let packed = encoder.finish().expect("in memory");
            out.extend_from_slice(&MI_COMPRESSED.to_le_bytes());
            out.extend_from_slice(&(packed.len() as u32).to_le_bytes());
            out.extend_from_slice(&packed);
        } else {
            out.extend_from_slice(&matrix);
        }
    }
    out
}

/// An element of type `kind` holding `data`: the 8-byte tag, the bytes, zeros up to 8.
fn element(kind: u32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + data.len() + 7);
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(8) * 8, 0);
    out
}

/// A name element; names of up to 4 bytes in the small format, as MATLAB writes them.
fn name_element(name: &[u8]) -> Vec<u8> {
    if name.len() > 4 {
        return element(MI_INT8, name);
    }
    let mut out = ((name.len() as u32) << 16 | MI_INT8).to_le_bytes().to_vec();
    out.extend_from_slice(name);
    out.resize(8, 0);
    out
}

/// The `miMATRIX` element of `array`: flags, dimensions, name, real part.
fn matrix_element(array: &MatArray) -> Vec<u8> {
    let (class, stored) = match &array.data {
        MatData::U8(v) => (9u32, element(MI_UINT8, v)), // mxUINT8_CLASS
        MatData::F64(v) => {
            let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            (6, element(MI_DOUBLE, &bytes)) // mxDOUBLE_CLASS
        }
    };
    let flags: Vec<u8> = [class, 0].iter().flat_map(|w| w.to_le_bytes()).collect();
    let dims: Vec<u8> = array
        .dims
        .iter()
        .flat_map(|&d| (d as i32).to_le_bytes())
        .collect();
    let mut body = element(MI_UINT32, &flags);
    body.extend(element(MI_INT32, &dims));
    body.extend(name_element(array.name.as_bytes()));
    body.extend(stored);
    element(MI_MATRIX, &body)
}
