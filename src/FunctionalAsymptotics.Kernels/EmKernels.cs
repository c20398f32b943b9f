using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FunctionalAsymptotics.Kernels;

/// <summary>
/// The E-step of EM for the equal-weight, identity-covariance Gaussian mixture of the paper's Section 6.3
/// (pre-training MLE of the centres), fused with the log-likelihood and the M-step sums, SIMD over samples.
/// </summary>
/// <remarks>
/// Samples are stored in <em>row blocks</em> of <see cref="BlockWidth"/> = 8: sample <c>s</c>, coordinate
/// <c>r</c> sits at <c>((s / 8) d + r) 8 + s % 8</c>, so one <c>Vector512</c> load reads coordinate
/// <c>r</c> of 8 samples. The padding lanes of the last block are ignored but must hold finite values
/// (a fresh buffer holds zeros). Centres are centre-major:
/// centre <c>i</c>, coordinate <c>r</c> at <c>i d + r</c>.
/// </remarks>
public static class EmKernels
{
    /// <summary>Samples per row block (the lanes of a <c>Vector512&lt;double&gt;</c>).</summary>
    public const int BlockWidth = 8;

    /// <summary>Length of the row-block buffer for <paramref name="rows"/> samples of dimension <paramref name="d"/>.</summary>
    public static int BlockedLength(int rows, int d) => (rows + BlockWidth - 1) / BlockWidth * BlockWidth * d;

    /// <summary>
    /// Writes sample <paramref name="s"/> (<paramref name="x"/>, length d) into the row-block buffer.
    /// </summary>
    public static void PackRow(ReadOnlySpan<double> x, int s, Span<double> blocked)
    {
        int d = x.Length;
        int b = s / BlockWidth, lane = s % BlockWidth;
        int offset = b * d * BlockWidth + lane;
        if (offset + (d - 1) * BlockWidth >= blocked.Length) throw new ArgumentException("blocked is too short for sample s", nameof(blocked));
        for (int r = 0; r < d; r++) blocked[offset + r * BlockWidth] = x[r];
    }

    /// <summary>
    /// One fused E-step over <paramref name="rows"/> samples at the centres <c>u_1..u_K</c>
    /// (<c>K = centres.Length / d</c>): responsibilities
    /// <c>gamma_si = softmax_i(u_i^T z_s - |u_i|^2 / 2)</c>, then
    /// <c>mass[i] = sum_s gamma_si</c> and <c>sums[i d + r] = sum_s gamma_si z_sr</c> (overwritten), the
    /// M-step being <c>u_i = sums_i / mass_i</c>. Returns
    /// <c>sum_s log sum_i exp(u_i^T z_s - |u_i|^2 / 2 - |z_s|^2 / 2)</c>, the log-likelihood of the equal-weight
    /// mixture <c>(1/K) sum_i N(u_i, I_d)</c> without its constant <c>-m (log K + (d/2) log 2 pi)</c>.
    /// </summary>
    public static double EStep(ReadOnlySpan<double> blocked, int rows, int d, ReadOnlySpan<double> centres, Span<double> sums, Span<double> mass)
    {
        int k = Validate(blocked, rows, d, centres, sums, mass);
        if (k == 4) return EStep4(blocked, rows, d, centres, sums, mass);
        Span<double> half = stackalloc double[k];
        for (int i = 0; i < k; i++)
        {
            double a = 0.0;
            for (int r = 0; r < d; r++) a += centres[i * d + r] * centres[i * d + r];
            half[i] = 0.5 * a;
        }
        var accArray = new Vector512<double>[k * d];
        var massArray = new Vector512<double>[k];
        var scoreArray = new Vector512<double>[k];
        var centreArray = new Vector512<double>[k * d];
        for (int j = 0; j < k * d; j++) centreArray[j] = Vector512.Create(centres[(j % k) * d + j / k]);
        // Unchecked element refs: the loops below stay inside these arrays (sizes fixed above).
        ref var acc = ref MemoryMarshal.GetArrayDataReference(accArray);
        ref var massAcc = ref MemoryMarshal.GetArrayDataReference(massArray);
        ref var score = ref MemoryMarshal.GetArrayDataReference(scoreArray);
        ref var u = ref MemoryMarshal.GetArrayDataReference(centreArray);
        var ll = Vector512<double>.Zero;
        ref double z0 = ref MemoryMarshal.GetReference(blocked);
        int blocks = (rows + BlockWidth - 1) / BlockWidth;
        for (int b = 0; b < blocks; b++)
        {
            nuint baseIndex = (nuint)(b * d * BlockWidth);
            for (int i = 0; i < k; i++) Unsafe.Add(ref score, i) = Vector512.Create(-half[i]);
            var xx = Vector512<double>.Zero;
            for (int r = 0; r < d; r++)
            {
                var z = Vector512.LoadUnsafe(ref z0, baseIndex + (nuint)(r * BlockWidth));
                xx = Vector512.FusedMultiplyAdd(z, z, xx);
                // Centres broadcast coordinate-major: u_i[r] at r k + i.
                for (int i = 0; i < k; i++)
                    Unsafe.Add(ref score, i) = Vector512.FusedMultiplyAdd(z, Unsafe.Add(ref u, r * k + i), Unsafe.Add(ref score, i));
            }
            var mx = score;
            for (int i = 1; i < k; i++) mx = Vector512.Max(mx, Unsafe.Add(ref score, i));
            var se = Vector512<double>.Zero;
            for (int i = 0; i < k; i++)
            {
                var e = Vector512.Exp(Unsafe.Add(ref score, i) - mx);
                Unsafe.Add(ref score, i) = e;
                se += e;
            }
            ll += LogLikelihoodAndWeight(mx, se, xx, rows - b * BlockWidth, out var inv);
            for (int i = 0; i < k; i++)
            {
                var g = Unsafe.Add(ref score, i) * inv;
                Unsafe.Add(ref score, i) = g;
                Unsafe.Add(ref massAcc, i) += g;
            }
            // Sums coordinate-major during the pass (r k + i), centre-major on output.
            for (int r = 0; r < d; r++)
            {
                var z = Vector512.LoadUnsafe(ref z0, baseIndex + (nuint)(r * BlockWidth));
                for (int i = 0; i < k; i++)
                    Unsafe.Add(ref acc, r * k + i) = Vector512.FusedMultiplyAdd(Unsafe.Add(ref score, i), z, Unsafe.Add(ref acc, r * k + i));
            }
        }
        for (int i = 0; i < k; i++)
            for (int r = 0; r < d; r++) sums[i * d + r] = Vector512.Sum(accArray[r * k + i]);
        for (int i = 0; i < k; i++) mass[i] = Vector512.Sum(massArray[i]);
        return Vector512.Sum(ll);
    }

