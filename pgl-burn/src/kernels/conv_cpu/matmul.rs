//! The single-threaded matrix product the convolutions are made of ([`gemm_into`], on the
//! `gemm` crate) over strided views ([`MatrixView`]), so that transposes cost no copy.

/// A row-major matrix view for [`gemm_into`]: element `(i, j)` is at `i·row_stride + j·col_stride`.
#[derive(Clone, Copy)]
pub(super) struct MatrixView<'a> {
    data: &'a [f32],
    row_stride: isize,
    col_stride: isize,
}

impl<'a> MatrixView<'a> {
    pub(super) fn row_major(data: &'a [f32], cols: usize) -> Self {
        Self {
            data,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }

    pub(super) fn transposed(
        data: &'a [f32],
        rows_of_original: usize,
        cols_of_original: usize,
    ) -> Self {
        debug_assert_eq!(data.len(), rows_of_original * cols_of_original);
        Self {
            data,
            row_stride: 1,
            col_stride: cols_of_original as isize,
        }
    }
}

/// `dst[m×n] (+)= lhs[m×k] · rhs[k×n]`, single-threaded; `dst` is row-major. With `accumulate`
/// the product is added to `dst`, otherwise it replaces it.
pub(super) fn gemm_into(
    dst: &mut [f32],
    lhs: MatrixView<'_>,
    rhs: MatrixView<'_>,
    [m, n, k]: [usize; 3],
    accumulate: bool,
) {
    assert_eq!(dst.len(), m * n, "matmul: destination size");
    let reach = |view: &MatrixView<'_>, rows: usize, cols: usize| {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) as isize * view.row_stride + (cols - 1) as isize * view.col_stride + 1
        }
    };
    assert!(
        reach(&lhs, m, k) as usize <= lhs.data.len(),
        "matmul: lhs size"
    );
    assert!(
        reach(&rhs, k, n) as usize <= rhs.data.len(),
        "matmul: rhs size"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    // SAFETY: the asserts above bound every element gemm reads (lhs, rhs) or writes (dst, a
    // row-major m×n matrix of exactly dst.len() elements); the three slices do not overlap
    // because dst is borrowed mutably.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride,
            lhs.row_stride,
            rhs.data.as_ptr(),
            rhs.col_stride,
            rhs.row_stride,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
