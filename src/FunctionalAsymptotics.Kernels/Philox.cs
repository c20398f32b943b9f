using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FunctionalAsymptotics.Kernels;

/// <summary>
/// The Philox4x32-10 counter-based generator of Salmon, Moraes, Dror and Shaw (SC'11, "Parallel random
/// numbers: as easy as 1, 2, 3"): a keyed bijection of a 128-bit counter <c>(c0, c1, c2, c3)</c> under a
/// 64-bit key <c>(k0, k1)</c>, ten rounds. Known-answer vectors are those of the Random123 distribution.
/// <para>
/// Bulk layout (shared by <see cref="FillUniformSimd"/> and <see cref="FillUniformReference"/>): a fill of
/// <c>n</c> doubles starting at 64-bit position <c>p</c> with sub-stream words <c>(c2, c3)</c> gives element
/// <c>i</c> from block <c>p + 8 (i / 16) + (i mod 8)</c>: the low 64-bit half <c>(c1 &lt;&lt; 32 | c0)</c> of the
/// output when <c>(i mod 16) &lt; 8</c>, the high half <c>(c3 &lt;&lt; 32 | c2)</c> otherwise. So element <c>i</c>
/// depends only on <c>(key, p, c2, c3, i)</c>, never on <c>n</c>, and 8 blocks are 8 SIMD lanes.
/// </para>
/// </summary>
public static class Philox
{
    /// <summary>Round multiplier for words 0/1.</summary>
    public const uint M0 = 0xD2511F53;
    /// <summary>Round multiplier for words 2/3.</summary>
    public const uint M1 = 0xCD9E8D57;
    /// <summary>Weyl key increment of key word 0.</summary>
    public const uint W0 = 0x9E3779B9;
    /// <summary>Weyl key increment of key word 1.</summary>
    public const uint W1 = 0xBB67AE85;
    /// <summary>2^-53, half the spacing of the 52-bit uniform grid.</summary>
    public const double HalfUlp = 1.0 / 9007199254740992.0;
    /// <summary>Number of rounds.</summary>
    public const int Rounds = 10;

    /// <summary>One Philox4x32-10 evaluation: replaces the counter words with the output words.</summary>
    public static void Block(ref uint c0, ref uint c1, ref uint c2, ref uint c3, uint k0, uint k1)
    {
        for (int r = 0; r < Rounds; r++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n1 = (uint)p1;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            uint n3 = (uint)p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += W0; k1 += W1;
        }
    }

    /// <summary>
    /// The output of block <paramref name="position"/> of the sub-stream <paramref name="substream"/> under
    /// <paramref name="key"/>, as two 64-bit words: counter <c>(lo(position), hi(position), lo(substream),
    /// hi(substream))</c>, key <c>(lo(key), hi(key))</c>.
    /// </summary>
    public static (ulong Low, ulong High) Block(ulong key, ulong position, ulong substream)
    {
        uint c0 = (uint)position, c1 = (uint)(position >> 32), c2 = (uint)substream, c3 = (uint)(substream >> 32);
        Block(ref c0, ref c1, ref c2, ref c3, (uint)key, (uint)(key >> 32));
        return (((ulong)c1 << 32) | c0, ((ulong)c3 << 32) | c2);
    }

    /// <summary>
    /// A uniform double in the open interval (0, 1) from the top 52 bits of <paramref name="bits"/>:
    /// <c>((bits &gt;&gt; 12) + 1/2) 2^-52</c>, computed exactly (never 0, never 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToOpenUnit(ulong bits) =>
        (BitConverter.UInt64BitsToDouble(0x3FF0000000000000UL | (bits >> 12)) - 1.0) + HalfUlp;

    /// <summary>Number of blocks a bulk fill of <paramref name="count"/> doubles consumes (a multiple of 8).</summary>
    public static ulong BlocksFor(int count) => 8UL * (ulong)((count + 15) / 16);

    /// <summary>Plain-loop reference of <see cref="FillUniformSimd"/> (same layout, same bits).</summary>
    public static void FillUniformReference(ulong key, ulong position, ulong substream, Span<double> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            var (lo, hi) = Block(key, position + 8UL * (ulong)(i / 16) + (ulong)(i % 8), substream);
            destination[i] = ToOpenUnit((i % 16) < 8 ? lo : hi);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> MulWide(Vector512<ulong> x, ulong m)
    {
        // x < 2^32 in every lane: the full 64-bit product (vpmuludq where AVX-512F is available).
        if (Avx512F.IsSupported)
            return Avx512F.Multiply(x.AsUInt32(), Vector512.Create(m).AsUInt32());
        return x * Vector512.Create(m);
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with uniforms in (0, 1): eight Philox blocks at a time, one per
    /// 64-bit lane of a <see cref="Vector512{T}"/> (layout in the class remarks). Bit-identical to
    /// <see cref="FillUniformReference"/>.
    /// </summary>
    public static void FillUniformSimd(ulong key, ulong position, ulong substream, Span<double> destination)
    {
        int n = destination.Length;
        int full = n / 16;
        var lane = Vector512.Create(0UL, 1UL, 2UL, 3UL, 4UL, 5UL, 6UL, 7UL);
        var low32 = Vector512.Create(0xFFFFFFFFUL);
        var c2Init = Vector512.Create((ulong)(uint)substream);
        var c3Init = Vector512.Create(substream >> 32);
        var one = Vector512.Create(0x3FF0000000000000UL);
        var half = Vector512.Create(HalfUlp);
        var oneD = Vector512.Create(1.0);
        uint key0 = (uint)key, key1 = (uint)(key >> 32);
        for (int b = 0; b < full; b++)
        {
            var pos = Vector512.Create(position + 8UL * (ulong)b) + lane;
            var c0 = pos & low32;
            var c1 = pos >>> 32;
            var c2 = c2Init;
            var c3 = c3Init;
            uint k0 = key0, k1 = key1;
            for (int r = 0; r < Rounds; r++)
            {
                var p0 = MulWide(c0, M0);
                var p1 = MulWide(c2, M1);
                var n0 = (p1 >>> 32) ^ c1 ^ Vector512.Create((ulong)k0);
                var n1 = p1 & low32;
                var n2 = (p0 >>> 32) ^ c3 ^ Vector512.Create((ulong)k1);
                var n3 = p0 & low32;
                c0 = n0; c1 = n1; c2 = n2; c3 = n3;
                k0 += W0; k1 += W1;
            }
            var lo = (c1 << 32) | c0;
            var hi = (c3 << 32) | c2;
            var ulo = (Vector512.AsDouble(one | (lo >>> 12)) - oneD) + half;
            var uhi = (Vector512.AsDouble(one | (hi >>> 12)) - oneD) + half;
            ulo.StoreUnsafe(ref destination[16 * b]);
            uhi.StoreUnsafe(ref destination[16 * b + 8]);
        }
        int done = 16 * full;
        if (done < n)
        {
            Span<double> tail = stackalloc double[16];
            FillUniformReference(key, position + 8UL * (ulong)full, substream, tail);
            tail[..(n - done)].CopyTo(destination[done..]);
        }
    }
}
