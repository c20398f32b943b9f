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
    /// (upper triangle; the strict lower triangle is neither read into the result nor changed),
    /// <paramref name="x"/> row-major <c>rows x n</c>, <paramref name="gram"/> row-major <c>n x n</c>.
    /// Each entry is one chain of fused multiply-adds in the order <c>s = 0, 1, ...</c> onto its old value
    /// (<c>g = fma(x[s, i], x[s, j], g)</c>, one rounding per term), so the bits equal
    /// <see cref="AccumulateGramUpperBlockReference"/>'s. The samples go in blocks of <see cref="GramRowBlock"/>; each
    /// block is packed into 64-byte aligned panels of 8 columns (panel <c>p</c>: <c>x[s, 8p .. 8p + 8)</c> for the
    /// block's <c>s</c> in turn, zeros beyond column <c>n</c>), so every vector load is one aligned cache line read in
    /// sequence. The columns go in groups of three panels (two in the remainder, one only when it is all); a group's
    /// panels (24 KB) stay in L1 while the register tile of 8 rows <c>i</c> by the group's panels (24
    /// <c>Vector512&lt;double&gt;</c> accumulators, 3 column loads and 8 broadcasts per 24 FMAs) passes over the row
    /// panels above the diagonal; on the diagonal the tiles narrow to the panels at and right of their rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateGramUpperBlock(ReadOnlySpan<double> x, int rows, int n, Span<double> gram)
    {
        ValidateGram(x.Length, rows, n, gram.Length);
        if (rows == 0 || n == 0) return;
        GramGroups(ref MemoryMarshal.GetReference(x), rows, n, gram, 0, GramGroupCount(n));
    }

    /// <summary>
    /// <see cref="AccumulateGramUpperBlock"/> on up to <paramref name="threads"/> threads, for large <c>n</c>: the column
    /// groups are cut into at most <paramref name="threads"/> consecutive ranges of about equal work, a range per task,
    /// each packing the panels it reads. Every entry is still one thread's chain in the order <c>s = 0, 1, ...</c>
    /// (the ranges split the entries, never a sum), so the bits equal the single-threaded kernel's for any thread count.
    /// </summary>
    public static void AccumulateGramUpperBlockParallel(double[] x, int rows, int n, double[] gram, int threads)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(gram);
        ValidateGram(x.Length, rows, n, gram.Length);
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be >= 1");
        if (rows == 0 || n == 0) return;
        var cuts = GramCuts(n, threads);
        if (cuts.Length == 2) { GramGroups(ref MemoryMarshal.GetArrayDataReference(x), rows, n, gram, 0, cuts[1]); return; }
        System.Threading.Tasks.Parallel.For(0, cuts.Length - 1, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = threads },
            part => GramGroups(ref MemoryMarshal.GetArrayDataReference(x), rows, n, gram, cuts[part], cuts[part + 1]));
    }

    /// <summary>Samples per cache block of <see cref="AccumulateGramUpperBlock"/>: a group of three packed panels is
    /// <c>3 x 128 x 64</c> bytes = 24 KB, half of L1.</summary>
    public const int GramRowBlock = 128;

    private static void ValidateGram(int xLength, int rows, int n, int gramLength)
    {
        if (rows < 0 || n < 0) throw new ArgumentException("rows and n must be >= 0", nameof(rows));
        if (xLength < (long)rows * n) throw new ArgumentException("x must hold rows * n elements", "x");
        if (gramLength != (long)n * n) throw new ArgumentException("gram must have n^2 elements", "gram");
    }

    /// <summary>Column groups of <c>n</c>: <c>q = ceil(n / 8)</c> panels in groups of three, the remainder as groups of
    /// two (a lone panel, a tile of half speed, only when <c>q = 1</c>).</summary>
    private static int GramThrees(int q) => q % 3 == 1 && q >= 4 ? (q - 4) / 3 : q / 3;

    private static int GramGroupCount(int n)
    {
        int q = (n + 7) / 8, threes = GramThrees(q);
        return threes + (q - 3 * threes + 1) / 2;
    }

    /// <summary>First panel and panel count of group <paramref name="g"/>.</summary>
    private static (int Panel, int Width) GramGroup(int q, int g)
    {
        int threes = GramThrees(q);
        if (g < threes) return (3 * g, 3);
        int p = 3 * threes + 2 * (g - threes);
        return (p, Math.Min(2, q - p));
    }

    /// <summary>Group cuts <c>0 = c_0 &lt; ... &lt; c_P</c>, <c>P &lt;= parts</c>, each range holding about <c>1/P</c> of the
    /// tiles' work (a group of width <c>k</c> from panel <c>p</c>: <c>p k + k (k + 1) / 2</c> panel tiles).</summary>
    private static int[] GramCuts(int n, int parts)
    {
        int q = (n + 7) / 8, groups = GramGroupCount(n);
        var work = new double[groups + 1];
        for (int g = 0; g < groups; g++)
        {
            var (p, k) = GramGroup(q, g);
            work[g + 1] = work[g] + p * k + 0.5 * k * (k + 1);
        }
        var cuts = new List<int> { 0 };
        for (int part = 1; part < parts; part++)
        {
            int g = cuts[^1] + 1;
            while (g < groups && work[g] < work[groups] * part / parts) g++;
            // the nearer of the two group boundaries around the target
            if (g > cuts[^1] + 1 && work[groups] * part / parts - work[g - 1] < work[g] - work[groups] * part / parts) g--;
            if (g >= groups) break;
            cuts.Add(g);
        }
        cuts.Add(groups);
        return cuts.ToArray();
    }

    /// <summary>The column groups <c>gLo &lt;= g &lt; gHi</c> of the Gram update: all entries <c>(i &lt;= j)</c> with
    /// <c>j</c> in these groups.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GramGroups(ref double x, int rows, int n, Span<double> gram, int gLo, int gHi)
    {
        const int w = 8;
        int q = (n + 7) / 8;
        var (lastPanel, lastWidth) = GramGroup(q, gHi - 1);
        int panels = lastPanel + lastWidth;
        int kcMax = Math.Min(GramRowBlock, rows);
        ref double pack = ref GramPackBuffer(panels * kcMax * w);
        Span<double> scratch = stackalloc double[w * 3 * w];
        ref double g = ref MemoryMarshal.GetReference(gram);
        for (int s0 = 0; s0 < rows; s0 += GramRowBlock)
        {
            int kc = Math.Min(GramRowBlock, rows - s0);
            nuint panel = (nuint)(kc * w);
            GramPack(ref Unsafe.Add(ref x, (nint)s0 * n), kc, n, panels, (nint)(rows - s0) * n, ref pack);
            for (int group = gLo; group < gHi; group++)
            {
                var (p, k) = GramGroup(q, group);
                int c = p * w;
                ref double b = ref Unsafe.Add(ref pack, (nint)p * (nint)panel);
                bool padded = c + k * w > n;
                for (int t = 0; t < p; t++)
                {
                    ref double a = ref Unsafe.Add(ref pack, (nint)t * (nint)panel);
                    if (padded) GramEdgeTile(k, ref a, ref b, panel, kc, gram, n, t * w, c, scratch);
                    else GramTile(k, ref a, ref b, panel, kc, ref Unsafe.Add(ref g, (nint)t * w * n + c), (nuint)n, false);
                }
                for (int m = 0; m < k; m++)
                {
                    int i0 = c + m * w;
                    ref double d = ref Unsafe.Add(ref pack, (nint)(p + m) * (nint)panel);
                    if (padded) GramEdgeTile(k - m, ref d, ref d, panel, kc, gram, n, i0, i0, scratch);
                    else GramTile(k - m, ref d, ref d, panel, kc, ref Unsafe.Add(ref g, (nint)i0 * n + i0), (nuint)n, true);
                }
            }
        }
    }

    private static void GramTile(int k, ref double a, ref double b, nuint panel, int kc, ref double c, nuint ldc, bool diagonal)
    {
        if (k == 3) GramTile8<ThreeChunks>(ref a, ref b, panel, kc, ref c, ldc, diagonal);
        else if (k == 2) GramTile8<TwoChunks>(ref a, ref b, panel, kc, ref c, ldc, diagonal);
        else GramTile8<OneChunk>(ref a, ref b, panel, kc, ref c, ldc, diagonal);
    }

    /// <summary>A tile of rows <c>i0 .. i0 + 7</c> by <c>k</c> panels from column <c>c</c> that crosses the last column:
    /// its entries <c>(i, j)</c>, <c>i &lt;= j &lt; n</c>, go through <paramref name="scratch"/>
    /// (the other lanes are computed there and dropped).</summary>
    private static void GramEdgeTile(int k, ref double a, ref double b, nuint panel, int kc, Span<double> gram, int n, int i0, int c,
                                     Span<double> scratch)
    {
        const int w = 8, ld = 3 * w;
        int rEnd = Math.Min(w, n - i0), jEnd = Math.Min(c + k * w, n);
        for (int r = 0; r < rEnd; r++)
            for (int j = Math.Max(c, i0 + r); j < jEnd; j++) scratch[r * ld + j - c] = gram[(i0 + r) * n + j];
        GramTile(k, ref a, ref b, panel, kc, ref MemoryMarshal.GetReference(scratch), ld, false);
        for (int r = 0; r < rEnd; r++)
            for (int j = Math.Max(c, i0 + r); j < jEnd; j++) gram[(i0 + r) * n + j] = scratch[r * ld + j - c];
    }

    /// <summary>Packs <paramref name="panels"/> panels of the <c>kc x n</c> block at <paramref name="x"/>: panel <c>p</c>
    /// at <c>p kc 8</c>, row <c>s</c> of it the 8 values <c>x[s, 8p .. 8p + 8)</c> (zeros beyond column <c>n</c>);
    /// <paramref name="available"/> doubles from <paramref name="x"/> on may be read.</summary>
    private static void GramPack(ref double x, int kc, int n, int panels, nint available, ref double pack)
    {
        const int w = 8;
        for (int p = 0; p < panels; p++)
        {
            ref double d = ref Unsafe.Add(ref pack, (nint)p * kc * w);
            int c = p * w;
            if (c + w <= n)
            {
                for (int s = 0; s < kc; s++)
                    Vector512.LoadUnsafe(ref x, (nuint)((nint)s * n + c)).StoreUnsafe(ref d, (nuint)(s * w));
                continue;
            }
            // the last, partial panel: a whole vector read where it stays inside x, its lanes past column n zeroed
            var keep = Vector512.LessThan(Vector512<double>.Indices, Vector512.Create((double)(n - c)));
            int s0 = 0;
            for (; s0 < kc && (nint)s0 * n + c + w <= available; s0++)
                Vector512.ConditionalSelect(keep, Vector512.LoadUnsafe(ref x, (nuint)((nint)s0 * n + c)), Vector512<double>.Zero)
                    .StoreUnsafe(ref d, (nuint)(s0 * w));
            for (int s = s0; s < kc; s++)
                for (int l = 0; l < w; l++)
                    Unsafe.Add(ref d, s * w + l) = c + l < n ? Unsafe.Add(ref x, (nint)s * n + c + l) : 0.0;
        }
    }

    [ThreadStatic] private static double[]? gramPack;

    /// <summary>This thread's pack buffer of at least <paramref name="length"/> doubles from a 64-byte boundary (a pinned
    /// array, grown when too short).</summary>
    private static unsafe ref double GramPackBuffer(int length)
    {
        var buffer = gramPack;
        if (buffer is null || buffer.Length < length + 7)
            gramPack = buffer = GC.AllocateUninitializedArray<double>(length + 7, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return ref buffer[(int)((64 - (address & 63)) & 63) / 8];
    }

    /// <summary>The number of vector chunks of a register tile, a constant of the JIT-specialised tile.</summary>
    private interface ITileChunks { static abstract int Count { get; } }
    private struct OneChunk : ITileChunks { public static int Count => 1; }
    private struct TwoChunks : ITileChunks { public static int Count => 2; }
    private struct ThreeChunks : ITileChunks { public static int Count => 3; }

    /// <summary>The register tile of 8 rows by <c>T.Count</c> column panels: <paramref name="a"/> the packed panel of the
    /// rows, <paramref name="b"/> the first packed panel of the columns (the next ones <paramref name="panel"/> doubles
    /// apart), <paramref name="c"/> the tile's first entry, rows <paramref name="ldc"/> apart. Specialised per <c>T</c>:
    /// the branches on the constant count vanish and the up to 24 accumulators, the 3 column vectors and the broadcast
    /// fit the 32 vector registers. A <paramref name="diagonal"/> tile starts on the diagonal (its first panel is its
    /// rows' own): the lanes <c>l &lt; r</c> of its row <c>r</c>'s first vector lie in the lower triangle and are stored
    /// back as they were.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GramTile8<T>(ref double a, ref double b, nuint panel, int kc, ref double c, nuint ldc, bool diagonal) where T : struct, ITileChunks
    {
        const nuint w = 8;
        GramLoadRow<T>(ref c, 0 * ldc, out var c00, out var c01, out var c02);
        GramLoadRow<T>(ref c, 1 * ldc, out var c10, out var c11, out var c12);
        GramLoadRow<T>(ref c, 2 * ldc, out var c20, out var c21, out var c22);
        GramLoadRow<T>(ref c, 3 * ldc, out var c30, out var c31, out var c32);
        GramLoadRow<T>(ref c, 4 * ldc, out var c40, out var c41, out var c42);
        GramLoadRow<T>(ref c, 5 * ldc, out var c50, out var c51, out var c52);
        GramLoadRow<T>(ref c, 6 * ldc, out var c60, out var c61, out var c62);
        GramLoadRow<T>(ref c, 7 * ldc, out var c70, out var c71, out var c72);
        for (nuint o = 0, end = (nuint)kc * w; o < end; o += w)
        {
            var b0 = Vector512.LoadUnsafe(ref b, o);
            var b1 = T.Count > 1 ? Vector512.LoadUnsafe(ref b, panel + o) : default;
            var b2 = T.Count > 2 ? Vector512.LoadUnsafe(ref b, 2 * panel + o) : default;
            GramFmaRow<T>(Unsafe.Add(ref a, o + 0), b0, b1, b2, ref c00, ref c01, ref c02);
            GramFmaRow<T>(Unsafe.Add(ref a, o + 1), b0, b1, b2, ref c10, ref c11, ref c12);
            GramFmaRow<T>(Unsafe.Add(ref a, o + 2), b0, b1, b2, ref c20, ref c21, ref c22);
            GramFmaRow<T>(Unsafe.Add(ref a, o + 3), b0, b1, b2, ref c30, ref c31, ref c32);
            GramFmaRow<T>(Unsafe.Add(ref a, o + 4), b0, b1, b2, ref c40, ref c41, ref c42);
            GramFmaRow<T>(Unsafe.Add(ref a, o + 5), b0, b1, b2, ref c50, ref c51, ref c52);
            GramFmaRow<T>(Unsafe.Add(ref a, o + 6), b0, b1, b2, ref c60, ref c61, ref c62);
            GramFmaRow<T>(Unsafe.Add(ref a, o + 7), b0, b1, b2, ref c70, ref c71, ref c72);
        }
        if (diagonal)
        {
            c10 = GramKeepLower(c10, ref c, 1 * ldc, 1);
            c20 = GramKeepLower(c20, ref c, 2 * ldc, 2);
            c30 = GramKeepLower(c30, ref c, 3 * ldc, 3);
            c40 = GramKeepLower(c40, ref c, 4 * ldc, 4);
            c50 = GramKeepLower(c50, ref c, 5 * ldc, 5);
            c60 = GramKeepLower(c60, ref c, 6 * ldc, 6);
            c70 = GramKeepLower(c70, ref c, 7 * ldc, 7);
        }
        GramStoreRow<T>(ref c, 0 * ldc, c00, c01, c02);
        GramStoreRow<T>(ref c, 1 * ldc, c10, c11, c12);
        GramStoreRow<T>(ref c, 2 * ldc, c20, c21, c22);
        GramStoreRow<T>(ref c, 3 * ldc, c30, c31, c32);
        GramStoreRow<T>(ref c, 4 * ldc, c40, c41, c42);
        GramStoreRow<T>(ref c, 5 * ldc, c50, c51, c52);
        GramStoreRow<T>(ref c, 6 * ldc, c60, c61, c62);
        GramStoreRow<T>(ref c, 7 * ldc, c70, c71, c72);
    }

    /// <summary>Row <c>r</c> of a tile's accumulators: <c>T.Count</c> vectors from <paramref name="o"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GramLoadRow<T>(ref double c, nuint o, out Vector512<double> x0, out Vector512<double> x1, out Vector512<double> x2)
        where T : struct, ITileChunks
    {
        x0 = Vector512.LoadUnsafe(ref c, o);
        x1 = T.Count > 1 ? Vector512.LoadUnsafe(ref c, o + 8) : default;
        x2 = T.Count > 2 ? Vector512.LoadUnsafe(ref c, o + 16) : default;
    }

    /// <summary>One sample's step of a tile row: <c>x_k = fma(a, b_k, x_k)</c>, <c>k &lt; T.Count</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GramFmaRow<T>(double a, Vector512<double> b0, Vector512<double> b1, Vector512<double> b2,
                                      ref Vector512<double> x0, ref Vector512<double> x1, ref Vector512<double> x2) where T : struct, ITileChunks
    {
        var t = Vector512.Create(a);
        x0 = Vector512.FusedMultiplyAdd(t, b0, x0);
        if (T.Count > 1) x1 = Vector512.FusedMultiplyAdd(t, b1, x1);
        if (T.Count > 2) x2 = Vector512.FusedMultiplyAdd(t, b2, x2);
    }

    /// <summary>Stores row <c>r</c> of a tile's accumulators back at <paramref name="o"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GramStoreRow<T>(ref double c, nuint o, Vector512<double> x0, Vector512<double> x1, Vector512<double> x2)
        where T : struct, ITileChunks
    {
        x0.StoreUnsafe(ref c, o);
        if (T.Count > 1) x1.StoreUnsafe(ref c, o + 8);
        if (T.Count > 2) x2.StoreUnsafe(ref c, o + 16);
    }

    /// <summary><paramref name="v"/> with its lanes <c>l &lt; r</c> replaced by the stored ones at <paramref name="o"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> GramKeepLower(Vector512<double> v, ref double c, nuint o, int r) =>
        Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512<double>.Indices, Vector512.Create((double)r)), v, Vector512.LoadUnsafe(ref c, o));

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