    /// <summary><see cref="EStep"/> for K = 4 (the paper's Figures 3-4): scores, weights and masses in registers.</summary>
    private static double EStep4(ReadOnlySpan<double> blocked, int rows, int d, ReadOnlySpan<double> centres, Span<double> sums, Span<double> mass)
    {
        double h0 = 0, h1 = 0, h2 = 0, h3 = 0;
        for (int r = 0; r < d; r++)
        {
            h0 += centres[r] * centres[r];
            h1 += centres[d + r] * centres[d + r];
            h2 += centres[2 * d + r] * centres[2 * d + r];
            h3 += centres[3 * d + r] * centres[3 * d + r];
        }
        var accArray = new Vector512<double>[4 * d];
        var centreArray = new Vector512<double>[4 * d];
        for (int j = 0; j < 4 * d; j++) centreArray[j] = Vector512.Create(centres[(j % 4) * d + j / 4]);
        ref var acc = ref MemoryMarshal.GetArrayDataReference(accArray);
        ref var u = ref MemoryMarshal.GetArrayDataReference(centreArray);
        ref double z0 = ref MemoryMarshal.GetReference(blocked);
        Vector512<double> m0 = default, m1 = default, m2 = default, m3 = default, ll = default;
        var c0 = Vector512.Create(-0.5 * h0);
        var c1 = Vector512.Create(-0.5 * h1);
        var c2 = Vector512.Create(-0.5 * h2);
        var c3 = Vector512.Create(-0.5 * h3);
        int blocks = (rows + BlockWidth - 1) / BlockWidth;
        int b = 0;
        // Two blocks' scores at once (ten independent FMA chains instead of five: the chains' latency, not the FMA
        // units, bounded one block at a time); each lane's operations and the order of the sums are unchanged.
        for (; b + 1 < blocks; b += 2)
        {
            nuint baseA = (nuint)(b * d * BlockWidth), baseB = baseA + (nuint)(d * BlockWidth);
            Vector512<double> s0 = c0, s1 = c1, s2 = c2, s3 = c3, xx = default;
            Vector512<double> t0 = c0, t1 = c1, t2 = c2, t3 = c3, yy = default;
            for (int r = 0; r < d; r++)
            {
                var z = Vector512.LoadUnsafe(ref z0, baseA + (nuint)(r * BlockWidth));
                var y = Vector512.LoadUnsafe(ref z0, baseB + (nuint)(r * BlockWidth));
                ref var ur = ref Unsafe.Add(ref u, 4 * r);
                xx = Vector512.FusedMultiplyAdd(z, z, xx);
                yy = Vector512.FusedMultiplyAdd(y, y, yy);
                s0 = Vector512.FusedMultiplyAdd(z, ur, s0);
                t0 = Vector512.FusedMultiplyAdd(y, ur, t0);
                s1 = Vector512.FusedMultiplyAdd(z, Unsafe.Add(ref ur, 1), s1);
                t1 = Vector512.FusedMultiplyAdd(y, Unsafe.Add(ref ur, 1), t1);
                s2 = Vector512.FusedMultiplyAdd(z, Unsafe.Add(ref ur, 2), s2);
                t2 = Vector512.FusedMultiplyAdd(y, Unsafe.Add(ref ur, 2), t2);
                s3 = Vector512.FusedMultiplyAdd(z, Unsafe.Add(ref ur, 3), s3);
                t3 = Vector512.FusedMultiplyAdd(y, Unsafe.Add(ref ur, 3), t3);
            }
            ll += Weights4(s0, s1, s2, s3, xx, rows - b * BlockWidth, out var g0, out var g1, out var g2, out var g3);
            ll += Weights4(t0, t1, t2, t3, yy, rows - (b + 1) * BlockWidth, out var f0, out var f1, out var f2, out var f3);
            m0 += g0; m1 += g1; m2 += g2; m3 += g3;
            m0 += f0; m1 += f1; m2 += f2; m3 += f3;
            // Both blocks' M-step terms per accumulator load and store (block b's first: the order of each sum holds).
            for (int r = 0; r < d; r++)
            {
                var z = Vector512.LoadUnsafe(ref z0, baseA + (nuint)(r * BlockWidth));
                var y = Vector512.LoadUnsafe(ref z0, baseB + (nuint)(r * BlockWidth));
                ref var ar = ref Unsafe.Add(ref acc, 4 * r);
                ar = Vector512.FusedMultiplyAdd(f0, y, Vector512.FusedMultiplyAdd(g0, z, ar));
                Unsafe.Add(ref ar, 1) = Vector512.FusedMultiplyAdd(f1, y, Vector512.FusedMultiplyAdd(g1, z, Unsafe.Add(ref ar, 1)));
                Unsafe.Add(ref ar, 2) = Vector512.FusedMultiplyAdd(f2, y, Vector512.FusedMultiplyAdd(g2, z, Unsafe.Add(ref ar, 2)));
                Unsafe.Add(ref ar, 3) = Vector512.FusedMultiplyAdd(f3, y, Vector512.FusedMultiplyAdd(g3, z, Unsafe.Add(ref ar, 3)));
            }
        }
        for (; b < blocks; b++)
        {
            nuint baseIndex = (nuint)(b * d * BlockWidth);
            Vector512<double> s0 = c0, s1 = c1, s2 = c2, s3 = c3, xx = default;
            for (int r = 0; r < d; r++)
            {
                var z = Vector512.LoadUnsafe(ref z0, baseIndex + (nuint)(r * BlockWidth));
                ref var ur = ref Unsafe.Add(ref u, 4 * r);
                xx = Vector512.FusedMultiplyAdd(z, z, xx);
                s0 = Vector512.FusedMultiplyAdd(z, ur, s0);
                s1 = Vector512.FusedMultiplyAdd(z, Unsafe.Add(ref ur, 1), s1);
                s2 = Vector512.FusedMultiplyAdd(z, Unsafe.Add(ref ur, 2), s2);
                s3 = Vector512.FusedMultiplyAdd(z, Unsafe.Add(ref ur, 3), s3);
            }
            ll += Weights4(s0, s1, s2, s3, xx, rows - b * BlockWidth, out var g0, out var g1, out var g2, out var g3);
            m0 += g0; m1 += g1; m2 += g2; m3 += g3;
            for (int r = 0; r < d; r++)
            {
                var z = Vector512.LoadUnsafe(ref z0, baseIndex + (nuint)(r * BlockWidth));
                ref var ar = ref Unsafe.Add(ref acc, 4 * r);
                ar = Vector512.FusedMultiplyAdd(g0, z, ar);
                Unsafe.Add(ref ar, 1) = Vector512.FusedMultiplyAdd(g1, z, Unsafe.Add(ref ar, 1));
                Unsafe.Add(ref ar, 2) = Vector512.FusedMultiplyAdd(g2, z, Unsafe.Add(ref ar, 2));
                Unsafe.Add(ref ar, 3) = Vector512.FusedMultiplyAdd(g3, z, Unsafe.Add(ref ar, 3));
            }
        }
        for (int i = 0; i < 4; i++)
            for (int r = 0; r < d; r++) sums[i * d + r] = Vector512.Sum(accArray[r * 4 + i]);
        mass[0] = Vector512.Sum(m0); mass[1] = Vector512.Sum(m1); mass[2] = Vector512.Sum(m2); mass[3] = Vector512.Sum(m3);
        return Vector512.Sum(ll);
    }

