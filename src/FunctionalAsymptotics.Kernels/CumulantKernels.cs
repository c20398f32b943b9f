using System.Numerics.Tensors;

namespace FunctionalAsymptotics.Kernels;

/// <summary>
/// The cumulant generating function of a weighted sum of independent noncentral chi-squares,
/// <c>K(s) = sum_j [ -(k_j/2) log(1 - 2 w_j s) + lambda_j w_j s / (1 - 2 w_j s) ]</c>, evaluated on the
/// vertical line <c>s = c + i t</c>. This is the integrand's hot loop in Imhof's inversion integral.
/// The caller precomputes, for the line's abscissa <c>c</c>, <c>a_j = 1 - 2 w_j c</c> (positive inside
/// the strip of convergence) and <c>wc_j = w_j c</c>.
/// </summary>
public static class CumulantKernels
{
    /// <summary>
    /// Real and imaginary parts of <c>K(c + i t)</c> (SIMD over the terms with TensorPrimitives).
    /// <paramref name="scratch"/> needs at least <c>3 * w.Length</c> elements.
    /// <paramref name="hasNoncentrality"/> = false skips the noncentral part (all <c>lambda_j = 0</c>).
    /// </summary>
    public static void Evaluate(
        ReadOnlySpan<double> w, ReadOnlySpan<double> halfDof, ReadOnlySpan<double> noncentrality,
        ReadOnlySpan<double> a, ReadOnlySpan<double> wc, ReadOnlySpan<double> wSquared,
        double c, double t, bool hasNoncentrality, Span<double> scratch, out double re, out double im)
    {
        int n = w.Length;
        if (halfDof.Length != n || noncentrality.Length != n || a.Length != n || wc.Length != n || wSquared.Length != n)
            throw new ArgumentException("all term arrays must have the same length", nameof(halfDof));
        if (scratch.Length < 3 * n)
            throw new ArgumentException("scratch must hold at least 3 * w.Length elements", nameof(scratch));
        var b = scratch[..n];
        var m = scratch.Slice(n, n);
        var tmp = scratch.Slice(2 * n, n);

        TensorPrimitives.Multiply(w, -2.0 * t, b);               // b_j = -2 w_j t
        TensorPrimitives.Multiply(a, a, m);                       // m_j = a_j^2
        TensorPrimitives.MultiplyAdd(b, b, m, m);                 // m_j = a_j^2 + b_j^2
        TensorPrimitives.Log(m, tmp);
        re = -0.5 * TensorPrimitives.Dot(halfDof, tmp);
        TensorPrimitives.Atan2(b, a, tmp);
        im = -TensorPrimitives.Dot(halfDof, tmp);
        if (hasNoncentrality)
        {
            TensorPrimitives.Divide(noncentrality, m, tmp);       // q_j = lambda_j / m_j
            double s2 = c * c + t * t;
            re += TensorPrimitives.Dot(tmp, wc) - 2.0 * s2 * TensorPrimitives.Dot(tmp, wSquared);
            im += t * TensorPrimitives.Dot(tmp, w);
        }
    }

    /// <summary>
    /// Real and imaginary parts of <c>K(sRe + i t)</c> for any complex <c>s</c> with <c>t &gt; 0</c> or
    /// <c>sRe</c> inside the strip: the per-term <c>a_j = 1 - 2 w_j sRe</c> and <c>w_j sRe</c> are formed here
    /// (for contours whose real part moves with <c>t</c>). <paramref name="scratch"/> needs <c>5 * w.Length</c>.
    /// </summary>
    public static void EvaluateAt(
        ReadOnlySpan<double> w, ReadOnlySpan<double> halfDof, ReadOnlySpan<double> noncentrality,
        ReadOnlySpan<double> wSquared, double sRe, double t, bool hasNoncentrality, Span<double> scratch,
        out double re, out double im)
    {
        int n = w.Length;
        if (scratch.Length < 5 * n)
            throw new ArgumentException("scratch must hold at least 5 * w.Length elements", nameof(scratch));
        var a = scratch.Slice(3 * n, n);
        var wc = scratch.Slice(4 * n, n);
        TensorPrimitives.Multiply(w, sRe, wc);                    // wc_j = w_j sRe
        TensorPrimitives.Multiply(wc, -2.0, a);
        TensorPrimitives.Add(a, 1.0, a);                          // a_j = 1 - 2 w_j sRe
        Evaluate(w, halfDof, noncentrality, a, wc, wSquared, sRe, t, hasNoncentrality, scratch[..(3 * n)], out re, out im);
    }

    /// <summary>The plain-loop reference of <see cref="Evaluate"/> (same formula, scalar Math calls).</summary>
    public static void EvaluateReference(
        ReadOnlySpan<double> w, ReadOnlySpan<double> halfDof, ReadOnlySpan<double> noncentrality,
        double c, double t, out double re, out double im)
    {
        re = 0.0;
        im = 0.0;
        for (int j = 0; j < w.Length; j++)
        {
            double aj = 1.0 - 2.0 * w[j] * c;
            double bj = -2.0 * w[j] * t;
            double mj = aj * aj + bj * bj;
            re += -0.5 * halfDof[j] * Math.Log(mj);
            im += -halfDof[j] * Math.Atan2(bj, aj);
            // lambda w s / (1 - 2 w s) with 1 - 2 w s = a + i b
            double sr = w[j] * c, si = w[j] * t;
            re += noncentrality[j] * (sr * aj + si * bj) / mj;
            im += noncentrality[j] * (si * aj - sr * bj) / mj;
        }
    }
}
