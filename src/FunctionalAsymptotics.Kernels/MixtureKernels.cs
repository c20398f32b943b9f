using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Numerics;
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
    /// <summary>
    /// Blocked Gram update over a batch: <c>gram[i, j] += sum_s x[s, i] x[s, j]</c> for <c>j &gt;= i</c>
    /// (upper triangle; the strict lower triangle is neither read into the result nor written),
    /// <paramref name="x"/> row-major <c>rows x n</c>, <paramref name="gram"/> row-major <c>n x n</c>.
    /// Each entry is one chain of fused multiply-adds in the order <c>s = 0, 1, ...</c> onto its old value
    /// (<c>g = fma(x[s, i], x[s, j], g)</c>, one rounding per term), so the bits equal
    /// <see cref="AccumulateGramUpperBlockReference"/>'s. Register tiles of 4 rows <c>i</c> by three
    /// <c>Vector512&lt;double&gt;</c> chunks of <c>j</c> (twelve independent accumulators; eight, the fewest that cover
    /// the FMA latency on two FMA units, in the two-chunk tiles of the remainder) stay in registers across blocks of <see cref="GramRowBlock"/> samples, whose
    /// panel of <c>x</c> stays in cache while every tile passes over it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateGramUpperBlock(ReadOnlySpan<double> x, int rows, int n, Span<double> gram)
    {
        ValidateGram(x.Length, rows, n, gram.Length);
        if (rows == 0) return;
        GramRange(ref MemoryMarshal.GetReference(x), rows, n, gram, 0, n);
    }

    /// <summary>
    /// <see cref="AccumulateGramUpperBlock"/> on up to <paramref name="threads"/> threads, for large <c>n</c>: the rows
    /// <c>i</c> of the result are cut into <see cref="GramParts"/> fixed ranges of about equal work (aligned to the
    /// 4-row tiles), a range per task. The cut depends on <c>n</c> only and each entry is still one thread's chain
    /// in the order <c>s = 0, 1, ...</c>, so the bits equal the single-threaded kernel's for any thread count.
    /// </summary>
    public static void AccumulateGramUpperBlockParallel(double[] x, int rows, int n, double[] gram, int threads)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(gram);
        ValidateGram(x.Length, rows, n, gram.Length);
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be >= 1");
        if (rows == 0) return;
        var cuts = GramCuts(n);
        System.Threading.Tasks.Parallel.For(0, GramParts, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = threads },
            part => GramRange(ref MemoryMarshal.GetArrayDataReference(x), rows, n, gram, cuts[part], cuts[part + 1]));
    }

    /// <summary>Samples per cache block of <see cref="AccumulateGramUpperBlock"/>.</summary>
    public const int GramRowBlock = 128;

    /// <summary>Fixed number of row ranges of <see cref="AccumulateGramUpperBlockParallel"/>.</summary>
    public const int GramParts = 8;

    private static void ValidateGram(int xLength, int rows, int n, int gramLength)
    {
        if (rows < 0 || n < 0) throw new ArgumentException("rows and n must be >= 0", nameof(rows));
        if (xLength < (long)rows * n) throw new ArgumentException("x must hold rows * n elements", "x");
        if (gramLength != (long)n * n) throw new ArgumentException("gram must have n^2 elements", "gram");
    }

    /// <summary>Row cuts <c>0 = c_0 &lt;= ... &lt;= c_P = n</c>, multiples of 4 inside, each range holding about
    /// <c>1/P</c> of the upper triangle's entries.</summary>
    private static int[] GramCuts(int n)
    {
        var cuts = new int[GramParts + 1];
        double total = 0.5 * n * (n + 1.0);
        int i = 0;
        for (int p = 1; p < GramParts; p++)
        {
            // entries in rows [0, i): i n - i (i - 1) / 2
            while (i < n && i * (double)n - 0.5 * i * (i - 1.0) < total * p / GramParts) i++;
            cuts[p] = Math.Max(cuts[p - 1], Math.Min(n, (i + 2) / 4 * 4));
        }
        cuts[GramParts] = n;
        return cuts;
    }

    /// <summary>The entries <c>(i, j &gt;= i)</c>, <c>iLo &lt;= i &lt; iHi</c>, of the Gram update (<c>iLo</c> a multiple of 4
    /// unless it is the last range's start).</summary>
    private static void GramRange(ref double x, int rows, int n, Span<double> gram, int iLo, int iHi)
    {
        const int w = 8;
        for (int s0 = 0; s0 < rows; s0 += GramRowBlock)
        {
            int kc = Math.Min(GramRowBlock, rows - s0);
            ref double xb = ref Unsafe.Add(ref x, (nint)s0 * n);
            int i0 = iLo;
            for (; i0 + 4 <= iHi; i0 += 4)
            {
                // Column chunks aligned to the vector width (from the chunk holding column i0): the lanes left of
                // the diagonal are computed and dropped by StoreUpper.
                // Chunks of three vectors, the rest as chunks of two (eight accumulators still cover the FMA
                // latency); a single vector chunk (four chains: half speed) only when one is left in all.
                int c = i0 / w * w;
                int q = (n - c) / w;
                int threes = q % 3 == 1 && q >= 4 ? (q - 4) / 3 : q / 3;
                for (int t = 0; t < threes; t++, c += 3 * w) GramTile4<ThreeChunks>(ref xb, kc, n, gram, i0, c);
                for (; c + 2 * w <= n; c += 2 * w) GramTile4<TwoChunks>(ref xb, kc, n, gram, i0, c);
                for (; c + w <= n; c += w) GramTile4<OneChunk>(ref xb, kc, n, gram, i0, c);
                if (c < n) GramEdge4(ref xb, kc, n, gram, i0, c);
            }
            for (int i = i0; i < iHi; i++)
                for (int j = i; j < n; j++) gram[i * n + j] = GramEntry(ref xb, kc, n, gram[i * n + j], i, j);
        }
    }

    /// <summary>The last <c>n - c &lt; 8</c> columns of rows <c>i0 .. i0 + 3</c>: per column <c>j</c> one
    /// <c>Vector256</c> chain over the four rows (lane <c>l</c>: entry <c>(i0 + l, j)</c>, the scalar chain's
    /// operations), the columns' chains interleaved; lanes left of the diagonal are dropped.</summary>
    private static void GramEdge4(ref double x, int rows, int n, Span<double> gram, int i0, int c)
    {
        int cols = n - c;
        Span<Vector256<double>> acc = stackalloc Vector256<double>[8];
        for (int jj = 0; jj < cols; jj++)
        {
            int j = c + jj;
            acc[jj] = Vector256.Create(gram[i0 * n + j], gram[(i0 + 1) * n + j], gram[(i0 + 2) * n + j], gram[(i0 + 3) * n + j]);
        }
        ref double xi = ref Unsafe.Add(ref x, i0);
        ref double xc = ref Unsafe.Add(ref x, c);
        nuint o = 0, un = (nuint)n;
        for (int s = 0; s < rows; s++, o += un)
        {
            var v = Vector256.LoadUnsafe(ref xi, o);
            for (int jj = 0; jj < cols; jj++)
                acc[jj] = Vector256.FusedMultiplyAdd(v, Vector256.Create(Unsafe.Add(ref xc, o + (nuint)jj)), acc[jj]);
        }
        for (int jj = 0; jj < cols; jj++)
        {
            int j = c + jj;
            for (int l = 0; l < 4 && i0 + l <= j; l++) gram[(i0 + l) * n + j] = acc[jj][l];
        }
    }

    private static double GramEntry(ref double x, int rows, int n, double acc, int i, int j)
    {
        for (int s = 0; s < rows; s++)
        {
            nint o = (nint)s * n;
            acc = Math.FusedMultiplyAdd(Unsafe.Add(ref x, o + i), Unsafe.Add(ref x, o + j), acc);
        }
        return acc;
    }

    /// <summary>Stores the lanes <c>j &gt;= i</c> of the chunk <c>gram[i, c .. c + w)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreUpper(Vector512<double> v, Span<double> gram, int n, int i, int c)
    {
        if (c >= i) { v.CopyTo(gram.Slice(i * n + c, Vector512<double>.Count)); return; }
        for (int l = i - c; l < Vector512<double>.Count; l++) gram[i * n + c + l] = v[l];
    }

    /// <summary>The number of vector chunks of a register tile, a constant of the JIT-specialised tile.</summary>
    private interface ITileChunks { static abstract int Count { get; } }
    private struct OneChunk : ITileChunks { public static int Count => 1; }
    private struct TwoChunks : ITileChunks { public static int Count => 2; }
    private struct ThreeChunks : ITileChunks { public static int Count => 3; }

    /// <summary>The register tile of rows <c>i0 .. i0 + 3</c> by <c>T.Count</c> vector chunks from column <c>c</c>
    /// (specialised per <c>T</c>: the branches on the constant count vanish, the accumulators stay in registers).</summary>
    private static void GramTile4<T>(ref double x, int rows, int n, Span<double> gram, int i0, int c) where T : struct, ITileChunks
    {
        const int w = 8;
        int k = T.Count;
        ref double g = ref MemoryMarshal.GetReference(gram);
        nuint r0 = (nuint)(i0 * n + c), r1 = r0 + (nuint)n, r2 = r1 + (nuint)n, r3 = r2 + (nuint)n;
        Vector512<double> a01 = default, a11 = default, a21 = default, a31 = default, a02 = default, a12 = default, a22 = default, a32 = default;
        var a00 = Vector512.LoadUnsafe(ref g, r0); var a10 = Vector512.LoadUnsafe(ref g, r1);
        var a20 = Vector512.LoadUnsafe(ref g, r2); var a30 = Vector512.LoadUnsafe(ref g, r3);
        if (k > 1)
        {
            a01 = Vector512.LoadUnsafe(ref g, r0 + w); a11 = Vector512.LoadUnsafe(ref g, r1 + w);
            a21 = Vector512.LoadUnsafe(ref g, r2 + w); a31 = Vector512.LoadUnsafe(ref g, r3 + w);
        }
        if (k > 2)
        {
            a02 = Vector512.LoadUnsafe(ref g, r0 + 2 * w); a12 = Vector512.LoadUnsafe(ref g, r1 + 2 * w);
            a22 = Vector512.LoadUnsafe(ref g, r2 + 2 * w); a32 = Vector512.LoadUnsafe(ref g, r3 + 2 * w);
        }
        ref double xi = ref Unsafe.Add(ref x, i0);
        ref double xc = ref Unsafe.Add(ref x, c);
        nuint o = 0, un = (nuint)n;
        for (int s = 0; s < rows; s++, o += un)
        {
            var xa = Vector512.LoadUnsafe(ref xc, o);
            var xb = k > 1 ? Vector512.LoadUnsafe(ref xc, o + w) : default;
            var xd = k > 2 ? Vector512.LoadUnsafe(ref xc, o + 2 * w) : default;
            var b = Vector512.Create(Unsafe.Add(ref xi, o));
            a00 = Vector512.FusedMultiplyAdd(b, xa, a00);
            if (k > 1) a01 = Vector512.FusedMultiplyAdd(b, xb, a01);
            if (k > 2) a02 = Vector512.FusedMultiplyAdd(b, xd, a02);
            b = Vector512.Create(Unsafe.Add(ref xi, o + 1));
            a10 = Vector512.FusedMultiplyAdd(b, xa, a10);
            if (k > 1) a11 = Vector512.FusedMultiplyAdd(b, xb, a11);
            if (k > 2) a12 = Vector512.FusedMultiplyAdd(b, xd, a12);
            b = Vector512.Create(Unsafe.Add(ref xi, o + 2));
            a20 = Vector512.FusedMultiplyAdd(b, xa, a20);
            if (k > 1) a21 = Vector512.FusedMultiplyAdd(b, xb, a21);
            if (k > 2) a22 = Vector512.FusedMultiplyAdd(b, xd, a22);
            b = Vector512.Create(Unsafe.Add(ref xi, o + 3));
            a30 = Vector512.FusedMultiplyAdd(b, xa, a30);
            if (k > 1) a31 = Vector512.FusedMultiplyAdd(b, xb, a31);
            if (k > 2) a32 = Vector512.FusedMultiplyAdd(b, xd, a32);
        }
        StoreUpper(a00, gram, n, i0, c); StoreUpper(a10, gram, n, i0 + 1, c);
        StoreUpper(a20, gram, n, i0 + 2, c); StoreUpper(a30, gram, n, i0 + 3, c);
        if (k > 1)
        {
            StoreUpper(a01, gram, n, i0, c + w); StoreUpper(a11, gram, n, i0 + 1, c + w);
            StoreUpper(a21, gram, n, i0 + 2, c + w); StoreUpper(a31, gram, n, i0 + 3, c + w);
        }
        if (k > 2)
        {
            StoreUpper(a02, gram, n, i0, c + 2 * w); StoreUpper(a12, gram, n, i0 + 1, c + 2 * w);
            StoreUpper(a22, gram, n, i0 + 2, c + 2 * w); StoreUpper(a32, gram, n, i0 + 3, c + 2 * w);
        }
    }

    /// <summary>Plain-loop reference of <see cref="AccumulateGramUpperBlock"/> (one fused multiply-add per term, in the order
    /// <c>s = 0, 1, ...</c>).</summary>
    public static void AccumulateGramUpperBlockReference(ReadOnlySpan<double> x, int rows, int n, Span<double> gram)
    {
        for (int s = 0; s < rows; s++)
            for (int i = 0; i < n; i++)
                for (int j = i; j < n; j++)
                    gram[i * n + j] = Math.FusedMultiplyAdd(x[s * n + i], x[s * n + j], gram[i * n + j]);
    }

    /// <summary>
    /// Blocked cross-moment update: <c>cross[i, j] += sum_s a[s, i] b[s, j]</c>, <paramref name="a"/> row-major
    /// <c>rows x n</c>, <paramref name="b"/> row-major <c>rows x m</c>, <paramref name="cross"/> row-major <c>n x m</c>.
    /// </summary>
    public static void AccumulateCrossBlock(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int rows, int n, int m, Span<double> cross)
    {
        if (a.Length < rows * n || b.Length < rows * m) throw new ArgumentException("a, b must hold rows * n, rows * m elements", nameof(a));
        if (cross.Length != n * m) throw new ArgumentException("cross must have n * m elements", nameof(cross));
        int w = Vector<double>.Count;
        for (int i = 0; i < n; i++)
        {
            int j = 0;
            for (; j + w <= m; j += w)
            {
                var acc = new Vector<double>(cross.Slice(i * m + j, w));
                for (int s = 0; s < rows; s++)
                    acc += new Vector<double>(a[s * n + i]) * new Vector<double>(b.Slice(s * m + j, w));
                acc.CopyTo(cross.Slice(i * m + j, w));
            }
            for (; j < m; j++)
            {
                double acc = cross[i * m + j];
                for (int s = 0; s < rows; s++) acc += a[s * n + i] * b[s * m + j];
                cross[i * m + j] = acc;
            }
        }
    }

    /// <summary>Plain-loop reference of <see cref="AccumulateCrossBlock"/>.</summary>
    public static void AccumulateCrossBlockReference(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int rows, int n, int m, Span<double> cross)
    {
        for (int s = 0; s < rows; s++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++)
                    cross[i * m + j] += a[s * n + i] * b[s * m + j];
    }

    /// <summary>
    /// Projections of a batch of samples on <c>c</c> directions: <c>proj[a rows + s] = sum_j xT[j rows + s] v[j c + a]</c>,
    /// with the samples stored coordinate-major (<paramref name="xT"/>: <c>d x rows</c>, coordinate <c>j</c> of sample
    /// <c>s</c> at <c>j rows + s</c>), the directions as the columns of the row-major <c>d x c</c> matrix
    /// <paramref name="v"/> and the output direction-major (<c>c x rows</c>). SIMD over 8 samples at a time
    /// (<c>Vector512</c>, one accumulator per direction); used for <c>V_r^T x</c> in the mixture features (6.3)-(6.4).
    /// </summary>
    public static void ProjectColumns(ReadOnlySpan<double> xT, int rows, int d, ReadOnlySpan<double> v, int c, Span<double> proj)
    {
        if (rows < 0 || d < 1 || c < 1 || c > 64) throw new ArgumentOutOfRangeException(nameof(c), "need rows >= 0, d >= 1 and 1 <= c <= 64");
        if (xT.Length < d * rows) throw new ArgumentException("xT must hold d * rows elements", nameof(xT));
        if (v.Length != d * c) throw new ArgumentException("v must hold d * c elements", nameof(v));
        if (proj.Length < c * rows) throw new ArgumentException("proj must hold c * rows elements", nameof(proj));
        Span<Vector512<double>> acc = stackalloc Vector512<double>[c];
        int s = 0;
        for (; s + 8 <= rows; s += 8)
        {
            acc.Clear();
            for (int j = 0; j < d; j++)
            {
                var x = Vector512.Create(xT.Slice(j * rows + s, 8));
                var vj = v.Slice(j * c, c);
                for (int a = 0; a < c; a++) acc[a] = Vector512.FusedMultiplyAdd(x, Vector512.Create(vj[a]), acc[a]);
            }
            for (int a = 0; a < c; a++) acc[a].CopyTo(proj.Slice(a * rows + s, 8));
        }
        for (; s < rows; s++)
            for (int a = 0; a < c; a++)
            {
                double t = 0.0;
                for (int j = 0; j < d; j++) t += xT[j * rows + s] * v[j * c + a];
                proj[a * rows + s] = t;
            }
    }

    /// <summary>Plain-loop reference of <see cref="ProjectColumns"/>.</summary>
    public static void ProjectColumnsReference(ReadOnlySpan<double> xT, int rows, int d, ReadOnlySpan<double> v, int c, Span<double> proj)
    {
        for (int s = 0; s < rows; s++)
            for (int a = 0; a < c; a++)
            {
                double t = 0.0;
                for (int j = 0; j < d; j++) t += xT[j * rows + s] * v[j * c + a];
                proj[a * rows + s] = t;
            }
    }
}
