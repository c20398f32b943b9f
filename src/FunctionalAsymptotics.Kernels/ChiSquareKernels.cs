using System.Runtime.Intrinsics;

namespace FunctionalAsymptotics.Kernels;

/// <summary>
/// Accumulation of weighted squares, the inner loop of sampling <c>sum_j w_j chi^2_{k_j}(lambda_j)</c>:
/// <c>acc[i] += w (z[i] + mu)^2</c>, with <c>mu = sqrt(lambda)</c> for the first normal of a noncentral term
/// and 0 otherwise. No fused multiply-add: each operation is rounded as in the reference, so the SIMD and
/// reference results are bit-identical.
/// </summary>
public static class ChiSquareKernels
{
    private static void CheckShapes(ReadOnlySpan<double> z, Span<double> accumulator)
    {
        if (z.Length != accumulator.Length)
            throw new ArgumentException("accumulator: length must equal z's length", nameof(accumulator));
    }

    /// <summary><c>accumulator[i] += weight * ((z[i] + shift) * (z[i] + shift))</c>, Vector512 over the elements.</summary>
    public static void WeightedSquaresSimd(ReadOnlySpan<double> z, double shift, double weight, Span<double> accumulator)
    {
        CheckShapes(z, accumulator);
        int n = z.Length;
        int i = 0;
        var vs = Vector512.Create(shift);
        var vw = Vector512.Create(weight);
        for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
        {
            var t = Vector512.LoadUnsafe(in z[i]) + vs;
            var a = Vector512.LoadUnsafe(ref accumulator[i]);
            (a + vw * (t * t)).StoreUnsafe(ref accumulator[i]);
        }
        for (; i < n; i++)
        {
            double t = z[i] + shift;
            accumulator[i] += weight * (t * t);
        }
    }

    /// <summary>Plain-loop reference of <see cref="WeightedSquaresSimd"/> (same operations, same bits).</summary>
    public static void WeightedSquaresReference(ReadOnlySpan<double> z, double shift, double weight, Span<double> accumulator)
    {
        CheckShapes(z, accumulator);
        for (int i = 0; i < z.Length; i++)
        {
            double t = z[i] + shift;
            accumulator[i] += weight * (t * t);
        }
    }
}
