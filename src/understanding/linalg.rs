//! The few dense-matrix steps training needs, over row-major `f64` slices. Products go
//! through `matrixmultiply` (compiled optimised even in debug builds, where a generic
//! linear-algebra crate would be instantiated unoptimised in this crate and run a hundred
//! times slower); the Cholesky solve is small enough to write out.

/// `Aᵀ·B` for `A` n×p and `B` n×q: p×q.
pub fn at_b(a: &[f64], b: &[f64], n: usize, p: usize, q: usize) -> Vec<f64> {
    let mut c = vec![0f64; p * q];
    assert!(a.len() >= n * p && b.len() >= n * q);
    // SAFETY: the strides describe `a` read transposed (p×n), `b` (n×q) and `c` (p×q),
    // all within the lengths asserted above.
    unsafe {
        matrixmultiply::dgemm(
            p,
            n,
            q,
            1.0,
            a.as_ptr(),
            1,
            p as isize,
            b.as_ptr(),
            q as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            q as isize,
            1,
        );
    }
    c
}

/// `A·B` for `A` n×p and `B` p×q: n×q.
pub fn a_b(a: &[f64], b: &[f64], n: usize, p: usize, q: usize) -> Vec<f64> {
    let mut c = vec![0f64; n * q];
    assert!(a.len() >= n * p && b.len() >= p * q);
    // SAFETY: row-major strides of `a` (n×p), `b` (p×q) and `c` (n×q), within the lengths
    // asserted above.
    unsafe {
        matrixmultiply::dgemm(
            n,
            p,
            q,
            1.0,
            a.as_ptr(),
            p as isize,
            1,
            b.as_ptr(),
            q as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            q as isize,
            1,
        );
    }
    c
}

/// Solves `A·X = B` for a symmetric positive definite `A` (p×p) and `B` (p×q); `None` when
/// `A` is not positive definite. Blocked, so that nearly all the work is matrix products.
pub fn cholesky_solve(mut a: Vec<f64>, b: &[f64], p: usize, q: usize) -> Option<Vec<f64>> {
    const BLOCK: usize = 64;
    assert!(a.len() >= p * p && b.len() >= p * q);
    let mut kb = 0;
    while kb < p {
        let e = (kb + BLOCK).min(p);
        let bs = e - kb;
        // The diagonal block, unblocked: its lower triangle becomes L11.
        for j in kb..e {
            let mut d = a[j * p + j];
            for k in kb..j {
                d -= a[j * p + k] * a[j * p + k];
            }
            if d <= 0.0 || !d.is_finite() {
                return None;
            }
            let d = d.sqrt();
            a[j * p + j] = d;
            for i in j + 1..e {
                let mut s = a[i * p + j];
                for k in kb..j {
                    s -= a[i * p + k] * a[j * p + k];
                }
                a[i * p + j] = s / d;
            }
        }
        if e < p {
            // M = L11⁻¹, column by column.
            let mut m = vec![0f64; bs * bs];
            for c in 0..bs {
                for i in 0..bs {
                    let mut s = if i == c { 1.0 } else { 0.0 };
                    for k in 0..i {
                        s -= a[(kb + i) * p + kb + k] * m[k * bs + c];
                    }
                    m[i * bs + c] = s / a[(kb + i) * p + kb + i];
                }
            }
            let rows = p - e;
            let mut l21 = vec![0f64; rows * bs];
            // SAFETY: A21 is rows e..p, columns kb..e of `a` (stride p); Mᵀ is `m` read
            // transposed; `l21` is rows×bs. All within their buffers.
            unsafe {
                matrixmultiply::dgemm(
                    rows,
                    bs,
                    bs,
                    1.0,
                    a.as_ptr().add(e * p + kb),
                    p as isize,
                    1,
                    m.as_ptr(),
                    1,
                    bs as isize,
                    0.0,
                    l21.as_mut_ptr(),
                    bs as isize,
                    1,
                );
            }
            for r in 0..rows {
                a[(e + r) * p + kb..(e + r) * p + e].copy_from_slice(&l21[r * bs..(r + 1) * bs]);
            }
            // SAFETY: A22 (rows and columns e..p of `a`, stride p) -= L21·L21ᵀ; `l21` is
            // a separate buffer, so nothing read is written.
            unsafe {
                matrixmultiply::dgemm(
                    rows,
                    bs,
                    rows,
                    -1.0,
                    l21.as_ptr(),
                    bs as isize,
                    1,
                    l21.as_ptr(),
                    1,
                    bs as isize,
                    1.0,
                    a.as_mut_ptr().add(e * p + e),
                    p as isize,
                    1,
                );
            }
        }
        kb = e;
    }
    let mut x = b.to_vec();
    for col in 0..q {
        // L·y = b
        for i in 0..p {
            let row = &a[i * p..i * p + i];
            let mut s = x[i * q + col];
            for (k, l) in row.iter().enumerate() {
                s -= l * x[k * q + col];
            }
            x[i * q + col] = s / a[i * p + i];
        }
        // Lᵀ·x = y
        for i in (0..p).rev() {
            let mut s = x[i * q + col];
            for k in i + 1..p {
                s -= a[k * p + i] * x[k * q + col];
            }
            x[i * q + col] = s / a[i * p + i];
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_and_the_solve_agree_with_hand_arithmetic() {
        // A = [[1,2],[3,4],[5,6]] (3×2)
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(at_b(&a, &a, 3, 2, 2), vec![35.0, 44.0, 44.0, 56.0]);
        let b = [1.0, 0.0, 0.0, 1.0];
        assert_eq!(a_b(&a, &b, 3, 2, 2), a.to_vec());
        // [[4,2],[2,3]]·x = [2,1]  →  x = [0.5, 0]
        let x = cholesky_solve(vec![4.0, 2.0, 2.0, 3.0], &[2.0, 1.0], 2, 1).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
        assert!(cholesky_solve(vec![0.0, 1.0, 1.0, 0.0], &[1.0, 1.0], 2, 1).is_none());
    }

    #[test]
    fn the_blocked_solve_matches_the_system_it_solved() {
        // A = MᵀM + I is positive definite; size past one block.
        let p = 150;
        let m: Vec<f64> = (0..p * p)
            .map(|i| ((i * 7919) % 101) as f64 / 101.0 - 0.5)
            .collect();
        let mut a = at_b(&m, &m, p, p, p);
        for d in 0..p {
            a[d * p + d] += 1.0;
        }
        let b: Vec<f64> = (0..p * 2).map(|i| (i % 13) as f64).collect();
        let x = cholesky_solve(a.clone(), &b, p, 2).unwrap();
        let back = a_b(&a, &x, p, p, 2);
        let worst = back
            .iter()
            .zip(&b)
            .map(|(u, v)| (u - v).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-8, "residual {worst}");
    }
}
