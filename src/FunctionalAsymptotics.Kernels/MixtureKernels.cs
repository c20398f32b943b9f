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
    /// Register tiles of 4 rows <c>i</c> by two <c>Vector512&lt;double&gt;</c> chunks of <c>j</c> (eight
    /// independent accumulators) stay in registers across the batch, over column chunks aligned to the vector width;
    /// each entry is still summed in the order
    /// <c>s = 0, 1, ...</c> onto its old value, so the bits equal the plain loop's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateGramUpperBlock(ReadOnlySpan<double> x, int rows, int n, Span<double> gram)
    {
        if (rows < 0 || n < 0) throw new ArgumentException("rows and n must be >= 0", nameof(rows));
        if (x.Length < rows * n) throw new ArgumentException("x must hold rows * n elements", nameof(x));
        if (gram.Length != n * n) throw new ArgumentException("gram must have n^2 elements", nameof(gram));
        if (rows == 0) return;
        int w = Vector512<double>.Count;
        ref double xr = ref MemoryMarshal.GetReference(x);
        int i0 = 0;
        for (; i0 + 4 <= n; i0 += 4)
        {
            // Column chunks aligned to the vector width (from the chunk holding column i0): the lanes left of the
            // diagonal are computed and dropped by StoreUpper, and when w divides n no scalar remainder is left.
            int c = i0 / w * w;
            for (; c + 2 * w <= n; c += 2 * w) GramTile4x2(ref xr, rows, n, gram, i0, c);
            for (; c + w <= n; c += w) GramTile4x1(ref xr, rows, n, gram, i0, c);
            for (int i = i0; i < i0 + 4; i++)
                for (int j = Math.Max(c, i); j < n; j++) gram[i * n + j] = GramEntry(x, rows, n, gram[i * n + j], i, j);
        }
        for (int i = i0; i < n; i++)
            for (int j = i; j < n; j++) gram[i * n + j] = GramEntry(x, rows, n, gram[i * n + j], i, j);
    }

    private static double GramEntry(ReadOnlySpan<double> x, int rows, int n, double acc, int i, int j)
    {
        for (int s = 0; s < rows; s++) acc += x[s * n + i] * x[s * n + j];
        return acc;
    }

    /// <summary>Stores the lanes <c>j &gt;= i</c> of the chunk <c>gram[i, c .. c + w)</c>.</summary>
    private static void StoreUpper(Vector512<double> v, Span<double> gram, int n, int i, int c)
    {
        if (c >= i) { v.CopyTo(gram.Slice(i * n + c, Vector512<double>.Count)); return; }
        for (int l = i - c; l < Vector512<double>.Count; l++) gram[i * n + c + l] = v[l];
    }

    private static void GramTile4x2(ref double x, int rows, int n, Span<double> gram, int i0, int c)
    {
        int w = Vector512<double>.Count;
        ref double g = ref MemoryMarshal.GetReference(gram);
        nuint r0 = (nuint)(i0 * n + c), r1 = r0 + (nuint)n, r2 = r1 + (nuint)n, r3 = r2 + (nuint)n, uw = (nuint)w;
        Vector512<double> a00 = Vector512.LoadUnsafe(ref g, r0), a01 = Vector512.LoadUnsafe(ref g, r0 + uw);
        Vector512<double> a10 = Vector512.LoadUnsafe(ref g, r1), a11 = Vector512.LoadUnsafe(ref g, r1 + uw);
        Vector512<double> a20 = Vector512.LoadUnsafe(ref g, r2), a21 = Vector512.LoadUnsafe(ref g, r2 + uw);
        Vector512<double> a30 = Vector512.LoadUnsafe(ref g, r3), a31 = Vector512.LoadUnsafe(ref g, r3 + uw);
        nuint o = 0, un = (nuint)n, ui = (nuint)i0, uc = (nuint)c;
        for (int s = 0; s < rows; s++, o += un)
        {
            var xa = Vector512.LoadUnsafe(ref x, o + uc);
            var xb = Vector512.LoadUnsafe(ref x, o + uc + uw);
            var b = Vector512.Create(Unsafe.Add(ref x, o + ui));
            a00 += b * xa; a01 += b * xb;
            b = Vector512.Create(Unsafe.Add(ref x, o + ui + 1));
            a10 += b * xa; a11 += b * xb;
            b = Vector512.Create(Unsafe.Add(ref x, o + ui + 2));
            a20 += b * xa; a21 += b * xb;
            b = Vector512.Create(Unsafe.Add(ref x, o + ui + 3));
            a30 += b * xa; a31 += b * xb;
        }
        StoreUpper(a00, gram, n, i0, c); StoreUpper(a01, gram, n, i0, c + w);
        StoreUpper(a10, gram, n, i0 + 1, c); StoreUpper(a11, gram, n, i0 + 1, c + w);
        StoreUpper(a20, gram, n, i0 + 2, c); StoreUpper(a21, gram, n, i0 + 2, c + w);
        StoreUpper(a30, gram, n, i0 + 3, c); StoreUpper(a31, gram, n, i0 + 3, c + w);
    }

    private static void GramTile4x1(ref double x, int rows, int n, Span<double> gram, int i0, int c)
    {
        ref double g = ref MemoryMarshal.GetReference(gram);
        nuint r0 = (nuint)(i0 * n + c), r1 = r0 + (nuint)n, r2 = r1 + (nuint)n, r3 = r2 + (nuint)n;
        Vector512<double> a0 = Vector512.LoadUnsafe(ref g, r0), a1 = Vector512.LoadUnsafe(ref g, r1);
        Vector512<double> a2 = Vector512.LoadUnsafe(ref g, r2), a3 = Vector512.LoadUnsafe(ref g, r3);
        nuint o = 0, un = (nuint)n, ui = (nuint)i0, uc = (nuint)c;
        for (int s = 0; s < rows; s++, o += un)
        {
            var xa = Vector512.LoadUnsafe(ref x, o + uc);
            a0 += Vector512.Create(Unsafe.Add(ref x, o + ui)) * xa;
            a1 += Vector512.Create(Unsafe.Add(ref x, o + ui + 1)) * xa;
            a2 += Vector512.Create(Unsafe.Add(ref x, o + ui + 2)) * xa;
            a3 += Vector512.Create(Unsafe.Add(ref x, o + ui + 3)) * xa;
        }
        StoreUpper(a0, gram, n, i0, c);
        StoreUpper(a1, gram, n, i0 + 1, c);
        StoreUpper(a2, gram, n, i0 + 2, c);
        StoreUpper(a3, gram, n, i0 + 3, c);
    }

    /// <summary>Plain-loop reference of <see cref="AccumulateGramUpperBlock"/>.</summary>
    public static void AccumulateGramUpperBlockReference(ReadOnlySpan<double> x, int rows, int n, Span<double> gram)
    {
        for (int s = 0; s < rows; s++)
            for (int i = 0; i < n; i++)
                for (int j = i; j < n; j++)
                    gram[i * n + j] += x[s * n + i] * x[s * n + j];
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
