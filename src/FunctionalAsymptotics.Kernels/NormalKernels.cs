using System.Numerics.Tensors;

namespace FunctionalAsymptotics.Kernels;

/// <summary>
/// Standard normal deviates from uniforms by the Box–Muller transform (Box and Muller, 1958):
/// for independent uniforms <c>u1, u2</c> on (0, 1) and <c>r = sqrt(-2 log u1)</c>,
/// <c>z1 = r cos(2 pi u2)</c> and <c>z2 = r sin(2 pi u2)</c> are independent N(0, 1).
/// </summary>
public static class NormalKernels
{
    private const double TwoPi = 2.0 * Math.PI;

    private static void CheckShapes(ReadOnlySpan<double> u1, ReadOnlySpan<double> u2, Span<double> z1, Span<double> z2)
    {
        int n = u1.Length;
        if (u2.Length != n) throw new ArgumentException("u2: length must equal u1's length", nameof(u2));
        if (z1.Length != n) throw new ArgumentException("z1: length must equal u1's length", nameof(z1));
        if (z2.Length != n) throw new ArgumentException("z2: length must equal u1's length", nameof(z2));
    }

    /// <summary>
    /// Vectorized Box–Muller with TensorPrimitives (Log, Sqrt, SinCos over spans): writes
    /// <c>z1[i] = r_i cos(2 pi u2[i])</c> and <c>z2[i] = r_i sin(2 pi u2[i])</c>, <c>r_i = sqrt(-2 log u1[i])</c>.
    /// <paramref name="scratch"/> needs <c>2 u1.Length</c> elements; outputs must not overlap inputs.
    /// Agrees with <see cref="BoxMullerReference"/> to a few ulps (the vectorized log and sin/cos are not
    /// correctly rounded), so results are reproducible on one machine but not bit-portable across ISAs.
    /// </summary>
    public static void BoxMullerSimd(ReadOnlySpan<double> u1, ReadOnlySpan<double> u2, Span<double> z1, Span<double> z2, Span<double> scratch)
    {
        CheckShapes(u1, u2, z1, z2);
        int n = u1.Length;
        if (scratch.Length < 2 * n) throw new ArgumentException("scratch: needs 2 * u1.Length elements", nameof(scratch));
        var r = scratch[..n];
        var angle = scratch.Slice(n, n);
        TensorPrimitives.Log(u1, r);
        TensorPrimitives.Multiply(r, -2.0, r);
        TensorPrimitives.Sqrt(r, r);
        TensorPrimitives.Multiply(u2, TwoPi, angle);
        TensorPrimitives.SinCos(angle, z2, z1);
        TensorPrimitives.Multiply(z1, r, z1);
        TensorPrimitives.Multiply(z2, r, z2);
    }

    /// <summary>Plain-loop reference of <see cref="BoxMullerSimd"/> with <see cref="Math"/> functions.</summary>
    public static void BoxMullerReference(ReadOnlySpan<double> u1, ReadOnlySpan<double> u2, Span<double> z1, Span<double> z2)
    {
        CheckShapes(u1, u2, z1, z2);
        for (int i = 0; i < u1.Length; i++)
        {
            double r = Math.Sqrt(-2.0 * Math.Log(u1[i]));
            var (s, c) = Math.SinCos(TwoPi * u2[i]);
            z1[i] = r * c;
            z2[i] = r * s;
        }
    }
}