    /// <summary>The responsibilities <c>g_i = e_i / se</c> of one K = 4 block from its scores and <c>|z|^2</c> (zero on
    /// padding lanes); returns the block's log-likelihood terms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Weights4(Vector512<double> s0, Vector512<double> s1, Vector512<double> s2, Vector512<double> s3,
        Vector512<double> xx, int remaining, out Vector512<double> g0, out Vector512<double> g1, out Vector512<double> g2, out Vector512<double> g3)
    {
        var mx = Vector512.Max(Vector512.Max(s0, s1), Vector512.Max(s2, s3));
        var e0 = Vector512.Exp(s0 - mx);
        var e1 = Vector512.Exp(s1 - mx);
        var e2 = Vector512.Exp(s2 - mx);
        var e3 = Vector512.Exp(s3 - mx);
        var se = (e0 + e1) + (e2 + e3);
        var term = LogLikelihoodAndWeight(mx, se, xx, remaining, out var inv);
        g0 = e0 * inv;
        g1 = e1 * inv;
        g2 = e2 * inv;
        g3 = e3 * inv;
        return term;
    }

    /// <summary>Plain-loop reference of <see cref="EStep"/> (same layout, <c>Math.Exp</c>, sequential sums).</summary>
    public static double EStepReference(ReadOnlySpan<double> blocked, int rows, int d, ReadOnlySpan<double> centres, Span<double> sums, Span<double> mass)
    {
        int k = Validate(blocked, rows, d, centres, sums, mass);
        sums.Clear();
        mass.Clear();
        var x = new double[d];
        var logs = new double[k];
        double total = 0.0;
        for (int s = 0; s < rows; s++)
        {
            int offset = s / BlockWidth * d * BlockWidth + s % BlockWidth;
            double xx = 0.0;
            for (int r = 0; r < d; r++) { x[r] = blocked[offset + r * BlockWidth]; xx += x[r] * x[r]; }
            double mx = double.NegativeInfinity;
            for (int i = 0; i < k; i++)
            {
                double a = 0.0, h = 0.0;
                for (int r = 0; r < d; r++) { a += centres[i * d + r] * x[r]; h += centres[i * d + r] * centres[i * d + r]; }
                logs[i] = a - 0.5 * h;
                if (logs[i] > mx) mx = logs[i];
            }
            double se = 0.0;
            for (int i = 0; i < k; i++) { logs[i] = Math.Exp(logs[i] - mx); se += logs[i]; }
            total += mx + Math.Log(se) - 0.5 * xx;
            for (int i = 0; i < k; i++)
            {
                double g = logs[i] / se;
                mass[i] += g;
                for (int r = 0; r < d; r++) sums[i * d + r] += g * x[r];
            }
        }
        return total;
    }

    /// <summary>
    /// Per lane of a block: the log-likelihood term <c>mx + log(se) - |z|^2 / 2</c> and the weight scale
    /// <c>1 / se</c> (responsibilities <c>e_i / se</c>), both zero on the padding lanes (<c>lane &gt;= remaining</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> LogLikelihoodAndWeight(Vector512<double> mx, Vector512<double> se, Vector512<double> xx, int remaining, out Vector512<double> inv)
    {
        var term = mx + Vector512.Log(se) - Vector512.Create(0.5) * xx;
        inv = Vector512<double>.One / se;
        if (remaining < BlockWidth)
        {
            var mask = LaneMask(remaining);
            term = Vector512.ConditionalSelect(mask, term, Vector512<double>.Zero);
            inv = Vector512.ConditionalSelect(mask, inv, Vector512<double>.Zero);
        }
        return term;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> LaneMask(int valid) =>
        Vector512.LessThan(Vector512.Create(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0), Vector512.Create((double)valid));

    private static int Validate(ReadOnlySpan<double> blocked, int rows, int d, ReadOnlySpan<double> centres, Span<double> sums, Span<double> mass)
    {
        if (d < 1) throw new ArgumentOutOfRangeException(nameof(d), d, "d must be >= 1");
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows must be >= 1");
        if (centres.Length == 0 || centres.Length % d != 0) throw new ArgumentException($"centres must hold K * d elements (d = {d}), got {centres.Length}", nameof(centres));
        int k = centres.Length / d;
        if (blocked.Length < BlockedLength(rows, d)) throw new ArgumentException($"blocked must hold BlockedLength(rows, d) = {BlockedLength(rows, d)} elements, got {blocked.Length}", nameof(blocked));
        if (sums.Length != k * d) throw new ArgumentException($"sums must hold K * d = {k * d} elements, got {sums.Length}", nameof(sums));
        if (mass.Length != k) throw new ArgumentException($"mass must hold K = {k} elements, got {mass.Length}", nameof(mass));
        return k;
    }
}
