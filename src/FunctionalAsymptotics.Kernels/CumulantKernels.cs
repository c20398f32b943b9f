using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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

    /// <summary>
    /// Real and imaginary parts of <c>K(sRe + i t)</c>, as <see cref="EvaluateAt"/>, in one fused pass over the
    /// terms (Vector512: eight terms per step, with <see cref="Vector512.Log(Vector512{double})"/> and the
    /// vectorised <see cref="Atan2(Vector512{double}, Vector512{double})"/>), no scratch. This is the integrand's
    /// hot loop in Imhof's inversion integral; the separate TensorPrimitives passes of <see cref="EvaluateAt"/>
    /// (whose double Atan2 runs one element at a time) cost several times more.
    /// </summary>
    public static void EvaluateOnContour(
        ReadOnlySpan<double> w, ReadOnlySpan<double> halfDof, ReadOnlySpan<double> noncentrality,
        double sRe, double t, bool hasNoncentrality, out double re, out double im)
    {
        int n = w.Length;
        if (halfDof.Length != n || noncentrality.Length != n)
            throw new ArgumentException("all term arrays must have the same length", nameof(halfDof));
        const int width = 8;
        var vRe = Vector512<double>.Zero;
        var vIm = Vector512<double>.Zero;
        var vQc = Vector512<double>.Zero;   // sum lambda_j w_j / m_j
        var vQw2 = Vector512<double>.Zero;  // sum lambda_j w_j^2 / m_j
        var one = Vector512.Create(1.0);
        var minusTwoS = Vector512.Create(-2.0 * sRe);
        var minusTwoT = Vector512.Create(-2.0 * t);
        int j = 0;
        // Without AVX-512 hardware Vector512 is emulated: the scalar loop below is faster then.
        int simdEnd = Vector512.IsHardwareAccelerated ? n - width : -1;
        for (; j <= simdEnd; j += width)
        {
            var vw = Vector512.Create(w.Slice(j, width));
            var vh = Vector512.Create(halfDof.Slice(j, width));
            var a = one + minusTwoS * vw;             // 1 - 2 w_j sRe
            var b = minusTwoT * vw;                   // -2 w_j t
            var m = a * a + b * b;
            vRe += vh * Vector512.Log(m);
            vIm += vh * Atan2(b, a);
            if (hasNoncentrality)
            {
                var q = Vector512.Create(noncentrality.Slice(j, width)) / m;
                vQc += q * vw;
                vQw2 += q * (vw * vw);
            }
        }
        double sumRe = Vector512.Sum(vRe), sumIm = Vector512.Sum(vIm), qc = Vector512.Sum(vQc), qw2 = Vector512.Sum(vQw2);
        for (; j < n; j++)
        {
            double a = 1.0 - 2.0 * sRe * w[j];
            double b = -2.0 * t * w[j];
            double m = a * a + b * b;
            sumRe += halfDof[j] * Math.Log(m);
            sumIm += halfDof[j] * Math.Atan2(b, a);
            if (hasNoncentrality)
            {
                double q = noncentrality[j] / m;
                qc += q * w[j];
                qw2 += q * w[j] * w[j];
            }
        }
        // K = sum -(k/2) log(a + i b) + lambda w s (a - i b) / m, s = sRe + i t; see Evaluate.
        re = -0.5 * sumRe;
        im = -sumIm;
        if (hasNoncentrality)
        {
            re += sRe * qc - 2.0 * (sRe * sRe + t * t) * qw2;
            im += t * qc;
        }
    }

    /// <summary>
    /// <c>sum_j log |1 - 2 w_j s|</c> and <c>sum_j arg(1 - 2 w_j s)</c> (principal arguments, summed exactly) at
    /// <c>s = sRe + i t</c>: the central part of <c>K(s)</c> for terms sharing one number of degrees of freedom
    /// <c>k</c>, <c>K = -(k/2) (logModulus + i argument)</c>. One complex product per term instead of a logarithm
    /// and an arctangent: eight running products (Vector512 lanes), each renormalised to a power of two after
    /// every factor (the exponents summed as integers, so nothing over- or underflows), and the times each lane's
    /// argument passes the negative real axis counted (a product of two factors in the closed upper half-plane
    /// that lands in the lower one has wrapped by 2 pi; two in the open lower half-plane landing in the closed upper
    /// one, by -2 pi), so the arguments' sum is exact, not reduced modulo 2 pi. One logarithm and one arctangent
    /// per lane at the end. A negative zero imaginary part counts as +0 throughout (principal argument pi on the
    /// negative real axis). The rounding error is that of the sum of logarithms: a relative error of about
    /// <c>n eps</c> in the product, an absolute one of <c>n eps</c> in the logarithm.
    /// </summary>
    public static void LogProductOnContour(ReadOnlySpan<double> w, double sRe, double t, out double logModulus, out double argument)
    {
        int n = w.Length;
        const int width = 8;
        if (!Vector512.IsHardwareAccelerated)
        {
            double sumLog = 0.0, sumArg = 0.0;
            for (int i = 0; i < n; i++)
            {
                double zr = 1.0 - 2.0 * sRe * w[i], zi = -2.0 * t * w[i] + 0.0;
                sumLog += 0.5 * Math.Log(zr * zr + zi * zi);
                sumArg += Math.Atan2(zi, zr);
            }
            logModulus = sumLog;
            argument = sumArg;
            return;
        }
        var one = Vector512.Create(1.0);
        var minusTwoS = Vector512.Create(-2.0 * sRe);
        var minusTwoT = Vector512.Create(-2.0 * t);
        // Two independent sets of eight running products (the chain's latency, not its arithmetic, is the limit):
        // mantissas (r, i), binary exponents e, winding numbers v; a lane's argument is atan2(i, r) + 2 pi v.
        var ar = one; var ai = Vector512<double>.Zero; var av = Vector512<double>.Zero; var ae = Vector512<long>.Zero;
        var br = one; var bi = Vector512<double>.Zero; var bv = Vector512<double>.Zero; var be = Vector512<long>.Zero;
        int j = 0;
        for (; j <= n - 2 * width; j += 2 * width)
        {
            var w1 = Vector512.Create(w.Slice(j, width));
            var w2 = Vector512.Create(w.Slice(j + width, width));
            MultiplyInto(ref ar, ref ai, ref av, ref ae, one + minusTwoS * w1, minusTwoT * w1);
            MultiplyInto(ref br, ref bi, ref bv, ref be, one + minusTwoS * w2, minusTwoT * w2);
        }
        if (j <= n - width)
        {
            var w1 = Vector512.Create(w.Slice(j, width));
            MultiplyInto(ref ar, ref ai, ref av, ref ae, one + minusTwoS * w1, minusTwoT * w1);
            j += width;
        }
        if (j < n)
        {
            // The rest padded with w = 0, whose factor 1 - 0 i changes nothing.
            Span<double> padded = stackalloc double[width];
            padded.Clear();
            w[j..].CopyTo(padded);
            var w1 = Vector512.Create((ReadOnlySpan<double>)padded);
            MultiplyInto(ref br, ref bi, ref bv, ref be, one + minusTwoS * w1, minusTwoT * w1);
        }
        MultiplyInto(ref ar, ref ai, ref av, ref ae, br, bi);
        av += bv;
        ae += be;
        logModulus = 0.5 * Vector512.Sum(Vector512.Log(ar * ar + ai * ai)) + Vector512.Sum(ae) * Ln2;
        argument = Vector512.Sum(Atan2(ai + Vector512<double>.Zero, ar)) + 2.0 * Math.PI * Vector512.Sum(av);
    }

    /// <summary>
    /// <see cref="LogProductOnContour"/> at eight points at once, <c>s_p = sRe[p] + i t[p]</c> (the lanes are the
    /// points, the loop runs over the terms): <c>logModulus[p] = sum_j log |1 - 2 w_j s_p|</c>,
    /// <c>argument[p] = sum_j arg(1 - 2 w_j s_p)</c>, with the same renormalised products and winding counts.
    /// All spans have length 8 (pad unused points with t = 0 and sRe = 0, whose results are then 0).
    /// </summary>
    public static void LogProductOnContourBatch(ReadOnlySpan<double> w, ReadOnlySpan<double> sRe, ReadOnlySpan<double> t,
        Span<double> logModulus, Span<double> argument)
    {
        const int width = 8;
        if (sRe.Length != width || t.Length != width || logModulus.Length != width || argument.Length != width)
            throw new ArgumentException("sRe, t, logModulus and argument must have 8 elements", nameof(sRe));
        if (!Vector512.IsHardwareAccelerated)
        {
            for (int p = 0; p < width; p++)
            {
                LogProductOnContour(w, sRe[p], t[p], out double lm, out double angle);
                logModulus[p] = lm;
                argument[p] = angle;
            }
            return;
        }
        int n = w.Length;
        var one = Vector512.Create(1.0);
        var minusTwoS = Vector512.Create(sRe) * Vector512.Create(-2.0);
        var minusTwoT = Vector512.Create(t) * Vector512.Create(-2.0);
        var ar = one; var ai = Vector512<double>.Zero; var av = Vector512<double>.Zero; var ae = Vector512<long>.Zero;
        var br = one; var bi = Vector512<double>.Zero; var bv = Vector512<double>.Zero; var be = Vector512<long>.Zero;
        int j = 0;
        for (; j <= n - 2; j += 2)
        {
            var w1 = Vector512.Create(w[j]);
            var w2 = Vector512.Create(w[j + 1]);
            MultiplyInto(ref ar, ref ai, ref av, ref ae, one + minusTwoS * w1, minusTwoT * w1);
            MultiplyInto(ref br, ref bi, ref bv, ref be, one + minusTwoS * w2, minusTwoT * w2);
        }
        if (j < n)
        {
            var w1 = Vector512.Create(w[j]);
            MultiplyInto(ref ar, ref ai, ref av, ref ae, one + minusTwoS * w1, minusTwoT * w1);
        }
        MultiplyInto(ref ar, ref ai, ref av, ref ae, br, bi);
        av += bv;
        ae += be;
        (Vector512.Create(0.5) * Vector512.Log(ar * ar + ai * ai) + Vector512.ConvertToDouble(ae) * Vector512.Create(Ln2)).CopyTo(logModulus);
        (Atan2(ai + Vector512<double>.Zero, ar) + Vector512.Create(2.0 * Math.PI) * av).CopyTo(argument);
    }

    /// <summary>(pr + i pi) *= (zr + i zi), the winding counted and the product renormalised (see
    /// <see cref="LogProductOnContour"/>), eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyInto(ref Vector512<double> pr, ref Vector512<double> pi, ref Vector512<double> winding,
        ref Vector512<long> exponent, Vector512<double> zr, Vector512<double> zi)
    {
        var qr = pr * zr - pi * zi;
        var qi = pr * zi + pi * zr;
        var piUp = Vector512.GreaterThanOrEqual(pi, Vector512<double>.Zero);
        var ziUp = Vector512.GreaterThanOrEqual(zi, Vector512<double>.Zero);
        var qiUp = Vector512.GreaterThanOrEqual(qi, Vector512<double>.Zero);
        var one = Vector512.Create(1.0);
        winding += ((piUp & ziUp & ~qiUp) & one) - ((~piUp & ~ziUp & qiUp) & one);
        // Scale by 2^(1023 - e), e the biased exponent of max(|qr|, |qi|): the larger part in [1, 2).
        var biased = Vector512.ShiftRightLogical(Vector512.Max(Vector512.Abs(qr), Vector512.Abs(qi)).AsUInt64(), 52) & Vector512.Create(0x7FFUL);
        var scale = Vector512.ShiftLeft(Vector512.Create(2046UL) - biased, 52).AsDouble();
        pr = qr * scale;
        pi = qi * scale;
        exponent += biased.AsInt64() - Vector512.Create(1023L);
    }

    private const double Ln2 = 0.69314718055994530941723212145818;

    // Cephes atan (Moshier): atan(x) = x + x z P(z) / Q(z), z = x^2, for |x| <= 0.66.
    private const double P0 = -8.750608600031904122785E-1, P1 = -1.615753718733365076637E1, P2 = -7.500855792314704667340E1,
        P3 = -1.228866684490136173410E2, P4 = -6.485021904942025371773E1;
    private const double Q0 = 2.485846490142306297962E1, Q1 = 1.650270098316988542046E2, Q2 = 4.328810604912902668951E2,
        Q3 = 4.853903996359136964868E2, Q4 = 1.945506571482613964425E2;
    private const double MoreBits = 6.123233995736765886130E-17;

    /// <summary>
    /// <c>atan2(y, x)</c> elementwise, to about two ulps (Cephes' rational approximation of <c>atan</c> on
    /// [0, 1] after reducing by octant): the angle of <c>x + i y</c> in (-pi, pi]. Finite inputs, not both zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Atan2(Vector512<double> y, Vector512<double> x)
    {
        var ax = Vector512.Abs(x);
        var ay = Vector512.Abs(y);
        var swap = Vector512.GreaterThan(ay, ax);
        var mn = Vector512.Min(ax, ay);
        var mx = Vector512.Max(ax, ay);
        // r = mn / mx in [0, 1]; above 0.66 reduce by pi/4: u = (r - 1) / (r + 1) = (mn - mx) / (mn + mx). One division.
        var big = Vector512.GreaterThan(mn, Vector512.Create(0.66) * mx);
        var u = Vector512.ConditionalSelect(big, mn - mx, mn) / Vector512.ConditionalSelect(big, mn + mx, mx);
        var z = u * u;
        var p = (((Vector512.Create(P0) * z + Vector512.Create(P1)) * z + Vector512.Create(P2)) * z + Vector512.Create(P3)) * z + Vector512.Create(P4);
        var q = ((((z + Vector512.Create(Q0)) * z + Vector512.Create(Q1)) * z + Vector512.Create(Q2)) * z + Vector512.Create(Q3)) * z + Vector512.Create(Q4);
        var at = u + u * (z * p / q);
        at += Vector512.ConditionalSelect(big, Vector512.Create(Math.PI / 4 + 0.5 * MoreBits), Vector512<double>.Zero);
        // Octant: atan(ay / ax) = pi/2 - atan(ax / ay); left half-plane: pi - angle; lower half: -angle.
        at = Vector512.ConditionalSelect(swap, Vector512.Create(Math.PI / 2) - at + Vector512.Create(MoreBits), at);
        var negativeX = Vector512.LessThan(x, Vector512<double>.Zero);
        at = Vector512.ConditionalSelect(negativeX, Vector512.Create(Math.PI) - at + Vector512.Create(2 * MoreBits), at);
        var negativeY = Vector512.LessThan(y, Vector512<double>.Zero);
        return Vector512.ConditionalSelect(negativeY, -at, at);
    }

    /// <summary><c>destination[i] = atan2(y[i], x[i])</c> by <see cref="Atan2(Vector512{double}, Vector512{double})"/>
    /// (Math.Atan2 on the remainder, and everywhere when Vector512 is not hardware-accelerated).</summary>
    public static void Atan2(ReadOnlySpan<double> y, ReadOnlySpan<double> x, Span<double> destination)
    {
        if (x.Length != y.Length || destination.Length != y.Length)
            throw new ArgumentException("y, x and destination must have the same length", nameof(destination));
        int i = 0;
        for (; Vector512.IsHardwareAccelerated && i <= y.Length - 8; i += 8)
            Atan2(Vector512.Create(y.Slice(i, 8)), Vector512.Create(x.Slice(i, 8))).CopyTo(destination.Slice(i, 8));
        for (; i < y.Length; i++) destination[i] = Math.Atan2(y[i], x[i]);
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
