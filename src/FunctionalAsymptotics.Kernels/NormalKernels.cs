using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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

    // log(m) = 2 atanh(f), f = (m - 1)/(m + 1), |f| <= 0.1716: 2 f sum_k f^(2k) / (2k + 1), k <= 10.
    private static readonly double[] LogSeries = [1.0, 1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21];
    private const double Ln2 = 0.6931471805599453;
    private const double Sqrt2 = 1.4142135623730951;
    // Taylor coefficients of sin and cos on |a| <= pi/4 (remainder below 1e-16 relative).
    private const double S1 = -1.0 / 6, S2 = 1.0 / 120, S3 = -1.0 / 5040, S4 = 1.0 / 362880, S5 = -1.0 / 39916800,
        S6 = 1.0 / 6227020800, S7 = -1.0 / 1307674368000, S8 = 1.0 / 355687428096000;
    private const double C1 = -1.0 / 2, C2 = 1.0 / 24, C3 = -1.0 / 720, C4 = 1.0 / 40320, C5 = -1.0 / 3628800,
        C6 = 1.0 / 479001600, C7 = -1.0 / 87178291200, C8 = 1.0 / 20922789888000, C9 = -1.0 / 6402373705728000;

    /// <summary>
    /// Natural log of positive normal doubles, lane-wise: <c>x = 2^e m</c> with <c>m</c> in
    /// [sqrt(1/2), sqrt(2)), <c>log x = e log 2 + 2 atanh((m - 1)/(m + 1))</c> by its odd series.
    /// Accurate to a few ulps; not for zero, subnormals, infinities or NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> LogPositive(Vector512<double> x)
    {
        var bits = x.AsUInt64();
        var e = (bits >>> 52).AsInt64() - Vector512.Create(1023L);
        var m = Vector512.AsDouble((bits & Vector512.Create(0x000FFFFFFFFFFFFFUL)) | Vector512.Create(0x3FF0000000000000UL));
        var big = Vector512.GreaterThan(m, Vector512.Create(Sqrt2));
        m = Vector512.ConditionalSelect(big, m * Vector512.Create(0.5), m);
        e -= big.AsInt64();
        var f = (m - Vector512<double>.One) / (m + Vector512<double>.One);
        var f2 = f * f;
        var p = Vector512.Create(LogSeries[10]);
        for (int k = 9; k >= 0; k--) p = p * f2 + Vector512.Create(LogSeries[k]);
        return Vector512.ConvertToDouble(e) * Vector512.Create(Ln2) + (f + f) * p;
    }

    /// <summary>
    /// <c>sin(2 pi u)</c> and <c>cos(2 pi u)</c>, lane-wise, for finite <c>u</c> of moderate size: reduction
    /// to the nearest quarter turn (exact, <c>r = 4u - round(4u)</c>), Taylor polynomials on
    /// <c>|a| = |r pi/2| &lt;= pi/4</c>, and a quadrant swap. Accurate to a few ulps of 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCosTwoPi(Vector512<double> u, out Vector512<double> sin, out Vector512<double> cos)
    {
        var x4 = u * Vector512.Create(4.0);
        var q = Vector512.Round(x4);
        var a = (x4 - q) * Vector512.Create(Math.PI / 2);
        var a2 = a * a;
        var s = Vector512.Create(S8);
        s = s * a2 + Vector512.Create(S7);
        s = s * a2 + Vector512.Create(S6);
        s = s * a2 + Vector512.Create(S5);
        s = s * a2 + Vector512.Create(S4);
        s = s * a2 + Vector512.Create(S3);
        s = s * a2 + Vector512.Create(S2);
        s = s * a2 + Vector512.Create(S1);
        s = a + a * (a2 * s);
        var c = Vector512.Create(C9);
        c = c * a2 + Vector512.Create(C8);
        c = c * a2 + Vector512.Create(C7);
        c = c * a2 + Vector512.Create(C6);
        c = c * a2 + Vector512.Create(C5);
        c = c * a2 + Vector512.Create(C4);
        c = c * a2 + Vector512.Create(C3);
        c = c * a2 + Vector512.Create(C2);
        c = c * a2 + Vector512.Create(C1);
        c = Vector512<double>.One + a2 * c;
        var qi = Vector512.ConvertToInt64(q).AsUInt64();
        var swap = Vector512.Equals(qi & Vector512<ulong>.One, Vector512<ulong>.One).AsDouble();
        var sv = Vector512.ConditionalSelect(swap, c, s);
        var cv = Vector512.ConditionalSelect(swap, s, c);
        var two = Vector512.Create(2UL);
        sin = Vector512.AsDouble(sv.AsUInt64() ^ ((qi & two) << 62));
        cos = Vector512.AsDouble(cv.AsUInt64() ^ (((qi + Vector512<ulong>.One) & two) << 62));
    }

    /// <summary>
    /// Vectorized Box–Muller in one pass over <see cref="Vector512{T}"/> lanes (<see cref="LogPositive"/>,
    /// square root, <see cref="SinCosTwoPi"/>): writes <c>z1[i] = r_i cos(2 pi u2[i])</c> and
    /// <c>z2[i] = r_i sin(2 pi u2[i])</c>, <c>r_i = sqrt(-2 log u1[i])</c>, for <c>u1</c> in (0, 1) (normal doubles).
    /// Agrees with <see cref="BoxMullerReference"/> to a few ulps (its log and sin/cos are polynomial
    /// approximations, not correctly rounded). Built only from correctly rounded IEEE operations (add, multiply,
    /// divide, square root, round, conversions; no fused multiply-add), so the bits do not depend on whether
    /// Vector512 is hardware-accelerated or emulated.
    /// </summary>
    public static void BoxMullerSimd(ReadOnlySpan<double> u1, ReadOnlySpan<double> u2, Span<double> z1, Span<double> z2)
    {
        CheckShapes(u1, u2, z1, z2);
        int n = u1.Length;
        int i = 0;
        var minusTwo = Vector512.Create(-2.0);
        for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
        {
            var r = Vector512.Sqrt(minusTwo * LogPositive(Vector512.LoadUnsafe(in u1[i])));
            SinCosTwoPi(Vector512.LoadUnsafe(in u2[i]), out var sin, out var cos);
            (r * cos).StoreUnsafe(ref z1[i]);
            (r * sin).StoreUnsafe(ref z2[i]);
        }
        if (i < n)
        {
            Span<double> a = stackalloc double[Vector512<double>.Count];
            Span<double> b = stackalloc double[Vector512<double>.Count];
            a.Fill(0.5);
            b.Fill(0.5);
            u1[i..].CopyTo(a);
            u2[i..].CopyTo(b);
            var r = Vector512.Sqrt(minusTwo * LogPositive(Vector512.Create<double>(a)));
            SinCosTwoPi(Vector512.Create<double>(b), out var sin, out var cos);
            Span<double> c = stackalloc double[Vector512<double>.Count];
            (r * cos).CopyTo(c);
            c[..(n - i)].CopyTo(z1[i..]);
            (r * sin).CopyTo(c);
            c[..(n - i)].CopyTo(z2[i..]);
        }
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
