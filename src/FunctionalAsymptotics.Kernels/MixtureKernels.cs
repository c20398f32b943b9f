using System.Numerics.Tensors;

namespace FunctionalAsymptotics.Kernels;

/// <summary>
/// Per-sample accumulation kernels for the Gaussian-mixture case study (paper Section 6.3): Gram
/// matrices <c>sum_s v_s v_s^T</c> and cross moments <c>sum_s a_s b_s^T</c> over a batch, stored
/// row-major. SIMD over rows with TensorPrimitives; each kernel has a plain-loop reference.
/// </summary>
public static class MixtureKernels
{
    /// <summary>
    /// Rank-one update of the upper triangle (diagonal included) of the row-major <c>n x n</c>
    /// matrix <paramref name="gram"/>: <c>gram[i, j] += v_i v_j</c> for <c>j &gt;= i</c>.
    /// </summary>
    public static void AccumulateGramUpper(ReadOnlySpan<double> v, Span<double> gram)
    {
        int n = v.Length;
        if (gram.Length != n * n) throw new ArgumentException("gram must have v.Length^2 elements", nameof(gram));
        for (int i = 0; i < n; i++)
        {
            double vi = v[i];
            if (vi == 0.0) continue;
            var row = gram.Slice(i * n + i, n - i);
            TensorPrimitives.MultiplyAdd(v[i..], vi, row, row);
        }
    }

    /// <summary>Plain-loop reference of <see cref="AccumulateGramUpper"/>.</summary>
    public static void AccumulateGramUpperReference(ReadOnlySpan<double> v, Span<double> gram)
    {
        int n = v.Length;
        if (gram.Length != n * n) throw new ArgumentException("gram must have v.Length^2 elements", nameof(gram));
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++)
                gram[i * n + j] += v[i] * v[j];
    }

    /// <summary>
    /// Rank-one update of the row-major <c>a.Length x b.Length</c> matrix <paramref name="cross"/>:
    /// <c>cross[i, j] += a_i b_j</c>.
    /// </summary>
    public static void AccumulateOuter(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> cross)
    {
        int m = b.Length;
        if (cross.Length != a.Length * m) throw new ArgumentException("cross must have a.Length * b.Length elements", nameof(cross));
        for (int i = 0; i < a.Length; i++)
        {
            double ai = a[i];
            if (ai == 0.0) continue;
            var row = cross.Slice(i * m, m);
            TensorPrimitives.MultiplyAdd(b, ai, row, row);
        }
    }

    /// <summary>Plain-loop reference of <see cref="AccumulateOuter"/>.</summary>
    public static void AccumulateOuterReference(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> cross)
    {
        int m = b.Length;
        if (cross.Length != a.Length * m) throw new ArgumentException("cross must have a.Length * b.Length elements", nameof(cross));
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < m; j++)
                cross[i * m + j] += a[i] * b[j];
    }

    /// <summary>
    /// Responsibilities <c>softmax(scores)</c> in place, stabilised by the maximum (eq. (6.3) once the
    /// scores <c>s_i = &lt;P u_i, P x&gt; - |P u_i|^2 / 2</c> are formed).
    /// </summary>
    public static void SoftmaxInPlace(Span<double> scores)
    {
        double m = TensorPrimitives.Max<double>(scores);
        TensorPrimitives.Subtract(scores, m, scores);
        TensorPrimitives.Exp(scores, scores);
        double s = TensorPrimitives.Sum<double>(scores);
        TensorPrimitives.Multiply(scores, 1.0 / s, scores);
    }

    /// <summary>Plain-loop reference of <see cref="SoftmaxInPlace"/>.</summary>
    public static void SoftmaxInPlaceReference(Span<double> scores)
    {
        double m = double.NegativeInfinity;
        foreach (var x in scores) if (x > m) m = x;
        double s = 0.0;
        for (int i = 0; i < scores.Length; i++) { scores[i] = Math.Exp(scores[i] - m); s += scores[i]; }
        for (int i = 0; i < scores.Length; i++) scores[i] /= s;
    }
}
